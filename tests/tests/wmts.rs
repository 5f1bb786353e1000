//! The web tiles in real clients, served from 127.0.0.1: OWSLib reads the WMTS capabilities
//! (title, keywords, one layer per statistic with its legend, limits equal to the tiles that
//! exist) and fetches a tile byte for byte; GDAL's WMTS driver copies an area through the
//! capabilities that equals the mosaic of our PNGs pixel for pixel; the pmtiles package reads
//! back every tile of the PMTiles archives byte for byte.

use gdal::Dataset;
use iwp_tests::{clients, png_pixels, rasterized, relative_files, run, Served};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// Per level, the first and last row and column of a layer's PNGs on disk.
fn limits_on_disk(layer_dir: &Path) -> BTreeMap<String, [u64; 4]> {
    let mut limits: BTreeMap<String, [u64; 4]> = BTreeMap::new();
    for rel in relative_files(layer_dir, "png") {
        let parts: Vec<&str> = rel.trim_end_matches(".png").split('/').collect();
        let [z, x, y] = [parts[0], parts[1], parts[2]];
        let (x, y): (u64, u64) = (x.parse().unwrap(), y.parse().unwrap());
        let l = limits.entry(z.to_string()).or_insert([y, y, x, x]);
        *l = [l[0].min(y), l[1].max(y), l[2].min(x), l[3].max(x)];
    }
    limits
}

