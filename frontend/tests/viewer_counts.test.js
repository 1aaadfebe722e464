// Live viewer counts on the page (src/lib): stream.viewers events in the status line and the
// follows list, ordered by Twitch's time, and "live for" counted by a local timer.
import { expect, test } from 'vitest'

import { liveFor, msUntilNextMinute } from '../src/lib/duration.js'
import { feedItem } from '../src/lib/events.js'
import { applyFollowEvent, followsFrom } from '../src/lib/follows.js'
import {
  applyEvent, applyEvents, statusFrom, statusView, viewersItem,
} from '../src/lib/status.js'
import { instantOf } from '../src/lib/time.js'

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
  expect(statusView(base).live.viewers).toBe(42)
  const first = counted('a', '2026-11-27T17:31:00Z', 1200)
  const second = counted('b', '2026-11-27T17:32:00Z', 1300)
  expect(viewersAfter(base, first)).toBe(1200)
  expect(viewersAfter(base, first, second)).toBe(1300)
  expect(viewersAfter(base, second, first)).toBe(1300)
  expect(viewersAfter(base, counted('old', '2026-11-27T17:29:00Z', 7))).toBe(42)
})

test('a count of another stream, or after the stream ended, changes nothing', () => {
  const base = statusFrom(ANSWER, AS_OF)
  expect(viewersAfter(base, counted('x', '2026-11-27T17:31:00Z', 9, '2026-11-27T16:00:00Z')))
    .toBe(42)
  const offline = feedItem('stream.offline', { id: 'off', type: 'stream.offline', message: 'ended',
                                                occurred_at: '2026-11-27T17:31:00Z' })
  const ended = applyEvent(base, offline)
  expect(statusView(applyEvent(ended, viewersItem(counted('late', '2026-11-27T17:30:30Z', 9)))).live)
    .toBe(null)
  const stale = viewersItem(counted('stale', '2026-11-27T17:32:00Z', 9))
  expect(statusView(applyEvent(ended, stale)).live, 'a count never makes a stream live').toBe(null)
  // A new stream's count, once it is known live.
  const online = feedItem('stream.online', { id: 'on', type: 'stream.online', message: 'live',
    occurred_at: '2026-11-27T18:00:00Z', started_at: '2026-11-27T18:00:00Z' })
  const again = applyEvent(ended, online)
  expect(statusView(again).live.viewers).toBe(null)
  expect(viewersAfter(again, counted('n', '2026-11-27T18:01:00Z', 55, '2026-11-27T18:00:00Z')))
    .toBe(55)
})

test('a viewer count is no feed item, and a malformed one is ignored', () => {
  expect(feedItem('stream.viewers', counted('a', '2026-11-27T17:31:00Z', 5))).toBe(null)
  for (const bad of [null, 'x', { ...counted('a', '2026-11-27T17:31:00Z', 5), type: 'other' },
                     counted('a', 'not a time', 5), counted('a', '2026-11-27T17:31:00Z', -1),
                     counted('a', '2026-11-27T17:31:00Z', '5'), counted('a', '2026-11-27T17:31:00Z', 1.5)]) {
    expect(viewersItem(bad), JSON.stringify(bad)).toBe(null)
  }
})

test('"live for" counts whole minutes and hours', () => {
  const start = new Date(STARTED)
  const at = (seconds) => new Date(start.getTime() + seconds * 1000)
  expect(liveFor(start, at(0))).toBe('under a minute')
  expect(liveFor(start, at(59))).toBe('under a minute')
  expect(liveFor(start, at(60))).toBe('1 min')
  expect(liveFor(start, at(59 * 60 + 59))).toBe('59 min')
  expect(liveFor(start, at(3600))).toBe('1 h 0 min')
  expect(liveFor(start, at(83 * 60 + 30))).toBe('1 h 23 min')
  expect(liveFor(start, at(26 * 3600 + 5 * 60))).toBe('26 h 5 min')
  expect(liveFor(start, at(-30))).toBe('under a minute')
})

test('the timer wakes when the next whole minute of the stream begins', () => {
  const start = new Date(STARTED)
  const at = (ms) => new Date(start.getTime() + ms)
  expect(msUntilNextMinute(start, at(0))).toBe(60_000)
  expect(msUntilNextMinute(start, at(59_000))).toBe(1_000)
  expect(msUntilNextMinute(start, at(60_000))).toBe(60_000)
  expect(msUntilNextMinute(start, at(83 * 60_000 + 12_345))).toBe(60_000 - 12_345)
  expect(msUntilNextMinute(start, at(-5_000))).toBe(65_000)
  for (const ms of [0, 1, 59_999, 60_000, 3_599_999]) {
    const woke = at(ms + msUntilNextMinute(start, at(ms)))
    expect(liveFor(start, woke), `after ${ms} ms`).not.toBe(liveFor(start, at(ms)))
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
  expect(state.cards[0].viewers).toBe(1500)
  expect(state.cards[1].viewers).toBe(300)
  const older = applyFollowEvent(state, 'speedy_sam', 'stream.viewers', counted('o', '2026-11-27T17:30:30Z', 2))
  expect(older).toBe(state)
  const otherStream = applyFollowEvent(state, 'speedy_sam', 'stream.viewers',
                                       counted('x', '2026-11-27T17:32:00Z', 2, '2026-11-27T12:00:00Z'))
  expect(otherStream).toBe(state)
  expect(applyFollowEvent(state, 'night_owl', 'stream.viewers', counted('n', '2026-11-27T17:32:00Z', 2)),
         'no card, no count').toBe(state)
  // A refreshed list older than the count keeps the count; a newer one brings its own.
  expect(followsFrom(FOLLOWS, state).cards[0].viewers).toBe(1500)
  const newer = FOLLOWS.map((card) => ({ ...card, viewers: 1600, status_as_of: '2026-11-27T17:35:00Z' }))
  expect(followsFrom(newer, state).cards[0].viewers).toBe(1600)
  // After the stream ended, a count fetched before the end is not news.
  state = applyFollowEvent(state, 'speedy_sam', 'stream.offline',
                           { type: 'stream.offline', occurred_at: '2026-11-27T17:40:00Z' })
  state = applyFollowEvent(state, 'speedy_sam', 'stream.online',
                           { type: 'stream.online', occurred_at: '2026-11-27T17:50:00Z' })
  const before = applyFollowEvent(state, 'speedy_sam', 'stream.viewers',
                                  counted('b', '2026-11-27T17:45:00Z', 9))
  expect(before).toBe(state)
})
