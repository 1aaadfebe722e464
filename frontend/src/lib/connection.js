// What the connection badge says about the channels the page watches, all on one socket.

/**
 * @typedef {{ joined: boolean, refused: boolean }} ChannelState
 */

/**
 * The state of the watched channels together: ``failed`` when Pusher refused every one
 * (``partial`` when only some), else the socket's own state while it is not connected,
 * else ``connecting`` until every one is joined, then ``connected``. No channel watched:
 * the socket's state.
 * @param {string} socket idle, connecting, connected, reconnecting or failed
 * @param {(ChannelState | undefined)[]} channels one per watched channel, in order
 * @returns {string}
 */
export function watchedState(socket, channels) {
  const refused = channels.filter((state) => state?.refused).length
  if (refused && refused === channels.length) return 'failed'
  if (socket !== 'connected') return socket
  if (refused) return 'partial'
  return channels.every((state) => state?.joined) ? 'connected' : 'connecting'
}

/**
 * The watched channels that are joined (their events arrive), in order.
 * @param {string[]} names
 * @param {(name: string) => (ChannelState | undefined)} stateOf
 * @returns {string[]}
 */
export function joinedChannels(names, stateOf) {
  return names.filter((name) => stateOf(name)?.joined)
}
