// The go-live alerts' bells (src/lib/alerts.js, lib/push.js, the API calls in lib/api.js):
// what a bell shows, that only a press asks the browser, how this device signs up for push
// and off again, and what the viewer is told when it cannot. fetch, the service worker
// container, PushManager and Notification are stand-ins.
import { afterEach, beforeEach, expect, test, vi } from 'vitest'

import { createAlerts } from '../src/lib/alerts.js'
import { addAlert, alertsFrom, forgetPushSubscription, loadAlerts, removeAlert } from '../src/lib/api.js'
import { base64UrlBytes, PUSH_MESSAGES } from '../src/lib/push.js'

// A P-256 public key as the server gives it (65 bytes, base64url).
const VAPID_KEY = 'BNbxGYNMhEIi9zrneh7mqV4oUanjLUK3m-mYZBc62frMKrEoMk88r3Lk596T0ck9xlT-b8C2SZp5OrNs4lYD5jk'
const SUBSCRIPTION = {
  endpoint: 'http://127.0.0.1:9/push/device-1',
  expirationTime: null,
  keys: { p256dh: 'device-public-key', auth: 'device-auth-secret' },
}
const COOL = { login: 'cool_user', name: 'Cool_User' }
const SAM = { login: 'speedy_sam', name: 'SpeedySam' }

function body(alerts, extra = {}) {
  return { enabled: true, vapid_public_key: VAPID_KEY, limit: 50, alerts, ...extra }
}

/** fetch answering each request with the next of ``answers`` ([status, body]); calls kept. */
function serve(...answers) {
  const calls = []
  const fetch = vi.fn(async (path, options = {}) => {
    calls.push({ path, method: options.method || 'GET', options,
                 json: options.body ? JSON.parse(options.body) : undefined })
    const [status, answer] = answers.shift() || [500, { error: 'no answer left' }]
    return {
      ok: status >= 200 && status < 300,
      status,
      headers: new Headers(),
      json: async () => {
        if (answer === undefined) throw new SyntaxError('no body')
        return answer
      },
    }
  })
  vi.stubGlobal('fetch', fetch)
  return calls
}

/** A browser with Web Push: its permission, service worker and push subscription stand-ins. */
function browser({ permission = 'default', answer = 'granted', secure = true } = {}) {
  const subscription = (json, key) => {
    const made = {
      endpoint: json.endpoint,
      options: { applicationServerKey: key.buffer },
      toJSON: () => json,
      unsubscribe: vi.fn(async () => {
        if (pushManager.current === made) pushManager.current = null
        return true
      }),
    }
    return made
  }
  const pushManager = {
    current: null,
    getSubscription: vi.fn(async () => pushManager.current),
    subscribe: vi.fn(async (options) => {
      pushManager.current = subscription(SUBSCRIPTION, options.applicationServerKey)
      return pushManager.current
    }),
  }
  const registration = { pushManager }
  const notification = {
    permission,
    requestPermission: vi.fn(async () => {
      notification.permission = answer
      return answer
    }),
  }
  const serviceWorker = {
    register: vi.fn(async () => registration),
    ready: Promise.resolve(registration),
    // Registered once a press registered it, or when a subscription was left from before.
    getRegistration: vi.fn(async () => (serviceWorker.register.mock.calls.length
      || pushManager.current ? registration : undefined)),
  }
  vi.stubGlobal('window', { isSecureContext: secure })
  vi.stubGlobal('navigator', { serviceWorker })
  vi.stubGlobal('PushManager', function PushManager() {})
  vi.stubGlobal('Notification', notification)
  return { notification, serviceWorker, pushManager, subscription }
}

beforeEach(() => {
  vi.unstubAllGlobals()
})

afterEach(() => {
  vi.unstubAllGlobals()
})

test('the server\'s answer is read strictly: off means no bells and no key', () => {
  expect(alertsFrom({ enabled: false, alerts: [COOL] }))
    .toStrictEqual({ enabled: false, vapidPublicKey: '', limit: null, alerts: [] })
  expect(alertsFrom(null).enabled).toBe(false)
  expect(alertsFrom(body([COOL, { login: 'night_owl' }, { login: '' }, null, { name: 'x' }])))
    .toStrictEqual({ enabled: true, vapidPublicKey: VAPID_KEY, limit: 50,
                     alerts: [COOL, { login: 'night_owl', name: 'night_owl' }] })
  expect(alertsFrom(body([], { limit: -1 })).limit).toBe(null)
})

