//! iwp-webtile on the reference's GeoTIFFs gives the reference's PNGs, decoded RGBA within 1 per
//! channel, for both golden cases. And the whole pipeline iwp-stage | iwp-raster | iwp-webtile
//! gives the same set of PNGs, equal within 1 per channel except where the reference's GeoTIFF
//! carries GDAL's resampling noise (e.g. 20.99999998 for 21) across a palette index boundary:
//! every such pixel is checked to be one whose band value differs from ours by less than 1e-6.

use iwp_tests::{lines, relative_files, run, GoldenCase};
use std::path::Path;

fn decode(path: &Path) -> (u32, u32, Vec<u8>) {
    iwp_web::webtile::read_png_rgba(path).unwrap()
}

/// Largest channel difference per pixel of two decoded RGBA images.
fn pixel_differences(a: &[u8], b: &[u8]) -> Vec<i16> {
    a.chunks(4)
        .zip(b.chunks(4))
        .map(|(p, q)| (0..4).map(|k| (i16::from(p[k]) - i16::from(q[k])).abs()).max().unwrap())
        .collect()
}

fn webtiles_and_compare(name: &str) {
    let Some(case) = GoldenCase::new(name) else { return };
    let cfg = case.config();
    let theirs_dir = case.source.join("expected/web-tiles");
    let theirs_tifs = case.source.join("expected/geotiffs");

    // 1. The reference's GeoTIFFs rendered by iwp-webtile: every pixel within 1 per channel.
    let set_tifs = format!("dir_geotiff={}", theirs_tifs.display());
    let mine = case.dir.path().join("from-reference-tifs");
    let set_web = format!("dir_web_tiles={}", mine.display());
    let listed = run("iwp-webtile", &["--config", &cfg, "--set", &set_tifs, "--list"], None);
    let out = run(
        "iwp-webtile",
        &["--config", &cfg, "--set", &set_tifs, "--set", &set_web],
        Some(&String::from_utf8_lossy(&listed.stdout)),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(relative_files(&mine, "png"), relative_files(&theirs_dir, "png"), "the same PNGs");
    for rel in relative_files(&mine, "png") {
        let (a, b) = (decode(&mine.join(&rel)), decode(&theirs_dir.join(&rel)));
        assert_eq!((a.0, a.1), (b.0, b.1), "{rel}: size");
        let worst = pixel_differences(&a.2, &b.2).into_iter().max().unwrap();
        assert!(worst <= 1, "{rel}: a channel differs by {worst}");
    }

    // 2. The whole pipeline.
    let rasters = run("iwp-raster", &["--config", &cfg], Some(&case.stage()));
    assert!(rasters.status.success());
    let out = run("iwp-webtile", &["--config", &cfg], Some(&String::from_utf8_lossy(&rasters.stdout)));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let results = lines(&out.stdout);
    let ours_dir = case.dir.path().join("web-tiles");
    let ours = relative_files(&ours_dir, "png");
    assert_eq!(ours, relative_files(&theirs_dir, "png"), "the same PNGs");
    assert_eq!(results.len(), ours.len(), "one result line per PNG");
    let (mut noisy, mut pixels) = (0, 0);
    for rel in &ours {
        let (a, b) = (decode(&ours_dir.join(rel)), decode(&theirs_dir.join(rel)));
        let (stat, tif) = rel.split_once('/').unwrap();
        let band = if stat == "iwp_count" { 0 } else { 1 };
        let tif = Path::new(tif).with_extension("tif");
        let ours_tif = iwp_rasters::geotiff::read(&case.dir.path().join("geotiffs").join(&tif)).unwrap();
        let theirs_tif = iwp_rasters::geotiff::read(&theirs_tifs.join(&tif)).unwrap();
        for (i, d) in pixel_differences(&a.2, &b.2).into_iter().enumerate() {
            pixels += 1;
            if d > 1 {
                let (x, y) = (ours_tif.bands[band][i], theirs_tif.bands[band][i]);
                assert!((x - y).abs() < 1e-6, "{rel} pixel {i}: off by {d} with values {x} and {y}");
                noisy += 1;
            }
        }
    }
    println!(
        "{name}: {} PNGs, {noisy} of {pixels} pixels off by more than 1, all at the reference's float noise",
        ours.len()
    );
    // A rerun skips them all.
    let again = run("iwp-webtile", &["--config", &cfg], Some(&String::from_utf8_lossy(&rasters.stdout)));
    assert!(lines(&again.stdout).iter().all(|r| r["skipped"] == true));
}

#[test]
fn complete_workflow_matches_the_golden_web_tiles() {
    webtiles_and_compare("complete-workflow");
}

#[test]
fn footprint_dedup_matches_the_golden_web_tiles() {
    webtiles_and_compare("footprint-dedup");
}
