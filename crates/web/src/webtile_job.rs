//! iwp-webtile's run: the GeoTIFFs to colour and every level's value range (from all the lines,
//! before any share is taken), each GeoTIFF rendered into one PNG per statistic with its result
//! lines, previews, and the WMTS capabilities of the tiles.

use crate::palette::Palette;
use crate::webtile::{value_range, write_preview, write_tiles, LevelRanges};
use crate::wmts::{Limits, Service};
use anyhow::Context;
use iwp_core::config::Config;
use iwp_core::jobs::Results;
use iwp_core::lines::{Bands, GeoTiff, Png, TileLine};
use iwp_core::runner::Job;
use iwp_core::tilejobs;
use iwp_core::tms::{Bounds, Tile};
use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Each statistic's palette, in the config's order.
pub fn palettes(config: &Config) -> anyhow::Result<Vec<Palette>> {
    config.statistics.iter().map(|s| Palette::of(&s.palette, &s.nodata_color)).collect()
}

/// The GeoTIFFs the lines name and the value range of every statistic at every level.
#[derive(Default)]
pub struct Inputs {
    /// Each tile's GeoTIFF.
    pub tiles: BTreeMap<Tile, PathBuf>,
    /// Min and max of each statistic at each zoom level, over all the lines.
    pub levels: LevelRanges,
}

/// Reads GeoTIFF lines (lines of failed units skipped): a line naming no tile, or whose ranges
/// cannot be had, gets an error line when `reports` (one share reports).
pub fn inputs(config: &Config, jobs: &[Job<GeoTiff>], reports: bool, results: &Results) -> io::Result<Inputs> {
    let mut inputs = Inputs::default();
    for job in jobs.iter().filter(|j| !j.body.failed()) {
        let tile = match tilejobs::tile_of_line(config, job, None) {
            Ok(t) => t,
            Err(e) => {
                if reports {
                    results.error_for(&job.body, &e)?;
                }
                continue;
            }
        };
        let path = Some(job.body.path.as_str())
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| iwp_rasters::geotiff::tile_path(config, tile));
        match add_ranges(config, &mut inputs.levels, &job.body, tile, &path) {
            Ok(()) => drop(inputs.tiles.insert(tile, path)),
            Err(e) if reports => results.error_for(&job.body, &format!("{e:#}"))?,
            Err(_) => {}
        }
    }
    Ok(inputs)
}

/// Adds a GeoTIFF's band figures to the level ranges: from the line's `<stat>_min/_max`, or,
/// when the line has none (e.g. from --list), from the file.
fn add_ranges(
    config: &Config,
    levels: &mut LevelRanges,
    line: &GeoTiff,
    tile: Tile,
    path: &Path,
) -> anyhow::Result<()> {
    let from_line: Option<Vec<(f64, f64)>> =
        config.statistics.iter().map(|s| line.band(&s.name).map(|b| (b.min, b.max))).collect();
    let figures = match from_line {
        Some(f) => f,
        None => {
            let raster = iwp_rasters::geotiff::read(path)?;
            raster
                .bands
                .iter()
                .map(|b| b.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |a, v| (a.0.min(*v), a.1.max(*v))))
                .collect()
        }
    };
    for (s, (lo, hi)) in config.statistics.iter().zip(figures) {
        levels.add(&s.name, tile.z, lo, hi);
    }
    Ok(())
}

/// Where dir_web_tiles is served: `base_url` as given, then the config's doi when it has one;
/// without a base URL, the folder's own `file://` URL (for GDAL or QGIS on this machine).
pub fn served_at(config: &Config, base_url: Option<&str>) -> anyhow::Result<String> {
    let Some(url) = base_url else {
        let dir = std::path::absolute(&config.dir_web_tiles)
            .with_context(|| format!("cannot resolve {}", config.dir_web_tiles.display()))?;
        return Ok(format!("file://{}", iwp_core::files::url_path(&dir)));
    };
    let url = url.trim_end_matches('/');
    Ok(match &config.doi {
        Some(doi) => format!("{url}/{}", doi.trim_matches('/')),
        None => url.to_string(),
    })
}

