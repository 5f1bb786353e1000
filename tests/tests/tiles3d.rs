//! iwp-3dtiles end to end on generated data: contents and hierarchy pass the 3D Tiles structural
//! rules and Khronos gltf-validator, load in CesiumJS (headless Chromium, nothing fetched beyond
//! 127.0.0.1), hold exactly the rows whose centroid lies in their tile, put every vertex within
//! 1 cm of its source coordinate and sum to the polygons' geodesic area within 0.1 %, and are
//! byte-identical when made again.

use gdal::spatial_ref::{AxisMappingStrategy, CoordTransform, SpatialRef};
use gdal::vector::LayerAccess;
use geo::orient::{Direction, Orient};
use geo::GeodesicArea;
use iwp_tests::{clients, files_under, lines, run, synth};
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The JSON chunk of a GLB.
fn gltf_of(glb: &[u8]) -> Value {
    let json_len = u32::from_le_bytes(glb[12..16].try_into().unwrap()) as usize;
    serde_json::from_slice(&glb[20..20 + json_len]).unwrap()
}

/// The binary chunk's data of a GLB.
fn bin_of(glb: &[u8]) -> &[u8] {
    &glb[28 + u32::from_le_bytes(glb[12..16].try_into().unwrap()) as usize..]
}

/// Vertex positions of a GLB in ECEF: float or 16-bit (KHR_mesh_quantization) positions placed
/// by the node's scale, rotation and translation, turned back from glTF's y-up to z-up.
fn ecef_vertices(glb: &[u8]) -> Vec<[f64; 3]> {
    let (gltf, bin) = (gltf_of(glb), bin_of(glb));
    let accessor =
        &gltf["accessors"][gltf["meshes"][0]["primitives"][0]["attributes"]["POSITION"].as_u64().unwrap() as usize];
    let view = &gltf["bufferViews"][accessor["bufferView"].as_u64().unwrap() as usize];
    let at = view["byteOffset"].as_u64().unwrap() as usize;
    let node = &gltf["nodes"][0];
    let numbers = |v: &Value, default: &[f64]| -> Vec<f64> {
        v.as_array().map_or(default.to_vec(), |a| a.iter().map(|x| x.as_f64().unwrap()).collect())
    };
    let (t, r, s) = (
        numbers(&node["translation"], &[0.0; 3]),
        numbers(&node["rotation"], &[0.0, 0.0, 0.0, 1.0]),
        numbers(&node["scale"], &[1.0; 3]),
    );
    let short = accessor["componentType"] == 5122;
    let stride = view["byteStride"].as_u64().map_or(if short { 6 } else { 12 }, |s| s as usize);
    (0..accessor["count"].as_u64().unwrap() as usize)
        .map(|i| {
            let f = |k: usize| {
                let b = at + stride * i;
                if short {
                    i16::from_le_bytes(bin[b + 2 * k..b + 2 * k + 2].try_into().unwrap()) as f64
                } else {
                    f32::from_le_bytes(bin[b + 4 * k..b + 4 * k + 4].try_into().unwrap()) as f64
                }
            };
            let v = [f(0) * s[0], f(1) * s[1], f(2) * s[2]];
            // v rotated by the unit quaternion r: v + 2w(u x v) + 2u x (u x v).
            let u = [r[0], r[1], r[2]];
            let cross = |a: [f64; 3], b: [f64; 3]| {
                [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
            };
            let c = cross(u, v);
            let d = cross(u, c);
            let p: Vec<f64> = (0..3).map(|k| v[k] + 2.0 * r[3] * c[k] + 2.0 * d[k] + t[k]).collect();
            [p[0], -p[2], p[1]]
        })
        .collect()
}

/// Triangle areas of a GLB in square metres.
fn triangle_area(glb: &[u8]) -> f64 {
    let v = ecef_vertices(glb);
    let (gltf, bin) = (gltf_of(glb), bin_of(glb));
    let accessor = &gltf["accessors"][gltf["meshes"][0]["primitives"][0]["indices"].as_u64().unwrap() as usize];
    let at =
        gltf["bufferViews"][accessor["bufferView"].as_u64().unwrap() as usize]["byteOffset"].as_u64().unwrap() as usize;
    let wide = accessor["componentType"] == 5125;
    let index = |i: usize| {
        if wide {
            u32::from_le_bytes(bin[at + 4 * i..at + 4 * i + 4].try_into().unwrap()) as usize
        } else {
            u16::from_le_bytes(bin[at + 2 * i..at + 2 * i + 2].try_into().unwrap()) as usize
        }
    };
    (0..accessor["count"].as_u64().unwrap() as usize / 3)
        .map(|t| {
            let (a, b, c) = (v[index(3 * t)], v[index(3 * t + 1)], v[index(3 * t + 2)]);
            let (u, w) = ([b[0] - a[0], b[1] - a[1], b[2] - a[2]], [c[0] - a[0], c[1] - a[1], c[2] - a[2]]);
            let n = [u[1] * w[2] - u[2] * w[1], u[2] * w[0] - u[0] * w[2], u[0] * w[1] - u[1] * w[0]];
            0.5 * (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt()
        })
        .sum()
}

/// Rows of a staged tile whose centroid lies in it and that are flagged as duplicates.
fn duplicated_rows(path: &Path) -> usize {
    let ds = gdal::Dataset::open(path).unwrap();
    let mut layer = ds.layer(0).unwrap();
    let flag = |f: &gdal::vector::Feature, name: &str| {
        f.field_index(name).ok().and_then(|i| f.field_as_integer(i).ok().flatten())
    };
    layer
        .features()
        .filter(|f| flag(f, "staging_centroid_within_tile") == Some(1) && flag(f, "staging_duplicated") == Some(1))
        .count()
}

/// The rows of a staged tile whose centroid lies in it: their count, geodesic area and vertices.
fn staged_rows(path: &Path) -> (usize, f64, Vec<(f64, f64)>) {
    let ds = gdal::Dataset::open(path).unwrap();
    let mut layer = ds.layer(0).unwrap();
    let (mut n, mut area, mut points) = (0, 0.0, Vec::new());
    for f in layer.features() {
        let within =
            f.field_index("staging_centroid_within_tile").ok().and_then(|i| f.field_as_integer(i).ok().flatten());
        if within != Some(1) {
            continue;
        }
        n += 1;
        let g = f.geometry().unwrap();
        let parts: Vec<gdal::vector::Geometry> = if g.geometry_name() == "MULTIPOLYGON" {
            (0..g.geometry_count()).map(|k| g.get_geometry(k).clone()).collect()
        } else {
            vec![g.clone()]
        };
        for part in &parts {
            let mut rings = Vec::new();
            for r in 0..part.geometry_count() {
                let mut ring = Vec::new();
                part.get_geometry(r).get_points(&mut ring);
                points.extend(ring.iter().map(|p| (p.0, p.1)));
                rings.push(geo::LineString::from(ring.iter().map(|p| (p.0, p.1)).collect::<Vec<_>>()));
            }
            let exterior = rings.remove(0);
            area += geo::Polygon::new(exterior, rings).orient(Direction::Default).geodesic_area_unsigned();
        }
    }
    (n, area, points)
}

#[test]
fn contents_and_hierarchy_are_valid_faithful_and_load_in_cesium() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("data");
    synth(&d, "6000", "3", &["--z-range", "11", "15"]);
    let cfg = d.join("config.json");
    let cfg = cfg.to_str().unwrap();
    let list = String::from_utf8(run("iwp-stage", &["-c", cfg, "--list"], None).stdout).unwrap();
    let staged = run("iwp-stage", &["-c", cfg, "-q"], Some(&list));
    assert!(staged.status.success());
    let tiles = String::from_utf8(run("iwp-3dtiles", &["-c", cfg, "--list"], None).stdout).unwrap();
    let style = ["--style", "iwp_coverage", "--colour-by", "Area", "--colour-range", "0", "200", "-q"];
    let made = run("iwp-3dtiles", &[&["-c", cfg], &style[..]].concat(), Some(&tiles));
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let contents = lines(&made.stdout);
    let with_file: Vec<&Value> = contents.iter().filter(|c| !c["path"].as_str().unwrap().is_empty()).collect();
    assert!(with_file.len() > 10, "{} contents", with_file.len());
    let tilesets = run(
        "iwp-3dtiles",
        &["-c", cfg, "--tileset", "--split-levels", "5", "-q"],
        Some(&String::from_utf8(made.stdout.clone()).unwrap()),
    );
    assert!(tilesets.status.success(), "{}", String::from_utf8_lossy(&tilesets.stderr));
    let files = lines(&tilesets.stdout);
    assert!(files.len() >= 3, "a root and external tilesets");
    let root = d.join("3dtiles/tileset.json");
    assert_eq!(files.last().unwrap()["path"], root.to_str().unwrap(), "the root is written last");
    for f in &files {
        let bytes = std::fs::metadata(f["path"].as_str().unwrap()).unwrap().len();
        assert_eq!(f["bytes"].as_u64(), Some(bytes), "{f}");
        assert!(f["tiles"].as_u64().unwrap() >= 1 && f["status"] == "ok", "{f}");
    }
    // A content outside dir_3dtiles is one error line; the hierarchy of the others is written.
    let stray = format!(
        "{}{{\"tms\":\"WorldCRS84Quad\",\"z\":15,\"x\":1,\"y\":1,\"path\":\"/elsewhere/1.glb\",\"region\":[0,0,1,1,0,0],\"status\":\"ok\"}}\n",
        String::from_utf8(made.stdout.clone()).unwrap()
    );
    let with_stray = run("iwp-3dtiles", &["-c", cfg, "--tileset", "-q"], Some(&stray));
    assert_eq!(with_stray.status.code(), Some(1));
    let out = lines(&with_stray.stdout);
    let errors: Vec<&Value> = out.iter().filter(|l| l["status"] == "error").collect();
    assert_eq!((errors.len(), out.len()), (1, files.len() + 1), "{out:?}");
    assert!(errors.iter().any(|e| e["error"].as_str().unwrap().contains("/elsewhere/1.glb is not under dir_3dtiles")));

    // The 3D Tiles rules, every file.
    let report = iwp_tiles3d::check::check(&root);
    assert!(report.problems.is_empty(), "{:#?}", report.problems);
    assert_eq!(report.contents, with_file.len(), "every content reached from the root");
    assert!(report.tilesets >= 3);

    // Fidelity per content, against its staged tile read by GDAL.
    let to_lonlat = {
        let ecef = SpatialRef::from_epsg(4978).unwrap();
        let mut wgs84 = SpatialRef::from_epsg(4326).unwrap();
        wgs84.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
        CoordTransform::new(&ecef, &wgs84).unwrap()
    };
    let (mut all_features, mut all_rows, mut quantized, mut worst) = (0, 0, 0, 0.0f64);
    for c in &with_file {
        let glb = std::fs::read(c["path"].as_str().unwrap()).unwrap();
        let staged = d.join(format!("staged/WorldCRS84Quad/{}/{}/{}.gpkg", c["z"], c["x"], c["y"]));
        let (rows, area, points) = staged_rows(&staged);
        assert_eq!(
            c["features"].as_u64().unwrap() as usize,
            rows,
            "{staged:?}: features = rows with their centroid in the tile"
        );
        all_features += rows;
        let got = triangle_area(&glb);
        assert!((got / area - 1.0).abs() < 1e-3, "{staged:?}: triangles {got} m² against geodesic {area} m²");
        // Every vertex back in lon/lat (by PROJ) lies within 1 cm of a source coordinate.
        let mut grid: HashMap<(i64, i64), Vec<(f64, f64)>> = HashMap::new();
        let cell = |p: (f64, f64)| ((p.0 * 1e5).floor() as i64, (p.1 * 1e5).floor() as i64);
        for p in &points {
            grid.entry(cell(*p)).or_default().push(*p);
        }
        quantized += usize::from(gltf_of(&glb)["extensionsRequired"] == serde_json::json!(["KHR_mesh_quantization"]));
        let v = ecef_vertices(&glb);
        let (mut xs, mut ys, mut zs): (Vec<f64>, Vec<f64>, Vec<f64>) =
            (v.iter().map(|p| p[0]).collect(), v.iter().map(|p| p[1]).collect(), v.iter().map(|p| p[2]).collect());
        to_lonlat.transform_coords(&mut xs, &mut ys, &mut zs).unwrap();
        for k in 0..xs.len() {
            let (lon, lat) = (xs[k], ys[k]);
            let (cx, cy) = cell((lon, lat));
            let metres = (-1..=1)
                .flat_map(|i| (-1..=1).map(move |j| (cx + i, cy + j)))
                .filter_map(|key| grid.get(&key))
                .flatten()
                .map(|s| ((lon - s.0) * 111_320.0 * lat.to_radians().cos()).hypot((lat - s.1) * 110_600.0))
                .fold(f64::INFINITY, f64::min);
            worst = worst.max(metres.hypot(zs[k]));
            assert!(
                metres < 0.01 && zs[k].abs() < 0.01,
                "{staged:?}: vertex {k} is {metres} m from its source, {} m up",
                zs[k]
            );
        }
    }
    for t in lines(tiles.as_bytes()) {
        all_rows += staged_rows(Path::new(t["path"].as_str().unwrap())).0;
    }
    assert_eq!(all_features, all_rows, "every polygon in exactly one content");
    assert!(quantized > 0, "no content has 16-bit positions (KHR_mesh_quantization)");
    eprintln!("{quantized} of {} contents quantized; farthest vertex {:.4} m from its source", with_file.len(), worst);

    // Made again: the same bytes.
    let before: Vec<(PathBuf, Vec<u8>)> =
        files_under(&d.join("3dtiles")).into_iter().map(|p| (p.clone(), std::fs::read(&p).unwrap())).collect();
    let again = run("iwp-3dtiles", &[&["-c", cfg, "--force"], &style[..]].concat(), Some(&tiles));
    assert!(again.status.success());
    let rerun = run(
        "iwp-3dtiles",
        &["-c", cfg, "--tileset", "--split-levels", "5", "-q"],
        Some(&String::from_utf8(again.stdout).unwrap()),
    );
    assert!(rerun.status.success());
    for (p, bytes) in &before {
        assert!(&std::fs::read(p).unwrap() == bytes, "{p:?} differs when made again");
    }

    // Duplicates dropped where the config says so: each content loses exactly its flagged rows.
    let dedup_dir = d.join("3dtiles-dedup");
    let sets = ["--set", "deduplicate_at=[\"3dtiles\"]", "--set"];
    let dir_set = format!("dir_3dtiles={}", dedup_dir.display());
    let deduped =
        run("iwp-3dtiles", &[&["-c", cfg], &sets[..], &[dir_set.as_str()], &style[..]].concat(), Some(&tiles));
    assert!(deduped.status.success(), "{}", String::from_utf8_lossy(&deduped.stderr));
    let (mut dropped, mut kept_rows) = (0, 0);
    for c in lines(&deduped.stdout) {
        let staged = d.join(format!("staged/WorldCRS84Quad/{}/{}/{}.gpkg", c["z"], c["x"], c["y"]));
        let dups = duplicated_rows(&staged);
        assert_eq!(c["duplicates"].as_u64().unwrap() as usize, dups, "{staged:?}");
        assert_eq!(c["features"].as_u64().unwrap() as usize, staged_rows(&staged).0 - dups, "{staged:?}");
        dropped += dups;
        kept_rows += c["features"].as_u64().unwrap() as usize;
    }
    assert!(dropped > 0 && kept_rows + dropped == all_rows, "{dropped} duplicates of {all_rows} rows");

    let Some(clients) = clients() else { return };
    let glbs: Vec<String> = with_file.iter().map(|c| c["path"].as_str().unwrap().to_string()).collect();
    let v = Command::new("node").arg(clients.join("validate-gltf.mjs")).args(&glbs).output().unwrap();
    for r in lines(&v.stdout) {
        assert!(r["errors"] == 0 && r["warnings"] == 0, "gltf-validator: {r}");
    }
    assert!(v.status.success() && lines(&v.stdout).len() == glbs.len());
    // CesiumJS over the web tiles: the tileset loads, nothing fails, nothing leaves 127.0.0.1.
    let web = run(
        "iwp-webtile",
        &["-c", cfg, "-q"],
        Some(&String::from_utf8(run("iwp-raster", &["-c", cfg, "-q"], Some(&list_staged(&d, cfg))).stdout).unwrap()),
    );
    assert!(web.status.success());
    let shot = dir.path().join("cesium.png");
    let out = Command::new("node")
        .arg(clients.join("cesium-load.mjs"))
        .args([
            "--dir",
            d.to_str().unwrap(),
            "--tileset",
            "3dtiles/tileset.json",
            "--screenshot",
            shot.to_str().unwrap(),
        ])
        .args(["--imagery-template", "web_tiles/iwp_coverage/WorldCRS84Quad/{z}/{x}/{y}.png", "--overlay"])
        .output()
        .unwrap();
    let r: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    assert!(out.status.success(), "{r}");
    // The polygons lie where the WMTS imagery has them: the same close view rendered with the
    // imagery alone and the tileset alone on a black globe. Nearly every pixel of the polygons
    // is over coloured imagery and most of the imagery's full-coverage pixels are under them,
    // clearly more than with the polygons' frame moved by 12 pixels (about 2 m there).
    let o = &r["overlay"];
    let share = |v: &Value, k: &str| v[k].as_f64().unwrap();
    assert!(o["tiles"].as_u64().unwrap() > 10_000, "{o}");
    assert!(share(o, "tiles_on_imagery") >= 0.99, "{o}");
    assert!(share(o, "bright_under_tiles") >= 0.9, "{o}");
    assert!(share(o, "bright_under_tiles") > share(&o["shifted"], "bright_under_tiles") + 0.05, "{o}");
    assert!(share(o, "tiles_on_imagery") > share(&o["shifted"], "tiles_on_imagery"), "{o}");
    assert!(r["tileLoad"].as_u64().unwrap() >= 1, "{r}");
    assert_eq!(r["tileFailed"], 0, "{r}");
    assert_eq!(r["external_requests"].as_array().unwrap().len(), 0, "{r}");
    assert!(r["leaves_loaded"].as_u64().unwrap() >= 1, "leaves loaded when zoomed in: {r}");
    assert_eq!(r["console_errors"].as_array().unwrap().len(), 0, "{r}");
    // The client reads every feature and its typed properties.
    let sample = &r["feature_sample"];
    let url = sample["url"].as_str().unwrap();
    let line = with_file
        .iter()
        .find(|c| url.ends_with(c["path"].as_str().unwrap().rsplit("3dtiles/").next().unwrap()))
        .unwrap();
    assert_eq!(sample["featuresLength"], line["features"], "{sample}");
    let p = &sample["properties"];
    assert!(p["staging_identifier"].as_str().is_some_and(|s| s.len() == 36), "{p}");
    assert!(p["staging_duplicated"].is_boolean() && p["staging_centroid_within_tile"] == true, "{p}");
    assert!(p["Area"].is_f64() && p["staging_filename"].as_str().is_some_and(|f| f.ends_with(".shp")), "{p}");

    // 3D Tiles 1.0: B3DM contents with a batch table, the same checks.
    let b3dm_dir = d.join("3dtiles-b3dm");
    let set = format!("dir_3dtiles={}", b3dm_dir.display());
    let made =
        run("iwp-3dtiles", &[&["-c", cfg, "--set", &set, "--format", "b3dm"], &style[..]].concat(), Some(&tiles));
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let b3dms: Vec<String> = lines(&made.stdout)
        .iter()
        .filter_map(|c| c["path"].as_str().filter(|p| !p.is_empty()).map(String::from))
        .collect();
    assert_eq!(b3dms.len(), with_file.len());
    assert!(b3dms.iter().all(|p| p.ends_with(".b3dm")));
    let ts = run(
        "iwp-3dtiles",
        &["-c", cfg, "--set", &set, "--tileset", "-q"],
        Some(&String::from_utf8(made.stdout).unwrap()),
    );
    assert!(ts.status.success());
    let report = iwp_tiles3d::check::check(&b3dm_dir.join("tileset.json"));
    assert!(report.problems.is_empty() && report.contents == b3dms.len(), "{:#?}", report.problems);
    let v = Command::new("node").arg(clients.join("validate-gltf.mjs")).args(&b3dms).output().unwrap();
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stdout));
    let out = Command::new("node")
        .arg(clients.join("cesium-load.mjs"))
        .args(["--dir", d.to_str().unwrap(), "--tileset", "3dtiles-b3dm/tileset.json"])
        .output()
        .unwrap();
    let r: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    assert!(
        r["tileLoad"].as_u64().unwrap() >= 1 && r["tileFailed"] == 0 && r["leaves_loaded"].as_u64().unwrap() >= 1,
        "{r}"
    );
    assert_eq!(r["external_requests"].as_array().unwrap().len(), 0, "{r}");
}

/// Staged-tile job lines for every staged tile.
fn list_staged(d: &Path, cfg: &str) -> String {
    let _ = d;
    String::from_utf8(run("iwp-raster", &["-c", cfg, "--list"], None).stdout).unwrap()
}
