//! iwp-nodes: the nodes of a Slurm allocation, one job line per node.

use clap::Parser;
use iwp_core::cli::{self, LogArgs};
use iwp_core::files::write_atomic;
use iwp_core::hostlist;
use iwp_core::runner::Run;
use std::path::PathBuf;
use std::process::ExitCode;

/// The tool's name, for messages.
const TOOL: &str = "iwp-nodes";

/// Expand a Slurm hostlist (default: $SLURM_JOB_NODELIST) into one line per node,
/// `{"node":"gpub059","index":0,"head":true}`; the first node is the head.
#[derive(Parser, Debug)]
#[command(
    version = iwp_version::VERSION,
    after_help = "Examples:\n  iwp-nodes 'gpub[059-061,070]'\n  iwp-nodes --head\n  iwp-nodes --nodes-file nodes_array.txt > nodes.ndjson"
)]
struct Args {
    /// Hostlist expression such as `gpub[059-061,070]` or `cn[1-3],gpub07`.
    #[arg(env = "SLURM_JOB_NODELIST")]
    hostlist: Option<String>,
    /// Print only the head node's name.
    #[arg(long)]
    head: bool,
    /// Also write the plain one-name-per-line file (nodes_array.txt of the old scripts).
    #[arg(long, value_name = "PATH")]
    nodes_file: Option<PathBuf>,
    #[command(flatten)]
    log: LogArgs,
}

fn main() -> ExitCode {
    let args: Args = cli::parse();
    args.log.init();
    let Some(list) = args.hostlist.as_deref() else {
        return cli::usage_error(
            TOOL,
            "no hostlist: give one as an argument or run inside a Slurm job (SLURM_JOB_NODELIST)",
        );
    };
    let nodes = match hostlist::expand(list) {
        Ok(n) => n,
        Err(e) => {
            return cli::usage_error(TOOL, &e.to_string());
        }
    };
    if let Some(path) = &args.nodes_file {
        let text: String = nodes.iter().map(|n| format!("{n}\n")).collect();
        if let Err(e) = write_atomic(path, text.as_bytes()) {
            return cli::usage_error(TOOL, &format!("cannot write {}: {e}", path.display()));
        }
    }
    let run = Run::new(TOOL);
    if args.head {
        let _ = run.results.write_text(&format!("{}\n", nodes[0]));
        return run.results.exit_code(TOOL);
    }
    for line in hostlist::node_lines(&nodes) {
        if run.results.put(&line).is_err() {
            break;
        }
    }
    run.results.exit_code(TOOL)
}
