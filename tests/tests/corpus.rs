//! A corpus of bad inputs across the tools. Each gives an error line whose message names the
//! file and the problem; the other units are finished; no output is left corrupt; exit codes
//! are the documented ones (1 some units failed, 2 usage or config error).

use gdal::vector::{LayerAccess, LayerOptions, OGRwkbGeometryType};
use iwp_tests::{files_under, lines, run, staged_rows, synth, temp_files};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Copies a shapefile's parts (all but `skip`) to a new name.
fn copy_shp(from: &Path, to: &Path, skip: &[&str]) {
    for ext in ["shp", "shx", "dbf", "prj", "cpg"] {
        if !skip.contains(&ext) && from.with_extension(ext).exists() {
            std::fs::copy(from.with_extension(ext), to.with_extension(ext)).unwrap();
        }
    }
}

/// Writes a one-layer shapefile in EPSG:3413 from WKT.
fn write_layer(path: &Path, ty: OGRwkbGeometryType::Type, wkt: &[&str]) {
    let driver = gdal::DriverManager::get_driver_by_name("ESRI Shapefile").unwrap();
    let mut ds = driver.create_vector_only(path).unwrap();
    let srs = gdal::spatial_ref::SpatialRef::from_epsg(3413).unwrap();
    let mut layer = ds.create_layer(LayerOptions { name: "l", srs: Some(&srs), ty, options: None }).unwrap();
    for w in wkt {
        layer.create_feature(gdal::vector::Geometry::from_wkt(w).unwrap()).unwrap();
    }
}

/// The message of the error line naming `name` (its message must name the file).
fn error_for<'a>(results: &'a [Value], name: &str) -> &'a str {
    results
        .iter()
        .filter(|r| r["status"] == "error")
        .filter_map(|r| r["error"].as_str())
        .find(|e| e.contains(name))
        .unwrap_or_else(|| panic!("no error line naming {name}: {results:#?}"))
}

