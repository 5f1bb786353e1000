//! iwp-3dtiles: Cesium 3D Tiles from staged tiles, and the tileset.json hierarchy above them.

use clap::Parser;
use iwp_core::cli::{self, ConfigArgs, JobArgs, LogArgs, ThreadArgs};
use iwp_core::lines::StagedTile;
use iwp_core::runner::Run;
use iwp_core::shard::Shard;
use iwp_core::tilejobs;
use iwp_tiles3d::content::Height;
use iwp_tiles3d::glb::Format;
use iwp_tiles3d::tiles3d_job::{self, Contents};
use std::process::ExitCode;

/// The tool's name, for messages.
const TOOL: &str = "iwp-3dtiles";

/// 3D Tiles 1.1 contents (GLB: glTF with EXT_mesh_features and EXT_structural_metadata) from
/// staged z-max tiles (one job line each, as iwp-stage prints them): each polygon a feature in
/// the tile holding its centroid, flat at a height, coloured through a statistic's palette, every
/// staged column a typed property. One result line per content. With --tileset, reads those
/// result lines instead and writes the tileset.json hierarchy (and its external tilesets).
#[derive(Parser, Debug)]
#[command(
    version = iwp_version::VERSION,
    after_help = "Examples:\n  iwp-3dtiles -c c.json --list | iwp-3dtiles -c c.json > contents.ndjson\n  iwp-3dtiles -c c.json --list | iwp-3dtiles -c c.json --shard auto > contents-$SLURM_PROCID.ndjson\n  cat contents-*.ndjson | iwp-3dtiles -c c.json --tileset > tilesets.ndjson"
)]
struct Args {
    #[command(flatten)]
    config: ConfigArgs,
    #[command(flatten)]
    jobs: JobArgs,
    /// Print one job line per staged z-max tile under dir_staged and exit.
    #[arg(long)]
    list: bool,
    /// Read 3D content result lines and write dir_3dtiles/tileset.json and its external tilesets.
    #[arg(long, conflicts_with = "list")]
    tileset: bool,
    /// With --tileset: a subtree starts an external tileset every N levels.
    #[arg(long, value_name = "N", default_value_t = 5)]
    split_levels: u8,
    /// Height of every polygon, metres over the WGS 84 ellipsoid.
    #[arg(long, value_name = "METRES", default_value_t = 0.0, allow_negative_numbers = true)]
    height: f64,
    /// Take each polygon's height from this numeric column instead.
    #[arg(long, value_name = "COLUMN", conflicts_with = "height")]
    height_from: Option<String>,
    /// Colour polygons by this column's value.
    #[arg(long, value_name = "COLUMN", default_value = "Area")]
    colour_by: String,
    /// The config statistic whose palette (and val_range) gives the colours (default: the first).
    #[arg(long, value_name = "STAT")]
    style: Option<String>,
    /// Values at the palette's two ends (default: the statistic's val_range).
    #[arg(long, num_args = 2, value_names = ["LO", "HI"], allow_negative_numbers = true)]
    colour_range: Option<Vec<f64>>,
    /// Content format: glb (3D Tiles 1.1, glTF with EXT_mesh_features and EXT_structural_metadata)
    /// or b3dm (3D Tiles 1.0 with a batch table, for older CesiumJS).
    #[arg(long, default_value = "glb", value_parser = ["glb", "b3dm"])]
    format: String,
    /// Write contents that already exist (with the same bytes) again.
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
    if args.list {
        let _ = tilejobs::list(&config, &config.dir_staged, &config.ext_staged, Some(config.z_max), &run.results);
        return run.results.exit_code(TOOL);
    }
    iwp_core::temps::claim(&[&config.dir_3dtiles]);
    if args.tileset {
        return tiles3d_job::hierarchy(&config, &run, &args.jobs, args.split_levels);
    }
    let height = args.height_from.clone().map_or(Height::Fixed(args.height), Height::Column);
    let range = args.colour_range.as_ref().map(|r| (r[0], r[1]));
    let format = if args.format == "b3dm" { Format::B3dm } else { Format::Glb };
    let style = match tiles3d_job::style(&config, args.style.as_deref(), &args.colour_by, range, height, format) {
        Ok(s) => s,
        Err(e) => return run.usage(&format!("{e:#}")),
    };
    let shard = args.jobs.shard.unwrap_or(Shard::All);
    let jobs = match run.read_all::<StagedTile>(&args.jobs) {
        Ok(j) => j,
        Err(code) => return code,
    };
    let contents = Contents { config: &config, style: &style, force: args.force, results: &run.results };
    let Ok(tiles) = contents.tiles(&jobs, shard.reports_for_all()) else {
        return run.results.exit_code(TOOL);
    };
    let mine = tilejobs::share(tiles, shard);
    run.each_unit("tiles", &mine, |(tile, staged)| drop(contents.tile(*tile, staged)));
    run.finish("contents")
}
