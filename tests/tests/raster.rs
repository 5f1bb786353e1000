//! iwp-raster on generated data: coverage agrees with geo's boolean operations pixel by pixel (and
//! the grid-wide sum of fractions and areas with the per-polygon cells of other statistics),
//! every polygon is counted once, levels run one by one equal one whole run, shards split the
//! tiles, shares of a whole run meeting in a claims folder equal one whole run, reruns skip, bad input gives error lines or a usage error, and a tile whose rows are
//! stored in another order gives the same bits.

use geo::{Area, BooleanOps, BoundingRect, Intersects};
use iwp_core::config::Config;
use iwp_core::tms::Tile;
use iwp_rasters::geotiff;
use iwp_rasters::rasterize::{read_staged_tile, tile_bands, tile_grid};
use iwp_tests::{files_under, lines, relative_contents, run, synth};
use std::path::Path;

/// Synthesizes and stages data at z-max 15 (levels 13..15); returns (config path, staged lines).
fn staged(dir: &Path, polygons: &str) -> (String, String) {
    synth(dir, polygons, "2", &["--z-range", "13", "15"]);
    let cfg = dir.join("config.json").to_string_lossy().into_owned();
    let listed = run("iwp-stage", &["-c", &cfg, "--list"], None);
    let out = run("iwp-stage", &["-c", &cfg], Some(&String::from_utf8_lossy(&listed.stdout)));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    (cfg, String::from_utf8_lossy(&out.stdout).into_owned())
}

fn raster(cfg: &str, args: &[&str], input: &str) -> (std::process::Output, Vec<serde_json::Value>) {
    let mut all = vec!["-c", cfg];
    all.extend_from_slice(args);
    let out = run("iwp-raster", &all, Some(input));
    let parsed = lines(&out.stdout);
    (out, parsed)
}

#[test]
fn coverage_matches_geo_on_sampled_pixels_and_every_polygon_counts_once() {
    let dir = tempfile::tempdir().unwrap();
    let (cfg, staged_lines) = staged(dir.path(), "3000");
    let (out, results) = raster(&cfg, &["--z", "15"], &staged_lines);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let config = Config::load(Some(Path::new(&cfg)), &[]).unwrap();
    let (mut counted, mut kept, mut checked, mut worst) = (0.0, 0, 0, 0.0f64);
    for r in &results {
        let tile = Tile::new(r["x"].as_u64().unwrap() as u32, r["y"].as_u64().unwrap() as u32, 15);
        let tif = geotiff::read(Path::new(r["path"].as_str().unwrap())).unwrap();
        counted += tif.bands[0].iter().sum::<f64>();
        let staged = iwp_vector::tilestore::tile_path(&config, &config.dir_staged, tile);
        let polygons = read_staged_tile(&config, &staged).unwrap();
        kept += polygons.polygons.len();
        let grid = tile_grid(&config, tile);
        let (pw, ph) = grid.pixel_size();
        let b = grid.bounds;
        // Every 7th pixel, in coordinates relative to the tile corner.
        let local: Vec<geo::Polygon<f64>> = (0..polygons.polygons.len())
            .map(|i| {
                let rings = polygons.polygons.rings(i);
                let rings = rings.map(|r| r.iter().map(|q| (q.0 - b.left, q.1 - b.bottom)).collect()).collect();
                iwp_vector::geom::Polygon { rings }.to_geo()
            })
            .collect();
        for pixel in (0..grid.width * grid.height).step_by(7) {
            let (row, col) = (pixel / grid.width, pixel % grid.width);
            let (x0, y1) = (col as f64 * pw, (b.top - b.bottom) - row as f64 * ph);
            let rect = geo::Rect::new((x0, y1 - ph), (x0 + pw, y1)).to_polygon();
            let expected: f64 = local
                .iter()
                .filter(|p| p.bounding_rect().is_some_and(|r| r.intersects(&rect)))
                .map(|p| p.intersection(&rect).unsigned_area())
                .sum::<f64>()
                / (pw * ph);
            let diff = (tif.bands[1][pixel] - expected).abs();
            worst = worst.max(diff);
            assert!(diff < 1e-7, "{tile} pixel {pixel}: {} vs {expected}", tif.bands[1][pixel]);
            checked += usize::from(expected > 0.0);
        }
    }
    println!("{checked} covered pixels checked, largest difference {worst:e}");
    assert!(checked > 1000);
    // Each kept polygon's centroid lies in exactly one tile, so counts add up to the distinct polygons.
    let distinct = distinct_kept(&config, dir.path());
    assert!(kept >= distinct);
    assert_eq!(counted as usize, distinct, "count band over all tiles");
}

