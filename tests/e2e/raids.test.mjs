// The page's pure logic for raids (frontend/src/lib/raids.js), run by Node's test runner
// from tests/e2e/test_frontend_logic.py: where a raid leads, and when the page follows it.
import assert from 'node:assert/strict'
import test from 'node:test'

import { feedItem, kindOf } from '../../frontend/src/lib/events.js'
import { raidTarget, raidToFollow } from '../../frontend/src/lib/raids.js'

function raid(fields = {}) {
  return feedItem('channel.raid', {
    id: 'raid-1', type: 'channel.raid', occurred_at: '2026-01-01T12:00:00.000000000Z',
    message: 'Cool_User is raiding Night_Owl with 1,234 viewers',
    broadcaster: { id: '1', login: 'cool_user', name: 'Cool_User' },
    to: { id: '2', login: 'night_owl', name: 'Night_Owl' }, viewers: 1234, ...fields,
  })
}

test('a raid leads to the raided channel, named as Twitch names it', () => {
  assert.deepEqual(raidTarget(raid()), { login: 'night_owl', name: 'Night_Owl' })
  assert.deepEqual(raidTarget(raid({ to: { login: 'Night_Owl' } })),
                   { login: 'night_owl', name: 'night_owl' })
  assert.equal(kindOf('channel.raid').label, 'Raid')
})

test('only a raid to a real login leads anywhere', () => {
  for (const to of [undefined, null, 'night_owl', {}, { login: '' }, { login: 42 },
                    { login: '../api/logout' }, { login: 'night owl' }, { login: 'x'.repeat(26) }]) {
    assert.equal(raidTarget(raid({ to })), null, JSON.stringify(to))
  }
  const update = feedItem('channel.update', { type: 'channel.update', message: 'x',
                                              to: { login: 'night_owl' } })
  assert.equal(raidTarget(update), null)
  assert.equal(raidTarget(null), null)
})

test("the page follows a raid by itself only when asked to, and only the streamer's own", () => {
  assert.deepEqual(raidToFollow(raid(), 'cool_user', true), { login: 'night_owl', name: 'Night_Owl' })
  assert.equal(raidToFollow(raid(), 'cool_user', false), null)
  assert.equal(raidToFollow(raid(), 'speedy_sam', true), null, 'another channel raided')
  assert.equal(raidToFollow(raid(), '', true), null)
  assert.equal(raidToFollow(raid({ to: { login: 'cool_user' } }), 'cool_user', true), null)
})
