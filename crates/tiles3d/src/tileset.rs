//! The tileset.json hierarchy above the contents: one node per tile of the tiling scheme from
//! level 0 down to the contents' level, each with a `region` bounding volume holding its
//! children, a geometric error that shrinks with depth (0 at the contents), refine `ADD` with
//! empty parents (each polygon is drawn once, by its leaf). Subtrees starting every
//! `split_levels` levels go into external tilesets, so no JSON file grows past a few thousand
//! nodes.

use iwp_core::tms::{Tile, Tms};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// One content (leaf) of the hierarchy.
#[derive(Debug, Clone, PartialEq)]
pub struct Leaf {
    /// Its tile.
    pub tile: Tile,
    /// Its URI relative to the folder of the tileset files.
    pub uri: String,
    /// West, south, east, north (degrees) and minimum and maximum height (metres) of its
    /// polygons.
    pub region: [f64; 6],
}

/// A tileset file to write: its path relative to the root folder and its JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct TilesetFile {
    /// `tileset.json`, or `subtrees/Z/X/Y.json` for an external tileset.
    pub path: String,
    /// The file's JSON.
    pub json: Value,
    /// Tiles (nodes) in it.
    pub nodes: usize,
}

/// Metres per degree of latitude (the geometric errors need only a rough size).
const METRES_PER_DEGREE: f64 = 111_320.0;

/// The geometric error of a node at level `z`: a tenth of its tiles' width in metres, so a
/// node's children are shown once its tile is a few hundred pixels wide on screen.
pub fn geometric_error(tms: &Tms, z: u8) -> f64 {
    tms.span(z) * METRES_PER_DEGREE / 10.0
}

/// The union of two regions.
fn union(a: [f64; 6], b: [f64; 6]) -> [f64; 6] {
    [a[0].min(b[0]), a[1].min(b[1]), a[2].max(b[2]), a[3].max(b[3]), a[4].min(b[4]), a[5].max(b[5])]
}

/// A region in the tileset's units: radians, metres.
fn region_json(r: [f64; 6]) -> Value {
    json!({"region": [r[0].to_radians(), r[1].to_radians(), r[2].to_radians(), r[3].to_radians(), r[4], r[5]]})
}

/// The hierarchy over `leaves` (all at one level), as the root tileset.json and its external
/// tilesets (a subtree at every level that is a multiple of `split_levels`, above the leaves).
pub fn build(tms: &Tms, leaves: &[Leaf], split_levels: u8) -> Vec<TilesetFile> {
    let split_levels = split_levels.max(1);
    // Every ancestor's region, the union of its leaves'.
    let mut regions: BTreeMap<Tile, [f64; 6]> = BTreeMap::new();
    let mut by_tile: BTreeMap<Tile, &Leaf> = BTreeMap::new();
    for leaf in leaves {
        by_tile.insert(leaf.tile, leaf);
        let mut t = Some(leaf.tile);
        while let Some(tile) = t {
            regions.entry(tile).and_modify(|r| *r = union(*r, leaf.region)).or_insert(leaf.region);
            t = tile.parent();
        }
    }
    let tops: Vec<Tile> = regions.keys().filter(|t| t.z == 0).copied().collect();
    let mut files = Vec::new();
    let children: Vec<Value> =
        tops.iter().map(|t| node(tms, *t, &regions, &by_tile, split_levels, true, &mut files)).collect();
    let root_region = tops.iter().map(|t| regions[t]).reduce(union);
    let root_error = geometric_error(tms, 0) * 2.0;
    let mut root = json!({"geometricError": root_error, "refine": "ADD", "children": children});
    root["boundingVolume"] = region_json(root_region.unwrap_or([-180.0, -90.0, 180.0, 90.0, 0.0, 0.0]));
    let nodes = count(&root);
    files.insert(0, TilesetFile { path: "tileset.json".into(), json: tileset(root, root_error), nodes });
    files
}

/// A tileset file's JSON around `root`.
fn tileset(root: Value, error: f64) -> Value {
    json!({"asset": {"version": "1.1", "generator": concat!("iwp-3dtiles ", env!("CARGO_PKG_VERSION"))},
        "geometricError": error, "root": root})
}

/// Nodes in a tree of JSON tiles.
fn count(node: &Value) -> usize {
    1 + node["children"].as_array().map_or(0, |c| c.iter().map(count).sum())
}

