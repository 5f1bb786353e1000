//! iwp-synth: generate IWP-like sample data (shapefiles in EPSG:3413 with footprints).

use clap::Parser;
use iwp_core::cli::{self, LogArgs, ThreadArgs};
use iwp_core::jobs::{Fields, Results};
use iwp_core::logging::progress_bar;
use iwp_vector::synth::{self, SynthSpec};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

/// The tool's name, for messages.
const TOOL: &str = "iwp-synth";

/// Generate deterministic IWP-like sample data: polygon networks (cells ~5-30 m) as shapefiles
/// in EPSG:3413 with the real attribute columns, one footprint per file, and a config.json.
/// Prints one job line per input file written (path, footprint, polygons, bytes).
#[derive(Parser, Debug)]
#[command(
    version,
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
    let args = Args::parse();
    args.log.init();
    if args.files == 0
        || args.polygons == 0
        || !(1.0..=1000.0).contains(&args.spacing)
        || args.z_range[0] > args.z_range[1]
    {
        return cli::usage_error(TOOL, "--files and --polygons must be > 0, --spacing 1..1000 m, --z-range MIN <= MAX");
    }
    for sub in ["input", "footprints"] {
        let dir = args.out.join(sub);
        if dir.exists() {
            if !args.force {
                return cli::usage_error(TOOL, &format!("{} exists; pass --force to replace it", dir.display()));
            }
            if let Err(e) = std::fs::remove_dir_all(&dir) {
                return cli::usage_error(TOOL, &format!("cannot remove {}: {e}", dir.display()));
            }
        }
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
    let start = Instant::now();
    let bar = progress_bar(u64::from(args.files), "files");
    iwp_core::temps::claim(&[&args.out]);
    let results = Results::stdout();
    let outcome = synth::generate(&spec, &args.out, |w| {
        let mut f = Fields::new();
        f.insert("path".into(), w.input.display().to_string().into());
        f.insert("footprint".into(), w.footprint.display().to_string().into());
        f.insert("polygons".into(), w.polygons.into());
        f.insert("bytes".into(), w.bytes.into());
        let _ = results.ok(f);
        bar.inc(1);
    });
    bar.finish_and_clear();
    match outcome {
        Ok(written) => {
            let secs = start.elapsed().as_secs_f64();
            let n: u64 = written.iter().map(|w| w.polygons).sum();
            tracing::info!(
                "wrote {n} polygons in {} files to {} in {secs:.2} s ({:.0} polygons/s); config: {}",
                written.len(),
                args.out.display(),
                n as f64 / secs,
                args.out.join("config.json").display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("iwp-synth: {e:#}");
            ExitCode::from(1)
        }
    }
}
