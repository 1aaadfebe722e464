// The page's pure logic for the viewer's moments (frontend/src/lib), run by Node's test
// runner from tests/e2e/test_viewer_moments.py: what the streamer box accepts, the tab's
// title, the follows list kept up to date by push, and the status after a revocation.
import assert from 'node:assert/strict'
import test from 'node:test'

import { feedItem } from '../../frontend/src/lib/events.js'
import { applyFollowEvent, followsFrom, pushedChannels } from '../../frontend/src/lib/follows.js'
import {
  answerInstant, applyEvents, eventsAfterAnswer, statusFrom, statusView,
} from '../../frontend/src/lib/status.js'
import { NAME_RULE, NOT_A_CHANNEL, parseStreamer } from '../../frontend/src/lib/streamer.js'
import { instantOf } from '../../frontend/src/lib/time.js'
import { pageTitle } from '../../frontend/src/lib/title.js'

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
    assert.deepEqual(parseStreamer(input), { login }, input)
  }
})

test('what is not a Twitch name or channel link is refused with the reason', () => {
  for (const input of ['', '   ', 'ab', '@ab', '@', 'speedy sam', 'speedy-sam', 'speedy.sam',
                       'a'.repeat(26), '@@speedy_sam', null, undefined, 42]) {
    assert.deepEqual(parseStreamer(input), { error: NAME_RULE }, String(input))
  }
  for (const input of ['https://clips.twitch.tv/SomeClip', 'https://evil.example/speedy_sam',
                       'https://twitch.tv.evil.example/speedy_sam', 'twitch.tv', 'twitch.tv/',
                       'https://www.twitch.tv/directory/category/chess', 'twitch.tv/videos/123',
                       'javascript:alert(1)', 'ftp://twitch.tv/speedy_sam',
                       'https://www.twitch.tv/%E0%A4%A']) {
    assert.deepEqual(parseStreamer(input), { error: NOT_A_CHANNEL }, input)
  }
  assert.deepEqual(parseStreamer('https://www.twitch.tv/ab'), { error: NAME_RULE })
})

test('the tab title marks a live stream and counts events not yet seen', () => {
  assert.equal(pageTitle(), 'Streamer Event Viewer')
  assert.equal(pageTitle({ name: 'Cool_User' }), 'Cool_User — Streamer Event Viewer')
  assert.equal(pageTitle({ name: 'Cool_User', live: true }),
               '● LIVE · Cool_User — Streamer Event Viewer')
  assert.equal(pageTitle({ name: 'Cool_User', live: true, unseen: 2 }),
               '(2) ● LIVE · Cool_User — Streamer Event Viewer')
  assert.equal(pageTitle({ name: 'Cool_User', unseen: 150 }),
               '(99+) Cool_User — Streamer Event Viewer')
  assert.equal(pageTitle({ live: true }), 'Streamer Event Viewer')
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
  assert.deepEqual([...pushedChannels(FOLLOWS)], [['speedy_sam', 'speedy_sam']])
  assert.deepEqual([...pushedChannels(FOLLOWS, 'chill_chess').keys()], ['speedy_sam', 'chill_chess'])
  let state = followsFrom(FOLLOWS)
  state = applyFollowEvent(state, 'speedy_sam', 'channel.update',
                           on('channel.update', '2026-11-27T18:00:01Z', { title: 'Glitchless', category_name: 'Celeste' }))
  assert.equal(state.cards[0].title, 'Glitchless')
  assert.equal(state.cards[0].category, 'Celeste')
  assert.equal(state.cards[0].viewers, 1200)
  state = applyFollowEvent(state, 'speedy_sam', 'stream.offline', on('stream.offline', '2026-11-27T18:00:02Z'))
  assert.deepEqual(state.cards.map((card) => card.login), ['chill_chess'])
  // An update older than the offline, arriving late, brings nothing back.
  const late = applyFollowEvent(state, 'speedy_sam', 'stream.online',
                                on('stream.online', '2026-11-27T18:00:00Z', { title: 'Old' }))
  assert.equal(late, state)
  state = applyFollowEvent(state, 'speedy_sam', 'stream.online', on('stream.online', '2026-11-27T18:05:00Z', {
    title: 'Back again', category_name: 'Celeste', broadcaster: { login: 'speedy_sam', name: 'SpeedySam' },
  }))
  assert.deepEqual(state.cards.map((card) => card.login), ['chill_chess', 'speedy_sam'])
  assert.equal(state.cards[1].display_name, 'SpeedySam')
  assert.equal(state.cards[1].title, 'Back again')
  assert.equal(state.cards[1].viewers, null)
  assert.equal(applyFollowEvent(state, 'speedy_sam', 'my-event', { message: 'x' }), state)
  // A refreshed list keeps what the events said about order.
  const refreshed = followsFrom(FOLLOWS, state)
  assert.equal(applyFollowEvent(refreshed, 'speedy_sam', 'stream.offline',
                                on('stream.offline', '2026-11-27T18:00:03Z')), refreshed)
})

