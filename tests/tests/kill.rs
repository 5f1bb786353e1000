//! Kill and resume, for every tool that writes: each run is SIGKILLed at a moment spread over an
//! uninterrupted run's time (22 kills per tool while it is working), then
//! run again to the end; its outputs must equal the uninterrupted run's, with no temporary file
//! left behind.

use iwp_tests::{bin, files_under, png_pixels, raster_bits, run, staged_rows, synth, temp_files, Rand};
use std::collections::BTreeMap;
use std::fmt::Debug;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Instant;

/// Kills wanted per tool, and the most runs tried to get them (a run that ends before its
/// moment is checked too, but does not count).
const KILLS: usize = 22;
const MAX_RUNS: usize = 40;

/// Generated data staged once, with the lines and outputs every tool's runs start from.
struct Base {
    _dir: tempfile::TempDir,
    cfg: String,
    staged_lines: PathBuf,
    nodes: [PathBuf; 2],
    raster_lines: PathBuf,
    files: PathBuf,
    pack: PathBuf,
}

fn base() -> &'static Base {
    static BASE: OnceLock<Base> = OnceLock::new();
    BASE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        synth(&d.join("data"), "12000", "6", &["--z-range", "11", "15"]);
        let cfg = d.join("data/config.json").to_string_lossy().into_owned();
        let listed = run("iwp-stage", &["-c", &cfg, "--list"], None);
        let jobs = String::from_utf8(listed.stdout).unwrap();
        let staged = run("iwp-stage", &["-c", &cfg, "-q"], Some(&jobs));
        assert!(staged.status.success(), "{}", String::from_utf8_lossy(&staged.stderr));
        std::fs::write(d.join("staged.ndjson"), &staged.stdout).unwrap();
        std::fs::write(d.join("files.ndjson"), &jobs).unwrap();
        let nodes = [d.join("node0"), d.join("node1")];
        for (i, n) in nodes.iter().enumerate() {
            let shard = format!("{i}/2");
            let o = run("iwp-stage", &["-c", &cfg, "--shard", &shard, "--out", n.to_str().unwrap(), "-q"], Some(&jobs));
            assert!(o.status.success());
        }
        let rasters =
            run("iwp-raster", &["-c", &cfg, "--input", d.join("staged.ndjson").to_str().unwrap(), "-q"], None);
        assert!(rasters.status.success(), "{}", String::from_utf8_lossy(&rasters.stderr));
        std::fs::write(d.join("rasters.ndjson"), &rasters.stdout).unwrap();
        // Many small files and a pack of them, for iwp-pack.
        let mut rand = Rand(3);
        for i in 0..6000 {
            let p = d.join(format!("small/{:02}/{:02}/f{i}.bin", i % 31, i % 7));
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            let len = 1024 + (rand.unit() * 3072.0) as usize;
            std::fs::write(&p, (0..len).map(|k| (k as u64 * 2654435761 + i as u64) as u8).collect::<Vec<_>>()).unwrap();
        }
        let o = run(
            "iwp-pack",
            &[
                "pack",
                d.join("small").to_str().unwrap(),
                "--into",
                d.join("pack").to_str().unwrap(),
                "--size",
                "512KiB",
                "-q",
            ],
            None,
        );
        assert!(o.status.success());
        Base {
            cfg,
            staged_lines: d.join("staged.ndjson"),
            nodes,
            raster_lines: d.join("rasters.ndjson"),
            files: d.join("files.ndjson"),
            pack: d.join("pack"),
            _dir: dir,
        }
    })
}

/// Every file below `dir` (relative) with its bytes, markers of unpacked archives left out.
fn file_bytes(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    files_under(dir)
        .into_iter()
        .map(|p| (p.strip_prefix(dir).unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap()))
        .collect()
}

