//! iwp-stage | iwp-raster on both golden cases gives the reference's GeoTIFFs at z 6..13: count
//! band identical at z13 and within 1e-6 below, coverage within 1e-7 everywhere, files readable
//! by `gdalinfo -stats` and on average at most a quarter of the reference's bytes.

use iwp_rasters::{bandstats, geotiff};
use iwp_tests::{golden, have, lines, relative_files, run, GoldenCase};
use std::process::Command;

fn raster_and_compare(name: &str) {
    let Some(case) = GoldenCase::new(name) else { return };
    let staged = case.stage();
    let out = run("iwp-raster", &["--config", &case.config()], Some(&staged));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let results = lines(&out.stdout);
    assert!(results.iter().all(|r| r["status"] == "ok"), "{results:?}");

    let ours_dir = case.dir.path().join("geotiffs");
    let theirs_dir = case.source.join("expected/geotiffs");
    let ours = relative_files(&ours_dir, "tif");
    assert_eq!(ours, relative_files(&theirs_dir, "tif"), "the same GeoTIFFs at every level");
    assert_eq!(results.len(), ours.len(), "one result line per GeoTIFF");
    let mut bytes = (0u64, 0u64);
    for rel in &ours {
        let (a, b) = (geotiff::read(&ours_dir.join(rel)).unwrap(), geotiff::read(&theirs_dir.join(rel)).unwrap());
        assert_eq!(a.names, b.names, "{rel}: band descriptions");
        assert_eq!((a.width, a.height), (b.width, b.height));
        let z13 = rel.contains("/13/");
        for (k, name) in a.names.iter().enumerate() {
            let tolerance = match (name.as_str(), z13) {
                ("iwp_count", true) => 0.0,
                ("iwp_count", false) => 1e-6,
                _ => 1e-7,
            };
            let worst = a.bands[k].iter().zip(&b.bands[k]).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max);
            assert!(worst <= tolerance, "{rel} {name}: largest difference {worst:e} > {tolerance:e}");
        }
        // The result line carries the band's min, max and sum.
        let line = results.iter().find(|r| r["path"].as_str().unwrap().ends_with(rel.as_str())).unwrap();
        let sum: f64 = a.bands[0].iter().sum();
        assert!((line["iwp_count_sum"].as_f64().unwrap() - sum).abs() < 1e-9, "{rel}: sum in the result line");
        bytes.0 += std::fs::metadata(ours_dir.join(rel)).unwrap().len();
        bytes.1 += std::fs::metadata(theirs_dir.join(rel)).unwrap().len();
        if have("gdalinfo") {
            let info = Command::new("gdalinfo").arg("-stats").arg(ours_dir.join(rel)).output().unwrap();
            assert!(info.status.success(), "gdalinfo -stats {rel}");
            assert!(String::from_utf8_lossy(&info.stdout).contains("STATISTICS_MAXIMUM"));
        }
    }
    // Compressed: on average at most a quarter of the reference's bytes per tile. (Dense tiles
    // hold full-precision coverage, which no lossless coder shrinks that far: about a third.)
    println!("{name}: {} bytes in {} GeoTIFFs, the reference {}", bytes.0, ours.len(), bytes.1);
    assert!(bytes.0 * 4 <= bytes.1, "{} bytes vs the reference's {}", bytes.0, bytes.1);
    // Rasters summary: one row per band per GeoTIFF, the reference's columns.
    let summary = std::fs::read_to_string(case.dir.path().join("rasters_summary.csv")).unwrap();
    let mut rows = summary.lines();
    assert_eq!(rows.next(), Some("stat,bounds,min,max,mean,median,std,var,sum,path,tile,z"));
    assert_eq!(rows.count(), 2 * ours.len());
    // A rerun writes nothing again and reports the same sums.
    let again = run("iwp-raster", &["--config", &case.config()], Some(&staged));
    let again = lines(&again.stdout);
    assert!(again.iter().all(|r| r["skipped"] == true));
    assert_eq!(again.len(), results.len());
}

#[test]
fn complete_workflow_matches_the_golden_geotiffs() {
    raster_and_compare("complete-workflow");
}

#[test]
fn footprint_dedup_matches_the_golden_geotiffs_without_the_flagged_polygons() {
    raster_and_compare("footprint-dedup");
}

/// Band summaries of the reference's own GeoTIFFs equal its rasters summary to the last bit
/// (numpy's pairwise sums, population std/var, median of the two middles): 88 rows.
#[test]
fn band_summaries_equal_the_reference_rasters_summary() {
    let Some(golden) = golden() else { return };
    for case in ["complete-workflow", "footprint-dedup"] {
        let expected = golden.join(case).join("expected");
        let mut rows = csv::Reader::from_path(expected.join("raster-summary.csv")).unwrap();
        let mut checked = 0;
        for row in rows.records() {
            let row = row.unwrap();
            // The reference ran in a folder named example/.
            let rel = row[9].strip_prefix("example/").unwrap();
            let raster = geotiff::read(&expected.join(rel)).unwrap();
            let band = raster.names.iter().position(|n| n == &row[0]).unwrap();
            let s = bandstats::summarize(&raster.bands[band]);
            let ours = [s.min, s.max, s.mean, s.median, s.std, s.var, s.sum];
            for (k, (column, value)) in
                ["min", "max", "mean", "median", "std", "var", "sum"].iter().zip(ours).enumerate()
            {
                let theirs: f64 = row[2 + k].parse().unwrap();
                assert_eq!(value.to_bits(), theirs.to_bits(), "{case} {rel} {}: {column} {value} vs {theirs}", &row[0]);
            }
            checked += 1;
        }
        assert_eq!(checked, 44, "{case}: rows checked");
    }
}
