// Stream events: feed items from what arrives on the channel, and the status they change.

export const MAX_FEED = 100

const KINDS = {
  'stream.online': { label: 'Live', badge: 'text-bg-danger' },
  'stream.offline': { label: 'Offline', badge: 'text-bg-secondary' },
  'channel.update': { label: 'Update', badge: 'text-bg-primary' },
  'streamer.unavailable': { label: 'Unavailable', badge: 'text-bg-warning' },
}
const MESSAGE = { label: 'Message', badge: 'text-bg-info' }

let localIds = 0

/** The badge label and colour for an event type. */
export function kindOf(type) {
  return KINDS[type] || MESSAGE
}

/** A time from an RFC 3339 string (Twitch sends up to 9 fractional digits), or null. */
export function parseTime(value) {
  if (typeof value !== 'string' || !value) return null
  const time = new Date(value.replace(/(\.\d{3})\d+/, '$1'))
  return Number.isNaN(time.getTime()) ? null : time
}

function text(value) {
  return typeof value === 'string' ? value : null
}

/** A feed item for an event named ``name`` with ``data``, or null when it has no message. */
export function feedItem(name, data) {
  if (!data || typeof data !== 'object' || !text(data.message)?.trim()) return null
  return {
    id: text(data.id) || `local-${++localIds}`,
    type: text(data.type) || name,
    message: data.message,
    occurredAt: parseTime(data.occurred_at) || new Date(),
    data,
  }
}

/** The status line's state from a /api/watch answer. */
export function statusFrom(answer) {
  const title = text(answer.title) || ''
  const category = text(answer.category) || ''
  const live = answer.live && {
    title: text(answer.live.title) ?? title,
    category: text(answer.live.category) ?? category,
    viewers: Number.isFinite(answer.live.viewers) ? answer.live.viewers : null,
    startedAt: parseTime(answer.live.started_at),
  }
  return { live: live || null, title, category, unavailable: false }
}

/** The status after ``item`` happened. */
export function nextStatus(status, item) {
  const data = item.data
  const title = text(data.title) ?? status.title
  const category = text(data.category_name) ?? status.category
  switch (item.type) {
    case 'stream.online':
      return {
        ...status,
        title,
        category,
        unavailable: false,
        live: { title, category, viewers: null, startedAt: parseTime(data.started_at) || item.occurredAt },
      }
    case 'stream.offline':
      return { ...status, live: null }
    case 'channel.update':
      return { ...status, title, category, live: status.live && { ...status.live, title, category } }
    case 'streamer.unavailable':
      return { ...status, unavailable: true }
    default:
      return status
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