#[test]
fn owslib_and_gdal_read_the_capabilities_and_tiles() {
    let Some(clients) = clients() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (cfg, raster_lines) = rasterized(dir.path(), "3000", "2", ["13", "15"]);
    let web = dir.path().join("web_tiles");
    std::fs::create_dir_all(&web).unwrap();
    let served = Served::new(&web);
    let caps = web.join("WMTSCapabilities.xml");
    let out = run(
        "iwp-webtile",
        &["-c", &cfg, "--wmts", caps.to_str().unwrap(), "--base-url", &served.url],
        Some(&raster_lines),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let layer_dir = web.join("iwp_coverage/WorldCRS84Quad");
    let tiles = relative_files(&layer_dir, "png");
    let one: Vec<&str> = tiles[0].trim_end_matches(".png").split('/').collect();

    // OWSLib: what a Python user gets.
    let tile_out = dir.path().join("owslib-tile.png");
    let caps_url = format!("{}WMTSCapabilities.xml", served.url);
    let report = Command::new(clients.join(".venv/bin/python"))
        .arg(clients.join("owslib-read.py"))
        .args([&caps_url, "--tile", "iwp_coverage", one[0], one[1], one[2], tile_out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(report.status.success(), "{}", String::from_utf8_lossy(&report.stderr));
    let r: Value = serde_json::from_slice(&report.stdout).unwrap();
    assert_eq!(r["title"], "Ice-wedge polygons: iwp_count, iwp_coverage", "{r}");
    assert_eq!(r["keywords"], serde_json::json!(["iwp_count", "iwp_coverage"]), "{r}");
    assert_eq!(r["tilematrixsets"]["WorldCRS84Quad"].as_array().unwrap().len(), 16, "{r}");
    for stat in ["iwp_count", "iwp_coverage"] {
        let layer = &r["layers"][stat];
        assert_eq!(
            layer["templates"][0],
            format!("{}{stat}/WorldCRS84Quad/{{TileMatrix}}/{{TileCol}}/{{TileRow}}.png", served.url),
            "{layer}"
        );
        // Limits equal the tiles that exist, level by level.
        let limits: BTreeMap<String, [u64; 4]> =
            serde_json::from_value(layer["limits"]["WorldCRS84Quad"].clone()).unwrap();
        assert_eq!(limits, limits_on_disk(&web.join(stat).join("WorldCRS84Quad")), "{stat}");
        assert_eq!(limits.keys().collect::<Vec<_>>(), ["13", "14", "15"]);
        // Its style's legend is an SVG the server gives.
        let legend = layer["styles"]["default"]["legend"].as_str().unwrap();
        assert_eq!(legend, format!("{}{stat}/legend.svg", served.url));
        let svg = std::fs::read_to_string(web.join(stat).join("legend.svg")).unwrap();
        assert!(roxmltree::Document::parse(&svg).is_ok() && svg.contains(&format!(">{stat}</text>")));
        let bbox: Vec<f64> = layer["bbox"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        assert!(bbox[0] < bbox[2] && bbox[1] < bbox[3] && (-180.0..=180.0).contains(&bbox[0]), "{bbox:?}");
    }
    assert_eq!(std::fs::read(&tile_out).unwrap(), std::fs::read(layer_dir.join(&tiles[0])).unwrap(), "gettile");

    // GDAL's WMTS driver: a 4x4 block of z15 tiles (a z13 tile's area) copied through the
    // capabilities equals the mosaic of our PNGs (tiles that do not exist: transparent).
    let zxy = |t: &String| -> Vec<u32> { t.trim_end_matches(".png").split('/').map(|v| v.parse().unwrap()).collect() };
    let under =
        |p: &[u32]| tiles.iter().map(zxy).filter(|c| c[0] == 15 && c[1] / 4 == p[1] && c[2] / 4 == p[2]).count();
    let p = tiles.iter().map(zxy).filter(|p| p[0] == 13).max_by_key(|p| under(p)).unwrap();
    let span = 180.0 / f64::from(1 << 13);
    let (west, north) = (-180.0 + f64::from(p[1]) * span, 90.0 - f64::from(p[2]) * span);
    let copy = dir.path().join("gdal-copy.tif");
    let out = Command::new("gdal_translate")
        .env("GDAL_ENABLE_WMS_CACHE", "NO")
        .args(["-q", "-of", "GTiff", "-outsize", "1024", "1024", "-projwin"])
        .args([west, north, west + span, north - span].map(|v| v.to_string()))
        .arg(format!("WMTS:{caps_url},layer=iwp_coverage"))
        .arg(&copy)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let ds = Dataset::open(&copy).unwrap();
    assert_eq!(ds.raster_count(), 4, "RGBA");
    let bands: Vec<Vec<u8>> = (1..=4)
        .map(|b| {
            ds.rasterband(b).unwrap().read_as::<u8>((0, 0), (1024, 1024), (1024, 1024), None).unwrap().data().to_vec()
        })
        .collect();
    let pngs = png_pixels(&layer_dir);
    let (mut compared, mut coloured) = (0, 0);
    for ty in 0..4u32 {
        for tx in 0..4u32 {
            let rel = format!("15/{}/{}.png", p[1] * 4 + tx, p[2] * 4 + ty);
            let empty = vec![0u8; 256 * 256 * 4];
            let rgba = pngs.get(&rel).unwrap_or(&empty);
            for row in 0..256usize {
                for col in 0..256usize {
                    let at = (ty as usize * 256 + row) * 1024 + tx as usize * 256 + col;
                    let ours = &rgba[(row * 256 + col) * 4..(row * 256 + col) * 4 + 4];
                    let theirs = [bands[0][at], bands[1][at], bands[2][at], bands[3][at]];
                    assert_eq!(ours, theirs, "{rel} pixel ({col}, {row})");
                    compared += 1;
                    coloured += usize::from(theirs[3] > 0);
                }
            }
        }
    }
    assert!(coloured > 10_000, "{coloured} of {compared} pixels coloured");
}

#[test]
fn the_pmtiles_package_reads_back_every_tile() {
    let Some(clients) = clients() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (cfg, raster_lines) = rasterized(dir.path(), "3000", "2", ["13", "15"]);
    let out = run("iwp-webtile", &["-c", &cfg, "--format", "both", "--preview", "13"], Some(&raster_lines));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let archives: Vec<Value> =
        iwp_tests::lines(&out.stdout).into_iter().filter(|l| l.get("archive").is_some()).collect();
    assert_eq!(archives.len(), 2, "one archive per statistic");
    for a in &archives {
        let path = Path::new(a["archive"].as_str().unwrap());
        let stat = path.file_stem().unwrap().to_str().unwrap();
        let tree = dir.path().join("web_tiles").join(stat).join("WorldCRS84Quad");
        let pngs = relative_files(&tree, "png");
        assert_eq!(a["files"].as_u64(), Some(pngs.len() as u64), "{a}");
        assert_eq!(a["bytes"].as_u64(), Some(std::fs::metadata(path).unwrap().len()), "{a}");
        let back = dir.path().join(format!("read-{stat}"));
        let read = Command::new(clients.join(".venv/bin/python"))
            .arg(clients.join("pmtiles-read.py"))
            .arg(path)
            .arg(&back)
            .output()
            .unwrap();
        assert!(read.status.success(), "{}", String::from_utf8_lossy(&read.stderr));
        let r: Value = serde_json::from_slice(&read.stdout).unwrap();
        assert_eq!(r["tiles"].as_u64(), Some(pngs.len() as u64), "{r}");
        assert_eq!((r["header"]["tile_type"].as_str(), r["header"]["clustered"].as_bool()), (Some("PNG"), Some(true)));
        assert_eq!((r["header"]["min_zoom"].as_u64(), r["header"]["max_zoom"].as_u64()), (Some(14), Some(16)), "{r}");
        assert_eq!(r["metadata"]["zoom_offset"], 1, "{r}");
        // Every PNG of the tree is in the archive, level z stored at z + 1.
        for rel in &pngs {
            let (z, rest) = rel.split_once('/').unwrap();
            let stored = back.join(format!("{}/{rest}", z.parse::<u8>().unwrap() + 1));
            assert_eq!(std::fs::read(&stored).unwrap(), std::fs::read(tree.join(rel)).unwrap(), "{stat}/{rel}");
        }
    }

    // --format pmtiles: the same archives, and the packed PNGs gone (previews stay).
    let before: Vec<Vec<u8>> =
        archives.iter().map(|a| std::fs::read(a["archive"].as_str().unwrap()).unwrap()).collect();
    let out = run("iwp-webtile", &["-c", &cfg, "--format", "pmtiles", "-q"], Some(&raster_lines));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for (a, bytes) in archives.iter().zip(before) {
        let path = Path::new(a["archive"].as_str().unwrap());
        assert!(std::fs::read(path).unwrap() == bytes, "{path:?} made again differs");
        let stat = path.file_stem().unwrap().to_str().unwrap();
        let left = relative_files(&dir.path().join("web_tiles").join(stat), "png");
        assert_eq!(left, vec!["preview-z13.png".to_string()], "{stat}: only the preview is left");
    }
}