test('the API calls: same-origin JSON to /api/alerts and /api/push-subscription', async () => {
  const calls = serve([200, body([COOL])], [200, body([COOL, SAM])], [200, body([SAM])],
                      [204, undefined])
  expect((await loadAlerts()).alerts).toStrictEqual([COOL])
  expect((await addAlert('speedy_sam', SUBSCRIPTION)).alerts).toStrictEqual([COOL, SAM])
  expect((await removeAlert('cool_user')).alerts).toStrictEqual([SAM])
  await forgetPushSubscription(SUBSCRIPTION.endpoint)
  expect(calls.map(({ path, method, json }) => [method, path, json])).toStrictEqual([
    ['GET', '/api/alerts', undefined],
    ['PUT', '/api/alerts/speedy_sam', { subscription: SUBSCRIPTION }],
    ['DELETE', '/api/alerts/cool_user', undefined],
    ['DELETE', '/api/push-subscription', { endpoint: SUBSCRIPTION.endpoint }],
  ])
  for (const { options } of calls) expect(options.credentials).toBe('same-origin')
  expect(calls[1].options.headers['Content-Type']).toBe('application/json')
})

test('the bells stay hidden when the server sends no alerts or has no alerts API', async () => {
  for (const answer of [[200, { enabled: false, alerts: [] }], [404, { error: 'Not found' }],
                        [500, undefined]]) {
    serve(answer)
    const alerts = createAlerts()
    await alerts.load()
    expect(alerts.enabled.value, JSON.stringify(answer)).toBe(false)
  }
})

test('loading asks the browser nothing; the bells show what the server keeps', async () => {
  const { notification, serviceWorker, pushManager, subscription } = browser({ permission: 'granted' })
  pushManager.current = subscription(SUBSCRIPTION, base64UrlBytes(VAPID_KEY))
  serve([200, body([COOL])])
  const alerts = createAlerts()
  await alerts.load()
  expect(alerts.enabled.value).toBe(true)
  expect(alerts.device.value).toBe(true)
  expect(alerts.isOn('cool_user')).toBe(true)
  expect(alerts.isOn('speedy_sam')).toBe(false)
  expect(notification.requestPermission).not.toHaveBeenCalled()
  expect(serviceWorker.register).not.toHaveBeenCalled()
})

test('on a device not signed up a listed streamer\'s bell offers to alert here too', async () => {
  const { notification } = browser()
  const calls = serve([200, body([COOL])], [200, body([COOL])])
  const alerts = createAlerts()
  await alerts.load()
  expect(alerts.device.value).toBe(false)
  expect(alerts.listed('cool_user')).toBe(true)
  expect(alerts.isOn('cool_user')).toBe(false)
  expect(notification.requestPermission).not.toHaveBeenCalled()
  await alerts.press('cool_user', 'status')
  expect(alerts.isOn('cool_user')).toBe(true)
  expect(calls[1]).toMatchObject({ method: 'PUT', path: '/api/alerts/cool_user' })
})

test('Remove on the alerts\' page removes even where this device is not signed up', async () => {
  browser()
  const calls = serve([200, body([COOL, SAM])], [200, body([SAM])])
  const alerts = createAlerts()
  await alerts.load()
  await alerts.press('cool_user', 'list', alerts.turnOff)
  expect(alerts.listed('cool_user')).toBe(false)
  expect(calls[1]).toMatchObject({ method: 'DELETE', path: '/api/alerts/cool_user' })
})

