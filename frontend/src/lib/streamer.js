// What a viewer types or pastes into the streamer box, read as a Twitch login.

/** The rule /api/watch enforces, in its words. */
export const NAME_RULE = 'a Twitch name is 4 to 25 letters, digits or underscores'
export const NOT_A_CHANNEL = 'that link is not a Twitch channel; paste one like '
  + 'https://www.twitch.tv/name, or type the name'

const LOGIN = /^[A-Za-z0-9_]{4,25}$/
const SCHEME = /^[a-z][a-z0-9+.-]*:/i
const TWITCH_LINK = /^(?:(?:www|m)\.)?twitch\.tv(?:[/?#]|$)/i
const TWITCH_HOSTS = new Set(['twitch.tv', 'www.twitch.tv', 'm.twitch.tv'])
// First path segments of twitch.tv pages that are not channels.
const NOT_CHANNELS = new Set([
  'directory', 'downloads', 'drops', 'friends', 'inventory', 'jobs', 'login', 'logout',
  'messages', 'payments', 'prime', 'search', 'settings', 'signup', 'store', 'subscriptions',
  'turbo', 'videos', 'wallet',
])

function channelOfLink(text) {
  let url
  try {
    url = new URL(SCHEME.test(text) ? text : `https://${text}`)
  } catch {
    return null
  }
  if (!['http:', 'https:'].includes(url.protocol) || !TWITCH_HOSTS.has(url.hostname.toLowerCase())) {
    return null
  }
  const first = url.pathname.split('/').filter(Boolean)[0] || ''
  let segment
  try {
    segment = decodeURIComponent(first)
  } catch {
    return null
  }
  return segment && !NOT_CHANNELS.has(segment.toLowerCase()) ? segment : null
}

/**
 * The login named by ``input``: a name (``speedy_sam``), ``@Speedy_Sam``, or a channel
 * link (``https://www.twitch.tv/speedy_sam``, ``twitch.tv/speedy_sam?x=1#y``), with any
 * surrounding spaces. ``{ login }`` (lower case) when it is a valid Twitch name,
 * else ``{ error }`` saying why not.
 * @param {unknown} input
 * @returns {{ login: string } | { error: string }}
 */
export function parseStreamer(input) {
  let text = typeof input === 'string' ? input.trim() : ''
  if (SCHEME.test(text) || TWITCH_LINK.test(text)) {
    const channel = channelOfLink(text)
    if (channel === null) return { error: NOT_A_CHANNEL }
    text = channel
  } else if (text.startsWith('@')) {
    text = text.slice(1).trim()
  }
  return LOGIN.test(text) ? { login: text.toLowerCase() } : { error: NAME_RULE }
}
