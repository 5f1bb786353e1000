//! GeoPackage tables read with SQLite and geozero agree with OGR's reading of the same file:
//! polygons with holes, multipolygon parts, other geometry types, empty and null geometries,
//! and column values.

use gdal::vector::{FieldValue, Geometry, LayerAccess, LayerOptions, OGRFieldType, OGRwkbGeometryType};
use gdal::{Dataset, DriverManager};
use iwp_vector::geom::polygons_of;
use iwp_vector::gpkg::{number, FeatureTable};

const ROWS: [(&str, Option<f64>); 6] = [
    ("POLYGON ((0 0, 10 0, 10 10, 0 10, 0 0), (2 2, 2 4, 4 4, 4 2, 2 2))", Some(1.5)),
    ("MULTIPOLYGON (((20 20, 21 20, 21 21, 20 20)), ((30 30, 31 30, 31 31, 30 31, 30 30)))", Some(-2.0)),
    ("LINESTRING (0 0, 5 5)", None),
    ("POLYGON EMPTY", Some(4.0)),
    ("POINT (1 2)", Some(5.0)),
    ("POLYGON ((-148.91 70.11, -148.90 70.11, -148.905 70.12, -148.91 70.11))", Some(0.1)),
];

fn write_sample(path: &std::path::Path) {
    let driver = DriverManager::get_driver_by_name("GPKG").unwrap();
    let mut ds = driver.create_vector_only(path).unwrap();
    let layer = ds
        .create_layer(LayerOptions { name: "tile", ty: OGRwkbGeometryType::wkbUnknown, ..Default::default() })
        .unwrap();
    gdal::vector::FieldDefn::new("v", OGRFieldType::OFTReal).unwrap().add_to_layer(&layer).unwrap();
    gdal::vector::FieldDefn::new("n", OGRFieldType::OFTInteger).unwrap().add_to_layer(&layer).unwrap();
    let layer = ds.layer(0).unwrap();
    for (wkt, v) in ROWS {
        let mut f = gdal::vector::Feature::new(layer.defn()).unwrap();
        f.set_geometry(Geometry::from_wkt(wkt).unwrap()).unwrap();
        if let Some(v) = v {
            f.set_field_double(0, v).unwrap();
        }
        f.create(&layer).unwrap();
    }
    // A row without geometry.
    let mut f = gdal::vector::Feature::new(layer.defn()).unwrap();
    f.set_field_integer(1, 7).unwrap();
    f.create(&layer).unwrap();
}

#[test]
fn rows_agree_with_ogr() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.gpkg");
    write_sample(&path);

    let ds = Dataset::open(&path).unwrap();
    let mut layer = ds.layer(0).unwrap();
    let ogr: Vec<_> = layer
        .features()
        .map(|f| {
            let polygons = f.geometry().map(polygons_of).unwrap_or_default();
            let v = match f.field(0).unwrap() {
                Some(FieldValue::RealValue(v)) => Some(v),
                _ => None,
            };
            let n = match f.field(1).unwrap() {
                Some(FieldValue::IntegerValue(n)) => Some(f64::from(n)),
                _ => None,
            };
            (polygons, v, n)
        })
        .collect();

    // Read whole into memory (tiles) and page by page (large files): the same rows.
    for whole_max in [u64::MAX, 0] {
        let table = FeatureTable::open_reading_whole(&path, whole_max).unwrap();
        same_rows_as_ogr(&table, &ogr);
    }
}

/// The table's rows against OGR's features, in row order.
fn same_rows_as_ogr(table: &FeatureTable, ogr: &[(Vec<iwp_vector::geom::Polygon>, Option<f64>, Option<f64>)]) {
    assert_eq!(table.name, "tile");
    assert!(table.has_column("v") && table.has_column("n") && !table.has_column("w"));
    let mut ours = Vec::new();
    table
        .for_each_row(&["v", "n"], |polygons, row| {
            let polygons: Vec<_> = (0..polygons.len()).map(|i| polygons.polygon(i)).collect();
            ours.push((polygons, number(row.get(0)?)?, number(row.get(1)?)?));
            Ok(())
        })
        .unwrap();
    assert_eq!(ours.len(), ROWS.len() + 1);
    assert_eq!(ours, ogr);
    // The shapes that matter: a hole kept, two parts, nothing for lines, points, empties, nulls.
    let parts: Vec<usize> = ours.iter().map(|r| r.0.len()).collect();
    assert_eq!(parts, [1, 2, 0, 0, 0, 1, 0]);
    assert_eq!(ours[0].0[0].rings.len(), 2);
    assert_eq!(ours[6].2, Some(7.0));

    let missing = table.for_each_row(&["w"], |_, _| Ok(())).unwrap_err();
    assert!(missing.to_string().contains("no column `w`"), "{missing}");
}

#[test]
fn paths_with_uri_characters_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a b#c%20d?e.gpkg");
    write_sample(&path);
    for whole_max in [u64::MAX, 0] {
        let table = FeatureTable::open_reading_whole(&path, whole_max).unwrap();
        let mut n = 0;
        table
            .for_each_row(&["v"], |_, _| {
                n += 1;
                Ok(())
            })
            .unwrap();
        assert_eq!(n, ROWS.len() + 1);
    }
}

#[test]
fn not_a_geopackage_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.gpkg");
    std::fs::write(&path, b"this is not sqlite").unwrap();
    let Err(e) = FeatureTable::open(&path) else { panic!("opened a text file") };
    assert!(e.to_string().contains("bad.gpkg") && e.to_string().contains("GeoPackage"), "{e}");
    let Err(e) = FeatureTable::open(&dir.path().join("absent.gpkg")) else { panic!("opened a missing file") };
    assert!(e.to_string().contains("absent.gpkg"), "{e}");
}
