// The colour mode's rules, shared by nothing but the colour-mode script (src/colorMode.js),
// which runs as a classic script in <head>: importing this from the viewer app too would
// make the build split it into a chunk the classic script would have to import.

/** Where the viewer's choice is kept (localStorage). */
export const COLOR_MODE_KEY = 'sev-color-mode'

/** What a viewer may choose; 'system' follows the system's preference. */
export const CHOICES = ['system', 'light', 'dark']

/** The choice a stored value stands for: anything unknown (or nothing) is 'system'. */
export function choiceFrom(stored) {
  return CHOICES.includes(stored) ? stored : 'system'
}

/** The mode to show, 'light' or 'dark', for a choice and whether the system prefers dark. */
export function modeFor(choice, systemPrefersDark) {
  if (choice === 'light' || choice === 'dark') return choice
  return systemPrefersDark ? 'dark' : 'light'
}
