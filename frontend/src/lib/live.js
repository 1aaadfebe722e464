// One Pusher connection per page, following one streamer's channel at a time.
import Pusher from 'pusher-js'
import { computed, ref } from 'vue'

const PROTOCOL_EVENT = /^pusher(_internal)?:/

/** pusher-js options for the settings /api/watch gives (key, cluster, host, port, tls). */
export function pusherOptions(settings) {
  // WebSockets only, over TLS exactly when forceTLS is set (transport "ws" follows it):
  // HTTP fallbacks and the "wss" retry of a plain server would all be refused by the CSP.
  const options = { cluster: settings.cluster || 'local', enabledTransports: ['ws'] }
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
 * The live side of the page. ``connection`` names the state shown to the viewer:
 * idle, connecting, connected (events of the channel arrive), reconnecting or failed;
 * ``channel`` the channel currently subscribed, or ''. ``follow`` subscribes to a
 * channel after leaving the previous one.
 */
export function createLiveChannel() {
  const socket = ref('idle')
  const wanted = ref('')
  const channel = ref('')
  const refused = ref(false)
  let pusher = null
  let subscription = null
  let wasConnected = false

  const connection = computed(() => {
    if (refused.value) return 'failed'
    if (socket.value !== 'connected') return socket.value
    return wanted.value && channel.value !== wanted.value ? 'connecting' : 'connected'
  })

  function track(current) {
    if (current !== 'connected') channel.value = ''
    if (current === 'connected') wasConnected = true
    if (current === 'connected' || current === 'failed') socket.value = current
    else if (current === 'connecting' || current === 'unavailable') {
      socket.value = wasConnected || current === 'unavailable' ? 'reconnecting' : 'connecting'
    } else socket.value = 'idle'
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
    if (!subscription) return
    subscription.unbind_global()
    pusher.unsubscribe(subscription.name)
    subscription = null
    wanted.value = channel.value = ''
    refused.value = false
  }

  /** Receive ``onEvent(name, data)`` for every event on ``name``, and only there. */
  function follow(name, settings, onEvent) {
    const client = connect(settings)
    if (subscription?.name === name) subscription.unbind_global()
    else {
      leave()
      subscription = client.subscribe(name)
      wanted.value = name
    }
    subscription.bind_global((event, data) => {
      if (event === 'pusher:subscription_succeeded') {
        channel.value = name
        refused.value = false
      } else if (event === 'pusher:subscription_error') refused.value = true
      else if (!PROTOCOL_EVENT.test(event)) onEvent(event, data)
    })
  }

  return { connection, channel, follow, leave }
}
