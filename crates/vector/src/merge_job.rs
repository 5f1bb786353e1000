//! iwp-merge's run: the tiles to merge and their source files (from staged-tile lines or source
//! folders), each tile merged into the target tree with its result line, and the run's summary.

use crate::merge::{merge_tile, Transfer};
use crate::tilestore::tile_path;
use iwp_core::config::Config;
use iwp_core::jobs::Results;
use iwp_core::lines::{StagedTile, TileLine};
use iwp_core::runner::Job;
use iwp_core::tilejobs;
use iwp_core::tms::Tile;
use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Every tile to merge with its source files, each once, in the order first seen.
pub type Sources = BTreeMap<Tile, Vec<PathBuf>>;

/// The sources staged-tile lines name (lines of failed units are skipped); a line naming no
/// tile of the config's tile matrix set gets an error line when `reports` (one share reports).
pub fn sources_of_lines(
    config: &Config,
    jobs: &[Job<StagedTile>],
    reports: bool,
    results: &Results,
) -> io::Result<Sources> {
    let mut tiles = Sources::new();
    for job in jobs.iter().filter(|j| !j.body.failed()) {
        let t = &job.body;
        let named = match tilejobs::tile_named(config, job.line, &t.tile, &t.path) {
            Ok(_) if t.path.is_empty() => Err(format!("line {}: no \"path\"", job.line)),
            named => named,
        };
        match named {
            Ok(tile) => add_source(&mut tiles, tile, PathBuf::from(&t.path)),
            Err(e) if reports => results.error_for(t, &e)?,
            Err(_) => {}
        }
    }
    Ok(tiles)
}

/// The tile files under each of `dirs` (each must be a folder).
pub fn sources_in_folders(config: &Config, dirs: &[PathBuf]) -> Result<Sources, String> {
    let mut tiles = Sources::new();
    for dir in dirs {
        if !dir.is_dir() {
            return Err(format!("--from {}: not a folder", dir.display()));
        }
        for (t, path) in tilejobs::tile_files(config, dir, &config.ext_staged) {
            add_source(&mut tiles, t, path);
        }
    }
    Ok(tiles)
}

/// Records a source file of a tile (once).
fn add_source(tiles: &mut Sources, tile: Tile, path: PathBuf) {
    let list = tiles.entry(tile).or_default();
    if !list.contains(&path) {
        list.push(path);
    }
}

/// Tiles merged into one target tree, with the counts the summary gives.
pub struct Merging<'a> {
    config: &'a Config,
    into: &'a Path,
    transfer: Transfer,
    rows: AtomicU64,
    combined: AtomicU64,
}

impl<'a> Merging<'a> {
    /// Merging into `into` (a tile in one source reaches it by `transfer`).
    pub fn new(config: &'a Config, into: &'a Path, transfer: Transfer) -> Merging<'a> {
        Merging { config, into, transfer, rows: AtomicU64::new(0), combined: AtomicU64::new(0) }
    }

    /// Merges one tile's sources and writes its result line (or its error line).
    pub fn tile(&self, tile: Tile, sources: &[PathBuf], results: &Results) -> io::Result<()> {
        let started = Instant::now();
        let target = tile_path(self.config, self.into, tile);
        let mut line = StagedTile {
            tile: tilejobs::tile_at(self.config, tile),
            path: target.display().to_string(),
            sources: Some(sources.len() as u64),
            ..StagedTile::default()
        };
        match merge_tile(self.config, tile, sources, &target, self.transfer) {
            Ok(m) => {
                self.rows.fetch_add(m.added.unwrap_or(0), Ordering::Relaxed);
                self.combined.fetch_add(u64::from(m.action == "combined"), Ordering::Relaxed);
                line.action = Some(m.action.into());
                if let (Some(added), Some(features)) = (m.added, m.features) {
                    line.rows = Some(added);
                    line.features = Some(features);
                }
                line.secs = Some((started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0);
                results.put(&line)
            }
            Err(e) => results.error_for(&line, &format!("{e:#}")),
        }
    }

    /// One sentence on what `tiles` merged tiles came to.
    pub fn summary(&self, tiles: usize) -> String {
        format!(
            "merged {tiles} tiles into {} ({} combined from several sources with {} rows added; the others placed whole)",
            self.into.display(),
            self.combined.load(Ordering::Relaxed),
            self.rows.load(Ordering::Relaxed),
        )
    }
}
