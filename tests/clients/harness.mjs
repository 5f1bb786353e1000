// Shared by the page checks: a static HTTP server on 127.0.0.1 and Debian's headless Chromium
// (through playwright-core, SwiftShader WebGL) fenced so that nothing leaves 127.0.0.1, with the
// CDN URLs of pinned libraries answered from node_modules.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
const CHROMIUM = process.env.IWP_CHROMIUM || '/usr/bin/chromium';

const TYPES = {
  '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css',
  '.json': 'application/json', '.glb': 'model/gltf-binary', '.gltf': 'model/gltf+json',
  '.b3dm': 'application/octet-stream', '.subtree': 'application/octet-stream', '.bin': 'application/octet-stream',
  '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.webp': 'image/webp',
  '.svg': 'image/svg+xml', '.wasm': 'application/wasm', '.ktx2': 'image/ktx2', '.xml': 'application/xml',
  '.pmtiles': 'application/octet-stream',
};

/// The content type of a file name.
export function typeOf(file) {
  return TYPES[path.extname(file).toLowerCase()] || 'application/octet-stream';
}

/// Serves `mounts` ({'/prefix/': folder}, '/' last) on a free port of 127.0.0.1, with HTTP
/// range requests; `extra(urlPath)` may answer a path first (returns {type, body} or null).
/// Resolves to {base, notFound, close}.
export async function serve(mounts, extra = () => null) {
  const notFound = [];
  const server = http.createServer((req, res) => {
    const urlPath = decodeURIComponent(new URL(req.url, 'http://127.0.0.1').pathname);
    const own = extra(urlPath);
    if (own) {
      res.writeHead(200, { 'content-type': own.type, 'cache-control': 'no-store' });
      res.end(own.body);
      return;
    }
    const prefix = Object.keys(mounts).find((p) => urlPath.startsWith(p));
    const root = prefix && mounts[prefix];
    const file = root ? path.resolve(root, urlPath.slice(prefix.length)) : '';
    let size = -1;
    if (root && file.startsWith(root + path.sep)) {
      try { const st = fs.statSync(file); if (st.isFile()) size = st.size; } catch { /* missing */ }
    }
    if (size < 0) {
      if (urlPath !== '/favicon.ico') notFound.push(urlPath);
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range || '');
    const headers = { 'content-type': typeOf(file), 'cache-control': 'no-store', 'accept-ranges': 'bytes' };
    if (range) {
      const start = Number(range[1]);
      const end = Math.min(range[2] ? Number(range[2]) : size - 1, size - 1);
      res.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${end}/${size}`, 'content-length': end - start + 1 });
      fs.createReadStream(file, { start, end }).pipe(res);
      return;
    }
    res.writeHead(200, { ...headers, 'content-length': size });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { base: `http://127.0.0.1:${server.address().port}`, notFound, close: () => server.close() };
}

/// Launches headless Chromium and a page of `viewport` ({width, height}). Requests to
/// https://cdn.jsdelivr.net/npm/NAME@VERSION/REST are answered from node_modules/NAME/REST when
/// node_modules holds NAME at VERSION; any other request off 127.0.0.1 is aborted and listed in
/// `external`. Console errors (but Chromium's "Failed to load resource") go to `consoleErrors`,
/// responses of status 400 or more to `failed`.
export async function browse(viewport) {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist',
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'],
  });
  const context = await browser.newContext({ viewport });
  const report = { external: [], consoleErrors: [], failed: [], fromNodeModules: 0 };
  await context.route('**/*', (route) => {
    const u = new URL(route.request().url());
    if (!/^(https?|wss?):$/.test(u.protocol) || u.hostname === '127.0.0.1') return route.continue();
    const cdn = /^\/npm\/((?:@[^/]+\/)?[^@/]+)@([^/]+)\/(.*)$/.exec(u.pathname);
    if (u.hostname === 'cdn.jsdelivr.net' && cdn) {
      const [, name, version, rest] = cdn;
      const dir = path.join(HERE, 'node_modules', name);
      const file = path.resolve(dir, rest);
      let pinned = false;
      try { pinned = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'))).version === version; } catch { /* absent */ }
      if (pinned && file.startsWith(dir + path.sep) && fs.existsSync(file) && fs.statSync(file).isFile()) {
        report.fromNodeModules += 1;
        return route.fulfill({ status: 200, contentType: typeOf(file), body: fs.readFileSync(file) });
      }
    }
    report.external.push(u.href);
    return route.abort('blockedbyclient');
  });
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) report.consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => report.consoleErrors.push(`pageerror: ${e.message}`));
  page.on('response', (r) => { if (r.status() >= 400) report.failed.push({ url: r.url(), status: r.status() }); });
  return { browser, page, report };
}
