//! The workflow on a real Slurm: a throwaway two-node cluster on localhost (tests/slurm/cluster.sh)
//! runs slurm/iwp-run.sbatch with 2 tasks on both golden cases and on generated data; its
//! outputs equal examples/run-local.sh's (same tiles; identical GeoPackage rows, GeoTIFF values,
//! PNG pixels) and the golden data's tile sets and counts. A job cancelled during staging and
//! resubmitted ends with the same outputs; the raster script alone redoes only the rasters.
//!
//! Needs root and Slurm's daemons (make deps installs them); skipped without them unless
//! IWP_REQUIRE_SLURM=1.

use iwp_rasters::geotiff;
use iwp_tests::{
    bin, files_under, golden, png_pixels, raster_bits, relative_files, root, run_with, staged_rows, GoldenCase,
};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

/// A cluster started for one test, stopped when dropped. One at a time: on a 2-core machine
/// three clusters' jobs at once slow each other past the tests' time limits.
struct Cluster {
    dir: tempfile::TempDir,
    conf: String,
    _one: std::sync::MutexGuard<'static, ()>,
}

impl Cluster {
    fn start() -> Option<Cluster> {
        static ONE: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let one = ONE.lock().unwrap_or_else(|p| p.into_inner());
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
        Some(Cluster { dir, conf, _one: one })
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
        let (code, text, _) = self.submit_with(script, config, run, wait, &[]);
        (code, text)
    }

    /// [`Cluster::submit`] with more environment for the job; also returns the job's log file.
    fn submit_with(
        &self,
        script: &str,
        config: &str,
        run: &Path,
        wait: bool,
        env: &[(&str, &str)],
    ) -> (Option<i32>, String, PathBuf) {
        let log =
            run.with_extension(format!("{script}.{}.log", LOGS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)));
        let mut c = self.command("sbatch");
        c.env("IWP_RUN", run).env("IWP_LOCAL", self.local());
        c.envs(env.iter().copied());
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
        (out.status.code(), text, log)
    }
}

/// Numbers the jobs' log files.
static LOGS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

impl Cluster {
    /// The node-local scratch folder every job of this cluster uses (IWP_LOCAL).
    fn local(&self) -> PathBuf {
        self.dir.path().join("local")
    }

    /// Cancels a job and waits until Slurm has ended it.
    fn cancel(&self, id: &str) {
        assert!(self.command("scancel").arg(id).status().unwrap().success());
        self.wait_gone(id, 120);
    }

