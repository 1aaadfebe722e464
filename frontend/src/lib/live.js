// One Pusher connection per page: the channels of the streams it plays, and those of
// live follows whose events keep that list up to date, all on the same connection.
import Pusher from 'pusher-js'
import { computed, reactive, ref } from 'vue'
import { joinedChannels, watchedState } from './connection.js'

const PROTOCOL_EVENT = /^pusher(_internal)?:/
const WATCHED = 'watched'

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
 * The live side of the page. ``watch`` adds a channel to the watched set (the streams the
 * page plays) and ``unwatch`` takes one out; ``leave`` empties the set. ``connection``
 * names the state of the watched channels together (lib/connection.js): idle, connecting,
 * connected (their events arrive), reconnecting, partial (Pusher refused some) or failed;
 * ``channel`` the joined watched channels (space-separated, in the order they were
 * watched), or ''. ``listen`` receives another channel's events too (for the follows
 * list) until the function it returns is called. A channel both watched and listened to
 * is subscribed once, and stays subscribed while either wants it.
 */
export function createLiveChannel() {
  const socket = ref('idle')
  /** The watched channels, in the order they were first watched. */
  const watched = ref([])
  /** name -> { joined, refused } of every subscribed channel. */
  const states = reactive(new Map())
  const connection = computed(() => watchedState(socket.value,
                                                 watched.value.map((name) => states.get(name))))
  const channel = computed(() => joinedChannels(watched.value, (name) => states.get(name))
    .join(' '))
  /** @type {Map<string, { subscription: object, handlers: Map<*, Function> }>} */
  const entries = new Map()
  /** Listeners asked for before there were settings to connect with. */
  const pending = []
  let pusher = null
  let wasConnected = false

  function track(current) {
    if (current !== 'connected') {
      for (const state of states.values()) state.joined = false
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
      entry = { subscription: pusher.subscribe(name), handlers: new Map() }
      entries.set(name, entry)
      states.set(name, { joined: false, refused: false })
      const current = entry
      entry.subscription.bind_global((event, data) => {
        if (entries.get(name) !== current) return
        const state = states.get(name)
        if (event === 'pusher:subscription_succeeded') {
          state.joined = true
          state.refused = false
        } else if (event === 'pusher:subscription_error') state.refused = true
        else if (!PROTOCOL_EVENT.test(event)) {
          for (const receive of [...current.handlers.values()]) receive(event, data)
        }
      })
    }
    entry.handlers.set(key, handler)
  }

  function detach(name, key) {
    const index = pending.findIndex(([n, k]) => n === name && k === key)
    if (index >= 0) pending.splice(index, 1)
    const entry = entries.get(name)
    if (!entry || !entry.handlers.delete(key) || entry.handlers.size) return
    entry.subscription.unbind_global()
    pusher.unsubscribe(name)
    entries.delete(name)
    states.delete(name)
  }

  /**
   * Receive ``onEvent(name, data)`` for every event on ``name``, one of the watched
   * channels (its previous receiver, if it was watched already, no longer hears it).
   */
  function watch(name, settings, onEvent) {
    connect(settings)
    attach(name, WATCHED, onEvent)
    if (!watched.value.includes(name)) watched.value = [...watched.value, name]
  }

  /** Stop receiving the events of ``name``, a watched channel. */
  function unwatch(name) {
    if (!watched.value.includes(name)) return
    detach(name, WATCHED)
    watched.value = watched.value.filter((each) => each !== name)
  }

  /** Stop receiving the events of every watched channel. */
  function leave() {
    for (const name of watched.value) detach(name, WATCHED)
    watched.value = []
  }

  /**
   * Receive ``onEvent(name, data)`` for the events of another channel too, on the same
   * connection (made with ``settings`` if there is none yet; without settings, once the
   * page first watches a channel). Returns the function that stops it.
   */
  function listen(name, settings, onEvent) {
    connect(settings)
    const key = Symbol(name)
    attach(name, key, onEvent)
    return () => detach(name, key)
  }

  return { connection, channel, watch, unwatch, leave, listen }
}
