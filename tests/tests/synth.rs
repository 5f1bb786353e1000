//! iwp-synth writes IWP-like data that GDAL reads back with the right CRS, fields and counts.

use gdal::vector::LayerAccess;
use gdal::Dataset;
use iwp_core::config::Config;
use iwp_tests::{files_under, lines, run};
use std::path::{Path, PathBuf};
use std::process::Command;

fn synth(out: &Path, extra: &[&str]) -> Vec<serde_json::Value> {
    let mut args = vec!["--out", out.to_str().unwrap(), "--polygons", "20000", "--files", "4", "--seed", "7"];
    args.extend_from_slice(extra);
    let o = run("iwp-synth", &args, None);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    lines(&o.stdout)
}

fn ogrinfo(path: &Path) -> String {
    let o = Command::new("ogrinfo").args(["-so", "-al"]).arg(path).output().expect("ogrinfo (gdal-bin) installed");
    assert!(o.status.success(), "ogrinfo {}: {}", path.display(), String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn output_opens_in_ogrinfo_with_crs_fields_and_counts() {
    let dir = tempfile::tempdir().unwrap();
    let written = synth(dir.path(), &[]);
    assert_eq!(written.len(), 4);
    let mut total = 0;
    for w in &written {
        let input = PathBuf::from(w["path"].as_str().unwrap());
        let info = ogrinfo(&input);
        let n = w["polygons"].as_u64().unwrap();
        total += n;
        assert!(info.contains(&format!("Feature Count: {n}")), "{info}");
        assert!(info.contains("Geometry: Polygon"), "{info}");
        assert!(info.contains("ID[\"EPSG\",3413]"), "EPSG:3413: {info}");
        for field in [
            "Class: String (80.0)",
            "Sensor: String (80.0)",
            "Date: String (80.0)",
            "Time: String (80.0)",
            "Image: String (88.0)",
        ] {
            assert!(info.contains(field), "{field}: {info}");
        }
        for field in ["Area", "CentroidX", "CentroidY", "Perimeter", "Length", "Width"] {
            assert!(info.contains(&format!("{field}: Real (24.15)")), "{field}: {info}");
        }
        assert_eq!(w["bytes"].as_u64().unwrap(), std::fs::metadata(&input).unwrap().len());
        let fp = PathBuf::from(w["footprint"].as_str().unwrap());
        assert!(fp.starts_with(dir.path().join("footprints")) && fp.extension().unwrap() == "gpkg");
        let info = ogrinfo(&fp);
        assert!(info.contains("Feature Count: 1") && info.contains("ID[\"EPSG\",3413]"), "{info}");
        assert!(info.contains("Date: String") && info.contains("Sensor: String"), "{info}");
    }
    assert_eq!(total, 20000);
    let cfg = Config::load(Some(&dir.path().join("config.json")), &[]).unwrap();
    assert!(cfg.warnings.is_empty());
    assert_eq!(cfg.dir_input, dir.path().join("input"));
    assert_eq!(cfg.ext_footprints, ".gpkg");
}

#[test]
fn polygons_look_like_ice_wedge_polygons_and_attributes_agree_with_geometry() {
    let dir = tempfile::tempdir().unwrap();
    let written = synth(dir.path(), &["--footprint-ext", "shp"]);
    let (mut n, mut sizes) = (0u64, Vec::new());
    for w in &written {
        let ds = Dataset::open(w["path"].as_str().unwrap()).unwrap();
        let mut layer = ds.layer(0).unwrap();
        for f in layer.features() {
            let g = f.geometry().unwrap();
            assert!(g.is_valid(), "feature {n} is not valid");
            let area = g.area();
            let stored = f.field_as_double(f.field_index("Area").unwrap()).unwrap().unwrap();
            assert!((area - stored).abs() <= 1e-6 * area, "{area} vs {stored}");
            let (len, wid) = (
                f.field_as_double(f.field_index("Length").unwrap()).unwrap().unwrap(),
                f.field_as_double(f.field_index("Width").unwrap()).unwrap().unwrap(),
            );
            assert!(len >= wid && wid > 0.0);
            assert!(f.field_as_string(f.field_index("Image").unwrap()).unwrap().unwrap().ends_with("_u16rf3413_pansh"));
            sizes.push(area.sqrt());
            n += 1;
        }
    }
    assert_eq!(n, 20000);
    sizes.sort_by(f64::total_cmp);
    let (p1, p99) = (sizes[sizes.len() / 100], sizes[sizes.len() * 99 / 100]);
    assert!(p1 > 4.0 && p99 < 30.0, "cells ~5-30 m across: 1% {p1:.1} m, 99% {p99:.1} m");
    // Neighbouring images overlap, so footprint dedup has work to do.
    let fp = |i: usize| {
        let ds = Dataset::open(written[i]["footprint"].as_str().unwrap()).unwrap();
        let mut l = ds.layer(0).unwrap();
        let g = l.features().next().unwrap().geometry().unwrap().clone();
        g
    };
    let (a, b) = (fp(0), fp(1));
    assert!(a.intersects(&b), "footprints of neighbouring images overlap");
}

#[test]
fn same_seed_same_bytes_other_seed_other_data() {
    let (a, b, c) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    synth(a.path(), &["--threads", "1"]);
    synth(b.path(), &["--threads", "2"]);
    let o = run(
        "iwp-synth",
        &["--out", c.path().to_str().unwrap(), "--polygons", "20000", "--files", "4", "--seed", "8"],
        None,
    );
    assert!(o.status.success());
    let files = |d: &Path| {
        let mut v: Vec<PathBuf> = files_under(&d.join("input"));
        v.sort();
        v
    };
    let (fa, fb) = (files(a.path()), files(b.path()));
    assert_eq!(fa.len(), 4 * 5, "shp, shx, dbf, prj, cpg per file");
    for (x, y) in fa.iter().zip(&fb) {
        assert_eq!(x.strip_prefix(a.path()).unwrap(), y.strip_prefix(b.path()).unwrap());
        assert!(std::fs::read(x).unwrap() == std::fs::read(y).unwrap(), "{} differs", x.display());
    }
    let shp =
        |files: &[PathBuf]| files.iter().find(|p| p.extension().unwrap() == "shp").map(|p| std::fs::read(p).unwrap());
    assert_ne!(shp(&fa), shp(&files(c.path())));
    // Refuses to overwrite without --force.
    let o = run("iwp-synth", &["--out", a.path().to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--force"));
}

#[test]
fn json_logs_go_to_stderr_one_object_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(
        "iwp-synth",
        &["--out", dir.path().to_str().unwrap(), "--polygons", "100", "--files", "1", "--log-format", "json"],
        None,
    );
    assert!(o.status.success());
    let logs = lines(&o.stderr);
    assert!(!logs.is_empty());
    assert!(logs
        .iter()
        .any(|l| l["level"] == "INFO" && l["fields"]["message"].as_str().unwrap().contains("wrote 100 polygons")));
    assert_eq!(lines(&o.stdout).len(), 1, "stdout carries job lines only");
}
