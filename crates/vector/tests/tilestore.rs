//! Staged tiles written straight through SQLite (the fast path) equal those GDAL writes feature
//! by feature: every column of every type (with the dates, 64-bit integers, booleans, 16-bit
//! integers and 32-bit reals a GeoPackage input can hold, and nulls), the geometries byte for
//! byte, the layer's extent (to GDAL's rounding) and stored feature count, for new tiles, tiles
//! holding another file's rows, tiles lacking a column of the file (extended by GDAL), rows
//! replaced with `force`, and a rerun that leaves a tile as it is.

use gdal::spatial_ref::SpatialRef;
use gdal::vector::{Feature, FieldDefn, FieldValue, Geometry, LayerAccess, LayerOptions, OGRFieldType};
use gdal::{Dataset, DriverManager};
use iwp_core::config::Config;
use iwp_vector::stage::stage_file;
use iwp_vector::tilestore::{tile_path, write_tile, TileRows, TileWriter};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

type Subtype = gdal_sys::OGRFieldSubType::Type;
const FIELDS: [(&str, OGRFieldType::Type, Subtype); 8] = [
    ("Date", OGRFieldType::OFTDate, gdal_sys::OGRFieldSubType::OFSTNone),
    ("Sensor", OGRFieldType::OFTString, gdal_sys::OGRFieldSubType::OFSTNone),
    ("Area", OGRFieldType::OFTReal, gdal_sys::OGRFieldSubType::OFSTNone),
    ("Order", OGRFieldType::OFTInteger64, gdal_sys::OGRFieldSubType::OFSTNone),
    ("Count", OGRFieldType::OFTInteger, gdal_sys::OGRFieldSubType::OFSTNone),
    ("Clear", OGRFieldType::OFTInteger, gdal_sys::OGRFieldSubType::OFSTBoolean),
    ("Band", OGRFieldType::OFTInteger, gdal_sys::OGRFieldSubType::OFSTInt16),
    ("Cloud", OGRFieldType::OFTReal, gdal_sys::OGRFieldSubType::OFSTFloat32),
];

/// An input GeoPackage in EPSG:3413 of `n` small squares in a row from `x0`, every field set
/// on even features and every field null on odd ones; with `extra`, one more text column.
fn write_input(path: &Path, x0: f64, n: usize, seed: i64, extra: bool) {
    let driver = DriverManager::get_driver_by_name("GPKG").unwrap();
    let mut ds = driver.create_vector_only(path).unwrap();
    let srs = SpatialRef::from_epsg(3413).unwrap();
    let layer = ds.create_layer(LayerOptions { name: "iwp", srs: Some(&srs), ..Default::default() }).unwrap();
    for (name, kind, subtype) in FIELDS {
        let c = std::ffi::CString::new(name).unwrap();
        // SAFETY: a field definition created, added to the live layer and destroyed here.
        unsafe {
            let defn = gdal_sys::OGR_Fld_Create(c.as_ptr(), kind);
            gdal_sys::OGR_Fld_SetSubType(defn, subtype);
            assert_eq!(gdal_sys::OGR_L_CreateField(layer.c_layer(), defn, 1), gdal_sys::OGRErr::OGRERR_NONE);
            gdal_sys::OGR_Fld_Destroy(defn);
        }
    }
    if extra {
        FieldDefn::new("Extra", OGRFieldType::OFTString).unwrap().add_to_layer(&layer).unwrap();
    }
    let layer = ds.layer(0).unwrap();
    // Polar stereographic metres near 70 N, 149 W: squares of 8 m, 20 m apart, across z15 tiles.
    let (cx, cy) = (-2_300_000.0, 190_000.0);
    for k in 0..n {
        let mut f = Feature::new(layer.defn()).unwrap();
        let i = k as i64 + seed;
        if k % 2 == 0 {
            let date =
                chrono::NaiveDate::from_ymd_opt(2010 + (i % 10) as i32, 1 + (i % 12) as u32, 1 + (i % 28) as u32);
            f.set_field(0, &FieldValue::DateValue(date.unwrap())).unwrap();
            f.set_field_string(1, &format!("WV0{} 'q\"", i % 4)).unwrap();
            f.set_field_double(2, 12.5 + i as f64 / 7.0).unwrap();
            f.set_field_integer64(3, (1 << 40) + i).unwrap();
            f.set_field_integer(4, -(i as i32)).unwrap();
            f.set_field_integer(5, (i % 2) as i32).unwrap();
            f.set_field_integer(6, (i % 300) as i32).unwrap();
            f.set_field_double(7, 0.1 + i as f64 / 3.0).unwrap();
            if extra {
                f.set_field_string(8, &format!("x{i}")).unwrap();
            }
        }
        let (x, y) = (cx + x0 + 20.0 * k as f64, cy + 3.0 * (k % 5) as f64);
        let wkt = format!("POLYGON (({x} {y}, {} {y}, {} {}, {x} {}, {x} {y}))", x + 8.0, x + 8.0, y + 8.0, y + 8.0);
        f.set_geometry(Geometry::from_wkt(&wkt).unwrap()).unwrap();
        f.create(&layer).unwrap();
    }
}

