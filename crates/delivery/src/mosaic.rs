//! Per-level mosaics of the GeoTIFF tiles: a VRT per level and statistic (built by GDAL, its
//! sources written relative to it so the folders can move together), and, for levels under a
//! size, a COG of every band. Band summaries come from the GeoTIFF lines, no tile reopened.

use crate::cog::{self, mem_name};
use crate::gdal_apps;
use anyhow::Context;
use gdal::spatial_ref::CoordTransform;
use gdal::Metadata;
use iwp_core::config::Config;
use iwp_core::files;
use iwp_core::lines::{BandFigures, Bands, GeoTiff, Mosaic, Status};
use iwp_core::tms::Tile;
use iwp_vector::vector;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// One level's tiles and the summary of each band over their lines.
#[derive(Debug, Default)]
pub struct Level {
    /// The level.
    pub z: u8,
    /// Its GeoTIFF files.
    pub files: Vec<PathBuf>,
    /// Each statistic's summary over the lines that carried it.
    pub bands: BTreeMap<String, BandFigures>,
    /// West, south, east, north of its tiles in the tiles' CRS.
    pub bounds: [f64; 4],
}

impl Level {
    /// Adds a tile and the band summaries of its line.
    pub fn add(&mut self, config: &Config, tile: Tile, path: PathBuf, line: &GeoTiff) {
        let b = config.tms.bounds(tile);
        if self.files.is_empty() {
            self.bounds = [b.left, b.bottom, b.right, b.top];
        } else {
            let o = &mut self.bounds;
            *o = [o[0].min(b.left), o[1].min(b.bottom), o[2].max(b.right), o[3].max(b.top)];
        }
        self.files.push(path);
        for s in &config.statistics {
            if let Some(f) = line.band(&s.name) {
                self.bands
                    .entry(s.name.clone())
                    .and_modify(|b| {
                        *b = BandFigures { min: b.min.min(f.min), max: b.max.max(f.max), sum: b.sum + f.sum }
                    })
                    .or_insert(f);
            }
        }
    }
}

/// Mosaics of one config into dir_mosaics: `PRODUCT_zZ_STAT.vrt` and `PRODUCT_zZ.tif`.
pub struct Mosaics<'a> {
    /// The run's config.
    pub config: &'a Config,
    /// Also write a COG of every band for levels of at most this many pixels.
    pub cog_below: Option<u64>,
}

impl Mosaics<'_> {
    /// Writes the level's mosaics (its files in path order, so that the bytes do not depend on
    /// the order of the lines); one line per file.
    pub fn write(&self, level: &Level) -> anyhow::Result<Vec<Mosaic>> {
        let config = self.config;
        let mut files = level.files.clone();
        files.sort();
        files.dedup();
        let level = &Level { files, bands: level.bands.clone(), ..*level };
        let product = &config.layer_name;
        let mut lines = Vec::new();
        for (i, stat) in config.statistics.iter().enumerate() {
            let start = Instant::now();
            let path = config.dir_mosaics.join(format!("{product}_z{}_{}.vrt", level.z, stat.name));
            let args = ["-b".to_string(), (i + 1).to_string(), "-vrtnodata".into(), "nan".into()];
            let grid = write_vrt(&path, &level.files, &args, &[&stat.name])?;
            let mut line = self.line(level, &path, grid, start)?;
            line.stat = Some(stat.name.clone());
            if let Some(b) = level.bands.get(&stat.name) {
                line.set_band(&stat.name, *b);
            }
            lines.push(line);
        }
        let pixels = {
            let span = config.tms.span(level.z);
            let w = ((level.bounds[2] - level.bounds[0]) / span).round() as u64 * u64::from(config.tile_size[0]);
            let h = ((level.bounds[3] - level.bounds[1]) / span).round() as u64 * u64::from(config.tile_size[1]);
            w * h
        };
        if self.cog_below.is_some_and(|limit| pixels <= limit) {
            let start = Instant::now();
            let path = config.dir_mosaics.join(format!("{product}_z{}.tif", level.z));
            let mem = mem_name("level", ".vrt");
            let vrt = gdal_apps::build_vrt(&mem, &level.files, &["-vrtnodata".into(), "nan".into()])?;
            for (i, s) in config.statistics.iter().enumerate().take(vrt.raster_count()) {
                vrt.rasterband(i + 1)?.set_description(&s.name)?;
            }
            let grid = cog::write_cog(&vrt, &path, None)?;
            drop(vrt);
            let _ = gdal::vsi::unlink_mem_file(&mem);
            let mut line = self.line(level, &path, grid, start)?;
            for (name, b) in &level.bands {
                line.set_band(name, *b);
            }
            lines.push(line);
        }
        Ok(lines)
    }

    fn line(&self, level: &Level, path: &Path, grid: cog::Grid, start: Instant) -> anyhow::Result<Mosaic> {
        let config = self.config;
        let [w, s, e, n] = level.bounds;
        let lonlat_bbox = if config.tms.geographic {
            level.bounds
        } else {
            let to = CoordTransform::new(&vector::srs(config.tms.crs)?, &vector::srs("EPSG:4326")?)?;
            to.transform_bounds(&[w, s, e, n], 21)?
        };
        Ok(Mosaic {
            tms: Some(config.tms.id.to_string()),
            z: level.z,
            stat: None,
            path: path.display().to_string(),
            tiles: level.files.len() as u64,
            size: grid.size,
            transform: grid.transform,
            crs: format!("EPSG:{}", config.tms.epsg),
            lonlat_bbox,
            bytes: path.metadata().map(|m| m.len()).unwrap_or(0),
            secs: Some((start.elapsed().as_secs_f64() * 1000.0).round() / 1000.0),
            status: Some(Status::Ok),
            ..Default::default()
        })
    }
}

/// Builds a VRT of `sources` with gdalbuildvrt's `args` and its bands named `names`, and writes it
/// at `target` (atomically) with every source path relative to the VRT's folder.
pub fn write_vrt(target: &Path, sources: &[PathBuf], args: &[String], names: &[&str]) -> anyhow::Result<cog::Grid> {
    let absolute: Vec<PathBuf> = sources.iter().map(std::path::absolute).collect::<Result<_, _>>()?;
    let mem = mem_name("vrt", ".vrt");
    let vrt = gdal_apps::build_vrt(&mem, &absolute, args)?;
    for (i, name) in names.iter().enumerate() {
        vrt.rasterband(i + 1)?.set_description(name)?;
    }
    let grid = cog::grid_of(&vrt)?;
    drop(vrt);
    let bytes = gdal::vsi::get_vsi_mem_file_bytes_owned(&mem)?;
    let _ = gdal::vsi::unlink_mem_file(&mem);
    let mut xml = String::from_utf8(bytes).context("GDAL wrote a VRT that is not UTF-8")?;
    let folder = std::path::absolute(target)?.parent().map(Path::to_path_buf).unwrap_or_default();
    for source in &absolute {
        let rel = files::relative_path(&folder, source)?;
        let (from, to) = (xml_text(&source.display().to_string()), xml_text(&rel.display().to_string()));
        xml = xml.replace(
            &format!("<SourceFilename relativeToVRT=\"0\">{from}</SourceFilename>"),
            &format!("<SourceFilename relativeToVRT=\"1\">{to}</SourceFilename>"),
        );
    }
    anyhow::ensure!(!xml.contains("relativeToVRT=\"0\""), "a VRT source path was not made relative");
    files::write_atomic(target, xml.as_bytes()).with_context(|| format!("cannot write {}", target.display()))?;
    Ok(grid)
}

/// `text` escaped as GDAL's XML writer escapes element text.
fn xml_text(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