test('the first press asks permission, registers the worker, subscribes, then PUTs', async () => {
  const { notification, serviceWorker, pushManager } = browser()
  const calls = serve([200, body([])], [200, body([SAM])])
  const alerts = createAlerts()
  await alerts.load()
  const pressed = alerts.press('speedy_sam', 'follows')
  expect(alerts.isPending('speedy_sam')).toBe(true)
  await pressed
  expect(alerts.problem.value).toBe(null)
  expect(alerts.isPending('speedy_sam')).toBe(false)
  expect(alerts.isOn('speedy_sam')).toBe(true)
  expect(notification.requestPermission).toHaveBeenCalledTimes(1)
  expect(serviceWorker.register).toHaveBeenCalledWith('/sw.js', { scope: '/' })
  expect(pushManager.subscribe).toHaveBeenCalledTimes(1)
  const [options] = pushManager.subscribe.mock.calls[0]
  expect(options.userVisibleOnly).toBe(true)
  expect(Array.from(options.applicationServerKey)).toStrictEqual(Array.from(base64UrlBytes(VAPID_KEY)))
  expect(options.applicationServerKey).toHaveLength(65)
  expect(calls[1]).toMatchObject({ method: 'PUT', path: '/api/alerts/speedy_sam',
                                   json: { subscription: SUBSCRIPTION } })
})

test('a later press reuses the permission and the subscription made for the same key', async () => {
  const { notification, pushManager, subscription } = browser({ permission: 'granted' })
  pushManager.current = subscription(SUBSCRIPTION, base64UrlBytes(VAPID_KEY))
  const calls = serve([200, body([COOL])], [200, body([COOL, SAM])])
  const alerts = createAlerts()
  await alerts.load()
  await alerts.press('speedy_sam', 'status')
  expect(alerts.isOn('speedy_sam')).toBe(true)
  expect(notification.requestPermission).not.toHaveBeenCalled()
  expect(pushManager.subscribe).not.toHaveBeenCalled()
  expect(calls[1].json).toStrictEqual({ subscription: SUBSCRIPTION })
})

test('a subscription made for another key is replaced', async () => {
  const { pushManager, subscription } = browser({ permission: 'granted' })
  const old = subscription({ ...SUBSCRIPTION, endpoint: 'http://127.0.0.1:9/push/old' },
                           new Uint8Array(65).fill(4))
  pushManager.current = old
  serve([200, body([])], [200, body([SAM])])
  const alerts = createAlerts()
  await alerts.load()
  await alerts.press('speedy_sam', 'status')
  expect(old.unsubscribe).toHaveBeenCalledTimes(1)
  expect(pushManager.subscribe).toHaveBeenCalledTimes(1)
})

test('a blocked permission says how to allow it, and nothing reaches the server', async () => {
  for (const [permission, answer, message] of [['denied', 'denied', PUSH_MESSAGES.denied],
                                               ['default', 'denied', PUSH_MESSAGES.denied],
                                               ['default', 'default', PUSH_MESSAGES.dismissed]]) {
    const { notification, pushManager } = browser({ permission, answer })
    const calls = serve([200, body([])])
    const alerts = createAlerts()
    await alerts.load()
    await alerts.press('cool_user', 'status')
    expect(alerts.problemAt('status', 'cool_user')).toBe(message)
    expect(alerts.problemAt('follows', 'cool_user')).toBe('')
    expect(notification.requestPermission).toHaveBeenCalledTimes(permission === 'default' ? 1 : 0)
    expect(pushManager.subscribe).not.toHaveBeenCalled()
    expect(calls).toHaveLength(1)
    expect(alerts.isOn('cool_user')).toBe(false)
  }
  expect(PUSH_MESSAGES.denied).toMatch(/Allow them in its site settings/)
})

test('a browser without Web Push is told so', async () => {
  for (const setup of [() => browser({ secure: false }),
                       () => { browser(); vi.stubGlobal('PushManager', undefined) },
                       () => { browser(); vi.stubGlobal('navigator', {}) }]) {
    setup()
    serve([200, body([])])
    const alerts = createAlerts()
    await alerts.load()
    await alerts.press('cool_user', 'status')
    expect(alerts.problemAt('status', 'cool_user')).toBe(PUSH_MESSAGES.unsupported)
  }
})

