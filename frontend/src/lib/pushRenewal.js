// A push subscription the browser renewed on its own (the service worker's
// pushsubscriptionchange, as when a push service rotates its endpoints): the device
// subscribes again when the browser did not, and tells the server which endpoint the new
// subscription replaces, so alerts keep reaching it with every tab closed. Run by the
// service worker alone, it imports nothing (an entry of its own, vite.config.js).
export const RENEWAL_URL = '/api/push-subscription'

/** The server's VAPID public key (base64url, which subscribe takes as it is), or null when alerts are off or the viewer is signed out. */
async function serverKey(fetchFn) {
  const answer = await fetchFn('/api/alerts', { credentials: 'same-origin' })
  if (!answer.ok) return null
  const { enabled, vapid_public_key: key } = await answer.json()
  return enabled && key ? key : null
}

/**
 * Keep this device signed up after ``pushsubscriptionchange``: the event's new subscription,
 * else a new one for the old one's key (else the server's); then PUT it to the server in
 * place of the old endpoint. True once the server has it.
 */
export async function renewSubscription({ oldSubscription, newSubscription, pushManager, fetchFn }) {
  let renewed = newSubscription
  if (!renewed) {
    const applicationServerKey = oldSubscription?.options?.applicationServerKey
      || await serverKey(fetchFn)
    if (!applicationServerKey) return false
    renewed = await pushManager.subscribe({ userVisibleOnly: true, applicationServerKey })
  }
  const answer = await fetchFn(RENEWAL_URL, {
    method: 'PUT',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ subscription: renewed.toJSON(), replaces: oldSubscription?.endpoint || null }),
  })
  return answer.ok
}
