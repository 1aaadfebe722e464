// The viewer page: a Vue app mounted on #app, configured by its data- attributes.
// Its template links src/site.css (Bootstrap and shared styles) before this entry's CSS.
import { createApp } from 'vue'
import WatchApp from './WatchApp.vue'

const root = document.getElementById('app')
createApp(WatchApp, {
  user: root.dataset.user || '',
  initialStreamer: root.dataset.streamer || '',
  logoutUrl: root.dataset.logoutUrl || '/logout',
}).mount(root)