test('at the cap the server\'s own words are shown, and the bell stays off', async () => {
  browser({ permission: 'granted' })
  const cap = 'You have alerts for 50 streamers, the most there can be: remove one first.'
  serve([200, body([COOL])], [409, { error: cap }])
  const alerts = createAlerts()
  await alerts.load()
  await alerts.press('speedy_sam', 'follows')
  expect(alerts.problemAt('follows', 'speedy_sam')).toBe(cap)
  expect(alerts.isOn('speedy_sam')).toBe(false)
  expect(alerts.state.value.alerts).toStrictEqual([COOL])
})

test('a push service that cannot be reached is said, with the browser\'s reason', async () => {
  const { pushManager } = browser({ permission: 'granted' })
  pushManager.subscribe.mockRejectedValue(new Error('Registration failed - push service error'))
  serve([200, body([])])
  const alerts = createAlerts()
  await alerts.load()
  await alerts.press('cool_user', 'status')
  expect(alerts.problemAt('status', 'cool_user'))
    .toBe(`${PUSH_MESSAGES.failed} (Registration failed - push service error)`)
})

test('an ended session goes to the login instead of showing an error', async () => {
  browser({ permission: 'granted' })
  serve([200, body([])], [401, { error: 'Log in again' }])
  const ended = vi.fn()
  const alerts = createAlerts({ onSessionEnded: ended })
  await alerts.load()
  await alerts.press('cool_user', 'status')
  expect(ended).toHaveBeenCalledTimes(1)
  expect(alerts.problem.value).toBe(null)
})

test('turning one alert off keeps this device; turning the last off signs it off', async () => {
  const { pushManager, subscription } = browser({ permission: 'granted' })
  const mine = subscription(SUBSCRIPTION, base64UrlBytes(VAPID_KEY))
  pushManager.current = mine
  const calls = serve([200, body([COOL, SAM])], [200, body([SAM])], [200, body([])],
                      [204, undefined])
  const alerts = createAlerts()
  await alerts.load()
  await alerts.press('cool_user', 'status')
  expect(alerts.isOn('cool_user')).toBe(false)
  expect(mine.unsubscribe).not.toHaveBeenCalled()
  await alerts.press('speedy_sam', 'list')
  expect(alerts.problem.value).toBe(null)
  expect(mine.unsubscribe).toHaveBeenCalledTimes(1)
  expect(calls.map(({ method, path, json }) => [method, path, json])).toStrictEqual([
    ['GET', '/api/alerts', undefined],
    ['DELETE', '/api/alerts/cool_user', undefined],
    ['DELETE', '/api/alerts/speedy_sam', undefined],
    ['DELETE', '/api/push-subscription', { endpoint: SUBSCRIPTION.endpoint }],
  ])
})

test('this device can be signed off and up again while the list stays', async () => {
  const { pushManager, subscription } = browser({ permission: 'granted' })
  pushManager.current = subscription(SUBSCRIPTION, base64UrlBytes(VAPID_KEY))
  const calls = serve([200, body([COOL])], [204, undefined], [200, body([COOL])])
  const alerts = createAlerts()
  await alerts.load()
  expect(alerts.device.value).toBe(true)
  await alerts.forgetThisDevice()
  expect(alerts.device.value).toBe(false)
  expect(alerts.isOn('cool_user')).toBe(false)
  await alerts.addThisDevice()
  expect(alerts.device.value).toBe(true)
  expect(alerts.isOn('cool_user')).toBe(true)
  expect(alerts.state.value.alerts).toStrictEqual([COOL])
  expect(calls.slice(1).map(({ method, path }) => [method, path])).toStrictEqual([
    ['DELETE', '/api/push-subscription'], ['PUT', '/api/alerts/cool_user'],
  ])
})

test('the last alert removed stays removed when forgetting this device fails', async () => {
  const { pushManager, subscription } = browser({ permission: 'granted' })
  pushManager.current = subscription(SUBSCRIPTION, base64UrlBytes(VAPID_KEY))
  serve([200, body([COOL])], [200, body([])], [500, { error: 'Redis is away' }])
  const alerts = createAlerts()
  await alerts.load()
  await alerts.press('cool_user', 'list')
  expect(alerts.isOn('cool_user')).toBe(false)
  expect(alerts.problemAt('list', 'cool_user')).toBe('Redis is away')
})
