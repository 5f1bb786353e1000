//! One PMTiles v3 archive per web-tile layer (`dir_web_tiles/STAT.pmtiles`), packed from the
//! layer's PNGs in tile-id order (clustered), identical tiles stored once: a few files to copy
//! or serve instead of a tree of many small ones. PMTiles addresses square 2^z x 2^z levels:
//! WorldCRS84Quad's 2^(z+1) x 2^z level z is stored as PMTiles level z+1 (its rows in the upper
//! half), which the archive's metadata says (`zoom_offset`); WebMercatorQuad's as it is.

use anyhow::{bail, Context};
use iwp_core::config::Config;
use iwp_core::tms::{Bounds, Tile};
use pmtiles::{PmTilesWriter, TileCoord, TileId, TileType};
use serde_json::json;
use std::path::PathBuf;

/// The PMTiles levels above a tile's level in this tile matrix set.
pub fn zoom_offset(tms_id: &str) -> anyhow::Result<u8> {
    match tms_id {
        "WorldCRS84Quad" | "WGS1984Quad" => Ok(1),
        "WebMercatorQuad" => Ok(0),
        other => bail!("PMTiles archives hold WorldCRS84Quad or WebMercatorQuad tiles, not {other}"),
    }
}

/// What one archive holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Archive {
    /// The archive's file.
    pub path: PathBuf,
    /// Tiles in it.
    pub tiles: u64,
    /// Its size in bytes.
    pub bytes: u64,
}

/// Writes `dir_web_tiles/STAT.pmtiles` of statistic `stat` from the PNGs of `tiles` that exist
/// (a tile whose PNG is missing, e.g. a failed unit, is left out); `extent` is the data's lon/lat
/// box, `range` the value range of its colours at z-max (in the metadata).
pub fn write(
    config: &Config,
    stat: &str,
    tiles: &[Tile],
    extent: Bounds,
    range: (f64, f64),
) -> anyhow::Result<Archive> {
    let offset = zoom_offset(config.tms.id)?;
    let coord = |t: &Tile| TileCoord::new(t.z + offset, t.x, t.y).context("a tile outside the PMTiles pyramid");
    let mut ordered: Vec<(TileId, Tile)> =
        tiles.iter().map(|t| Ok((TileId::from(coord(t)?), *t))).collect::<anyhow::Result<_>>()?;
    ordered.sort_unstable_by_key(|(id, _)| id.value());
    let (lo, hi) = (tiles.iter().map(|t| t.z).min().unwrap_or(0), tiles.iter().map(|t| t.z).max().unwrap_or(0));
    let metadata = json!({
        "name": stat, "format": "png", "type": "overlay",
        "description": format!("{stat}: ice-wedge polygon statistic, colours from {} to {}", range.0, range.1),
        "tile_matrix_set": config.tms.id, "zoom_offset": offset, "minzoom": lo, "maxzoom": hi,
        "value_range": [range.0, range.1], "legend": format!("{stat}/legend.svg"),
        "attribution": config.attribution,
    });
    let path = config.dir_web_tiles.join(format!("{stat}.pmtiles"));
    let out = iwp_core::files::AtomicOutput::new(&path)?;
    let file = std::io::BufWriter::new(std::fs::File::create(out.path())?);
    let mut writer = PmTilesWriter::new(TileType::Png)
        .min_zoom(lo + offset)
        .max_zoom(hi + offset)
        .bounds(extent.left, extent.bottom, extent.right, extent.top)
        .center((extent.left + extent.right) / 2.0, (extent.bottom + extent.top) / 2.0)
        .center_zoom(hi + offset)
        .metadata(metadata.to_string())
        .create(file)?;
    let mut count = 0;
    for (_, tile) in &ordered {
        let png = crate::webtile::tile_path(config, stat, *tile);
        let bytes = match std::fs::read(&png) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", png.display())),
        };
        writer.add_tile(coord(tile)?, &bytes)?;
        count += 1;
    }
    writer.finalize().with_context(|| format!("cannot write {}", path.display()))?;
    out.commit()?;
    let bytes = std::fs::metadata(&path)?.len();
    Ok(Archive { path, tiles: count, bytes })
}

/// Where the web tiles end up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TileFormat {
    /// A tree of PNG files, `STAT/TMS/Z/X/Y.png`.
    #[default]
    Png,
    /// One PMTiles archive per statistic; the PNGs packed into it are removed.
    Pmtiles,
    /// Both.
    Both,
}

impl std::str::FromStr for TileFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "png" => Ok(TileFormat::Png),
            "pmtiles" => Ok(TileFormat::Pmtiles),
            "both" => Ok(TileFormat::Both),
            other => Err(format!("`{other}` is not a tile format: png, pmtiles or both")),
        }
    }
}

/// Removes the PNGs of `tiles` of statistic `stat` (after they were packed) and the folders
/// left empty; returns the files removed.
pub fn remove_packed(config: &Config, stat: &str, tiles: &[Tile]) -> std::io::Result<u64> {
    let mut removed = 0;
    let mut folders = std::collections::BTreeSet::new();
    for tile in tiles {
        let png = crate::webtile::tile_path(config, stat, *tile);
        match std::fs::remove_file(&png) {
            Ok(()) => removed += 1,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let top = config.dir_web_tiles.join(stat);
        let mut folder = png.parent();
        while let Some(f) = folder.filter(|f| f.starts_with(&top)) {
            folders.insert(f.to_path_buf());
            folder = f.parent();
        }
    }
    // Deepest first; a folder still holding something (a preview, a legend) stays.
    for f in folders.iter().rev() {
        let _ = std::fs::remove_dir(f);
    }
    Ok(removed)
}
