//! iwp-webtile: coloured RGBA PNG web tiles from statistics GeoTIFFs.

use clap::Parser;
use iwp_core::cli::{self, ConfigArgs, JobArgs, LogArgs, ThreadArgs};
use iwp_core::lines::GeoTiff;
use iwp_core::runner::Run;
use iwp_core::shard::Shard;
use iwp_core::tilejobs;
use iwp_core::tms::Tile;
use iwp_web::pmtiles_archive::TileFormat;
use iwp_web::webtile_job::{self, Rendering};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The tool's name, for messages.
const TOOL: &str = "iwp-webtile";

/// Coloured web tiles: one PNG (indexed; RGBA above 256 colours) per GeoTIFF (one job line
/// each, as iwp-raster prints them) per statistic, at dir_web_tiles/STAT/TMS/Z/X/Y.png, values
/// coloured through the statistic's palette over its val_range (null ends: the min/max of that
/// zoom level, from the lines).
/// One result line per PNG.
#[derive(Parser, Debug)]
#[command(
    version = iwp_version::VERSION,
    after_help = "Examples:\n  iwp-raster -c c.json --input staged.ndjson | iwp-webtile -c c.json > web.ndjson\n  iwp-webtile -c c.json --list | iwp-webtile -c c.json --shard auto > web-$SLURM_PROCID.ndjson"
)]
struct Args {
    #[command(flatten)]
    config: ConfigArgs,
    #[command(flatten)]
    jobs: JobArgs,
    /// Print one job line per GeoTIFF under dir_geotiff and exit.
    #[arg(long)]
    list: bool,
    /// Write PNGs that already exist again.
    #[arg(long)]
    force: bool,
    /// Also write WMTS capabilities XML to FILE: one layer per statistic (with its legend,
    /// dir_web_tiles/STAT/legend.svg), extent of the z-max tiles in the input, limits of every
    /// level's tiles.
    #[arg(long, value_name = "FILE")]
    wmts: Option<PathBuf>,
    /// Also write the map page, index.html (OpenLayers: every layer with its legend, a basemap,
    /// a 3D view when dir_3dtiles has a tileset.json), beside the --wmts file, else in
    /// dir_web_tiles; open it through HTTP from a folder holding it and the tiles.
    #[arg(long)]
    viewer: bool,
    /// Render no PNG: only write what --wmts, --viewer, --preview and --format pmtiles ask for,
    /// from the PNGs already made (e.g. the map page again once the 3D tiles exist).
    #[arg(long)]
    no_tiles: bool,
    /// Where the tiles end up: png (a tree of PNG files), pmtiles (after the tiles, each
    /// statistic's PNGs packed into one PMTiles v3 archive, dir_web_tiles/STAT.pmtiles, and
    /// removed) or both.
    #[arg(long, value_name = "FORMAT", default_value = "png")]
    format: TileFormat,
    /// After the tiles, write one mosaic per statistic of zoom level Z:
    /// dir_web_tiles/STAT/preview-zZ.png and a georeferenced preview-zZ.tif.
    #[arg(long, value_name = "Z")]
    preview: Option<u8>,
    /// Where dir_web_tiles is served, for the capabilities' URLs, e.g. https://arcticdata.io/data/
    /// (the config's doi is appended when it has one). Default: the folder's file:// URL.
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
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
        let _ = tilejobs::list(&config, &config.dir_geotiff, ".tif", None, &run.results);
        return run.results.exit_code(TOOL);
    }
    let shard = args.jobs.shard.unwrap_or(Shard::All);
    if args.preview.is_some() && shard != Shard::All {
        return run.usage("--preview needs every tile of the level: run it without --shard");
    }
    let archives = args.format != TileFormat::Png;
    if archives && shard != Shard::All {
        return run.usage(
            "--format pmtiles needs every tile: run it without --shard (e.g. with --no-tiles after the shards)",
        );
    }
    let palettes = match webtile_job::palettes(&config) {
        Ok(p) => p,
        Err(e) => return run.usage(&format!("{e:#}")),
    };
    let page = webtile_job::page_folder(&config, args.wmts.as_deref());
    // The capabilities' and the page's own folder is claimed too, unless it is the working folder.
    let mut roots = vec![config.dir_web_tiles.as_path()];
    roots.extend(Some(page.as_path()).filter(|p| *p != Path::new(".") && *p != config.dir_web_tiles));
    iwp_core::temps::claim(&roots);
    // Every line counts for the level ranges; this process then renders its share of the tiles.
    let jobs = match run.read_all::<GeoTiff>(&args.jobs) {
        Ok(j) => j,
        Err(code) => return code,
    };
    let Ok(inputs) = webtile_job::inputs(&config, &jobs, shard.reports_for_all(), &run.results) else {
        return run.results.exit_code(TOOL);
    };
    // The ranges and extent the capabilities, the map page and the archives describe, once.
    let overview = if args.wmts.is_some() || args.viewer || archives {
        match webtile_job::Overview::of(&config, &inputs) {
            Ok(o) => Some(o),
            Err(e) => return run.usage(&format!("{e:#}")),
        }
    } else {
        None
    };
    if let (Some(o), true) = (&overview, args.wmts.is_some() || args.viewer) {
        if let Err(e) = webtile_job::write_legends(&config, &palettes, &o.ranges) {
            return run.usage(&format!("{e:#}"));
        }
    }
    if let (Some(file), Some(o)) = (&args.wmts, &overview) {
        if let Err(e) = webtile_job::write_capabilities(&config, o, args.base_url.as_deref(), &inputs, file) {
            return run.usage(&format!("{e:#}"));
        }
    }
    let level: Vec<Tile> =
        args.preview.map(|z| inputs.tiles.keys().filter(|t| t.z == z).copied().collect()).unwrap_or_default();
    let mine: Vec<(&Tile, &PathBuf)> = tilejobs::share(&inputs.tiles, shard);
    let rendering = Rendering {
        config: &config,
        palettes: &palettes,
        levels: &inputs.levels,
        force: args.force,
        results: &run.results,
    };
    if !args.no_tiles {
        run.each_unit("GeoTIFFs", &mine, |(tile, path)| drop(rendering.tile(**tile, path)));
    }
    if let Some(z) = args.preview.filter(|_| !run.results.is_closed()) {
        let _ = rendering.previews(z, &level);
    }
    if let (true, Some(o)) = (archives && !run.results.is_closed(), &overview) {
        let remove = args.format == TileFormat::Pmtiles;
        if let Err(e) = webtile_job::write_pmtiles(&config, o, &inputs, remove, &run.results) {
            return run.usage(&format!("{e:#}"));
        }
    }
    if let (true, Some(o)) = (args.viewer, &overview) {
        if let Err(e) = webtile_job::write_viewer(&config, o, &inputs, &page) {
            return run.usage(&format!("{e:#}"));
        }
    }
    run.finish("web tiles")
}
