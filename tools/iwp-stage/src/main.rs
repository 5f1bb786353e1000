//! iwp-stage: stage IWP vector files into z-max GeoPackage tiles.

use clap::Parser;
use iwp_core::cli::{self, ConfigArgs, JobArgs, LogArgs, ThreadArgs};
use iwp_core::config::{Config, DedupMethod};
use iwp_core::jobs::{result_from, Fields, Job, Results};
use iwp_core::logging::progress_bar;
use iwp_vector::footprints::{footprint_path, FootprintIndex};
use iwp_vector::stage::stage_file;
use iwp_vector::tilestore::{append_summary, write_tile};
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// The tool's name, for messages.
const TOOL: &str = "iwp-stage";

/// Stage input vector files (one job line each, {"path": ...}) into z-max GeoPackage tiles:
/// polygons simplified, flagged against footprints, reprojected to the TMS and written into
/// every tile they intersect. One result line per tile written.
#[derive(Parser, Debug)]
#[command(
    version,
    after_help = "Examples:\n  iwp-stage --config c.json --list > files.ndjson\n  iwp-stage --config c.json --input files.ndjson > staged.ndjson\n  iwp-stage --config c.json --list | iwp-stage --config c.json --shard auto --out /tmp/staged"
)]
struct Args {
    #[command(flatten)]
    config: ConfigArgs,
    #[command(flatten)]
    jobs: JobArgs,
    /// Print one job line per input file under dir_input (path, footprint, bytes; absolute
    /// paths) and exit. With footprint dedup, the footprint index is checked file by file first
    /// and rebuilt if it is missing or stale.
    #[arg(long)]
    list: bool,
    /// Build (or check, and rebuild if stale) the footprint index, print one line saying what
    /// it holds, and exit. Staging reads it instead of every footprint.
    #[arg(long, conflicts_with = "list")]
    index_footprints: bool,
    /// Write tiles under DIR instead of the config's dir_staged (e.g. a node-local folder).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Re-stage files whose rows a tile already holds (replacing those rows).
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    threads: ThreadArgs,
    #[command(flatten)]
    log: LogArgs,
}

fn main() -> ExitCode {
    let args = Args::parse();
    iwp_vector::vector::tune_gdal();
    let config = match cli::start(TOOL, &args.log, &args.threads, &args.config) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let dedup = config.deduplicate_method == Some(DedupMethod::Footprints);
    if args.index_footprints || (args.list && dedup) {
        if let Err(e) = index_footprints(&config, args.index_footprints) {
            return cli::usage_error(TOOL, &format!("{e:#}"));
        }
    }
    if args.list {
        return list(&config);
    }
    if args.index_footprints {
        return ExitCode::SUCCESS;
    }
    let (jobs, bad) = match args.jobs.read("bytes") {
        Ok(j) => j,
        Err(e) => {
            return cli::usage_error(TOOL, &e.to_string());
        }
    };
    let footprints = if dedup {
        match FootprintIndex::open(&config) {
            Ok(f) => {
                tracing::info!("footprint dedup: {}", f.describe());
                Some(f)
            }
            Err(e) => {
                return cli::usage_error(TOOL, &format!("{e:#}"));
            }
        }
    } else {
        None
    };
    let out_dir = args.out.clone().unwrap_or_else(|| config.dir_staged.clone());
    iwp_core::temps::claim(&[&out_dir]);
    let results = Results::stdout();
    for b in &bad {
        let _ = results.bad_line(b);
    }
    let bar = progress_bar(jobs.len() as u64, "files");
    let start = Instant::now();
    jobs.par_iter().for_each(|job| {
        if let Err(e) = stage_one(&config, &out_dir, footprints.as_ref(), job, args.force, &results) {
            let _ = results.error(job.fields.clone(), &format!("{e:#}"));
        }
        bar.inc(1);
    });
    bar.finish_and_clear();
    tracing::info!(
        "staged {} files: {} tile writes, {} failed, in {:.1} s",
        jobs.len(),
        results.ok_count(),
        results.failed_count(),
        start.elapsed().as_secs_f64()
    );
    results.exit_code()
}

