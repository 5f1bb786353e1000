//! iwp-mosaic: per-level mosaics of the GeoTIFF tiles, a VRT per level and statistic and COGs of
//! the smaller levels.

use clap::Parser;
use iwp_core::cli::{self, ConfigArgs, JobArgs, LogArgs, ThreadArgs};
use iwp_core::lines::GeoTiff;
use iwp_core::runner::Run;
use iwp_core::tilejobs;
use iwp_delivery::mosaic::{Level, Mosaics};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

/// The tool's name, for messages.
const TOOL: &str = "iwp-mosaic";

/// Mosaics of each level of GeoTIFF lines (iwp-raster's results): one GDAL VRT per level and
/// statistic over that level's GeoTIFFs (their paths relative to the VRT), and with --cog-below
/// a Cloud-Optimized GeoTIFF of every band for each level of at most that many pixels. Files go
/// to dir_mosaics as PRODUCT_zZ_STAT.vrt and PRODUCT_zZ.tif. One result line per file, with each
/// band's minimum, maximum and sum over the level's lines.
#[derive(Parser, Debug)]
#[command(
    version = iwp_version::VERSION,
    after_help = "Examples:\n  iwp-mosaic -c c.json --input rasters.ndjson > mosaics.ndjson\n  iwp-mosaic -c c.json --input rasters.ndjson --cog-below 100000000"
)]
struct Args {
    #[command(flatten)]
    config: ConfigArgs,
    #[command(flatten)]
    jobs: JobArgs,
    /// Also write a COG of every band for each level of at most this many pixels (columns x rows
    /// of the level's tiles' box).
    #[arg(long, value_name = "PIXELS")]
    cog_below: Option<u64>,
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
    let mut levels: BTreeMap<u8, Level> = BTreeMap::new();
    let read = run.read_each::<GeoTiff>(&args.jobs, |job| {
        if job.body.status == Some(iwp_core::lines::Status::Error) {
            return;
        }
        match tilejobs::tile_of_line(&config, &job, None) {
            Ok(tile) => {
                let level = levels.entry(tile.z).or_insert_with(|| Level { z: tile.z, ..Default::default() });
                level.add(&config, tile, PathBuf::from(&job.body.path), &job.body);
            }
            Err(why) => drop(run.results.error_for(&job.body, &why)),
        }
    });
    if let Err(code) = read {
        return code;
    }
    iwp_core::temps::claim(&[&config.dir_mosaics]);
    let mosaics = Mosaics { config: &config, cog_below: args.cog_below };
    let levels: Vec<Level> = levels.into_values().collect();
    run.each_unit("levels", &levels, |level| {
        let done = mosaics.write(level).and_then(|lines| lines.iter().try_for_each(|l| Ok(run.results.put(l)?)));
        if let Err(e) = done {
            let _ = run.results.error(Default::default(), &format!("level {}: {e:#}", level.z));
        }
    });
    run.finish("mosaic files")
}