/// Staging: 19 bad inputs among 4 good files, one run.
#[test]
fn staging_corpus() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let files = synth(d, "3000", "4", &[]);
    let input = d.join("input");
    let good = PathBuf::from(files[0]["path"].as_str().unwrap());
    let fp_of = |p: &Path| d.join("footprints").join(p.strip_prefix(&input).unwrap()).with_extension("gpkg");
    let good_fp = fp_of(&good);
    // (file, words its message must hold)
    let mut bad: Vec<(PathBuf, &[&str])> = Vec::new();
    let mut case = |name: &str, words: &'static [&'static str], make: &dyn Fn(&Path)| {
        let p = input.join(format!("{name}_iwp.shp"));
        make(&p);
        if name != "nofootprint" {
            std::fs::copy(&good_fp, fp_of(&p)).unwrap();
        }
        bad.push((p, words));
    };
    case("garbage", &["not a file GDAL can read"], &|p| {
        copy_shp(&good, p, &[]);
        std::fs::write(p, b"this is not a shapefile at all, just some bytes").unwrap();
    });
    case("truncated", &["truncated or corrupt"], &|p| {
        copy_shp(&good, p, &[]);
        let bytes = std::fs::read(p).unwrap();
        std::fs::write(p, &bytes[..300]).unwrap();
    });
    case("noshx", &[".shx"], &|p| copy_shp(&good, p, &["shx"]));
    case("nodbf", &[".dbf", "attribute"], &|p| copy_shp(&good, p, &["dbf"]));
    case("noprj", &["no CRS", "input_crs"], &|p| copy_shp(&good, p, &["prj"]));
    case("wrongprj", &[".prj is not a CRS"], &|p| {
        copy_shp(&good, p, &[]);
        std::fs::write(p.with_extension("prj"), "GARBAGE[\"x\"]").unwrap();
    });
    case("otherprj", &["area of use", "wrong .prj"], &|p| {
        // The data is EPSG:3413, the .prj claims UTM zone 33N: far outside its area.
        copy_shp(&good, p, &[]);
        let utm = gdal::spatial_ref::SpatialRef::from_epsg(32633).unwrap().to_wkt().unwrap();
        std::fs::write(p.with_extension("prj"), utm).unwrap();
    });
    case("empty", &["no features"], &|p| write_layer(p, OGRwkbGeometryType::wkbPolygon, &[]));
    case("points", &["no polygons", "other geometry types"], &|p| {
        write_layer(p, OGRwkbGeometryType::wkbPoint, &["POINT (-2120000 522000)"])
    });
    case("lines", &["no polygons", "other geometry types"], &|p| {
        write_layer(p, OGRwkbGeometryType::wkbLineString, &["LINESTRING (-2120000 522000, -2119990 522010)"])
    });
    case("huge", &["area of use", "corrupt coordinates"], &|p| {
        write_layer(
            p,
            OGRwkbGeometryType::wkbPolygon,
            &["POLYGON ((1e300 1e300, 1e300 1.1e300, 1.1e300 1.1e300, 1e300 1e300))"],
        )
    });
    case("nan", &["area of use"], &|p| {
        // The first vertex of the first record becomes NaN, NaN.
        copy_shp(&good, p, &[]);
        let mut bytes = std::fs::read(p).unwrap();
        bytes[156..172].copy_from_slice(&[f64::NAN.to_le_bytes(), f64::NAN.to_le_bytes()].concat());
        std::fs::write(p, bytes).unwrap();
    });
    case("missing", &["no such file"], &|_| {});
    case("nofootprint", &["no footprint"], &|p| copy_shp(&good, p, &[]));
    case("nokeepfield", &["footprint", "no field `Date`"], &|p| copy_shp(&good, p, &[]));
    // The footprint of nokeepfield: the good footprint's shape, no attributes.
    {
        let fp = fp_of(&input.join("nokeepfield_iwp.shp"));
        let src = gdal::Dataset::open(&good_fp).unwrap();
        let mut src_layer = src.layer(0).unwrap();
        let geometry = src_layer.features().next().unwrap().geometry().unwrap().clone();
        std::fs::remove_file(&fp).unwrap();
        let srs = src_layer.spatial_ref().unwrap();
        let ds = iwp_vector::vector::create_polygon_file(&fp, "footprint", &srs, &[]).unwrap();
        ds.layer(0).unwrap().create_feature(geometry).unwrap();
    }
    // Handled, not errors: a self-intersecting ring is repaired, a polygon across the
    // antimeridian is split, the same file listed twice is staged once.
    let bowtie = input.join("bowtie_iwp.shp");
    write_layer(
        &bowtie,
        OGRwkbGeometryType::wkbPolygon,
        &["POLYGON ((-2120000 522000, -2119990 522010, -2119990 522000, -2120000 522010, -2120000 522000))"],
    );
    let anti = input.join("antimeridian_iwp.shp");
    write_layer(&anti, OGRwkbGeometryType::wkbPolygon, &["POLYGON ((-1546828.43 1547368.47, -1547368.47 1546828.43, -1547360.58 1546820.55, -1546820.55 1547360.58, -1546828.43 1547368.47))"]);
    // An unclosed ring (GDAL reads it, with a warning): staged closed.
    let unclosed = input.join("unclosed_iwp.shp");
    write_layer(
        &unclosed,
        OGRwkbGeometryType::wkbPolygon,
        &["POLYGON ((-2120000 522000, -2119990 522000, -2119990 522010, -2120000 522010))"],
    );
    for p in [&bowtie, &anti, &unclosed] {
        std::fs::copy(&good_fp, fp_of(p)).unwrap();
    }

    let mut jobs: String = files.iter().map(|f| format!("{{\"path\":{}}}\n", f["path"])).collect();
    jobs.push_str(&format!("{{\"path\":{}}}\n", files[1]["path"])); // a duplicate job line
    for p in [&bowtie, &anti, &unclosed] {
        jobs.push_str(&format!("{{\"path\":\"{}\"}}\n", p.display()));
    }
    for (p, _) in &bad {
        jobs.push_str(&format!("{{\"path\":\"{}\",\"tag\":\"bad\"}}\n", p.display()));
    }
    jobs.push_str("{\"path\": oops\n[1, 2]\n{\"bytes\": 3}\n");
    let cfg = d.join("config.json");
    let out = run("iwp-stage", &["-c", cfg.to_str().unwrap()], Some(&jobs));
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let results = lines(&out.stdout);
    for (p, words) in &bad {
        let name = p.file_name().unwrap().to_string_lossy();
        let msg = error_for(&results, &name);
        assert!(msg.contains(&*name), "{name}: the message names the file: {msg}");
        for w in *words {
            assert!(msg.contains(w), "{name}: `{msg}` lacks `{w}`");
        }
    }
    let texts: Vec<&str> = results.iter().filter_map(|r| r["error"].as_str()).collect();
    assert_eq!(
        texts.iter().filter(|t| t.contains("not a job line")).count(),
        2,
        "malformed and non-object lines: {texts:#?}"
    );
    assert!(texts.iter().any(|t| t.contains("missing field `path`")), "a job line without a path: {texts:#?}");
    assert_eq!(texts.len(), bad.len() + 3, "no other errors: {texts:#?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bowtie_iwp.shp") && stderr.contains("repaired"), "the repair is reported");
    // The good files, the repaired one and both halves of the antimeridian polygon are staged,
    // rows once although a file was listed twice; every tile is readable.
    let rows = staged_rows(&d.join("staged"));
    let sources: std::collections::BTreeSet<String> =
        results.iter().filter(|r| r["status"] == "ok").filter_map(|r| r["source"].as_str().map(String::from)).collect();
    assert_eq!(sources.len(), 7, "{sources:?}");
    let unclosed_tile = results
        .iter()
        .find(|r| r["source"].as_str().is_some_and(|s| s.ends_with("unclosed_iwp.shp")))
        .map(|r| PathBuf::from(r["path"].as_str().unwrap()))
        .unwrap();
    let ds = gdal::Dataset::open(&unclosed_tile).unwrap();
    let mut layer = ds.layer(0).unwrap();
    let closed = layer
        .features()
        .filter(|f| {
            let name = f.field_index("staging_filename").ok().and_then(|i| f.field_as_string(i).ok().flatten());
            name.is_some_and(|n| n.ends_with("unclosed_iwp.shp"))
        })
        .filter_map(|f| {
            let mut ring = Vec::new();
            f.geometry()?.get_geometry(0).get_points(&mut ring);
            Some(ring)
        })
        .any(|ring| ring.len() == 5 && ring.first() == ring.last());
    assert!(closed, "the unclosed ring is staged closed");
    let anti_tiles: Vec<u64> = results
        .iter()
        .filter(|r| r["source"].as_str().is_some_and(|s| s.ends_with("antimeridian_iwp.shp")))
        .map(|r| r["x"].as_u64().unwrap())
        .collect();
    assert!(
        anti_tiles.len() <= 4 && anti_tiles.contains(&0) && anti_tiles.iter().any(|&x| x > 60000),
        "{anti_tiles:?}"
    );
    let total: usize = rows.values().map(|r| r.len()).sum();
    assert!(total >= 3000, "{total}");
    assert!(temp_files(d).is_empty());
}

