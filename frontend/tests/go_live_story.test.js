// A go-live and its title change read in the order the streamer acted, newest first:
// the go-live above the update, however the two are stamped or arrive.
import { expect, test } from 'vitest'

import { feedItem } from '../src/lib/events.js'
import { mergeFeed } from '../src/lib/feed.js'
import { storyOrder } from '../src/lib/story.js'

const LIVE = '2026-11-27T17:00:00.000100000Z'

const MESSAGES = {
  'stream.online': 'Cool_User went live: Best Stream Ever (Fortnite)',
  'channel.update': 'Cool_User updated the stream: Best Stream Ever (Fortnite)',
}

/** A feed item of ``streamer``'s as the page makes it, naming the title and category. */
function item(type, at, fields, streamer) {
  const made = feedItem(type, {
    id: `${type}-${streamer}-${at}`, type, occurred_at: at, message: MESSAGES[type],
    title: 'Best Stream Ever', category_name: 'Fortnite', ...fields,
  })
  return { ...made, streamer }
}

function online(at, fields = {}, streamer = 'cool_user') {
  return item('stream.online', at, fields, streamer)
}

function update(at, fields = {}, streamer = 'cool_user') {
  return item('channel.update', at, fields, streamer)
}

function types(feed) {
  return feed.map((item) => `${item.type} ${item.streamer}`)
}

function bothArrivals(first, second) {
  return [mergeFeed(mergeFeed([], [first]), [second]), mergeFeed(mergeFeed([], [second]), [first]),
          mergeFeed([], [first, second])]
}

test('the go-live reads above its update: stamped first, at the same instant or just after', () => {
  for (const updatedAt of ['2026-11-27T17:00:00.000050000Z', LIVE,
                           '2026-11-27T17:00:00.000150000Z', '2026-11-27T17:00:01.9Z']) {
    for (const feed of bothArrivals(online(LIVE), update(updatedAt))) {
      expect(types(feed), updatedAt).toStrictEqual(['stream.online cool_user', 'channel.update cool_user'])
    }
  }
})

test('an update that says something new, or long after, keeps its place above the go-live', () => {
  for (const later of [update('2026-11-27T17:00:00.5Z', { title: 'Fixed a typo' }),
                       update('2026-11-27T17:00:00.5Z', { category_name: 'Chess' }),
                       update('2026-11-27T17:00:05Z')]) {
    for (const feed of bothArrivals(online(LIVE), later)) {
      expect(types(feed)).toStrictEqual(['channel.update cool_user', 'stream.online cool_user'])
    }
  }
})

test('another streamer\'s update stays where its time puts it', () => {
  const feed = mergeFeed([], [online(LIVE), update(LIVE, {}, 'speedy_sam'),
                              update('2026-11-27T17:00:00.2Z')])
  expect(types(feed)).toStrictEqual(
    ['channel.update speedy_sam', 'stream.online cool_user', 'channel.update cool_user'])
})

test('each go-live takes its own update, and the rest of the feed keeps its order', () => {
  const first = online('2026-11-27T17:00:00Z', { title: 'One' })
  const firstUpdate = update('2026-11-27T17:00:00Z', { title: 'One' })
  const second = online('2026-11-27T18:00:00Z', { title: 'Two' })
  const secondUpdate = update('2026-11-27T18:00:00.001Z', { title: 'Two' })
  const between = feedItem('stream.offline', {
    id: 'off', type: 'stream.offline', occurred_at: '2026-11-27T17:30:00Z', message: 'ended',
  })
  const items = [first, firstUpdate, second, secondUpdate, { ...between, streamer: 'cool_user' }]
  const expected = [second.id, secondUpdate.id, 'off', first.id, firstUpdate.id]
  for (const order of [items, [...items].reverse()]) {
    expect(mergeFeed([], order).map((item) => item.id)).toStrictEqual(expected)
  }
  expect(storyOrder([])).toStrictEqual([])
})

test('a go-live that names no title takes any update stamped with it', () => {
  const bare = online(LIVE, { title: undefined, category_name: undefined })
  for (const feed of bothArrivals(bare, update(LIVE, { title: 'Anything' }))) {
    expect(types(feed)).toStrictEqual(['stream.online cool_user', 'channel.update cool_user'])
  }
})
