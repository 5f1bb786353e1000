//! iwp-raster: statistics GeoTIFFs at z-max from staged tiles, then every lower level.

use clap::Parser;
use iwp_core::cli::{self, ConfigArgs, JobArgs, LogArgs, ThreadArgs};
use iwp_core::lines::{GeoTiff, StagedTile};
use iwp_core::runner::Run;
use iwp_core::shard::Shard;
use iwp_core::tilejobs;
use iwp_rasters::geotiff::Compression;
use iwp_rasters::raster_job::{self, Rasters};
use std::process::ExitCode;

/// The tool's name, for messages.
const TOOL: &str = "iwp-raster";

/// Statistics GeoTIFFs (one band per configured statistic) for staged z-max tiles (one job line
/// each, as iwp-stage prints them), then every lower level down to z_range's minimum, each
/// parent from its 4 children. One result line per GeoTIFF with each band's min, max and sum.
#[derive(Parser, Debug)]
#[command(
    version = iwp_version::VERSION,
    after_help = "Examples:\n  iwp-stage -c c.json --input files.ndjson | iwp-raster -c c.json > rasters.ndjson\n  iwp-raster -c c.json --list | iwp-raster -c c.json --z 13 --shard auto > z13.ndjson\n  iwp-raster -c c.json --z 12 --input z13.ndjson > z12.ndjson      (one level, from the level above)\n  iwp-raster -c c.json --input staged.ndjson --shard auto --claims run/claims-$SLURM_JOB_ID   (every level, no barrier)"
)]
struct Args {
    #[command(flatten)]
    config: ConfigArgs,
    #[command(flatten)]
    jobs: JobArgs,
    /// Print job lines for the tiles the level needs (staged tiles for z-max, else the GeoTIFFs
    /// one level deeper) and exit.
    #[arg(long)]
    list: bool,
    /// Build only level Z: z-max from staged-tile lines, a lower level from lines of level Z+1.
    /// Without it, z-max and every lower level (with --shard, see --claims).
    #[arg(long, value_name = "Z")]
    z: Option<u8>,
    /// With --shard on a whole run (no --z): the folder the shares meet in (on a filesystem
    /// every task reaches; new for each run). Each share builds whole subtrees, and a tile
    /// above them is built by the share that finishes its last child: no share waits for a
    /// level to end.
    #[arg(long, value_name = "DIR")]
    claims: Option<std::path::PathBuf>,
    /// Write GeoTIFFs that already exist again.
    #[arg(long)]
    force: bool,
    /// GeoTIFF compression (lossless).
    #[arg(long, value_enum, default_value_t = Compression::Zstd)]
    compression: Compression,
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
    let shard = args.jobs.shard.unwrap_or(Shard::All);
    let levels =
        match raster_job::plan(&config, args.z, if args.list { Shard::All } else { shard }, args.claims.is_some()) {
            Ok(l) => l,
            Err(e) => return run.usage(&e),
        };
    if args.list {
        let _ = raster_job::list(&config, levels.first, &run.results);
        return run.results.exit_code(TOOL);
    }
    iwp_core::temps::claim(&[&config.dir_geotiff]);
    let reports = shard.reports_for_all();
    // Lines are read whole (a level's parents come from several lines), then tiles shared out.
    let tiles = if levels.first == config.z_max {
        run.read_all::<StagedTile>(&args.jobs)
            .map(|jobs| raster_job::first_level(&config, levels.first, &jobs, reports, &run.results))
    } else {
        run.read_all::<GeoTiff>(&args.jobs)
            .map(|jobs| raster_job::first_level(&config, levels.first, &jobs, reports, &run.results))
    };
    let tiles = match tiles {
        Ok(Ok(t)) => t,
        Ok(Err(_)) => return run.results.exit_code(TOOL),
        Err(code) => return code,
    };
    let rasters = Rasters { config: &config, compression: args.compression, force: args.force, results: &run.results };
    match (levels.whole, shard, &args.claims) {
        (true, Shard::Part { index, count }, Some(claims)) => {
            if let Err(e) = rasters.subtrees(tiles, index, count, claims) {
                let _ = run.results.error(Default::default(), &format!("{e:#}"));
            }
        }
        (true, _, _) => rasters.whole_pyramid(tilejobs::share(tiles, shard)),
        (false, _, _) => rasters.by_level(tilejobs::share(tiles, shard), levels.first, levels.lowest),
    }
    run.finish("GeoTIFFs")
}
