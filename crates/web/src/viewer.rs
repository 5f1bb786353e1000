//! The map page: `index.html` (OpenLayers from a CDN, pinned) showing every layer of the web
//! tiles with a switcher and its legend, a basemap that can be turned off, the data's extent on
//! open, the tile and layer under the pointer, and, where a 3D tileset was made, a CesiumJS 3D
//! view of it over the imagery; the tiles come from the PNG tree, or from the layers' PMTiles
//! archives (`?source=pmtiles`, where written); beside it `tiles.json`, the tiles that exist per level, so the
//! page asks for no tile that is not there.

use anyhow::{bail, Context};
use iwp_core::config::Config;
use iwp_core::files::relative_url;
use iwp_core::tms::{Bounds, Tile};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// OpenLayers' version the page loads (tests/clients/package.json pins the same).
pub const OPENLAYERS: &str = "10.11.0";
/// CesiumJS's version the page's 3D view loads (tests/clients/package.json pins the same).
pub const CESIUM: &str = "1.145.0";
/// The pmtiles library's version the page reads archives with (tests/clients/package.json pins
/// the same).
pub const PMTILES: &str = "4.5.0";

/// The page's template: `__TITLE__`, `__OL_JS__`, `__OL_CSS__`, `__PMTILES_SCRIPT__` and
/// `__CONFIG__` are filled in.
const TEMPLATE: &str = include_str!("viewer.html");

/// Per level, per row, the runs of columns `[first, last]` of the tiles that exist.
pub fn tile_index<'a>(tiles: impl Iterator<Item = &'a Tile>) -> Value {
    let mut rows: BTreeMap<u8, BTreeMap<u32, Vec<u32>>> = BTreeMap::new();
    for t in tiles {
        rows.entry(t.z).or_default().entry(t.y).or_default().push(t.x);
    }
    let mut index = serde_json::Map::new();
    for (z, by_row) in rows {
        let mut level = serde_json::Map::new();
        for (y, mut xs) in by_row {
            xs.sort_unstable();
            xs.dedup();
            let mut runs: Vec<[u32; 2]> = Vec::new();
            for x in xs {
                match runs.last_mut() {
                    Some(run) if run[1] + 1 == x => run[1] = x,
                    _ => runs.push([x, x]),
                }
            }
            level.insert(y.to_string(), json!(runs));
        }
        index.insert(z.to_string(), Value::Object(level));
    }
    Value::Object(index)
}

/// What the page shows beyond the config.
pub struct Page<'a> {
    /// The folder `index.html` and `tiles.json` go to.
    pub folder: &'a Path,
    /// The tiles that exist (every level).
    pub tiles: &'a BTreeMap<Tile, PathBuf>,
    /// The data's lon/lat extent.
    pub extent: Bounds,
    /// Per statistic (config order), the value range of its colours at z-max.
    pub ranges: &'a [(f64, f64)],
}

/// Writes `index.html` and `tiles.json` into the page's folder; returns the page's path.
pub fn write(config: &Config, page: &Page) -> anyhow::Result<PathBuf> {
    let tms = config.tms;
    let projection = match tms.id {
        "WorldCRS84Quad" | "WGS1984Quad" => "EPSG:4326",
        "WebMercatorQuad" => "EPSG:3857",
        other => bail!("the map page shows WorldCRS84Quad or WebMercatorQuad tiles, not {other}"),
    };
    std::fs::create_dir_all(page.folder).with_context(|| format!("cannot create {}", page.folder.display()))?;
    let web = relative_url(page.folder, &config.dir_web_tiles)?;
    let web = if web.is_empty() { String::new() } else { format!("{web}/") };
    let ext = config.ext_web_tiles.as_str();
    let layers: Vec<Value> = config
        .statistics
        .iter()
        .zip(page.ranges)
        .map(|(s, r)| {
            let archive = config.dir_web_tiles.join(format!("{}.pmtiles", s.name)).is_file();
            json!({"name": s.name, "url": format!("{web}{}/{}/{{z}}/{{x}}/{{y}}{ext}", s.name, tms.id),
                "legend": format!("{web}{}/legend.svg", s.name), "range": [r.0, r.1],
                "pmtiles": archive.then(|| format!("{web}{}.pmtiles", s.name))})
        })
        .collect();
    let archives = layers.iter().any(|l| !l["pmtiles"].is_null());
    // Archives without the tree (--format pmtiles): the page reads the archives by default.
    let tree = config.statistics.iter().any(|s| config.dir_web_tiles.join(&s.name).join(tms.id).is_dir());
    let source = if archives && !tree { "pmtiles" } else { "tree" };
    let tileset = config.dir_3dtiles.join("tileset.json");
    let tileset = if tileset.is_file() { Some(relative_url(page.folder, &tileset)?) } else { None };
    let e = tms.extent();
    let cdn = "https://cdn.jsdelivr.net/npm";
    let settings = json!({
        "attribution": config.attribution,
        "tms": {"projection": projection, "origin": [tms.origin.0, tms.origin.1], "tileSize": config.tile_size[1],
            "resolutions": (0..=config.z_max).map(|z| tms.span(z) / f64::from(config.tile_size[1])).collect::<Vec<_>>(),
            "extent": [e.left, e.bottom, e.right, e.top]},
        "extent": [page.extent.left, page.extent.bottom, page.extent.right, page.extent.top],
        "minZoom": config.z_min,
        "maxZoom": config.z_max,
        "layers": layers,
        "index": "tiles.json",
        "tileset": tileset,
        "pmtilesZoomOffset": crate::pmtiles_archive::zoom_offset(tms.id)?,
        "source": source,
        "cesium": {"js": format!("{cdn}/cesium@{CESIUM}/Build/Cesium/Cesium.js"),
            "css": format!("{cdn}/cesium@{CESIUM}/Build/Cesium/Widgets/widgets.css"),
            "base": format!("{cdn}/cesium@{CESIUM}/Build/Cesium/")},
    });
    let title = crate::legend::esc(&config.service_title());
    let html = TEMPLATE
        .replace("__TITLE__", &title)
        .replace("__OL_JS__", &format!("{cdn}/ol@{OPENLAYERS}/dist/ol.js"))
        .replace("__OL_CSS__", &format!("{cdn}/ol@{OPENLAYERS}/ol.css"))
        .replace(
            "__PMTILES_SCRIPT__",
            &if archives {
                format!("<script src=\"{cdn}/pmtiles@{PMTILES}/dist/pmtiles.js\"></script>")
            } else {
                String::new()
            },
        )
        .replace("__CONFIG__", &serde_json::to_string(&settings)?.replace("</", "<\\/"));
    let index = serde_json::to_vec(&tile_index(page.tiles.keys()))?;
    let write = |name: &str, bytes: &[u8]| {
        let path = page.folder.join(name);
        iwp_core::files::write_atomic(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
        Ok::<PathBuf, anyhow::Error>(path)
    };
    write("tiles.json", &index)?;
    write("index.html", html.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_lists_runs_of_columns_per_row() {
        let tiles = [Tile::new(3, 1, 5), Tile::new(4, 1, 5), Tile::new(6, 1, 5), Tile::new(2, 7, 4)];
        let index = tile_index(tiles.iter());
        assert_eq!(index, json!({"5": {"1": [[3, 4], [6, 6]]}, "4": {"7": [[2, 2]]}}));
    }
}
