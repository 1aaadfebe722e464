// The colour mode's rules (frontend/src/lib/colorMode.js) and the chat embed's URL in
// each mode (frontend/src/lib/twitch.js), run by Node's test runner from
// tests/e2e/test_frontend_logic.py.
import assert from 'node:assert/strict'
import test from 'node:test'

import { CHOICES, choiceFrom, modeFor } from '../../frontend/src/lib/colorMode.js'
import { chatUrl } from '../../frontend/src/lib/twitch.js'

test('a stored choice counts only when it is one of the choices', () => {
  assert.deepEqual(CHOICES, ['system', 'light', 'dark'])
  for (const choice of CHOICES) assert.equal(choiceFrom(choice), choice)
  for (const stored of [null, undefined, '', 'Dark', 'auto', 'dark ', '{}']) {
    assert.equal(choiceFrom(stored), 'system', String(stored))
  }
})

test('system follows the system; light and dark hold whatever the system prefers', () => {
  assert.equal(modeFor('system', true), 'dark')
  assert.equal(modeFor('system', false), 'light')
  for (const systemPrefersDark of [true, false]) {
    assert.equal(modeFor('light', systemPrefersDark), 'light')
    assert.equal(modeFor('dark', systemPrefersDark), 'dark')
  }
})

test('the chat embed is dark only on a dark page', () => {
  assert.equal(chatUrl('cool_user', 'localhost'),
               'https://www.twitch.tv/embed/cool_user/chat?parent=localhost')
  assert.equal(chatUrl('cool_user', 'localhost', { dark: false }),
               'https://www.twitch.tv/embed/cool_user/chat?parent=localhost')
  assert.equal(chatUrl('cool_user', 'localhost', { dark: true }),
               'https://www.twitch.tv/embed/cool_user/chat?parent=localhost&darkpopout')
  assert.equal(chatUrl('a/b', 'example.org', { dark: true }),
               'https://www.twitch.tv/embed/a%2Fb/chat?parent=example.org&darkpopout')
})
