//! The workflow on a real Slurm: a throwaway two-node cluster on localhost (tests/slurm/cluster.sh)
//! runs slurm/iwp-run.sbatch with 2 tasks on both golden cases and on generated data; its
//! outputs equal examples/run-local.sh's (same tiles; identical GeoPackage rows, GeoTIFF values,
//! PNG pixels) and the golden data's tile sets and counts. A job cancelled during staging and
//! resubmitted ends with the same outputs; the raster script alone redoes only the rasters.
//!
//! Needs root and Slurm's daemons (make deps installs them); skipped without them unless
//! IWP_REQUIRE_SLURM=1.

use iwp_common::geotiff;
use iwp_tests::{bin, golden, png_pixels, raster_bits, relative_files, root, run_with, staged_rows, GoldenCase};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

/// A cluster started for one test, stopped when dropped.
struct Cluster {
    dir: tempfile::TempDir,
    conf: String,
}

impl Cluster {
    fn start() -> Option<Cluster> {
        let required = std::env::var("IWP_REQUIRE_SLURM").as_deref() == Ok("1");
        let root_user = Command::new("id").arg("-u").output().map(|o| o.stdout == b"0\n").unwrap_or(false);
        let have = iwp_tests::have("slurmctld") && iwp_tests::have("slurmd") && iwp_tests::have("sbatch");
        if !(root_user && have) {
            assert!(!required, "IWP_REQUIRE_SLURM=1 but slurmctld/slurmd/sbatch or root are missing");
            eprintln!("SKIP: no Slurm daemons (or not root); the Slurm workflow is not tested");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let out =
            Command::new(root().join("tests/slurm/cluster.sh")).arg("start").arg(dir.path()).arg("2").output().unwrap();
        assert!(out.status.success(), "cluster start: {}", String::from_utf8_lossy(&out.stderr));
        let conf = String::from_utf8(out.stdout).unwrap().trim().to_string();
        Some(Cluster { dir, conf })
    }

    /// A Slurm command with this cluster's config and the iwp binaries on PATH.
    fn command(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        let bins = bin("iwp-stage").parent().unwrap().to_path_buf();
        c.env("SLURM_CONF", &self.conf).env("IWP_BIN", &bins);
        c
    }

    /// Submits a script of slurm/ on 2 nodes x 1 task for CONFIG with run folder RUN; with
    /// `wait`, waits for it and returns its exit code and log; else its job id.
    fn submit(&self, script: &str, config: &str, run: &Path, wait: bool) -> (Option<i32>, String) {
        let log = run.with_extension(format!("{script}.log"));
        let mut c = self.command("sbatch");
        c.env("IWP_RUN", run).env("IWP_LOCAL", self.dir.path().join("local"));
        // A time limit, so a stalled job ends the test instead of hanging it.
        c.args(["-N", "2", "--ntasks-per-node", "1", "-t", "15", "-o", log.to_str().unwrap(), "--parsable"]);
        if wait {
            c.arg("--wait");
        }
        c.arg(root().join("slurm").join(script)).arg(config);
        let out = run_with(&mut c, None);
        let text = if wait {
            std::fs::read_to_string(&log).unwrap_or_default()
        } else {
            String::from_utf8(out.stdout).unwrap()
        };
        (out.status.code(), text)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new(root().join("tests/slurm/cluster.sh")).arg("stop").arg(self.dir.path()).status();
    }
}

/// What a run produced, in comparable form: per staged tile its rows (identifier -> every field
/// and the geometry's WKB), per GeoTIFF its bands' bits, per PNG its decoded pixels.
#[derive(Debug, PartialEq)]
struct Outputs {
    staged: BTreeMap<String, BTreeMap<String, String>>,
    rasters: BTreeMap<String, Vec<Vec<u64>>>,
    pngs: BTreeMap<String, Vec<u8>>,
}

fn outputs(case: &Path, staged: &str, geotiff: &str, web: &str) -> Outputs {
    Outputs {
        staged: staged_rows(&case.join(staged)),
        rasters: raster_bits(&case.join(geotiff)),
        pngs: png_pixels(&case.join(web)),
    }
}

/// Runs examples/run-local.sh on a case.
fn run_local(cluster: &Cluster, config: &str, run: &Path) {
    let mut c = cluster.command("bash");
    c.arg(root().join("examples/run-local.sh")).arg(config).arg(run);
    let out = run_with(&mut c, None);
    assert!(out.status.code().is_some_and(|c| c <= 1), "run-local.sh: {}", String::from_utf8_lossy(&out.stderr));
}

/// The two copies of a case: one for Slurm, one for run-local.sh.
struct Pair {
    slurm: PathBuf,
    local: PathBuf,
    _keep: Vec<tempfile::TempDir>,
}

fn compare(pair: &Pair, dirs: (&str, &str, &str)) -> Outputs {
    let (a, b) = (outputs(&pair.slurm, dirs.0, dirs.1, dirs.2), outputs(&pair.local, dirs.0, dirs.1, dirs.2));
    assert!(!a.staged.is_empty() && !a.rasters.is_empty() && !a.pngs.is_empty(), "outputs of every stage");
    assert_eq!(a.staged.keys().collect::<Vec<_>>(), b.staged.keys().collect::<Vec<_>>(), "the same staged tiles");
    for (rel, rows) in &a.staged {
        assert!(rows == &b.staged[rel], "{rel}: the same rows");
    }
    assert_eq!(a.rasters.keys().collect::<Vec<_>>(), b.rasters.keys().collect::<Vec<_>>(), "the same GeoTIFFs");
    for (rel, bands) in &a.rasters {
        assert!(bands == &b.rasters[rel], "{rel}: the same values, bit for bit");
    }
    assert_eq!(a.pngs, b.pngs, "the same PNG pixels");
    a
}

fn golden_pair(name: &str) -> Option<Pair> {
    let (a, b) = (GoldenCase::new(name)?, GoldenCase::new(name)?);
    Some(Pair { slurm: a.dir.path().to_path_buf(), local: b.dir.path().to_path_buf(), _keep: vec![a.dir, b.dir] })
}

fn config(case: &Path) -> String {
    case.join("config.json").to_string_lossy().into_owned()
}

#[test]
fn golden_cases_on_slurm_equal_run_local_and_the_reference() {
    let Some(cluster) = Cluster::start() else { return };
    let Some(golden_dir) = golden() else { return };
    for name in ["complete-workflow", "footprint-dedup"] {
        let pair = golden_pair(name).unwrap();
        let (code, log) = cluster.submit("iwp-run.sbatch", &config(&pair.slurm), &pair.slurm.join("run"), true);
        assert_eq!(code, Some(0), "{name}: iwp-run.sbatch failed:\n{log}");
        run_local(&cluster, &config(&pair.local), &pair.local.join("run"));
        let ours = compare(&pair, ("staged-vectors", "geotiffs", "web-tiles"));
        // Against the reference: the same tiles at every stage, the same rows per staged tile,
        // the same z-max counts.
        let expected = golden_dir.join(name).join("expected");
        assert_eq!(
            ours.staged.keys().cloned().collect::<Vec<_>>(),
            relative_files(&expected.join("staged-vectors"), "gpkg")
        );
        for rel in ours.staged.keys() {
            let n = iwp_common::vector::feature_count(&expected.join("staged-vectors").join(rel)).unwrap();
            assert_eq!(ours.staged[rel].len() as u64, n, "{name} {rel}: the reference's row count");
        }
        assert_eq!(ours.rasters.keys().cloned().collect::<Vec<_>>(), relative_files(&expected.join("geotiffs"), "tif"));
        let tiles: Vec<String> = ours.pngs.keys().filter(|p| !p.contains("/preview-z")).cloned().collect();
        assert_eq!(
            tiles,
            relative_files(&expected.join("web-tiles"), "png"),
            "the reference's PNGs (and our previews)"
        );
        for rel in ours.rasters.keys().filter(|r| r.contains("/13/")) {
            let theirs = geotiff::read(&expected.join("geotiffs").join(rel)).unwrap();
            let count: Vec<u64> = theirs.bands[0].iter().map(|v| v.to_bits()).collect();
            assert!(ours.rasters[rel][0] == count, "{name} {rel}: the reference's counts");
        }
        // Every stage's summary: complete, nothing failed.
        let summary = std::fs::read_to_string(pair.slurm.join("run/summary.ndjson")).unwrap();
        for line in summary.lines() {
            let s: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!((s["failed"].as_u64(), s["pending"].as_u64()), (Some(0), Some(0)), "{name}: {line}");
        }
    }
}

/// Generated data (EPSG:3413, footprints): POLYGONS in FILES, the same seed for every copy.
fn generated_copy(polygons: &str) -> (PathBuf, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let case = dir.path().join("data");
    iwp_tests::synth(&case, polygons, "8", &[]);
    (case, dir)
}

/// Modification times of every file below `dir`.
fn mtimes(dir: &Path) -> BTreeMap<PathBuf, SystemTime> {
    iwp_tests::files_under(dir)
        .into_iter()
        .map(|p| (p.clone(), std::fs::metadata(&p).unwrap().modified().unwrap()))
        .collect()
}

#[test]
fn generated_data_a_cancelled_job_resubmitted_and_the_raster_script_alone() {
    let Some(cluster) = Cluster::start() else { return };
    let dirs = ("staged", "geotiff", "web_tiles");
    let (local, _l) = generated_copy("200000");
    run_local(&cluster, &config(&local), &local.join("../run"));

    // A whole run on Slurm equals run-local.sh.
    let (slurm, _s) = generated_copy("200000");
    let (code, log) = cluster.submit("iwp-run.sbatch", &config(&slurm), &slurm.join("../run"), true);
    assert_eq!(code, Some(0), "iwp-run.sbatch failed:\n{log}");
    let pair = Pair { slurm: slurm.clone(), local: local.clone(), _keep: vec![] };
    let first = compare(&pair, dirs);
    let polygons: usize = first.staged.values().map(|rows| rows.len()).sum();
    assert!(polygons >= 200_000, "{polygons} rows staged");

    // Cancelled while staging (result lines of the first files are written), then resubmitted.
    let (again, _a) = generated_copy("200000");
    let run = again.join("../run");
    let (_, id) = cluster.submit("iwp-run.sbatch", &config(&again), &run, false);
    let id = id.trim().to_string();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let live: Vec<PathBuf> = std::fs::read_dir(run.join("stage/live"))
            .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        if live.iter().any(|f| std::fs::metadata(f).is_ok_and(|m| m.len() > 0)) {
            break;
        }
        assert!(Instant::now() < deadline, "staging never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(cluster.command("scancel").arg(&id).status().unwrap().success());
    let deadline = Instant::now() + Duration::from_secs(60);
    while !String::from_utf8(cluster.command("squeue").args(["-h", "-j", &id]).output().unwrap().stdout)
        .unwrap()
        .trim()
        .is_empty()
    {
        assert!(Instant::now() < deadline, "job {id} did not end");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(!run.join("stage.done").exists(), "cancelled before staging finished");
    let (code, log) = cluster.submit("iwp-run.sbatch", &config(&again), &run, true);
    assert_eq!(code, Some(0), "resubmitted run failed:\n{log}");
    // It went on from the cancelled job: unshipped results set aside, or only unshipped files staged.
    let staged_again =
        log.split("staging ").nth(1).and_then(|t| t.split(' ').next()).and_then(|n| n.parse::<usize>().ok());
    assert!(log.contains("a previous job stopped during staging") || staged_again.is_some_and(|n| n < 8), "{log}");
    let pair = Pair { slurm: again.clone(), local: local.clone(), _keep: vec![] };
    compare(&pair, dirs);

    // The raster script alone, on the finished run with its GeoTIFFs removed: the GeoTIFFs come
    // back the same; staged tiles, web tiles and the other stages' result lines are untouched.
    let untouched =
        [slurm.join("staged"), slurm.join("web_tiles"), slurm.join("../run/stage"), slurm.join("../run/merge")];
    let before: Vec<_> = untouched.iter().map(|d| mtimes(d)).collect();
    std::fs::remove_dir_all(slurm.join("geotiff")).unwrap();
    let (code, log) = cluster.submit("raster.sbatch", &config(&slurm), &slurm.join("../run"), true);
    assert_eq!(code, Some(0), "raster.sbatch failed:\n{log}");
    assert!(!log.contains("stage: start") && !log.contains("webtile: start") && log.contains("raster: start"), "{log}");
    let after: Vec<_> = untouched.iter().map(|d| mtimes(d)).collect();
    assert!(before == after, "only the rasters were written");
    assert_eq!(outputs(&slurm, dirs.0, dirs.1, dirs.2), first, "the same GeoTIFFs again");
}
