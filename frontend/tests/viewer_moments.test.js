// The page's pure logic for the viewer's moments (src/lib): what the streamer box accepts,
// the tab's title, the follows list kept up to date by push, and the status after a
// revocation.
import { expect, test } from 'vitest'

import { feedItem } from '../src/lib/events.js'
import { applyFollowEvent, followsFrom, pushedChannels } from '../src/lib/follows.js'
import {
  answerInstant, applyEvents, eventsAfterAnswer, statusFrom, statusView,
} from '../src/lib/status.js'
import { NAME_RULE, NOT_A_CHANNEL, parseStreamer } from '../src/lib/streamer.js'
import { instantOf } from '../src/lib/time.js'
import { pageTitle } from '../src/lib/title.js'

test('the streamer box takes names, @names and channel links as pasted', () => {
  const accepted = {
    speedy_sam: 'speedy_sam',
    'Speedy_Sam': 'speedy_sam',
    '  speedy_sam \t': 'speedy_sam',
    '@Speedy_Sam': 'speedy_sam',
    '  @speedy_sam  ': 'speedy_sam',
    'https://www.twitch.tv/speedy_sam': 'speedy_sam',
    'http://twitch.tv/speedy_sam': 'speedy_sam',
    'twitch.tv/speedy_sam': 'speedy_sam',
    'www.twitch.tv/Speedy_Sam/': 'speedy_sam',
    'm.twitch.tv/speedy_sam': 'speedy_sam',
    'HTTPS://WWW.TWITCH.TV/speedy_sam': 'speedy_sam',
    'https://www.twitch.tv/speedy_sam?referrer=raid#chat': 'speedy_sam',
    ' https://www.twitch.tv/speedy_sam/videos?filter=archives ': 'speedy_sam',
    'twitch.tv/speedy_sam#about': 'speedy_sam',
    'https://www.twitch.tv/a_name_of_twenty_five_ch': 'a_name_of_twenty_five_ch',
  }
  for (const [input, login] of Object.entries(accepted)) {
    expect(parseStreamer(input), input).toStrictEqual({ login })
  }
})

test('what is not a Twitch name or channel link is refused with the reason', () => {
  for (const input of ['', '   ', 'ab', '@ab', '@', 'speedy sam', 'speedy-sam', 'speedy.sam',
                       'a'.repeat(26), '@@speedy_sam', null, undefined, 42]) {
    expect(parseStreamer(input), String(input)).toStrictEqual({ error: NAME_RULE })
  }
  for (const input of ['https://clips.twitch.tv/SomeClip', 'https://evil.example/speedy_sam',
                       'https://twitch.tv.evil.example/speedy_sam', 'twitch.tv', 'twitch.tv/',
                       'https://www.twitch.tv/directory/category/chess', 'twitch.tv/videos/123',
                       'javascript:alert(1)', 'ftp://twitch.tv/speedy_sam',
                       'https://www.twitch.tv/%E0%A4%A']) {
    expect(parseStreamer(input), input).toStrictEqual({ error: NOT_A_CHANNEL })
  }
  expect(parseStreamer('https://www.twitch.tv/ab')).toStrictEqual({ error: NAME_RULE })
})

test('the tab title marks a live stream and counts events not yet seen', () => {
  expect(pageTitle()).toBe('Streamer Event Viewer')
  expect(pageTitle({ name: 'Cool_User' })).toBe('Cool_User — Streamer Event Viewer')
  expect(pageTitle({ name: 'Cool_User', live: true }))
    .toBe('● LIVE · Cool_User — Streamer Event Viewer')
  expect(pageTitle({ name: 'Cool_User', live: true, unseen: 2 }))
    .toBe('(2) ● LIVE · Cool_User — Streamer Event Viewer')
  expect(pageTitle({ name: 'Cool_User', unseen: 150 }))
    .toBe('(99+) Cool_User — Streamer Event Viewer')
  expect(pageTitle({ live: true })).toBe('Streamer Event Viewer')
})

const FOLLOWS = [
  { login: 'speedy_sam', display_name: 'SpeedySam', title: 'Any%', category: 'Super Mario 64',
    viewers: 1200, watched: true },
  { login: 'chill_chess', display_name: 'ChillChess', title: 'Blitz', category: 'Chess',
    viewers: 300, watched: false },
]

function on(type, at, fields = {}) {
  return { type, occurred_at: at, message: type, ...fields }
}

