// The page's pure logic for raids (src/lib/raids.js): where a raid leads, and when the page
// follows it.
import { expect, test } from 'vitest'

import { feedItem, kindOf } from '../src/lib/events.js'
import { raidTarget, raidToFollow } from '../src/lib/raids.js'

function raid(fields = {}) {
  return feedItem('channel.raid', {
    id: 'raid-1', type: 'channel.raid', occurred_at: '2026-01-01T12:00:00.000000000Z',
    message: 'Cool_User is raiding Night_Owl with 1,234 viewers',
    broadcaster: { id: '1', login: 'cool_user', name: 'Cool_User' },
    to: { id: '2', login: 'night_owl', name: 'Night_Owl' }, viewers: 1234, ...fields,
  })
}

test('a raid leads to the raided channel, named as Twitch names it', () => {
  expect(raidTarget(raid())).toStrictEqual({ login: 'night_owl', name: 'Night_Owl' })
  expect(raidTarget(raid({ to: { login: 'Night_Owl' } })))
    .toStrictEqual({ login: 'night_owl', name: 'night_owl' })
  expect(kindOf('channel.raid').label).toBe('Raid')
})

test('only a raid to a real login leads anywhere', () => {
  for (const to of [undefined, null, 'night_owl', {}, { login: '' }, { login: 42 },
                    { login: '../api/logout' }, { login: 'night owl' }, { login: 'x'.repeat(26) }]) {
    expect(raidTarget(raid({ to })), JSON.stringify(to)).toBe(null)
  }
  const update = feedItem('channel.update', { type: 'channel.update', message: 'x',
                                              to: { login: 'night_owl' } })
  expect(raidTarget(update)).toBe(null)
  expect(raidTarget(null)).toBe(null)
})

test("the page follows a raid by itself only when asked to, and only the streamer's own", () => {
  expect(raidToFollow(raid(), 'cool_user', true))
    .toStrictEqual({ login: 'night_owl', name: 'Night_Owl' })
  expect(raidToFollow(raid(), 'cool_user', false)).toBe(null)
  expect(raidToFollow(raid(), 'speedy_sam', true), 'another channel raided').toBe(null)
  expect(raidToFollow(raid(), '', true)).toBe(null)
  expect(raidToFollow(raid({ to: { login: 'cool_user' } }), 'cool_user', true)).toBe(null)
})
