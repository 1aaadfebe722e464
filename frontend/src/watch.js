// The viewer page: a Vue app mounted on #app, configured by its data- attributes.
// Its template links src/site.css (Bootstrap and shared styles) before this entry's CSS.
import { createApp } from 'vue'
import WatchApp from './WatchApp.vue'

function settings(json) {
  try {
    const value = JSON.parse(json || 'null')
    return value && typeof value === 'object' ? value : null
  } catch {
    return null
  }
}

const root = document.getElementById('app')
createApp(WatchApp, {
  user: root.dataset.user || '',
  initialStreamer: root.dataset.streamer || '',
  initialError: root.dataset.error || '',
  logoutUrl: root.dataset.logoutUrl || '/logout',
  pusher: settings(root.dataset.pusher),
}).mount(root)
