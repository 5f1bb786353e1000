//! iwp-3dtiles's run: the style from the config and the flags, one content per staged tile with
//! its result line, and the hierarchy step, which reads only result lines (from any number of
//! nodes) and writes tileset.json and its external tilesets.

use crate::content::{self, Height, Style};
use crate::tileset::{self, Leaf};
use anyhow::{bail, Context};
use iwp_core::cli::JobArgs;
use iwp_core::config::Config;
use iwp_core::jobs::Results;
use iwp_core::lines::{Content3d, Status, TileLine, Tileset3d};
use iwp_core::runner::{Job, Run};
use iwp_core::tilejobs;
use iwp_core::tms::Tile;
use iwp_web::palette::Palette;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
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
        let tiles = tilejobs::tiles_of_lines(self.config, self.config.z_max, jobs, reports, self.results)?;
        let staged = |t: Tile| iwp_vector::tilestore::tile_path(self.config, &self.config.dir_staged, t);
        Ok(tiles.into_iter().map(|(t, path)| (t, path.unwrap_or_else(|| staged(t)))).collect())
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

/// The hierarchy step: reads 3D content lines as they come (failed and empty ones skipped; a
/// tile listed twice keeps its last line; a line naming no z-max tile, no `region` or a file
/// outside dir_3dtiles gets an error line), then writes `tileset.json` and its external tilesets
/// under dir_3dtiles, one 3D tileset result line per file. Memory holds a small leaf per
/// content (about 100 bytes) and one file's JSON.
pub fn hierarchy(config: &Config, run: &Run, args: &JobArgs, split_levels: u8) -> ExitCode {
    let mut leaves = Vec::new();
    let read = run.read_each::<Content3d>(args, |job| match leaf_of(config, &job) {
        Ok(Some(leaf)) => leaves.push(leaf),
        Ok(None) => {}
        Err(why) => {
            let _ = run.results.error_for(&job.body, &why);
        }
    });
    if let Err(code) = read {
        return code;
    }
    tracing::info!("{} contents: writing the tileset files", leaves.len());
    let root = &config.dir_3dtiles;
    let written = tileset::build_each(config.tms, leaves, split_levels, &mut |file| {
        let path = root.join(&file.path);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let text = serde_json::to_vec(&file.json)?;
        // Not synced, as contents are not: a file lost in a crash is made again by this step.
        iwp_core::files::write_atomic_unsynced(&path, &text)
            .with_context(|| format!("cannot write {}", path.display()))?;
        let line = Tileset3d {
            path: path.display().to_string(),
            tiles: file.nodes as u64,
            bytes: text.len() as u64,
            status: Some(Status::Ok),
        };
        Ok(run.results.put(&line)?)
    });
    if let Err(e) = written {
        if !run.results.is_closed() {
            let mut fields = iwp_core::jobs::Fields::new();
            fields.insert("path".into(), root.join("tileset.json").display().to_string().into());
            let _ = run.results.error(fields, &format!("{e:#}"));
        }
    }
    run.finish("tileset files")
}

/// The leaf of a 3D content line: None for a failed line or a tile without content.
fn leaf_of(config: &Config, job: &Job<Content3d>) -> Result<Option<Leaf>, String> {
    if job.body.failed() || job.body.path.is_empty() {
        return Ok(None);
    }
    let tile = tilejobs::tile_of_line(config, job, Some(config.z_max))?;
    let region = job.body.region.ok_or_else(|| format!("line {}: no `region`", job.line))?;
    let root = &config.dir_3dtiles;
    let uri = iwp_core::files::relative_within(Path::new(&job.body.path), root).ok_or_else(|| {
        format!("line {}: content {} is not under dir_3dtiles {}", job.line, job.body.path, root.display())
    })?;
    Ok(Some(Leaf { tile, uri: uri.to_string_lossy().replace('\\', "/").into(), region }))
}
