//! Web tiles: one RGBA PNG per GeoTIFF band, each value mapped through its statistic's palette
//! over the value range of its zoom level, as the reference's WebImage does it.

use crate::config::{Config, Statistic};
use crate::palette::{Palette, NODATA_INDEX};
use crate::tms::Tile;
use anyhow::{bail, Context};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Per (statistic, zoom): the smallest min and largest max of the GeoTIFF bands of that level.
#[derive(Debug, Default, Clone)]
pub struct LevelRanges {
    ranges: BTreeMap<(String, u8), (f64, f64)>,
}

impl LevelRanges {
    /// Takes a band's min and max at zoom `z` into account.
    pub fn add(&mut self, stat: &str, z: u8, min: f64, max: f64) {
        let e = self.ranges.entry((stat.to_string(), z)).or_insert((f64::INFINITY, f64::NEG_INFINITY));
        e.0 = e.0.min(min);
        e.1 = e.1.max(max);
    }

    /// The level's (min, max) of a statistic, if any band was seen.
    pub fn get(&self, stat: &str, z: u8) -> Option<(f64, f64)> {
        self.ranges.get(&(stat.to_string(), z)).copied()
    }
}

/// The colour range of a statistic at zoom `z`: `z_config[z].val_range` entries, else the
/// general `val_range` entries, else (null) the level's min or max.
pub fn value_range(stat: &Statistic, z: u8, levels: &LevelRanges) -> anyhow::Result<(f64, f64)> {
    let per_z = stat.z_config.get(&z.to_string()).map(|c| c.val_range).unwrap_or([None, None]);
    let level = levels.get(&stat.name, z);
    let pick = |k: usize| per_z[k].or(stat.val_range[k]).or(level.map(|l| if k == 0 { l.0 } else { l.1 }));
    match (pick(0), pick(1)) {
        (Some(lo), Some(hi)) => Ok((lo, hi)),
        _ => {
            bail!("statistic {}: no value range at z{z} (val_range has null and no band figures were seen)", stat.name)
        }
    }
}

/// Palette indexes of a band: values equal to `nodata` get the nodata colour; others are clamped
/// to [min, max] and scaled with the reference's float expression, then truncated. When
/// min == max (the reference fails there), every value gets the first colour.
pub fn palette_indexes(band: &[f64], min: f64, max: f64, nodata: Option<f64>) -> Vec<u16> {
    let scale = 255.0 / (max - min);
    band.iter()
        .map(|&v| {
            if Some(v) == nodata || v.is_nan() {
                return NODATA_INDEX as u16;
            }
            if max == min {
                return 0;
            }
            let v = v.clamp(min, max);
            ((v - min) * scale) as u16
        })
        .collect()
}

/// An RGBA PNG of a band.
pub fn encode_png(
    band: &[f64],
    width: usize,
    height: usize,
    range: (f64, f64),
    nodata: Option<f64>,
    palette: &Palette,
) -> anyhow::Result<Vec<u8>> {
    let mut rgba = Vec::with_capacity(width * height * 4);
    for i in palette_indexes(band, range.0, range.1, nodata) {
        rgba.extend_from_slice(&palette.rgba[usize::from(i).min(NODATA_INDEX)]);
    }
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, width as u32, height as u32);
        encoder.set_color(png::ColorType::Rgba);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::Fast);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(&rgba)?;
    }
    Ok(out)
}

/// Path of a web tile: `dir_web_tiles/STAT/TMS/Z/X/Y.png` (the tile path structure with style = stat).
pub fn tile_path(config: &Config, stat: &str, tile: Tile) -> PathBuf {
    config.tile_paths.path(&config.dir_web_tiles, Some(stat), tile, &config.ext_web_tiles)
}

/// A web tile that was written or found.
#[derive(Debug, Clone)]
pub struct WebTile {
    pub stat: String,
    pub path: PathBuf,
    pub skipped: bool,
}

/// Writes the PNGs of one GeoTIFF (every statistic), skipping existing ones unless `force`.
pub fn write_tiles(
    config: &Config,
    palettes: &[Palette],
    levels: &LevelRanges,
    tile: Tile,
    geotiff: &Path,
    force: bool,
) -> anyhow::Result<Vec<WebTile>> {
    let paths: Vec<PathBuf> = config.statistics.iter().map(|s| tile_path(config, &s.name, tile)).collect();
    if !force && paths.iter().all(|p| crate::files::is_complete(p)) {
        return Ok(config
            .statistics
            .iter()
            .zip(paths)
            .map(|(s, path)| WebTile { stat: s.name.clone(), path, skipped: true })
            .collect());
    }
    let raster = crate::geotiff::read(geotiff)?;
    if raster.bands.len() != config.statistics.len() {
        bail!(
            "{} has {} bands; the config has {} statistics",
            geotiff.display(),
            raster.bands.len(),
            config.statistics.len()
        );
    }
    let mut out = Vec::new();
    for (k, (stat, path)) in config.statistics.iter().zip(paths).enumerate() {
        let range = value_range(stat, tile.z, levels)?;
        let png = encode_png(&raster.bands[k], raster.width, raster.height, range, stat.nodata_val, &palettes[k])?;
        crate::files::write_atomic(&path, &png).with_context(|| format!("cannot write {}", path.display()))?;
        out.push(WebTile { stat: stat.name.clone(), path, skipped: false });
    }
    Ok(out)
}
