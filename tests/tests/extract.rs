//! iwp-extract on generated data: the COG of an area equals its GeoTIFF tiles pixel for pixel
//! inside the area and is NaN outside (rio-cogeo: a valid COG, with overviews); the GeoPackage
//! holds each polygon meeting the area once, every column, as many as ogr2ogr's own spatial
//! filter finds in the staged tiles; warped extracts, polygon areas, skipping and errors.

use gdal::vector::LayerAccess;
use gdal::{Dataset, Metadata};
use iwp_tests::{clients, lines, rasterized, run};
use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::process::Command;

/// West, south, east, north of the z15 tiles of raster lines (WorldCRS84Quad).
fn data_box(raster_lines: &str) -> [f64; 4] {
    let mut b = [f64::MAX, f64::MAX, f64::MIN, f64::MIN];
    for l in lines(raster_lines.as_bytes()) {
        if l["z"] != 15 {
            continue;
        }
        let span = 180.0 / f64::from(1u32 << 15);
        let (x, y) = (l["x"].as_f64().unwrap(), l["y"].as_f64().unwrap());
        let (w, n) = (-180.0 + x * span, 90.0 - y * span);
        b = [b[0].min(w), b[1].min(n - span), b[2].max(w + span), b[3].max(n)];
    }
    b
}

