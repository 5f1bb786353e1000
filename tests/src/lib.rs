//! Helpers for the end-to-end tests: where the binaries and the golden data are, and how to
//! run a tool.

#![warn(missing_docs)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root").to_path_buf()
}

/// `../shared/golden` beside the project, or None (with a visible SKIP message) where it is
/// absent. With IWP_REQUIRE_GOLDEN=1 a missing golden folder fails the test instead.
pub fn golden() -> Option<PathBuf> {
    let dir = root().join("../shared/golden");
    if dir.join("README.md").is_file() {
        return Some(dir.canonicalize().unwrap_or(dir));
    }
    if std::env::var("IWP_REQUIRE_GOLDEN").as_deref() == Ok("1") {
        panic!("golden data not found at {} and IWP_REQUIRE_GOLDEN=1", dir.display());
    }
    eprintln!("SKIP: golden data not found at {}; golden checks skipped", dir.display());
    None
}

/// A tool binary built beside the test executable (target/<profile>/iwp-NAME).
pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    let dir = exe.parent().and_then(Path::parent).expect("target profile folder");
    let path = dir.join(name);
    assert!(path.is_file(), "{} is not built: run `cargo build --workspace` (same profile) first", path.display());
    path
}

/// Runs a tool with arguments and optional stdin; returns its output.
pub fn run(name: &str, args: &[&str], stdin: Option<&str>) -> Output {
    run_with(Command::new(bin(name)).args(args), stdin)
}

/// Runs a prepared command with optional stdin; returns its output.
pub fn run_with(cmd: &mut Command, stdin: Option<&str>) -> Output {
    use std::io::Write;
    cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn tool");
    if let Some(text) = stdin {
        match child.stdin.take().expect("stdin").write_all(text.as_bytes()) {
            // A tool that takes its jobs from a file may end before reading standard input (the
            // pipe then has no reader): its status and output are what the test checks.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
            written => written.expect("write stdin"),
        }
    }
    child.wait_with_output().expect("wait for tool")
}

/// Parses NDJSON output into JSON values.
pub fn lines(out: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(out).lines().map(|l| serde_json::from_str(l).expect("NDJSON line")).collect()
}

/// True when a command can be run (found on PATH).
pub fn have(cmd: &str) -> bool {
    Command::new("sh").args(["-c", &format!("command -v {cmd}")]).output().map(|o| o.status.success()).unwrap_or(false)
}

/// Every file below `dir`, sorted.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("read dir") {
        let p = e.expect("dir entry").path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// A golden case set up in a scratch folder: its config copied, its inputs and footprints linked,
/// so tools write their outputs beside them. None (skipped) without golden data.
pub struct GoldenCase {
    /// The scratch folder: the case's config.json copied, its input/ and footprints/ linked.
    pub dir: tempfile::TempDir,
    /// The golden case folder (with `expected/`).
    pub source: PathBuf,
}

impl GoldenCase {
    /// Sets up case `name` (e.g. "complete-workflow").
    pub fn new(name: &str) -> Option<GoldenCase> {
        let source = golden()?.join(name);
        let dir = tempfile::tempdir().expect("scratch dir");
        std::fs::copy(source.join("config.json"), dir.path().join("config.json")).expect("copy config");
        for sub in ["input", "footprints"] {
            if source.join(sub).is_dir() {
                std::os::unix::fs::symlink(source.join(sub), dir.path().join(sub)).expect("link inputs");
            }
        }
        Some(GoldenCase { dir, source })
    }

    /// The scratch config's path as a string.
    pub fn config(&self) -> String {
        self.dir.path().join("config.json").to_string_lossy().into_owned()
    }

