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
    pub uri: Box<str>,
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
/// tilesets (a subtree at every level that is a multiple of `split_levels`, above the leaves),
/// all in memory: see [`build_each`] for large trees.
pub fn build(tms: &Tms, leaves: Vec<Leaf>, split_levels: u8) -> Vec<TilesetFile> {
    let mut files = Vec::new();
    build_each(tms, leaves, split_levels, &mut |f| {
        files.push(f);
        Ok(())
    })
    .expect("collecting files cannot fail");
    files
}

/// The hierarchy over `leaves` (all at one level; a tile given twice keeps its last leaf),
/// each file handed to `emit` as soon as it is made: an external tileset before the file that
/// refers to it, the root tileset.json last. Memory holds the leaves, their ancestors' regions
/// and one file's JSON.
pub fn build_each(
    tms: &Tms,
    mut leaves: Vec<Leaf>,
    split_levels: u8,
    emit: &mut dyn FnMut(TilesetFile) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    // Sorted by tile, the last of equal tiles first (a stable sort of the reversed list), kept.
    leaves.reverse();
    leaves.sort_by_key(|l| l.tile);
    leaves.dedup_by_key(|l| l.tile);
    // Every ancestor's region, the union of its leaves'.
    let mut regions: BTreeMap<Tile, [f64; 6]> = BTreeMap::new();
    for leaf in &leaves {
        let mut t = leaf.tile.parent();
        while let Some(tile) = t {
            regions.entry(tile).and_modify(|r| *r = union(*r, leaf.region)).or_insert(leaf.region);
            t = tile.parent();
        }
    }
    let tree = Tree { tms, leaves: &leaves, regions: &regions, split_levels: split_levels.max(1) };
    let tops: Vec<Tile> = match leaves.first() {
        Some(l) if l.tile.z == 0 => leaves.iter().map(|l| l.tile).collect(),
        _ => regions.keys().filter(|t| t.z == 0).copied().collect(),
    };
    let mut nodes = 1;
    let mut children = Vec::new();
    for t in &tops {
        let (child, n) = tree.node(*t, "", true, emit)?;
        children.push(child);
        nodes += n;
    }
    let root_region = tops.iter().filter_map(|t| tree.region(*t)).reduce(union);
    let root_error = geometric_error(tms, 0) * 2.0;
    let region = root_region.unwrap_or([-180.0, -90.0, 180.0, 90.0, 0.0, 0.0]);
    let root = tile_json(region, root_error, [("refine", Value::from("ADD")), ("children", Value::Array(children))]);
    emit(TilesetFile { path: "tileset.json".into(), json: tileset(root, root_error), nodes })
}

/// A tileset file's JSON around `root` (moved in, not copied as `json!` would).
fn tileset(root: Value, error: f64) -> Value {
    let mut file = json!({"asset": {"version": "1.1", "generator": concat!("iwp-3dtiles ", env!("CARGO_PKG_VERSION"))},
        "geometricError": error});
    file["root"] = root;
    file
}

/// A tile's JSON: its region, geometric error and `more` fields, moved in.
fn tile_json<const N: usize>(region: [f64; 6], error: f64, more: [(&str, Value); N]) -> Value {
    let mut tile = serde_json::Map::new();
    tile.insert("boundingVolume".into(), region_json(region));
    tile.insert("geometricError".into(), error.into());
    for (k, v) in more {
        tile.insert(k.into(), v);
    }
    Value::Object(tile)
}

/// The tree being written: leaves sorted by tile, their ancestors' regions.
struct Tree<'a> {
    tms: &'a Tms,
    leaves: &'a [Leaf],
    regions: &'a BTreeMap<Tile, [f64; 6]>,
    split_levels: u8,
}

impl Tree<'_> {
    /// The leaf of `tile`, if it is one.
    fn leaf(&self, tile: Tile) -> Option<&Leaf> {
        self.leaves.binary_search_by_key(&tile, |l| l.tile).ok().map(|i| &self.leaves[i])
    }

    /// The region of `tile`, when it has leaves below (or is one).
    fn region(&self, tile: Tile) -> Option<[f64; 6]> {
        self.leaf(tile).map(|l| l.region).or_else(|| self.regions.get(&tile).copied())
    }

    /// The node of `tile` and the nodes it holds in its file: a leaf with its content (URI
    /// prefixed by `up`, the way from the file's folder to the root folder), or a parent of the
    /// children that have leaves below; a parent starting a subtree (not at the top of its file)
    /// becomes a reference to an external tileset handed to `emit` first.
    fn node(
        &self,
        tile: Tile,
        up: &str,
        in_file_top: bool,
        emit: &mut dyn FnMut(TilesetFile) -> anyhow::Result<()>,
    ) -> anyhow::Result<(Value, usize)> {
        if let Some(leaf) = self.leaf(tile) {
            let content = json!({"uri": format!("{up}{}", leaf.uri)});
            return Ok((tile_json(leaf.region, 0.0, [("content", content)]), 1));
        }
        let region = self.regions[&tile];
        let error = geometric_error(self.tms, tile.z);
        if !in_file_top && tile.z.is_multiple_of(self.split_levels) {
            // URIs inside an external tileset are relative to it: its leaves' go up three folders.
            let (inner, nodes) = self.node(tile, "../../../", true, emit)?;
            let path = format!("subtrees/{}/{}/{}.json", tile.z, tile.x, tile.y);
            let content = json!({"uri": format!("{up}{path}")});
            emit(TilesetFile { path, json: tileset(inner, error), nodes })?;
            return Ok((tile_json(region, error, [("content", content)]), 1));
        }
        let (mut children, mut nodes) = (Vec::new(), 1);
        for c in tile.children() {
            if self.region(c).is_some() {
                let (child, n) = self.node(c, up, false, emit)?;
                children.push(child);
                nodes += n;
            }
        }
        let children = [("refine", Value::from("ADD")), ("children", Value::Array(children))];
        Ok((tile_json(region, error, children), nodes))
    }
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
                    uri: format!("15/{}/{}.glb", tile.x, tile.y).into(),
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
        let files = build(&KNOWN_TMS[0], block(200), 5);
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
        let files = build(&KNOWN_TMS[0], block(3), 99);
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
        let root = &files.last().unwrap().json["root"];
        assert_eq!(root["refine"], "ADD");
        assert_eq!(walk(root, None), 9);
    }
}
