// The tab's title: whom the page watches, whether they are live, and events not yet seen.

export const APP_NAME = 'Streamer Event Viewer'
export const LIVE_MARK = '● LIVE'

function streamsPart(streams) {
  const live = streams.filter((stream) => stream.live).map((stream) => stream.name)
  const others = streams.filter((stream) => !stream.live).map((stream) => stream.name)
  if (!live.length) return others.join(', ')
  if (streams.length === 1) return `${LIVE_MARK} · ${live[0]}`
  const marked = `${LIVE_MARK} ${live.join(', ')}`
  return others.length ? `${marked} · ${others.join(', ')}` : marked
}

/**
 * "(2) ● LIVE · Cool_User — Streamer Event Viewer": ``unseen`` events that arrived while
 * the tab was hidden, the live mark while ``live``, then the streamer's name. With
 * several ``streams`` (``{ name, live }`` each, instead of ``name`` and ``live``), the
 * live ones follow the mark and the others come after a dot: "● LIVE Cool_User,
 * Night_Owl · SpeedySam — Streamer Event Viewer".
 * @param {{ name?: string, live?: boolean, unseen?: number,
 *   streams?: { name: string, live: boolean }[] }} state
 * @returns {string}
 */
export function pageTitle({ name = '', live = false, unseen = 0, streams } = {}) {
  const shown = (streams ?? (name ? [{ name, live }] : [])).filter((stream) => stream.name)
  let title = shown.length ? `${streamsPart(shown)} — ${APP_NAME}` : APP_NAME
  if (unseen > 0) title = `(${unseen > 99 ? '99+' : unseen}) ${title}`
  return title
}