/// The columns and rows of each level's tiles.
pub fn limits<'a>(tiles: impl Iterator<Item = &'a Tile>) -> BTreeMap<u8, Limits> {
    let mut limits: BTreeMap<u8, Limits> = BTreeMap::new();
    for t in tiles {
        let l = limits.entry(t.z).or_insert(Limits { min_col: t.x, max_col: t.x, min_row: t.y, max_row: t.y });
        (l.min_col, l.max_col) = (l.min_col.min(t.x), l.max_col.max(t.x));
        (l.min_row, l.max_row) = (l.min_row.min(t.y), l.max_row.max(t.y));
    }
    limits
}

/// The lon/lat extent of the z-max tiles among `tiles` (the TMS's extent if none).
pub fn extent<'a>(config: &Config, tiles: impl Iterator<Item = &'a Tile>) -> anyhow::Result<Bounds> {
    let deepest = tiles.filter(|t| t.z == config.z_max).map(|t| config.tms.bounds(*t));
    let extent = deepest.reduce(|a, b| Bounds {
        left: a.left.min(b.left),
        bottom: a.bottom.min(b.bottom),
        right: a.right.max(b.right),
        top: a.top.max(b.top),
    });
    iwp_vector::vector::lonlat_bounds(config.tms, extent.unwrap_or_else(|| config.tms.extent()))
}

/// What the capabilities, the map page and the archives say of the tiles in the input,
/// worked out once: each statistic's value range at z-max (its legend's ends) and the data's
/// lon/lat extent.
pub struct Overview {
    /// Per statistic (config order), the value range of its colours at z-max.
    pub ranges: Vec<(f64, f64)>,
    /// The lon/lat extent of the z-max tiles (the TMS's extent if none).
    pub extent: Bounds,
}

impl Overview {
    /// The overview of the tiles in `inputs`.
    pub fn of(config: &Config, inputs: &Inputs) -> anyhow::Result<Overview> {
        let ranges: anyhow::Result<Vec<_>> =
            config.statistics.iter().map(|s| value_range(s, config.z_max, &inputs.levels)).collect();
        Ok(Overview { ranges: ranges?, extent: extent(config, inputs.tiles.keys())? })
    }
}

