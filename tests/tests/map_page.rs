//! The map page (iwp-webtile --viewer) in Debian's headless Chromium, offline (OpenLayers and
//! CesiumJS from tests/clients/node_modules in place of their CDN URLs), served from 127.0.0.1:
//! no failed request, nothing fetched elsewhere, no console error, legends shown, the tile under
//! the pointer named, the 3D view loading the 3D tiles, and a screenshot at z14 whose coloured
//! pixels are the preview mosaic's.

use iwp_tests::{clients, lines, png_pixels, run, synth};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// Runs map-page.mjs on `page` under `dir` with `args`; its report.
fn open(clients: &Path, dir: &Path, args: &[&str]) -> Value {
    let out = Command::new("node")
        .arg(clients.join("map-page.mjs"))
        .args(["--dir", dir.to_str().unwrap(), "--page", "web_tiles/index.html"])
        .args(args)
        .output()
        .unwrap();
    let r: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    assert!(out.status.success(), "{r}");
    assert_eq!(r["failed"], serde_json::json!([]), "no failed request: {r}");
    assert_eq!(r["external"], serde_json::json!([]), "nothing beyond 127.0.0.1: {r}");
    assert_eq!(r["console_errors"], serde_json::json!([]), "{r}");
    assert!(r["from_node_modules"].as_u64().unwrap() >= 2, "OpenLayers' CDN URLs answered locally: {r}");
    r
}

#[test]
fn the_map_page_shows_every_layer_and_the_3d_tiles() {
    let Some(clients) = clients() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    synth(d, "3000", "2", &["--z-range", "13", "15"]);
    let cfg = d.join("config.json").to_string_lossy().into_owned();
    let cfg = cfg.as_str();
    let listed = run("iwp-stage", &["-c", cfg, "--list"], None);
    let staged = run("iwp-stage", &["-c", cfg, "-q"], Some(&String::from_utf8_lossy(&listed.stdout)));
    let staged = String::from_utf8_lossy(&staged.stdout).into_owned();
    let rasters = run("iwp-raster", &["-c", cfg, "-q"], Some(&staged));
    assert!(rasters.status.success());
    let contents = run("iwp-3dtiles", &["-c", cfg, "-q", "--colour-range", "0", "200"], Some(&staged));
    assert!(contents.status.success(), "{}", String::from_utf8_lossy(&contents.stderr));
    let tileset = run("iwp-3dtiles", &["-c", cfg, "--tileset", "-q"], Some(&String::from_utf8_lossy(&contents.stdout)));
    assert!(tileset.status.success());
    let caps = d.join("web_tiles/WMTSCapabilities.xml");
    let web = run(
        "iwp-webtile",
        &["-c", cfg, "-q", "--wmts", caps.to_str().unwrap(), "--viewer", "--format", "both", "--preview", "14"],
        Some(&String::from_utf8_lossy(&rasters.stdout)),
    );
    assert!(web.status.success(), "{}", String::from_utf8_lossy(&web.stderr));
    assert!(!lines(&web.stdout).is_empty());

    // As a user opens it: the data's extent, the panel, the pointer, then the 3D view.
    let r = open(&clients, d, &["--query", "basemap=off", "--pointer", "--view3d"]);
    assert_eq!(r["layers"].as_array().unwrap().len(), 2, "{r}");
    assert_eq!(r["legends_loaded"], serde_json::json!([true, true]), "{r}");
    let pointer = r["pointer"].as_str().unwrap();
    assert!(pointer.starts_with("iwp_count z") && pointer.contains(", 70."), "{pointer}");
    assert!(r["tile_requests"].as_u64().unwrap() > 0, "{r}");
    assert!(r["view3d"]["loaded"].as_u64().unwrap() > 0 && r["view3d"]["failed"] == 0, "{r}");

    // At z14, centred on the preview mosaic and as large: the same coloured pixels, from the
    // PNG tree and from the PMTiles archives (read by the pmtiles library, no PNG requested).
    for source in ["tree", "pmtiles"] {
        let r = same_as_preview(&clients, d, source);
        assert_eq!(r["tile_requests"].as_u64().unwrap() == 0, source == "pmtiles", "{source}: {r}");
    }
}

/// Opens the page at z14 over the preview mosaic of iwp_coverage, as large as it, with the
/// tiles from `source`; asserts every coloured pixel is the mosaic's over white; the report.
fn same_as_preview(clients: &Path, d: &Path, source: &str) -> Value {
    let preview_dir = d.join("web_tiles/iwp_coverage");
    let mosaic = png_pixels(&preview_dir).remove("preview-z14.png").unwrap();
    let ds = gdal::Dataset::open(preview_dir.join("preview-z14.tif")).unwrap();
    let ((w, h), gt) = (ds.raster_size(), ds.geo_transform().unwrap());
    let centre = (gt[0] + gt[1] * w as f64 / 2.0, gt[3] + gt[5] * h as f64 / 2.0);
    let shot = d.join(format!("page-{source}.png"));
    let query = format!("basemap=off&bare=1&layer=iwp_coverage&z=14&center={},{}&source={source}", centre.0, centre.1);
    let r = open(
        clients,
        d,
        &["--query", &query, "--viewport", &format!("{w}x{h}"), "--screenshot", shot.to_str().unwrap()],
    );
    let page = png_pixels(d).remove(&format!("page-{source}.png")).unwrap();
    let channels = page.len() / (w * h);
    // Our pixels drawn over the page's white, as the browser blends them.
    let over_white = |c: u8, a: u8| (f64::from(c) * f64::from(a) / 255.0 + 255.0 - f64::from(a)).round();
    let (mut agree, mut coloured, mut same_colour) = (0usize, 0usize, 0usize);
    for i in 0..w * h {
        let ours = &mosaic[4 * i..4 * i + 4];
        let shown = &page[channels * i..channels * i + 3];
        let on_page = shown != [255, 255, 255];
        agree += usize::from((ours[3] > 0) == on_page);
        if ours[3] > 0 {
            coloured += 1;
            let close = (0..3).all(|k| (over_white(ours[k], ours[3]) - f64::from(shown[k])).abs() <= 2.0);
            same_colour += usize::from(close);
        }
    }
    let n = (w * h) as f64;
    eprintln!("{source}: {w}x{h}: {agree} pixels agree, {same_colour} of {coloured} coloured pixels the same colour");
    assert!(coloured > 10_000, "{coloured}");
    assert!(agree as f64 / n >= 0.99, "{agree} of {n} pixels agree on being coloured");
    assert!(same_colour as f64 / coloured as f64 >= 0.99, "{same_colour} of {coloured} coloured pixels the same");
    r
}
