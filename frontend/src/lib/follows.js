// "Live now from your follows", kept up to date by the events of followed channels.
//
// Like the status line (status.js), each channel's state has two parts, each changed
// only by an event newer than what set it: whether it is live (stream.online and
// stream.offline), and its title and category (channel.update, and a stream.online's).
// So a go-live whose channel.update Twitch stamped a moment later, and which arrived
// first, still brings the card back, with the update's title. A stream.viewers event
// newer than both the card's stream and the last count changes the card's viewers.
import { instantOf } from './time.js'

/**
 * @typedef {object} Follow a card: what /api/follows/live lists for a channel
 * @property {string} login
 * @property {string} [display_name]
 * @property {string} [title]
 * @property {string} [category]
 * @property {number | null} [viewers]
 * @property {string} [started_at] RFC 3339: when its stream started
 * @property {boolean} [watched] the app already holds this channel's events (so they push)
 * @property {string} [status_as_of] RFC 3339: the server's time of what the card says
 * @typedef {object} Known what events (or the server's list) said of a channel, and as of when
 * @property {bigint | null} stream instant of the newest online or offline applied
 * @property {bigint | null} channel instant of the newest title and category applied
 * @property {string | null} title
 * @property {string | null} category
 * @property {bigint | null} viewers instant of the newest viewer count applied
 * @property {number | null} count that count
 * @property {string | null} countStartedAt the start of the stream it counted
 * @typedef {object} FollowsState
 * @property {Follow[]} cards the live channels, as shown
 * @property {Map<string, Known>} known per login
 */

const NOTHING = { stream: null, channel: null, title: null, category: null, viewers: null,
                  count: null, countStartedAt: null }

function later(a, b) {
  if (a === null) return b
  if (b === null) return a
  return a > b ? a : b
}

/** True when ``instant`` is older than ``seen`` (an event without a time is never older). */
function older(instant, seen) {
  return instant !== null && seen !== null && instant < seen
}

function text(value) {
  return typeof value === 'string' ? value : null
}

/** True unless both start times are known and name different streams (seconds differ). */
function sameStream(a, b) {
  const first = instantOf(a)
  const second = instantOf(b)
  return first === null || second === null || first / 1_000_000_000n === second / 1_000_000_000n
}

function withChannel(card, known) {
  return {
    ...card,
    ...(known.title !== null && { title: known.title }),
    ...(known.category !== null && { category: known.category }),
  }
}

/**
 * The state for a fresh list from the server. What events already told stays known:
 * the same event again, or an older one, changes nothing, and a title an event set
 * after the server's ``status_as_of`` for that card is kept.
 * @param {Follow[]} list
 * @param {FollowsState} [previous]
 * @returns {FollowsState}
 */
export function followsFrom(list, previous) {
  const known = new Map(previous?.known || [])
  const cards = []
  for (const card of Array.isArray(list) ? list : []) {
    if (!card || typeof card.login !== 'string' || !card.login) continue
    const asOf = instantOf(card.status_as_of)
    const seen = known.get(card.login) || NOTHING
    const newerTitle = seen.channel !== null && (asOf === null || seen.channel > asOf)
    const newerCount = seen.viewers !== null && (asOf === null || seen.viewers > asOf)
      && sameStream(card.started_at, seen.countStartedAt)
    const shown = newerTitle ? withChannel(card, seen) : card
    cards.push(newerCount ? { ...shown, viewers: seen.count } : shown)
    if (asOf !== null) {
      known.set(card.login, newerTitle
        ? { ...seen, stream: later(seen.stream, asOf) }
        : { ...seen, stream: later(seen.stream, asOf), channel: asOf, title: text(card.title),
            category: text(card.category) })
    }
  }
  return { cards, known }
}

/**
 * The Pusher channels whose events update the list, each with its card's login: those of
 * watched follows, and of ``current`` (the streamer this page watches, or a list of the
 * streamers it plays) when listed.
 * @param {Follow[]} cards
 * @param {string | string[]} [current]
 * @returns {Map<string, string>} channel -> login
 */
export function pushedChannels(cards, current = '') {
  const shown = new Set([current].flat().filter(Boolean))
  const channels = new Map()
  for (const card of cards) {
    if (card.watched === true || shown.has(card.login)) {
      channels.set((typeof card.channel === 'string' && card.channel) || card.login, card.login)
    }
  }
  return channels
}

/**
 * ``state`` after ``name`` (with ``data``) on the channel of ``login``: a go-live adds
 * its card (or updates it), going offline removes it, an update changes its title and
 * category; each only when newer than what last set that part for the channel.
 * @param {FollowsState} state
 * @param {string} login
 * @param {string} name
 * @param {unknown} data
 * @returns {FollowsState}
 */
export function applyFollowEvent(state, login, name, data) {
  if (name === 'stream.viewers') return applyFollowViewers(state, login, data)
  if (!['stream.online', 'stream.offline', 'channel.update'].includes(name)) return state
  if (!data || typeof data !== 'object') return state
  const instant = instantOf(data.occurred_at)
  const seen = state.known.get(login) || NOTHING
  const title = text(data.title)
  const category = text(data.category_name)
  const streamNews = name !== 'channel.update' && !older(instant, seen.stream)
  const channelNews = name !== 'stream.offline' && (title !== null || category !== null)
    && !older(instant, seen.channel)
  if (!streamNews && !channelNews) return state
  const next = {
    ...seen,
    ...(streamNews && { stream: later(seen.stream, instant) }),
    ...(channelNews && {
      channel: later(seen.channel, instant),
      ...(title !== null && { title }),
      ...(category !== null && { category }),
    }),
  }
  const known = new Map(state.known).set(login, next)
  const index = state.cards.findIndex((card) => card.login === login)
  let cards = state.cards
  if (name === 'stream.offline') cards = cards.filter((card) => card.login !== login)
  else if (index >= 0) {
    if (channelNews) {
      cards = cards.slice()
      cards[index] = withChannel(cards[index], next)
    }
  } else if (name === 'stream.online' && streamNews) {
    // A new stream: its viewer count is not known yet.
    const broadcaster = data.broadcaster && typeof data.broadcaster === 'object'
      ? data.broadcaster : {}
    cards = [...cards, withChannel({ login, display_name: text(broadcaster.name) || login,
                                     title: '', category: '', viewers: null, watched: true },
                                   next)]
  }
  return { cards, known }
}

/**
 * ``state`` after a ``stream.viewers`` event on the channel of ``login``: its card shows
 * the count when the event is newer than the card's stream and than the count shown, and
 * counts the same stream.
 * @param {FollowsState} state
 * @param {string} login
 * @param {unknown} data
 * @returns {FollowsState}
 */
function applyFollowViewers(state, login, data) {
  if (!data || typeof data !== 'object' || !Number.isSafeInteger(data.viewers)
      || data.viewers < 0) return state
  const instant = instantOf(data.occurred_at)
  const seen = state.known.get(login) || NOTHING
  const index = state.cards.findIndex((card) => card.login === login)
  if (index < 0 || instant === null || older(instant, seen.viewers) || older(instant, seen.stream)
      || !sameStream(state.cards[index].started_at, data.started_at)) return state
  const cards = state.cards.slice()
  cards[index] = { ...cards[index], viewers: data.viewers }
  const known = new Map(state.known).set(login, {
    ...seen, viewers: instant, count: data.viewers, countStartedAt: text(data.started_at),
  })
  return { cards, known }
}
