// The viewer's go-live alerts, one list per account kept by the server, and the bells
// that change it. A bell is shown only once the server has said it sends alerts
// (enabled). Its first use signs this device up (lib/push.js: the browser's permission,
// the service worker, a push subscription); removing the last alert signs it off again.
// A bell is on when the streamer is on the list and this device gets the alerts: on a
// device not signed up (the list made on another) it offers to alert here too.
import { computed, ref } from 'vue'
import { addAlert, alertsFrom, forgetPushSubscription, loadAlerts, removeAlert } from './api.js'
import { currentSubscription, signOff, signUp } from './push.js'

/**
 * The alerts store. ``state``: what the server last said (see api.js alertsFrom);
 * ``pending``: the logins a change is out for. Changes throw an Error whose message is
 * for the viewer (an ApiError's ``status`` says 401 when the session has ended); a bell's
 * ``press`` keeps it instead as ``problem``, for the part of the page pressed to show,
 * and calls ``onSessionEnded`` on a 401.
 */
export function createAlerts({ onSessionEnded = () => {} } = {}) {
  const state = ref(alertsFrom(null))
  const pending = ref([])
  /** Why the last press did not work: { login, place, message }, or null. */
  const problem = ref(null)
  /** Why the server's list could not be had (not for a server without alerts), or ''. */
  const loadError = ref('')
  /** Whether this device is signed up (has a push subscription); null until known. */
  const device = ref(null)
  const enabled = computed(() => state.value.enabled)

  /**
   * Ask the server; anything but its answer (no API, an error) leaves the bells hidden,
   * and ``loadError`` says why. A 401 is thrown (the session has ended).
   */
  async function load() {
    loadError.value = ''
    try {
      const loaded = await loadAlerts()
      // Both at once: a bell never shows off for a moment before it shows on.
      device.value = loaded.enabled ? Boolean(await currentSubscription()) : null
      state.value = loaded
    } catch (err) {
      state.value = alertsFrom(null)
      if (err?.status === 401) throw err
      loadError.value = err?.message || String(err)
    }
    return state.value
  }

  /** Whether ``login`` is on the viewer's list (for all their devices). */
  function listed(login) {
    return state.value.alerts.some((alert) => alert.login === login)
  }

  /** Whether ``login``'s bell is on: listed, and this device gets the alerts. */
  function isOn(login) {
    return listed(login) && device.value === true
  }

  /** Whether a change for ``login`` is out (its bell waits for it). */
  function isPending(login) {
    return pending.value.includes(login)
  }

  async function changing(login, change) {
    if (isPending(login)) return state.value
    pending.value = [...pending.value, login]
    try {
      state.value = await change()
      return state.value
    } finally {
      pending.value = pending.value.filter((each) => each !== login)
    }
  }

  /** Alert the viewer when ``login`` goes live (signing this device up; from a click). */
  function turnOn(login) {
    return changing(login, async () => {
      const answer = await addAlert(login, await signUp(state.value.vapidPublicKey))
      device.value = true
      return answer
    })
  }

  /**
   * No more alerts for ``login``. With none left, this device stops getting them: its
   * subscription ends and the server forgets it.
   */
  function turnOff(login) {
    return changing(login, async () => {
      const left = await removeAlert(login)
      state.value = left // removed, even if forgetting this device fails below
      if (!left.alerts.length) await forgetThisDevice()
      return left
    })
  }

  function toggle(login) {
    return isOn(login) ? turnOff(login) : turnOn(login)
  }

  /**
   * A press of ``login``'s bell (or another button: ``change``, turnOff for Remove) in
   * ``place`` (a name for where it is on the page).
   */
  async function press(login, place, change = toggle) {
    problem.value = null
    try {
      await change(login)
    } catch (err) {
      if (err?.status === 401) onSessionEnded()
      else problem.value = { login, place, message: err?.message || String(err) }
    }
  }

  /** Why the last press of ``login``'s bell in ``place`` did not work, or ''. */
  function problemAt(place, login) {
    const last = problem.value
    return last && last.place === place && last.login === login ? last.message : ''
  }

  /**
   * Sign this device up for the alerts the viewer has (from a click): their first alert
   * asked for again, with this device's subscription.
   */
  function addThisDevice() {
    const [first] = state.value.alerts
    return first ? turnOn(first.login) : Promise.resolve(state.value)
  }

  /** This device gets no more alerts; the viewer's list stays for their other devices. */
  async function forgetThisDevice() {
    const endpoint = await signOff()
    device.value = false
    if (endpoint) await forgetPushSubscription(endpoint)
  }

  return { state, pending, problem, loadError, device, enabled, load, listed, isOn, isPending,
           turnOn, turnOff, toggle, press, problemAt, addThisDevice, forgetThisDevice }
}
