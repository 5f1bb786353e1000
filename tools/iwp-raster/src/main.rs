//! iwp-raster: statistics GeoTIFFs at z-max from staged tiles, then every lower level.

use clap::Parser;
use iwp_core::cli::{self, ConfigArgs, JobArgs, LogArgs, ThreadArgs};
use iwp_core::config::{Config, Resampling};
use iwp_core::jobs::{Job, Results};
use iwp_core::logging::progress_bar;
use iwp_core::shard::Shard;
use iwp_core::tilejobs;
use iwp_core::tms::Tile;
use iwp_rasters::geotiff::{self, Compression, Written};
use iwp_rasters::pyramid::{build_down, parent_raster};
use iwp_rasters::rasterize::rasterize_tile;
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

/// The tool's name, for messages.
const TOOL: &str = "iwp-raster";

/// Statistics GeoTIFFs (one band per configured statistic) for staged z-max tiles (one job line
/// each, as iwp-stage prints them), then every lower level down to z_range's minimum, each
/// parent from its 4 children. One result line per GeoTIFF with each band's min, max and sum.
#[derive(Parser, Debug)]
#[command(
    version,
    after_help = "Examples:\n  iwp-stage -c c.json --input files.ndjson | iwp-raster -c c.json > rasters.ndjson\n  iwp-raster -c c.json --list | iwp-raster -c c.json --z 13 --shard auto > z13.ndjson\n  iwp-raster -c c.json --z 12 --input z13.ndjson > z12.ndjson      (one level, from the level above)"
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
    /// Without it, z-max and every lower level (not with --shard).
    #[arg(long, value_name = "Z")]
    z: Option<u8>,
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
    let mut args = Args::parse();
    iwp_vector::vector::tune_gdal();
    let config = match cli::start(TOOL, &args.log, &args.threads, &args.config) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let (z_min, z_max) = (config.z_min, config.z_max);
    let first = args.z.unwrap_or(z_max);
    if !(z_min..=z_max).contains(&first) {
        return usage(&format!("--z {first} is outside z_range [{z_min}, {z_max}]"));
    }
    if args.list {
        return list(&config, first);
    }
    let lowest = if args.z.is_some() { first } else { z_min };
    if let Some(s) =
        config.statistics.iter().find(|s| s.resampling_method == Resampling::Gauss).filter(|_| lowest < z_max)
    {
        return usage(&format!(
            "statistic {}: resampling `gauss` cannot make parent tiles (GDAL warps without it)",
            s.name
        ));
    }
    iwp_core::temps::claim(&[&config.dir_geotiff]);
    let shard = args.jobs.shard.take().unwrap_or(Shard::All);
    if args.z.is_none() && shard != Shard::All {
        return usage("with --shard, build one level at a time (--z): parents need every child first");
    }
    let (jobs, bad) = match args.jobs.read("") {
        Ok(j) => j,
        Err(e) => return usage(&e.to_string()),
    };
    let results = Results::stdout();
    for b in &bad {
        let _ = results.bad_line(b);
    }
    // The level's tiles: z-max tiles from staged-tile lines, else the parents of the lines' tiles.
    let from = if first == z_max { z_max } else { first + 1 };
    let mut tiles: BTreeMap<Tile, Option<PathBuf>> = BTreeMap::new();
    for job in &jobs {
        if job.str("status") == Some("error") {
            continue;
        }
        match tile_of(&config, job, from) {
            Ok(t) if first == z_max => {
                tiles.insert(t, job.str("path").map(PathBuf::from));
            }
            Ok(t) => {
                tiles.extend(t.parent().map(|p| (p, None)));
            }
            Err(e) => {
                let _ = results.error(job.fields.clone(), &e);
            }
        }
    }
    // The parsed lines are not needed any more: their memory goes to the tiles' work.
    drop(jobs);
    let mine = tilejobs::share(tiles, shard);
    if args.z.is_none() {
        whole_pyramid(&config, &args, &results, mine);
        return results.exit_code(TOOL);
    }
    let mut level: Vec<(Tile, Option<PathBuf>)> = mine;
    for z in (lowest..=first).rev() {
        let start = Instant::now();
        let bar = progress_bar(level.len() as u64, &format!("z{z} tiles"));
        // Only the tiles are kept (their lines are out): thousands of small records made by the
        // workers and kept to the level's end would pin memory between the tiles' large buffers.
        let written: Vec<Tile> = level
            .par_iter()
            .filter_map(|(tile, staged)| {
                let t0 = Instant::now();
                let done = if z == z_max {
                    let staged = staged
                        .clone()
                        .unwrap_or_else(|| iwp_vector::tilestore::tile_path(&config, &config.dir_staged, *tile));
                    build(&config, *tile, &args, || rasterize_tile(&config, *tile, &staged).map(|r| r.0))
                } else {
                    build(&config, *tile, &args, || parent_raster(&config, *tile))
                }
                .map(|(written, _)| written);
                bar.inc(1);
                report(&results, *tile, &config, done, t0).map(|w| w.tile)
            })
            .collect();
        bar.finish_and_clear();
        tracing::info!("z{z}: {} GeoTIFFs in {:.1} s", written.len(), start.elapsed().as_secs_f64());
        let parents: BTreeMap<Tile, Option<PathBuf>> =
            written.iter().filter_map(|t| t.parent()).map(|p| (p, None)).collect();
        level = parents.into_iter().collect();
    }
    results.exit_code(TOOL)
}

