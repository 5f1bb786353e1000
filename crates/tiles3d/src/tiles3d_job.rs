//! iwp-3dtiles's run: the style from the config and the flags, one content per staged tile with
//! its result line, and the hierarchy step, which reads only result lines (from any number of
//! nodes) and writes tileset.json and its external tilesets.

use crate::content::{self, Height, Style};
use crate::tileset::{self, Leaf};
use anyhow::{bail, Context};
use iwp_core::config::Config;
use iwp_core::jobs::Results;
use iwp_core::lines::{Content3d, TileLine};
use iwp_core::runner::Job;
use iwp_core::tilejobs;
use iwp_core::tms::Tile;
use iwp_web::palette::Palette;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The style a run asks for: the statistic whose palette (and val_range) colours the polygons,
/// the column whose value picks the colour, a range overriding val_range, and the height.
pub fn style(
    config: &Config,
    stat: Option<&str>,
    colour_by: &str,
    range: Option<(f64, f64)>,
    height: Height,
    format: crate::glb::Format,
) -> anyhow::Result<Style> {
    let statistic = match stat {
        Some(name) => config.statistics.iter().find(|s| s.name == name).with_context(|| {
            let names: Vec<&str> = config.statistics.iter().map(|s| s.name.as_str()).collect();
            format!("--style {name}: no such statistic in the config ({})", names.join(", "))
        })?,
        None => {
            config.statistics.first().context("the config has no statistic whose palette could colour the polygons")?
        }
    };
    let range = match (range, statistic.val_range) {
        (Some(r), _) => r,
        (None, [Some(lo), Some(hi)]) => (lo, hi),
        _ => bail!(
            "statistic {}: val_range has a null end: give the colours' range with --colour-range LO HI",
            statistic.name
        ),
    };
    let palette = Palette::of(&statistic.palette, &statistic.nodata_color)?;
    Ok(Style { height, colour_by: colour_by.to_string(), range, palette, format })
}

/// Path of a tile's content: `dir_3dtiles/TMS/Z/X/Y.glb` (or `.b3dm`; the config's tile path
/// structure).
pub fn content_path(config: &Config, tile: Tile, format: crate::glb::Format) -> PathBuf {
    let ext = match format {
        crate::glb::Format::Glb => ".glb",
        crate::glb::Format::B3dm => ".b3dm",
    };
    config.tile_paths.path(&config.dir_3dtiles, None, tile, ext)
}

/// Contents written with one style, each with its result line.
pub struct Contents<'a> {
    /// The run's config.
    pub config: &'a Config,
    /// The polygons' look.
    pub style: &'a Style,
    /// Write contents that already exist again.
    pub force: bool,
    /// Where result lines go.
    pub results: &'a Results,
}

impl Contents<'_> {
    /// The z-max tiles the staged-tile lines name (lines of failed units skipped; a line naming
    /// no z-max tile gets an error line when `reports`), each with its staged file.
    pub fn tiles(
        &self,
        jobs: &[Job<iwp_core::lines::StagedTile>],
        reports: bool,
    ) -> std::io::Result<Vec<(Tile, PathBuf)>> {
        let mut tiles = BTreeMap::new();
        for job in jobs.iter().filter(|j| !j.body.failed()) {
            match tilejobs::tile_of_line(self.config, job, Some(self.config.z_max)) {
                Ok(t) => {
                    let path = Some(job.body.file()).filter(|p| !p.is_empty()).map(PathBuf::from);
                    let staged = path
                        .unwrap_or_else(|| iwp_vector::tilestore::tile_path(self.config, &self.config.dir_staged, t));
                    tiles.insert(t, staged);
                }
                Err(e) if reports => self.results.error_for(&job.body, &e)?,
                Err(_) => {}
            }
        }
        Ok(tiles.into_iter().collect())
    }

    /// Writes one tile's content (or finds it written) and its result line, or its error line.
    pub fn tile(&self, tile: Tile, staged: &Path) -> std::io::Result<()> {
        let started = Instant::now();
        let mut line = Content3d { tile: tilejobs::tile_at(self.config, tile), ..Content3d::default() };
        match self.write(tile, staged, &mut line) {
            Ok(()) => {
                line.secs = Some((started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0);
                self.results.put(&line)
            }
            Err(e) => self.results.error_for(&line, &format!("{}: {e:#}", staged.display())),
        }
    }

    fn write(&self, tile: Tile, staged: &Path, line: &mut Content3d) -> anyhow::Result<()> {
        let path = content_path(self.config, tile, self.style.format);
        let c = content::build(self.config, tile, staged, self.style)?;
        line.features = Some(c.features as u64);
        line.triangles = Some(c.triangles as u64);
        line.duplicates = Some(c.duplicates as u64);
        let Some(b) = c.bounds else { return Ok(()) };
        let (lo, hi) = match &self.style.height {
            Height::Fixed(h) => (*h, *h),
            Height::Column(_) => (c.min_height, c.max_height),
        };
        line.region = Some([b[0], b[1], b[2], b[3], lo, hi]);
        line.path = path.display().to_string();
        line.bytes = Some(c.glb.len() as u64);
        if !self.force && std::fs::read(&path).is_ok_and(|old| old == c.glb) {
            line.skipped = Some(true);
            return Ok(());
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        }
        // Not synced, as GeoTIFFs and PNGs are not: a content lost in a crash is made again.
        iwp_core::files::write_atomic_unsynced(&path, &c.glb)
            .with_context(|| format!("cannot write {}", path.display()))
    }
}

/// The hierarchy step: reads 3D content lines (failed and empty ones skipped; a tile listed
/// twice keeps its last line), writes `tileset.json` and its external tilesets under
/// `dir_3dtiles`, and one result line per file written (path, nodes).
pub fn write_tilesets(
    config: &Config,
    jobs: &[Job<Content3d>],
    split_levels: u8,
    results: &Results,
) -> anyhow::Result<()> {
    let root = &config.dir_3dtiles;
    let mut leaves: BTreeMap<Tile, Leaf> = BTreeMap::new();
    for job in jobs.iter().filter(|j| !j.body.failed() && !j.body.path.is_empty()) {
        let tile = match tilejobs::tile_of_line(config, job, Some(config.z_max)) {
            Ok(t) => t,
            Err(e) => {
                results.error_for(&job.body, &e)?;
                continue;
            }
        };
        let Some(region) = job.body.region else {
            results.error_for(&job.body, &format!("line {}: no `region`", job.line))?;
            continue;
        };
        let file = PathBuf::from(&job.body.path);
        let uri = match iwp_core::files::relative_within(&file, root) {
            Some(rel) => rel.to_string_lossy().replace('\\', "/"),
            None => bail!("line {}: content {} is not under dir_3dtiles {}", job.line, file.display(), root.display()),
        };
        leaves.insert(tile, Leaf { tile, uri, region });
    }
    let leaves: Vec<Leaf> = leaves.into_values().collect();
    for file in tileset::build(config.tms, &leaves, split_levels) {
        let path = root.join(&file.path);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let text = serde_json::to_vec(&file.json)?;
        iwp_core::files::write_atomic(&path, &text).with_context(|| format!("cannot write {}", path.display()))?;
        let mut line = iwp_core::jobs::Fields::new();
        line.insert("path".into(), path.display().to_string().into());
        line.insert("tiles".into(), file.nodes.into());
        line.insert("bytes".into(), text.len().into());
        results.ok(line)?;
    }
    Ok(())
}
