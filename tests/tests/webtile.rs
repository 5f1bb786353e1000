//! iwp-webtile on generated data: WMTS capabilities well-formed with every layer, matrix and URL
//! template; shards render the same PNGs as one run; lines without band figures (--list) give
//! the same PNGs as raster lines; a level preview; bad input.

use iwp_tests::{lines, png_pixels, rasterized, relative_contents, relative_files, run};
use std::path::Path;

/// The web tiles under `dir` with their bytes (previews left out).
fn pngs(dir: &Path) -> Vec<(String, Vec<u8>)> {
    relative_contents(dir, "png").into_iter().filter(|(rel, _)| !rel.contains("preview")).collect()
}

#[test]
fn capabilities_shards_list_lines_and_preview() {
    let dir = tempfile::tempdir().unwrap();
    let (cfg, raster_lines) = rasterized(dir.path(), "3000", "2", ["13", "15"]);
    let wmts = dir.path().join("WMTSCapabilities.xml");
    let out = run(
        "iwp-webtile",
        &["-c", &cfg, "--wmts", wmts.to_str().unwrap(), "--base-url", "https://example.org/tiles/", "--preview", "13"],
        Some(&raster_lines),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let results = lines(&out.stdout);
    let whole = pngs(&dir.path().join("web_tiles"));
    assert_eq!(results.len(), whole.len());
    assert_eq!(whole.len(), 2 * lines(raster_lines.as_bytes()).len(), "one PNG per GeoTIFF per statistic");

    // Capabilities: well-formed, one layer per statistic, matrices 0..=15 with the TMS's sizes.
    let xml = std::fs::read_to_string(&wmts).unwrap();
    let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "Capabilities");
    let layers: Vec<_> = root.descendants().filter(|n| n.has_tag_name("Layer")).collect();
    assert_eq!(layers.len(), 2);
    for (layer, stat) in layers.iter().zip(["iwp_count", "iwp_coverage"]) {
        let url = layer.descendants().find(|n| n.has_tag_name("ResourceURL")).unwrap();
        assert_eq!(
            url.attribute("template"),
            Some(
                format!("https://example.org/tiles/{stat}/WorldCRS84Quad/{{TileMatrix}}/{{TileCol}}/{{TileRow}}.png")
                    .as_str()
            )
        );
        let lower = layer.descendants().find(|n| n.has_tag_name("LowerCorner")).unwrap().text().unwrap();
        let lon: f64 = lower.split(' ').next().unwrap().parse().unwrap();
        assert!((-180.0..180.0).contains(&lon));
    }
    let matrices: Vec<_> = root
        .descendants()
        .filter(|n| n.has_tag_name("TileMatrix") && n.children().any(|c| c.has_tag_name("MatrixWidth")))
        .collect();
    assert_eq!(matrices.len(), 16);
    for (z, m) in matrices.iter().enumerate() {
        let get = |name: &str| m.children().find(|c| c.has_tag_name(name)).unwrap().text().unwrap().to_string();
        assert_eq!(get("Identifier"), z.to_string());
        assert_eq!(get("MatrixWidth"), (1u64 << (z + 1)).to_string());
        assert_eq!(get("MatrixHeight"), (1u64 << z).to_string());
        assert_eq!(get("TileWidth"), "256");
    }

    // Preview of z13: one mosaic per statistic, and a GeoTIFF of it that GDAL places over the
    // block of z13 tiles (WorldCRS84Quad: 180/2^13 degrees a tile) with the same pixels.
    for stat in ["iwp_count", "iwp_coverage"] {
        let p = dir.path().join(format!("web_tiles/{stat}/preview-z13.png"));
        let mosaic = png_pixels(p.parent().unwrap()).remove("preview-z13.png").unwrap();
        let info = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&p).unwrap())).read_info().unwrap();
        let (w, h) = (info.info().width as usize, info.info().height as usize);
        assert_eq!(w % 256, 0);
        let tiles: Vec<Vec<f64>> =
            relative_files(&dir.path().join(format!("web_tiles/{stat}/WorldCRS84Quad/13")), "png")
                .iter()
                .map(|r| r.trim_end_matches(".png").split('/').map(|v| v.parse().unwrap()).collect())
                .collect();
        let span = 180.0 / 8192.0;
        let west = -180.0 + span * tiles.iter().map(|t| t[0]).fold(f64::INFINITY, f64::min);
        let north = 90.0 - span * tiles.iter().map(|t| t[1]).fold(f64::INFINITY, f64::min);
        let ds = gdal::Dataset::open(p.with_extension("tif")).unwrap();
        let gt = ds.geo_transform().unwrap();
        let expected = [west, span / 256.0, 0.0, north, 0.0, -span / 256.0];
        assert!(gt.iter().zip(expected).all(|(a, b)| (a - b).abs() < 1e-12), "{gt:?} against {expected:?}");
        assert_eq!(ds.spatial_ref().unwrap().auth_code().unwrap(), 4326);
        assert_eq!((ds.raster_size(), ds.raster_count()), ((w, h), 4));
        for b in 0..4 {
            let band = ds.rasterband(b + 1).unwrap().read_as::<u8>((0, 0), (w, h), (w, h), None).unwrap();
            let ours: Vec<u8> = mosaic.iter().skip(b).step_by(4).copied().collect();
            assert!(band.data() == ours.as_slice(), "{stat}: band {} differs from the PNG mosaic", b + 1);
        }
    }

    // Two shards, into another folder, give the same bytes; so do --list lines (no band figures).
    for (name, input, extra) in [("sharded", raster_lines.clone(), true), ("listed", String::new(), false)] {
        let out_dir = dir.path().join(name);
        let set = format!("dir_web_tiles={}", out_dir.display());
        let input = if extra {
            input
        } else {
            String::from_utf8_lossy(&run("iwp-webtile", &["-c", &cfg, "--list"], None).stdout).into_owned()
        };
        let shards: &[&str] = if extra { &["0/2", "1/2"] } else { &["0/1"] };
        for s in shards {
            let o = run("iwp-webtile", &["-c", &cfg, "--set", &set, "--shard", s], Some(&input));
            assert!(o.status.success(), "{name} {s}: {}", String::from_utf8_lossy(&o.stderr));
        }
        assert_eq!(pngs(&out_dir), whole, "{name}: the same PNGs byte for byte");
    }
}