/// Writes one GeoTIFF (or finds it complete).
fn build(
    config: &Config,
    tile: Tile,
    args: &Args,
    make: impl FnOnce() -> anyhow::Result<geotiff::TileRaster>,
) -> anyhow::Result<(Written, geotiff::TileRaster)> {
    geotiff::write_tile(config, tile, args.compression, args.force, make)
}

/// z-max and every lower level in one pass, depth first: each parent right after its four
/// children, from their rasters in memory (no GeoTIFF is read back), so result lines come
/// children first, then their parent.
fn whole_pyramid(config: &Config, args: &Args, results: &Results, tiles: Vec<(Tile, Option<PathBuf>)>) {
    let start = Instant::now();
    let staged: HashMap<Tile, Option<PathBuf>> = tiles.into_iter().collect();
    let mut needed: HashSet<Tile> = HashSet::new();
    for t in staged.keys() {
        let mut cur = Some(*t);
        while let Some(c) = cur.filter(|c| c.z >= config.z_min) {
            if !needed.insert(c) {
                break;
            }
            cur = c.parent();
        }
    }
    let mut roots: Vec<Tile> = needed.iter().filter(|t| t.z == config.z_min).copied().collect();
    roots.sort();
    let bar = progress_bar(needed.len() as u64, "GeoTIFFs");
    let visit = |tile: Tile, kids: [Option<&geotiff::TileRaster>; 4]| -> Option<geotiff::TileRaster> {
        let t0 = Instant::now();
        let done = if tile.z == config.z_max {
            let path = staged.get(&tile).cloned().flatten();
            let path = path.unwrap_or_else(|| iwp_vector::tilestore::tile_path(config, &config.dir_staged, tile));
            build(config, tile, args, || rasterize_tile(config, tile, &path).map(|r| r.0))
        } else if kids.iter().all(Option::is_none) {
            Err(anyhow::anyhow!("no child of {tile} was built (see their error lines)"))
        } else {
            build(config, tile, args, || iwp_rasters::pyramid::parent_from(config, kids))
        };
        bar.inc(1);
        let (written, raster) = match done {
            Ok((w, r)) => (Ok(w), Some(r)),
            Err(e) => (Err(e), None),
        };
        report(results, tile, config, written, t0)?;
        raster
    };
    roots.par_iter().for_each(|root| {
        build_down(*root, config.z_max, &needed, &visit);
    });
    bar.finish_and_clear();
    tracing::info!(
        "{} GeoTIFFs at z{}..{} in {:.1} s",
        needed.len(),
        config.z_min,
        config.z_max,
        start.elapsed().as_secs_f64()
    );
}

/// Prints a GeoTIFF's result line (or its error line); the written tile for the next level.
fn report(
    results: &Results,
    tile: Tile,
    config: &Config,
    done: anyhow::Result<Written>,
    t0: Instant,
) -> Option<Written> {
    let mut f = tilejobs::tile_fields(config, tile);
    match done {
        Ok(w) => {
            f.insert("path".into(), w.path.display().to_string().into());
            for (name, s) in w.names.iter().zip(&w.summaries) {
                f.insert(format!("{name}_min"), s.min.into());
                f.insert(format!("{name}_max"), s.max.into());
                f.insert(format!("{name}_sum"), s.sum.into());
            }
            if w.skipped {
                f.insert("skipped".into(), true.into());
            }
            f.insert("secs".into(), ((t0.elapsed().as_secs_f64() * 1000.0).round() / 1000.0).into());
            let _ = results.ok(f);
            Some(w)
        }
        Err(e) => {
            let _ = results.error(f, &format!("{e:#}"));
            None
        }
    }
}

/// The tile a job line names, which must be at zoom `z`.
fn tile_of(config: &Config, job: &Job, z: u8) -> Result<Tile, String> {
    let tile = tilejobs::tile_of(config, job)?;
    if tile.z != z {
        return Err(format!("line {}: a z{} tile where z{z} tiles are needed", job.line, tile.z));
    }
    Ok(tile)
}

/// Prints job lines for level `z`: staged tiles at z-max, else the GeoTIFFs of level z + 1.
fn list(config: &Config, z: u8) -> ExitCode {
    if z == config.z_max {
        tilejobs::list(config, &config.dir_staged, &config.ext_staged, Some(z))
    } else {
        tilejobs::list(config, &config.dir_geotiff, ".tif", Some(z + 1))
    }
}

fn usage(message: &str) -> ExitCode {
    cli::usage_error(TOOL, message)
}