/// A file wholly outside the tile matrix set (north of WebMercatorQuad's 85.05°) is an error
/// line; another file of the same run is staged.
#[test]
fn outside_the_tile_matrix_set() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let files = synth(d, "500", "1", &["--z-range", "11", "13"]);
    let pole = d.join("input/pole_iwp.shp");
    write_layer(
        &pole,
        OGRwkbGeometryType::wkbPolygon,
        &["POLYGON ((7600 -7600, 7700 -7600, 7700 -7700, 7600 -7700, 7600 -7600))"],
    );
    let good = PathBuf::from(files[0]["path"].as_str().unwrap());
    let fp = |p: &Path| d.join("footprints").join(p.strip_prefix(d.join("input")).unwrap()).with_extension("gpkg");
    std::fs::copy(fp(&good), fp(&pole)).unwrap();
    let jobs = format!("{{\"path\":\"{}\"}}\n{{\"path\":\"{}\"}}\n", good.display(), pole.display());
    let cfg = d.join("config.json");
    let o = run("iwp-stage", &["-c", cfg.to_str().unwrap(), "--set", "tms_id=WebMercatorQuad", "-q"], Some(&jobs));
    assert_eq!(o.status.code(), Some(1));
    let results = lines(&o.stdout);
    assert!(error_for(&results, "pole_iwp.shp").contains("outside the tile matrix set WebMercatorQuad"));
    assert!(results.iter().any(|r| r["status"] == "ok"), "the other file is staged");
}