/// Polygons staged and not flagged duplicated, each counted once (by identifier).
#[test]
fn summed_coverage_statistics_and_per_polygon_ones_agree() {
    // Fractions and areas summed go through one grid-wide sum; a maximum takes each polygon's
    // cells. All three see the same pixels, and the sums differ by the pixel area only.
    let dir = tempfile::tempdir().unwrap();
    let (cfg, staged_lines) = staged(dir.path(), "1500");
    let mut json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&cfg).unwrap()).unwrap();
    let stats = json["statistics"].as_array_mut().unwrap();
    let coverage = stats[1].clone();
    for (name, property, method) in [("area", "area_within_pixel", "sum"), ("largest", "area_per_pixel_area", "max")] {
        let mut s = coverage.clone();
        s["name"] = name.into();
        s["property"] = property.into();
        s["aggregation_method"] = method.into();
        stats.push(s);
    }
    let cfg2 = dir.path().join("config-more.json");
    std::fs::write(&cfg2, json.to_string()).unwrap();
    let config = Config::load(Some(&cfg2), &[]).unwrap();
    let mut covered = 0;
    for line in lines(staged_lines.as_bytes()).iter().filter(|l| l["z"] == 15) {
        let tile = Tile::new(line["x"].as_u64().unwrap() as u32, line["y"].as_u64().unwrap() as u32, 15);
        let staged = iwp_vector::tilestore::tile_path(&config, &config.dir_staged, tile);
        let grid = tile_grid(&config, tile);
        let (pw, ph) = grid.pixel_size();
        let bands = tile_bands(&config, &grid, &read_staged_tile(&config, &staged).unwrap()).unwrap();
        let (fraction, area, largest) = (&bands[1], &bands[2], &bands[3]);
        for p in 0..fraction.len() {
            assert_eq!(fraction[p] == 0.0, largest[p] == 0.0, "{tile} pixel {p}: {} and {}", fraction[p], largest[p]);
            assert!(largest[p] <= fraction[p] + 1e-12, "{tile} pixel {p}: {} > {}", largest[p], fraction[p]);
            assert!((area[p] - fraction[p] * pw * ph).abs() <= 1e-12 * pw * ph, "{tile} pixel {p}");
            covered += usize::from(fraction[p] > 0.0);
        }
    }
    assert!(covered > 1000, "{covered} pixels covered");
}

fn distinct_kept(config: &Config, dir: &Path) -> usize {
    use gdal::vector::{FieldValue, LayerAccess};
    let mut ids = std::collections::HashSet::new();
    for f in files_under(&dir.join("staged")) {
        let ds = gdal::Dataset::open(&f).unwrap();
        let mut layer = ds.layer(0).unwrap();
        for feature in layer.features() {
            let get = |n: &str| feature.field(feature.field_index(n).unwrap()).unwrap();
            if get(&config.props.duplicated) == Some(FieldValue::IntegerValue(1)) {
                continue;
            }
            if let Some(FieldValue::StringValue(id)) = get(&config.props.identifier) {
                ids.insert(id);
            }
        }
    }
    ids.len()
}

