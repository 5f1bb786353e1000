//! Staged GeoPackages as other readers see them: the feature table is the configured layer
//! name, the CRS is registered by its EPSG code (organization EPSG, srs_id the code) so pyproj
//! finds EPSG:4326 or EPSG:3413, and GDAL's validate_gpkg.py reports nothing.

use iwp_tests::{clients, relative_files, run, synth};
use std::path::Path;
use std::process::Command;

const VALIDATE: &str = "/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_gpkg.py";

/// Stages generated data into `tms`; returns the staged folder.
fn staged(dir: &Path, tms: &str) -> std::path::PathBuf {
    synth(dir, "1500", "2", &["--z-range", "13", "15"]);
    let cfg = dir.join("config.json").to_string_lossy().into_owned();
    let set = format!("tms_id={tms}");
    let args = ["-c", cfg.as_str(), "--set", &set, "--set", "layer_name=ice_wedges"];
    let listed = run("iwp-stage", &[&args[..], &["--list"]].concat(), None);
    let out = run("iwp-stage", &args, Some(&String::from_utf8_lossy(&listed.stdout)));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    dir.join("staged")
}

#[test]
fn staged_geopackages_name_their_layer_and_epsg_crs() {
    for (tms, epsg) in [("WorldCRS84Quad", 4326), ("UPSArctic3413Quad", 3413)] {
        let dir = tempfile::tempdir().unwrap();
        let staged = staged(dir.path(), tms);
        let files = relative_files(&staged, "gpkg");
        assert!(files.len() > 3, "{files:?}");
        for rel in &files {
            let path = staged.join(rel);
            let db = tables(&path);
            assert_eq!(db.0, vec![("ice_wedges".to_string(), epsg)], "{rel}: table and srs_id");
            assert!(db.1.contains(&(epsg, "EPSG".to_string(), epsg)), "{rel}: {:?}", db.1);
        }
        let first = staged.join(&files[0]);
        if Path::new(VALIDATE).exists() {
            let v = Command::new("/usr/bin/python3").arg(VALIDATE).arg(&first).output().unwrap();
            assert!(v.status.success() && v.stdout.is_empty() && v.stderr.is_empty(), "{v:?}");
        } else {
            assert!(std::env::var("IWP_REQUIRE_CLIENTS").is_err(), "no {VALIDATE} (gdal-bin's python3-gdal)");
            eprintln!("SKIP validate_gpkg.py: not installed");
        }
        // pyproj reads the layer's CRS back as the EPSG code (GDAL writes it from the table).
        if let Some(clients) = clients() {
            let wkt = Command::new("ogrinfo")
                .args(["-so", "-nocount", "-noextent"])
                .arg(&first)
                .arg("ice_wedges")
                .output()
                .unwrap();
            assert!(wkt.status.success());
            let text = String::from_utf8_lossy(&wkt.stdout);
            let wkt = text.split("Layer SRS WKT:\n").nth(1).unwrap().split("\nData axis").next().unwrap();
            let code = Command::new(clients.join(".venv/bin/python"))
                .args(["-c", "import sys, pyproj; print(pyproj.CRS.from_wkt(sys.stdin.read()).to_epsg())"])
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .and_then(|mut c| {
                    use std::io::Write;
                    c.stdin.take().unwrap().write_all(wkt.as_bytes())?;
                    c.wait_with_output()
                })
                .unwrap();
            assert_eq!(String::from_utf8_lossy(&code.stdout).trim(), epsg.to_string(), "{tms}: pyproj");
        }
    }
}

/// A row of gpkg_spatial_ref_sys: srs_id, organization, organization_coordsys_id.
type SrsRow = (i64, String, i64);

/// (table name, srs_id) of gpkg_contents and (srs_id, organization, code) of
/// gpkg_spatial_ref_sys, read through GDAL's SQLite dialect.
fn tables(path: &Path) -> (Vec<(String, i64)>, Vec<SrsRow>) {
    let ds = gdal::Dataset::open(path).unwrap();
    let rows = |sql: &str| -> Vec<Vec<String>> {
        let mut out = Vec::new();
        if let Some(mut layer) = ds.execute_sql(sql, None, gdal::vector::sql::Dialect::SQLITE).unwrap() {
            use gdal::vector::LayerAccess;
            for f in layer.features() {
                out.push((0..f.field_count()).map(|i| f.field_as_string(i).unwrap().unwrap_or_default()).collect());
            }
        }
        out
    };
    let contents = rows("SELECT table_name, srs_id FROM gpkg_contents")
        .into_iter()
        .map(|r| (r[0].clone(), r[1].parse().unwrap()))
        .collect();
    let srs = rows("SELECT srs_id, organization, organization_coordsys_id FROM gpkg_spatial_ref_sys")
        .into_iter()
        .map(|r| (r[0].parse().unwrap(), r[1].clone(), r[2].parse().unwrap()))
        .collect();
    (contents, srs)
}
