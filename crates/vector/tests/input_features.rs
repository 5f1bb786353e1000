//! Reading a shapefile's features in ranges (taken over by idle threads) gives what reading them
//! one after the other gives, also when a record is marked deleted.

use gdal::vector::{FieldDefn, LayerAccess, LayerOptions, OGRFieldType, OGRwkbGeometryType};
use gdal::{Dataset, DatasetOptions, DriverManager, GdalOpenFlags};
use iwp_vector::geom::polygons_of;
use iwp_vector::input_features::{read_features, FeatureRows};
use std::path::Path;

/// A shapefile of `n` squares, with an integer and a text column; a few features are
/// multipolygons and a few have no geometry.
fn write_squares(path: &Path, n: usize) {
    let driver = DriverManager::get_driver_by_name("ESRI Shapefile").unwrap();
    let mut ds = driver.create_vector_only(path).unwrap();
    let srs = gdal::spatial_ref::SpatialRef::from_epsg(3413).unwrap();
    let layer =
        ds.create_layer(LayerOptions { name: "l", srs: Some(&srs), ty: OGRwkbGeometryType::wkbPolygon, options: None });
    let layer = layer.unwrap();
    FieldDefn::new("n", OGRFieldType::OFTInteger).unwrap().add_to_layer(&layer).unwrap();
    FieldDefn::new("name", OGRFieldType::OFTString).unwrap().add_to_layer(&layer).unwrap();
    let defn = gdal::vector::Defn::from_layer(&layer);
    for i in 0..n {
        let (x, y) = (-2_000_000.0 + (i % 100) as f64 * 20.0, 500_000.0 + (i / 100) as f64 * 20.0);
        let square =
            |x: f64| format!("(({x} {y}, {} {y}, {} {}, {x} {}, {x} {y}))", x + 10.0, x + 10.0, y + 10.0, y + 10.0);
        let mut feature = gdal::vector::Feature::new(&defn).unwrap();
        match i % 997 {
            5 => {}
            7 => feature
                .set_geometry(
                    gdal::vector::Geometry::from_wkt(&format!("MULTIPOLYGON({}, {})", square(x), square(x + 12.0)))
                        .unwrap(),
                )
                .unwrap(),
            _ => feature
                .set_geometry(gdal::vector::Geometry::from_wkt(&format!("POLYGON{}", square(x))).unwrap())
                .unwrap(),
        }
        feature.set_field_integer(0, (i * 7 % 1000) as i32).unwrap();
        feature.set_field_string(1, &format!("feature {i}")).unwrap();
        feature.create(&layer).unwrap();
    }
}

/// What reading the file feature after feature gives, straight from GDAL.
fn in_order(path: &Path) -> FeatureRows {
    let ds = Dataset::open(path).unwrap();
    let mut layer = ds.layer(0).unwrap();
    let mut rows = FeatureRows::default();
    for (number, feature) in layer.features().enumerate() {
        let Some(g) = iwp_vector::vector::present_geometry(&feature) else { continue };
        rows.values.push((0..2).map(|i| feature.field(i).unwrap()).collect());
        let row = rows.values.len() - 1;
        rows.polygons.extend(polygons_of(g).into_iter().enumerate().map(|(part, p)| (number, row, part, p)));
    }
    rows
}

/// read_features of the file on a pool of `threads` threads.
fn in_ranges(path: &Path, threads: usize) -> FeatureRows {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
    pool.install(|| read_features(path, Dataset::open(path).unwrap(), 2).unwrap())
}

#[test]
fn ranges_read_by_several_threads_equal_one_reading_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("squares.shp");
    write_squares(&path, 20_000);
    let FeatureRows { values, polygons, .. } = in_order(&path);
    // 21 features without geometry, 21 multipolygons of two parts.
    assert_eq!((values.len(), polygons.len()), (20_000 - 21, 20_000));
    for threads in [1, 2, 4] {
        let read = in_ranges(&path, threads);
        assert!(read.values == values, "{threads} threads: the same attribute rows");
        assert!(read.polygons == polygons, "{threads} threads: the same polygons, numbers, rows and parts");
        assert_eq!((read.unreadable, read.skipped, read.repaired), (21, 0, 0), "{threads} threads");
        assert!(read.in_ranges, "{threads} threads: read in ranges, not in order");
    }
}

#[test]
fn a_deleted_record_is_skipped_and_later_features_renumbered_as_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("squares.shp");
    write_squares(&path, 9_000);
    {
        // Deleted but kept in the file (GDAL would otherwise pack it away on closing).
        let options = DatasetOptions {
            open_flags: GdalOpenFlags::GDAL_OF_UPDATE | GdalOpenFlags::GDAL_OF_VECTOR,
            open_options: Some(&["AUTO_REPACK=NO"]),
            ..Default::default()
        };
        let ds = Dataset::open_ex(&path, options).unwrap();
        let layer = ds.layer(0).unwrap();
        // SAFETY: a valid layer of a dataset open for update.
        let err = unsafe { gdal_sys::OGR_L_DeleteFeature(layer.c_layer(), 6_000) };
        assert_eq!(err, gdal_sys::OGRErr::OGRERR_NONE);
    }
    let FeatureRows { values, polygons, .. } = in_order(&path);
    assert_eq!(polygons.iter().filter(|p| p.0 == 8_998).count(), 1, "the last feature is number 8,998");
    let read = in_ranges(&path, 2);
    assert!(read.values == values && read.polygons == polygons, "the same rows as reading in order");
    assert!(!read.in_ranges, "read in order once the deleted record was found");
}
