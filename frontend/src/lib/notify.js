// Browser notifications when the watched stream goes live: asked for only on a click.
import { ref } from 'vue'

const STORAGE_KEY = 'sev:notify-go-live'

function supported() {
  return typeof window !== 'undefined' && 'Notification' in window
}

function remembered() {
  try {
    return window.localStorage.getItem(STORAGE_KEY) === 'on'
  } catch {
    return false
  }
}

function remember(on) {
  try {
    if (on) window.localStorage.setItem(STORAGE_KEY, 'on')
    else window.localStorage.removeItem(STORAGE_KEY)
  } catch {
    // Storage refused (a private window): it lasts as long as the page.
  }
}

/** True when the viewer is not looking at the page. */
export function pageUnseen() {
  return document.visibilityState !== 'visible' || !document.hasFocus()
}

/**
 * The go-live notifications. ``state`` is ``unsupported``, ``off``, ``asking`` (the
 * browser's question is open), ``on`` or ``blocked`` (the browser refuses them).
 * Nothing asks the browser for permission but ``enable``, which a click calls; a viewer
 * who turned them on keeps them on across visits while the permission stands.
 */
export function createGoLiveNotifier() {
  const state = ref(initialState())

  function initialState() {
    if (!supported()) return 'unsupported'
    if (Notification.permission === 'denied') return 'blocked'
    return Notification.permission === 'granted' && remembered() ? 'on' : 'off'
  }

  /** Ask for permission (call only from a click) and turn notifications on if given. */
  async function enable() {
    if (!supported()) return
    state.value = 'asking'
    let answer
    try {
      answer = await Notification.requestPermission()
    } catch {
      answer = Notification.permission
    }
    remember(answer === 'granted')
    state.value = answer === 'granted' ? 'on' : answer === 'denied' ? 'blocked' : 'off'
  }

  function disable() {
    remember(false)
    state.value = supported() && Notification.permission === 'denied' ? 'blocked' : 'off'
  }

  /** Show a notification when they are on; a click on it brings the page forward. */
  function notify(title, body, tag) {
    if (state.value !== 'on' || Notification.permission !== 'granted') return
    try {
      const notification = new Notification(title, { body, tag })
      notification.onclick = () => {
        window.focus()
        notification.close()
      }
    } catch {
      // Some browsers allow notifications only from a service worker: none then.
    }
  }

  return { state, enable, disable, notify }
}