/// Writes each statistic's legend, `dir_web_tiles/STAT/legend.svg`.
pub fn write_legends(config: &Config, palettes: &[Palette], ranges: &[(f64, f64)]) -> anyhow::Result<()> {
    for ((stat, palette), range) in config.statistics.iter().zip(palettes).zip(ranges) {
        let path = config.dir_web_tiles.join(&stat.name).join("legend.svg");
        std::fs::create_dir_all(path.parent().expect("a folder"))?;
        let svg = crate::legend::svg(&stat.name, palette, *range);
        iwp_core::files::write_atomic(&path, svg.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// Writes the WMTS capabilities of the tiles in `inputs` (layers over the data's extent, limits
/// from every level's tiles, legends at `STAT/legend.svg`).
pub fn write_capabilities(
    config: &Config,
    overview: &Overview,
    base_url: Option<&str>,
    inputs: &Inputs,
    file: &Path,
) -> anyhow::Result<()> {
    let base = served_at(config, base_url)?;
    let limits = limits(inputs.tiles.keys());
    let service = Service { base: &base, bbox: overview.extent, limits: &limits, ranges: &overview.ranges };
    let xml = crate::wmts::capabilities(config, &service);
    iwp_core::files::write_atomic(file, xml.as_bytes()).with_context(|| format!("cannot write {}", file.display()))?;
    tracing::info!("WMTS capabilities written to {}", file.display());
    Ok(())
}

/// The folder of the map page: that of the capabilities file when there is one, else
/// dir_web_tiles.
pub fn page_folder(config: &Config, wmts: Option<&Path>) -> PathBuf {
    match wmts.map(|f| f.parent().unwrap_or(Path::new(""))) {
        Some(p) if p.as_os_str().is_empty() => PathBuf::from("."),
        Some(p) => p.to_path_buf(),
        None => config.dir_web_tiles.clone(),
    }
}

/// Writes the map page (`index.html`, `tiles.json`) of the tiles in `inputs` into `folder`;
/// returns the page's path.
pub fn write_viewer(config: &Config, overview: &Overview, inputs: &Inputs, folder: &Path) -> anyhow::Result<PathBuf> {
    let page = crate::viewer::Page { folder, tiles: &inputs.tiles, extent: overview.extent, ranges: &overview.ranges };
    let path = crate::viewer::write(config, &page)?;
    tracing::info!("map page written to {}", path.display());
    Ok(path)
}

/// Writes one PMTiles archive per statistic of the PNGs of the tiles in `inputs`, each with a
/// result line (`archive`, `files`, `bytes`), or an error line; with `remove`, the PNGs packed
/// into an archive written are removed.
pub fn write_pmtiles(
    config: &Config,
    overview: &Overview,
    inputs: &Inputs,
    remove: bool,
    results: &Results,
) -> anyhow::Result<()> {
    let tiles: Vec<Tile> = inputs.tiles.keys().copied().collect();
    for (stat, range) in config.statistics.iter().zip(&overview.ranges) {
        let started = Instant::now();
        match crate::pmtiles_archive::write(config, &stat.name, &tiles, overview.extent, *range) {
            Ok(a) => {
                if remove {
                    crate::pmtiles_archive::remove_packed(config, &stat.name, &tiles)
                        .with_context(|| format!("cannot remove the PNGs packed into {}", a.path.display()))?;
                }
                let line = iwp_core::lines::Archive {
                    archive: Some(a.path.display().to_string()),
                    files: a.tiles,
                    bytes: Some(a.bytes),
                    secs: Some((started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0),
                    status: Some(iwp_core::lines::Status::Ok),
                    ..Default::default()
                };
                results.put(&line)?;
            }
            Err(e) => {
                let failed = iwp_core::lines::Archive {
                    archive: Some(config.dir_web_tiles.join(format!("{}.pmtiles", stat.name)).display().to_string()),
                    ..Default::default()
                };
                results.error_for(&failed, &format!("{e:#}"))?;
            }
        }
    }
    Ok(())
}

/// PNGs coloured with the statistics' palettes over the level ranges, each with its result line.
pub struct Rendering<'a> {
    /// The run's config.
    pub config: &'a Config,
    /// Each statistic's palette.
    pub palettes: &'a [Palette],
    /// The value ranges of the levels.
    pub levels: &'a LevelRanges,
    /// Write PNGs that already exist again.
    pub force: bool,
    /// Where result lines go.
    pub results: &'a Results,
}

impl Rendering<'_> {
    /// Renders one GeoTIFF into a PNG per statistic: one result line each, or one error line.
    pub fn tile(&self, tile: Tile, geotiff: &Path) -> io::Result<()> {
        let started = Instant::now();
        let line = Png { tile: tilejobs::tile_at(self.config, tile), ..Png::default() };
        match write_tiles(self.config, self.palettes, self.levels, tile, geotiff, self.force) {
            Ok(written) => {
                let parts = written.len() as u64;
                for w in written {
                    let png = Png {
                        stat: w.stat,
                        // How many lines this GeoTIFF gives (one per statistic), for iwp-progress.
                        parts: Some(parts),
                        path: w.path.display().to_string(),
                        skipped: w.skipped.then_some(true),
                        secs: Some((started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0),
                        ..line.clone()
                    };
                    self.results.put(&png)?;
                }
                Ok(())
            }
            Err(e) => {
                let failed = Png { path: geotiff.display().to_string(), ..line };
                self.results.error_for(&failed, &format!("{e:#}"))
            }
        }
    }

    /// Writes one mosaic PNG per statistic of the tiles of level `z` (an error line for each
    /// that cannot be made).
    pub fn previews(&self, z: u8, level: &[Tile]) -> io::Result<()> {
        for stat in &self.config.statistics {
            match write_preview(self.config, &stat.name, level) {
                Ok(path) => tracing::info!("preview of z{z}: {}", path.display()),
                Err(e) => {
                    let mut failed = Png { stat: stat.name.clone(), ..Png::default() };
                    failed.extra.insert("preview".into(), z.into());
                    self.results.error_for(&failed, &format!("{e:#}"))?;
                }
            }
        }
        Ok(())
    }
}
