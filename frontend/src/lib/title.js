// The tab's title: whom the page watches, whether they are live, and events not yet seen.

export const APP_NAME = 'Streamer Event Viewer'
export const LIVE_MARK = '● LIVE'

/**
 * "(2) ● LIVE · Cool_User — Streamer Event Viewer": ``unseen`` events that arrived while
 * the tab was hidden, the live mark while ``live``, then the streamer's name.
 * @param {{ name?: string, live?: boolean, unseen?: number }} state
 * @returns {string}
 */
export function pageTitle({ name = '', live = false, unseen = 0 } = {}) {
  let title = name ? `${name} — ${APP_NAME}` : APP_NAME
  if (name && live) title = `${LIVE_MARK} · ${title}`
  if (unseen > 0) title = `(${unseen > 99 ? '99+' : unseen}) ${title}`
  return title
}
