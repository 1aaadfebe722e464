// The app's JSON API: same-origin requests that carry the session cookie.

export class ApiError extends Error {
  constructor(status, message) {
    super(message)
    this.name = 'ApiError'
    this.status = status
  }
}

function messageFor(status, body) {
  if (body && typeof body.error === 'string' && body.error) return body.error
  if (status === 401) return 'Your session has ended. Please log in again.'
  if (status === 429) return 'Too many requests. Please wait a moment and try again.'
  return `The server answered ${status}. Please try again.`
}

async function send(path, options = {}) {
  let response
  try {
    response = await fetch(path, {
      ...options,
      credentials: 'same-origin',
      headers: { Accept: 'application/json', ...options.headers },
    })
  } catch {
    throw new ApiError(0, 'The server cannot be reached. Check your connection and try again.')
  }
  let body
  try {
    body = await response.json()
  } catch {
    body = null
  }
  if (!response.ok) throw new ApiError(response.status, messageFor(response.status, body))
  return { body, response }
}

async function request(path, options = {}) {
  return (await send(path, options)).body
}

/** The server's time from a response's Date header (to the second), or null. */
function servedAt(response) {
  const date = new Date(response.headers.get('Date') || '')
  return Number.isNaN(date.getTime()) ? null : date
}

/**
 * Start watching a streamer: their profile, status (as of ``status_as_of``, when the
 * server says), recent events and Pusher settings, with ``servedAt``, the server's time
 * of the answer from its Date header (a Date or null), added.
 */
export async function watchStreamer(name) {
  const { body, response } = await send('/api/watch', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ streamer: name }),
  })
  return { ...body, servedAt: servedAt(response) }
}

/**
 * Start watching several streamers at once (up to four): ``{ streams, pusher, servedAt }``,
 * one answer per distinct name in order, each what watchStreamer answers plus ``status``
 * 200, or ``{ streamer_input, status, error }`` for a name the server refused.
 */
export async function watchStreamers(names) {
  const { body, response } = await send('/api/watch', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ streamers: names }),
  })
  return { streams: Array.isArray(body?.streams) ? body.streams : [], pusher: body?.pusher,
           servedAt: servedAt(response) }
}

/**
 * The channels the logged-in viewer follows that are live now; with ``refresh``, asked
 * of Twitch now rather than from the server's short cache (the Refresh button).
 * Each may say ``watched``: the app holds its events, so they can update the list.
 */
export async function liveFollows({ refresh = false } = {}) {
  const body = await request(refresh ? '/api/follows/live?refresh=1' : '/api/follows/live')
  return Array.isArray(body?.data) ? body.data : []
}

/** The viewer's preferences, kept on the server for their account: ``{ follow_raids }``. */
export async function loadPreferences() {
  const body = await request('/api/preferences')
  return { follow_raids: body?.follow_raids === true }
}

/** Change some of the viewer's preferences; all of them as the server now keeps them. */
export async function savePreferences(changes) {
  const body = await request('/api/preferences', {
    method: 'PUT',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(changes),
  })
  return { follow_raids: body?.follow_raids === true }
}

/**
 * The viewer's go-live alerts, as the server answers for them (GET, PUT and DELETE of
 * /api/alerts...): ``{ enabled, vapidPublicKey, limit, alerts: [{ login, name }] }``.
 * ``enabled`` is false when the server sends no Web Push (then no bell is shown).
 */
export function alertsFrom(body) {
  const enabled = body?.enabled === true
  const alerts = enabled && Array.isArray(body.alerts) ? body.alerts : []
  return {
    enabled,
    vapidPublicKey: enabled && typeof body.vapid_public_key === 'string' ? body.vapid_public_key : '',
    limit: enabled && Number.isSafeInteger(body.limit) && body.limit > 0 ? body.limit : null,
    alerts: alerts
      .filter((alert) => alert && typeof alert.login === 'string' && alert.login)
      .map((alert) => ({ login: alert.login,
                         name: typeof alert.name === 'string' && alert.name ? alert.name : alert.login })),
  }
}

/** The viewer's go-live alerts (see alertsFrom). */
export async function loadAlerts() {
  return alertsFrom(await request('/api/alerts'))
}

/**
 * Alert the viewer when ``login`` goes live, on the device of ``subscription`` (a
 * PushSubscription's toJSON()) and every other device of theirs already signed up:
 * all their alerts (see alertsFrom). At the cap the server refuses (409) and says why.
 */
export async function addAlert(login, subscription) {
  return alertsFrom(await request(`/api/alerts/${encodeURIComponent(login)}`, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ subscription }),
  }))
}

/** No more alerts when ``login`` goes live, on any device: the alerts left (see alertsFrom). */
export async function removeAlert(login) {
  return alertsFrom(await request(`/api/alerts/${encodeURIComponent(login)}`, { method: 'DELETE' }))
}

/** This device (its push subscription's ``endpoint``) gets no more alerts. */
export async function forgetPushSubscription(endpoint) {
  await request('/api/push-subscription', {
    method: 'DELETE',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ endpoint }),
  })
}
