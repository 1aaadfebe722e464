// The page's pure logic for several streams at once (frontend/src/lib), run by Node's test
// runner from tests/e2e/test_frontend_logic.py: the set's path and how it changes, the
// merged feed's filter, the connection badge over every watched channel, and the title.
import assert from 'node:assert/strict'
import test from 'node:test'

import { joinedChannels, watchedState } from '../../frontend/src/lib/connection.js'
import { feedItem } from '../../frontend/src/lib/events.js'
import { pushedChannels } from '../../frontend/src/lib/follows.js'
import { NAME_RULE } from '../../frontend/src/lib/streamer.js'
import {
  eventsOf, MAX_STREAMS, namesFromPath, parseStreamers, TOO_MANY, watchPath, withoutStream,
  withStream, withStreamReplaced,
} from '../../frontend/src/lib/streams.js'
import { pageTitle } from '../../frontend/src/lib/title.js'

test('the path names the streams in order, and only a /watch path names any', () => {
  assert.deepEqual(namesFromPath('/watch/cool_user'), ['cool_user'])
  assert.deepEqual(namesFromPath('/watch/cool_user,speedy_sam/'), ['cool_user', 'speedy_sam'])
  assert.deepEqual(namesFromPath('/watch/cool_user%2Cnight_owl'), ['cool_user', 'night_owl'])
  for (const path of ['/watch', '/watch/', '/', '/watch/a/b', '/other/cool_user', '/watch/%E0%A4%A']) {
    assert.deepEqual(namesFromPath(path), [], path)
  }
  assert.equal(watchPath([]), '/watch')
  assert.equal(watchPath(['cool_user']), '/watch/cool_user')
  assert.equal(watchPath(['cool_user', 'speedy_sam']), '/watch/cool_user,speedy_sam')
  const logins = ['cool_user', 'speedy_sam', 'night_owl']
  assert.deepEqual(namesFromPath(watchPath(logins)), logins)
})

test('a list of names is read as the streamer box reads each, once each, at most four', () => {
  assert.equal(MAX_STREAMS, 4)
  assert.deepEqual(parseStreamers(['Cool_User', '@speedy_sam', 'cool_user']),
                   { logins: ['cool_user', 'speedy_sam'] })
  assert.deepEqual(parseStreamers(['ab']), { error: NAME_RULE }, 'one name: the box\'s words')
  assert.deepEqual(parseStreamers(['cool_user', 'ab']), { error: `ab: ${NAME_RULE}` })
  assert.deepEqual(parseStreamers(['cool_user', '']), { error: `an empty name: ${NAME_RULE}` })
  assert.deepEqual(parseStreamers(['aaaa', 'bbbb', 'cccc', 'dddd', 'eeee']), { error: TOO_MANY })
  assert.deepEqual(parseStreamers(['aaaa', 'bbbb', 'cccc', 'dddd', 'AAAA']),
                   { logins: ['aaaa', 'bbbb', 'cccc', 'dddd'] })
  assert.deepEqual(parseStreamers([]), { logins: [] })
})

test('streams are added at the end up to four, removed, and a raid takes its raider\'s place', () => {
  const two = ['cool_user', 'speedy_sam']
  assert.deepEqual(withStream(two, 'night_owl'), ['cool_user', 'speedy_sam', 'night_owl'])
  assert.equal(withStream(two, 'speedy_sam'), two)
  assert.deepEqual(withStream(['aaaa', 'bbbb', 'cccc', 'dddd'], 'eeee'), { error: TOO_MANY })
  assert.deepEqual(withStream(['aaaa', 'bbbb', 'cccc', 'dddd'], 'bbbb'), ['aaaa', 'bbbb', 'cccc', 'dddd'])
  assert.deepEqual(withoutStream(two, 'cool_user'), ['speedy_sam'])
  assert.deepEqual(withoutStream(two, 'nobody_here'), two)

  const three = ['cool_user', 'speedy_sam', 'chill_chess']
  assert.deepEqual(withStreamReplaced(three, 'speedy_sam', 'night_owl'),
                   ['cool_user', 'night_owl', 'chill_chess'])
  assert.deepEqual(withStreamReplaced(three, 'speedy_sam', 'cool_user'), ['cool_user', 'chill_chess'],
                   'raided one already plays: the raider just leaves')
  assert.equal(withStreamReplaced(three, 'night_owl', 'aaaa'), three, 'raider not playing')
  assert.equal(withStreamReplaced(three, 'cool_user', 'cool_user'), three)
})

