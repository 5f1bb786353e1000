//! Two processes writing the same outputs at the same time: staging the same files (and two
//! shards) into one folder, merging the same sources into one folder, rastering and rendering
//! the same tiles. Every tile ends readable and equal to one process's output, rows once.

use iwp_tests::{bin, png_pixels, raster_bits, run, staged_rows, synth, temp_files};
use std::path::Path;
use std::process::{Command, Stdio};

/// Runs two commands at once (both started before either is waited for); both must succeed.
fn both(a: &mut Command, b: &mut Command) {
    let mut pa = a.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let mut pb = b.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    for p in [&mut pa, &mut pb] {
        let status = p.wait().unwrap();
        let mut err = String::new();
        std::io::Read::read_to_string(p.stderr.as_mut().unwrap(), &mut err).unwrap();
        assert!(status.success(), "{err}");
    }
}

fn cmd(tool: &str, args: &[&str]) -> Command {
    let mut c = Command::new(bin(tool));
    c.args(args);
    c
}

fn set(key: &str, p: &Path) -> String {
    format!("{key}={}", p.display())
}

#[test]
fn two_processes_on_one_output_never_corrupt_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    synth(&d.join("data"), "12000", "6", &["--z-range", "11", "15"]);
    let cfg = d.join("data/config.json").to_string_lossy().into_owned();
    let jobs = d.join("files.ndjson");
    std::fs::write(&jobs, run("iwp-stage", &["-c", &cfg, "--list"], None).stdout).unwrap();
    let jobs = jobs.to_str().unwrap();
    let one = |out: &Path| {
        let o = run("iwp-stage", &["-c", &cfg, "--input", jobs, "--out", out.to_str().unwrap(), "-q"], None);
        assert!(o.status.success());
    };
    let reference = d.join("one");
    one(&reference);
    let want = staged_rows(&reference);

    for round in 0..3 {
        // The same files staged by two processes into one folder: rows once, as one process.
        let out = d.join(format!("same{round}"));
        let o = out.to_str().unwrap();
        both(
            &mut cmd("iwp-stage", &["-c", &cfg, "--input", jobs, "--out", o, "--threads", "1", "-q"]),
            &mut cmd("iwp-stage", &["-c", &cfg, "--input", jobs, "--out", o, "--threads", "2", "-q"]),
        );
        assert!(staged_rows(&out) == want, "round {round}: the same files staged twice at once");
        assert!(temp_files(&out).is_empty());
        // Two shards into one folder.
        let out = d.join(format!("shards{round}"));
        let o = out.to_str().unwrap();
        both(
            &mut cmd("iwp-stage", &["-c", &cfg, "--input", jobs, "--out", o, "--shard", "0/2", "-q"]),
            &mut cmd("iwp-stage", &["-c", &cfg, "--input", jobs, "--out", o, "--shard", "1/2", "-q"]),
        );
        assert!(staged_rows(&out) == want, "round {round}: two shards at once");
    }

    // Merging the same two sources into one folder twice at once.
    let nodes: Vec<String> = (0..2)
        .map(|i| {
            let n = d.join(format!("node{i}"));
            let o = run(
                "iwp-stage",
                &["-c", &cfg, "--input", jobs, "--shard", &format!("{i}/2"), "--out", n.to_str().unwrap(), "-q"],
                None,
            );
            assert!(o.status.success());
            n.to_string_lossy().into_owned()
        })
        .collect();
    for round in 0..3 {
        let into = d.join(format!("merged{round}"));
        let i = into.to_str().unwrap();
        let merge =
            || cmd("iwp-merge", &["-c", &cfg, "--from", &nodes[0], &nodes[1], "--into", i, "--transfer", "copy", "-q"]);
        both(&mut merge(), &mut merge());
        assert!(staged_rows(&into) == want, "round {round}: two merges at once");
        assert!(temp_files(&into).is_empty());
    }

    // Rasters and web tiles of the same tiles by two processes into one folder.
    let staged_lines = d.join("staged.ndjson");
    let lines = run(
        "iwp-stage",
        &["-c", &cfg, "--input", jobs, "--set", &set("dir_staged", &reference), "--force", "-q"],
        None,
    );
    std::fs::write(&staged_lines, lines.stdout).unwrap();
    let raster = |out: &Path| {
        cmd("iwp-raster", &["-c", &cfg, "--input", staged_lines.to_str().unwrap(), "-q"])
            .args([
                "--set",
                &set("dir_geotiff", &out.join("tif")),
                "--set",
                &set("filename_rasters_summary", &out.join("rs.csv")),
            ])
            .output()
            .unwrap()
    };
    let alone = d.join("raster-one");
    let lines = raster(&alone);
    assert!(lines.status.success());
    let raster_lines = d.join("rasters.ndjson");
    std::fs::write(&raster_lines, &lines.stdout).unwrap();
    let want_tif = raster_bits(&alone.join("tif"));
    let web = |out: &Path| {
        let mut c = cmd("iwp-webtile", &["-c", &cfg, "--input", raster_lines.to_str().unwrap(), "-q"]);
        c.args(["--set", &set("dir_web_tiles", &out.join("web"))]);
        c
    };
    assert!(web(&alone).status().unwrap().success());
    let want_png = png_pixels(&alone.join("web"));
    for round in 0..3 {
        let out = d.join(format!("raster{round}"));
        let r = || {
            let mut c = cmd("iwp-raster", &["-c", &cfg, "--input", staged_lines.to_str().unwrap(), "-q"]);
            c.args([
                "--set",
                &set("dir_geotiff", &out.join("tif")),
                "--set",
                &set("filename_rasters_summary", &out.join("rs.csv")),
            ]);
            c
        };
        both(&mut r(), &mut r());
        assert!(raster_bits(&out.join("tif")) == want_tif, "round {round}: two raster runs at once");
        both(&mut web(&out), &mut web(&out));
        assert!(png_pixels(&out.join("web")) == want_png, "round {round}: two web tile runs at once");
        assert!(temp_files(&out).is_empty());
    }
}
