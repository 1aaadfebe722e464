// The go-live alerts' page (/alerts): a Vue app mounted on #app, configured by its data-
// attributes. Its template links src/site.css (Bootstrap and shared styles) before this
// entry's CSS.
import { createApp } from 'vue'
import AlertsApp from './AlertsApp.vue'

const root = document.getElementById('app')
createApp(AlertsApp, {
  user: root.dataset.user || '',
  logoutUrl: root.dataset.logoutUrl || '/logout',
}).mount(root)
