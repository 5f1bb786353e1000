#!/usr/bin/env node
// Opens iwp-webtile's map page in Debian's headless Chromium, fully offline (OpenLayers and
// CesiumJS from node_modules in place of their CDN URLs), and reports what happened.
//
// Usage: node map-page.mjs --dir DIR --page REL/index.html [--query 'layer=..&z=..']
//          [--viewport WxH] [--screenshot out.png] [--pointer] [--view3d] [--timeout-secs N]
//
// It serves DIR at http://127.0.0.1:PORT/, opens REL?QUERY, waits for the page's tile index
// and for OpenLayers' rendercomplete, then with --pointer moves the pointer to the middle and
// reads the pointer box, takes the screenshot, and with --view3d turns the 3D view on and waits
// until CesiumJS has loaded the tileset (tiles loaded for several frames, failures counted).
//
// Prints one JSON object: {ready, tile_requests, failed:[{url,status}], not_found, external,
// console_errors, from_node_modules, layers:[{name, visible}], legends_loaded, pointer?,
// view3d?:{loaded, failed, settled}, screenshot?, error?}. Exit status: 0 it ran (the caller
// asserts), 1 the page did not load, 2 usage error.
import path from 'node:path';
import { serve, browse } from './harness.mjs';

function usage(msg) {
  if (msg) console.error(`map-page: ${msg}`);
  console.error('usage: node map-page.mjs --dir DIR --page REL/index.html [--query Q] [--viewport WxH] ' +
    '[--screenshot out.png] [--pointer] [--view3d] [--timeout-secs N]');
  process.exit(2);
}
const opts = { query: '', viewport: { width: 1024, height: 768 }, timeoutSecs: 60 };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 1) {
  const k = argv[i];
  const value = () => { const v = argv[++i]; if (v === undefined) usage(`missing value for ${k}`); return v; };
  if (k === '--dir') opts.dir = path.resolve(value());
  else if (k === '--page') opts.page = value();
  else if (k === '--query') opts.query = value();
  else if (k === '--viewport') { const [w, h] = value().split('x').map(Number); opts.viewport = { width: w, height: h }; }
  else if (k === '--screenshot') opts.screenshot = path.resolve(value());
  else if (k === '--pointer') opts.pointer = true;
  else if (k === '--view3d') opts.view3d = true;
  else if (k === '--timeout-secs') opts.timeoutSecs = Number(value());
  else usage(`unknown option ${k}`);
}
if (!opts.dir || !opts.page) usage('--dir and --page are required');

const server = await serve({ '/': opts.dir });
const out = { ready: false, tile_requests: 0, not_found: server.notFound };
let status = 0;
let browser;
try {
  const b = await browse(opts.viewport);
  browser = b.browser;
  const { page, report } = b;
  page.on('request', (r) => { if (/\/\d+\/\d+\/\d+\.png$/.test(r.url())) out.tile_requests += 1; });
  const timeout = opts.timeoutSecs * 1000;
  await page.goto(`${server.base}/${opts.page}${opts.query ? `?${opts.query}` : ''}`, { waitUntil: 'load', timeout });
  await page.waitForFunction(() => window.iwpReady === true, null, { timeout });
  // Every tile in view loaded and drawn.
  await page.evaluate(() => new Promise((resolve) => {
    map.once('rendercomplete', resolve);
    map.render();
  }));
  out.ready = true;
  out.layers = await page.evaluate(() => map.getLayers().getArray().slice(1).map((l) => ({ name: l.get('name'), visible: l.getVisible() })));
  out.legends_loaded = await page.evaluate(() => [...document.querySelectorAll('#layers img')].map((i) => i.complete && i.naturalWidth > 0));
  if (opts.pointer) {
    await page.mouse.move(opts.viewport.width / 2, opts.viewport.height / 2);
    await page.mouse.move(opts.viewport.width / 2 + 1, opts.viewport.height / 2 + 1);
    out.pointer = await page.evaluate(() => document.getElementById('pointer').textContent);
  }
  if (opts.screenshot) {
    await page.screenshot({ path: opts.screenshot });
    out.screenshot = opts.screenshot;
  }
  if (opts.view3d) {
    await page.evaluate(() => { const t = document.getElementById('view3d'); t.checked = true; t.dispatchEvent(new Event('change')); });
    await page.waitForFunction(() => window.iwpTileset && window.iwpTileset.loaded > 0, null, { timeout });
    // Settled: the tileset and the globe report loaded for 5 frames in a row.
    out.view3d = await page.evaluate((ms) => new Promise((resolve) => {
      const scene = globe.scene;
      let n = 0;
      const end = performance.now() + ms;
      const tileset = scene.primitives.get(0);
      const remove = scene.postRender.addEventListener(() => {
        n = tileset.tilesLoaded && scene.globe.tilesLoaded ? n + 1 : 0;
        if (n >= 5 || performance.now() > end) {
          remove();
          resolve({ ...window.iwpTileset, settled: n >= 5 });
        }
      });
    }), timeout / 2);
    if (opts.screenshot) await page.screenshot({ path: opts.screenshot.replace(/(\.png)?$/, '-3d.png') });
  }
  Object.assign(out, {
    failed: report.failed, external: report.external, console_errors: report.consoleErrors,
    from_node_modules: report.fromNodeModules,
  });
} catch (e) {
  out.error = String(e && e.message ? e.message : e);
  status = 1;
} finally {
  if (browser) await browser.close().catch(() => {});
  server.close();
}
console.log(JSON.stringify(out));
process.exit(status);
