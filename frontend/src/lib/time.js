// Instants from RFC 3339 times, exact to the nanosecond, so that they compare correctly.
//
// Twitch sends up to nine fractional digits; a Date keeps milliseconds only, so two
// events in the same millisecond would look simultaneous. An instant here is a BigInt:
// nanoseconds since 1970-01-01T00:00:00Z.

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/

const NS_PER_SECOND = 1_000_000_000n
const NS_PER_MS = 1_000_000n

/**
 * The instant an RFC 3339 time names (any offset, 0 to 9 or more fractional digits;
 * digits past the ninth are dropped), or null when ``value`` is not such a time.
 * @param {unknown} value
 * @returns {bigint | null}
 */
export function instantOf(value) {
  if (typeof value !== 'string') return null
  const match = RFC3339.exec(value)
  if (!match) return null
  const [, year, month, day, hour, minute, second, fraction = '', zulu, sign, offH, offM] = match
  const ms = Date.UTC(+year, +month - 1, +day, +hour, +minute, +second)
  if (Number.isNaN(ms) || +month < 1 || +month > 12 || +day > 31 || +hour > 23 || +minute > 59
      || +second > 60 || +offH > 23 || +offM > 59) {
    return null
  }
  const offset = zulu ? 0 : (sign === '-' ? -1 : 1) * (+offH * 3600 + +offM * 60)
  const seconds = BigInt(ms / 1000 - offset)
  return seconds * NS_PER_SECOND + BigInt(fraction.slice(0, 9).padEnd(9, '0'))
}

/**
 * The instant of a Date (millisecond precision).
 * @param {Date} date
 * @returns {bigint}
 */
export function instantOfDate(date) {
  return BigInt(date.getTime()) * NS_PER_MS
}

/**
 * A Date for an instant (rounded down to the millisecond), for showing it.
 * @param {bigint} instant
 * @returns {Date}
 */
export function dateOf(instant) {
  const ms = instant / NS_PER_MS - (instant % NS_PER_MS < 0n ? 1n : 0n)
  return new Date(Number(ms))
}

/**
 * ``instant`` moved by ``ms`` milliseconds.
 * @param {bigint} instant
 * @param {number} ms a whole number of milliseconds
 * @returns {bigint}
 */
export function addMs(instant, ms) {
  return instant + BigInt(ms) * NS_PER_MS
}

/**
 * -1, 0 or 1 as ``a`` is earlier than, the same as or later than ``b``; null is earliest.
 * @param {bigint | null} a
 * @param {bigint | null} b
 * @returns {number}
 */
export function compareInstants(a, b) {
  if (a === b) return 0
  if (a === null) return -1
  if (b === null) return 1
  return a < b ? -1 : 1
}
