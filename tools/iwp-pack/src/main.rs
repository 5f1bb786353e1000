//! iwp-pack: move many small files as a few large verified archives.

use clap::{Parser, Subcommand};
use iwp_core::cli::{self, LogArgs, ThreadArgs};
use iwp_core::pack::commands::{self, parse_size};
use iwp_core::runner::Run;
use std::path::PathBuf;
use std::process::ExitCode;

/// The tool's name, for messages.
const TOOL: &str = "iwp-pack";

/// Pack many small files (footprints, staged tiles, GeoTIFFs) into a few large tar archives
/// (optionally zstd) with a manifest of every file's path, size, mode and checksum; unpack them in
/// parallel with every file verified; ship only what changed since an earlier manifest or pack.
#[derive(Parser, Debug)]
#[command(
    version = iwp_version::VERSION,
    after_help = "Examples:\n  iwp-pack pack /scratch/footprints --into /scratch/fp-pack --size 1GiB\n  srun --ntasks-per-node=1 iwp-pack unpack /scratch/fp-pack --to /tmp/footprints\n  iwp-pack pack /tmp/staged --into /scratch/staged-pack --since /scratch/staged-pack"
)]
struct Args {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    threads: ThreadArgs,
    #[command(flatten)]
    log: LogArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Pack the files under SRC (or file job lines {"path":...} on stdin) into archives in DIR.
    Pack {
        /// Source folders; paths in the archives are relative to them.
        src: Vec<PathBuf>,
        /// Folder for the archives and the manifest (manifest-N.ndjson, part-N-K.tar[.zst]).
        #[arg(long, value_name = "DIR")]
        into: PathBuf,
        /// Target archive size, e.g. 512MiB, 1GiB.
        #[arg(long, default_value = "1GiB", value_parser = parse_size)]
        size: u64,
        /// Compress with zstd at this level (e.g. 3); uncompressed tar without it.
        #[arg(long, value_name = "LEVEL")]
        zstd: Option<i32>,
        /// Only files new or changed (size, mode, mtime) since this earlier manifest, or, given a
        /// pack folder, since its packs (each file as its latest manifest lists it).
        #[arg(long, value_name = "MANIFEST")]
        since: Option<PathBuf>,
    },
    /// Extract every archive of a pack folder into DEST, verifying every file.
    Unpack {
        dir: PathBuf,
        #[arg(long, value_name = "DEST")]
        to: PathBuf,
    },
    /// Check every archive of a pack folder against its manifest, without extracting.
    Verify { dir: PathBuf },
    /// Print the manifest entries of a pack folder, one line per file.
    List { dir: PathBuf },
}

fn main() -> ExitCode {
    let args: Args = cli::parse();
    args.log.init();
    args.threads.init();
    let run = Run::new(TOOL);
    let outcome = match &args.command {
        Command::Pack { src, into, size, zstd, since } => {
            iwp_core::temps::claim(&[into]);
            commands::pack(&run, src, into, *size, *zstd, since.as_deref())
        }
        Command::Unpack { dir, to } => {
            // The pack folder too: a job killed while packing left its temporaries there.
            iwp_core::temps::claim(&[dir, to]);
            commands::per_archive(&run.results, dir, Some(to))
        }
        Command::Verify { dir } => commands::per_archive(&run.results, dir, None),
        Command::List { dir } => commands::list(&run.results, dir),
    };
    match outcome {
        Err(e) if !run.results.is_closed() => run.usage(&format!("{e:#}")),
        _ if matches!(args.command, Command::List { .. }) => run.results.exit_code(TOOL),
        _ => run.finish("archives"),
    }
}
