// The set of streams the page plays side by side: its path, and how it changes.
import { parseStreamer } from './streamer.js'

/** How many streams play at once (web/viewer/watching.py MAX_STREAMS). */
export const MAX_STREAMS = 4
export const TOO_MANY = `at most ${MAX_STREAMS} streams play at once; remove one first`

/**
 * The names in a ``/watch/<a>,<b>`` path, as written (decoded, not checked); [] for
 * ``/watch`` or any other path.
 * @param {string} path
 * @returns {string[]}
 */
export function namesFromPath(path) {
  const match = /^\/watch\/([^/]+)\/?$/.exec(path)
  if (!match) return []
  try {
    return decodeURIComponent(match[1]).split(',')
  } catch {
    return []
  }
}

/**
 * The page's path for ``logins``: ``/watch/a,b``, or ``/watch`` for none.
 * @param {string[]} logins
 * @returns {string}
 */
export function watchPath(logins) {
  return logins.length ? `/watch/${logins.map(encodeURIComponent).join(',')}` : '/watch'
}

/**
 * The logins named by ``names`` (each read as the streamer box reads it), each once, in
 * order: ``{ logins }``, or ``{ error }``: the streamer box's reason for a single name,
 * the first bad one's name and reason in a list, or that there are more than MAX_STREAMS.
 * @param {unknown[]} names
 * @returns {{ logins: string[] } | { error: string }}
 */
export function parseStreamers(names) {
  const logins = []
  for (const name of names) {
    const asked = parseStreamer(name)
    if (asked.error && names.length === 1) return asked
    if (asked.error) return { error: `${String(name ?? '').trim() || 'an empty name'}: ${asked.error}` }
    if (!logins.includes(asked.login)) logins.push(asked.login)
  }
  if (logins.length > MAX_STREAMS) return { error: TOO_MANY }
  return { logins }
}

/**
 * ``logins`` with ``login`` added at the end (unchanged when it is there already), or
 * ``{ error }`` when the set is full.
 * @param {string[]} logins
 * @param {string} login
 * @returns {string[] | { error: string }}
 */
export function withStream(logins, login) {
  if (logins.includes(login)) return logins
  if (logins.length >= MAX_STREAMS) return { error: TOO_MANY }
  return [...logins, login]
}

/** ``logins`` without ``login``. */
export function withoutStream(logins, login) {
  return logins.filter((each) => each !== login)
}

/**
 * ``logins`` with ``to`` in ``from``'s place (a raid followed): when ``to`` plays already,
 * ``from`` just leaves; when ``from`` is not there, nothing changes.
 * @param {string[]} logins
 * @param {string} from
 * @param {string} to
 * @returns {string[]}
 */
export function withStreamReplaced(logins, from, to) {
  if (!logins.includes(from) || from === to) return logins
  if (logins.includes(to)) return withoutStream(logins, from)
  return logins.map((each) => (each === from ? to : each))
}

/**
 * The feed items of the stream ``login``, or all of them when ``login`` is ''.
 * @param {{ streamer?: string }[]} items
 * @param {string} login
 */
export function eventsOf(items, login) {
  return login ? items.filter((item) => item.streamer === login) : items
}