/// Mounts a tmpfs (read-only, or of SIZE bytes) at `dir`; false when this is not possible (not root).
fn mount_tmpfs(dir: &Path, options: &str) -> bool {
    std::fs::create_dir_all(dir).unwrap();
    Command::new("mount").args(["-t", "tmpfs", "-o", options, "tmpfs"]).arg(dir).status().is_ok_and(|s| s.success())
}

fn umount(dir: &Path) {
    let _ = Command::new("umount").arg(dir).status();
}

/// Output problems: a read-only output folder, a full disk, a config of wrong types.
#[test]
fn output_folder_problems_and_bad_configs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    synth(d, "3000", "3", &[]);
    let cfg = d.join("config.json");
    let cfg = cfg.to_str().unwrap();
    let jobs = String::from_utf8(run("iwp-stage", &["-c", cfg, "--list"], None).stdout).unwrap();
    // A config with wrong types: exit 2, the key named, nothing written.
    std::fs::write(d.join("bad.json"), r#"{"z_range": "deep", "dir_input": "input"}"#).unwrap();
    let bad_cfg = d.join("bad.json");
    let here = d.to_str().unwrap();
    for (tool, extra) in [
        ("iwp-stage", &["--list"][..]),
        ("iwp-raster", &["--list"]),
        ("iwp-webtile", &["--list"]),
        ("iwp-merge", &["--from", here]),
    ] {
        let o = run(tool, &[&["-c", bad_cfg.to_str().unwrap()][..], extra].concat(), None);
        assert_eq!(o.status.code(), Some(2), "{tool}");
        assert!(String::from_utf8_lossy(&o.stderr).contains("z_range"), "{tool}: names the key");
    }
    let ro = d.join("readonly");
    let full = d.join("full");
    if !mount_tmpfs(&ro, "ro,size=1m") {
        assert!(std::env::var("IWP_REQUIRE_SLURM").as_deref() != Ok("1"), "cannot mount tmpfs (root needed)");
        eprintln!("SKIP: not root: read-only and full output folders not checked");
        return;
    }
    assert!(mount_tmpfs(&full, "size=160k"));
    for (out, what) in [(&ro, "Read-only file system"), (&full, "is full (")] {
        let o = run("iwp-stage", &["-c", cfg, "--out", out.to_str().unwrap(), "-q"], Some(&jobs));
        assert_eq!(o.status.code(), Some(1), "{what}: {}", String::from_utf8_lossy(&o.stderr));
        let results = lines(&o.stdout);
        let errors: Vec<&str> = results.iter().filter_map(|r| r["error"].as_str()).collect();
        assert!(!errors.is_empty() && errors.iter().all(|e| e.contains(what)), "{what}: {errors:#?}");
        assert!(
            errors.iter().any(|e| e.contains(out.to_str().unwrap())),
            "{what}: names the folder or tile: {errors:#?}"
        );
        // Each error line is its job's line (tiles are put in place and reported by another
        // thread than the one that staged the file): path and footprint kept.
        let failed: Vec<_> = results.iter().filter(|r| r["status"] == "error").collect();
        assert!(
            failed
                .iter()
                .all(|r| r["path"].as_str().is_some_and(|p| p.ends_with(".shp")) && r["footprint"].is_string()),
            "{what}: {failed:#?}"
        );
        // What was written is whole: every tile opens; no temporaries stay.
        for f in files_under(out).into_iter().filter(|p| p.extension().is_some_and(|e| e == "gpkg")) {
            assert!(iwp_vector::vector::feature_count(&f).is_ok(), "{} is corrupt", f.display());
        }
        assert!(temp_files(out).is_empty(), "{what}: temporaries left");
    }
    for m in [&ro, &full] {
        umount(m);
    }
}