/// The node of `tile`: a leaf with its content, or a parent of the children that have leaves
/// below; a parent starting a subtree (not at the top) becomes a reference to an external
/// tileset added to `files`.
fn node(
    tms: &Tms,
    tile: Tile,
    regions: &BTreeMap<Tile, [f64; 6]>,
    leaves: &BTreeMap<Tile, &Leaf>,
    split_levels: u8,
    in_file_top: bool,
    files: &mut Vec<TilesetFile>,
) -> Value {
    let volume = region_json(regions[&tile]);
    if let Some(leaf) = leaves.get(&tile) {
        return json!({"boundingVolume": volume, "geometricError": 0.0, "content": {"uri": leaf.uri}});
    }
    let error = geometric_error(tms, tile.z);
    if !in_file_top && tile.z.is_multiple_of(split_levels) {
        let inner = node(tms, tile, regions, leaves, split_levels, true, files);
        let path = format!("subtrees/{}/{}/{}.json", tile.z, tile.x, tile.y);
        let nodes = count(&inner);
        // URIs inside an external tileset are relative to it: its leaves' go up three folders.
        let json = tileset(relative(inner, "../../../"), error);
        files.push(TilesetFile { path: path.clone(), json, nodes });
        return json!({"boundingVolume": volume, "geometricError": error, "content": {"uri": path}});
    }
    let children: Vec<Value> = tile
        .children()
        .iter()
        .filter(|c| regions.contains_key(c))
        .map(|c| node(tms, *c, regions, leaves, split_levels, false, files))
        .collect();
    json!({"boundingVolume": volume, "geometricError": error, "refine": "ADD", "children": children})
}

/// The tree with every content URI prefixed by `up` (for a file in a subfolder).
fn relative(mut node: Value, up: &str) -> Value {
    if let Some(uri) = node["content"]["uri"].as_str() {
        node["content"]["uri"] = format!("{up}{uri}").into();
    }
    if let Some(children) = node["children"].as_array_mut() {
        for c in children.iter_mut() {
            *c = relative(c.take(), up);
        }
    }
    node
}

#[cfg(test)]
mod tests {
    use super::*;
    use iwp_core::tms::KNOWN_TMS;

    /// Leaves on a square block of z15 tiles, each region its tile's box.
    fn block(side: u32) -> Vec<Leaf> {
        let tms = &KNOWN_TMS[0];
        let mut leaves = Vec::new();
        for x in 0..side {
            for y in 0..side {
                let tile = Tile::new(5600 + x, 3600 + y, 15);
                let b = tms.bounds(tile);
                leaves.push(Leaf {
                    tile,
                    uri: format!("15/{}/{}.glb", tile.x, tile.y),
                    region: [b.left, b.bottom, b.right, b.top, 0.0, 0.0],
                });
            }
        }
        leaves
    }

    #[test]
    fn files_stay_small_however_many_leaves() {
        // 40,000 leaves: every file holds at most a subtree of 5 levels (1 + 4 + ... + 4^5 nodes),
        // the root at most the 2 top tiles' subtrees, whatever the number of leaves.
        let files = build(&KNOWN_TMS[0], &block(200), 5);
        let leaves_seen: usize = files.iter().map(|f| f.json.to_string().matches(".glb").count()).sum();
        assert_eq!(leaves_seen, 40_000, "every leaf in one file");
        for f in &files {
            let limit = if f.path == "tileset.json" { 2 * 1365 } else { 1365 };
            assert!(f.nodes <= limit, "{}: {} nodes", f.path, f.nodes);
            assert!(f.json.to_string().len() < 1 << 20, "{}: over 1 MB", f.path);
        }
        let largest = files.iter().map(|f| f.json.to_string().len()).max().unwrap();
        eprintln!("{} files for 40,000 leaves, the largest {largest} bytes", files.len());
        let subtree = files.iter().find(|f| f.path.starts_with("subtrees/10/")).unwrap();
        let uri = subtree.json.to_string();
        assert!(uri.contains("\"../../../15/"), "leaf URIs relative to the subtree file");
    }

    #[test]
    fn parents_hold_children_and_errors_shrink() {
        let files = build(&KNOWN_TMS[0], &block(3), 99);
        assert_eq!(files.len(), 1, "no split");
        fn walk(node: &Value, parent: Option<(&Value, f64)>) -> usize {
            let r: Vec<f64> =
                node["boundingVolume"]["region"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
            let e = node["geometricError"].as_f64().unwrap();
            if let Some((p, pe)) = parent {
                let p: Vec<f64> = p.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
                assert!(r[0] >= p[0] && r[1] >= p[1] && r[2] <= p[2] && r[3] <= p[3], "{r:?} in {p:?}");
                assert!(e <= pe);
            }
            let kids = node["children"].as_array().map(Vec::as_slice).unwrap_or(&[]);
            if kids.is_empty() {
                assert_eq!(e, 0.0, "leaves have no error");
                return 1;
            }
            kids.iter().map(|k| walk(k, Some((&node["boundingVolume"]["region"], e)))).sum()
        }
        let root = &files[0].json["root"];
        assert_eq!(root["refine"], "ADD");
        assert_eq!(walk(root, None), 9);
    }
}
