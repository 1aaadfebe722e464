// A go-live and the title change that comes with it, in the order a streamer acts.
//
// A streamer sets the title, then goes live; Twitch sends the channel.update and the
// stream.online on separate subscriptions, stamped moments apart in either order (or at
// the same instant). Newest first, the go-live must read above its title change. A
// channel.update is the go-live's companion when it is the same streamer's, stamped no
// more than COMPANION_WINDOW_MS after it (or at the same instant), and says nothing the
// go-live does not (the same title and category, where the go-live names them). A title
// change that says something new stays where its time puts it: it changed the stream.

import { addMs, compareInstants } from './time.js'

export const COMPANION_WINDOW_MS = 2000

/**
 * @typedef {import('./events.js').FeedItem} FeedItem
 */

function streamerOf(item) {
  return item.streamer ?? item.data?.broadcaster?.login ?? ''
}

/** Whether ``update`` says nothing that the go-live ``online`` does not say. */
function saysTheSame(update, online) {
  return ['title', 'category_name'].every((field) => {
    const said = online.data?.[field]
    return typeof said !== 'string' || update.data?.[field] === said
  })
}

/**
 * Whether the channel.update ``update`` is the companion of the go-live ``online``.
 * @param {FeedItem} update
 * @param {FeedItem} online
 * @returns {boolean}
 */
export function isCompanion(update, online) {
  return update.type === 'channel.update' && online.type === 'stream.online'
    && streamerOf(update) === streamerOf(online)
    && compareInstants(update.instant, online.instant) >= 0
    && compareInstants(update.instant, addMs(online.instant, COMPANION_WINDOW_MS)) <= 0
    && saysTheSame(update, online)
}

/**
 * ``feed`` (newest first, by time) with each go-live directly above the companions that
 * time put above it (see isCompanion: an update goes with its streamer's go-live just before it).
 * Everything else keeps its place, so the result depends only on the events, never on
 * the order they arrived in.
 * @param {FeedItem[]} feed newest first
 * @returns {FeedItem[]}
 */
export function storyOrder(feed) {
  // Go-live index -> its companions, newest first; a companion is listed above its go-live.
  const companions = new Map()
  const moved = new Set()
  feed.forEach((item, index) => {
    if (item.type !== 'channel.update') return
    const online = feed.findIndex((other, at) => at > index && other.type === 'stream.online'
      && streamerOf(other) === streamerOf(item))
    if (online < 0 || !isCompanion(item, feed[online])) return
    if (!companions.has(online)) companions.set(online, [])
    companions.get(online).push(item)
    moved.add(index)
  })
  if (!moved.size) return feed
  return feed.flatMap((item, index) => (moved.has(index) ? []
    : [item, ...(companions.get(index) || [])]))
}
