// One Pusher connection per page, following one streamer's channel at a time.
import Pusher from 'pusher-js'
import { ref } from 'vue'

const PROTOCOL_EVENT = /^pusher(_internal)?:/

/** pusher-js options for the settings /api/watch gives (key, cluster, host, port, tls). */
export function pusherOptions(settings) {
  // WebSockets only: the fallback transports would need more hosts in the CSP.
  const options = { cluster: settings.cluster || 'local', enabledTransports: ['ws', 'wss'] }
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
 * The live side of the page: ``connection`` is a ref naming the connection's state
 * (idle, connecting, connected, reconnecting, failed); ``follow`` subscribes to a
 * channel after leaving the previous one.
 */
export function createLiveChannel() {
  const connection = ref('idle')
  let pusher = null
  let channel = null
  let wasConnected = false

  function track(current) {
    if (current === 'connected') wasConnected = true
    if (current === 'connected' || current === 'failed') connection.value = current
    else if (current === 'connecting' || current === 'unavailable') {
      connection.value = wasConnected || current === 'unavailable' ? 'reconnecting' : 'connecting'
    } else connection.value = 'idle'
  }

  function connect(settings) {
    if (!pusher) {
      pusher = new Pusher(settings.key, pusherOptions(settings))
      pusher.connection.bind('state_change', ({ current }) => track(current))
      track(pusher.connection.state)
    }
    return pusher
  }

  function leave() {
    if (!channel) return
    channel.unbind_global()
    pusher.unsubscribe(channel.name)
    channel = null
  }

  /** Receive ``onEvent(name, data)`` for every event on ``name``, and only there. */
  function follow(name, settings, onEvent) {
    const client = connect(settings)
    if (channel?.name === name) channel.unbind_global()
    else {
      leave()
      channel = client.subscribe(name)
    }
    channel.bind_global((event, data) => {
      if (!PROTOCOL_EVENT.test(event)) onEvent(event, data)
    })
  }

  return { connection, follow, leave }
}