/// Every tile under `dir`: its extent, stored feature count and rows (geometry WKB and every
/// field as GDAL reads it), by path relative to `dir`.
type Rows = Vec<(Vec<u8>, Vec<Option<FieldValue>>)>;
fn read_tiles(dir: &Path) -> BTreeMap<PathBuf, (String, [f64; 4], Rows)> {
    let mut out = BTreeMap::new();
    for e in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let p = e.unwrap().into_path();
        if p.extension().is_none_or(|e| e != "gpkg") {
            continue;
        }
        let ds = Dataset::open(&p).unwrap();
        let mut layer = ds.layer(0).unwrap();
        let names: Vec<String> = layer.defn().fields().map(|f| f.name()).collect();
        let mut rows = Vec::new();
        for f in layer.features() {
            let values = (0..names.len()).map(|i| f.field(i).unwrap()).collect();
            rows.push((f.geometry().unwrap().wkb().unwrap(), values));
        }
        // Stored figures, not recomputed ones: the extent and count GDAL's readers take as given.
        let conn = rusqlite::Connection::open(&p).unwrap();
        let extent: [f64; 4] = conn
            .query_row("SELECT min_x, min_y, max_x, max_y FROM gpkg_contents", [], |r| {
                Ok([r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?])
            })
            .unwrap();
        let count: Option<i64> =
            conn.query_row("SELECT feature_count FROM gpkg_ogr_contents", [], |r| r.get(0)).unwrap();
        assert_eq!(count, Some(rows.len() as i64), "{}: stored feature count", p.display());
        // GDAL's triggers (feature count, ...) as GDAL left them.
        let mut stmt = conn.prepare("SELECT sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name").unwrap();
        let triggers: Vec<String> = stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
        assert!(triggers.iter().any(|t| t.contains("feature_count")), "{}: {triggers:?}", p.display());
        out.insert(p.strip_prefix(dir).unwrap().to_path_buf(), (format!("{names:?} {triggers:?}"), extent, rows));
    }
    out
}

#[test]
fn tiles_written_through_sqlite_equal_tiles_written_by_gdal() {
    let dir = tempfile::tempdir().unwrap();
    let root = &dir.path().to_path_buf();
    let root = &std::env::var("KEEP").map(PathBuf::from).unwrap_or(root.clone());
    std::fs::create_dir_all(root.join("input")).unwrap();
    // Overlapping files: b's squares start in the middle of a's row, so tiles hold both; c, with
    // one more column, goes over both (tiles that lack its column are GDAL's to extend).
    write_input(&root.join("input/a.gpkg"), 0.0, 120, 0, false);
    write_input(&root.join("input/b.gpkg"), 1200.0, 120, 1000, false);
    write_input(&root.join("input/c.gpkg"), 600.0, 150, 2000, true);
    let overrides = vec![
        ("dir_input".to_string(), serde_json::json!(root.join("input"))),
        ("ext_input".to_string(), serde_json::json!(".gpkg")),
        ("dir_staged".to_string(), serde_json::json!(root.join("staged"))),
        ("filename_staging_summary".to_string(), serde_json::json!(root.join("summary.csv"))),
        ("z_range".to_string(), serde_json::json!([11, 15])),
    ];
    let config = Config::load(None, &overrides).unwrap();
    let a = stage_file(&config, &root.join("input/a.gpkg"), None, None).unwrap();
    let b = stage_file(&config, &root.join("input/b.gpkg"), None, None).unwrap();
    let c = stage_file(&config, &root.join("input/c.gpkg"), None, None).unwrap();
    let shared = a.tiles.keys().filter(|t| b.tiles.contains_key(t)).count();
    assert!(a.tiles.len() > 1 && shared > 0, "{} tiles, {shared} shared", a.tiles.len());

    let mut trees = Vec::new();
    for by in [TileWriter::Sqlite, TileWriter::Gdal] {
        let out = root.join(format!("{by:?}"));
        let (mut added, mut extended) = (Vec::new(), 0);
        // a, then b into the same tiles, then c, then a again (left as it is), then a with force.
        for (file, force) in [(&a, false), (&b, false), (&c, false), (&a, false), (&a, true)] {
            for (tile, rows) in &file.tiles {
                let lacks_column = std::ptr::eq(file, &c) && tile_path(&config, &out, *tile).exists();
                let w = write_tile(&config, &out, TileRows { file, tile: *tile, rows, force }, by).unwrap();
                extended += usize::from(lacks_column);
                let expected = if lacks_column { TileWriter::Gdal } else { by };
                assert_eq!(w.by, expected, "{tile}");
                added.push((w.added, w.features, (w.area * 1e6).round()));
            }
        }
        assert!(extended > 0, "c met no tile lacking its column");
        trees.push((read_tiles(&out), added));
    }
    let (sql, gdal) = (&trees[0], &trees[1]);
    assert_eq!(sql.1, gdal.1, "rows added, features and areas per write");
    let all_tiles: std::collections::BTreeSet<_> = a.tiles.keys().chain(b.tiles.keys()).chain(c.tiles.keys()).collect();
    assert_eq!(sql.0.len(), all_tiles.len());
    for ((path, s), (_, g)) in sql.0.iter().zip(&gdal.0) {
        assert_eq!(s.0, g.0, "{}: schema", path.display());
        // GDAL stores the extent rounded to 15 or 16 significant digits; ours is exact.
        for (a, b) in s.1.iter().zip(&g.1) {
            assert!((a - b).abs() <= 1e-13 * a.abs(), "{}: extent {:?} vs {:?}", path.display(), s.1, g.1);
        }
        assert_eq!(s.2, g.2, "{}: rows", path.display());
    }
    // Every kind of value made it through, nulls too.
    let all: Vec<&Option<FieldValue>> = sql.0.values().flat_map(|t| t.2.iter().flat_map(|r| &r.1)).collect();
    assert!(all.iter().any(|v| matches!(v, Some(FieldValue::DateValue(_)))));
    assert!(all.iter().any(|v| matches!(v, Some(FieldValue::Integer64Value(v)) if *v > 1 << 40)));
    assert!(all.iter().any(|v| v.is_none()));
}
