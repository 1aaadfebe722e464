// The page's pure event logic (src/lib): instants, the feed's order and the status line.
import { expect, test } from 'vitest'

import { feedItem } from '../src/lib/events.js'
import { mergeFeed } from '../src/lib/feed.js'
import {
  answerInstant, applyEvent, applyEvents, statusFrom, statusView,
} from '../src/lib/status.js'
import { instantOf } from '../src/lib/time.js'

const ANSWER = { live: null, title: 'Best Stream Ever', category: 'Fortnite' }

function item(id, type, occurredAt, fields = {}) {
  return feedItem(type, { id, type, occurred_at: occurredAt, message: `${type} ${id}`, ...fields })
}

function permutations(list) {
  if (list.length <= 1) return [list]
  return list.flatMap((first, i) =>
    permutations([...list.slice(0, i), ...list.slice(i + 1)]).map((rest) => [first, ...rest]))
}

test('instants keep nine fractional digits and honour offsets', () => {
  expect(instantOf('2026-11-27T17:37:39.729615001Z') < instantOf('2026-11-27T17:37:39.729615002Z'))
    .toBeTruthy()
  expect(instantOf('2026-11-27T18:37:39.5+01:00')).toBe(instantOf('2026-11-27T17:37:39.500000000Z'))
  expect(instantOf('2026-11-27T17:37:39Z')).toBe(instantOf('2026-11-27T17:37:39.000Z'))
  expect(instantOf('2026-11-27T17:37:39.1234567891Z'))
    .toBe(instantOf('2026-11-27T17:37:39.123456789Z'))
  expect(instantOf('2026-11-27T17:37:39.9Z') < instantOf('2026-11-27T17:37:40Z')).toBeTruthy()
  for (const bad of ['', 'yesterday', '2026-11-27', '2026-13-01T00:00:00Z', null, 42]) {
    expect(instantOf(bad), String(bad)).toBe(null)
  }
})

test('the status is that of the newest events, whatever order they arrive in', () => {
  const events = [
    item('a', 'stream.online', '2026-11-27T17:00:00.000000100Z', { title: 'Stale', category_name: 'Old' }),
    item('b', 'channel.update', '2026-11-27T17:00:00.000000200Z', { title: 'Fresh', category_name: 'New' }),
    item('c', 'stream.offline', '2026-11-27T17:00:00.000000300Z'),
    item('d', 'stream.online', '2026-11-27T17:00:00.000000400Z', { started_at: '2026-11-27T17:00:00.000000400Z' }),
  ]
  const views = permutations(events).map((order) =>
    JSON.stringify(statusView(applyEvents(statusFrom(ANSWER, null), order))))
  expect(new Set(views).size).toBe(1)
  const view = statusView(applyEvents(statusFrom(ANSWER, null), events))
  expect(view.title).toBe('Fresh')
  expect(view.category).toBe('New')
  expect(view.live.title).toBe('Fresh')
  expect(view.live.startedAt.toISOString()).toBe('2026-11-27T17:00:00.000Z')
})

test('an older event arriving later is listed but overwrites nothing newer', () => {
  const update = item('u', 'channel.update', '2026-11-27T17:00:00.000000002Z', { title: 'New' })
  const offline = item('f', 'stream.offline', '2026-11-27T17:00:00.000000003Z')
  const late = item('l', 'stream.online', '2026-11-27T17:00:00.000000001Z', { title: 'Old' })
  const before = applyEvents(statusFrom(ANSWER, null), [update, offline])
  expect(statusView(applyEvent(before, late))).toStrictEqual(statusView(before))
  expect(statusView(before).title).toBe('New')
  expect(statusView(before).live).toBe(null)
  const feed = mergeFeed(mergeFeed([], [update, offline]), [late])
  expect(feed.map((e) => e.id)).toStrictEqual(['f', 'u', 'l'])
})

test('a repeat is listed once, from recent events or live', () => {
  const first = item('x', 'channel.update', '2026-11-27T17:00:00Z', { title: 'One' })
  const again = item('x', 'channel.update', '2026-11-27T17:00:00Z', { title: 'One' })
  const feed = mergeFeed([], [first, again])
  expect(feed.length).toBe(1)
  expect(mergeFeed(feed, [again])).toBe(feed)
})

test('at the same instant a channel.update wins the title over a stream.online', () => {
  const at = '2026-11-27T17:00:00.123456789Z'
  const online = item('1', 'stream.online', at, { title: 'Old' })
  const update = item('2', 'channel.update', at, { title: 'New' })
  for (const order of [[online, update], [update, online]]) {
    const view = statusView(applyEvents(statusFrom(ANSWER, null), order))
    expect(view.title).toBe('New')
    expect(view.live).toBeTruthy()
  }
})

test('the answer outranks events older than it, not newer ones', () => {
  const servedAt = new Date('2026-11-27T17:00:30Z')
  const base = statusFrom(ANSWER, answerInstant(servedAt, []))
  const old = item('old', 'stream.online', '2026-11-27T16:00:00Z', { title: 'Yesterday' })
  const recent = item('new', 'channel.update', '2026-11-27T17:00:25Z', { title: 'Just now' })
  expect(statusView(applyEvent(base, old)).live).toBe(null)
  expect(statusView(applyEvent(base, old)).title).toBe('Best Stream Ever')
  expect(statusView(applyEvent(base, recent)).title).toBe('Just now')
})

test('an online of the stream the answer knows keeps its viewer count', () => {
  const answer = { live: { title: 'T', category: 'C', viewers: 42, started_at: '2026-11-27T17:00:00Z' },
                   title: 'T', category: 'C' }
  const base = statusFrom(answer, null)
  const same = item('s', 'stream.online', '2026-11-27T17:00:00.250000000Z',
                    { started_at: '2026-11-27T17:00:00.250000000Z' })
  const next = item('n', 'stream.online', '2026-11-27T18:00:00Z', { started_at: '2026-11-27T18:00:00Z' })
  expect(statusView(applyEvent(base, same)).live.viewers).toBe(42)
  expect(statusView(applyEvent(base, next)).live.viewers).toBe(null)
})
