// Live viewer counts on the page (frontend/src/lib), run by Node's test runner from
// tests/e2e/test_frontend_logic.py: stream.viewers events in the status line and the
// follows list, ordered by Twitch's time, and "live for" counted by a local timer.
import assert from 'node:assert/strict'
import test from 'node:test'

import { liveFor, msUntilNextMinute } from '../../frontend/src/lib/duration.js'
import { feedItem } from '../../frontend/src/lib/events.js'
import { applyFollowEvent, followsFrom } from '../../frontend/src/lib/follows.js'
import {
  applyEvent, applyEvents, statusFrom, statusView, viewersItem,
} from '../../frontend/src/lib/status.js'
import { instantOf } from '../../frontend/src/lib/time.js'

const STARTED = '2026-11-27T17:00:00Z'
const ANSWER = { live: { title: 'T', category: 'C', viewers: 42, started_at: STARTED },
                 title: 'T', category: 'C' }
const AS_OF = instantOf('2026-11-27T17:30:00Z')

function counted(id, at, viewers, startedAt = STARTED) {
  return { id, type: 'stream.viewers', broadcaster: { id: '1', login: 'cool_user', name: 'Cool_User' },
           occurred_at: at, viewers, started_at: startedAt }
}

function viewersAfter(state, ...events) {
  return statusView(applyEvents(state, events.map(viewersItem))).live?.viewers
}

test('a viewer count newer than the status replaces the answer\'s, whatever the order', () => {
  const base = statusFrom(ANSWER, AS_OF)
  assert.equal(statusView(base).live.viewers, 42)
  const first = counted('a', '2026-11-27T17:31:00Z', 1200)
  const second = counted('b', '2026-11-27T17:32:00Z', 1300)
  assert.equal(viewersAfter(base, first), 1200)
  assert.equal(viewersAfter(base, first, second), 1300)
  assert.equal(viewersAfter(base, second, first), 1300)
  assert.equal(viewersAfter(base, counted('old', '2026-11-27T17:29:00Z', 7)), 42)
})

test('a count of another stream, or after the stream ended, changes nothing', () => {
  const base = statusFrom(ANSWER, AS_OF)
  assert.equal(viewersAfter(base, counted('x', '2026-11-27T17:31:00Z', 9, '2026-11-27T16:00:00Z')), 42)
  const offline = feedItem('stream.offline', { id: 'off', type: 'stream.offline', message: 'ended',
                                                occurred_at: '2026-11-27T17:31:00Z' })
  const ended = applyEvent(base, offline)
  assert.equal(statusView(applyEvent(ended, viewersItem(counted('late', '2026-11-27T17:30:30Z', 9)))).live,
               null)
  assert.equal(statusView(applyEvent(ended, viewersItem(counted('stale', '2026-11-27T17:32:00Z', 9)))).live,
               null, 'a count never makes a stream live')
  // A new stream's count, once it is known live.
  const online = feedItem('stream.online', { id: 'on', type: 'stream.online', message: 'live',
    occurred_at: '2026-11-27T18:00:00Z', started_at: '2026-11-27T18:00:00Z' })
  const again = applyEvent(ended, online)
  assert.equal(statusView(again).live.viewers, null)
  assert.equal(viewersAfter(again, counted('n', '2026-11-27T18:01:00Z', 55, '2026-11-27T18:00:00Z')), 55)
})

test('a viewer count is no feed item, and a malformed one is ignored', () => {
  assert.equal(feedItem('stream.viewers', counted('a', '2026-11-27T17:31:00Z', 5)), null)
  for (const bad of [null, 'x', { ...counted('a', '2026-11-27T17:31:00Z', 5), type: 'other' },
                     counted('a', 'not a time', 5), counted('a', '2026-11-27T17:31:00Z', -1),
                     counted('a', '2026-11-27T17:31:00Z', '5'), counted('a', '2026-11-27T17:31:00Z', 1.5)]) {
    assert.equal(viewersItem(bad), null, JSON.stringify(bad))
  }
})

