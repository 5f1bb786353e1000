//! iwp-stage on both golden cases reproduces the reference's staged tiles row for row.

use gdal::vector::{FieldValue, LayerAccess};
use gdal::Dataset;
use iwp_tests::{files_under, lines, run, GoldenCase};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// One staged row, keyed by (file base name, exact geometry).
#[derive(Debug, Clone)]
struct Staged {
    area: f64,
    cx: f64,
    cy: f64,
    within: i64,
    duplicated: Option<i64>,
}

type Tiles = BTreeMap<String, HashMap<(String, String), Staged>>;

fn read_tiles(dir: &Path) -> Tiles {
    let mut out = Tiles::new();
    for entry in files_under(dir) {
        if entry.extension().and_then(|e| e.to_str()) != Some("gpkg") {
            continue;
        }
        let rel = entry.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
        let ds = Dataset::open(&entry).unwrap();
        let mut layer = ds.layer(0).unwrap();
        let mut rows = HashMap::new();
        for f in layer.features() {
            let get = |name: &str| f.field_index(name).ok().and_then(|i| f.field(i).unwrap());
            let num = |name: &str| match get(name) {
                Some(FieldValue::RealValue(v)) => v,
                other => panic!("{name}: {other:?}"),
            };
            let int = |name: &str| match get(name) {
                Some(FieldValue::IntegerValue(v)) => Some(i64::from(v)),
                Some(FieldValue::Integer64Value(v)) => Some(v),
                _ => None,
            };
            let file = match get("staging_filename") {
                Some(FieldValue::StringValue(s)) => Path::new(&s).file_name().unwrap().to_string_lossy().into_owned(),
                other => panic!("staging_filename: {other:?}"),
            };
            let wkb = f.geometry().unwrap().wkb().unwrap();
            let row = Staged {
                area: num("staging_area"),
                cx: num("staging_centroid_x"),
                cy: num("staging_centroid_y"),
                within: int("staging_centroid_within_tile").unwrap(),
                duplicated: int("staging_duplicated"),
            };
            assert!(rows.insert((file, format!("{wkb:?}")), row).is_none(), "{rel}: a geometry twice from one file");
        }
        out.insert(rel, rows);
    }
    out
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * a.abs().max(b.abs())
}

/// Copies a golden case's config and inputs to a scratch folder, stages it, compares.
fn stage_and_compare(case: &str) {
    let Some(case) = GoldenCase::new(case) else { return };
    let (dir, src, cfg) = (&case.dir, &case.source, case.config());
    let results = lines(case.stage().as_bytes());
    assert!(results.iter().all(|r| r["status"] == "ok" && r["z"] == 13));

    let ours = read_tiles(&dir.path().join("staged-vectors"));
    let theirs = read_tiles(&src.join("expected/staged-vectors"));
    assert_eq!(ours.keys().collect::<Vec<_>>(), theirs.keys().collect::<Vec<_>>(), "same set of z13 tiles");
    for (tile, expected) in &theirs {
        let got = &ours[tile];
        assert_eq!(got.len(), expected.len(), "{tile}: row count");
        let per = |rows: &HashMap<(String, String), Staged>| {
            let mut m: BTreeMap<String, (usize, i64, i64)> = BTreeMap::new();
            for ((file, _), r) in rows {
                let e = m.entry(file.clone()).or_default();
                e.0 += 1;
                e.1 += r.within;
                e.2 += r.duplicated.unwrap_or(0);
            }
            m
        };
        assert_eq!(per(got), per(expected), "{tile}: rows, centroid-within and duplicated per file");
        for (key, want) in expected {
            let have = got.get(key).unwrap_or_else(|| panic!("{tile}: a golden geometry of {} is missing", key.0));
            assert!(close(have.area, want.area), "{tile}: area {} vs {}", have.area, want.area);
            assert!(close(have.cx, want.cx) && close(have.cy, want.cy), "{tile}: centroid");
            assert_eq!(have.within, want.within);
            assert_eq!(have.duplicated, want.duplicated);
        }
    }
    // A rerun adds nothing: every tile already holds the file's rows.
    let listed = run("iwp-stage", &["--config", &cfg, "--list"], None);
    let again = run("iwp-stage", &["--config", &cfg], Some(&String::from_utf8_lossy(&listed.stdout)));
    assert!(again.status.success());
    assert!(lines(&again.stdout).iter().all(|r| r["rows"] == 0));
    assert_eq!(
        read_tiles(&dir.path().join("staged-vectors")).values().map(HashMap::len).sum::<usize>(),
        ours.values().map(HashMap::len).sum::<usize>()
    );
}

#[test]
fn complete_workflow_matches_the_golden_staged_tiles() {
    stage_and_compare("complete-workflow");
}

#[test]
fn footprint_dedup_matches_the_golden_staged_tiles_and_flags() {
    stage_and_compare("footprint-dedup");
}
