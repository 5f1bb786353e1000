//! iwp-stage's units of work: one input file staged into its tiles, which one finishing thread
//! flushes to disk, puts in place and reports (one result line per tile written); the job list
//! of every input file under dir_input; the footprint index's report.

use crate::footprint_index::{self, IndexFile};
use crate::footprints::{footprint_path, FootprintIndex};
use crate::stage::stage_file;
use crate::tilestore::{append_summary, lock_folders, prepare_tile, PreparedTile, TileRows, TileWriter};
use anyhow::anyhow;
use iwp_core::config::Config;
use iwp_core::jobs::Results;
use iwp_core::lines::{InputFile, StagedTile, TileAt};
use iwp_core::runner::{Job, Run};
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

/// A file's tiles written under temporary names, waiting to be flushed to disk, put in place
/// and reported; it holds the locks of their folders until then.
struct Written {
    /// The job line, for its result and error lines.
    job: InputFile,
    /// The file as staging_filename holds it.
    filename: String,
    /// Each tile's new content, or why it could not be written.
    prepared: Vec<anyhow::Result<PreparedTile>>,
    /// The locks of the tiles' folders.
    locks: Vec<std::fs::File>,
    /// When the file's job started.
    t0: Instant,
    /// Seconds it took to read and tile the file.
    staged_secs: f64,
    /// Polygons staged.
    polygons: usize,
}

impl Written {
    /// True when some tile changes (it has to reach the disk before it is put in place).
    fn changes(&self) -> bool {
        self.prepared.iter().any(|p| p.as_ref().is_ok_and(PreparedTile::changes))
    }
}

impl Staging<'_> {
    /// Stages every job on rayon's threads. One more thread flushes the written tiles to disk
    /// (one flush for the files that are waiting), puts them in place and writes the result
    /// lines, while the staging threads go on to their next files.
    pub fn run_all(&self, run: &Run, jobs: &[Job<InputFile>]) {
        std::thread::scope(|scope| {
            // The sender is dropped when this closure ends, also by a panic, and the finishing
            // thread then ends too: the scope never waits for it in vain.
            let (written, waiting) = std::sync::mpsc::sync_channel::<Written>(rayon::current_num_threads());
            let results = &run.results;
            scope.spawn(move || {
                while let Ok(first) = waiting.recv() {
                    let batch: Vec<Written> = std::iter::once(first).chain(waiting.try_iter()).collect();
                    self.put_in_place(batch, results);
                }
            });
            run.each("files", jobs, |job| self.stage(job, &written));
        });
    }

    /// Stages one input file: reads and tiles it, writes its tiles under temporary names with
    /// their folders locked, and hands them to the finishing thread.
    fn stage(&self, job: &Job<InputFile>, written: &std::sync::mpsc::SyncSender<Written>) -> anyhow::Result<()> {
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
        // parallel under temporary names; then (by the finishing thread) one flush of the
        // filesystem for all of them (not one per tile), each renamed into place, reported in
        // order. A crash leaves each tile old or new, never truncated.
        let tiles: Vec<_> = staged.tiles.iter().collect();
        let keys: Vec<Tile> = staged.tiles.keys().copied().collect();
        let locks = lock_folders(self.config, self.out, &keys)?;
        let prepared = on_plain_threads(&tiles, |(tile, rows)| {
            let rows = TileRows { file: &staged, tile: **tile, rows, force: self.force };
            prepare_tile(self.config, self.out, rows, TileWriter::Sqlite)
        });
        let (filename, polygons) = (staged.filename.clone(), staged.rows.len());
        let file = Written { job: input.clone(), filename, prepared, locks, t0, staged_secs, polygons };
        let sent = written.send(file).map_err(|_| anyhow!("{path}: the thread putting tiles in place has stopped"));
        // Freed on rayon's threads only now that the locks are the finishing thread's: waiting
        // in rayon could start another file's job here, which might wait for those locks.
        staged.release();
        sent
    }

    /// Flushes the tiles of `batch` to disk in one go, renames them into place and writes one
    /// result line per tile written; a file whose tiles could not all be written gets an error
    /// line naming how many were not.
    fn put_in_place(&self, batch: Vec<Written>, results: &Results) {
        let flushed = match batch.iter().any(Written::changes) {
            true => iwp_core::files::sync_filesystem(self.out).map_err(|e| e.to_string()),
            false => Ok(()),
        };
        for file in batch {
            let job = file.job.clone();
            // A file whose tiles all stay as they were needs no flush.
            let outcome = match &flushed {
                Err(e) if file.changes() => {
                    Err(anyhow!("{}: cannot flush its tiles to disk under {}: {e}", job.path, self.out.display()))
                }
                _ => self.report(file, results),
            };
            if let Err(e) = outcome {
                // Fails only once results cannot be written; the run ends with why.
                let _ = results.error_for(&job, &format!("{e:#}"));
            }
        }
    }

    /// Puts a flushed file's tiles in place and writes its result lines.
    fn report(&self, file: Written, results: &Results) -> anyhow::Result<()> {
        let Written { job, filename, prepared, locks, t0, staged_secs, polygons } = file;
        let path = job.path.as_str();
        let tile_count = prepared.len();
        let put: Vec<_> = prepared.into_iter().map(|p| p.and_then(PreparedTile::put_in_place)).collect();
        drop(locks);
        let (mut writes, mut failed) = (Vec::new(), None);
        for w in put {
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
                file: Some(filename.clone()),
                // The job this line belongs to and how many lines it gives, for iwp-progress.
                source: Some(path.to_string()),
                parts: Some(tile_count as u64),
                secs: Some(secs(t0)),
                extra: job.extra.clone(),
                ..Default::default()
            };
            results.put(&line)?;
            writes.push(w);
        }
        append_summary(self.config, &filename, &writes)?;
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
