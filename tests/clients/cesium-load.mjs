#!/usr/bin/env node
// Loads a 3D Tiles tileset in CesiumJS, in Debian's headless Chromium (through
// playwright-core, SwiftShader WebGL), fully offline, and reports what happened.
//
// Usage: node cesium-load.mjs --dir DIR --tileset REL/tileset.json
//          [--imagery-template 'REL/{z}/{x}/{y}.png' [--imagery-max-level N]]
//          [--screenshot out.png] [--timeout-secs N] [--overlay]
//
// It serves DIR at http://127.0.0.1:PORT/ (random port) and CesiumJS's built files
// (node_modules/cesium/Build/Cesium) at /cesium/, opens a generated page that
//   1. creates a Cesium.Viewer with no Ion, no base imagery layer, globe on and the
//      default EllipsoidTerrainProvider (plus, with --imagery-template, a
//      UrlTemplateImageryProvider on a GeographicTilingScheme: WorldCRS84Quad, 2x1 at z0),
//   2. loads the tileset with Cesium3DTileset.fromUrl, counting tileLoad/tileFailed,
//   3. viewer.zoomTo(tileset), waits until settled (tileset.tilesLoaded and
//      globe.tilesLoaded for SETTLE_FRAMES consecutive frames),
//   4. flies close to the deepest known tile with content (a leaf if one is known) and
//      settles again, repeating while that tile turns out to have children (external
//      tilesets), at most MAX_ROUNDS times,
// and then takes the screenshot. With --overlay (and an imagery template) it first renders that
// view twice on a black globe, imagery alone and tileset alone, and compares where each has
// coloured pixels: "overlay":{tiles, tiles_on_imagery, bright, bright_under_tiles, shifted}:
// the tiles' coloured pixels and the share of them over coloured imagery, the imagery's bright
// pixels (full coverage) and the share of them under the tiles, and the same with the tiles'
// frame moved 12 px right and down (what a misplaced tileset would score); with --screenshot the two renders are saved beside it
// (NAME-imagery.png, NAME-tiles.png). Every request whose host is not 127.0.0.1 is aborted
// and listed; Chromium's DNS resolves nothing but 127.0.0.1 as a second fence.
//
// Prints one JSON object on stdout:
//   {tileLoad, tileFailed, failures:[{url,message}], external_requests:[url],
//    leaves_loaded, max_depth_loaded, feature_sample:{url, featuresLength, properties}, overlay?,
//    console_errors:[...], not_found:[path],
//    settled:[bool...], timed_out, timings_ms:{...}, screenshot, error?}
// console_errors leaves out Chromium's "Failed to load resource" lines: those are in
// not_found (HTTP 404 served here) and external_requests (aborted) instead.
// Exit status: 0 it ran (the caller asserts on the JSON), 1 the page, Cesium or the
// tileset could not load, 2 usage error.
import fs from 'node:fs';
import path from 'node:path';
import { HERE, serve, browse } from './harness.mjs';

const CESIUM_DIR = path.join(HERE, 'node_modules', 'cesium', 'Build', 'Cesium');

// ---- arguments -------------------------------------------------------------------
function usage(msg) {
  if (msg) console.error(`cesium-load: ${msg}`);
  console.error('usage: node cesium-load.mjs --dir DIR --tileset REL/tileset.json ' +
    "[--imagery-template 'REL/{z}/{x}/{y}.png' [--imagery-max-level N]] " +
    '[--screenshot out.png] [--timeout-secs N] [--overlay]');
  process.exit(2);
}
const opts = { timeoutSecs: 50 };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
  const [k, v] = [argv[i], argv[i + 1]];
  if (v === undefined && k !== '--overlay') usage(`missing value for ${k}`);
  if (k === '--dir') opts.dir = path.resolve(v);
  else if (k === '--tileset') opts.tileset = v;
  else if (k === '--imagery-template') opts.imageryTemplate = v;
  else if (k === '--imagery-max-level') opts.imageryMaxLevel = Number(v);
  else if (k === '--imagery' && v === 'none') { /* accepted for symmetry: no imagery */ }
  else if (k === '--screenshot') opts.screenshot = path.resolve(v);
  else if (k === '--timeout-secs') opts.timeoutSecs = Number(v);
  else if (k === '--overlay') { opts.overlay = true; i -= 1; }
  else usage(`unknown option ${k}`);
}
if (!opts.dir || !opts.tileset) usage('--dir and --tileset are required');
if (!fs.existsSync(path.join(opts.dir, opts.tileset))) usage(`no ${opts.tileset} under ${opts.dir}`);
if (!fs.existsSync(path.join(CESIUM_DIR, 'Cesium.js'))) usage(`no CesiumJS at ${CESIUM_DIR}: run install.sh`);
if (!(opts.timeoutSecs > 0)) usage('--timeout-secs must be a positive number');
// Without --imagery-max-level, take the largest numeric folder where {z} stands,
// so Cesium does not ask for levels that were never written.
if (opts.imageryTemplate && opts.imageryMaxLevel === undefined) {
  const zParent = opts.imageryTemplate.split('{z}')[0];
  try {
    const levels = fs.readdirSync(path.join(opts.dir, zParent)).filter((n) => /^\d+$/.test(n)).map(Number);
    if (levels.length) opts.imageryMaxLevel = Math.max(...levels);
  } catch { /* leave unset */ }
}

