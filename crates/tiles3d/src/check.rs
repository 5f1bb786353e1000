//! Structural checks of a tileset on disk, by the rules of 3D Tiles: the root has `refine`,
//! every bounding region holds its children's, geometric errors never grow downwards (0 at
//! leaves), every content URI resolves to a file, and every GLB (or B3DM) has its lengths and
//! 8-byte alignment right. External tilesets are followed.

use serde_json::Value;
use std::path::Path;

/// Region containment allows this much (radians, about 1 mm; metres for heights).
const SLACK: f64 = 1e-10;

/// What a check found: the problems (empty: valid) and what it looked at.
#[derive(Debug, Default)]
pub struct Report {
    /// One message per broken rule.
    pub problems: Vec<String>,
    /// Tileset files read.
    pub tilesets: usize,
    /// Tiles (nodes) seen, in all the files.
    pub tiles: usize,
    /// Content files that are GLB or B3DM (not tilesets), checked.
    pub contents: usize,
}

/// Checks the tileset at `path` and everything it references.
pub fn check(path: &Path) -> Report {
    let mut report = Report::default();
    tileset(path, None, f64::INFINITY, &mut report);
    report
}

fn tileset(path: &Path, parent: Option<[f64; 6]>, parent_error: f64, report: &mut Report) {
    report.tilesets += 1;
    let json: Value = match std::fs::read(path)
        .map_err(|e| e.to_string())
        .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
    {
        Ok(j) => j,
        Err(e) => return report.problems.push(format!("{}: {e}", path.display())),
    };
    let at = path.display().to_string();
    if json["asset"]["version"].as_str().is_none() {
        report.problems.push(format!("{at}: no asset.version"));
    }
    let root = &json["root"];
    if parent.is_none() && root["refine"].as_str().is_none() {
        report.problems.push(format!("{at}: the root has no refine"));
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    tile(root, &format!("{at}#root"), dir, parent, parent_error, report);
}

fn region(node: &Value) -> Option<[f64; 6]> {
    let r = node["boundingVolume"]["region"].as_array()?;
    let v: Vec<f64> = r.iter().filter_map(Value::as_f64).collect();
    (v.len() == 6).then(|| [v[0], v[1], v[2], v[3], v[4], v[5]])
}

fn tile(node: &Value, at: &str, dir: &Path, parent: Option<[f64; 6]>, parent_error: f64, report: &mut Report) {
    report.tiles += 1;
    let Some(r) = region(node) else {
        return report.problems.push(format!("{at}: no region bounding volume"));
    };
    if r[0] > r[2] || r[1] > r[3] || r[4] > r[5] {
        report.problems.push(format!("{at}: region {r:?} has min above max"));
    }
    if let Some(p) = parent {
        let inside = r[0] >= p[0] - SLACK
            && r[1] >= p[1] - SLACK
            && r[2] <= p[2] + SLACK
            && r[3] <= p[3] + SLACK
            && r[4] >= p[4] - SLACK
            && r[5] <= p[5] + SLACK;
        if !inside {
            report.problems.push(format!("{at}: region {r:?} not inside its parent's {p:?}"));
        }
    }
    let error = node["geometricError"].as_f64().unwrap_or(f64::NAN);
    if !(error >= 0.0 && error <= parent_error) {
        report.problems.push(format!("{at}: geometricError {error} above its parent's {parent_error} (or missing)"));
    }
    let children = node["children"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    if let Some(uri) = node["content"]["uri"].as_str() {
        let file = dir.join(uri);
        if !file.is_file() {
            report.problems.push(format!("{at}: content {uri} does not resolve ({})", file.display()));
        } else if uri.ends_with(".json") {
            tileset(&file, Some(r), error, report);
        } else {
            report.contents += 1;
            if let Err(e) = content(&file) {
                report.problems.push(format!("{at}: {uri}: {e}"));
            }
            if children.is_empty() && error != 0.0 {
                report.problems.push(format!("{at}: a leaf's geometricError is {error}, not 0"));
            }
        }
    }
    for (k, c) in children.iter().enumerate() {
        tile(c, &format!("{at}/{k}"), dir, Some(r), error, report);
    }
}

/// The header lengths and alignment of a GLB, or of a B3DM and the GLB inside it.
fn content(path: &Path) -> Result<(), String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    let u32_at = |o: usize| bytes.get(o..o + 4).map(|b| u32::from_le_bytes(b.try_into().unwrap()) as usize);
    let glb_at = match bytes.get(0..4) {
        Some(b"glTF") => 0,
        Some(b"b3dm") => {
            let lengths: Option<Vec<usize>> = (0..7).map(|k| u32_at(4 * k)).collect();
            let l = lengths.ok_or("b3dm header cut short")?;
            if l[2] != bytes.len() || !bytes.len().is_multiple_of(8) {
                return Err(format!(
                    "b3dm byteLength {} for {} bytes (must be equal, a multiple of 8)",
                    l[2],
                    bytes.len()
                ));
            }
            let at = 28 + l[3] + l[4] + l[5] + l[6];
            if !at.is_multiple_of(8) || !(28 + l[3]).is_multiple_of(8) || !(28 + l[3] + l[4] + l[5]).is_multiple_of(8) {
                return Err("b3dm tables not 8-byte aligned".into());
            }
            at
        }
        _ => return Err("neither GLB nor B3DM".into()),
    };
    let total = u32_at(glb_at + 8).ok_or("GLB header cut short")?;
    if glb_at + total != bytes.len() || !total.is_multiple_of(8) {
        return Err(format!(
            "GLB length {total} at {glb_at} in {} bytes (must end the file, a multiple of 8)",
            bytes.len()
        ));
    }
    let json_len = u32_at(glb_at + 12).ok_or("GLB cut short")?;
    if !(glb_at + 28 + json_len).is_multiple_of(8) {
        return Err("GLB binary chunk data not 8-byte aligned".into());
    }
    Ok(())
}
