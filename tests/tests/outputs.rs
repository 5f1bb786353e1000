//! Output errors are errors, for every tool: results written to a full disk (`> /dev/full`) end
//! the tool with exit 1 and one message on stderr; a reader that closes the pipe after one line
//! (`| head -1`) ends it quietly (exit 141 as coreutils killed by SIGPIPE, nothing on stderr, no
//! panic), and what it had already written is whole (no temporary left, the file named on the
//! line that was read exists whole).

use iwp_tests::{bin, synth, temp_files};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// Generated data taken through every stage once, for the tools' inputs.
struct Base {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    cfg: String,
    files: String,
    staged: String,
    rasters: String,
}

fn run(tool: &str, args: &[&str], stdin: Option<&str>) -> String {
    let o = iwp_tests::run(tool, args, stdin);
    assert!(o.status.success(), "{tool} {args:?}: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

fn base() -> &'static Base {
    static BASE: OnceLock<Base> = OnceLock::new();
    BASE.get_or_init(|| {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().to_path_buf();
        synth(&dir.join("data"), "3000", "4", &["--z-range", "13", "15"]);
        let cfg = dir.join("data/config.json").display().to_string();
        let files = run("iwp-stage", &["-c", &cfg, "--list", "-q"], None);
        let staged = run("iwp-stage", &["-c", &cfg, "-q"], Some(&files));
        let rasters = run("iwp-raster", &["-c", &cfg, "-q"], Some(&staged));
        let web = run("iwp-webtile", &["-c", &cfg, "-q"], Some(&rasters));
        std::fs::write(dir.join("web.ndjson"), &web).unwrap();
        Base { _dir: d, dir, cfg, files, staged, rasters }
    })
}

/// One area job line per z-max GeoTIFF line (the tile's box, a little inside), three at most.
fn tile_areas(rasters: &str) -> String {
    let span = 180.0 / f64::from(1u32 << 15);
    let mut jobs = String::new();
    for l in iwp_tests::lines(rasters.as_bytes()).iter().filter(|l| l["z"] == 15).take(3) {
        let (w, n) = (-180.0 + l["x"].as_f64().unwrap() * span, 90.0 - l["y"].as_f64().unwrap() * span);
        let bbox = [w + span * 0.1, n - span * 0.9, w + span * 0.9, n - span * 0.1];
        jobs.push_str(&format!("{}\n", serde_json::json!({"bbox": bbox})));
    }
    jobs
}

/// A tool's run for this test: arguments, job lines on stdin, and the folder it writes under.
struct Case {
    tool: &'static str,
    args: Vec<String>,
    stdin: String,
    out: Option<PathBuf>,
}

/// Every tool, on inputs that give several result lines, writing into a fresh folder under `at`.
fn cases(at: &Path) -> Vec<Case> {
    let b = base();
    let set = |k: &str, v: &Path| vec!["--set".to_string(), format!("{k}={}", v.display())];
    let case = |tool, mut args: Vec<String>, stdin: &str, out: Option<PathBuf>| {
        args.push("-q".into());
        Case { tool, args, stdin: stdin.to_string(), out }
    };
    let cfg = vec!["-c".to_string(), b.cfg.clone()];
    let small = b.dir.join("small");
    std::fs::create_dir_all(&small).unwrap();
    for i in 0..5 {
        std::fs::write(small.join(format!("f{i}")), vec![i as u8; 1000]).unwrap();
    }
    let pack = at.join("pack");
    vec![
        case("iwp-stage", [cfg.clone(), vec!["--list".into()]].concat(), "", None),
        case(
            "iwp-stage",
            [cfg.clone(), vec!["--out".into(), at.join("staged").display().to_string()]].concat(),
            &b.files,
            Some(at.join("staged")),
        ),
        case(
            "iwp-merge",
            [cfg.clone(), vec!["--into".into(), at.join("merged").display().to_string()]].concat(),
            &b.staged,
            Some(at.join("merged")),
        ),
        case(
            "iwp-raster",
            [cfg.clone(), set("dir_geotiff", &at.join("geotiff"))].concat(),
            &b.staged,
            Some(at.join("geotiff")),
        ),
        case(
            "iwp-webtile",
            [cfg.clone(), set("dir_web_tiles", &at.join("web"))].concat(),
            &b.rasters,
            Some(at.join("web")),
        ),
        case(
            "iwp-3dtiles",
            [cfg.clone(), set("dir_3dtiles", &at.join("3d")), vec!["--colour-range".into(), "0".into(), "100".into()]]
                .concat(),
            &b.staged,
            Some(at.join("3d")),
        ),
        case(
            "iwp-pack",
            vec![
                "pack".into(),
                small.display().to_string(),
                "--into".into(),
                pack.display().to_string(),
                "--size".into(),
                "1KiB".into(),
            ],
            "",
            Some(pack),
        ),
        case(
            "iwp-synth",
            vec![
                "--out".into(),
                at.join("synth").display().to_string(),
                "--polygons".into(),
                "200".into(),
                "--files".into(),
                "3".into(),
            ],
            "",
            Some(at.join("synth")),
        ),
        case("iwp-nodes", vec!["node[1-4]".into()], "", None),
        case(
            "iwp-extract",
            [cfg.clone(), set("dir_extracts", &at.join("extracts"))].concat(),
            &tile_areas(&b.rasters),
            Some(at.join("extracts")),
        ),
        case(
            "iwp-mosaic",
            [cfg.clone(), set("dir_mosaics", &at.join("mosaics"))].concat(),
            &b.rasters,
            Some(at.join("mosaics")),
        ),
        case(
            "iwp-catalog",
            [cfg.clone(), set("dir_catalog", &at.join("stac"))].concat(),
            &b.staged,
            Some(at.join("stac")),
        ),
    ]
}

fn spawn(c: &Case, stdout: Stdio) -> std::process::Child {
    let mut child = Command::new(bin(c.tool))
        .args(&c.args)
        .stdin(Stdio::piped())
        .stdout(stdout)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let text = c.stdin.clone();
    std::thread::spawn(move || {
        let _ = input.write_all(text.as_bytes());
    });
    child
}

#[test]
fn a_full_disk_for_results_is_one_message_and_exit_1() {
    let at = tempfile::tempdir().unwrap();
    for c in cases(at.path()) {
        let full = std::fs::File::options().write(true).open("/dev/full").unwrap();
        let o = spawn(&c, Stdio::from(full)).wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{} {:?}: {err}", c.tool, c.args);
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 1, "{} {:?}: one message: {err}", c.tool, c.args);
        assert!(lines[0].starts_with(&format!("{}: ", c.tool)) && lines[0].contains("No space left"), "{err}");
    }
}

