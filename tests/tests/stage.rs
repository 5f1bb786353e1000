//! iwp-stage on generated EPSG:3413 data: reprojection agrees with gdaltransform, and bad
//! inputs each give a clear error line while the other files are still staged.

use gdal::vector::{FieldValue, LayerAccess, LayerOptions, OGRwkbGeometryType};
use gdal::{Dataset, DriverManager};
use iwp_tests::{files_under, lines, run, synth};
use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

#[test]
fn reprojected_polygons_land_in_the_tiles_gdaltransform_says() {
    let dir = tempfile::tempdir().unwrap();
    synth(dir.path(), "6000", "2", &[]);
    let cfg = dir.path().join("config.json");
    let list = run("iwp-stage", &["-c", cfg.to_str().unwrap(), "--list"], None);
    let out = run("iwp-stage", &["-c", cfg.to_str().unwrap()], Some(&String::from_utf8_lossy(&list.stdout)));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // identifier -> tiles written, and the input centroid (EPSG:3413) of that polygon.
    let mut tiles: HashMap<String, HashSet<(u32, u32)>> = HashMap::new();
    let mut centroid: HashMap<String, (f64, f64)> = HashMap::new();
    for p in files_under(&dir.path().join("staged")).into_iter().filter(|p| p.extension().is_some_and(|e| e == "gpkg"))
    {
        let y: u32 = p.file_stem().unwrap().to_str().unwrap().parse().unwrap();
        let x: u32 = p.parent().unwrap().file_name().unwrap().to_str().unwrap().parse().unwrap();
        let ds = Dataset::open(&p).unwrap();
        let mut layer = ds.layer(0).unwrap();
        for f in layer.features() {
            let s = |n: &str| match f.field(f.field_index(n).unwrap()).unwrap() {
                Some(FieldValue::StringValue(s)) => s,
                other => panic!("{other:?}"),
            };
            let d = |n: &str| f.field_as_double(f.field_index(n).unwrap()).unwrap().unwrap();
            let id = s("staging_identifier");
            tiles.entry(id.clone()).or_default().insert((x, y));
            centroid.insert(id, (d("CentroidX"), d("CentroidY")));
        }
    }
    assert_eq!(centroid.len(), 6000, "every polygon staged");
    let ids: Vec<&String> = centroid.keys().collect();
    let points = dir.path().join("centroids.txt");
    let mut file = std::fs::File::create(&points).unwrap();
    for id in &ids {
        let (x, y) = centroid[*id];
        writeln!(file, "{x} {y}").unwrap();
    }
    drop(file);
    let out = Command::new("gdaltransform")
        .args(["-s_srs", "EPSG:3413", "-t_srs", "OGC:CRS84", "-output_xy"])
        .stdin(Stdio::from(std::fs::File::open(&points).unwrap()))
        .output()
        .expect("gdaltransform (gdal-bin)");
    let lonlat: Vec<(f64, f64)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let v: Vec<f64> = l.split_whitespace().map(|s| s.parse().unwrap()).collect();
            (v[0], v[1])
        })
        .collect();
    assert_eq!(lonlat.len(), ids.len());
    let tms = iwp_core::tms::Tms::by_id("WorldCRS84Quad").unwrap();
    for (id, (lon, lat)) in ids.iter().zip(lonlat) {
        let t = tms.tile_at_lonlat(lon, lat, 15).unwrap();
        assert!(tiles[*id].contains(&(t.x, t.y)), "{id}: centroid tile {t} not among {:?}", tiles[*id]);
    }
    let distinct: HashSet<(u32, u32)> = tiles.values().flatten().copied().collect();
    assert!(distinct.len() > 4, "the data spans several z15 tiles");
}

fn write_layer(path: &Path, ty: OGRwkbGeometryType::Type, wkt: &[&str]) {
    let driver = DriverManager::get_driver_by_name("ESRI Shapefile").unwrap();
    let mut ds = driver.create_vector_only(path).unwrap();
    let srs = gdal::spatial_ref::SpatialRef::from_epsg(3413).unwrap();
    let mut layer = ds.create_layer(LayerOptions { name: "l", srs: Some(&srs), ty, options: None }).unwrap();
    for w in wkt {
        layer.create_feature(gdal::vector::Geometry::from_wkt(w).unwrap()).unwrap();
    }
}

