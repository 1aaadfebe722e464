// The colour mode's rules (src/lib/colorMode.js) and the chat embed's URL in each mode
// (src/lib/twitch.js).
import { expect, test } from 'vitest'

import { CHOICES, choiceFrom, modeFor } from '../src/lib/colorMode.js'
import { chatUrl } from '../src/lib/twitch.js'

test('a stored choice counts only when it is one of the choices', () => {
  expect(CHOICES).toStrictEqual(['system', 'light', 'dark'])
  for (const choice of CHOICES) expect(choiceFrom(choice)).toBe(choice)
  for (const stored of [null, undefined, '', 'Dark', 'auto', 'dark ', '{}']) {
    expect(choiceFrom(stored), String(stored)).toBe('system')
  }
})

test('system follows the system; light and dark hold whatever the system prefers', () => {
  expect(modeFor('system', true)).toBe('dark')
  expect(modeFor('system', false)).toBe('light')
  for (const systemPrefersDark of [true, false]) {
    expect(modeFor('light', systemPrefersDark)).toBe('light')
    expect(modeFor('dark', systemPrefersDark)).toBe('dark')
  }
})

test('the chat embed is dark only on a dark page', () => {
  expect(chatUrl('cool_user', 'localhost'))
    .toBe('https://www.twitch.tv/embed/cool_user/chat?parent=localhost')
  expect(chatUrl('cool_user', 'localhost', { dark: false }))
    .toBe('https://www.twitch.tv/embed/cool_user/chat?parent=localhost')
  expect(chatUrl('cool_user', 'localhost', { dark: true }))
    .toBe('https://www.twitch.tv/embed/cool_user/chat?parent=localhost&darkpopout')
  expect(chatUrl('a/b', 'example.org', { dark: true }))
    .toBe('https://www.twitch.tv/embed/a%2Fb/chat?parent=example.org&darkpopout')
})
