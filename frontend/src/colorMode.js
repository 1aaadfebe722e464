// The colour mode, set before the page paints: the pages load this as a classic script
// (no type="module", so it runs at once) in <head>, before the stylesheets. It puts
// Bootstrap's data-bs-theme ('light' or 'dark') and the viewer's choice
// (data-color-mode-choice) on <html>, follows the system's preference while the choice
// is 'system', keeps every <select data-color-mode> on the page showing the choice and
// stores a new one. It must import only what no other entry imports (lib/colorMode.js).
import { COLOR_MODE_KEY, choiceFrom, modeFor } from './lib/colorMode.js'

const root = document.documentElement
const systemDark = window.matchMedia('(prefers-color-scheme: dark)')

function storedChoice() {
  try {
    return choiceFrom(window.localStorage.getItem(COLOR_MODE_KEY))
  } catch {
    return 'system' // storage blocked: follow the system
  }
}

function store(choice) {
  try {
    if (choice === 'system') window.localStorage.removeItem(COLOR_MODE_KEY)
    else window.localStorage.setItem(COLOR_MODE_KEY, choice)
  } catch {
    // Storage blocked: the choice holds for this page only.
  }
}

function showChoice(choice) {
  for (const select of document.querySelectorAll('select[data-color-mode]')) {
    select.value = choice
  }
}

function apply(choice = storedChoice()) {
  root.setAttribute('data-bs-theme', modeFor(choice, systemDark.matches))
  root.setAttribute('data-color-mode-choice', choice)
  showChoice(choice)
}

apply()
systemDark.addEventListener('change', () => apply())
window.addEventListener('storage', (event) => {
  if (event.key === COLOR_MODE_KEY || event.key === null) apply()
})
document.addEventListener('DOMContentLoaded', () => {
  showChoice(root.getAttribute('data-color-mode-choice'))
})
document.addEventListener('change', (event) => {
  const select = event.target
  if (!(select instanceof HTMLSelectElement) || !select.hasAttribute('data-color-mode')) return
  const choice = choiceFrom(select.value)
  store(choice)
  apply(choice)
})
