// This device's Web Push subscription: the browser's permission to show notifications,
// the service worker at /sw.js (scope /) that shows the alerts, and the push
// subscription the server sends them to. Only signUp asks the browser anything, and
// only a click calls it; the rest never asks.

export const SERVICE_WORKER_URL = '/sw.js'

/** Why this device cannot get alerts: an Error whose ``reason`` says which. */
export class PushError extends Error {
  constructor(reason, message) {
    super(message)
    this.name = 'PushError'
    this.reason = reason
  }
}

export const PUSH_MESSAGES = {
  unsupported: 'This browser cannot get alerts with its tabs closed. On an iPhone or iPad, '
    + 'add this site to your Home Screen and open it from there; elsewhere, use a current '
    + 'Chrome, Edge, Firefox or Safari.',
  denied: 'Your browser blocks notifications from this site. Allow them in its site settings '
    + '(the icon left of the address), then press the bell again.',
  dismissed: 'Alerts need your browser\'s permission to show notifications: press the bell '
    + 'again and allow them.',
  failed: 'Your browser could not sign up for alerts with its push service (a private window '
    + 'cannot). Please try again later.',
}

/** True when this browser has what Web Push needs (a secure page, service workers, push). */
export function pushSupported() {
  return typeof window !== 'undefined' && window.isSecureContext === true
    && typeof navigator !== 'undefined' && 'serviceWorker' in navigator
    && typeof PushManager !== 'undefined' && typeof Notification !== 'undefined'
}

/** The bytes of a base64url string (the server's VAPID public key). */
export function base64UrlBytes(text) {
  const base64 = text.replace(/-/g, '+').replace(/_/g, '/')
  const binary = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4))
  return Uint8Array.from(binary, (char) => char.charCodeAt(0))
}

function sameBytes(buffer, bytes) {
  if (!buffer) return false
  const other = new Uint8Array(buffer)
  return other.length === bytes.length && other.every((byte, index) => byte === bytes[index])
}

/** The browser's permission, asked for when not yet given (from a click only). */
async function permission() {
  if (Notification.permission !== 'default') return Notification.permission
  try {
    return await Notification.requestPermission()
  } catch {
    return Notification.permission
  }
}

/**
 * Sign this device up for alerts: permission (asked for the first time only), the
 * service worker, and a push subscription for the server's ``vapidPublicKey`` (the one
 * there is when it is for that key). Its toJSON(), for the server. Throws a PushError.
 */
export async function signUp(vapidPublicKey) {
  if (!pushSupported()) throw new PushError('unsupported', PUSH_MESSAGES.unsupported)
  const answer = await permission()
  if (answer === 'denied') throw new PushError('denied', PUSH_MESSAGES.denied)
  if (answer !== 'granted') throw new PushError('dismissed', PUSH_MESSAGES.dismissed)
  try {
    await navigator.serviceWorker.register(SERVICE_WORKER_URL, { scope: '/' })
    const registration = await navigator.serviceWorker.ready
    const key = base64UrlBytes(vapidPublicKey)
    let subscription = await registration.pushManager.getSubscription()
    if (subscription && !sameBytes(subscription.options?.applicationServerKey, key)) {
      // Made for another key (the server's keys changed): the server cannot use it.
      await subscription.unsubscribe()
      subscription = null
    }
    subscription ||= await registration.pushManager.subscribe({
      userVisibleOnly: true, applicationServerKey: key,
    })
    return subscription.toJSON()
  } catch (err) {
    throw new PushError('failed', err?.message
      ? `${PUSH_MESSAGES.failed} (${err.message})` : PUSH_MESSAGES.failed)
  }
}

/** This device's push subscription, if it has one; asks nothing. */
export async function currentSubscription() {
  if (!pushSupported()) return null
  try {
    const registration = await navigator.serviceWorker.getRegistration('/')
    return (await registration?.pushManager.getSubscription()) || null
  } catch {
    return null
  }
}

/** End this device's push subscription: its endpoint, or '' when it had none. */
export async function signOff() {
  const subscription = await currentSubscription()
  if (!subscription) return ''
  const { endpoint } = subscription
  try {
    await subscription.unsubscribe()
  } catch {
    // The browser keeps it; the server forgets it all the same.
  }
  return endpoint
}
