// Builds the viewer's pages into ../web/dist: hashed files under assets/ and
// .vite/manifest.json, which web/viewer/frontend.py reads to link them from the templates.
import { fileURLToPath, URL } from 'node:url'
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'

// The pages load the colour-mode entry as a classic script, and the browser the service
// worker: each must stand alone (share no chunk with another entry) and keep its names
// out of the global scope.
function classicScripts(entryNames) {
  return {
    name: 'sev-classic-script',
    renderChunk(code, chunk) {
      if (!entryNames.includes(chunk.name) || !chunk.isEntry) return null
      if (chunk.imports.length || chunk.dynamicImports.length) {
        this.error(`${chunk.name} must import only modules no other entry imports`)
      }
      return { code: `(() => {\n${code}\n})();\n`, map: null }
    },
  }
}

export default defineConfig({
  plugins: [vue(), classicScripts(['color-mode', 'service-worker'])],
  // npm test: Vitest runs the tests of the pages' pure logic (src/lib) under Node.
  test: { include: ['tests/**/*.test.js'], environment: 'node' },
  // Flask serves web/dist/assets/ at /assets/ (web/viewer/pages.py).
  base: '/',
  build: {
    outDir: fileURLToPath(new URL('../web/dist', import.meta.url)),
    emptyOutDir: true,
    manifest: true,
    // No inline code anywhere: the Content-Security-Policy allows none.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    rollupOptions: {
      input: {
        // The colour mode, a classic script every page runs in <head> before it paints.
        'color-mode': fileURLToPath(new URL('src/colorMode.js', import.meta.url)),
        // Bootstrap and the shared styles, linked from every page before the page's own.
        site: fileURLToPath(new URL('src/site.css', import.meta.url)),
        watch: fileURLToPath(new URL('src/watch.js', import.meta.url)),
        alerts: fileURLToPath(new URL('src/alerts.js', import.meta.url)),
        // The service worker, at web/dist/sw.js under a name that never changes: the
        // browser checks that address for a new version (web/viewer/app_shell.py serves it).
        'service-worker': fileURLToPath(new URL('src/serviceWorker.js', import.meta.url)),
      },
      output: {
        entryFileNames: (chunk) => (chunk.name === 'service-worker' ? 'sw.js' : 'assets/[name]-[hash].js'),
        // What the pages' entries share (Vue, Bootstrap's parts, the components of both).
        chunkFileNames: 'assets/shared-[hash].js',
      },
    },
  },
})
