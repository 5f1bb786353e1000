//! Per-level mosaics and the STAC catalog of a whole run, in the clients people use: each VRT
//! equals its level's GeoTIFFs pixel for pixel and each level's COG its VRTs (rio-cogeo: valid);
//! the run's folder is moved, then pystac validates the whole catalog offline (its bundled core
//! schemas; the projection and raster fields checked against their specs by tests/clients/
//! stac-check.py), GDAL opens every asset through its href, from disk and over HTTP, and the
//! band statistics the catalog took from the result lines equal the pixels.

use gdal::vector::LayerAccess;
use gdal::{Dataset, Metadata};
use iwp_tests::{clients, lines, rasterized, run, Served};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn ok(tool: &str, args: &[&str], stdin: Option<&str>) -> String {
    let out = run(tool, args, stdin);
    assert!(out.status.success(), "{tool}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn band(ds: &Dataset, b: usize, window: (isize, isize), size: (usize, usize)) -> Vec<f64> {
    ds.rasterband(b).unwrap().read_as::<f64>(window, size, size, None).unwrap().data().to_vec()
}

/// Smallest and largest value of a raster band, NaN left out.
fn min_max(ds: &Dataset, b: usize) -> (f64, f64) {
    let v = band(ds, b, (0, 0), ds.raster_size());
    v.iter().filter(|x| !x.is_nan()).fold((f64::MAX, f64::MIN), |(lo, hi), &x| (lo.min(x), hi.max(x)))
}

/// Every VRT's window over each of its level's tiles equals that tile's band, bit for bit; each
/// level's COG equals its VRTs. Returns the tiles compared.
fn assert_mosaics_equal_tiles(mosaics: &[Value], rasters: &[Value]) -> usize {
    let mut compared = 0;
    for m in mosaics {
        let ds = Dataset::open(m["path"].as_str().unwrap()).unwrap();
        let gt = ds.geo_transform().unwrap();
        let z = m["z"].as_u64().unwrap();
        let stats: Vec<&str> = match m["stat"].as_str() {
            Some(s) => vec![s],
            None => vec!["iwp_count", "iwp_coverage"],
        };
        for (k, stat) in stats.iter().enumerate() {
            assert_eq!(ds.rasterband(k + 1).unwrap().description().unwrap(), *stat);
        }
        for t in rasters.iter().filter(|t| t["z"].as_u64() == Some(z)) {
            let tile = Dataset::open(t["path"].as_str().unwrap()).unwrap();
            let tg = tile.geo_transform().unwrap();
            let (col, row) = (((tg[0] - gt[0]) / gt[1]).round() as isize, ((tg[3] - gt[3]) / gt[5]).round() as isize);
            for (k, stat) in stats.iter().enumerate() {
                let b = if *stat == "iwp_count" { 1 } else { 2 };
                let want = band(&tile, b, (0, 0), (256, 256));
                let got = band(&ds, k + 1, (col, row), (256, 256));
                assert!(want.iter().zip(&got).all(|(a, b)| a.to_bits() == b.to_bits()), "{} z{z} {stat}", m["path"]);
                compared += 1;
            }
        }
    }
    compared
}

/// Each asset's file as its href says, relative to the item: (item file, key, asset, path).
fn assets(catalog: &Path) -> Vec<(PathBuf, String, Value, PathBuf)> {
    let mut out = Vec::new();
    for item in iwp_tests::files_under(catalog.parent().unwrap()) {
        if item.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&item).unwrap()).unwrap();
        if v["type"] != "Feature" {
            continue;
        }
        for (key, asset) in v["assets"].as_object().unwrap() {
            let href = asset["href"].as_str().unwrap();
            assert!(!href.starts_with('/') && !href.contains("://"), "relative href: {href}");
            out.push((item.clone(), key.clone(), asset.clone(), item.parent().unwrap().join(href)));
        }
    }
    out
}

