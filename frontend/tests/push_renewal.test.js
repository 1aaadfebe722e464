// A subscription the browser renews (src/lib/pushRenewal.js, run by src/serviceWorker.js
// on pushsubscriptionchange) reaches the server in place of the old one.
import { expect, test } from 'vitest'

import { RENEWAL_URL, renewSubscription } from '../src/lib/pushRenewal.js'

const KEY = 'BA7HZpZY2eQ12ZUDgn6Kr1iW5vROd-CV97NhaXMqmiLxlmLJfgTck2GKzGOAulS0HkdYAavFkO7PlYbjWhiu5Yg'

function subscription(endpoint, applicationServerKey) {
  return { endpoint, options: { applicationServerKey }, toJSON: () => ({ endpoint, keys: { p256dh: 'p', auth: 'a' } }) }
}

function server({ alerts = { enabled: true, vapid_public_key: KEY }, renewal = 204 } = {}) {
  const calls = []
  const fetchFn = async (url, options = {}) => {
    calls.push({ url, method: options.method || 'GET', body: options.body && JSON.parse(options.body) })
    if (url === '/api/alerts') return { ok: alerts !== null, json: async () => alerts }
    return { ok: renewal < 300 }
  }
  return { calls, fetchFn }
}

function pushManager() {
  const asked = []
  return {
    asked,
    subscribe: async (options) => {
      asked.push(options)
      return subscription('https://push.example.net/renewed', options.applicationServerKey)
    },
  }
}

test('the browser\'s own new subscription is sent in place of the old endpoint', async () => {
  const { calls, fetchFn } = server()
  const manager = pushManager()
  const renewed = await renewSubscription({
    oldSubscription: subscription('https://push.example.net/old'),
    newSubscription: subscription('https://push.example.net/new'),
    pushManager: manager,
    fetchFn,
  })
  expect(renewed).toBe(true)
  expect(manager.asked).toStrictEqual([])
  expect(calls).toStrictEqual([{
    url: RENEWAL_URL,
    method: 'PUT',
    body: { subscription: { endpoint: 'https://push.example.net/new', keys: { p256dh: 'p', auth: 'a' } },
            replaces: 'https://push.example.net/old' },
  }])
})

test('without a new one, it subscribes again with the old key, else the server\'s', async () => {
  const oldKey = new Uint8Array([4, 1, 2])
  const first = pushManager()
  await renewSubscription({
    oldSubscription: subscription('https://push.example.net/old', oldKey), pushManager: first, fetchFn: server().fetchFn,
  })
  expect(first.asked).toStrictEqual([{ userVisibleOnly: true, applicationServerKey: oldKey }])
  const second = pushManager()
  const { calls, fetchFn } = server()
  expect(await renewSubscription({ oldSubscription: null, pushManager: second, fetchFn })).toBe(true)
  expect(second.asked[0].applicationServerKey).toBe(KEY)
  expect(calls.map((call) => call.url)).toStrictEqual(['/api/alerts', RENEWAL_URL])
  expect(calls[1].body.replaces).toBe(null)
})

test('signed out or alerts off: nothing is subscribed and it says so', async () => {
  for (const alerts of [null, { enabled: false }]) {
    const manager = pushManager()
    const renewed = await renewSubscription({ oldSubscription: null, pushManager: manager, fetchFn: server({ alerts }).fetchFn })
    expect(renewed).toBe(false)
    expect(manager.asked).toStrictEqual([])
  }
  const refused = await renewSubscription({
    newSubscription: subscription('https://push.example.net/new'), pushManager: pushManager(), fetchFn: server({ renewal: 401 }).fetchFn,
  })
  expect(refused).toBe(false)
})
