// "Live now from your follows", kept up to date by the events of followed channels.
//
// Like the status line (status.js), each channel's state has two parts, each changed
// only by an event newer than what set it: whether it is live (stream.online and
// stream.offline), and its title and category (channel.update, and a stream.online's).
// So a go-live whose channel.update Twitch stamped a moment later, and which arrived
// first, still brings the card back, with the update's title.
import { instantOf } from './time.js'

/**
 * @typedef {object} Follow a card: what /api/follows/live lists for a channel
 * @property {string} login
 * @property {string} [display_name]
 * @property {string} [title]
 * @property {string} [category]
 * @property {number | null} [viewers]
 * @property {boolean} [watched] the app already holds this channel's events (so they push)
 * @property {string} [status_as_of] RFC 3339: the server's time of what the card says
 * @typedef {object} Known what events (or the server's list) said of a channel, and as of when
 * @property {bigint | null} stream instant of the newest online or offline applied
 * @property {bigint | null} channel instant of the newest title and category applied
 * @property {string | null} title
 * @property {string | null} category
 * @typedef {object} FollowsState
 * @property {Follow[]} cards the live channels, as shown
 * @property {Map<string, Known>} known per login
 */

const NOTHING = { stream: null, channel: null, title: null, category: null }

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
    cards.push(newerTitle ? withChannel(card, seen) : card)
    if (asOf !== null) {
      known.set(card.login, newerTitle
        ? { ...seen, stream: later(seen.stream, asOf) }
        : { stream: later(seen.stream, asOf), channel: asOf, title: text(card.title),
            category: text(card.category) })
    }
  }
  return { cards, known }
}

/**
 * The Pusher channels whose events update the list, each with its card's login: those of
 * watched follows, and of ``current`` (the streamer this page watches) when it is listed.
 * @param {Follow[]} cards
 * @param {string} [current]
 * @returns {Map<string, string>} channel -> login
 */
export function pushedChannels(cards, current = '') {
  const channels = new Map()
  for (const card of cards) {
    if (card.watched === true || (current && card.login === current)) {
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
