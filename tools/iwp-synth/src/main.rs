//! iwp-synth: generate IWP-like sample data (shapefiles in EPSG:3413 with footprints).

use clap::Parser;
use iwp_core::cli::{self, LogArgs, ThreadArgs};
use iwp_core::logging::progress_bar;
use iwp_core::runner::Run;
use iwp_vector::synth::{self, SynthSpec};
use std::path::PathBuf;
use std::process::ExitCode;

/// The tool's name, for messages.
const TOOL: &str = "iwp-synth";

/// Generate deterministic IWP-like sample data: polygon networks (cells ~5-30 m) as shapefiles
/// in EPSG:3413 with the real attribute columns, one footprint per file, and a config.json.
/// Prints one job line per input file written (path, footprint, polygons, bytes).
#[derive(Parser, Debug)]
#[command(
    version = iwp_version::VERSION,
    after_help = "Example:\n  iwp-synth --out sample --polygons 200000 --files 8 --seed 7\n  iwp-stage --config sample/config.json --list"
)]
struct Args {
    /// Folder to write into (input/, footprints/, config.json).
    #[arg(long)]
    out: PathBuf,
    /// Total number of polygons.
    #[arg(long, default_value_t = 10_000)]
    polygons: u64,
    /// Number of input files (satellite images).
    #[arg(long, default_value_t = 4)]
    files: u32,
    /// Seed of all random choices.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Mean polygon spacing in metres.
    #[arg(long, default_value_t = 14.0)]
    spacing: f64,
    /// Footprint file extension.
    #[arg(long, default_value = ".gpkg", value_parser = ["gpkg", ".gpkg", "shp", ".shp"])]
    footprint_ext: String,
    /// z_range of the config written beside the data.
    #[arg(long, num_args = 2, value_names = ["MIN", "MAX"], default_values_t = [11u8, 15])]
    z_range: Vec<u8>,
    /// Replace an existing input/ and footprints/ under --out.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    threads: ThreadArgs,
    #[command(flatten)]
    log: LogArgs,
}

fn main() -> ExitCode {
    let args: Args = cli::parse();
    args.log.init();
    let run = Run::new(TOOL);
    if args.files == 0
        || args.polygons == 0
        || !(1.0..=1000.0).contains(&args.spacing)
        || args.z_range[0] > args.z_range[1]
    {
        return run.usage("--files and --polygons must be > 0, --spacing 1..1000 m, --z-range MIN <= MAX");
    }
    if let Err(e) = synth::clear_out(&args.out, args.force) {
        return run.usage(&e);
    }
    args.threads.init();
    let spec = SynthSpec {
        seed: args.seed,
        polygons: args.polygons,
        files: args.files,
        spacing: args.spacing,
        footprint_ext: format!(".{}", args.footprint_ext.trim_start_matches('.')),
        z_range: [args.z_range[0], args.z_range[1]],
        ..SynthSpec::default()
    };
    let bar = progress_bar(u64::from(args.files), "files");
    iwp_core::temps::claim(&[&args.out]);
    let outcome = synth::generate(&spec, &args.out, |w| {
        bar.inc(1);
        run.results.put(&w.job_line())
    });
    bar.finish_and_clear();
    match outcome {
        Ok(written) => {
            let n: u64 = written.iter().map(|w| w.polygons).sum();
            let config = args.out.join("config.json");
            tracing::info!("wrote {n} polygons in {} files; config: {}", written.len(), config.display());
        }
        Err(e) if !run.results.is_closed() => {
            eprintln!("{TOOL}: {e:#}");
            return ExitCode::from(1);
        }
        Err(_) => {}
    }
    run.finish("files")
}
