//! iwp-stage's units of work: one input file staged into its tiles (one result line per tile
//! written), the job list of every input file under dir_input, and the footprint index's report.

use crate::footprint_index::{self, IndexFile};
use crate::footprints::{footprint_path, FootprintIndex};
use crate::stage::stage_file;
use crate::tilestore::{append_summary, lock_folders, prepare_tile, PreparedTile, TileRows, TileWriter};
use anyhow::{anyhow, Context};
use iwp_core::config::Config;
use iwp_core::jobs::Results;
use iwp_core::lines::{InputFile, StagedTile, TileAt};
use iwp_core::runner::Job;
use iwp_core::tms::Tile;
use std::path::Path;
use std::time::Instant;

/// Where and how a run stages: the tiles' folder, the footprints (with footprint dedup), and
/// whether a file's rows that a tile already holds are replaced.
pub struct Staging<'a> {
    /// The config.
    pub config: &'a Config,
    /// The folder the tiles are written under (dir_staged, or `--out`).
    pub out: &'a Path,
    /// The footprint index, with footprint dedup (None without it).
    pub footprints: Option<&'a FootprintIndex>,
    /// True to replace the rows a tile already holds of a file (`--force`).
    pub force: bool,
}

/// Seconds since `t0`, to the millisecond.
fn secs(t0: Instant) -> f64 {
    (t0.elapsed().as_secs_f64() * 1000.0).round() / 1000.0
}

impl Staging<'_> {
    /// Stages one input file and writes one result line per tile written (the job's unknown
    /// fields kept); an error names the file and how many tiles were not written.
    pub fn run(&self, job: &Job<InputFile>, results: &Results) -> anyhow::Result<()> {
        let t0 = Instant::now();
        let input = &job.body;
        let path = input.path.as_str();
        let staged =
            stage_file(self.config, Path::new(path), input.footprint.as_deref().map(Path::new), self.footprints)?;
        let staged_secs = t0.elapsed().as_secs_f64();
        if staged.repaired > 0 {
            tracing::warn!("{path}: {} invalid polygons repaired with MakeValid", staged.repaired);
        }
        // Tiles of one file are written together: their folders locked, the new tiles written in
        // parallel under temporary names, one flush of the filesystem for all of them (not one
        // per tile), then each renamed into place, reported in order. A crash leaves each tile
        // old or new, never truncated.
        let tiles: Vec<_> = staged.tiles.iter().collect();
        let keys: Vec<Tile> = staged.tiles.keys().copied().collect();
        let locks = lock_folders(self.config, self.out, &keys)?;
        let prepared = on_plain_threads(&tiles, |(tile, rows)| {
            let rows = TileRows { file: &staged, tile: **tile, rows, force: self.force };
            prepare_tile(self.config, self.out, rows, TileWriter::Sqlite)
        });
        if prepared.iter().any(|p| p.as_ref().is_ok_and(PreparedTile::changes)) {
            iwp_core::files::sync_filesystem(self.out)
                .with_context(|| format!("{path}: cannot flush its tiles to disk under {}", self.out.display()))?;
        }
        let written: Vec<_> = prepared.into_iter().map(|p| p.and_then(PreparedTile::put_in_place)).collect();
        drop(locks);
        let (mut writes, mut failed) = (Vec::new(), None);
        for w in written {
            let w = match w {
                Ok(w) => w,
                Err(e) => {
                    failed.get_or_insert(e);
                    continue;
                }
            };
            let tile = w.tile;
            let line = StagedTile {
                tile: TileAt {
                    tms: Some(self.config.tms.id.into()),
                    z: Some(tile.z),
                    x: Some(tile.x),
                    y: Some(tile.y),
                },
                path: w.path.display().to_string(),
                features: Some(w.features),
                rows: Some(w.added as u64),
                file: Some(staged.filename.clone()),
                // The job this line belongs to and how many lines it gives, for iwp-progress.
                source: Some(path.to_string()),
                parts: Some(tiles.len() as u64),
                secs: Some(secs(t0)),
                extra: input.extra.clone(),
                ..Default::default()
            };
            results.put(&line)?;
            writes.push(w);
        }
        append_summary(self.config, &staged.filename, &writes)?;
        let (tile_count, polygons) = (tiles.len(), staged.rows.len());
        staged.release();
        if let Some(e) = failed {
            return Err(e.context(format!("{path}: {} of {tile_count} tiles not written", tile_count - writes.len())));
        }
        tracing::debug!(
            "{path}: {polygons} polygons read and tiled in {staged_secs:.2} s, {} tiles written in {:.2} s",
            writes.len(),
            t0.elapsed().as_secs_f64() - staged_secs
        );
        Ok(())
    }
}

/// `f` of every item, in order, on as many plain threads as rayon has (not on rayon's): work
/// done while holding folder locks must not wait in rayon, whose work stealing could start
/// another file's job on the same thread, which would then wait for those very locks.
fn on_plain_threads<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = rayon::current_num_threads().min(items.len()).max(1);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut results: Vec<(usize, R)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(item) = items.get(i) else { return done };
                        done.push((i, f(item)));
                    }
                })
            })
            .collect();
        workers.into_iter().flat_map(|w| w.join().unwrap_or_else(|p| std::panic::resume_unwind(p))).collect()
    });
    results.sort_by_key(|r| r.0);
    results.into_iter().map(|r| r.1).collect()
}

/// One job line per input file under dir_input (ending with ext_input), in name order, with
/// absolute paths, its footprint and its size.
pub fn list_inputs(config: &Config, results: &Results) -> anyhow::Result<()> {
    let walker = walkdir::WalkDir::new(&config.dir_input).sort_by_file_name();
    for entry in walker {
        let entry = entry.map_err(|e| anyhow!("cannot list {}: {e}", config.dir_input.display()))?;
        if !entry.file_type().is_file() || !entry.file_name().to_string_lossy().ends_with(&config.ext_input) {
            continue;
        }
        let path = std::path::absolute(entry.path()).unwrap_or_else(|_| entry.path().to_path_buf());
        let footprint = footprint_path(config, &path);
        let footprint = std::path::absolute(&footprint).unwrap_or(footprint);
        let line = InputFile {
            path: path.display().to_string(),
            footprint: Some(footprint.display().to_string()),
            bytes: Some(entry.metadata().map(|m| m.len()).unwrap_or(0)),
            ..Default::default()
        };
        results.put(&line)?;
    }
    Ok(())
}

/// Makes sure the footprint index is fresh (every file compared); with `report`, writes one
/// line saying what it holds.
pub fn index_footprints(config: &Config, report: bool, results: &Results) -> anyhow::Result<()> {
    let t0 = Instant::now();
    let built = footprint_index::ensure(config, true)?;
    if report {
        let index = IndexFile::open(config)?;
        let (unreadable, _) = index.unreadable()?;
        let mut f = iwp_core::jobs::Fields::new();
        f.insert("footprint_index".into(), config.footprint_index.display().to_string().into());
        f.insert("footprints".into(), index.len()?.into());
        f.insert("unreadable".into(), unreadable.into());
        f.insert("built".into(), built.is_some().into());
        f.insert("secs".into(), secs(t0).into());
        results.ok(f)?;
    }
    Ok(())
}
