#!/usr/bin/env node
// Writes a tiny, valid 3D Tiles 1.1 sample into OUTDIR, used to develop and
// self-test the harness (validate-gltf.mjs, cesium-load.mjs):
//   OUTDIR/tileset.json  root (region, no content, refine ADD) -> one child with content
//   OUTDIR/tile.glb      two flat triangles near lon -150°, lat 70°, 10 m above the
//                        ellipsoid, as ECEF offsets from an RTC centre stored in the
//                        node translation (so POSITION stays small float32)
// Options:
//   --features      add EXT_mesh_features (_FEATURE_ID_0) + EXT_structural_metadata
//                   (a property table with 2 rows), like iwp-3dtiles writes
//   --format b3dm   wrap the GLB in a Batched 3D Model (tile.b3dm) instead
//   --broken        write a wrong POSITION max (validator must flag it)
//   --imagery       also write web_tiles/sample/WorldCRS84Quad/{z}/{x}/{y}.png, z 0..2
//                   (2x1 tiles at z0), for cesium-load.mjs --imagery-template
// Usage: node make-sample.mjs OUTDIR [--features] [--format glb|b3dm] [--broken] [--imagery]
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const args = process.argv.slice(2);
const outDir = args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--format');
const fmtIdx = args.indexOf('--format');
const format = fmtIdx >= 0 ? args[fmtIdx + 1] : 'glb';
const withFeatures = args.includes('--features');
const broken = args.includes('--broken');
const withImagery = args.includes('--imagery');
if (!outDir || !['glb', 'b3dm'].includes(format)) {
  console.error('usage: node make-sample.mjs OUTDIR [--features] [--format glb|b3dm] [--broken] [--imagery]');
  process.exit(2);
}

// WGS84 geodetic (degrees, metres) -> ECEF (metres).
const rad = (d) => (d * Math.PI) / 180;
function ecef(lonDeg, latDeg, h) {
  const a = 6378137.0, e2 = 6.69437999014e-3;
  const lon = rad(lonDeg), lat = rad(latDeg);
  const n = a / Math.sqrt(1 - e2 * Math.sin(lat) ** 2);
  return [(n + h) * Math.cos(lat) * Math.cos(lon), (n + h) * Math.cos(lat) * Math.sin(lon),
    (n * (1 - e2) + h) * Math.sin(lat)];
}
// 3D Tiles treats glTF as y-up: glTF (x, y, z) = ECEF (x, z, -y). A proper rotation,
// so triangle winding (counter-clockwise seen from above) is kept.
const toGltf = ([x, y, z]) => [x, z, -y];

const H = 10; // metres above the ellipsoid (keeps clear of the globe surface)
const [W, E, S, N] = [-150.03, -149.97, 69.99, 70.01];
const centre = toGltf(ecef(-150, 70, H));
// Two separate triangles: lower-left, lower-right, top (CCW seen from above).
const corners = [
  [W, S], [-150.005, S], [-150.0175, N],
  [-149.995, S], [E, S], [-149.9825, N],
];
const pos = new Float32Array(corners.flatMap(([lo, la]) =>
  toGltf(ecef(lo, la, H)).map((v, k) => v - centre[k])));
const min = [0, 1, 2].map((k) => Math.min(...[0, 1, 2, 3, 4, 5].map((i) => pos[3 * i + k])));
const max = [0, 1, 2].map((k) => Math.max(...[0, 1, 2, 3, 4, 5].map((i) => pos[3 * i + k])));
if (broken) max[0] += 1; // deliberately wrong: ACCESSOR_MAX_MISMATCH
const indices = new Uint16Array([0, 1, 2, 3, 4, 5]);

// Binary buffer: pieces appended at 8-byte-aligned offsets.
const pieces = [];
let byteLength = 0;
const bufferViews = [];
function addView(typed, extra = {}) {
  const bytes = new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
  const pad = (8 - (byteLength % 8)) % 8;
  if (pad) pieces.push(new Uint8Array(pad));
  byteLength += pad;
  bufferViews.push({ buffer: 0, byteOffset: byteLength, byteLength: bytes.length, ...extra });
  pieces.push(bytes);
  byteLength += bytes.length;
  return bufferViews.length - 1;
}

const gltf = {
  asset: { version: '2.0', generator: 'iwp tests/clients/make-sample.mjs' },
  scene: 0,
  scenes: [{ nodes: [0] }],
  nodes: [{ mesh: 0, translation: centre }],
  materials: [{
    pbrMetallicRoughness: { baseColorFactor: [1.0, 0.45, 0.0, 1.0], metallicFactor: 0, roughnessFactor: 1 },
    doubleSided: true,
  }],
  meshes: [{ primitives: [{ attributes: { POSITION: 0 }, indices: 1, material: 0, mode: 4 }] }],
  accessors: [
    { bufferView: addView(pos, { target: 34962 }), componentType: 5126, count: 6, type: 'VEC3', min, max },
    { bufferView: addView(indices, { target: 34963 }), componentType: 5123, count: 6, type: 'SCALAR' },
  ],
  bufferViews,
  buffers: [{ byteLength: 0 }],
};

