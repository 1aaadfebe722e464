// Raids: where a raid on the watched channel leads, and when the page follows it by itself.

const LOGIN = /^[A-Za-z0-9_]{1,25}$/

/**
 * The raided channel of a raid's feed item, ``{ login, name }``, or null for any other item
 * (or a raid whose target is not a Twitch login).
 * @param {import('./events.js').FeedItem | null} item
 * @returns {{ login: string, name: string } | null}
 */
export function raidTarget(item) {
  if (item?.type !== 'channel.raid') return null
  const to = item.data?.to
  const login = typeof to?.login === 'string' ? to.login.toLowerCase() : ''
  if (!LOGIN.test(login)) return null
  const name = typeof to.name === 'string' && to.name.trim() ? to.name : login
  return { login, name }
}

/**
 * The channel the page moves on to by itself when ``item`` arrives live: the raided one,
 * when the viewer follows raids and the raid is the watched streamer's own; else null.
 * @param {import('./events.js').FeedItem | null} item
 * @param {string} watching the login of the streamer on the page
 * @param {boolean} followRaids the viewer's "Follow raids automatically"
 */
export function raidToFollow(item, watching, followRaids) {
  const target = followRaids && watching ? raidTarget(item) : null
  if (!target || item.data?.broadcaster?.login !== watching || target.login === watching) {
    return null
  }
  return target
}