#[test]
fn mosaics_and_a_stac_catalog_that_clients_read_after_the_folder_moved() {
    let clients = clients();
    let dir = tempfile::tempdir().unwrap();
    let at = dir.path().join("run");
    let (cfg, raster_lines) = rasterized(&at, "6000", "2", ["13", "15"]);
    let staged = ok("iwp-stage", &["-c", &cfg, "--list", "-q"], None);
    let staged = ok("iwp-stage", &["-c", &cfg, "-q"], Some(&staged));
    let caps = at.join("web_tiles/WMTSCapabilities.xml");
    let web = ok("iwp-webtile", &["-c", &cfg, "--wmts", caps.to_str().unwrap(), "--viewer", "-q"], Some(&raster_lines));
    let mosaic_lines = ok("iwp-mosaic", &["-c", &cfg, "--cog-below", "100000000", "-q"], Some(&raster_lines));
    let mosaics = lines(mosaic_lines.as_bytes());
    let rasters = lines(raster_lines.as_bytes());
    assert_eq!(mosaics.len(), 3 * 3, "a VRT per level and statistic and a COG per level");
    assert_eq!(assert_mosaics_equal_tiles(&mosaics, &rasters), 2 * 2 * rasters.len());
    // The band summaries on the lines are the levels' own.
    for m in mosaics.iter().filter(|m| m["stat"].is_null()) {
        let ds = Dataset::open(m["path"].as_str().unwrap()).unwrap();
        assert_eq!(
            (m["iwp_count_min"].as_f64().unwrap(), m["iwp_count_max"].as_f64().unwrap()),
            min_max(&ds, 1),
            "{m}"
        );
        if let Some(c) = &clients {
            let said = Command::new(c.join(".venv/bin/rio"))
                .args(["cogeo", "validate", m["path"].as_str().unwrap()])
                .output()
                .unwrap();
            assert!(String::from_utf8_lossy(&said.stdout).contains("is a valid cloud optimized"), "{said:?}");
        }
    }
    let sum: f64 = rasters.iter().filter(|t| t["z"] == 15).map(|t| t["iwp_count_sum"].as_f64().unwrap()).sum();
    let z15 = mosaics.iter().find(|m| m["z"] == 15 && m["stat"] == "iwp_count").unwrap();
    assert_eq!(z15["iwp_count_sum"].as_f64().unwrap(), sum);
    assert!(std::fs::read_to_string(z15["path"].as_str().unwrap())
        .unwrap()
        .contains(r#"relativeToVRT="1">../geotiff/"#));

    let tif = rasters.iter().find(|t| t["z"] == 15).unwrap();
    let span = 180.0 / f64::from(1u32 << 15);
    let (w, n) = (-180.0 + tif["x"].as_f64().unwrap() * span, 90.0 - tif["y"].as_f64().unwrap() * span);
    let bbox = format!("--bbox={},{},{},{}", w - span * 0.7, n - span * 1.6, w + span * 1.3, n - span * 0.2);
    let extract = ok("iwp-extract", &["-c", &cfg, &bbox, "--name", "site-1", "-q"], None);
    // The extract's line twice (an area extracted again): one item.
    let all = [staged.as_str(), raster_lines.as_str(), &mosaic_lines, &extract, &extract, &web].concat();
    let cat =
        ok("iwp-catalog", &["-c", &cfg, "--datetime", "2024-06-01T00:00:00Z", "--license", "CC-BY-4.0"], Some(&all));
    let cat = &lines(cat.as_bytes())[0];
    assert_eq!((cat["collections"].as_u64(), cat["items"].as_u64()), (Some(4), Some(6)), "{cat}");

    // The whole run's folder moves; the catalog and the mosaics still hold.
    let moved = dir.path().join("moved elsewhere");
    std::fs::rename(&at, &moved).unwrap();
    let catalog = moved.join("stac/catalog.json");
    if let Some(c) = &clients {
        let checked = Command::new(c.join(".venv/bin/python"))
            .arg(c.join("stac-check.py"))
            .arg("--gdal-open")
            .arg(&catalog)
            .output()
            .unwrap();
        let report: Value = serde_json::from_slice(&checked.stdout).unwrap_or(Value::Null);
        assert!(checked.status.success(), "{report}\n{}", String::from_utf8_lossy(&checked.stderr));
        assert_eq!(report["errors"], serde_json::json!([]));
        assert_eq!((report["collections"].as_u64(), report["items"].as_u64()), (Some(4), Some(6)), "{report}");
        assert_eq!(report["core_validated"].as_u64(), Some(1 + 4 + 6), "{report}");
        assert_eq!(report["stac_version"], "1.1.0");
    }
    // GDAL opens every asset it reads through its href; statistics from the lines equal the pixels.
    let mut opened = BTreeMap::new();
    for (item, key, asset, path) in assets(&catalog) {
        let kind = asset["type"].as_str().unwrap();
        assert!(path.is_file(), "{item:?} {key}: {path:?}");
        if kind.starts_with("image/tiff") || path.extension().is_some_and(|e| e == "vrt") {
            let ds = Dataset::open(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
            let bands = asset["raster:bands"].as_array().unwrap();
            assert_eq!(bands.len(), ds.raster_count(), "{key}");
            for (k, b) in bands.iter().enumerate() {
                let (lo, hi) = min_max(&ds, k + 1);
                assert_eq!(
                    (b["statistics"]["minimum"].as_f64().unwrap(), b["statistics"]["maximum"].as_f64().unwrap()),
                    (lo, hi),
                    "{item:?} {key}"
                );
            }
            *opened.entry("raster").or_insert(0) += 1;
        } else if kind == "application/geopackage+sqlite3" {
            let ds = Dataset::open(&path).unwrap();
            assert!(ds.layer(0).unwrap().feature_count() > 0, "{path:?}");
            *opened.entry("vector").or_insert(0) += 1;
        }
    }
    assert_eq!(opened, BTreeMap::from([("raster", 3 * 3 + 1), ("vector", 2)]));
    // The tile index: one row per staged tile, each location a file relative to the index.
    let index = moved.join("stac/staged/staged-z15/tiles.gpkg");
    let ds = Dataset::open(&index).unwrap();
    let mut layer = ds.layer(0).unwrap();
    let staged_files = iwp_tests::files_under(&moved.join("staged"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "gpkg"))
        .count();
    assert_eq!(layer.feature_count() as usize, staged_files);
    for f in layer.features() {
        let loc = f.field_as_string(f.field_index("location").unwrap()).unwrap().unwrap();
        assert!(index.parent().unwrap().join(&loc).is_file(), "{loc}");
    }
    // Served as it is: GDAL reads the extract's COG over HTTP through the item's href.
    let served = Served::new(&moved);
    let item = moved.join("stac/extracts/iwp_z15_site-1/iwp_z15_site-1.json");
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&item).unwrap()).unwrap();
    let url =
        format!("/vsicurl/{}stac/extracts/iwp_z15_site-1/{}", served.url, v["assets"]["cog"]["href"].as_str().unwrap());
    let remote = Dataset::open(&url).unwrap_or_else(|e| panic!("{url}: {e}"));
    let local = Dataset::open(moved.join("extracts/iwp_z15_site-1.tif")).unwrap();
    assert_eq!(
        band(&remote, 2, (0, 0), remote.raster_size()).len(),
        band(&local, 2, (0, 0), local.raster_size()).len()
    );
    assert!(band(&remote, 2, (0, 0), remote.raster_size())
        .iter()
        .zip(band(&local, 2, (0, 0), local.raster_size()))
        .all(|(a, b)| a.to_bits() == b.to_bits()));
    assert_eq!(v["properties"]["proj:code"], "EPSG:4326");
    // proj:shape is rows, columns and proj:transform an affine's first two rows, of the asset's grid.
    let gt = local.geo_transform().unwrap();
    let (w, h) = local.raster_size();
    assert_eq!(v["properties"]["proj:shape"], serde_json::json!([h, w]));
    assert_eq!(v["properties"]["proj:transform"], serde_json::json!([gt[1], gt[2], gt[0], gt[4], gt[5], gt[3]]));
    assert_eq!(v["properties"]["datetime"], "2024-06-01T00:00:00Z");
}