test('watched follows, and the streamer watched here, push their changes to the list', () => {
  expect([...pushedChannels(FOLLOWS)]).toStrictEqual([['speedy_sam', 'speedy_sam']])
  expect([...pushedChannels(FOLLOWS, 'chill_chess').keys()])
    .toStrictEqual(['speedy_sam', 'chill_chess'])
  let state = followsFrom(FOLLOWS)
  state = applyFollowEvent(state, 'speedy_sam', 'channel.update',
                           on('channel.update', '2026-11-27T18:00:01Z', { title: 'Glitchless', category_name: 'Celeste' }))
  expect(state.cards[0].title).toBe('Glitchless')
  expect(state.cards[0].category).toBe('Celeste')
  expect(state.cards[0].viewers).toBe(1200)
  state = applyFollowEvent(state, 'speedy_sam', 'stream.offline', on('stream.offline', '2026-11-27T18:00:02Z'))
  expect(state.cards.map((card) => card.login)).toStrictEqual(['chill_chess'])
  // An update older than the offline, arriving late, brings nothing back.
  const late = applyFollowEvent(state, 'speedy_sam', 'stream.online',
                                on('stream.online', '2026-11-27T18:00:00Z', { title: 'Old' }))
  expect(late).toBe(state)
  state = applyFollowEvent(state, 'speedy_sam', 'stream.online', on('stream.online', '2026-11-27T18:05:00Z', {
    title: 'Back again', category_name: 'Celeste', broadcaster: { login: 'speedy_sam', name: 'SpeedySam' },
  }))
  expect(state.cards.map((card) => card.login)).toStrictEqual(['chill_chess', 'speedy_sam'])
  expect(state.cards[1].display_name).toBe('SpeedySam')
  expect(state.cards[1].title).toBe('Back again')
  expect(state.cards[1].viewers).toBe(null)
  expect(applyFollowEvent(state, 'speedy_sam', 'my-event', { message: 'x' })).toBe(state)
  // A refreshed list keeps what the events said about order.
  const refreshed = followsFrom(FOLLOWS, state)
  expect(applyFollowEvent(refreshed, 'speedy_sam', 'stream.offline',
                          on('stream.offline', '2026-11-27T18:00:03Z'))).toBe(refreshed)
})

test('the answer stands for its status_as_of when it gives one, else its Date header less 15 s', () => {
  const servedAt = new Date('2026-11-27T17:00:30Z')
  expect(answerInstant(servedAt, [], '2026-11-27T17:00:29.123456789Z'))
    .toBe(instantOf('2026-11-27T17:00:29.123456789Z'))
  expect(answerInstant(servedAt, [])).toBe(instantOf('2026-11-27T17:00:15Z'))
  expect(answerInstant(servedAt, [], 'not a time')).toBe(instantOf('2026-11-27T17:00:15Z'))
  const answer = { live: null, title: 'Best Stream Ever', category: 'Fortnite' }
  const base = statusFrom(answer, answerInstant(servedAt, [], '2026-11-27T17:00:29Z'))
  const update = feedItem('channel.update', { id: 'u', type: 'channel.update', message: 'u',
    occurred_at: '2026-11-27T17:00:20Z', title: 'Older than the answer' })
  expect(statusView(applyEvents(base, [update])).title).toBe('Best Stream Ever')
})

test('a streamer Twitch no longer sends is not shown live; a new answer ends that', () => {
  const answer = { live: null, title: 'T', category: 'C' }
  const online = feedItem('stream.online', { id: 'o', type: 'stream.online', message: 'live',
    occurred_at: '2026-11-27T17:00:00Z', started_at: '2026-11-27T17:00:00Z' })
  const gone = feedItem('streamer.unavailable', { id: 'g', type: 'streamer.unavailable',
    message: 'Cool_User can no longer be followed here', occurred_at: '2026-11-27T17:01:00Z' })
  const before = statusView(applyEvents(statusFrom(answer, null), [online, gone]))
  expect(before.unavailable).toBe(true)
  expect(before.live).toBe(null)
  const after = statusView(applyEvents(statusFrom(answer, instantOf('2026-11-27T16:00:00Z')),
                                       eventsAfterAnswer([gone, online])))
  expect(after.unavailable).toBe(false)
  expect(after.live).toBeTruthy()
})

test("an event older than what the server's list knew changes nothing", () => {
  const state = followsFrom([{ ...FOLLOWS[0], status_as_of: '2026-11-27T18:00:10Z' }])
  const stale = applyFollowEvent(state, 'speedy_sam', 'stream.offline',
                                 on('stream.offline', '2026-11-27T18:00:05Z'))
  expect(stale).toBe(state)
  const fresh = applyFollowEvent(state, 'speedy_sam', 'stream.offline',
                                 on('stream.offline', '2026-11-27T18:00:11Z'))
  expect(fresh.cards).toStrictEqual([])
})

test('a go-live whose update Twitch stamped a moment later, and sent first, brings the card back', () => {
  let state = followsFrom(FOLLOWS)
  state = applyFollowEvent(state, 'speedy_sam', 'stream.offline', on('stream.offline', '2026-11-27T22:58:04.905029000Z'))
  expect(state.cards.map((card) => card.login)).toStrictEqual(['chill_chess'])
  state = applyFollowEvent(state, 'speedy_sam', 'channel.update', on('channel.update', '2026-11-27T22:58:04.942500000Z',
    { title: 'Back with a new run', category_name: 'Celeste' }))
  expect(state.cards.map((card) => card.login)).toStrictEqual(['chill_chess'])
  state = applyFollowEvent(state, 'speedy_sam', 'stream.online', on('stream.online', '2026-11-27T22:58:04.942021000Z',
    { title: 'Older title', category_name: 'Chess', broadcaster: { login: 'speedy_sam', name: 'SpeedySam' } }))
  const card = state.cards.find((c) => c.login === 'speedy_sam')
  expect(card.title).toBe('Back with a new run')
  expect(card.category).toBe('Celeste')
  // A repeat of the offline, older than the go-live, removes nothing.
  const again = applyFollowEvent(state, 'speedy_sam', 'stream.offline', on('stream.offline', '2026-11-27T22:58:04.905029000Z'))
  expect(again).toBe(state)
})
