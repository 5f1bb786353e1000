//! iwp-merge: combine staged tiles from several node folders into one tree.

use clap::Parser;
use iwp_core::cli::{self, ConfigArgs, JobArgs, LogArgs, ThreadArgs};
use iwp_core::jobs::Results;
use iwp_core::logging::progress_bar;
use iwp_core::shard::Shard;
use iwp_core::tilejobs;
use iwp_core::tms::Tile;
use iwp_vector::merge::{merge_tile, Transfer};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// The tool's name, for messages.
const TOOL: &str = "iwp-merge";

/// Merge staged z-max tiles from several folders (e.g. one per node, from `iwp-stage --out`) into
/// one tree: a tile in one source is hard-linked (or copied/moved), tiles in several are combined
/// with every row once (by staging_identifier), so merging a source twice adds nothing. Sources
/// come from --from, or from staged-tile job lines on stdin. One result line per tile.
#[derive(Parser, Debug)]
#[command(
    version,
    after_help = "Examples:\n  iwp-merge -c c.json --from nodes/gpub059 nodes/gpub060 > merged.ndjson\n  cat staged-*.ndjson | iwp-merge -c c.json --into /scratch/staged --shard auto > merged-$SLURM_PROCID.ndjson"
)]
struct Args {
    #[command(flatten)]
    config: ConfigArgs,
    #[command(flatten)]
    jobs: JobArgs,
    /// Source folders of staged tiles (instead of job lines on stdin).
    #[arg(long, value_name = "DIR", num_args = 1..)]
    from: Vec<PathBuf>,
    /// Target folder (default: the config's dir_staged).
    #[arg(long, value_name = "DIR")]
    into: Option<PathBuf>,
    /// How a tile found in one source reaches the target.
    #[arg(long, value_enum, default_value_t = Transfer::Link)]
    transfer: Transfer,
    #[command(flatten)]
    threads: ThreadArgs,
    #[command(flatten)]
    log: LogArgs,
}

fn main() -> ExitCode {
    let mut args = Args::parse();
    iwp_vector::vector::tune_gdal();
    let config = match cli::start(TOOL, &args.log, &args.threads, &args.config) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let into = args.into.clone().unwrap_or_else(|| config.dir_staged.clone());
    iwp_core::temps::claim(&[&into]);
    let shard = args.jobs.shard.take().unwrap_or(Shard::All);
    let results = Results::stdout();
    let mut tiles: BTreeMap<Tile, Vec<PathBuf>> = BTreeMap::new();
    if args.from.is_empty() {
        let (jobs, bad) = match args.jobs.read("") {
            Ok(j) => j,
            Err(e) => return usage(&e.to_string()),
        };
        for b in &bad {
            let _ = results.bad_line(b);
        }
        for job in jobs.iter().filter(|j| j.str("status") != Some("error")) {
            match (tilejobs::tile_of(&config, job), job.str("path")) {
                (Ok(t), Some(p)) => add_source(&mut tiles, t, PathBuf::from(p)),
                (Err(e), _) => drop(results.error(job.fields.clone(), &e)),
                (Ok(_), None) => drop(results.error(job.fields.clone(), &format!("line {}: no \"path\"", job.line))),
            }
        }
    } else {
        for dir in &args.from {
            if !dir.is_dir() {
                return usage(&format!("--from {}: not a folder", dir.display()));
            }
            for (t, path) in tilejobs::tile_files(&config, dir, &config.ext_staged) {
                add_source(&mut tiles, t, path);
            }
        }
    }
    let mine = tilejobs::share(tiles, shard);
    let (rows, combined) = (AtomicU64::new(0), AtomicU64::new(0));
    let start = Instant::now();
    let bar = progress_bar(mine.len() as u64, "tiles");
    mine.par_iter().for_each(|(tile, sources)| {
        let t0 = Instant::now();
        let target = iwp_vector::tilestore::tile_path(&config, &into, *tile);
        let mut f = tilejobs::tile_fields(&config, *tile);
        f.insert("path".into(), target.display().to_string().into());
        f.insert("sources".into(), sources.len().into());
        match merge_tile(&config, *tile, sources, &target, args.transfer) {
            Ok(m) => {
                rows.fetch_add(m.added.unwrap_or(0), Ordering::Relaxed);
                combined.fetch_add(u64::from(m.action == "combined"), Ordering::Relaxed);
                f.insert("action".into(), m.action.into());
                if let (Some(added), Some(features)) = (m.added, m.features) {
                    f.insert("rows".into(), added.into());
                    f.insert("features".into(), features.into());
                }
                f.insert("secs".into(), ((t0.elapsed().as_secs_f64() * 1000.0).round() / 1000.0).into());
                let _ = results.ok(f);
            }
            Err(e) => drop(results.error(f, &format!("{e:#}"))),
        }
        bar.inc(1);
    });
    bar.finish_and_clear();
    tracing::info!(
        "merged {} tiles into {} ({} combined from several sources with {} rows added; the others placed whole; {} failed) in {:.1} s",
        mine.len(),
        into.display(),
        combined.load(Ordering::Relaxed),
        rows.load(Ordering::Relaxed),
        results.failed_count(),
        start.elapsed().as_secs_f64()
    );
    results.exit_code(TOOL)
}

/// Records a source file of a tile (once).
fn add_source(tiles: &mut BTreeMap<Tile, Vec<PathBuf>>, tile: Tile, path: PathBuf) {
    let list = tiles.entry(tile).or_default();
    if !list.contains(&path) {
        list.push(path);
    }
}

fn usage(message: &str) -> ExitCode {
    cli::usage_error(TOOL, message)
}
