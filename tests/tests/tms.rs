//! Tile matrix set maths against the golden summaries and independent formulas.

use iwp_core::config::Config;
use iwp_core::tms::{Bounds, Tile, TilePaths, Tms};
use iwp_tests::golden;
use std::path::Path;

fn crs84() -> &'static Tms {
    Tms::by_id("WorldCRS84Quad").unwrap()
}

#[test]
fn golden_staging_summary_tile_bounds_match_to_1e12() {
    let Some(g) = golden() else { return };
    let mut rows = 0;
    for case in ["complete-workflow", "footprint-dedup"] {
        let mut rdr = csv::Reader::from_path(g.join(case).join("expected/staging-summary.csv")).unwrap();
        for rec in rdr.deserialize::<std::collections::HashMap<String, String>>() {
            let rec = rec.unwrap();
            let num = |k: &str| rec[k].parse::<f64>().unwrap();
            let tile = Tile::new(num("tile_x") as u32, num("tile_y") as u32, num("tile_z") as u8);
            let tms = Tms::by_id(&rec["tms_identifier"]).unwrap();
            let b = tms.bounds(tile);
            for (ours, theirs) in [
                (b.top, num("tile_top")),
                (b.right, num("tile_right")),
                (b.bottom, num("tile_bottom")),
                (b.left, num("tile_left")),
            ] {
                assert!((ours - theirs).abs() <= 1e-12, "{case} {tile}: {ours} vs {theirs}");
            }
            rows += 1;
        }
    }
    assert_eq!(rows, 4 + 12, "4 rows, and 12 with the reference's re-summarised rewrites");
}

#[test]
fn golden_raster_summary_bounds_and_tile_names_match_at_every_zoom() {
    let Some(g) = golden() else { return };
    let mut zooms = std::collections::BTreeSet::new();
    for case in ["complete-workflow", "footprint-dedup"] {
        let mut rdr = csv::Reader::from_path(g.join(case).join("expected/raster-summary.csv")).unwrap();
        for rec in rdr.deserialize::<std::collections::HashMap<String, String>>() {
            let rec = rec.unwrap();
            let path = Path::new(&rec["path"]);
            let paths = TilePaths::new(&["style", "tms", "z", "x", "y"].map(String::from), "WorldCRS84Quad").unwrap();
            let tile = paths.parse(path).unwrap();
            assert_eq!(tile.to_string(), rec["tile"]);
            assert_eq!(tile.z.to_string(), rec["z"]);
            let nums: Vec<f64> =
                rec["bounds"].trim_matches(['[', ']']).split(',').map(|s| s.trim().parse().unwrap()).collect();
            let b = crs84().bounds(tile);
            for (ours, theirs) in [b.left, b.right, b.bottom, b.top].into_iter().zip(nums) {
                assert!((ours - theirs).abs() <= 1e-9, "{tile}: {ours} vs {theirs}");
            }
            zooms.insert(tile.z);
        }
    }
    assert_eq!(zooms.into_iter().collect::<Vec<_>>(), (6..=13).collect::<Vec<u8>>());
}