    /// Waits until a job is no longer in the queue.
    fn wait_gone(&self, id: &str, secs: u64) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while !String::from_utf8(self.command("squeue").args(["-h", "-j", id]).output().unwrap().stdout)
            .unwrap()
            .trim()
            .is_empty()
        {
            assert!(Instant::now() < deadline, "job {id} did not end:\n{}", self.diagnosis(id));
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The job's and nodes' states and the controller's last log lines, for a failure message.
    fn diagnosis(&self, id: &str) -> String {
        let out = |program: &str, args: &[&str]| {
            let o = self.command(program).args(args).output().map(|o| o.stdout).unwrap_or_default();
            String::from_utf8_lossy(&o).into_owned()
        };
        let log = std::fs::read_to_string(self.dir.path().join("log/slurmctld.log")).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(30).collect();
        format!(
            "{}{}{}",
            out("squeue", &["-j", id, "-o", "%i %T %r %S %M"]),
            out("sinfo", &["-N"]),
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        )
    }

    /// A node dies: SIGKILL of its slurmd, then of every process of its job steps (the tasks,
    /// which carry SLURMD_NODENAME, and the slurmstepd above each).
    fn kill_node(&self, node: &str) {
        let pid = std::fs::read_to_string(self.dir.path().join(format!("slurmd-{node}.pid"))).unwrap();
        let mut doomed = vec![pid.trim().to_string()];
        let mark = format!("SLURMD_NODENAME={node}\0");
        for e in std::fs::read_dir("/proc").unwrap().filter_map(Result::ok) {
            let p = e.file_name().to_string_lossy().into_owned();
            let Ok(env) = std::fs::read(e.path().join("environ")) else { continue };
            if !p.bytes().all(|b| b.is_ascii_digit()) || !String::from_utf8_lossy(&env).contains(&mark) {
                continue;
            }
            let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
            let parent = stat.rsplit(')').next().unwrap_or("").split_whitespace().nth(1).unwrap_or("").to_string();
            let cmd = std::fs::read(format!("/proc/{parent}/cmdline")).unwrap_or_default();
            if String::from_utf8_lossy(&cmd).starts_with("slurmstepd") {
                doomed.push(parent);
            }
            doomed.push(p);
        }
        assert!(doomed.len() > 1, "{node} runs no job step");
        let _ = Command::new("kill").arg("-9").args(&doomed).status();
    }

    /// Starts a node's slurmd again.
    fn restart_slurmd(&self, node: &str) {
        assert!(self.command("slurmd").args(["-N", node]).status().unwrap().success());
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
    run_local_with(cluster, config, run, &[]);
}

/// [`run_local`] with more environment.
fn run_local_with(cluster: &Cluster, config: &str, run: &Path, env: &[(&str, &str)]) {
    let mut c = cluster.command("bash");
    c.envs(env.iter().copied());
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
            let n = iwp_vector::vector::feature_count(&expected.join("staged-vectors").join(rel)).unwrap();
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

/// Generated data (EPSG:3413, footprints): POLYGONS in 8 files, the same seed for every copy.
fn generated_copy(polygons: &str) -> (PathBuf, tempfile::TempDir) {
    generated_files(polygons, "8")
}

/// Generated data: POLYGONS in FILES, the same seed for every copy.
fn generated_files(polygons: &str, files: &str) -> (PathBuf, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let case = dir.path().join("data");
    iwp_tests::synth(&case, polygons, files, &[]);
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
    // With the optional 3D tiles stage, on both.
    let tiles3d = [("IWP_3DTILES", "--colour-range 0 200")];
    run_local_with(&cluster, &config(&local), &local.join("../run"), &tiles3d);

    // A whole run on Slurm equals run-local.sh.
    let (slurm, _s) = generated_copy("200000");
    let (code, log, _) = cluster.submit_with("iwp-run.sbatch", &config(&slurm), &slurm.join("../run"), true, &tiles3d);
    assert_eq!(code, Some(0), "iwp-run.sbatch failed:\n{log}");
    assert!(log.contains("tiles3d: done"), "{log}");
    // The same 3D tiles, byte for byte: contents (shared over the tasks) and the hierarchy.
    let tree = |case: &Path| -> BTreeMap<PathBuf, Vec<u8>> {
        let root = case.join("3dtiles");
        files_under(&root)
            .into_iter()
            .map(|p| (p.strip_prefix(&root).unwrap().to_path_buf(), std::fs::read(&p).unwrap()))
            .collect()
    };
    let (a, b) = (tree(&slurm), tree(&local));
    assert!(a.keys().any(|k| k.ends_with("tileset.json")) && a.len() > 10, "{:?}", a.keys().collect::<Vec<_>>());
    assert!(a == b, "the same 3D tiles from Slurm and run-local.sh");
    let summary = std::fs::read_to_string(slurm.join("../run/summary.ndjson")).unwrap();
    assert!(summary.lines().any(|l| l.contains("\"stage\":\"3dtiles\"") && l.contains("\"failed\":0")), "{summary}");
    let pair = Pair { slurm: slurm.clone(), local: local.clone(), _keep: vec![] };
    let first = compare(&pair, dirs);
    mosaics_catalog_and_extracts(&cluster, &slurm, &local);
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
    cluster.cancel(&id);
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

/// The mosaics from Slurm equal run-local.sh's byte for byte and both runs have a STAC catalog
/// (with the 3D tiles); then area extracts as a Slurm batch (extract.sbatch, the areas shared over
/// the tasks) equal iwp-extract's on the local copy, and the catalog lists them.
fn mosaics_catalog_and_extracts(cluster: &Cluster, slurm: &Path, local: &Path) {
    let tree = |dir: &Path| -> BTreeMap<PathBuf, Vec<u8>> {
        files_under(dir)
            .into_iter()
            .map(|p| (p.strip_prefix(dir).unwrap().to_path_buf(), std::fs::read(&p).unwrap()))
            .collect()
    };
    let mosaics = tree(&slurm.join("mosaics"));
    assert!(mosaics.len() >= 2 && mosaics == tree(&local.join("mosaics")), "the same mosaics: {:?}", mosaics.keys());
    for case in [slurm, local] {
        assert!(
            case.join("stac/catalog.json").is_file() && case.join("stac/3dtiles/collection.json").is_file(),
            "{case:?}"
        );
    }
    // Two areas: the boxes of two z15 tiles, a little inside.
    let span = 180.0 / f64::from(1u32 << 15);
    let rasters = std::fs::read_to_string(local.join("../run/raster.ndjson")).unwrap();
    let areas: String = iwp_tests::lines(rasters.as_bytes())
        .iter()
        .filter(|l| l["z"] == 15)
        .step_by(7)
        .take(2)
        .enumerate()
        .map(|(i, l)| {
            let (w, n) = (-180.0 + l["x"].as_f64().unwrap() * span, 90.0 - l["y"].as_f64().unwrap() * span);
            format!("{}\n", serde_json::json!({"name": format!("site{i}"), "bbox": [w + span * 0.2, n - span * 1.5, w + span * 0.9, n - span * 0.1]}))
        })
        .collect();
    let file = slurm.join("../areas.ndjson");
    std::fs::write(&file, &areas).unwrap();
    let env = [("IWP_AREAS", file.to_str().unwrap())];
    let (code, log, _) = cluster.submit_with("extract.sbatch", &config(slurm), &slurm.join("../run"), true, &env);
    assert_eq!(code, Some(0), "extract.sbatch failed:\n{log}");
    assert!(log.contains("extract: 2 of 2 areas extracted"), "{log}");
    let on_slurm: Vec<serde_json::Value> = files_under(&slurm.join("../run/extract"))
        .into_iter()
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("extract."))
        .flat_map(|p| iwp_tests::lines(&std::fs::read(p).unwrap()))
        .collect();
    let here = iwp_tests::run("iwp-extract", &["-c", &config(local), "-q"], Some(&areas));
    let here = iwp_tests::lines(&here.stdout);
    assert_eq!((on_slurm.len(), here.len()), (2, 2));
    for l in &here {
        let s = on_slurm.iter().find(|s| s["name"] == l["name"]).expect("the same area on Slurm");
        assert_eq!((s["status"].as_str(), s["polygons"].as_u64()), (Some("ok"), l["polygons"].as_u64()), "{s}");
        let cog = |line: &serde_json::Value| std::fs::read(line["cog"].as_str().unwrap()).unwrap();
        assert!(cog(s) == cog(l), "{}: the same COG bytes", l["name"]);
    }
    let catalog = std::fs::read_to_string(slurm.join("stac/extracts/collection.json")).unwrap();
    assert_eq!(catalog.matches("\"rel\": \"item\"").count(), 2, "{catalog}");
}

/// Waits (up to 3 minutes) until `ready` holds; fails naming `what`.
fn wait_until(what: &str, ready: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(180);
    while !ready() {
        assert!(Instant::now() < deadline, "{what} never happened");
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// True when some file matching `dir/prefix*.ndjson` has a line.
fn has_lines(dir: &Path, prefix: &str) -> bool {
    std::fs::read_dir(dir).is_ok_and(|d| {
        d.filter_map(Result::ok).any(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with(prefix) && name.ends_with(".ndjson") && e.metadata().is_ok_and(|m| m.len() > 0)
        })
    })
}

/// What a finished run left that it should not have: temporaries under the data and the run
/// folder, half-made files (`*.tmp`, `.part`), result files of a running stage, node-local
/// folders of any job.
fn leftovers(case: &Path, run: &Path, local: &Path) -> Vec<PathBuf> {
    let mut left = iwp_tests::temp_files(case.parent().unwrap());
    left.extend(iwp_tests::files_under(run).into_iter().filter(|p| {
        let name = p.file_name().unwrap().to_string_lossy();
        name.ends_with(".tmp") || name.contains(".part") || p.starts_with(run.join("stage/live"))
    }));
    if let Ok(d) = std::fs::read_dir(local) {
        left.extend(
            d.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("iwp-")),
        );
    }
    left
}

#[test]
fn faults_on_slurm_leave_nothing_behind_and_resubmitted_runs_equal_an_uninterrupted_one() {
    let Some(cluster) = Cluster::start() else { return };
    let dirs = ("staged", "geotiff", "web_tiles");
    let (polygons, files) = ("400000", "48");
    let (reference, _r) = generated_files(polygons, files);
    run_local(&cluster, &config(&reference), &reference.join("../run"));
    let expected = outputs(&reference, dirs.0, dirs.1, dirs.2);
    assert!(!expected.pngs.is_empty());
    // Shipments every second: a cancel during staging falls between two of them.
    let ship = [("IWP_SHIP_SECS", "1")];
    let total: usize = files.parse().unwrap();

    // (stage, raster, webtile): a job cancelled once that stage has written result lines, then
    // submitted again; (node): node2 dies during staging (its slurmd and job processes
    // SIGKILLed), Slurm requeues the job, the node comes back and the job runs again.
    for fault in ["stage", "raster", "webtile", "node"] {
        let (case, _c) = generated_files(polygons, files);
        let run = case.join("../run");
        let (_, id, job_log) = cluster.submit_with("iwp-run.sbatch", &config(&case), &run, false, &ship);
        let id = id.trim().to_string();
        let (dir, prefix, stage) = match fault {
            // Every level's lines in one file per task (raster/all.NODE.TASK.ndjson).
            "raster" => ("raster", "all.", "raster"),
            "webtile" => ("webtile", "webtile.", "webtile"),
            _ => ("stage/done", "stage.", "stage"),
        };
        wait_until(&format!("{fault}: result lines of {stage}"), || has_lines(&run.join(dir), prefix));
        let log = if fault == "node" {
            cluster.kill_node("node2");
            wait_until("the job requeued after node2 is found dead", || {
                let state = cluster.command("squeue").args(["-h", "-j", &id, "-o", "%T"]).output().unwrap().stdout;
                String::from_utf8_lossy(&state).trim() == "PENDING"
            });
            assert!(!run.join("stage.done").exists(), "node2 died after staging");
            cluster.restart_slurmd("node2");
            // Once node2 is back and Slurm has ended the old steps on it (the requeued job keeps
            // its id), the job may start: a requeued job waits two minutes; no need here.
            wait_until("node2 idle again", || {
                let state = cluster.command("sinfo").args(["-h", "-n", "node2", "-o", "%t"]).output().unwrap().stdout;
                String::from_utf8_lossy(&state).trim() == "idle"
            });
            std::thread::sleep(Duration::from_secs(3));
            cluster.command("scontrol").args(["update", &format!("JobId={id}"), "StartTime=now"]).status().unwrap();
            cluster.wait_gone(&id, 300);
            let log = std::fs::read_to_string(&job_log).unwrap();
            assert!(run.join("webtile.done").exists(), "the requeued job finished:\n{log}");
            log
        } else {
            cluster.cancel(&id);
            assert!(!run.join(format!("{stage}.done")).exists(), "{fault}: cancelled after the stage ended");
            let (code, log, _) = cluster.submit_with("iwp-run.sbatch", &config(&case), &run, true, &ship);
            assert_eq!(code, Some(0), "{fault}: the resubmitted run failed:\n{log}");
            log
        };
        if stage == "stage" {
            // What was shipped before the fault is not staged again.
            let staged: usize =
                log.lines().rev().find_map(|l| l.split("] staging ").nth(1)?.split(' ').next()?.parse().ok()).unwrap();
            assert!(staged < total, "{fault}: {staged} of {total} files staged again:\n{log}");
        }
        let got = outputs(&case, dirs.0, dirs.1, dirs.2);
        assert!(got == expected, "{fault}: the resubmitted run's outputs differ from an uninterrupted run's");
        let left = leftovers(&case, &run, &cluster.local());
        assert!(left.is_empty(), "{fault}: left behind: {left:?}\n{log}");
    }
}
