//! iwp-merge: the footprint-dedup golden case staged as two "nodes" and merged equals staging both
//! files in one process (rows, flags, golden counts); merging twice, or after a kill, equals
//! merging once; single-source tiles are hard-linked.

use gdal::vector::{FieldValue, LayerAccess};
use iwp_tests::{files_under, kill_after_lines, lines, run, run_with, synth, GoldenCase};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// Per tile (relative path): identifier -> (staging_duplicated, staging_area, geometry WKB).
type Rows = BTreeMap<String, BTreeMap<String, (Option<i32>, String, Vec<u8>)>>;

fn rows(dir: &Path) -> Rows {
    let mut out = Rows::new();
    for f in files_under(dir).into_iter().filter(|p| p.extension().is_some_and(|e| e == "gpkg")) {
        let rel = f.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
        let ds = gdal::Dataset::open(&f).unwrap();
        let mut layer = ds.layer(0).unwrap();
        let mut tile = BTreeMap::new();
        for feature in layer.features() {
            let get = |n: &str| feature.field_index(n).ok().and_then(|i| feature.field(i).unwrap());
            let Some(FieldValue::StringValue(id)) = get("staging_identifier") else { panic!("{rel}: no identifier") };
            let dup = match get("staging_duplicated") {
                Some(FieldValue::IntegerValue(v)) => Some(v),
                _ => None,
            };
            let area = format!("{:?}", get("staging_area"));
            let wkb = feature.geometry().unwrap().wkb().unwrap();
            assert!(tile.insert(id, (dup, area, wkb)).is_none(), "{rel}: an identifier twice");
        }
        out.insert(rel, tile);
    }
    out
}

fn stage_into(cfg: &str, lines_text: &str, out: &Path) {
    let o = run("iwp-stage", &["-c", cfg, "--out", out.to_str().unwrap()], Some(lines_text));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn two_nodes_merged_equal_one_process_and_the_golden_counts() {
    let Some(case) = GoldenCase::new("footprint-dedup") else { return };
    let cfg = case.config();
    let d = case.dir.path();
    let listed = String::from_utf8_lossy(&run("iwp-stage", &["-c", &cfg, "--list"], None).stdout).into_owned();
    let files: Vec<&str> = listed.lines().collect();
    assert_eq!(files.len(), 2);
    stage_into(&cfg, files[0], &d.join("node1"));
    stage_into(&cfg, files[1], &d.join("node2"));
    let merged = d.join("merged");
    let args = ["-c", cfg.as_str(), "--from", "node1", "node2", "--into", merged.to_str().unwrap()];
    let out = run_with(Command::new(iwp_tests::bin("iwp-merge")).args(args).current_dir(d), None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let results = lines(&out.stdout);
    assert!(results.iter().all(|r| r["action"] == "combined" && r["sources"] == 2), "{results:?}");

    // One process staging both files.
    stage_into(&cfg, &listed, &d.join("one"));
    let (m, one) = (rows(&merged), rows(&d.join("one")));
    assert_eq!(m, one, "the same rows, flags, areas and geometries tile by tile");
    let golden_counts: BTreeMap<String, usize> =
        rows(&case.source.join("expected/staged-vectors")).into_iter().map(|(k, v)| (k, v.len())).collect();
    assert_eq!(m.into_iter().map(|(k, v)| (k, v.len())).collect::<BTreeMap<_, _>>(), golden_counts);

    // Again: nothing changes.
    let again = run_with(Command::new(iwp_tests::bin("iwp-merge")).args(args).current_dir(d), None);
    assert!(lines(&again.stdout).iter().all(|r| r["action"] == "unchanged" && r["rows"] == 0));
    assert!(lines(&out.stdout).iter().all(|r| r["rows"].as_u64().unwrap() > 0), "combined tiles report their rows");
    assert_eq!(rows(&merged), one);
}

#[test]
fn a_killed_merge_rerun_equals_one_merge_and_single_tiles_are_linked() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let files = synth(d, "12000", "4", &[]);
    let cfg = d.join("config.json").to_string_lossy().into_owned();
    for (k, f) in files.iter().enumerate() {
        stage_into(&cfg, &f.to_string(), &d.join(format!("node{k}")));
    }
    let nodes: Vec<String> = (0..4).map(|k| d.join(format!("node{k}")).to_string_lossy().into_owned()).collect();
    let merge = |into: &Path| {
        let mut a = vec![
            "-c".to_string(),
            cfg.clone(),
            "--into".into(),
            into.to_string_lossy().into_owned(),
            "--threads".into(),
            "1".into(),
            "--from".into(),
        ];
        a.extend(nodes.iter().cloned());
        a
    };
    let clean = d.join("clean");
    let out = run("iwp-merge", &merge(&clean).iter().map(String::as_str).collect::<Vec<_>>(), None);
    assert!(out.status.success());
    let results = lines(&out.stdout);
    assert!(results.iter().any(|r| r["action"] == "linked") && results.iter().any(|r| r["action"] == "combined"));
    // A linked tile is the node's file itself (no copy).
    let linked = results.iter().find(|r| r["action"] == "linked").unwrap();
    use std::os::unix::fs::MetadataExt;
    assert!(std::fs::metadata(linked["path"].as_str().unwrap()).unwrap().nlink() >= 2);

    // Killed after a few tiles, then run again.
    let killed = d.join("killed");
    kill_after_lines(Command::new(iwp_tests::bin("iwp-merge")).args(merge(&killed)), 5);
    let partial = rows(&killed).len();
    assert!(partial < results.len(), "the kill came before the end ({partial} of {})", results.len());
    let rerun = run("iwp-merge", &merge(&killed).iter().map(String::as_str).collect::<Vec<_>>(), None);
    assert!(rerun.status.success());
    assert_eq!(rows(&killed), rows(&clean), "rerun after a kill = one clean merge");
    assert!(files_under(&killed).iter().all(|p| !p.to_string_lossy().contains(".iwp-tmp-")), "no temporaries left");
}