/// Stages one file and writes one result line per tile.
fn stage_one(
    config: &Config,
    out: &Path,
    footprints: Option<&FootprintIndex>,
    job: &Job,
    force: bool,
    results: &Results,
) -> anyhow::Result<()> {
    let t0 = Instant::now();
    let path = job.str("path").ok_or_else(|| anyhow::anyhow!("line {}: job line has no \"path\"", job.line))?;
    let footprint = job.str("footprint").map(Path::new);
    let staged = stage_file(config, Path::new(path), footprint, footprints)?;
    let staged_secs = t0.elapsed().as_secs_f64();
    if staged.repaired > 0 {
        tracing::warn!("{path}: {} invalid polygons repaired with MakeValid", staged.repaired);
    }
    // Tiles of one file are written in parallel (each under its own folder lock), reported in order.
    let tiles: Vec<_> = staged.tiles.iter().collect();
    let written: Vec<_> =
        tiles.par_iter().map(|(tile, rows)| write_tile(config, out, &staged, **tile, rows, force)).collect();
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
        let mut f: Fields = result_from(&job.fields, &["path", "bytes", "footprint", "polygons"]);
        f.insert("tms".into(), config.tms.id.into());
        f.insert("z".into(), tile.z.into());
        f.insert("x".into(), tile.x.into());
        f.insert("y".into(), tile.y.into());
        f.insert("path".into(), w.path.display().to_string().into());
        f.insert("features".into(), w.features.into());
        f.insert("rows".into(), w.added.into());
        f.insert("file".into(), staged.filename.clone().into());
        // The job this line belongs to and how many lines it gives, for iwp-progress.
        f.insert("source".into(), path.into());
        f.insert("parts".into(), tiles.len().into());
        f.insert("secs".into(), ((t0.elapsed().as_secs_f64() * 1000.0).round() / 1000.0).into());
        results.ok(f)?;
        writes.push(w);
    }
    append_summary(config, &staged.filename, &writes)?;
    if let Some(e) = failed {
        return Err(e.context(format!("{path}: {} of {} tiles not written", tiles.len() - writes.len(), tiles.len())));
    }
    tracing::debug!(
        "{path}: {} polygons read and tiled in {staged_secs:.2} s, {} tiles written in {:.2} s",
        staged.rows.len(),
        writes.len(),
        t0.elapsed().as_secs_f64() - staged_secs
    );
    Ok(())
}

/// Makes sure the footprint index is fresh (every file compared); with `report`, prints one line
/// saying what it holds.
fn index_footprints(config: &Config, report: bool) -> anyhow::Result<()> {
    let t0 = Instant::now();
    let built = iwp_vector::footprint_index::ensure(config, true)?;
    if report {
        let index = iwp_vector::footprint_index::IndexFile::open(config)?;
        let (unreadable, _) = index.unreadable()?;
        let mut f = Fields::new();
        f.insert("footprint_index".into(), config.footprint_index.display().to_string().into());
        f.insert("footprints".into(), index.len()?.into());
        f.insert("unreadable".into(), unreadable.into());
        f.insert("built".into(), built.is_some().into());
        f.insert("secs".into(), ((t0.elapsed().as_secs_f64() * 1000.0).round() / 1000.0).into());
        Results::stdout().ok(f)?;
    }
    Ok(())
}

/// Prints one job line per input file under dir_input, with absolute paths.
fn list(config: &Config) -> ExitCode {
    let results = Results::stdout();
    let walker = walkdir::WalkDir::new(&config.dir_input).sort_by_file_name();
    for entry in walker {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                return cli::usage_error(TOOL, &format!("cannot list {}: {e}", config.dir_input.display()));
            }
        };
        if !entry.file_type().is_file() || !entry.file_name().to_string_lossy().ends_with(&config.ext_input) {
            continue;
        }
        let mut f = Fields::new();
        let path = std::path::absolute(entry.path()).unwrap_or_else(|_| entry.path().to_path_buf());
        f.insert("path".into(), path.display().to_string().into());
        let footprint = footprint_path(config, &path);
        let footprint = std::path::absolute(&footprint).unwrap_or(footprint);
        f.insert("footprint".into(), footprint.display().to_string().into());
        f.insert("bytes".into(), entry.metadata().map(|m| m.len()).unwrap_or(0).into());
        if results.ok(f).is_err() {
            return ExitCode::from(1);
        }
    }
    ExitCode::SUCCESS
}