    /// Runs `iwp-stage --list | iwp-stage` on the case; returns the staged tile lines (NDJSON text).
    pub fn stage(&self) -> String {
        let cfg = self.config();
        let listed = run("iwp-stage", &["--config", &cfg, "--list"], None);
        assert!(listed.status.success(), "{}", String::from_utf8_lossy(&listed.stderr));
        let out = run("iwp-stage", &["--config", &cfg], Some(&String::from_utf8_lossy(&listed.stdout)));
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

/// Generates sample data with iwp-synth (seed 3) into `out`; returns its job lines.
pub fn synth(out: &Path, polygons: &str, files: &str, extra: &[&str]) -> Vec<serde_json::Value> {
    let mut args =
        vec!["--out", out.to_str().expect("utf-8 path"), "--polygons", polygons, "--files", files, "--seed", "3"];
    args.extend_from_slice(extra);
    let o = run("iwp-synth", &args, None);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    lines(&o.stdout)
}

/// Paths, relative to `dir`, of the files under it whose extension is `ext`, sorted.
pub fn relative_files(dir: &Path, ext: &str) -> Vec<String> {
    files_under(dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .map(|p| p.strip_prefix(dir).expect("below dir").to_string_lossy().into_owned())
        .collect()
}

/// The files of [`relative_files`] with their bytes.
pub fn relative_contents(dir: &Path, ext: &str) -> Vec<(String, Vec<u8>)> {
    relative_files(dir, ext)
        .into_iter()
        .map(|rel| (rel.clone(), std::fs::read(dir.join(&rel)).expect("read")))
        .collect()
}

/// Starts `cmd` and kills it once it has printed `lines` result lines (a kill in mid-run).
pub fn kill_after_lines(cmd: &mut Command, lines: usize) {
    use std::io::BufRead;
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().expect("spawn tool");
    let mut reader = std::io::BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    for _ in 0..lines {
        line.clear();
        reader.read_line(&mut line).expect("read a result line");
    }
    child.kill().expect("kill");
    child.wait().expect("wait");
}

/// Per staged tile (path relative to `dir`): identifier -> every field and the geometry's WKB.
pub fn staged_rows(dir: &Path) -> BTreeMap<String, BTreeMap<String, String>> {
    use gdal::vector::LayerAccess;
    let mut out = BTreeMap::new();
    for rel in relative_files(dir, "gpkg") {
        let ds = gdal::Dataset::open(dir.join(&rel)).expect("open staged tile");
        let mut layer = ds.layer(0).expect("a layer");
        let mut rows = BTreeMap::new();
        for f in layer.features() {
            let fields: BTreeMap<String, String> = f.fields().map(|(n, v)| (n, format!("{v:?}"))).collect();
            let id = fields["staging_identifier"].clone();
            let wkb = f.geometry().expect("a geometry").wkb().expect("wkb");
            assert!(rows.insert(id, format!("{fields:?} {wkb:?}")).is_none(), "{rel}: an identifier twice");
        }
        out.insert(rel, rows);
    }
    out
}

/// Per GeoTIFF below `dir`: every band's values as bits.
pub fn raster_bits(dir: &Path) -> BTreeMap<String, Vec<Vec<u64>>> {
    relative_files(dir, "tif")
        .into_iter()
        .map(|rel| {
            let r = iwp_rasters::geotiff::read(&dir.join(&rel)).expect("read GeoTIFF");
            let bits = r.bands.iter().map(|b| b.iter().map(|v| v.to_bits()).collect()).collect();
            (rel, bits)
        })
        .collect()
}

/// Per PNG below `dir`: its pixels decoded to RGBA.
pub fn png_pixels(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    relative_files(dir, "png")
        .into_iter()
        .map(|rel| {
            let (_, _, rgba) = iwp_web::webtile::read_png_rgba(&dir.join(&rel)).expect("a PNG");
            (rel, rgba)
        })
        .collect()
}

/// Temporary outputs (`.iwp-tmp-*`) anywhere below `dir`.
pub fn temp_files(dir: &Path) -> Vec<PathBuf> {
    if !dir.exists() {
        return Vec::new();
    }
    files_under(dir)
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| iwp_core::files::is_temp_name(&n.to_string_lossy())))
        .collect()
}

/// The tests' deterministic generator (SplitMix64), the one the sample-data generator uses.
pub use iwp_vector::synth::Rand;

/// Generated data (`polygons` in `files` files, z levels `z`) staged and rasterized under `dir`;
/// returns the config's path and iwp-raster's result lines.
pub fn rasterized(dir: &Path, polygons: &str, files: &str, z: [&str; 2]) -> (String, String) {
    synth(dir, polygons, files, &["--z-range", z[0], z[1]]);
    let cfg = dir.join("config.json").to_string_lossy().into_owned();
    let listed = run("iwp-stage", &["-c", &cfg, "--list"], None);
    let staged = run("iwp-stage", &["-c", &cfg], Some(&String::from_utf8_lossy(&listed.stdout)));
    let rasters = run("iwp-raster", &["-c", &cfg], Some(&String::from_utf8_lossy(&staged.stdout)));
    assert!(rasters.status.success(), "{}", String::from_utf8_lossy(&rasters.stderr));
    (cfg, String::from_utf8_lossy(&rasters.stdout).into_owned())
}

/// The clients' folder (tests/clients) when its packages are installed (node_modules with
/// cesium, Debian's chromium, the .venv of Python clients); else None with a visible SKIP
/// message, or a failure under IWP_REQUIRE_CLIENTS.
pub fn clients() -> Option<PathBuf> {
    let dir = root().join("tests/clients");
    let ready = dir.join("node_modules/cesium").is_dir()
        && Path::new("/usr/bin/chromium").exists()
        && dir.join(".venv/bin/python").exists();
    if ready {
        return Some(dir);
    }
    assert!(std::env::var("IWP_REQUIRE_CLIENTS").is_err(), "tests/clients is not installed (tests/clients/install.sh)");
    eprintln!("SKIP client checks: run tests/clients/install.sh (chromium, cesium, gltf-validator, OWSLib, pmtiles)");
    None
}

/// A folder served over HTTP on 127.0.0.1 while this lives: Python's http.server, with byte
/// ranges answered (tests/clients/serve.py), as COG readers need.
pub struct Served {
    child: std::process::Child,
    /// `http://127.0.0.1:PORT/`.
    pub url: String,
}

impl Served {
    /// Serves `dir` on a free port of 127.0.0.1; returns once it answers.
    pub fn new(dir: &Path) -> Served {
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("port").port();
        let mut child = Command::new("python3")
            .arg(root().join("tests/clients/serve.py"))
            .arg(port.to_string())
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 -m http.server");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Served { child, url: format!("http://127.0.0.1:{port}/") };
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("http.server on port {port} did not start");
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    /// A command that ends without reading its standard input gives its output, not a panic:
    /// 1 MiB cannot fit a pipe's buffer, so the write meets the closed pipe every time.
    #[test]
    fn a_tool_that_does_not_read_stdin_is_run_to_its_end() {
        let out = super::run_with(&mut std::process::Command::new("true"), Some(&"x".repeat(1 << 20)));
        assert!(out.status.success());
    }
}
