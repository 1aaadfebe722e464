// The feed: every event once, newest first by when it happened, whatever order it arrived
// in; a go-live above the title change that came with it (story.js).
import { MAX_FEED } from './events.js'
import { storyOrder } from './story.js'
import { compareInstants } from './time.js'

// Between events of the same instant: the stream's state first, then the channel's,
// so that a channel.update's title wins over a stream.online sent at the same moment
// (the feed still lists a go-live above an update that only repeats it: story.js).
const TIE_RANK = {
  'stream.online': 0,
  'stream.offline': 1,
  'channel.update': 2,
  'streamer.unavailable': 3,
}
const OTHER_RANK = 4

/**
 * @typedef {import('./events.js').FeedItem} FeedItem
 */

/**
 * Where a piece of state came from, to tell which is newer: an event, or the
 * /api/watch answer (``rank`` Infinity, so it wins a tie with an event of its instant).
 * @typedef {object} Stamp
 * @property {bigint | null} instant null is before everything
 * @property {number} rank
 * @property {string} id
 */

/**
 * An event's stamp.
 * @param {FeedItem} item
 * @returns {Stamp}
 */
export function stampOf(item) {
  return { instant: item.instant, rank: TIE_RANK[item.type] ?? OTHER_RANK, id: item.id }
}

/**
 * Negative when ``a`` is older than ``b``: by instant, then rank (see TIE_RANK), then id.
 * 0 only for the same id at the same instant, that is the same event.
 * @param {Stamp} a
 * @param {Stamp} b
 * @returns {number}
 */
export function compareStamps(a, b) {
  return compareInstants(a.instant, b.instant)
    || (a.rank === b.rank ? 0 : a.rank < b.rank ? -1 : 1)
    || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
}

/**
 * The order events happened in (negative when ``a`` came first).
 * @param {FeedItem} a
 * @param {FeedItem} b
 * @returns {number}
 */
export function eventOrder(a, b) {
  return compareStamps(stampOf(a), stampOf(b))
}

/**
 * ``feed`` with ``items`` added: each id once (the first seen is kept), newest first
 * (each go-live above its companion title change, see storyOrder), at most ``limit``
 * items. A repeat changes nothing, however it arrives.
 * @param {FeedItem[]} feed newest first
 * @param {FeedItem[]} items in any order
 * @param {number} [limit]
 * @returns {FeedItem[]}
 */
export function mergeFeed(feed, items, limit = MAX_FEED) {
  const seen = new Set(feed.map((item) => item.id))
  const added = items.filter((item) => !seen.has(item.id) && seen.add(item.id))
  if (!added.length) return feed
  return storyOrder([...feed, ...added].sort((a, b) => eventOrder(b, a)).slice(0, limit))
}