test('"live for" counts whole minutes and hours', () => {
  const start = new Date(STARTED)
  const at = (seconds) => new Date(start.getTime() + seconds * 1000)
  assert.equal(liveFor(start, at(0)), 'under a minute')
  assert.equal(liveFor(start, at(59)), 'under a minute')
  assert.equal(liveFor(start, at(60)), '1 min')
  assert.equal(liveFor(start, at(59 * 60 + 59)), '59 min')
  assert.equal(liveFor(start, at(3600)), '1 h 0 min')
  assert.equal(liveFor(start, at(83 * 60 + 30)), '1 h 23 min')
  assert.equal(liveFor(start, at(26 * 3600 + 5 * 60)), '26 h 5 min')
  assert.equal(liveFor(start, at(-30)), 'under a minute')
})

test('the timer wakes when the next whole minute of the stream begins', () => {
  const start = new Date(STARTED)
  const at = (ms) => new Date(start.getTime() + ms)
  assert.equal(msUntilNextMinute(start, at(0)), 60_000)
  assert.equal(msUntilNextMinute(start, at(59_000)), 1_000)
  assert.equal(msUntilNextMinute(start, at(60_000)), 60_000)
  assert.equal(msUntilNextMinute(start, at(83 * 60_000 + 12_345)), 60_000 - 12_345)
  assert.equal(msUntilNextMinute(start, at(-5_000)), 65_000)
  for (const ms of [0, 1, 59_999, 60_000, 3_599_999]) {
    const woke = at(ms + msUntilNextMinute(start, at(ms)))
    assert.notEqual(liveFor(start, woke), liveFor(start, at(ms)), `after ${ms} ms`)
  }
})

const FOLLOWS = [
  { login: 'speedy_sam', display_name: 'SpeedySam', viewers: 1200, started_at: STARTED,
    status_as_of: '2026-11-27T17:30:00Z', watched: true },
  { login: 'chill_chess', display_name: 'ChillChess', viewers: 300, watched: true,
    status_as_of: '2026-11-27T17:30:00Z' },
]

test('a followed channel\'s card takes a newer count of its stream', () => {
  let state = followsFrom(FOLLOWS)
  state = applyFollowEvent(state, 'speedy_sam', 'stream.viewers', counted('a', '2026-11-27T17:31:00Z', 1500))
  assert.equal(state.cards[0].viewers, 1500)
  assert.equal(state.cards[1].viewers, 300)
  const older = applyFollowEvent(state, 'speedy_sam', 'stream.viewers', counted('o', '2026-11-27T17:30:30Z', 2))
  assert.equal(older, state)
  const otherStream = applyFollowEvent(state, 'speedy_sam', 'stream.viewers',
                                       counted('x', '2026-11-27T17:32:00Z', 2, '2026-11-27T12:00:00Z'))
  assert.equal(otherStream, state)
  assert.equal(applyFollowEvent(state, 'night_owl', 'stream.viewers', counted('n', '2026-11-27T17:32:00Z', 2)),
               state, 'no card, no count')
  // A refreshed list older than the count keeps the count; a newer one brings its own.
  assert.equal(followsFrom(FOLLOWS, state).cards[0].viewers, 1500)
  const newer = FOLLOWS.map((card) => ({ ...card, viewers: 1600, status_as_of: '2026-11-27T17:35:00Z' }))
  assert.equal(followsFrom(newer, state).cards[0].viewers, 1600)
  // After the stream ended, a count fetched before the end is not news.
  state = applyFollowEvent(state, 'speedy_sam', 'stream.offline',
                           { type: 'stream.offline', occurred_at: '2026-11-27T17:40:00Z' })
  state = applyFollowEvent(state, 'speedy_sam', 'stream.online',
                           { type: 'stream.online', occurred_at: '2026-11-27T17:50:00Z' })
  const before = applyFollowEvent(state, 'speedy_sam', 'stream.viewers',
                                  counted('b', '2026-11-27T17:45:00Z', 9))
  assert.equal(before, state)
})