test('the merged feed shows one streamer\'s events, or all', () => {
  const item = (id, streamer) => ({ ...feedItem('my-event', { id, message: id }), streamer })
  const feed = [item('a1', 'cool_user'), item('b1', 'speedy_sam'), item('a2', 'cool_user')]
  assert.deepEqual(eventsOf(feed, 'cool_user').map((each) => each.id), ['a1', 'a2'])
  assert.deepEqual(eventsOf(feed, 'speedy_sam').map((each) => each.id), ['b1'])
  assert.equal(eventsOf(feed, ''), feed)
  assert.deepEqual(eventsOf(feed, 'night_owl'), [])
})

test('the connection badge speaks for every watched channel on the one socket', () => {
  const joined = { joined: true, refused: false }
  const joining = { joined: false, refused: false }
  const refused = { joined: false, refused: true }
  assert.equal(watchedState('connected', [joined, joined]), 'connected')
  assert.equal(watchedState('connected', [joined, joining]), 'connecting')
  assert.equal(watchedState('connected', [joined, undefined]), 'connecting', 'not subscribed yet')
  assert.equal(watchedState('connected', [joined, refused]), 'partial')
  assert.equal(watchedState('connected', [refused, refused]), 'failed')
  assert.equal(watchedState('reconnecting', [refused]), 'failed')
  assert.equal(watchedState('reconnecting', [joined, refused]), 'reconnecting')
  assert.equal(watchedState('connecting', [joined]), 'connecting')
  assert.equal(watchedState('connected', []), 'connected')
  assert.equal(watchedState('idle', []), 'idle')
  const states = new Map([['private-a', joined], ['private-b', joining], ['private-c', joined]])
  assert.deepEqual(joinedChannels(['private-c', 'private-b', 'private-a', 'private-d'],
                                  (name) => states.get(name)), ['private-c', 'private-a'])
})

test('the title names the live streams after the mark and the others after a dot', () => {
  const app = 'Streamer Event Viewer'
  const stream = (name, live = false) => ({ name, live })
  assert.equal(pageTitle({ streams: [stream('Cool_User', true), stream('Night_Owl', true)] }),
               `● LIVE Cool_User, Night_Owl — ${app}`)
  assert.equal(pageTitle({ streams: [stream('Cool_User'), stream('Night_Owl', true),
                                     stream('SpeedySam')], unseen: 3 }),
               `(3) ● LIVE Night_Owl · Cool_User, SpeedySam — ${app}`)
  assert.equal(pageTitle({ streams: [stream('Cool_User'), stream('Night_Owl')] }),
               `Cool_User, Night_Owl — ${app}`)
  assert.equal(pageTitle({ streams: [stream('Cool_User', true)] }), `● LIVE · Cool_User — ${app}`,
               'one stream: as ever')
  assert.equal(pageTitle({ streams: [stream('Cool_User')] }), `Cool_User — ${app}`)
  assert.equal(pageTitle({ streams: [] }), app)
})

test('the follows list hears the channel of every stream the page plays', () => {
  const cards = [{ login: 'speedy_sam', watched: false }, { login: 'chill_chess' },
                 { login: 'night_owl', watched: true, channel: 'private-night_owl' }]
  assert.deepEqual([...pushedChannels(cards, ['speedy_sam', 'chill_chess']).entries()],
                   [['speedy_sam', 'speedy_sam'], ['chill_chess', 'chill_chess'],
                    ['private-night_owl', 'night_owl']])
  assert.deepEqual([...pushedChannels(cards, []).keys()], ['private-night_owl'])
})
