// What the service worker (src/serviceWorker.js) shows for a push, and which window a
// click on it goes to: pure functions of the push's payload, tested under Node.
//
// The payload (JSON, as the worker sends it): { type: "stream.online", login, name,
// title, category, stream_id, url: "/watch/<login>", tag: "live-<login>" }. Notifications
// are text: the title and body are Twitch's words as they are, never markup.

export const APP_NAME = 'Streamer Event Viewer'
export const ICON = '/icons/icon-192.png'
const LOGIN = /^[a-z0-9_]{1,25}$/i

function text(value) {
  return typeof value === 'string' ? value.trim() : ''
}

/** The payload of a push's data (its JSON), or null when it is not an object. */
export function payloadFrom(readJson) {
  try {
    const value = readJson()
    return value && typeof value === 'object' ? value : null
  } catch {
    return null
  }
}

/** Where a click goes: the payload's own path on this site, else the streamer's page. */
export function watchUrl(payload) {
  const url = text(payload?.url)
  if (url.startsWith('/') && !url.startsWith('//') && !url.startsWith('/\\')) return url
  const login = text(payload?.login)
  return LOGIN.test(login) ? `/watch/${login}` : '/watch'
}

/**
 * ``{ title, options }`` for ``registration.showNotification`` from a push's payload:
 * "<name> is live", "<title> · <category>", the app's icon, the payload's tag (so a
 * second device's or a repeated push replaces rather than stacks) and the url to open.
 * A payload it cannot read still shows one (a push must show a notification).
 */
export function notificationFrom(payload) {
  const login = text(payload?.login)
  const name = text(payload?.name) || login
  if (payload?.type !== 'stream.online' || !name) {
    return { title: APP_NAME, options: { body: 'A streamer you have alerts for went live.',
                                         icon: ICON, data: { url: '/watch' } } }
  }
  const body = [text(payload.title), text(payload.category)].filter(Boolean).join(' · ')
  return {
    title: `${name} is live`,
    options: {
      body: body || 'Live now on Twitch',
      icon: ICON,
      tag: text(payload.tag) || `live-${login || name}`,
      data: { url: watchUrl(payload) },
    },
  }
}

/**
 * The open window to focus for ``url`` (a path of ``origin``): one showing that page
 * (the focused one first), or null when none does and a new one must open.
 * @param {{ url: string, focused?: boolean }[]} windows
 */
export function windowFor(windows, url, origin) {
  const wanted = new URL(url, origin)
  const showing = windows.filter((client) => {
    const at = new URL(client.url)
    return at.origin === wanted.origin && at.pathname === wanted.pathname
  })
  return showing.find((client) => client.focused) || showing[0] || null
}
