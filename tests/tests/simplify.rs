//! The topology-preserving simplifier reproduces the golden staged geometries (GEOS 3.14).

use gdal::vector::{Geometry, LayerAccess};
use gdal::Dataset;
use iwp_tests::golden;
use iwp_vector::simplify::simplify_polygon;
use std::collections::HashSet;

fn rings(g: &Geometry) -> Vec<Vec<(f64, f64)>> {
    (0..g.geometry_count())
        .map(|i| {
            let mut pts = Vec::new();
            g.get_geometry(i).get_points(&mut pts);
            pts.iter().map(|p| (p.0, p.1)).collect()
        })
        .collect()
}

fn key(rings: &[Vec<(f64, f64)>]) -> String {
    rings
        .iter()
        .map(|r| r.iter().map(|p| format!("{:x},{:x};", p.0.to_bits(), p.1.to_bits())).collect::<String>() + "|")
        .collect()
}

#[test]
fn simplified_golden_input_equals_the_golden_staged_geometries() {
    let Some(g) = golden() else { return };
    let case = g.join("complete-workflow");
    let mut expected = HashSet::new();
    for entry in std::fs::read_dir(case.join("expected/staged-vectors/WorldCRS84Quad/13")).unwrap() {
        for tile in std::fs::read_dir(entry.unwrap().path()).unwrap() {
            let ds = Dataset::open(tile.unwrap().path()).unwrap();
            let mut layer = ds.layer(0).unwrap();
            for f in layer.features() {
                expected.insert(key(&rings(f.geometry().unwrap())));
            }
        }
    }
    let ds = Dataset::open(case.join("input/large-shapefile-example.shp")).unwrap();
    let mut layer = ds.layer(0).unwrap();
    let (mut same, mut total, mut changed) = (0, 0, 0);
    let mut misses = Vec::new();
    for f in layer.features() {
        let input = rings(f.geometry().unwrap());
        let out = simplify_polygon(&input, 0.0001);
        if out != input {
            changed += 1;
        }
        total += 1;
        if expected.contains(&key(&out)) {
            same += 1;
        } else if misses.len() < 3 {
            misses.push(format!("{input:?} -> {out:?}"));
        }
    }
    assert_eq!(expected.len(), 14281, "unique staged geometries");
    assert_eq!((same, total), (14281, 14281), "{changed} changed; misses: {misses:#?}");
}
