#!/usr/bin/env node
// Validates glTF 2.0 content with the Khronos glTF-Validator (npm gltf-validator).
// Usage: node validate-gltf.mjs FILE...   (.glb, .gltf, or .b3dm: its embedded GLB)
// Prints one JSON line per file:
//   {"file", "errors", "warnings", "infos", "hints", "messages": [first 10 issues]}
// Exit status: 0 all clean, 1 some file has an error or a warning, 2 usage error.
// Note: the validator does not know EXT_mesh_features / EXT_structural_metadata; it
// reports them as UNSUPPORTED_EXTENSION infos (and their buffer views as UNUSED_OBJECT
// infos), so only errors and warnings fail a file.
import fs from 'node:fs';
import path from 'node:path';
import validator from 'gltf-validator';

const SEVERITY = ['error', 'warning', 'info', 'hint'];
const files = process.argv.slice(2);
if (files.length === 0 || files.some((f) => f.startsWith('-'))) {
  console.error('usage: node validate-gltf.mjs FILE.glb|FILE.gltf|FILE.b3dm ...');
  process.exit(2);
}
const bad = files.filter((f) => !/\.(glb|gltf|b3dm)$/i.test(f));
if (bad.length) {
  console.error(`validate-gltf: not .glb/.gltf/.b3dm: ${bad.join(' ')}`);
  process.exit(2);
}

// Returns {glb, issues}: the GLB inside a b3dm, plus issues found in its header.
// Header: magic 'b3dm', version, byteLength, featureTableJSONByteLength,
// featureTableBinaryByteLength, batchTableJSONByteLength, batchTableBinaryByteLength.
function unwrapB3dm(buf) {
  const issues = [];
  const err = (code, message, severity = 0) => issues.push({ code, severity, pointer: '', message });
  if (buf.length < 28 || buf.toString('ascii', 0, 4) !== 'b3dm') {
    err('B3DM_HEADER', 'not a b3dm: missing 28-byte header with magic "b3dm"');
    return { glb: null, issues };
  }
  const [version, byteLength, ftJson, ftBin, btJson, btBin] =
    [4, 8, 12, 16, 20, 24].map((o) => buf.readUInt32LE(o));
  if (version !== 1) err('B3DM_HEADER', `version ${version}, expected 1`);
  if (byteLength !== buf.length) err('B3DM_HEADER', `byteLength ${byteLength} != file size ${buf.length}`);
  const glbStart = 28 + ftJson + ftBin + btJson + btBin;
  if (glbStart >= buf.length) {
    err('B3DM_HEADER', `tables end at ${glbStart}, beyond the file (${buf.length} bytes)`);
    return { glb: null, issues };
  }
  if (glbStart % 8 !== 0) err('B3DM_ALIGNMENT', `embedded GLB starts at byte ${glbStart}, not 8-byte aligned`, 1);
  // The feature table JSON must parse and carry BATCH_LENGTH; the batch table JSON must parse.
  try {
    const ft = JSON.parse(buf.toString('utf8', 28, 28 + ftJson));
    if (!Number.isInteger(ft.BATCH_LENGTH)) err('B3DM_FEATURE_TABLE', 'feature table has no integer BATCH_LENGTH');
  } catch (e) { err('B3DM_FEATURE_TABLE', `feature table JSON: ${e.message}`); }
  if (btJson > 0) {
    const o = 28 + ftJson + ftBin;
    try { JSON.parse(buf.toString('utf8', o, o + btJson)); } catch (e) { err('B3DM_BATCH_TABLE', `batch table JSON: ${e.message}`); }
  }
  return { glb: buf.subarray(glbStart, Math.min(byteLength, buf.length)), issues };
}

async function validateFile(file) {
  const out = { file, errors: 0, warnings: 0, infos: 0, hints: 0, messages: [] };
  let issues = [];
  try {
    let bytes = fs.readFileSync(file);
    if (/\.b3dm$/i.test(file)) {
      const u = unwrapB3dm(bytes);
      issues = u.issues;
      bytes = u.glb;
    }
    if (bytes) {
      const report = await validator.validateBytes(new Uint8Array(bytes), {
        uri: path.basename(file),
        maxIssues: 0, // unlimited: counts must be complete
        // Buffers/images referenced by URI are read relative to the file.
        externalResourceFunction: (uri) => fs.promises.readFile(
          path.resolve(path.dirname(file), decodeURIComponent(uri))).then((b) => new Uint8Array(b)),
      });
      issues = issues.concat(report.issues.messages);
    }
  } catch (e) {
    // Unreadable file or a format the validator could not detect.
    issues.push({ code: 'IO_ERROR', severity: 0, pointer: '', message: String(e && e.message ? e.message : e) });
  }
  for (const m of issues) out[`${SEVERITY[m.severity]}s`] += 1;
  out.messages = issues.slice(0, 10).map((m) => ({
    code: m.code, severity: SEVERITY[m.severity], pointer: m.pointer ?? '', message: m.message,
  }));
  return out;
}

let failed = false;
for (const file of files) {
  const r = await validateFile(file);
  if (r.errors > 0 || r.warnings > 0) failed = true;
  console.log(JSON.stringify(r));
}
process.exit(failed ? 1 : 0);
