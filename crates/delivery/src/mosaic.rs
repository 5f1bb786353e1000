//! Per-level mosaics of the GeoTIFF tiles: a VRT per level and statistic (built by GDAL, its
//! sources written relative to it so the folders can move together), and, for levels under a
//! size, a COG of every band. Band summaries come from the GeoTIFF lines, no tile reopened.

use crate::catalog::{lonlat_box, union};
use crate::cog;
use crate::gdal_apps::{self, MemFile};
use anyhow::Context;
use iwp_core::config::Config;
use iwp_core::files;
use iwp_core::lines::{BandFigures, Bands, GeoTiff, Mosaic, Status};
use iwp_core::tms::Tile;
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
        let b = [b.left, b.bottom, b.right, b.top];
        self.bounds = if self.files.is_empty() { b } else { union(self.bounds, b) };
        self.files.push(path);
        for s in &config.statistics {
            if let Some(f) = line.band(&s.name) {
                self.bands.entry(s.name.clone()).and_modify(|b| *b = b.merge(f)).or_insert(f);
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
            let grid = {
                let mem = MemFile::new("level", ".vrt");
                let vrt = gdal_apps::build_vrt(mem.path(), &level.files, &["-vrtnodata".into(), "nan".into()])?;
                cog::name_bands(&vrt, &config.layer_names())?;
                cog::write_cog(&vrt, &path, None)?
            };
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
        let lonlat_bbox = lonlat_box(config, level.bounds)?;
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
    let mem = MemFile::new("vrt", ".vrt");
    let vrt = gdal_apps::build_vrt(mem.path(), &absolute, args)?;
    cog::name_bands(&vrt, names)?;
    let grid = cog::grid_of(&vrt)?;
    drop(vrt);
    let bytes = gdal::vsi::get_vsi_mem_file_bytes_owned(mem.path())?;
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

/// `text` escaped as GDAL's XML writer escapes element text (quotes are left as they are).
fn xml_text(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use gdal::raster::Buffer;
    use gdal::{Dataset, DriverManager, Metadata};

    #[test]
    fn a_vrt_finds_its_sources_by_relative_paths_whatever_their_names_hold() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join(r#"a "quoted" & <odd> 'name'"#);
        let mut sources = Vec::new();
        for x in 0..2 {
            let path = data.join(format!("tiles/{x}.tif"));
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            let mut ds = DriverManager::get_driver_by_name("GTiff")
                .unwrap()
                .create_with_band_type::<f64, _>(&path, 4, 4, 1)
                .unwrap();
            ds.set_geo_transform(&[f64::from(x) * 4.0, 1.0, 0.0, 4.0, 0.0, -1.0]).unwrap();
            let mut b = Buffer::new((4, 4), vec![f64::from(x) + 1.0; 16]);
            ds.rasterband(1).unwrap().write((0, 0), (4, 4), &mut b).unwrap();
            sources.push(path);
        }
        let vrt = data.join("mosaics/m.vrt");
        let grid = write_vrt(&vrt, &sources, &[], &["iwp_count"]).unwrap();
        assert_eq!(grid.size, [8, 4]);
        let text = std::fs::read_to_string(&vrt).unwrap();
        assert!(text.contains(r#"<SourceFilename relativeToVRT="1">../tiles/0.tif</SourceFilename>"#), "{text}");
        // Moved with its sources, it still reads them.
        let moved = dir.path().join("moved");
        std::fs::rename(&data, &moved).unwrap();
        let ds = Dataset::open(moved.join("mosaics/m.vrt")).unwrap();
        let px = ds.rasterband(1).unwrap().read_as::<f64>((0, 0), (8, 4), (8, 4), None).unwrap();
        assert_eq!(&px.data()[..8], &[1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0]);
        assert_eq!(ds.rasterband(1).unwrap().description().unwrap(), "iwp_count");
    }
}