if (withFeatures) {
  // Feature ID per vertex (float, 4-byte aligned) -> row of a property table.
  gltf.accessors.push({ bufferView: addView(new Float32Array([0, 0, 0, 1, 1, 1]), { target: 34962 }),
    componentType: 5126, count: 6, type: 'SCALAR' });
  gltf.meshes[0].primitives[0].attributes._FEATURE_ID_0 = 2;
  gltf.meshes[0].primitives[0].extensions = {
    EXT_mesh_features: { featureIds: [{ featureCount: 2, attribute: 0, propertyTable: 0 }] },
  };
  const names = ['west', 'east'];
  const enc = new TextEncoder();
  const strBytes = enc.encode(names.join(''));
  const offsets = new Uint32Array([0, ...names.map((_, i) => enc.encode(names.slice(0, i + 1).join('')).length)]);
  gltf.extensions = {
    EXT_structural_metadata: {
      schema: { id: 'iwp_sample', classes: { polygon: { properties: {
        area_m2: { type: 'SCALAR', componentType: 'FLOAT64' },
        name: { type: 'STRING' },
      } } } },
      propertyTables: [{ class: 'polygon', count: 2, properties: {
        area_m2: { values: addView(new Float64Array([1.5e6, 1.5e6])) },
        name: { values: addView(strBytes), stringOffsets: addView(offsets) },
      } }],
    },
  };
  gltf.extensionsUsed = ['EXT_mesh_features', 'EXT_structural_metadata'];
}

// GLB container: header, JSON chunk (space-padded), BIN chunk (zero-padded).
const bin = new Uint8Array(Math.ceil(byteLength / 4) * 4);
{ let o = 0; for (const p of pieces) { bin.set(p, o); o += p.length; } }
gltf.buffers[0].byteLength = byteLength;
let json = Buffer.from(JSON.stringify(gltf));
json = Buffer.concat([json, Buffer.alloc((4 - (json.length % 4)) % 4, 0x20)]);
const glb = Buffer.alloc(12 + 8 + json.length + 8 + bin.length);
glb.write('glTF', 0, 'ascii');
glb.writeUInt32LE(2, 4);
glb.writeUInt32LE(glb.length, 8);
glb.writeUInt32LE(json.length, 12);
glb.writeUInt32LE(0x4e4f534a, 16); // 'JSON'
json.copy(glb, 20);
glb.writeUInt32LE(bin.length, 20 + json.length);
glb.writeUInt32LE(0x004e4942, 24 + json.length); // 'BIN\0'
Buffer.from(bin.buffer).copy(glb, 28 + json.length);

// Optional b3dm wrapper: 28-byte header, feature table JSON padded to 8 bytes.
let content = glb, contentName = 'tile.glb';
if (format === 'b3dm') {
  let ft = Buffer.from(JSON.stringify({ BATCH_LENGTH: 0 }));
  ft = Buffer.concat([ft, Buffer.alloc((8 - ((28 + ft.length) % 8)) % 8, 0x20)]);
  const header = Buffer.alloc(28);
  header.write('b3dm', 0, 'ascii');
  header.writeUInt32LE(1, 4);
  header.writeUInt32LE(28 + ft.length + glb.length, 8);
  header.writeUInt32LE(ft.length, 12); // feature table JSON; the other three tables are empty
  content = Buffer.concat([header, ft, glb]);
  contentName = 'tile.b3dm';
}

const region = [rad(W), rad(S), rad(E), rad(N), 0, 20];
const tileset = {
  asset: { version: '1.1', generator: 'iwp tests/clients/make-sample.mjs' },
  geometricError: 5000,
  root: {
    boundingVolume: { region },
    geometricError: 1000,
    refine: 'ADD',
    children: [{ boundingVolume: { region }, geometricError: 0, content: { uri: contentName } }],
  },
};
fs.mkdirSync(outDir, { recursive: true });
fs.writeFileSync(path.join(outDir, contentName), content);
fs.writeFileSync(path.join(outDir, 'tileset.json'), JSON.stringify(tileset, null, 2) + '\n');
// Imagery pyramid: solid 256x256 RGB PNGs, a checkerboard of two greens per level.
function png(rgb) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (b) => { let c = 0xffffffff; for (const x of b) c = crcTable[(c ^ x) & 0xff] ^ (c >>> 8); return (c ^ 0xffffffff) >>> 0; };
  const chunk = (type, data) => {
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const c = Buffer.alloc(4); c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(256, 0); ihdr.writeUInt32BE(256, 4); ihdr[8] = 8; ihdr[9] = 2; // 8-bit RGB
  const row = Buffer.concat([Buffer.from([0]), Buffer.alloc(256 * 3).map((_, i) => rgb[i % 3])]);
  const raw = Buffer.concat(Array.from({ length: 256 }, () => row));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}
if (withImagery) {
  const tiles = [png([30, 110, 40]), png([60, 160, 70])];
  for (let z = 0; z <= 2; z += 1) {
    for (let x = 0; x < 2 << z; x += 1) {
      for (let y = 0; y < 1 << z; y += 1) {
        const dir = path.join(outDir, 'web_tiles', 'sample', 'WorldCRS84Quad', String(z), String(x));
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(path.join(dir, `${y}.png`), tiles[(x + y) % 2]);
      }
    }
  }
  console.log(`wrote ${path.join(outDir, 'web_tiles/sample/WorldCRS84Quad')}/{z}/{x}/{y}.png, z 0..2`);
}
console.log(`wrote ${path.join(outDir, 'tileset.json')} and ${path.join(outDir, contentName)} (${content.length} bytes)`);