#[test]
fn bad_inputs_give_error_lines_and_the_rest_is_staged() {
    let dir = tempfile::tempdir().unwrap();
    let files = synth(dir.path(), "2000", "4", &[]);
    let input = dir.path().join("input");
    let copy_shp = |from: &Path, to: &Path, skip: &[&str]| {
        for ext in ["shp", "shx", "dbf", "prj", "cpg"] {
            if !skip.contains(&ext) {
                std::fs::copy(from.with_extension(ext), to.with_extension(ext)).unwrap();
            }
        }
    };
    let good = PathBuf::from(files[0]["path"].as_str().unwrap());
    // Each bad input carries a footprint copy so only its own fault shows.
    let fp_of = |p: &Path| dir.path().join("footprints").join(p.strip_prefix(&input).unwrap()).with_extension("gpkg");
    let good_fp = fp_of(&good);
    let mut bad: Vec<(PathBuf, &str)> = Vec::new();
    let corrupt = input.join("corrupt_iwp.shp");
    copy_shp(&good, &corrupt, &[]);
    std::fs::write(&corrupt, b"this is not a shapefile at all, just some bytes").unwrap();
    bad.push((corrupt, "corrupt"));
    let no_shx = input.join("noshx_iwp.shp");
    copy_shp(&good, &no_shx, &["shx"]);
    bad.push((no_shx, "noshx"));
    let no_prj = input.join("noprj_iwp.shp");
    copy_shp(&good, &no_prj, &["prj"]);
    bad.push((no_prj, "no CRS"));
    let no_fp = input.join("nofootprint_iwp.shp");
    copy_shp(&good, &no_fp, &[]);
    bad.push((no_fp, "no footprint"));
    let points = input.join("points_iwp.shp");
    write_layer(&points, OGRwkbGeometryType::wkbPoint, &["POINT (-2120000 522000)"]);
    bad.push((points.clone(), "no polygons"));
    let empty = input.join("empty_iwp.shp");
    write_layer(&empty, OGRwkbGeometryType::wkbPolygon, &[]);
    bad.push((empty.clone(), "no features"));
    bad.push((input.join("missing_iwp.shp"), "cannot open"));
    for (p, what) in &bad {
        if *what != "no footprint" {
            let _ = std::fs::copy(&good_fp, fp_of(p));
        }
    }
    let mut jobs: String = files.iter().map(|f| format!("{{\"path\":{}}}\n", f["path"])).collect();
    for (p, _) in &bad {
        jobs.push_str(&format!("{{\"path\":\"{}\",\"tag\":\"bad\"}}\n", p.display()));
    }
    jobs.push_str("{\"path\": oops\n");
    let cfg = dir.path().join("config.json");
    let out = run("iwp-stage", &["-c", cfg.to_str().unwrap()], Some(&jobs));
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let results = lines(&out.stdout);
    let errors: Vec<&serde_json::Value> = results.iter().filter(|r| r["status"] == "error").collect();
    assert_eq!(errors.len(), bad.len() + 1, "{errors:#?}");
    for (p, what) in &bad {
        let name = p.file_name().unwrap().to_string_lossy();
        let e = errors
            .iter()
            .find(|e| e["path"].as_str().is_some_and(|s| s.ends_with(&*name)))
            .unwrap_or_else(|| panic!("no error line for {name}"));
        let msg = e["error"].as_str().unwrap();
        assert!(msg.contains(&*name) || msg.contains(&*p.to_string_lossy()), "{name}: message names the file: {msg}");
        if !["corrupt", "noshx"].contains(what) {
            assert!(msg.contains(what), "{name}: `{msg}` lacks `{what}`");
        }
        assert_eq!(e["tag"], "bad", "unknown fields pass through on error lines");
    }
    assert!(errors.iter().any(|e| e["error"].as_str().unwrap().contains("not a job line")));
    let staged: u64 = results.iter().filter(|r| r["status"] == "ok").map(|r| r["rows"].as_u64().unwrap()).sum();
    assert!(staged >= 2000, "all good polygons staged ({staged} rows incl. tile overlaps)");
    let files_ok: HashSet<&str> =
        results.iter().filter(|r| r["status"] == "ok").map(|r| r["file"].as_str().unwrap()).collect();
    assert_eq!(files_ok.len(), 4);
}

#[test]
fn job_lines_of_the_wrong_shape_are_named_and_unknown_fields_survive() {
    let dir = tempfile::tempdir().unwrap();
    synth(dir.path(), "500", "1", &[]);
    let cfg = dir.path().join("config.json");
    let list = String::from_utf8(run("iwp-stage", &["-c", cfg.to_str().unwrap(), "--list"], None).stdout).unwrap();
    let mut good: serde_json::Value = serde_json::from_str(list.lines().next().unwrap()).unwrap();
    good["campaign"] = serde_json::json!({"site": "Prudhoe", "year": 2019});
    let jobs =
        format!("{{\"path\": 5}}\n{{\"bytes\": 3}}\n{good}\nnot json\n{{\"path\": \"x.shp\", \"bytes\": \"big\"}}\n");
    let out = run("iwp-stage", &["-c", cfg.to_str().unwrap(), "-q"], Some(&jobs));
    assert_eq!(out.status.code(), Some(1), "some jobs failed");
    let results = lines(&out.stdout);
    let errors: Vec<&str> =
        results.iter().filter(|r| r["status"] == "error").map(|r| r["error"].as_str().unwrap()).collect();
    assert_eq!(errors.len(), 4, "{errors:?}");
    assert!(errors[0].starts_with("line 1: field `path`: invalid type: integer `5`"), "{}", errors[0]);
    assert_eq!(errors[1], "line 2: missing field `path`");
    assert!(errors.iter().any(|e| e.starts_with("line 4: not a job line")), "{errors:?}");
    assert!(errors.iter().any(|e| e.starts_with("line 5: field `bytes`: invalid type: string \"big\"")), "{errors:?}");
    // The good line was staged, and its own annotations are on every one of its result lines.
    let ok: Vec<&serde_json::Value> = results.iter().filter(|r| r["status"] == "ok").collect();
    assert!(!ok.is_empty());
    assert!(ok.iter().all(|r| r["campaign"] == good["campaign"] && r["z"] == 15), "{ok:?}");
}