/// The middle of a box: `f` of its width and height, around its centre, nudged off the pixel grid.
fn middle(b: [f64; 4], f: f64) -> [f64; 4] {
    let (cx, cy, hw, hh) = ((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0, (b[2] - b[0]) * f / 2.0, (b[3] - b[1]) * f / 2.0);
    [cx - hw + 1.3e-6, cy - hh + 2.9e-6, cx + hw - 3.7e-6, cy + hh - 1.1e-6]
}

fn bbox_arg(b: [f64; 4]) -> String {
    format!("--bbox={},{},{},{}", b[0], b[1], b[2], b[3])
}

/// `rio cogeo validate` says the file is a valid COG (it exits 0 either way; its words differ).
fn assert_valid_cog(clients: &Path, cog: &str) {
    let out = Command::new(clients.join(".venv/bin/rio")).args(["cogeo", "validate", cog]).output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && said.contains("is a valid cloud optimized GeoTIFF"),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Rows of the staged tiles that OGR's own spatial filter (ogr2ogr -spat, or -clipsrc for a
/// polygon) finds meeting the area with their centroid in their tile, and of those the flagged ones.
fn ogr_count(staged: &Path, area: &[String]) -> (u64, u64) {
    let (mut rows, mut dups) = (0, 0);
    for tile in iwp_tests::files_under(staged).into_iter().filter(|p| p.extension().is_some_and(|e| e == "gpkg")) {
        let out = Command::new("ogr2ogr")
            .args([
                "-f",
                "CSV",
                "/vsistdout/",
                "-where",
                "staging_centroid_within_tile = 1",
                "-select",
                "staging_duplicated",
            ])
            .args(area)
            .arg(&tile)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8(out.stdout).unwrap();
        for row in text.lines().skip(1) {
            rows += 1;
            dups += u64::from(row.split(',').next().unwrap_or_default().trim_matches('"') == "1");
        }
    }
    (rows, dups)
}

/// The `staging_identifier` of every row of a GeoPackage (those `filter` selects), by ogr2ogr.
fn identifiers(gpkg: &str, filter: Option<&str>) -> Vec<String> {
    let mut c = Command::new("ogr2ogr");
    c.args(["-f", "CSV", "/vsistdout/", "-select", "staging_identifier"]);
    if let Some(f) = filter {
        c.args(["-where", f]);
    }
    let out = c.arg(gpkg).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().skip(1).map(String::from).collect()
}

/// Every pixel of the COG: inside `area` (pixel centre) and on a tile, the tile's value bit for
/// bit; else NaN. Returns the pixels compared with tiles.
fn assert_cog_equals_tiles(cog: &str, geotiff: &Path, area: [f64; 4]) -> usize {
    let ds = Dataset::open(cog).unwrap();
    let gt = ds.geo_transform().unwrap();
    let (w, h) = ds.raster_size();
    let res = 180.0 / f64::from(1u32 << 15) / 256.0;
    assert_eq!(gt[1], res);
    let (gx0, gy0) = (((gt[0] + 180.0) / res).round() as i64, ((90.0 - gt[3]) / res).round() as i64);
    assert!(((gx0 as f64) * res - 180.0 - gt[0]).abs() < 1e-9, "the COG is on the tiles' pixel grid");
    let mut tiles: HashMap<(i64, i64), Option<Vec<Vec<f64>>>> = HashMap::new();
    let mut compared = 0;
    for b in 1..=ds.raster_count() {
        let band = ds.rasterband(b).unwrap();
        assert!(band.overview_count().unwrap() >= 1, "overviews");
        assert!(band.no_data_value().unwrap().is_nan());
        let data = band.read_as::<f64>((0, 0), (w, h), (w, h), None).unwrap();
        for row in 0..h {
            for col in 0..w {
                let (gx, gy) = (gx0 + col as i64, gy0 + row as i64);
                let (lon, lat) = (gt[0] + (col as f64 + 0.5) * res, gt[3] - (row as f64 + 0.5) * res);
                let tile = tiles.entry((gx / 256, gy / 256)).or_insert_with(|| {
                    let path = geotiff.join(format!("WorldCRS84Quad/15/{}/{}.tif", gx / 256, gy / 256));
                    Dataset::open(&path).ok().map(|t| {
                        (1..=t.raster_count())
                            .map(|k| {
                                t.rasterband(k)
                                    .unwrap()
                                    .read_as::<f64>((0, 0), (256, 256), (256, 256), None)
                                    .unwrap()
                                    .data()
                                    .to_vec()
                            })
                            .collect()
                    })
                });
                let got = data.data()[row * w + col];
                let inside = lon > area[0] && lon < area[2] && lat > area[1] && lat < area[3];
                match (inside, tile) {
                    (true, Some(t)) => {
                        let want = t[b - 1][(gy % 256 * 256 + gx % 256) as usize];
                        assert_eq!(got.to_bits(), want.to_bits(), "band {b} pixel {col},{row}");
                        compared += 1;
                    }
                    _ => assert!(
                        got.is_nan(),
                        "band {b} pixel {col},{row} ({lon}, {lat}) outside the area or tiles is {got}"
                    ),
                }
            }
        }
    }
    compared
}

#[test]
fn an_area_is_a_cog_of_its_tiles_and_a_geopackage_of_its_polygons() {
    let clients = clients();
    let dir = tempfile::tempdir().unwrap();
    let (cfg, raster_lines) = rasterized(dir.path(), "20000", "3", ["13", "15"]);
    let area = middle(data_box(&raster_lines), 0.5);
    let out = run("iwp-extract", &["-c", &cfg, &bbox_arg(area), "--name", "middle"], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let line = &lines(&out.stdout)[0];
    let cog = line["cog"].as_str().unwrap().to_string();
    assert!(cog.ends_with("extracts/iwp_z15_middle.tif"), "{line}");
    assert!(line["gpkg"].as_str().unwrap().ends_with("extracts/iwp_polygons_middle.gpkg"), "{line}");
    assert_eq!(line["crs"], "EPSG:4326");
    assert_eq!((line["status"].as_str(), line["skipped"].as_bool()), (Some("ok"), Some(false)));

    let compared = assert_cog_equals_tiles(&cog, &dir.path().join("geotiff"), area);
    assert!(compared > 100_000, "{compared} pixels compared");
    if let Some(c) = &clients {
        assert_valid_cog(c, &cog);
    }
    let ds = Dataset::open(&cog).unwrap();
    let names: Vec<String> = ds.rasterbands().map(|b| b.unwrap().description().unwrap()).collect();
    assert_eq!(names, ["iwp_count", "iwp_coverage"]);
    assert_eq!(line["size"], serde_json::json!([ds.raster_size().0, ds.raster_size().1]));

    // The polygons: as many as OGR finds, the duplicates kept with their flag, each once, every column.
    let spat: Vec<String> = ["-spat".to_string()].into_iter().chain(area.iter().map(|v| v.to_string())).collect();
    let (rows, dups) = ogr_count(&dir.path().join("staged"), &spat);
    assert!(rows > 1000 && dups > 0, "{rows} rows, {dups} duplicates");
    assert_eq!((line["polygons"].as_u64(), line["duplicates"].as_u64()), (Some(rows), Some(dups)), "{line}");
    assert_eq!(line["duplicates_kept"], true);
    let gpkg = line["gpkg"].as_str().unwrap();
    let ids = identifiers(gpkg, None);
    assert_eq!(ids.len() as u64, rows);
    assert_eq!(ids.iter().collect::<BTreeSet<_>>().len(), ids.len(), "each polygon once");
    let fields = |path: &str| {
        let d = Dataset::open(path).unwrap();
        let layer = d.layer(0).unwrap();
        (layer.name(), layer.defn().fields().map(|f| f.name()).collect::<Vec<_>>())
    };
    let staged = iwp_tests::files_under(&dir.path().join("staged"))
        .into_iter()
        .find(|p| p.extension().is_some_and(|e| e == "gpkg"))
        .unwrap();
    assert_eq!(fields(gpkg), fields(staged.to_str().unwrap()), "the layer and every column kept");
    assert_eq!(
        line["bytes"].as_u64().unwrap(),
        std::fs::metadata(&cog).unwrap().len() + std::fs::metadata(gpkg).unwrap().len()
    );
    // Band summaries over the area, NaN left out.
    let count_sum: f64 = {
        let b = ds.rasterband(1).unwrap();
        let (w, h) = ds.raster_size();
        b.read_as::<f64>((0, 0), (w, h), (w, h), None).unwrap().data().iter().filter(|v| !v.is_nan()).sum()
    };
    assert_eq!(line["iwp_count_sum"].as_f64().unwrap(), count_sum);

    // A box whose west edge lies just east of a tile boundary: polygons reaching into it from the
    // tile to the west (their centroid there, outside every tile the box meets) are in it too.
    let span = 180.0 / f64::from(1u32 << 15);
    let edge = [((area[0] + 180.0) / span).ceil() * span - 180.0 + 1e-6, area[1], area[2], area[3]];
    let out = run("iwp-extract", &["-c", &cfg, &bbox_arg(edge), "--name", "edge"], None);
    let l = &lines(&out.stdout)[0];
    let spat: Vec<String> = ["-spat".to_string()].into_iter().chain(edge.iter().map(|v| v.to_string())).collect();
    let (edge_rows, _) = ogr_count(&dir.path().join("staged"), &spat);
    assert_eq!(l["polygons"].as_u64(), Some(edge_rows), "{l}");
    let ids = identifiers(l["gpkg"].as_str().unwrap(), None);
    assert_eq!(ids.iter().collect::<BTreeSet<_>>().len() as u64, edge_rows, "each polygon once");
    let from_outside = identifiers(l["gpkg"].as_str().unwrap(), Some("staging_centroid_within_tile = 0")).len();
    assert!(from_outside > 0, "the box meets polygons whose centroid is outside its tiles");

    // Again: both files are there, nothing is written; dropped duplicates when the config says so.
    let again = run("iwp-extract", &["-c", &cfg, &bbox_arg(area), "--name", "middle"], None);
    let l2 = &lines(&again.stdout)[0];
    assert_eq!((l2["skipped"].as_bool(), l2["polygons"].as_u64()), (Some(true), Some(rows)), "{l2}");
    assert_eq!((l2["duplicates"].as_u64(), l2["bytes"].as_u64()), (Some(dups), line["bytes"].as_u64()), "{l2}");
    let dropped = run(
        "iwp-extract",
        &["-c", &cfg, "--set", r#"deduplicate_at=["raster","extract"]"#, &bbox_arg(area), "--name", "nodups"],
        None,
    );
    let l3 = &lines(&dropped.stdout)[0];
    assert_eq!(
        (l3["polygons"].as_u64(), l3["duplicates"].as_u64(), l3["duplicates_kept"].as_bool()),
        (Some(rows - dups), Some(dups), Some(false)),
        "{l3}"
    );
}

#[test]
fn a_polygon_area_warped_to_another_crs_and_a_batch_of_areas() {
    let clients = clients();
    let dir = tempfile::tempdir().unwrap();
    let (cfg, raster_lines) = rasterized(dir.path(), "8000", "2", ["14", "15"]);
    let b = middle(data_box(&raster_lines), 0.6);
    // A triangle in a GeoPackage (longitude, latitude: straight edges in the tiles' CRS, as
    // ogr2ogr clips by them).
    let tri = dir.path().join("site triangle.gpkg");
    let wkt =
        format!("POLYGON(({} {},{} {},{} {},{} {}))", b[0], b[1], b[2], b[1], (b[0] + b[2]) / 2.0, b[3], b[0], b[1]);
    let made = Command::new("ogr2ogr")
        .args(["-f", "GPKG", "-a_srs", "EPSG:4326", "-nln", "site"])
        .arg(&tri)
        .args(["-dialect", "SQLite", "-sql", &format!("SELECT GeomFromText('{wkt}', 4326) AS geom")])
        .arg(":memory:")
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let jobs = format!(
        "{}\n{}\n",
        serde_json::json!({"area": tri.to_str().unwrap(), "z": 14}),
        serde_json::json!({"bbox": [0.0, 0.0, 1.0, 1.0], "name": "gulf of guinea"})
    );
    let out = run("iwp-extract", &["-c", &cfg, "--t-srs", "EPSG:3413"], Some(&jobs));
    assert_eq!(out.status.code(), Some(1), "one area is outside the data: {}", String::from_utf8_lossy(&out.stderr));
    let ls = lines(&out.stdout);
    let ok = ls.iter().find(|l| l["status"] == "ok").expect("the triangle's line");
    let err = ls.iter().find(|l| l["status"] == "error").expect("the outside area's line");
    assert!(err["error"].as_str().unwrap().contains("outside the data"), "{err}");
    assert_eq!(err["name"], "gulf of guinea");
    let cog = ok["cog"].as_str().unwrap();
    assert!(cog.ends_with("iwp_z14_site_triangle_epsg3413.tif"), "{ok}");
    assert_eq!(ok["crs"], "EPSG:3413");
    let ds = Dataset::open(cog).unwrap();
    assert!(ds.spatial_ref().unwrap().to_wkt().unwrap().contains("3413"));
    if let Some(c) = &clients {
        assert_valid_cog(c, cog);
    }
    // Pixels outside the triangle are NaN: the corners of the warped box are outside it.
    let (w, h) = ds.raster_size();
    let px = ds.rasterband(1).unwrap().read_as::<f64>((0, 0), (w, h), (w, h), None).unwrap();
    let px = px.data();
    let nan = px.iter().filter(|v| v.is_nan()).count();
    assert!(px[0].is_nan() && nan > w * h / 4 && nan < w * h * 3 / 4, "{nan} of {} NaN", w * h);
    // The polygons: as many as ogr2ogr clipping by the same triangle keeps.
    let (rows, _) = ogr_count(&dir.path().join("staged"), &["-clipsrc".to_string(), wkt]);
    assert_eq!(ok["polygons"].as_u64(), Some(rows), "{ok}");

    // A box given in EPSG:3413 (polar stereographic metres): the data's middle, through PROJ.
    let to_3413 = |lon: f64, lat: f64| {
        let t = gdal::spatial_ref::CoordTransform::new(&srs("EPSG:4326"), &srs("EPSG:3413")).unwrap();
        let (mut x, mut y, mut z) = ([lon], [lat], [0.0]);
        t.transform_coords(&mut x, &mut y, &mut z).unwrap();
        (x[0], y[0])
    };
    let (cx, cy) = to_3413((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0);
    let box3413 = [cx - 600.0, cy - 400.0, cx + 600.0, cy + 400.0];
    let out = run("iwp-extract", &["-c", &cfg, &bbox_arg(box3413), "--bbox-crs", "EPSG:3413", "--name", "polar"], None);
    let l = &lines(&out.stdout)[0];
    assert_eq!(l["status"], "ok", "{l}");
    assert_eq!(l["crs"], "EPSG:4326", "the tiles' CRS: {l}");
    // ogr2ogr's own reprojected filter (its box's corners joined straight in longitude/latitude,
    // where ours follows the box's curved edges: a polygon or two may differ on an edge).
    let spat: Vec<String> = ["-spat_srs", "EPSG:3413", "-spat"]
        .iter()
        .map(|s| s.to_string())
        .chain(box3413.iter().map(|v| v.to_string()))
        .collect();
    let (rows, _) = ogr_count(&dir.path().join("staged"), &spat);
    let got = l["polygons"].as_u64().unwrap();
    assert!(rows > 100 && got.abs_diff(rows) <= 2, "{got} polygons, ogr2ogr {rows}");
}

/// A CRS in longitude, latitude order.
fn srs(code: &str) -> gdal::spatial_ref::SpatialRef {
    let mut s = gdal::spatial_ref::SpatialRef::from_definition(code).unwrap();
    s.set_axis_mapping_strategy(gdal::spatial_ref::AxisMappingStrategy::TraditionalGisOrder);
    s
}

#[test]
fn bad_areas_get_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (cfg, _) = rasterized(dir.path(), "2000", "1", ["14", "15"]);
    let cases = [
        (vec!["--bbox=0,0,1,1", "--bbox-crs", "EPSG:999999"], "`EPSG:999999` is not a CRS GDAL knows"),
        (vec!["--area", "/nonexistent/area.geojson"], "cannot read the area file /nonexistent/area.geojson"),
        (vec!["--bbox=1,0,0,1"], "not min x, min y, max x, max y"),
        (vec!["--bbox=0,0,1,1", "--z", "9"], "z 9 is outside z_range [14, 15]"),
    ];
    for (args, message) in cases {
        let out = run("iwp-extract", &[&["-c", cfg.as_str()][..], &args].concat(), None);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let l = &lines(&out.stdout)[0];
        assert!(l["error"].as_str().unwrap().contains(message), "{args:?}: {l}");
    }
    let out = run("iwp-extract", &["-c", &cfg, "--bbox=0,0,1,1", "--t-srs", "EPSG:0"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--t-srs"), "{}", String::from_utf8_lossy(&out.stderr));
    for (args, message) in [
        (vec!["--bbox=0,0,1,1", "--input", "areas.ndjson"], "not both"),
        (vec!["--name", "x"], "--name names the area of --bbox or --area"),
    ] {
        let out = run("iwp-extract", &[&["-c", cfg.as_str()][..], &args].concat(), Some(""));
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains(message), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let out = run("iwp-extract", &["-c", &cfg, "--bbox=0,0,1"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("4 numbers are needed, 3 given"));
}