#[test]
fn levels_one_by_one_and_shards_equal_one_whole_run() {
    let dir = tempfile::tempdir().unwrap();
    let (cfg, staged_lines) = staged(dir.path(), "2000");
    let whole_dir = dir.path().join("whole");
    let set_whole = format!("dir_geotiff={}", whole_dir.display());
    let (out, whole) = raster(&cfg, &["--set", &set_whole], &staged_lines);
    assert!(out.status.success());
    assert!(whole.iter().any(|r| r["z"] == 13) && whole.iter().any(|r| r["z"] == 15));

    // z15 in two shards, then z14 and z13 each from the level above.
    let (a, la) = raster(&cfg, &["--z", "15", "--shard", "0/2"], &staged_lines);
    let (b, lb) = raster(&cfg, &["--z", "15", "--shard", "1/2"], &staged_lines);
    assert!(a.status.success() && b.status.success());
    assert!(!la.is_empty() && !lb.is_empty());
    let paths = |v: &[serde_json::Value]| v.iter().map(|r| r["path"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    assert!(paths(&la).iter().all(|p| !paths(&lb).contains(p)), "shards are disjoint");
    let z15 = format!("{}\n{}", String::from_utf8_lossy(&a.stdout), String::from_utf8_lossy(&b.stdout));
    let (o14, l14) = raster(&cfg, &["--z", "14"], &z15);
    assert!(o14.status.success(), "{}", String::from_utf8_lossy(&o14.stderr));
    let (o13, _) = raster(&cfg, &["--z", "13"], &String::from_utf8_lossy(&o14.stdout));
    assert!(o13.status.success());
    assert!(l14.iter().all(|r| r["z"] == 14));
    let stepwise = relative_contents(&dir.path().join("geotiff"), "tif");
    assert_eq!(stepwise.len(), whole.len());
    assert_eq!(stepwise, relative_contents(&whole_dir, "tif"), "the same files, byte for byte");

    // --list for a lower level lists the GeoTIFFs one level deeper.
    let listed = run("iwp-raster", &["-c", &cfg, "--z", "14", "--list"], None);
    assert_eq!(lines(&listed.stdout).len(), la.len() + lb.len());

    // A rerun skips every tile, except one left truncated (as a machine crash could leave it,
    // since GeoTIFFs are renamed into place without waiting for the disk): that one is rewritten.
    let truncated = la[0]["path"].as_str().unwrap().to_string();
    let file = std::fs::OpenOptions::new().write(true).open(&truncated).unwrap();
    file.set_len(300).unwrap();
    let (_, again) = raster(&cfg, &["--z", "15"], &staged_lines);
    assert!(again.iter().filter(|r| r["path"] != truncated.as_str()).all(|r| r["skipped"] == true));
    let redone = again.iter().find(|r| r["path"] == truncated.as_str()).unwrap();
    assert!(redone.get("skipped").is_none() && redone["status"] == "ok", "{redone}");
    assert!(geotiff::read(Path::new(&truncated)).is_ok());
    let (_, forced) = raster(&cfg, &["--z", "15", "--force"], &staged_lines);
    assert!(forced.iter().all(|r| r.get("skipped").is_none() && r["status"] == "ok"));
}

#[test]
fn shares_of_a_whole_run_meeting_in_a_claims_folder_equal_one_whole_run() {
    let dir = tempfile::tempdir().unwrap();
    let (cfg, staged_lines) = staged(dir.path(), "6000");
    let whole_dir = dir.path().join("whole");
    let (out, whole) = raster(&cfg, &["--set", &format!("dir_geotiff={}", whole_dir.display())], &staged_lines);
    assert!(out.status.success());
    // Three shares at once, as three Slurm tasks: each its subtrees, the tiles above them built
    // by whichever share finishes their last child.
    let claims = dir.path().join("claims").to_string_lossy().into_owned();
    let shares: Vec<std::process::Child> = (0..3)
        .map(|i| {
            let shard = format!("{i}/3");
            let mut cmd = std::process::Command::new(iwp_tests::bin("iwp-raster"));
            cmd.args(["-c", &cfg, "--shard", &shard, "--claims", &claims, "--threads", "1"]);
            cmd.stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped());
            let mut child = cmd.spawn().unwrap();
            use std::io::Write;
            child.stdin.take().unwrap().write_all(staged_lines.as_bytes()).unwrap();
            child
        })
        .collect();
    let mut tiles = Vec::new();
    for child in shares {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let mine = lines(&out.stdout);
        assert!(!mine.is_empty(), "every share has work");
        tiles.extend(
            mine.iter().map(|r| (r["z"].as_u64().unwrap(), r["x"].as_u64().unwrap(), r["y"].as_u64().unwrap())),
        );
    }
    let count = tiles.len();
    tiles.sort();
    tiles.dedup();
    assert_eq!((count, tiles.len()), (whole.len(), whole.len()), "every tile once");
    assert!(tiles.iter().any(|t| t.0 == 13), "the lowest level built too");
    assert_eq!(
        relative_contents(&dir.path().join("geotiff"), "tif"),
        relative_contents(&whole_dir, "tif"),
        "the same files, byte for byte"
    );
}

#[test]
fn bad_input_gives_error_lines_or_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (cfg, staged_lines) = staged(dir.path(), "600");
    // Usage errors: nothing done, exit 2.
    for args in [vec!["--shard", "0/2"], vec!["--z", "3"], vec!["--z", "15", "--compression", "lzw"]] {
        let (out, _) = raster(&cfg, &args, &staged_lines);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(!String::from_utf8_lossy(&out.stderr).is_empty());
    }
    // A missing staged file, a corrupt one, a wrong tms, a z14 line, a malformed line: each an
    // error line; the good tiles are still written; exit 1.
    let corrupt = dir.path().join("corrupt.gpkg");
    std::fs::write(&corrupt, b"not a geopackage").unwrap();
    let bad = format!(
        "{}\n{}\n{}\n{}\n{{not json\n",
        r#"{"tms":"WorldCRS84Quad","z":15,"x":1,"y":1,"path":"/nonexistent/1.gpkg"}"#,
        format_args!(r#"{{"tms":"WorldCRS84Quad","z":15,"x":2,"y":2,"path":"{}"}}"#, corrupt.display()),
        r#"{"tms":"WebMercatorQuad","z":15,"x":3,"y":3,"path":"x.gpkg"}"#,
        r#"{"tms":"WorldCRS84Quad","z":14,"x":3,"y":3,"path":"x.gpkg"}"#,
    );
    let (out, results) = raster(&cfg, &["--z", "15"], &format!("{staged_lines}{bad}"));
    assert_eq!(out.status.code(), Some(1));
    let errors: Vec<_> = results.iter().filter(|r| r["status"] == "error").collect();
    assert_eq!(errors.len(), 5, "{errors:#?}");
    let text = format!("{errors:?}");
    for needle in ["nonexistent", "corrupt.gpkg", "WebMercatorQuad", "z14", "not a job line"] {
        assert!(text.contains(needle), "no error mentions {needle}: {text}");
    }
    assert!(results.iter().filter(|r| r["status"] == "ok").count() > 0);
}

#[test]
fn a_tile_with_its_rows_stored_in_another_order_gives_the_same_bits() {
    use iwp_rasters::rasterize::tile_bands;
    let dir = tempfile::tempdir().unwrap();
    let (cfg, staged_lines) = staged(dir.path(), "3000");
    let config = Config::load(Some(Path::new(&cfg)), &[]).unwrap();
    // The staged tile with the most rows, and a copy with its rows stored in reverse.
    let line = lines(staged_lines.as_bytes()).into_iter().max_by_key(|l| l["features"].as_u64().unwrap()).unwrap();
    let path = Path::new(line["path"].as_str().unwrap()).to_path_buf();
    let tile = Tile::new(line["x"].as_u64().unwrap() as u32, line["y"].as_u64().unwrap() as u32, 15);
    let table = iwp_vector::gpkg::FeatureTable::open(&path).unwrap().name.clone();
    let reversed = dir.path().join("reversed.gpkg");
    let sql = format!("SELECT * FROM \"{table}\" ORDER BY fid DESC");
    let copy = std::process::Command::new("ogr2ogr")
        .args(["-f", "GPKG", "-unsetFid", "-nln", &table])
        .arg(&reversed)
        .arg(&path)
        .args(["-sql", &sql])
        .output()
        .expect("ogr2ogr (gdal-bin) runs");
    assert!(copy.status.success(), "{}", String::from_utf8_lossy(&copy.stderr));

    let grid = tile_grid(&config, tile);
    let (a, b) = (read_staged_tile(&config, &path).unwrap(), read_staged_tile(&config, &reversed).unwrap());
    assert!(a.polygons.len() > 100, "{} polygons", a.polygons.len());
    let polygons = |t: &iwp_rasters::rasterize::TilePolygons| {
        (0..t.polygons.len()).map(|i| t.polygons.polygon(i)).collect::<Vec<_>>()
    };
    assert!(polygons(&a) == polygons(&b), "the same polygons in the same order");
    let bits = |t: &iwp_rasters::rasterize::TilePolygons| -> Vec<Vec<u64>> {
        tile_bands(&config, &grid, t).unwrap().iter().map(|band| band.iter().map(|v| v.to_bits()).collect()).collect()
    };
    assert!(bits(&a) == bits(&b), "the same bands to the last bit");
}
