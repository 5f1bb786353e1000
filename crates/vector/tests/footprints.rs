//! Footprints read from GeoPackages straight through SQLite (the footprint index's fast path)
//! equal GDAL's reading of the same file: shapes (holes, multipolygon parts, several features),
//! the CRS, and keep-rule values of every field type (text, integer, real, date, datetime with
//! and without an offset or fraction, null). The relative-path rule is checked too.

use gdal::spatial_ref::SpatialRef;
use gdal::vector::{Feature, FieldDefn, FieldValue, Geometry, LayerAccess, LayerOptions, OGRFieldType};
use gdal::DriverManager;
use iwp_core::config::KeepRule;
use iwp_core::files::relative_within;
use iwp_vector::footprints::{read_footprint_with_gdal, read_gpkg_footprint};
use std::path::Path;

const FIELDS: [(&str, OGRFieldType::Type); 5] = [
    ("Date", OGRFieldType::OFTDate),
    ("Stamp", OGRFieldType::OFTDateTime),
    ("Sensor", OGRFieldType::OFTString),
    ("Cloud", OGRFieldType::OFTReal),
    ("Order", OGRFieldType::OFTInteger64),
];

/// A footprint GeoPackage in `epsg` with two features; `stamp` is the first one's datetime.
fn write(path: &Path, epsg: u32, stamp: Option<chrono::DateTime<chrono::FixedOffset>>) {
    let driver = DriverManager::get_driver_by_name("GPKG").unwrap();
    let mut ds = driver.create_vector_only(path).unwrap();
    let srs = SpatialRef::from_epsg(epsg).unwrap();
    let layer = ds.create_layer(LayerOptions { name: "fp", srs: Some(&srs), ..Default::default() }).unwrap();
    for (name, kind) in FIELDS {
        FieldDefn::new(name, kind).unwrap().add_to_layer(&layer).unwrap();
    }
    let layer = ds.layer(0).unwrap();
    let shapes = [
        "MULTIPOLYGON (((0 0, 100 0, 100 100, 0 100, 0 0), (10 10, 10 20, 20 20, 20 10, 10 10)), ((200 0, 300 0, 300 50, 200 0)))",
        "POLYGON ((500 500, 600 500, 600 600, 500 500))",
    ];
    for (k, wkt) in shapes.iter().enumerate() {
        let mut f = Feature::new(layer.defn()).unwrap();
        if k == 0 {
            f.set_field(0, &FieldValue::DateValue(chrono::NaiveDate::from_ymd_opt(2019, 9, 3).unwrap())).unwrap();
            if let Some(s) = stamp {
                f.set_field_datetime(1, s).unwrap();
            }
            f.set_field_string(2, "WV03").unwrap();
            f.set_field_double(3, 0.25).unwrap();
            f.set_field_integer64(4, 1 << 40).unwrap();
        }
        f.set_geometry(Geometry::from_wkt(wkt).unwrap()).unwrap();
        f.create(&layer).unwrap();
    }
}

#[test]
fn sqlite_reading_equals_gdal_reading() {
    let dir = tempfile::tempdir().unwrap();
    let rules: Vec<KeepRule> =
        FIELDS.iter().map(|(name, _)| KeepRule { property: name.to_lowercase(), larger: true }).collect();
    let offset = |h: i32| chrono::FixedOffset::east_opt(h * 3600).unwrap();
    let stamps = [
        None,
        Some(chrono::DateTime::parse_from_rfc3339("2020-07-01T12:34:56Z").unwrap()),
        Some(chrono::DateTime::parse_from_rfc3339("2020-07-01T12:34:56.789Z").unwrap()),
        Some(chrono::DateTime::parse_from_rfc3339("2020-07-01T12:34:56+02:00").unwrap().with_timezone(&offset(2))),
    ];
    for (k, stamp) in stamps.into_iter().enumerate() {
        for epsg in [3413, 4326] {
            let path = dir.path().join(format!("fp{k}-{epsg}.gpkg"));
            write(&path, epsg, stamp);
            let fast = read_gpkg_footprint(&path, "x.shp", &rules).unwrap();
            let gdal = read_footprint_with_gdal(&path, "x.shp", &rules).unwrap();
            assert_eq!(fast.shape, gdal.shape, "{}", path.display());
            assert_eq!(fast.shape.0.len(), 3, "two parts and one polygon");
            assert_eq!(fast.rank, gdal.rank, "{}", path.display());
            let same =
                SpatialRef::from_definition(&fast.srs_wkt).unwrap() == SpatialRef::from_wkt(&gdal.srs_wkt).unwrap();
            assert!(same, "{} vs {}", fast.srs_wkt, gdal.srs_wkt);
        }
    }
    // A missing keep-rule field is the same error either way.
    let path = dir.path().join("fp0-3413.gpkg");
    let rules = [KeepRule { property: "Acquired".into(), larger: true }];
    let fast = read_gpkg_footprint(&path, "x.shp", &rules).unwrap_err().to_string();
    let gdal = read_footprint_with_gdal(&path, "x.shp", &rules).unwrap_err().to_string();
    assert_eq!(fast, gdal);
    assert!(fast.contains("no field `Acquired`"), "{fast}");
}

#[test]
fn relative_paths_do_not_depend_on_spelling_or_links() {
    let d = tempfile::tempdir().unwrap();
    let real = d.path().join("real/input");
    std::fs::create_dir_all(real.join("sub")).unwrap();
    std::fs::write(real.join("sub/a.shp"), b"").unwrap();
    std::os::unix::fs::symlink(&real, d.path().join("link")).unwrap();
    // A folder of links to files kept elsewhere.
    std::fs::create_dir(d.path().join("farm")).unwrap();
    std::os::unix::fs::symlink(real.join("sub/a.shp"), d.path().join("farm/a.shp")).unwrap();
    let want = Path::new("sub/a.shp");
    let cases = [
        (real.join("sub/a.shp"), real.clone()),
        (real.join("sub/../sub/./a.shp"), real.join("../input")),
        (d.path().join("link/sub/a.shp"), real.clone()),
        (real.join("sub/a.shp"), d.path().join("link")),
        (d.path().join("link/sub/a.shp"), d.path().join("link/.")),
    ];
    for (path, dir) in &cases {
        assert_eq!(relative_within(path, dir).as_deref(), Some(want), "{} in {}", path.display(), dir.display());
    }
    assert_eq!(
        relative_within(&d.path().join("farm/a.shp"), &d.path().join("farm")).as_deref(),
        Some(Path::new("a.shp"))
    );
    assert_eq!(relative_within(&d.path().join("farm/a.shp"), &real).as_deref(), Some(want), "a link into the folder");
    assert_eq!(relative_within(&d.path().join("elsewhere.shp"), &real), None);
    // Relative spellings against the working directory.
    let cwd = std::env::current_dir().unwrap();
    let rel = pathdiff(&real.join("sub/a.shp"), &cwd);
    assert_eq!(relative_within(&rel, &real).as_deref(), Some(want));
}

/// `path` relative to `base` through `..` (both absolute).
fn pathdiff(path: &Path, base: &Path) -> std::path::PathBuf {
    let ups = base.components().count() - 1;
    let mut out = std::path::PathBuf::new();
    for _ in 0..ups {
        out.push("..");
    }
    out.join(path.strip_prefix("/").unwrap())
}
