// "Live now from your follows", kept up to date by the events of followed channels.
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
 * @typedef {object} FollowsState
 * @property {Follow[]} cards the live channels, as shown
 * @property {Map<string, bigint>} newest per login, the instant of the newest event applied
 */

/**
 * The state for a fresh list from the server. Events already applied stay known,
 * so that one of them arriving again, or an older one, changes nothing.
 * @param {Follow[]} list
 * @param {FollowsState} [previous]
 * @returns {FollowsState}
 */
export function followsFrom(list, previous) {
  const cards = (Array.isArray(list) ? list : [])
    .filter((card) => card && typeof card.login === 'string' && card.login)
  const newest = new Map(previous?.newest || [])
  for (const card of cards) {
    // What the server knew as of then: an event older than that tells nothing new.
    const asOf = instantOf(card.status_as_of)
    const seen = newest.get(card.login)
    if (asOf !== null && (seen === undefined || asOf > seen)) newest.set(card.login, asOf)
  }
  return { cards, newest }
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

function text(value) {
  return typeof value === 'string' ? value : null
}

/**
 * ``state`` after ``name`` (with ``data``) on the channel of ``login``: a go-live adds
 * its card (or updates it), going offline removes it, an update changes its title and
 * category. An event older than the newest applied for that channel changes nothing.
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
  const seen = state.newest.get(login)
  if (instant !== null && seen !== undefined && instant < seen) return state
  const newest = instant === null || (seen !== undefined && seen > instant)
    ? state.newest : new Map(state.newest).set(login, instant)
  const index = state.cards.findIndex((card) => card.login === login)
  const title = text(data.title)
  const category = text(data.category_name)
  const changes = { ...(title !== null && { title }), ...(category !== null && { category }) }
  if (name === 'stream.offline') {
    return { cards: state.cards.filter((card) => card.login !== login), newest }
  }
  if (name === 'channel.update') {
    if (index < 0) return { cards: state.cards, newest }
    const cards = state.cards.slice()
    cards[index] = { ...cards[index], ...changes }
    return { cards, newest }
  }
  // stream.online: a new stream; its viewer count is not known yet.
  const broadcaster = data.broadcaster && typeof data.broadcaster === 'object' ? data.broadcaster : {}
  if (index >= 0) {
    const cards = state.cards.slice()
    cards[index] = { ...cards[index], ...changes }
    return { cards, newest }
  }
  const card = {
    login, display_name: text(broadcaster.name) || login, title: title || '',
    category: category || '', viewers: null, watched: true,
  }
  return { cards: [...state.cards, card], newest }
}