#[test]
fn a_closed_pipe_ends_the_tool_quietly_and_leaves_what_it_wrote_whole() {
    let at = tempfile::tempdir().unwrap();
    for c in cases(at.path()) {
        let mut child = spawn(&c, Stdio::piped());
        let mut first = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
        // The reader is gone (its end of the pipe closed with the BufReader).
        let o = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!first.is_empty(), "{}: a first line", c.tool);
        assert!(matches!(o.status.code(), Some(0) | Some(141)), "{} {:?}: exit {:?}: {err}", c.tool, c.args, o.status);
        assert!(err.trim().is_empty(), "{} {:?}: quiet, got: {err}", c.tool, c.args);
        if let Some(out) = &c.out {
            assert!(temp_files(out).is_empty(), "{}: temporaries left: {:?}", c.tool, temp_files(out));
        }
        let line: serde_json::Value = serde_json::from_str(&first).unwrap();
        for key in ["path", "archive"] {
            if let Some(p) = line[key].as_str().filter(|p| c.out.as_ref().is_some_and(|o| Path::new(p).starts_with(o)))
            {
                assert!(std::fs::metadata(p).is_ok_and(|m| m.len() > 0), "{}: {p} is whole", c.tool);
            }
        }
    }
}

/// iwp-progress writes all it writes on stdout (status lines while it follows, the summary, the
/// job lines to redo) as results: on a full disk it ends at once with one message and exit 1;
/// a reader that closes the pipe ends it quietly (141, or its own status when all it wrote was
/// written), while it follows too.
#[test]
fn iwp_progress_on_a_full_disk_and_a_closed_pipe() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // 5,000 jobs, the first 1,000 with a result (every third failed): the lines to redo are more
    // than a pipe holds, and following never ends by itself.
    let path = |i: usize| format!("in/a-somewhat-long-folder-name/f{i:05}.shp");
    let jobs: String = (0..5000).map(|i| format!("{{\"path\":\"{}\",\"bytes\":{}}}\n", path(i), 100 + i)).collect();
    let results: String = (0..1000)
        .map(|i| match i % 3 {
            0 => format!("{{\"path\":\"{}\",\"status\":\"error\",\"error\":\"cannot read it\"}}\n", path(i)),
            _ => format!("{{\"path\":\"{}\",\"status\":\"ok\",\"secs\":0.5}}\n", path(i)),
        })
        .collect();
    std::fs::write(d.join("jobs.ndjson"), &jobs).unwrap();
    std::fs::write(d.join("stage.host0.0.ndjson"), results).unwrap();
    let (file, pattern) = (d.join("jobs.ndjson").display().to_string(), d.join("stage.*.ndjson").display().to_string());
    let case = |list: &str, stdin: &str, mode: &[&str]| {
        let args = ["--jobs", list, &pattern].iter().chain(mode).chain(&["-q"]).map(|a| a.to_string()).collect();
        Case { tool: "iwp-progress", args, stdin: stdin.to_string(), out: None }
    };
    let timeout = 60.0;
    // Each with its exit status when all it wrote was read: the summary says 3 (jobs without a
    // result), the lines to redo were all written (0); following, a write fails (141).
    let cases = [
        (case(&file, "", &["--once"]), 3),
        (case(&file, "", &["--failed"]), 0),
        (case("-", &jobs, &["--failed"]), 0),
        (case(&file, "", &["--wait", "--interval", "0.1", "--timeout", &timeout.to_string()]), 141),
    ];
    for (c, _) in &cases {
        let full = std::fs::File::options().write(true).open("/dev/full").unwrap();
        let started = std::time::Instant::now();
        let o = spawn(c, Stdio::from(full)).wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{:?}: {err}", c.args);
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 1, "{:?}: one message: {err}", c.args);
        assert!(lines[0].starts_with("iwp-progress: ") && lines[0].contains("No space left"), "{err}");
        assert!(started.elapsed().as_secs_f64() < timeout / 2.0, "{:?}: ended at the first write", c.args);
    }
    for (c, status) in &cases {
        let started = std::time::Instant::now();
        let mut child = spawn(c, Stdio::piped());
        let mut first = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
        let o = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        let line: serde_json::Value = serde_json::from_str(&first).unwrap();
        assert!(line.is_object(), "{:?}: a whole first line: {first}", c.args);
        if c.args.iter().any(|a| a == "--failed") {
            assert_eq!(first.trim_end(), jobs.lines().next().unwrap(), "the first job to redo, whole");
        }
        assert!(matches!(o.status.code(), Some(141)) || o.status.code() == Some(*status), "{:?}: {o:?}", c.args);
        assert!(err.trim().is_empty(), "{:?}: quiet, got: {err}", c.args);
        assert!(started.elapsed().as_secs_f64() < timeout / 2.0, "{:?}: ended at the first write after", c.args);
    }
}