#[test]
fn bad_input_gives_error_lines_or_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (cfg, raster_lines) = rasterized(dir.path(), "3000", "2", ["13", "15"]);
    let bad = format!(
        "{raster_lines}{}\n{}\n{{oops\n",
        r#"{"tms":"WebMercatorQuad","z":13,"x":1,"y":1,"path":"a.tif"}"#,
        r#"{"tms":"WorldCRS84Quad","z":13,"x":9,"y":9,"path":"/nonexistent/9.tif","iwp_count_min":0,"iwp_count_max":1,"iwp_coverage_min":0,"iwp_coverage_max":1}"#,
    );
    let out = run("iwp-webtile", &["-c", &cfg], Some(&bad));
    assert_eq!(out.status.code(), Some(1));
    let errors: Vec<_> = lines(&out.stdout).into_iter().filter(|r| r["status"] == "error").collect();
    let text = format!("{errors:?}");
    assert_eq!(errors.len(), 3, "{text}");
    for needle in ["WebMercatorQuad", "nonexistent", "not a job line"] {
        assert!(text.contains(needle), "{needle}: {text}");
    }
    for args in [
        vec!["--preview", "13", "--shard", "0/2"],
        vec![
            "--set",
            r#"statistics=[{"name":"x","weight_by":"count","property":"centroids_per_pixel","aggregation_method":"sum","resampling_method":"sum","palette":"no-such-colormap"}]"#,
        ],
    ] {
        let mut all = vec!["-c", cfg.as_str()];
        all.extend(args.iter());
        let o = run("iwp-webtile", &all, Some(&raster_lines));
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
    }
}
