//! iwp-merge: combine staged tiles from several node folders into one tree.

use clap::Parser;
use iwp_core::cli::{self, ConfigArgs, JobArgs, LogArgs, ThreadArgs};
use iwp_core::lines::StagedTile;
use iwp_core::runner::Run;
use iwp_core::shard::Shard;
use iwp_core::tilejobs;
use iwp_vector::merge::Transfer;
use iwp_vector::merge_job::{self, Merging};
use std::path::PathBuf;
use std::process::ExitCode;

/// The tool's name, for messages.
const TOOL: &str = "iwp-merge";

/// Merge staged z-max tiles from several folders (e.g. one per node, from `iwp-stage --out`) into
/// one tree: a tile in one source is hard-linked (or copied/moved), tiles in several are combined
/// with every row once (by staging_identifier), so merging a source twice adds nothing. Sources
/// come from --from, or from staged-tile job lines on stdin. One result line per tile.
#[derive(Parser, Debug)]
#[command(
    version = iwp_version::VERSION,
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
    let args: Args = cli::parse();
    iwp_vector::vector::tune_gdal();
    let config = match cli::start(TOOL, &args.log, &args.threads, &args.config) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let run = Run::new(TOOL);
    let into = args.into.clone().unwrap_or_else(|| config.dir_staged.clone());
    iwp_core::temps::claim(&[&into]);
    let shard = args.jobs.shard.unwrap_or(Shard::All);
    let sources = if args.from.is_empty() {
        // A tile's sources may come from several lines: lines are read whole, tiles shared out.
        let jobs = match run.read_all::<StagedTile>(&args.jobs) {
            Ok(j) => j,
            Err(code) => return code,
        };
        match merge_job::sources_of_lines(&config, &jobs, shard.reports_for_all(), &run.results) {
            Ok(s) => s,
            Err(_) => return run.results.exit_code(TOOL),
        }
    } else {
        match merge_job::sources_in_folders(&config, &args.from) {
            Ok(s) => s,
            Err(e) => return run.usage(&e),
        }
    };
    let mine = tilejobs::share(sources, shard);
    let merging = Merging::new(&config, &into, args.transfer);
    run.each_unit("tiles", &mine, |(tile, paths)| drop(merging.tile(*tile, paths, &run.results)));
    tracing::info!("{}", merging.summary(mine.len()));
    run.finish("tiles")
}