#[test]
fn tile_of_a_point_parent_children_and_covering() {
    let tms = crs84();
    let t = tms.tile_at_lonlat(-148.83, 70.03, 13).unwrap();
    assert_eq!(t, Tile::new(1418, 908, 13));
    let b = tms.bounds(t);
    assert_eq!((b.left, b.right, b.bottom, b.top), (-148.8427734375, -148.82080078125, 70.02685546875, 70.048828125));
    assert_eq!(t.parent(), Some(Tile::new(709, 454, 12)));
    assert_eq!(
        Tile::new(709, 454, 12).children(),
        [t, Tile::new(1418, 909, 13), Tile::new(1419, 908, 13), Tile::new(1419, 909, 13)]
    );
    for c in t.children() {
        assert_eq!(c.parent(), Some(t));
    }
    assert_eq!(tms.matrix_size(0), (2, 1));
    assert_eq!(tms.tile_at_xy(180.0, -90.0, 2), Tile::new(7, 3, 2), "clamped to the matrix");
    // The golden input's extent covers exactly the four golden z13 tiles.
    let cover =
        tms.tiles_covering(Bounds { left: -148.841374, bottom: 70.006773, right: -148.800077, top: 70.046718 }, 13);
    assert_eq!(
        cover,
        [Tile::new(1418, 908, 13), Tile::new(1419, 908, 13), Tile::new(1418, 909, 13), Tile::new(1419, 909, 13)]
    );
    // A box ending exactly on a tile edge does not reach the next tile.
    let edge = Bounds { left: b.left, bottom: b.bottom, right: b.right, top: b.top };
    assert_eq!(tms.tiles_covering(edge, 13), [t]);
    // Closed boxes: the same box touches all eight neighbours too, row by row.
    let touching = tms.tiles_touching(edge, 13);
    let expect: Vec<Tile> =
        (t.y - 1..=t.y + 1).flat_map(|y| (t.x - 1..=t.x + 1).map(move |x| Tile::new(x, y, 13))).collect();
    assert_eq!(touching, expect);
    let inner = Bounds { left: b.left + 1e-6, bottom: b.bottom + 1e-6, right: b.right - 1e-6, top: b.top - 1e-6 };
    assert_eq!(tms.tiles_touching(inner, 13), [t]);
    assert!(tms.tiles_covering(Bounds { left: 200.0, bottom: 0.0, right: 210.0, top: 1.0 }, 3).is_empty());
}

#[test]
fn web_mercator_matches_the_slippy_map_formula() {
    let tms = Tms::by_id("WebMercatorQuad").unwrap();
    for &(lon, lat) in &[(-148.83f64, 70.03f64), (0.5, 0.5), (13.4, 52.5), (-70.0, -33.4), (179.9, 84.0)] {
        for z in [0u8, 5, 13, 18] {
            let n = f64::from(1u32 << z);
            let x = ((lon + 180.0) / 360.0 * n).floor() as u32;
            let phi = lat.to_radians();
            let y = ((1.0 - (phi.tan() + 1.0 / phi.cos()).ln() / std::f64::consts::PI) / 2.0 * n).floor() as u32;
            assert_eq!(tms.tile_at_lonlat(lon, lat, z).unwrap(), Tile::new(x, y, z), "{lon},{lat} z{z}");
        }
    }
    let b = tms.bounds(Tile::new(0, 0, 0));
    assert_eq!((b.left, b.top), (-20037508.342789244, 20037508.342789244));
    assert!((b.right - 20037508.342789244).abs() < 1e-6 && (b.bottom + 20037508.342789244).abs() < 1e-6);
    assert!(Tms::by_id("UPSArctic3413Quad").unwrap().tile_at_lonlat(0.0, 80.0, 3).is_err());
    assert!(Tms::by_id("NoSuchQuad").is_err());
}

#[test]
fn tile_paths_follow_the_structure_and_parse_back() {
    let cfg = Config::load(None, &[]).unwrap();
    let t = Tile::new(1418, 908, 13);
    let p = cfg.tile_paths.path(Path::new("staged"), None, t, ".gpkg");
    assert_eq!(p, Path::new("staged/WGS1984Quad/13/1418/908.gpkg"));
    assert_eq!(cfg.tile_paths.parse(&p).unwrap(), t);
    let web = cfg.tile_paths.path(Path::new("web"), Some("iwp_count"), t, ".png");
    assert_eq!(web, Path::new("web/iwp_count/WGS1984Quad/13/1418/908.png"));
    let other = TilePaths::new(&["tms", "x", "y", "z"].map(String::from), "WebMercatorQuad").unwrap();
    let q = other.path(Path::new("/d"), Some("ignored"), t, ".tif");
    assert_eq!(q, Path::new("/d/WebMercatorQuad/1418/908/13.tif"));
    assert_eq!(other.parse(&q).unwrap(), t);
    assert!(TilePaths::new(&["style", "z", "x"].map(String::from), "x").is_err());
    assert!(TilePaths::new(&["x", "y", "style", "z"].map(String::from), "x").is_err());
    assert!(cfg.tile_paths.parse(Path::new("a/b/c.gpkg")).is_err());
}