/// Runs `make(out)` to the end twice (the reference), then until KILLS runs were killed: starts
/// it in a fresh `out`, kills it at a moment, runs it again to the end and compares `outputs(out)`.
fn kill_and_resume<T: PartialEq + Debug>(
    name: &str,
    make: impl Fn(&Path) -> Command,
    outputs: impl Fn(&Path) -> T,
    seed: u64,
) {
    // One tool at a time: run times measured with the others running would not hold.
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let scratch = tempfile::tempdir().unwrap();
    let finish = |out: &Path| {
        let o = iwp_tests::run_with(&mut make(out), None);
        assert_eq!(o.status.code(), Some(0), "{name}: {}", String::from_utf8_lossy(&o.stderr));
    };
    // The faster of two uninterrupted runs sets the moments.
    let mut took = std::time::Duration::MAX;
    for k in 0..2 {
        let t0 = Instant::now();
        finish(&scratch.path().join(format!("reference{k}")));
        took = took.min(t0.elapsed());
    }
    let reference = outputs(&scratch.path().join("reference0"));
    assert!(outputs(&scratch.path().join("reference1")) == reference, "{name}: two uninterrupted runs differ");
    let mut rand = Rand(seed);
    let mut killed = 0;
    let mut runs = 0;
    while killed < KILLS && runs < MAX_RUNS {
        let out = scratch.path().join(format!("run{runs}"));
        let at = took.mul_f64(0.9 * ((runs % KILLS) as f64 + rand.unit()) / KILLS as f64);
        runs += 1;
        let start = Instant::now();
        let mut child = make(&out).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        // Until the moment: a run that ends first sets a shorter scale for the next moments.
        loop {
            if child.try_wait().unwrap().is_some() {
                took = took.min(start.elapsed());
                break;
            }
            if start.elapsed() >= at {
                child.kill().unwrap();
                killed += 1;
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        let _ = child.wait();
        finish(&out);
        let got = outputs(&out);
        assert!(got == reference, "{name}: killed after {at:?} and run again, the outputs differ");
        let left = temp_files(&out);
        assert!(left.is_empty(), "{name}: killed after {at:?}: temporary files left: {left:?}");
    }
    eprintln!("{name}: {killed} of {runs} runs killed while working (an uninterrupted run took {took:?})");
    assert!(killed >= KILLS, "{name}: only {killed} of {runs} runs were still working when killed");
}

fn tool(name: &str) -> Command {
    Command::new(bin(name))
}

fn set(key: &str, dir: &Path) -> String {
    format!("{key}={}", dir.display())
}

#[test]
fn stage() {
    let b = base();
    kill_and_resume(
        "iwp-stage",
        |out| {
            let mut c = tool("iwp-stage");
            c.args(["-c", &b.cfg, "--input", b.files.to_str().unwrap(), "--out", out.join("staged").to_str().unwrap()])
                .args(["--set", &set("filename_staging_summary", &out.join("summary.csv")), "-q"]);
            c
        },
        |out| staged_rows(&out.join("staged")),
        1,
    );
}

#[test]
fn merge() {
    let b = base();
    kill_and_resume(
        "iwp-merge",
        |out| {
            let mut c = tool("iwp-merge");
            c.args(["-c", &b.cfg, "--from"]).args(&b.nodes).args([
                "--into",
                out.join("merged").to_str().unwrap(),
                "--threads",
                "1",
                "-q",
            ]);
            c
        },
        |out| staged_rows(&out.join("merged")),
        2,
    );
}

#[test]
fn raster() {
    let b = base();
    kill_and_resume(
        "iwp-raster",
        |out| {
            let mut c = tool("iwp-raster");
            c.args(["-c", &b.cfg, "--input", b.staged_lines.to_str().unwrap(), "-q"])
                .args(["--set", &set("dir_geotiff", &out.join("geotiff"))])
                .args(["--set", &set("filename_rasters_summary", &out.join("summary.csv"))]);
            c
        },
        |out| raster_bits(&out.join("geotiff")),
        3,
    );
}

#[test]
fn webtile() {
    let b = base();
    kill_and_resume(
        "iwp-webtile",
        |out| {
            let mut c = tool("iwp-webtile");
            c.args(["-c", &b.cfg, "--input", b.raster_lines.to_str().unwrap(), "-q"])
                .args(["--set", &set("dir_web_tiles", &out.join("web"))]);
            c
        },
        |out| png_pixels(&out.join("web")),
        4,
    );
}

#[test]
fn pack() {
    let b = base();
    let small = b.pack.with_file_name("small");
    kill_and_resume(
        "iwp-pack pack",
        |out| {
            let mut c = tool("iwp-pack");
            c.args([
                "pack",
                small.to_str().unwrap(),
                "--into",
                out.join("pack").to_str().unwrap(),
                "--size",
                "512KiB",
                "-q",
            ]);
            c
        },
        |out| file_bytes(&out.join("pack")),
        5,
    );
}

#[test]
fn unpack() {
    let b = base();
    let want = file_bytes(&b.pack.with_file_name("small"));
    kill_and_resume(
        "iwp-pack unpack",
        |out| {
            let mut c = tool("iwp-pack");
            c.args([
                "unpack",
                b.pack.to_str().unwrap(),
                "--to",
                out.join("files").to_str().unwrap(),
                "--threads",
                "2",
                "-q",
            ]);
            c
        },
        |out| {
            let mut files = file_bytes(&out.join("files"));
            files.retain(|k, _| !k.starts_with(".iwp-pack/"));
            assert!(files == want, "the packed files, byte for byte");
            files.len()
        },
        6,
    );
}

/// The journal and temporaries a killed process (a real one, gone) left under `root`, in folders
/// no later run writes into; returns the temporaries.
fn left_by_a_killed_process(root: &Path) -> Vec<PathBuf> {
    let mut gone = Command::new("true").spawn().unwrap();
    let pid = gone.id();
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let start: u64 = stat[stat.rfind(')').unwrap() + 1..].split_whitespace().nth(19).unwrap().parse().unwrap();
    gone.wait().unwrap();
    let host = iwp_core::files::host_name();
    let mut journal = String::new();
    let mut temps = Vec::new();
    for folder in ["old/15/3", "old/14/1/2", "x"] {
        let dir = root.join(folder);
        std::fs::create_dir_all(&dir).unwrap();
        journal += &format!("{}\n", dir.display());
        let t = dir.join(format!("{}{pid}@{host}@4-9.png", iwp_core::files::TEMP_PREFIX));
        std::fs::write(&t, b"half").unwrap();
        temps.push(t);
    }
    std::fs::write(root.join(format!("{}{host}@{pid}@{start}", iwp_core::temps::JOURNAL_PREFIX)), journal).unwrap();
    temps
}

#[test]
fn every_tool_removes_what_killed_processes_left_in_folders_it_does_not_write() {
    let d = tempfile::tempdir().unwrap();
    let b = base();
    let (small, pack) = (b.pack.with_file_name("small"), b.pack.clone());
    // Each tool with its arguments (CFG, ROOT: the config and the output root it claims).
    let cases: [(&str, &[&str]); 7] = [
        ("iwp-stage", &["-c", "CFG", "--out", "ROOT"]),
        ("iwp-merge", &["-c", "CFG", "--into", "ROOT"]),
        ("iwp-raster", &["-c", "CFG", "--set", "dir_geotiff=ROOT"]),
        ("iwp-webtile", &["-c", "CFG", "--set", "dir_web_tiles=ROOT"]),
        ("iwp-pack", &["pack", "SMALL", "--into", "ROOT"]),
        ("iwp-pack", &["unpack", "PACK", "--to", "ROOT"]),
        ("iwp-synth", &["--out", "ROOT", "--polygons", "10", "--files", "1"]),
    ];
    for (k, (name, args)) in cases.into_iter().enumerate() {
        let root = d.path().join(format!("root{k}"));
        let args: Vec<String> = args
            .iter()
            .map(|a| {
                a.replace("CFG", &b.cfg)
                    .replace("ROOT", root.to_str().unwrap())
                    .replace("SMALL", small.to_str().unwrap())
                    .replace("PACK", pack.to_str().unwrap())
            })
            .collect();
        let temps = left_by_a_killed_process(&root);
        let o = iwp_tests::run_with(tool(name).args(&args).arg("-q"), Some(""));
        assert!(o.status.code().is_some_and(|c| c < 2), "{name}: {}", String::from_utf8_lossy(&o.stderr));
        let left: Vec<&PathBuf> = temps.iter().filter(|t| t.exists()).collect();
        assert!(left.is_empty(), "{name} {args:?}: left {left:?}");
        assert!(temp_files(&root).is_empty(), "{name}: {:?}", temp_files(&root));
    }
}
