// What the service worker shows for a push and where a click on it goes
// (src/lib/pushNotification.js, which src/serviceWorker.js runs).
import { expect, test } from 'vitest'

import { ICON, notificationFrom, payloadFrom, watchUrl, windowFor } from '../src/lib/pushNotification.js'

const PUSH = {
  type: 'stream.online', login: 'cool_user', name: 'Cool_User', title: 'Speedrun night',
  category: 'Celeste', stream_id: '9001', url: '/watch/cool_user', tag: 'live-cool_user',
}

test('a go-live shows "<name> is live" and "<title> · <category>", tagged per streamer', () => {
  expect(notificationFrom(PUSH)).toStrictEqual({
    title: 'Cool_User is live',
    options: { body: 'Speedrun night · Celeste', icon: ICON, tag: 'live-cool_user',
               data: { url: '/watch/cool_user' } },
  })
  expect(notificationFrom({ ...PUSH, category: '' }).options.body).toBe('Speedrun night')
  expect(notificationFrom({ ...PUSH, title: ' ' }).options.body).toBe('Celeste')
  expect(notificationFrom({ ...PUSH, title: null, category: 7 }).options.body).toBe('Live now on Twitch')
  expect(notificationFrom({ ...PUSH, tag: undefined }).options.tag).toBe('live-cool_user')
  expect(notificationFrom({ ...PUSH, name: '' }).title).toBe('cool_user is live')
})

test('Twitch\'s words stay text: markup is shown as it was written', () => {
  const shown = notificationFrom({ ...PUSH, name: '<b>Cool</b>', title: '<img src=x onerror=alert(1)>' })
  expect(shown.title).toBe('<b>Cool</b> is live')
  expect(shown.options.body).toBe('<img src=x onerror=alert(1)> · Celeste')
})

test('a push that cannot be read still shows a notification (a push must)', () => {
  expect(payloadFrom(() => { throw new SyntaxError('not JSON') })).toBe(null)
  expect(payloadFrom(() => 'text')).toBe(null)
  for (const payload of [null, {}, { ...PUSH, type: 'channel.update' }, { type: 'stream.online' }]) {
    const shown = notificationFrom(payload)
    expect(shown.title).toBe('Streamer Event Viewer')
    expect(shown.options.data.url).toBe('/watch')
  }
})

test('a click goes only to a page of this site', () => {
  expect(watchUrl(PUSH)).toBe('/watch/cool_user')
  for (const url of ['https://evil.example/', '//evil.example/x', '/\\evil.example', 'javascript:alert(1)', 42]) {
    expect(watchUrl({ ...PUSH, url }), String(url)).toBe('/watch/cool_user')
  }
  expect(watchUrl({ url: 'https://evil.example', login: '../api' })).toBe('/watch')
})

test('a click focuses a window already on the streamer\'s page, else none', () => {
  const origin = 'http://localhost:5000'
  const windows = [
    { url: `${origin}/watch/speedy_sam`, focused: true },
    { url: `${origin}/watch/cool_user?x=1`, focused: false, id: 'first' },
    { url: `${origin}/watch/cool_user`, focused: true, id: 'focused' },
    { url: 'http://elsewhere.example/watch/cool_user', focused: true },
  ]
  expect(windowFor(windows, '/watch/cool_user', origin).id).toBe('focused')
  expect(windowFor(windows.slice(0, 2), '/watch/cool_user', origin).id).toBe('first')
  expect(windowFor(windows.slice(3), '/watch/cool_user', origin)).toBe(null)
  expect(windowFor([], '/watch/cool_user', origin)).toBe(null)
})
