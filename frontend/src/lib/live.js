// One Pusher connection per page: the watched streamer's channel, and the channels of
// live follows whose events keep that list up to date, all on the same connection.
import Pusher from 'pusher-js'
import { computed, ref } from 'vue'

const PROTOCOL_EVENT = /^pusher(_internal)?:/
const MAIN = 'main'

/** Where pusher-js asks us to sign its joining of a streamer's private channel. */
export const CHANNEL_AUTH_ENDPOINT = '/api/pusher/auth'

/** pusher-js options for the settings /api/watch gives (key, cluster, host, port, tls). */
export function pusherOptions(settings) {
  // WebSockets only, over TLS exactly when forceTLS is set (transport "ws" follows it):
  // HTTP fallbacks and the "wss" retry of a plain server would all be refused by the CSP.
  const options = {
    cluster: settings.cluster || 'local',
    enabledTransports: ['ws'],
    channelAuthorization: { endpoint: CHANNEL_AUTH_ENDPOINT, transport: 'ajax' },
  }
  if (!settings.host) return { ...options, forceTLS: true }
  const port = Number(settings.port) || undefined
  return {
    ...options,
    wsHost: settings.host,
    wsPort: port || 80,
    wssPort: port || 443,
    forceTLS: Boolean(settings.tls),
    disableStats: true,
  }
}

/**
 * The live side of the page. ``connection`` names the state of the watched channel shown
 * to the viewer: idle, connecting, connected (its events arrive), reconnecting or failed;
 * ``channel`` the watched channel while subscribed, or ''. ``follow`` watches a channel
 * after leaving the previous one; ``listen`` receives another channel's events too (for
 * the follows list) until the function it returns is called. A channel both watched and
 * listened to is subscribed once, and stays subscribed while either wants it.
 */
export function createLiveChannel() {
  const socket = ref('idle')
  const wanted = ref('')
  const joined = ref(false)
  const refused = ref(false)
  const channel = computed(() => (joined.value ? wanted.value : ''))
  /** @type {Map<string, { subscription: object, handlers: Map<*, Function>,
   *   joined: boolean, refused: boolean }>} */
  const entries = new Map()
  /** Listeners asked for before there were settings to connect with. */
  const pending = []
  let pusher = null
  let wasConnected = false

  const connection = computed(() => {
    if (refused.value) return 'failed'
    if (socket.value !== 'connected') return socket.value
    return wanted.value && !joined.value ? 'connecting' : 'connected'
  })

  function track(current) {
    if (current !== 'connected') {
      joined.value = false
      for (const entry of entries.values()) entry.joined = false
    }
    if (current === 'connected') wasConnected = true
    if (current === 'connected' || current === 'failed') socket.value = current
    else if (current === 'connecting' || current === 'unavailable') {
      socket.value = wasConnected || current === 'unavailable' ? 'reconnecting' : 'connecting'
    } else socket.value = 'idle'
  }

  /** The page's one Pusher client, made the first time settings are given. */
  function connect(settings) {
    if (!pusher && settings?.key) {
      pusher = new Pusher(settings.key, pusherOptions(settings))
      pusher.connection.bind('state_change', ({ current }) => track(current))
      track(pusher.connection.state)
      for (const waiting of pending.splice(0)) attach(...waiting)
    }
    return pusher
  }

  function attach(name, key, handler) {
    if (!pusher) {
      pending.push([name, key, handler])
      return
    }
    let entry = entries.get(name)
    if (!entry) {
      entry = { subscription: pusher.subscribe(name), handlers: new Map(), joined: false,
                refused: false }
      entries.set(name, entry)
      const current = entry
      entry.subscription.bind_global((event, data) => {
        if (event === 'pusher:subscription_succeeded') {
          current.joined = true
          current.refused = false
        } else if (event === 'pusher:subscription_error') current.refused = true
        else if (!PROTOCOL_EVENT.test(event)) {
          for (const receive of [...current.handlers.values()]) receive(event, data)
        }
        if (name === wanted.value && entries.get(name) === current) {
          joined.value = current.joined
          refused.value = current.refused
        }
      })
    }
    entry.handlers.set(key, handler)
    return entry
  }

  function detach(name, key) {
    const index = pending.findIndex(([n, k]) => n === name && k === key)
    if (index >= 0) pending.splice(index, 1)
    const entry = entries.get(name)
    if (!entry || !entry.handlers.delete(key) || entry.handlers.size) return
    entry.subscription.unbind_global()
    pusher.unsubscribe(name)
    entries.delete(name)
  }

  /** Stop receiving the watched channel's events. */
  function leave() {
    if (wanted.value) detach(wanted.value, MAIN)
    wanted.value = ''
    joined.value = refused.value = false
  }

  /** Receive ``onEvent(name, data)`` for every event on ``name``, the watched channel. */
  function follow(name, settings, onEvent) {
    connect(settings)
    if (wanted.value !== name) leave()
    const entry = attach(name, MAIN, onEvent)
    wanted.value = name
    joined.value = Boolean(entry?.joined)
    refused.value = Boolean(entry?.refused)
  }

  /**
   * Receive ``onEvent(name, data)`` for the events of another channel too, on the same
   * connection (made with ``settings`` if there is none yet; without settings, once the
   * page first follows a channel). Returns the function that stops it.
   */
  function listen(name, settings, onEvent) {
    connect(settings)
    const key = Symbol(name)
    attach(name, key, onEvent)
    return () => detach(name, key)
  }

  return { connection, channel, follow, leave, listen }
}
