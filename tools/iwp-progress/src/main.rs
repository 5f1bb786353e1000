//! iwp-progress: how far a stage is, from its job list and the result files its tasks append
//! to; waits for it to finish, and prints the job lines to redo. The work is
//! `iwp_core::progress::run`.

use clap::Parser;
use iwp_core::cli::{self, LogArgs};
use iwp_core::progress::run::{run, MatchBy, Mode, Options};
use std::path::PathBuf;
use std::process::ExitCode;

/// Follow a stage: the job list gives the total, result files (one per task, appended to while
/// the stage runs) give what is done. Live bars on a terminal, else a status line of NDJSON
/// every few seconds on stdout; a final summary (counts, rate, slowest jobs, per host, node-hours).
#[derive(Parser, Debug)]
#[command(
    version = iwp_version::VERSION,
    after_help = "Examples:\n  iwp-progress --jobs run/files.ndjson 'run/stage.*.ndjson'          (live, until every job has a result)\n  iwp-progress --jobs run/files.ndjson 'run/stage.*.ndjson' --once   (exit 0 done, 1 failures, 3 incomplete)\n  iwp-progress --jobs run/files.ndjson 'run/stage.*.ndjson' --failed | iwp-stage -c c.json >> run/stage.redo.ndjson\n  iwp-progress --jobs run/z15.ndjson --zoom 14 'run/z14.*.ndjson'    (a raster level: tiles of the level above)\n\nExit status: 0 every job ok, 1 every job has a result and some failed, 2 usage error,\n3 jobs without a result yet (--once, --timeout), whether or not some failed."
)]
struct Args {
    /// The stage's job list (NDJSON, one unit of work per line); `-` reads it from stdin.
    #[arg(long, value_name = "FILE")]
    jobs: PathBuf,
    /// Result files or glob patterns; quote patterns so files that appear later are picked up.
    #[arg(required = true, value_name = "RESULTS")]
    results: Vec<String>,
    /// Follow until every job has a result, then exit 0 if all are ok, 1 if any failed (the
    /// default; named for scripts).
    #[arg(long, conflicts_with_all = ["once", "failed"])]
    wait: bool,
    /// Print the current summary and exit: 0 all ok, 1 complete with failures, 3 incomplete.
    #[arg(long, conflicts_with = "failed")]
    once: bool,
    /// Print the job lines that failed or have no result yet, ready to pipe into the stage's
    /// tool again, and exit.
    #[arg(long)]
    failed: bool,
    /// How jobs are matched to results (default: tile when job lines have z/x/y, else path).
    #[arg(long, value_enum)]
    key: Option<MatchBy>,
    /// Count tiles of zoom Z: each job tile stands for its ancestor at Z (a raster level step,
    /// whose jobs are the tiles of the level below).
    #[arg(long, value_name = "Z")]
    zoom: Option<u8>,
    /// Weigh jobs by this numeric field for rate and ETA; `count` weighs every job 1
    /// (default: `bytes` when every job line has it).
    #[arg(long, value_name = "FIELD")]
    size_field: Option<String>,
    /// Seconds between status lines when stderr is not a terminal.
    #[arg(long, value_name = "SECS", default_value_t = 5.0)]
    interval: f64,
    /// Stop following after SECS and exit 3 if jobs still have no result.
    #[arg(long, value_name = "SECS")]
    timeout: Option<f64>,
    /// The stage's name in the display (default: the job file's name).
    #[arg(long)]
    name: Option<String>,
    #[command(flatten)]
    log: LogArgs,
}

fn main() -> ExitCode {
    let args: Args = cli::parse();
    args.log.init();
    let mode = match (args.once, args.failed) {
        (_, true) => Mode::Failed,
        (true, _) => Mode::Once,
        _ => Mode::Follow,
    };
    let options = Options {
        jobs: args.jobs,
        results: args.results,
        mode,
        key: args.key,
        zoom: args.zoom,
        size_field: args.size_field,
        interval: args.interval,
        timeout: args.timeout,
        name: args.name,
        quiet: args.log.quiet,
    };
    run("iwp-progress", &options)
}
