//! iwp-stage: stage IWP vector files into z-max GeoPackage tiles.

use clap::Parser;
use iwp_core::cli::{self, ConfigArgs, JobArgs, LogArgs, ThreadArgs};
use iwp_core::config::DedupMethod;
use iwp_core::lines::InputFile;
use iwp_core::runner::Run;
use iwp_vector::footprints::FootprintIndex;
use iwp_vector::stage_job::{self, Staging};
use std::path::PathBuf;
use std::process::ExitCode;

/// Rust allocations by mimalloc (staging allocates and frees small vectors per polygon).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The tool's name, for messages.
const TOOL: &str = "iwp-stage";

/// Stage input vector files (one job line each, {"path": ...}) into z-max GeoPackage tiles:
/// polygons simplified, flagged against footprints, reprojected to the TMS and written into
/// every tile they intersect. One result line per tile written.
#[derive(Parser, Debug)]
#[command(
    version = iwp_version::VERSION,
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
    let args: Args = cli::parse();
    iwp_vector::vector::tune_gdal();
    let config = match cli::start(TOOL, &args.log, &args.threads, &args.config) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let run = Run::new(TOOL);
    let dedup = config.deduplicate_method == Some(DedupMethod::Footprints);
    if args.index_footprints || (args.list && dedup) {
        if let Err(e) = stage_job::index_footprints(&config, args.index_footprints, &run.results) {
            return done_or_usage(&run, e);
        }
    }
    if args.list {
        if let Err(e) = stage_job::list_inputs(&config, &run.results) {
            return done_or_usage(&run, e);
        }
    }
    if args.list || args.index_footprints {
        return run.results.exit_code(TOOL);
    }
    let jobs = match run.read::<InputFile>(&args.jobs, |f| f.bytes.map(|b| b as f64)) {
        Ok(j) => j,
        Err(code) => return code,
    };
    let footprints = match dedup.then(|| FootprintIndex::open(&config)).transpose() {
        Ok(f) => f,
        Err(e) => return run.usage(&format!("{e:#}")),
    };
    if let Some(f) = &footprints {
        tracing::info!("footprint dedup: {}", f.describe());
    }
    let out = args.out.clone().unwrap_or_else(|| config.dir_staged.clone());
    iwp_core::temps::claim(&[&out]);
    let staging = Staging { config: &config, out: &out, footprints: footprints.as_ref(), force: args.force };
    staging.run_all(&run, &jobs);
    run.finish("tile writes")
}

/// After a listing that stopped: the results' own status when they could not be written, else
/// a usage error with the reason.
fn done_or_usage(run: &Run, e: anyhow::Error) -> ExitCode {
    if run.results.is_closed() {
        return run.results.exit_code(TOOL);
    }
    run.usage(&format!("{e:#}"))
}
