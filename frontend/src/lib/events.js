// Stream events: feed items from what arrives on the channel, and how they look.
import { dateOf, instantOf, instantOfDate } from './time.js'

export const MAX_FEED = 100

const KINDS = {
  'stream.online': { label: 'Live', badge: 'text-bg-danger' },
  'stream.offline': { label: 'Offline', badge: 'text-bg-secondary' },
  'channel.update': { label: 'Update', badge: 'text-bg-primary' },
  'channel.raid': { label: 'Raid', badge: 'text-bg-success' },
  'streamer.unavailable': { label: 'Unavailable', badge: 'text-bg-warning' },
}
const MESSAGE = { label: 'Message', badge: 'text-bg-info' }

let localIds = 0

/** The badge label and colour for an event type. */
export function kindOf(type) {
  return KINDS[type] || MESSAGE
}

/**
 * A Date (to the millisecond) from an RFC 3339 string, or null; for showing a time.
 * Compare events by their ``instant`` instead: it keeps all nine fractional digits.
 * @param {unknown} value
 * @returns {Date | null}
 */
export function parseTime(value) {
  const instant = instantOf(value)
  return instant === null ? null : dateOf(instant)
}

function text(value) {
  return typeof value === 'string' ? value : null
}

/**
 * @typedef {object} FeedItem
 * @property {string} id the event's id (a local one when it has none)
 * @property {string} type the event's type, or the Pusher event name
 * @property {string} message the line shown
 * @property {bigint} instant when it happened, in nanoseconds (on arrival when it does not say)
 * @property {Date} occurredAt the same, to the millisecond, for showing
 * @property {object} data the event as published
 */

/**
 * A feed item for an event named ``name`` with ``data``, or null when it has no message.
 * @param {string} name
 * @param {unknown} data
 * @param {Date} [arrived] when it arrived, its time when it carries no ``occurred_at``
 * @returns {FeedItem | null}
 */
export function feedItem(name, data, arrived = new Date()) {
  if (!data || typeof data !== 'object' || !text(data.message)?.trim()) return null
  const instant = instantOf(data.occurred_at) ?? instantOfDate(arrived)
  return {
    id: text(data.id) || `local-${++localIds}`,
    type: text(data.type) || name,
    message: data.message,
    instant,
    occurredAt: dateOf(instant),
    data,
  }
}

/** "14:03:09" today, "27 Nov, 14:03" on another day. */
export function feedTime(date, now = new Date()) {
  if (date.toDateString() === now.toDateString()) {
    return date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' })
  }
  return date.toLocaleString([], { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' })
}

/** A viewer count with the reader's digit grouping. */
export function viewerCount(count) {
  return new Intl.NumberFormat().format(count)
}
