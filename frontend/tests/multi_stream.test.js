// The page's pure logic for several streams at once (src/lib): the set's path and how it
// changes, the merged feed's filter, the connection badge over every watched channel, and
// the title.
import { expect, test } from 'vitest'

import { joinedChannels, watchedState } from '../src/lib/connection.js'
import { feedItem } from '../src/lib/events.js'
import { pushedChannels } from '../src/lib/follows.js'
import { NAME_RULE } from '../src/lib/streamer.js'
import {
  eventsOf, MAX_STREAMS, namesFromPath, parseStreamers, TOO_MANY, watchPath, withoutStream,
  withStream, withStreamReplaced,
} from '../src/lib/streams.js'
import { pageTitle } from '../src/lib/title.js'

test('the path names the streams in order, and only a /watch path names any', () => {
  expect(namesFromPath('/watch/cool_user')).toStrictEqual(['cool_user'])
  expect(namesFromPath('/watch/cool_user,speedy_sam/')).toStrictEqual(['cool_user', 'speedy_sam'])
  expect(namesFromPath('/watch/cool_user%2Cnight_owl')).toStrictEqual(['cool_user', 'night_owl'])
  for (const path of ['/watch', '/watch/', '/', '/watch/a/b', '/other/cool_user', '/watch/%E0%A4%A']) {
    expect(namesFromPath(path), path).toStrictEqual([])
  }
  expect(watchPath([])).toBe('/watch')
  expect(watchPath(['cool_user'])).toBe('/watch/cool_user')
  expect(watchPath(['cool_user', 'speedy_sam'])).toBe('/watch/cool_user,speedy_sam')
  const logins = ['cool_user', 'speedy_sam', 'night_owl']
  expect(namesFromPath(watchPath(logins))).toStrictEqual(logins)
})

test('a list of names is read as the streamer box reads each, once each, at most four', () => {
  expect(MAX_STREAMS).toBe(4)
  expect(parseStreamers(['Cool_User', '@speedy_sam', 'cool_user']))
    .toStrictEqual({ logins: ['cool_user', 'speedy_sam'] })
  expect(parseStreamers(['ab']), 'one name: the box\'s words').toStrictEqual({ error: NAME_RULE })
  expect(parseStreamers(['cool_user', 'ab'])).toStrictEqual({ error: `ab: ${NAME_RULE}` })
  expect(parseStreamers(['cool_user', ''])).toStrictEqual({ error: `an empty name: ${NAME_RULE}` })
  expect(parseStreamers(['aaaa', 'bbbb', 'cccc', 'dddd', 'eeee']))
    .toStrictEqual({ error: TOO_MANY })
  expect(parseStreamers(['aaaa', 'bbbb', 'cccc', 'dddd', 'AAAA']))
    .toStrictEqual({ logins: ['aaaa', 'bbbb', 'cccc', 'dddd'] })
  expect(parseStreamers([])).toStrictEqual({ logins: [] })
})

test('streams are added at the end up to four, removed, and a raid takes its raider\'s place', () => {
  const two = ['cool_user', 'speedy_sam']
  expect(withStream(two, 'night_owl')).toStrictEqual(['cool_user', 'speedy_sam', 'night_owl'])
  expect(withStream(two, 'speedy_sam')).toBe(two)
  expect(withStream(['aaaa', 'bbbb', 'cccc', 'dddd'], 'eeee')).toStrictEqual({ error: TOO_MANY })
  expect(withStream(['aaaa', 'bbbb', 'cccc', 'dddd'], 'bbbb'))
    .toStrictEqual(['aaaa', 'bbbb', 'cccc', 'dddd'])
  expect(withoutStream(two, 'cool_user')).toStrictEqual(['speedy_sam'])
  expect(withoutStream(two, 'nobody_here')).toStrictEqual(two)

  const three = ['cool_user', 'speedy_sam', 'chill_chess']
  expect(withStreamReplaced(three, 'speedy_sam', 'night_owl'))
    .toStrictEqual(['cool_user', 'night_owl', 'chill_chess'])
  expect(withStreamReplaced(three, 'speedy_sam', 'cool_user'),
         'raided one already plays: the raider just leaves')
    .toStrictEqual(['cool_user', 'chill_chess'])
  expect(withStreamReplaced(three, 'night_owl', 'aaaa'), 'raider not playing').toBe(three)
  expect(withStreamReplaced(three, 'cool_user', 'cool_user')).toBe(three)
})

