//! Times the z-max rasterization alone, in memory, one thread, for bench/peers.sh: per tile, the
//! staged tile is opened (untimed, as bench/peers.py opens the layer before timing its peers),
//! then its rows are read and the bands computed (count + exact coverage); nothing is written.
//! Prints one JSON object: tiles; ms per tile reading rows, computing bands, both, and all three
//! with opening.
//! Usage: coverage_timing CONFIG GEOTIFF_LINES (the result lines of an iwp-raster run of z-max)

use iwp_core::tms::Tile;
use iwp_rasters::rasterize::{read_staged_table, tile_bands, tile_grid};
use iwp_vector::gpkg::FeatureTable;
use std::time::{Duration, Instant};

fn main() -> anyhow::Result<()> {
    // As every tool does at start (iwp-raster's tile bands then reuse freed blocks).
    iwp_core::cli::steady_heap();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [config, lines] = args.as_slice() else { anyhow::bail!("usage: coverage_timing CONFIG GEOTIFF_LINES") };
    let config = iwp_core::config::Config::load(Some(config.as_ref()), &[])?;
    let (mut reading, mut computing, mut opening) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    let (mut tiles, mut checksum) = (0, 0.0);
    // The last tile's bands, kept while the next is computed as iwp-raster keeps them (until
    // they are written, and for their parent): freed at once, glibc would hand their pages
    // back to the system and each tile would fault fresh ones in.
    let mut last: Vec<Vec<f64>> = Vec::new();
    for line in std::fs::read_to_string(lines)?.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line)?;
        let at = |k: &str| v[k].as_u64().map(|n| n as u32).ok_or_else(|| anyhow::anyhow!("no {k} in {line}"));
        let tile = Tile::new(at("x")?, at("y")?, at("z")? as u8);
        let path = config.tile_paths.path(&config.dir_staged, None, tile, &config.ext_staged);
        let t0 = Instant::now();
        let table = FeatureTable::open(&path)?;
        let t1 = Instant::now();
        let polygons = read_staged_table(&config, &table, &path)?;
        let t2 = Instant::now();
        let bands = tile_bands(&config, &tile_grid(&config, tile), &polygons)?;
        computing += t2.elapsed();
        reading += t2 - t1;
        opening += t1 - t0;
        checksum += bands.iter().flatten().sum::<f64>();
        last = bands;
        tiles += 1;
    }
    drop(last);
    let ms = |d: Duration| 1000.0 * d.as_secs_f64() / tiles.max(1) as f64;
    let out = serde_json::json!({
        "tiles": tiles,
        "read_ms": ms(reading),
        "computed_ms": ms(computing),
        "read_and_computed_ms": ms(reading + computing),
        "with_opening_ms": ms(opening + reading + computing),
        "band_sum": checksum,
    });
    println!("{out}");
    Ok(())
}