// ---- static HTTP server on 127.0.0.1 (harness.mjs): DIR, CesiumJS under /cesium/, the page ----
let pageHtml = '';
const server = await serve({ '/cesium/': CESIUM_DIR, '/': opts.dir },
  (urlPath) => (urlPath === '/__harness__/index.html' ? { type: 'text/html', body: pageHtml } : null));
const { base, notFound } = server;

// ---- the page --------------------------------------------------------------------
// Runs inside Chromium. Progress lives in window.__state (read on timeout); the
// final report is window.__result.
function pageMain(CFG) {
  const SETTLE_FRAMES = 5;
  const MAX_ROUNDS = 4;
  const t0 = performance.now();
  const deadline = t0 + window.__budgetMs; // set by the harness before the page loads
  const S = (window.__state = {
    phase: 'viewer', tileLoad: 0, tileFailed: 0, failures: [], settled: [], timings_ms: {},
    leaves_loaded: 0, max_depth_loaded: -1,
  });
  const mark = (name) => { S.timings_ms[name] = Math.round(performance.now() - t0); };

  Cesium.Ion.defaultAccessToken = '';
  const viewer = new Cesium.Viewer('c', {
    baseLayer: false, baseLayerPicker: false, geocoder: false, animation: false, timeline: false,
    homeButton: false, sceneModePicker: false, navigationHelpButton: false, fullscreenButton: false,
    infoBox: false, selectionIndicator: false,
    terrainProvider: new Cesium.EllipsoidTerrainProvider(),
    // SwiftShader renders on the CPU: skip multisampling and sky effects so frames
    // come fast enough (Cesium advances tile loading a little each frame).
    msaaSamples: 1, skyBox: false, skyAtmosphere: false,
    // The overlay check reads the canvas back after a frame.
    contextOptions: { webgl: { preserveDrawingBuffer: true } },
  });
  const scene = viewer.scene;
  scene.fog.enabled = false;
  scene.globe.showGroundAtmosphere = false;
  if (scene.sun) scene.sun.show = false;
  if (scene.moon) scene.moon.show = false;
  if (CFG.imageryTemplate) {
    viewer.imageryLayers.addImageryProvider(new Cesium.UrlTemplateImageryProvider({
      url: '/' + CFG.imageryTemplate,
      tilingScheme: new Cesium.GeographicTilingScheme(), // WorldCRS84Quad: 2x1 tiles at z0
      maximumLevel: CFG.imageryMaxLevel ?? undefined,
    }));
  }

  const depth = (t) => { let d = 0; while (t.parent) { d += 1; t = t.parent; } return d; };
  const loaded = new Set(); // distinct tiles whose content loaded
  let tileset;
  function onTileLoad(tile) {
    S.tileLoad += 1;
    if (loaded.has(tile)) return;
    loaded.add(tile);
    if (tile.children.length === 0 && !tile.hasTilesetContent) {
      S.leaves_loaded += 1;
      // The first leaf's features as the client reads them: count, and feature 0's properties.
      const c = tile.content;
      if (!S.feature_sample && c && c.featuresLength > 0) {
        const f = c.getFeature(0);
        const properties = {};
        for (const id of f.getPropertyIds()) properties[id] = f.getProperty(id);
        S.feature_sample = { url: c.url, featuresLength: c.featuresLength, properties };
      }
    }
    S.max_depth_loaded = Math.max(S.max_depth_loaded, depth(tile));
  }

  // Resolves true once tileset and globe report loaded for SETTLE_FRAMES frames in a row.
  function settle() {
    return new Promise((resolve) => {
      let n = 0;
      const remove = scene.postRender.addEventListener(() => {
        n = tileset.tilesLoaded && scene.globe.tilesLoaded ? n + 1 : 0;
        if (n >= SETTLE_FRAMES || performance.now() > deadline) {
          remove();
          S.settled.push(n >= SETTLE_FRAMES);
          resolve(n >= SETTLE_FRAMES);
        }
      });
    });
  }

  // The deepest tile known in the tree that has content, nearest the camera;
  // leaves (no children, not an external tileset) win over inner tiles.
  function pickTarget() {
    let best = null, bestKey = null;
    const cam = scene.camera.positionWC;
    (function walk(t, d) {
      if (!t.hasEmptyContent) {
        const leaf = t.children.length === 0 && !t.hasTilesetContent;
        const dist = Cesium.Cartesian3.distance(cam, t.boundingSphere.center);
        const key = [leaf ? 1 : 0, d, -dist];
        if (!bestKey || key[0] > bestKey[0] || (key[0] === bestKey[0] && (key[1] > bestKey[1] ||
          (key[1] === bestKey[1] && key[2] > bestKey[2])))) { best = t; bestKey = key; }
      }
      for (const c of t.children) walk(c, d + 1);
    })(tileset.root, 0);
    return best;
  }

  // The canvas's pixels after the next frame: a mask of the coloured ones (any channel over
  // 24 on the black globe) and the frame as a PNG data URL.
  function frame() {
    return new Promise((resolve) => {
      const remove = scene.postRender.addEventListener(() => {
        remove();
        const c = scene.canvas;
        const copy = document.createElement('canvas');
        copy.width = c.width; copy.height = c.height;
        const g = copy.getContext('2d');
        g.drawImage(c, 0, 0);
        const px = g.getImageData(0, 0, c.width, c.height).data;
        // 1: coloured (any channel over 24), 2: also bright (channels summing over 350).
        const mask = new Uint8Array(c.width * c.height);
        for (let i = 0; i < mask.length; i += 1) {
          const [r, g, b] = [px[4 * i], px[4 * i + 1], px[4 * i + 2]];
          mask[i] = r + g + b > 350 ? 2 : r > 24 || g > 24 || b > 24 ? 1 : 0;
        }
        resolve({ mask, width: c.width, height: c.height, png: copy.toDataURL('image/png') });
      });
      scene.requestRender();
    });
  }

  // The same view rendered with the imagery alone and the tileset alone, compared.
  async function overlay() {
    const layer = viewer.imageryLayers.get(0);
    const base = scene.globe.baseColor;
    scene.globe.baseColor = Cesium.Color.BLACK;
    tileset.show = false;
    await settle();
    const a = await frame();
    tileset.show = true;
    layer.show = false;
    await settle();
    const b = await frame();
    layer.show = true;
    scene.globe.baseColor = base;
    // Counts over the pixels where both frames are defined after moving the tiles' frame
    // by (dx, dy): tiles' coloured pixels, those on coloured imagery, bright imagery pixels,
    // those under the tiles.
    function compare(dx, dy) {
      let [tiles, tilesOn, bright, brightUnder] = [0, 0, 0, 0];
      for (let y = Math.max(0, dy); y < a.height; y += 1) {
        for (let x = Math.max(0, dx); x < a.width; x += 1) {
          const [i, j] = [y * a.width + x, (y - dy) * a.width + (x - dx)];
          const t = b.mask[j] > 0;
          tiles += t;
          tilesOn += t && a.mask[i] > 0;
          bright += a.mask[i] === 2;
          brightUnder += a.mask[i] === 2 && t;
        }
      }
      return { tiles, tiles_on_imagery: tilesOn / Math.max(tiles, 1), bright, bright_under_tiles: brightUnder / Math.max(bright, 1) };
    }
    return { ...compare(0, 0), shifted: compare(12, 12), png_imagery: a.png, png_tiles: b.png };
  }

  return (async () => {
    S.phase = 'tileset';
    tileset = await Cesium.Cesium3DTileset.fromUrl('/' + CFG.tileset);
    tileset.tileLoad.addEventListener(onTileLoad);
    tileset.tileFailed.addEventListener((e) => {
      S.tileFailed += 1;
      S.failures.push({ url: String(e.url), message: String(e.message) });
    });
    scene.primitives.add(tileset);
    mark('tileset_json');

    S.phase = 'zoomTo';
    await viewer.zoomTo(tileset);
    await settle();
    mark('overview_settled');

    S.phase = 'closer';
    for (let round = 0; round < MAX_ROUNDS && performance.now() < deadline; round += 1) {
      const target = pickTarget();
      if (!target) break;
      const sphere = target.boundingSphere;
      scene.camera.viewBoundingSphere(sphere,
        new Cesium.HeadingPitchRange(0, -Math.PI / 4, Math.max(2 * sphere.radius, 50)));
      scene.camera.lookAtTransform(Cesium.Matrix4.IDENTITY); // release the camera
      await settle();
      if (target.children.length === 0 && !target.hasTilesetContent) break; // reached a leaf
    }
    mark('close_settled');
    if (CFG.overlay && viewer.imageryLayers.length > 0) {
      S.phase = 'overlay';
      S.overlay = await overlay();
      mark('overlay_settled');
    }
    S.phase = 'done';
    return S;
  })();
}

