// The service worker, served at /sw.js with scope / (web/viewer/app_shell.py): it shows a
// go-live alert the server pushes (lib/pushNotification.js says what) and, on a click,
// focuses a window already showing the streamer's page or opens one; a subscription the
// browser renews is sent to the server (lib/pushRenewal.js). It handles no
// fetch: the pages load from the network as without it. Built as a classic script that
// imports nothing at run time (vite.config.js).
import { notificationFrom, payloadFrom, windowFor } from './lib/pushNotification.js'
import { renewSubscription } from './lib/pushRenewal.js'

// A new version takes over at once: there is no cache whose versions could disagree.
self.addEventListener('install', () => self.skipWaiting())
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()))

self.addEventListener('push', (event) => {
  const { title, options } = notificationFrom(payloadFrom(() => event.data?.json()))
  event.waitUntil(self.registration.showNotification(title, options))
})

async function openOrFocus(url) {
  const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true })
  const open = windowFor(windows, url, self.location.origin)
  if (open) return open.focus()
  return self.clients.openWindow(url)
}

self.addEventListener('notificationclick', (event) => {
  event.notification.close()
  event.waitUntil(openOrFocus(event.notification.data?.url || '/watch'))
})

self.addEventListener('pushsubscriptionchange', (event) => {
  event.waitUntil(renewSubscription({
    oldSubscription: event.oldSubscription,
    newSubscription: event.newSubscription,
    pushManager: self.registration.pushManager,
    fetchFn: (url, options) => self.fetch(url, options),
  }))
})
