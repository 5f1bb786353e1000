//! iwp-webtile: coloured RGBA PNG web tiles from statistics GeoTIFFs.

use anyhow::Context;
use clap::Parser;
use iwp_core::cli::{self, ConfigArgs, JobArgs, LogArgs, ThreadArgs};
use iwp_core::config::Config;
use iwp_core::jobs::{Fields, Job, Results};
use iwp_core::logging::progress_bar;
use iwp_core::shard::Shard;
use iwp_core::tilejobs;
use iwp_core::tms::{Bounds, Tile};
use iwp_web::palette::Palette;
use iwp_web::webtile::{write_tiles, LevelRanges};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// The tool's name, for messages.
const TOOL: &str = "iwp-webtile";

/// Coloured web tiles: one RGBA PNG per GeoTIFF (one job line each, as iwp-raster prints them)
/// per statistic, at dir_web_tiles/STAT/TMS/Z/X/Y.png, values coloured through the statistic's
/// palette over its val_range (null ends: the min/max of that zoom level, from the lines).
/// One result line per PNG.
#[derive(Parser, Debug)]
#[command(
    version,
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
    /// Also write WMTS capabilities XML to FILE: one layer per statistic, extent of the z-max
    /// tiles in the input.
    #[arg(long, value_name = "FILE")]
    wmts: Option<PathBuf>,
    /// After the tiles, write one mosaic PNG per statistic of zoom level Z (dir_web_tiles/STAT/preview-zZ.png).
    #[arg(long, value_name = "Z")]
    preview: Option<u8>,
    /// Where dir_web_tiles is served, for the capabilities' URLs (the config's doi is appended).
    #[arg(long, value_name = "URL", default_value = "https://arcticdata.io/data/")]
    base_url: String,
    #[command(flatten)]
    threads: ThreadArgs,
    #[command(flatten)]
    log: LogArgs,
}

fn main() -> ExitCode {
    let mut args = Args::parse();
    iwp_vector::vector::tune_gdal();
    let config = match cli::start(TOOL, &args.log, &args.threads, &args.config) {
        Ok(c) => c,
        Err(code) => return code,
    };
    if args.list {
        return tilejobs::list(&config, &config.dir_geotiff, ".tif", None);
    }
    let palettes = match config
        .statistics
        .iter()
        .map(|s| Palette::of(&s.palette, &s.nodata_color))
        .collect::<anyhow::Result<Vec<_>>>()
    {
        Ok(p) => p,
        Err(e) => return usage(&format!("{e:#}")),
    };
    let mut roots = vec![config.dir_web_tiles.as_path()];
    roots.extend(args.wmts.as_deref().and_then(Path::parent).filter(|p| !p.as_os_str().is_empty()));
    iwp_core::temps::claim(&roots);
    let shard = args.jobs.shard.take().unwrap_or(Shard::All);
    let (jobs, bad) = match args.jobs.read("") {
        Ok(j) => j,
        Err(e) => return usage(&e.to_string()),
    };
    let results = Results::stdout();
    for b in &bad {
        let _ = results.bad_line(b);
    }
    // Every line counts for the level ranges; this process then renders its share of the tiles.
    let mut tiles: BTreeMap<Tile, PathBuf> = BTreeMap::new();
    let mut levels = LevelRanges::default();
    for job in jobs.iter().filter(|j| j.str("status") != Some("error")) {
        match tile_of(&config, job) {
            Ok((tile, path)) => {
                if let Err(e) = add_ranges(&config, &mut levels, job, tile, &path) {
                    let _ = results.error(job.fields.clone(), &format!("{e:#}"));
                    continue;
                }
                tiles.insert(tile, path);
            }
            Err(e) => {
                let _ = results.error(job.fields.clone(), &e);
            }
        }
    }
    if let Some(file) = &args.wmts {
        if let Err(e) = write_capabilities(&config, &args.base_url, tiles.keys(), file) {
            return usage(&format!("{e:#}"));
        }
    }
    let level: Vec<Tile> =
        args.preview.map(|z| tiles.keys().filter(|t| t.z == z).copied().collect()).unwrap_or_default();
    if args.preview.is_some() && shard != Shard::All {
        return usage("--preview needs every tile of the level: run it without --shard");
    }
    let mine: Vec<(Tile, PathBuf)> = tilejobs::share(tiles, shard);
    let start = Instant::now();
    let bar = progress_bar(mine.len() as u64, "GeoTIFFs");
    mine.par_iter().for_each(|(tile, path)| {
        let t0 = Instant::now();
        let mut f = tilejobs::tile_fields(&config, *tile);
        match write_tiles(&config, &palettes, &levels, *tile, path, args.force) {
            Ok(written) => {
                let parts = written.len();
                for w in written {
                    let mut line = f.clone();
                    line.insert("stat".into(), w.stat.into());
                    // How many lines this GeoTIFF gives (one per statistic), for iwp-progress.
                    line.insert("parts".into(), parts.into());
                    line.insert("path".into(), w.path.display().to_string().into());
                    if w.skipped {
                        line.insert("skipped".into(), true.into());
                    }
                    line.insert("secs".into(), ((t0.elapsed().as_secs_f64() * 1000.0).round() / 1000.0).into());
                    let _ = results.ok(line);
                }
            }
            Err(e) => {
                f.insert("path".into(), path.display().to_string().into());
                let _ = results.error(f, &format!("{e:#}"));
            }
        }
        bar.inc(1);
    });
    bar.finish_and_clear();
    if let Some(z) = args.preview {
        for stat in &config.statistics {
            match iwp_web::webtile::write_preview(&config, &stat.name, &level) {
                Ok(path) => tracing::info!("preview of z{z}: {}", path.display()),
                Err(e) => {
                    let mut f = Fields::new();
                    f.insert("preview".into(), z.into());
                    f.insert("stat".into(), stat.name.clone().into());
                    let _ = results.error(f, &format!("{e:#}"));
                }
            }
        }
    }
    tracing::info!(
        "{} web tiles, {} failed, in {:.1} s",
        results.ok_count(),
        results.failed_count(),
        start.elapsed().as_secs_f64()
    );
    results.exit_code(TOOL)
}