test('the answer stands for its status_as_of when it gives one, else its Date header less 15 s', () => {
  const servedAt = new Date('2026-11-27T17:00:30Z')
  assert.equal(answerInstant(servedAt, [], '2026-11-27T17:00:29.123456789Z'),
               instantOf('2026-11-27T17:00:29.123456789Z'))
  assert.equal(answerInstant(servedAt, []), instantOf('2026-11-27T17:00:15Z'))
  assert.equal(answerInstant(servedAt, [], 'not a time'), instantOf('2026-11-27T17:00:15Z'))
  const answer = { live: null, title: 'Best Stream Ever', category: 'Fortnite' }
  const base = statusFrom(answer, answerInstant(servedAt, [], '2026-11-27T17:00:29Z'))
  const update = feedItem('channel.update', { id: 'u', type: 'channel.update', message: 'u',
    occurred_at: '2026-11-27T17:00:20Z', title: 'Older than the answer' })
  assert.equal(statusView(applyEvents(base, [update])).title, 'Best Stream Ever')
})

test('a streamer Twitch no longer sends is not shown live; a new answer ends that', () => {
  const answer = { live: null, title: 'T', category: 'C' }
  const online = feedItem('stream.online', { id: 'o', type: 'stream.online', message: 'live',
    occurred_at: '2026-11-27T17:00:00Z', started_at: '2026-11-27T17:00:00Z' })
  const gone = feedItem('streamer.unavailable', { id: 'g', type: 'streamer.unavailable',
    message: 'Cool_User can no longer be followed here', occurred_at: '2026-11-27T17:01:00Z' })
  const before = statusView(applyEvents(statusFrom(answer, null), [online, gone]))
  assert.equal(before.unavailable, true)
  assert.equal(before.live, null)
  const after = statusView(applyEvents(statusFrom(answer, instantOf('2026-11-27T16:00:00Z')),
                                       eventsAfterAnswer([gone, online])))
  assert.equal(after.unavailable, false)
  assert.ok(after.live)
})

test("an event older than what the server's list knew changes nothing", () => {
  const state = followsFrom([{ ...FOLLOWS[0], status_as_of: '2026-11-27T18:00:10Z' }])
  const stale = applyFollowEvent(state, 'speedy_sam', 'stream.offline',
                                 on('stream.offline', '2026-11-27T18:00:05Z'))
  assert.equal(stale, state)
  const fresh = applyFollowEvent(state, 'speedy_sam', 'stream.offline',
                                 on('stream.offline', '2026-11-27T18:00:11Z'))
  assert.deepEqual(fresh.cards, [])
})

test('a go-live whose update Twitch stamped a moment later, and sent first, brings the card back', () => {
  let state = followsFrom(FOLLOWS)
  state = applyFollowEvent(state, 'speedy_sam', 'stream.offline', on('stream.offline', '2026-11-27T22:58:04.905029000Z'))
  assert.deepEqual(state.cards.map((card) => card.login), ['chill_chess'])
  state = applyFollowEvent(state, 'speedy_sam', 'channel.update', on('channel.update', '2026-11-27T22:58:04.942500000Z',
    { title: 'Back with a new run', category_name: 'Celeste' }))
  assert.deepEqual(state.cards.map((card) => card.login), ['chill_chess'])
  state = applyFollowEvent(state, 'speedy_sam', 'stream.online', on('stream.online', '2026-11-27T22:58:04.942021000Z',
    { title: 'Older title', category_name: 'Chess', broadcaster: { login: 'speedy_sam', name: 'SpeedySam' } }))
  const card = state.cards.find((c) => c.login === 'speedy_sam')
  assert.equal(card.title, 'Back with a new run')
  assert.equal(card.category, 'Celeste')
  // A repeat of the offline, older than the go-live, removes nothing.
  const again = applyFollowEvent(state, 'speedy_sam', 'stream.offline', on('stream.offline', '2026-11-27T22:58:04.905029000Z'))
  assert.equal(again, state)
})