test('the merged feed shows one streamer\'s events, or all', () => {
  const item = (id, streamer) => ({ ...feedItem('my-event', { id, message: id }), streamer })
  const feed = [item('a1', 'cool_user'), item('b1', 'speedy_sam'), item('a2', 'cool_user')]
  expect(eventsOf(feed, 'cool_user').map((each) => each.id)).toStrictEqual(['a1', 'a2'])
  expect(eventsOf(feed, 'speedy_sam').map((each) => each.id)).toStrictEqual(['b1'])
  expect(eventsOf(feed, '')).toBe(feed)
  expect(eventsOf(feed, 'night_owl')).toStrictEqual([])
})

test('the connection badge speaks for every watched channel on the one socket', () => {
  const joined = { joined: true, refused: false }
  const joining = { joined: false, refused: false }
  const refused = { joined: false, refused: true }
  expect(watchedState('connected', [joined, joined])).toBe('connected')
  expect(watchedState('connected', [joined, joining])).toBe('connecting')
  expect(watchedState('connected', [joined, undefined]), 'not subscribed yet').toBe('connecting')
  expect(watchedState('connected', [joined, refused])).toBe('partial')
  expect(watchedState('connected', [refused, refused])).toBe('failed')
  expect(watchedState('reconnecting', [refused])).toBe('failed')
  expect(watchedState('reconnecting', [joined, refused])).toBe('reconnecting')
  expect(watchedState('connecting', [joined])).toBe('connecting')
  expect(watchedState('connected', [])).toBe('connected')
  expect(watchedState('idle', [])).toBe('idle')
  const states = new Map([['private-a', joined], ['private-b', joining], ['private-c', joined]])
  expect(joinedChannels(['private-c', 'private-b', 'private-a', 'private-d'],
                        (name) => states.get(name))).toStrictEqual(['private-c', 'private-a'])
})

test('the title names the live streams after the mark and the others after a dot', () => {
  const app = 'Streamer Event Viewer'
  const stream = (name, live = false) => ({ name, live })
  expect(pageTitle({ streams: [stream('Cool_User', true), stream('Night_Owl', true)] }))
    .toBe(`● LIVE Cool_User, Night_Owl — ${app}`)
  expect(pageTitle({ streams: [stream('Cool_User'), stream('Night_Owl', true),
                               stream('SpeedySam')], unseen: 3 }))
    .toBe(`(3) ● LIVE Night_Owl · Cool_User, SpeedySam — ${app}`)
  expect(pageTitle({ streams: [stream('Cool_User'), stream('Night_Owl')] }))
    .toBe(`Cool_User, Night_Owl — ${app}`)
  expect(pageTitle({ streams: [stream('Cool_User', true)] }), 'one stream: as ever')
    .toBe(`● LIVE · Cool_User — ${app}`)
  expect(pageTitle({ streams: [stream('Cool_User')] })).toBe(`Cool_User — ${app}`)
  expect(pageTitle({ streams: [] })).toBe(app)
})

test('the follows list hears the channel of every stream the page plays', () => {
  const cards = [{ login: 'speedy_sam', watched: false }, { login: 'chill_chess' },
                 { login: 'night_owl', watched: true, channel: 'private-night_owl' }]
  expect([...pushedChannels(cards, ['speedy_sam', 'chill_chess']).entries()])
    .toStrictEqual([['speedy_sam', 'speedy_sam'], ['chill_chess', 'chill_chess'],
                    ['private-night_owl', 'night_owl']])
  expect([...pushedChannels(cards, []).keys()]).toStrictEqual(['private-night_owl'])
})