/// Rasters, web tiles, merge and pack on bad inputs.
#[test]
fn raster_webtile_merge_and_pack_corpus() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    synth(&d.join("data"), "4000", "3", &["--z-range", "13", "15"]);
    let cfg = d.join("data/config.json");
    let cfg = cfg.to_str().unwrap();
    let staged = run(
        "iwp-stage",
        &["-c", cfg, "-q"],
        Some(&String::from_utf8(run("iwp-stage", &["-c", cfg, "--list"], None).stdout).unwrap()),
    );
    let mut staged_lines = String::from_utf8(staged.stdout).unwrap();
    // A corrupt staged tile and a line naming a tile that is not there.
    let garbage = d.join("data/staged/WorldCRS84Quad/15/1/1.gpkg");
    std::fs::create_dir_all(garbage.parent().unwrap()).unwrap();
    std::fs::write(&garbage, b"not a geopackage").unwrap();
    staged_lines.push_str(&format!("{{\"z\":15,\"x\":1,\"y\":1,\"path\":\"{}\"}}\n", garbage.display()));
    staged_lines.push_str("{\"z\":15,\"x\":2,\"y\":2,\"path\":\"/nonexistent/2.gpkg\"}\nnot json\n");
    let z15 = run("iwp-raster", &["-c", cfg, "--z", "15", "-q"], Some(&staged_lines));
    assert_eq!(z15.status.code(), Some(1));
    let results = lines(&z15.stdout);
    assert!(error_for(&results, "1.gpkg").contains("GeoPackage"), "{:?}", error_for(&results, "1.gpkg"));
    assert!(error_for(&results, "/nonexistent/2.gpkg").contains("nonexistent"));
    assert!(results.iter().filter(|r| r["status"] == "ok").count() > 5, "the other tiles rastered");
    let z15_text = String::from_utf8(z15.stdout).unwrap();
    // A child GeoTIFF of the wrong size: its parent fails, naming it; the other parents are built.
    let oks: Vec<&Value> = results.iter().filter(|r| r["status"] == "ok").collect();
    let victim = PathBuf::from(oks[0]["path"].as_str().unwrap());
    let o = Command::new("gdal_translate")
        .args(["-q", "-outsize", "128", "128"])
        .arg(&victim)
        .arg(d.join("small.tif"))
        .status()
        .unwrap();
    assert!(o.success());
    std::fs::rename(d.join("small.tif"), &victim).unwrap();
    let z14 = run("iwp-raster", &["-c", cfg, "--z", "14", "-q"], Some(&z15_text));
    assert_eq!(z14.status.code(), Some(1));
    let results14 = lines(&z14.stdout);
    let errors: Vec<&str> = results14.iter().filter_map(|r| r["error"].as_str()).collect();
    assert!(errors.iter().any(|e| e.contains(victim.to_str().unwrap()) && e.contains("128x128")), "{errors:#?}");
    assert!(results14.iter().any(|r| r["status"] == "ok"), "other parents built");
    // Shared out, each bad line is reported by one share only.
    let with_bad = format!("{z15_text}not json\n{{\"tms\":\"WebMercatorQuad\",\"z\":15,\"x\":0,\"y\":0}}\n");
    let mut shared_errors = Vec::new();
    for share in ["0/2", "1/2"] {
        let o = run("iwp-raster", &["-c", cfg, "--z", "14", "--shard", share, "-q"], Some(&with_bad));
        shared_errors.extend(lines(&o.stdout).into_iter().filter_map(|r| r["error"].as_str().map(String::from)));
    }
    for what in ["not a job line", "tile of WebMercatorQuad"] {
        assert_eq!(shared_errors.iter().filter(|e| e.contains(what)).count(), 1, "{what}: {shared_errors:#?}");
    }
    // Web tiles: a corrupt GeoTIFF fails alone.
    let broken = PathBuf::from(oks[1]["path"].as_str().unwrap());
    std::fs::write(&broken, b"not a tiff").unwrap();
    let web = run("iwp-webtile", &["-c", cfg, "-q"], Some(&z15_text));
    assert_eq!(web.status.code(), Some(1));
    let wr = lines(&web.stdout);
    let name = broken.file_name().unwrap().to_string_lossy();
    assert!(
        wr.iter().any(|r| r["status"] == "error" && r["error"].as_str().unwrap().contains(&*broken.to_string_lossy())),
        "{name}"
    );
    assert!(wr.iter().filter(|r| r["status"] == "ok").count() > 5);
    // Merge: a corrupt tile in one source fails that tile, the others are merged.
    let (a, b) = (d.join("nodeA"), d.join("nodeB"));
    let jobs = String::from_utf8(run("iwp-stage", &["-c", cfg, "--list"], None).stdout).unwrap();
    for (i, n) in [&a, &b].iter().enumerate() {
        let o = run(
            "iwp-stage",
            &["-c", cfg, "--shard", &format!("{i}/2"), "--out", n.to_str().unwrap(), "-q"],
            Some(&jobs),
        );
        assert!(o.status.success());
    }
    let shared: Vec<String> =
        iwp_tests::relative_files(&a, "gpkg").into_iter().filter(|r| b.join(r).exists()).collect();
    let spoiled = b.join(&shared[0]);
    std::fs::write(&spoiled, b"broken").unwrap();
    let m = run(
        "iwp-merge",
        &[
            "-c",
            cfg,
            "--from",
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            "--into",
            d.join("merged").to_str().unwrap(),
            "-q",
        ],
        None,
    );
    assert_eq!(m.status.code(), Some(1), "{}", String::from_utf8_lossy(&m.stderr));
    let mr = lines(&m.stdout);
    assert!(
        mr.iter().any(|r| r["status"] == "error" && r["error"].as_str().unwrap().contains(&*spoiled.to_string_lossy())),
        "{mr:#?}"
    );
    assert!(mr.iter().filter(|r| r["status"] == "ok").count() >= 1);
    assert!(!d.join("merged").join(&shared[0]).exists(), "the spoiled tile is not merged");
    // Pack: an archive missing from a pack folder is named.
    let pack = d.join("pack");
    assert!(run(
        "iwp-pack",
        &["pack", a.to_str().unwrap(), "--into", pack.to_str().unwrap(), "--size", "64KiB", "-q"],
        None
    )
    .status
    .success());
    let archives: Vec<PathBuf> =
        files_under(&pack).into_iter().filter(|p| p.extension().is_some_and(|e| e == "tar")).collect();
    assert!(archives.len() > 1);
    std::fs::remove_file(&archives[0]).unwrap();
    let u =
        run("iwp-pack", &["unpack", pack.to_str().unwrap(), "--to", d.join("unpacked").to_str().unwrap(), "-q"], None);
    assert_eq!(u.status.code(), Some(1));
    let ur = lines(&u.stdout);
    let archive_name = archives[0].file_name().unwrap().to_string_lossy();
    assert!(
        ur.iter().any(|r| r["status"] == "error" && r["error"].as_str().unwrap().contains(&*archive_name)),
        "{ur:#?}"
    );
    assert!(ur.iter().filter(|r| r["status"] == "ok").count() == archives.len() - 1, "the other archives unpacked");
}