pageHtml = `<!doctype html>
<html><head><meta charset="utf-8"><title>iwp cesium-load</title>
<script>window.CESIUM_BASE_URL = '/cesium/';</script>
<script src="/cesium/Cesium.js"></script>
<link href="/cesium/Widgets/widgets.css" rel="stylesheet">
<style>html, body, #c { margin: 0; width: 100%; height: 100%; overflow: hidden; }</style>
</head><body><div id="c"></div>
<script>
${pageMain.toString()}
pageMain(${JSON.stringify({
  tileset: opts.tileset.split(path.sep).join('/'),
  imageryTemplate: opts.imageryTemplate, imageryMaxLevel: opts.imageryMaxLevel, overlay: !!opts.overlay,
})}).then((r) => { window.__result = r; },
  (e) => { window.__result = Object.assign(window.__state || {}, { error: String(e && e.stack || e) }); });
</script></body></html>
`;

// ---- the browser -----------------------------------------------------------------
const out = {
  tileLoad: 0, tileFailed: 0, failures: [], external_requests: [], leaves_loaded: 0, max_depth_loaded: -1,
  console_errors: [], not_found: notFound, settled: [], timed_out: false, timings_ms: {}, screenshot: null,
};
const started = Date.now();
let browser;
let status = 0;
try {
  // Fenced to 127.0.0.1 (harness.mjs): other requests are aborted and listed.
  const b = await browse({ width: 800, height: 600 });
  browser = b.browser;
  const { page } = b;
  out.external_requests = b.report.external;
  out.console_errors = b.report.consoleErrors;

  // The page gets what is left of --timeout-secs, less a margin for screenshot and exit.
  const budgetMs = Math.max(2000, opts.timeoutSecs * 1000 - (Date.now() - started) - 4000);
  await page.addInitScript((ms) => { window.__budgetMs = ms; }, budgetMs);
  await page.goto(`${base}/__harness__/index.html`, { waitUntil: 'load', timeout: budgetMs });
  out.timings_ms.page_loaded = Date.now() - started;
  if (!(await page.evaluate(() => typeof Cesium !== 'undefined'))) throw new Error('Cesium.js did not load');

  let result;
  try {
    // The page stops waiting by itself at its budget; this is the backstop.
    await page.waitForFunction(() => window.__result !== undefined, null, { timeout: budgetMs + 2000, polling: 250 });
    result = await page.evaluate(() => window.__result);
  } catch {
    out.timed_out = true;
    result = await page.evaluate(() => window.__state || {});
  }
  for (const k of ['tileLoad', 'tileFailed', 'failures', 'leaves_loaded', 'max_depth_loaded', 'feature_sample', 'settled', 'error', 'phase', 'overlay']) {
    if (result[k] !== undefined) out[k] = result[k];
  }
  if (out.overlay) {
    for (const which of ['imagery', 'tiles']) {
      const png = out.overlay[`png_${which}`];
      delete out.overlay[`png_${which}`];
      if (opts.screenshot && png) {
        const file = opts.screenshot.replace(/(\.png)?$/, `-${which}.png`);
        fs.writeFileSync(file, Buffer.from(png.split(',')[1], 'base64'));
      }
    }
  }
  Object.assign(out.timings_ms, result.timings_ms || {});
  if (out.settled.includes(false)) out.timed_out = true; // a settle wait ran out of time
  if (out.error) status = 1; // Cesium or the tileset itself failed to load
  if (opts.screenshot) {
    await page.screenshot({ path: opts.screenshot });
    out.screenshot = opts.screenshot;
  }
} catch (e) {
  out.error = String(e && e.message ? e.message : e);
  status = 1;
} finally {
  out.timings_ms.total = Date.now() - started;
  if (browser) await browser.close().catch(() => {});
  server.close();
}
console.log(JSON.stringify(out));
process.exit(status);
