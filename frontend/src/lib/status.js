// The status line (live or offline, title, category, viewers), from the /api/watch answer
// and events.
//
// Each part of the status remembers the stamp of what set it (see feed.js): an event
// changes a part only when it is newer than what set that part. So the status is the
// same whatever order the events arrive in, and an older event arriving late (a retried
// publish, a repeat) is listed in the feed but never undoes what a newer one said.
import { parseTime } from './events.js'
import { compareStamps, stampOf } from './feed.js'
import { addMs, compareInstants, instantOf, instantOfDate } from './time.js'

/**
 * How old the answer's stream state may be when it is served, when the answer does not
 * say (no ``status_as_of``): web/viewer/watching.py kept the stream lookup for 15 s (STREAM_TTL).
 * Events newer than that age are applied over it.
 */
export const ANSWER_MAX_AGE_MS = 15_000

/**
 * @typedef {import('./events.js').FeedItem} FeedItem
 * @typedef {import('./feed.js').Stamp} Stamp
 * @typedef {{ stamp: Stamp, value: * }} Part
 * @typedef {object} StatusState
 * @property {{ startedAt: Date | null, viewers: number | null } | null} snapshot the
 *   answer's live stream, whose viewer count an event about the same stream keeps
 * @property {Part} stream value: { startedAt, viewers } while live, else null
 * @property {Part} viewers value: { count, startedAt } from the newest stream.viewers
 *   event (the count of the stream that started at startedAt), else null
 * @property {Part} title
 * @property {Part} category
 * @property {Part} unavailable
 * @typedef {object} Status what StreamStatus shows
 * @property {{ title: string, category: string, viewers: number | null,
 *   startedAt: Date | null } | null} live
 * @property {string} title
 * @property {string} category
 * @property {boolean} unavailable
 */

function text(value) {
  return typeof value === 'string' ? value : null
}

/**
 * The instant the answer's state stands for: its ``status_as_of`` (the server's time of
 * the state it describes) when it has a valid one; else its Date header less
 * ANSWER_MAX_AGE_MS; else (no usable Date header) the newest of its recent events;
 * else null (before everything).
 * @param {Date | null} servedAt
 * @param {FeedItem[]} recent the answer's recent events
 * @param {unknown} [statusAsOf] the answer's ``status_as_of`` (RFC 3339)
 * @returns {bigint | null}
 */
export function answerInstant(servedAt, recent, statusAsOf) {
  const asOf = instantOf(statusAsOf)
  if (asOf !== null) return asOf
  if (servedAt instanceof Date && !Number.isNaN(servedAt.getTime())) {
    return addMs(instantOfDate(servedAt), -ANSWER_MAX_AGE_MS)
  }
  return recent.reduce((newest, item) =>
    (compareInstants(item.instant, newest) > 0 ? item.instant : newest), null)
}

/**
 * The status state from a /api/watch answer (``live``, ``title``, ``category``),
 * standing for the state at ``instant``.
 * @param {object} answer
 * @param {bigint | null} instant see answerInstant
 * @returns {StatusState}
 */
export function statusFrom(answer, instant) {
  const stamp = { instant, rank: Infinity, id: '' }
  const live = answer.live && typeof answer.live === 'object' ? answer.live : null
  const snapshot = live && {
    startedAt: parseTime(live.started_at),
    viewers: Number.isFinite(live.viewers) ? live.viewers : null,
  }
  return {
    snapshot,
    stream: { stamp, value: snapshot },
    viewers: { stamp, value: null },
    title: { stamp, value: (live && text(live.title)) ?? text(answer.title) ?? '' },
    category: { stamp, value: (live && text(live.category)) ?? text(answer.category) ?? '' },
    unavailable: { stamp, value: false },
  }
}

/** True when two start times name the same stream (the same second). */
function sameStart(a, b) {
  return Boolean(a && b) && Math.floor(a.getTime() / 1000) === Math.floor(b.getTime() / 1000)
}

/** The answer's viewer count when ``startedAt`` is its stream, else null. */
function viewersOf(snapshot, startedAt) {
  return sameStart(snapshot?.startedAt, startedAt) ? snapshot.viewers : null
}

/**
 * The status item of a ``stream.viewers`` event (a live stream's viewer count, fetched
 * from Twitch at its ``occurred_at``), or null when it is not a well-formed one. It is not
 * a feed item: it carries no message.
 * @param {unknown} data
 * @returns {{ id: string, type: string, instant: bigint, data: object } | null}
 */
export function viewersItem(data) {
  if (!data || typeof data !== 'object' || data.type !== 'stream.viewers') return null
  const instant = instantOf(data.occurred_at)
  if (instant === null || !Number.isSafeInteger(data.viewers) || data.viewers < 0) return null
  return { id: text(data.id) || '', type: 'stream.viewers', instant, data }
}

/** What ``item`` says about each part of the status, by part name. */
function changesOf(item) {
  const data = item.data
  const title = text(data.title)
  const category = text(data.category_name)
  const channel = { ...(title !== null && { title }), ...(category !== null && { category }) }
  switch (item.type) {
    case 'stream.online':
      return { stream: { startedAt: parseTime(data.started_at) || item.occurredAt },
               unavailable: false, ...channel }
    case 'stream.offline':
      return { stream: null }
    case 'channel.update':
      return channel
    case 'streamer.unavailable':
      return { unavailable: true }
    case 'stream.viewers':
      return { viewers: { count: data.viewers, startedAt: parseTime(data.started_at) } }
    default:
      return {}
  }
}

/**
 * ``state`` after ``item``: each part the event speaks of takes its value when the event
 * is newer than what set that part. Applying events in any order gives the same state.
 * @param {StatusState} state
 * @param {FeedItem} item
 * @returns {StatusState}
 */
export function applyEvent(state, item) {
  const stamp = stampOf(item)
  let next = state
  for (const [part, said] of Object.entries(changesOf(item))) {
    if (compareStamps(stamp, state[part].stamp) <= 0) continue
    const value = part === 'stream' && said
      ? { ...said, viewers: viewersOf(state.snapshot, said.startedAt) }
      : said
    next = { ...next, [part]: { stamp, value } }
  }
  return next
}

/**
 * ``state`` after all of ``items``, in any order.
 * @param {StatusState} state
 * @param {FeedItem[]} items
 * @returns {StatusState}
 */
export function applyEvents(state, items) {
  return items.reduce(applyEvent, state)
}

/**
 * The events to apply over a fresh /api/watch answer: all but ``streamer.unavailable``.
 * The server answered after those, holding the streamer's subscriptions again, so they
 * no longer stand (a new one, arriving later, does).
 * @param {FeedItem[]} items
 * @returns {FeedItem[]}
 */
export function eventsAfterAnswer(items) {
  return items.filter((item) => item.type !== 'streamer.unavailable')
}

/** The live ``stream``'s newest viewer count: the last stream.viewers event's when it
 * counted this stream, else the one the answer gave. */
function viewersNow(stream, told) {
  return told && sameStart(told.startedAt, stream.startedAt) ? told.count : stream.viewers
}

/**
 * What the status line shows. A streamer whose events no longer reach us is not shown
 * live: nothing would tell us when that ends.
 * @param {StatusState} state
 * @returns {Status}
 */
export function statusView(state) {
  const title = state.title.value
  const category = state.category.value
  const stream = state.unavailable.value ? null : state.stream.value
  return {
    live: stream && { title, category, viewers: viewersNow(stream, state.viewers.value),
                      startedAt: stream.startedAt },
    title,
    category,
    unavailable: state.unavailable.value,
  }
}