/// A GeoTIFF line's tile and path (the config's path for the tile when the line has none).
fn tile_of(config: &Config, job: &Job) -> Result<(Tile, PathBuf), String> {
    let tile = tilejobs::tile_of(config, job)?;
    let path = job.str("path").map(PathBuf::from).unwrap_or_else(|| iwp_rasters::geotiff::tile_path(config, tile));
    Ok((tile, path))
}

/// Writes the WMTS capabilities: layers over the union of the z-max tiles (the TMS extent if none).
fn write_capabilities<'a>(
    config: &Config,
    base_url: &str,
    tiles: impl Iterator<Item = &'a Tile>,
    file: &Path,
) -> anyhow::Result<()> {
    let deepest: Vec<Bounds> = tiles.filter(|t| t.z == config.z_max).map(|t| config.tms.bounds(*t)).collect();
    let extent = deepest.into_iter().reduce(|a, b| Bounds {
        left: a.left.min(b.left),
        bottom: a.bottom.min(b.bottom),
        right: a.right.max(b.right),
        top: a.top.max(b.top),
    });
    let bbox = iwp_web::wmts::lonlat_bbox(config.tms, extent.unwrap_or_else(|| config.tms.extent()))?;
    let xml = iwp_web::wmts::capabilities(config, base_url, bbox);
    iwp_core::files::write_atomic(file, xml.as_bytes()).with_context(|| format!("cannot write {}", file.display()))?;
    tracing::info!("WMTS capabilities written to {}", file.display());
    Ok(())
}

/// Adds a GeoTIFF's band figures to the level ranges: from the line's `<stat>_min/_max`, or,
/// when the line has none (e.g. from --list), from the file.
fn add_ranges(config: &Config, levels: &mut LevelRanges, job: &Job, tile: Tile, path: &Path) -> anyhow::Result<()> {
    let from_line: Option<Vec<(f64, f64)>> = config
        .statistics
        .iter()
        .map(|s| Some((job.num(&format!("{}_min", s.name))?, job.num(&format!("{}_max", s.name))?)))
        .collect();
    let figures = match from_line {
        Some(f) => f,
        None => {
            let raster = iwp_rasters::geotiff::read(path)?;
            raster
                .bands
                .iter()
                .map(|b| b.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |a, v| (a.0.min(*v), a.1.max(*v))))
                .collect()
        }
    };
    for (s, (lo, hi)) in config.statistics.iter().zip(figures) {
        levels.add(&s.name, tile.z, lo, hi);
    }
    Ok(())
}

fn usage(message: &str) -> ExitCode {
    cli::usage_error(TOOL, message)
}
