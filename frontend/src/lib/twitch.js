// Twitch's iframe embeds. ``parent`` is the bare host name the page was served from.

export function videoUrl(login, parent) {
  const query = new URLSearchParams({ channel: login, parent })
  return `https://player.twitch.tv/?${query}`
}

/** The chat embed's URL; ``dark`` asks Twitch for its dark chat (``darkpopout``). */
export function chatUrl(login, parent, { dark = false } = {}) {
  const query = new URLSearchParams({ parent })
  const url = `https://www.twitch.tv/embed/${encodeURIComponent(login)}/chat?${query}`
  return dark ? `${url}&darkpopout` : url
}
