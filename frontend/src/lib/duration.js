// How long a stream has been live, counted on the page: a local timer, no asking the server.

const MINUTE_MS = 60_000

/** Whole minutes from ``startedAt`` to ``now`` (0 when the start is in the future). */
function minutesLive(startedAt, now) {
  return Math.max(0, Math.floor((now.getTime() - startedAt.getTime()) / MINUTE_MS))
}

/**
 * "1 h 23 min", "23 min" or "under a minute": how long a stream that started at
 * ``startedAt`` has been live at ``now``.
 * @param {Date} startedAt
 * @param {Date} [now]
 * @returns {string}
 */
export function liveFor(startedAt, now = new Date()) {
  const minutes = minutesLive(startedAt, now)
  if (minutes === 0) return 'under a minute'
  const hours = Math.floor(minutes / 60)
  return hours ? `${hours} h ${minutes % 60} min` : `${minutes} min`
}

/**
 * Milliseconds from ``now`` until liveFor's text next changes: the next whole minute
 * since ``startedAt`` (for a start still in the future, its first minute).
 * @param {Date} startedAt
 * @param {Date} [now]
 * @returns {number}
 */
export function msUntilNextMinute(startedAt, now = new Date()) {
  const elapsed = now.getTime() - startedAt.getTime()
  if (elapsed < 0) return MINUTE_MS - elapsed
  return MINUTE_MS - (elapsed % MINUTE_MS)
}
