//! iwp-pack: 100,000 small files and a real staged tree round-trip with identical bytes, modes
//! and paths; a flipped byte is detected and named; kills during pack and unpack resume to a
//! complete verified result; `--since` ships only changes.

use iwp_tests::{files_under, kill_after_lines, lines, run, synth};
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

/// Relative path -> (bytes, mode) of every file under `dir` (the unpack markers left out).
fn tree(dir: &Path) -> BTreeMap<String, (Vec<u8>, u32)> {
    files_under(dir)
        .into_iter()
        .filter(|p| !p.to_string_lossy().contains("/.iwp-pack/"))
        .map(|p| {
            let mode = std::fs::metadata(&p).unwrap().permissions().mode();
            (p.strip_prefix(dir).unwrap().to_string_lossy().into_owned(), (std::fs::read(&p).unwrap(), mode))
        })
        .collect()
}

/// `count` files of 1-4 KB in nested folders, some with other modes.
fn small_files(dir: &Path, count: usize) {
    let mut state = 12345u64;
    for i in 0..count {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let len = 1024 + (state >> 33) as usize % 3072;
        let data: Vec<u8> = (0..len).map(|k| (state >> (k % 56)) as u8 ^ k as u8).collect();
        let path = dir.join(format!("{:03}/{:02}/f{i}.bin", i % 97, i % 13));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, data).unwrap();
        if i % 10 == 0 {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
    }
}

fn pack(src: &Path, into: &Path, extra: &[&str]) -> Vec<serde_json::Value> {
    let mut args = vec!["pack", src.to_str().unwrap(), "--into", into.to_str().unwrap()];
    args.extend_from_slice(extra);
    let o = run("iwp-pack", &args, None);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    lines(&o.stdout)
}

fn unpack(pack_dir: &Path, to: &Path) -> std::process::Output {
    run("iwp-pack", &["unpack", pack_dir.to_str().unwrap(), "--to", to.to_str().unwrap()], None)
}

#[test]
fn a_hundred_thousand_small_files_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    small_files(&src, 100_000);
    let archives = pack(&src, &dir.path().join("pack"), &["--size", "64MiB", "--zstd", "1"]);
    assert!(archives.len() >= 3, "{} archives", archives.len());
    let out = unpack(&dir.path().join("pack"), &dir.path().join("out"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(tree(&dir.path().join("out")), tree(&src), "bytes, modes and relative paths");
    let verify = run("iwp-pack", &["verify", dir.path().join("pack").to_str().unwrap()], None);
    assert!(verify.status.success());
    assert_eq!(
        lines(&run("iwp-pack", &["list", dir.path().join("pack").to_str().unwrap()], None).stdout).len(),
        100_000
    );
}

#[test]
fn a_staged_tree_round_trips_and_changes_ship_as_increments() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    synth(d, "3000", "2", &[]);
    let cfg = d.join("config.json").to_string_lossy().into_owned();
    let listed = run("iwp-stage", &["-c", &cfg, "--list"], None);
    assert!(run("iwp-stage", &["-c", &cfg], Some(&String::from_utf8_lossy(&listed.stdout))).status.success());
    let staged = d.join("staged");
    pack(&staged, &d.join("pack"), &["--size", "1MiB"]);
    // Change one tile, add a file, then pack only the changes.
    let first = files_under(&staged).into_iter().next().unwrap();
    std::fs::write(&first, b"changed").unwrap();
    std::fs::write(staged.join("new.txt"), b"new").unwrap();
    let inc = pack(&staged, &d.join("pack"), &["--since", d.join("pack/manifest-1.ndjson").to_str().unwrap()]);
    assert_eq!(inc.iter().map(|a| a["files"].as_u64().unwrap()).sum::<u64>(), 2, "only the 2 changed files");
    let out = unpack(&d.join("pack"), &d.join("out"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(tree(&d.join("out")), tree(&staged), "the latest version of every file");
    // --since the pack folder: changes since any earlier pack of the chain (the shipments of a
    // staging node); nothing changed packs nothing, and unpacking it is a no-op.
    let pack_dir = d.join("pack");
    let since = ["--since", pack_dir.to_str().unwrap()];
    let none = pack(&staged, &d.join("pack"), &since);
    assert_eq!(none.iter().map(|a| a["files"].as_u64().unwrap()).sum::<u64>(), 0, "nothing changed since the chain");
    assert!(unpack(&d.join("pack"), &d.join("out")).status.success(), "a pack of nothing unpacks");
    let second = files_under(&staged).into_iter().nth(1).unwrap();
    std::fs::write(&second, b"changed too").unwrap();
    let inc = pack(&staged, &d.join("pack"), &since);
    assert_eq!(inc.iter().map(|a| a["files"].as_u64().unwrap()).sum::<u64>(), 1, "only the file changed since");
    assert!(unpack(&d.join("pack"), &d.join("out")).status.success());
    assert_eq!(tree(&d.join("out")), tree(&staged), "the chain unpacked: the latest version of every file");
}

#[test]
fn a_flipped_byte_is_detected_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    small_files(&src, 200);
    for (name, extra) in [("plain", vec![]), ("zstd", vec!["--zstd", "3"])] {
        let p = dir.path().join(name);
        pack(&src, &p, &extra);
        let archive = files_under(&p).into_iter().find(|f| f.to_string_lossy().contains("part-")).unwrap();
        let mut bytes = std::fs::read(&archive).unwrap();
        let at = bytes.len() / 2;
        bytes[at] ^= 0x40;
        std::fs::write(&archive, bytes).unwrap();
        let out = unpack(&p, &dir.path().join(format!("out-{name}")));
        assert_eq!(out.status.code(), Some(1), "{name}");
        let errors: Vec<_> = lines(&out.stdout).into_iter().filter(|r| r["status"] == "error").collect();
        assert_eq!(errors.len(), 1, "{name}: {errors:?}");
        let text = errors[0]["error"].as_str().unwrap();
        assert!(text.contains(archive.file_name().unwrap().to_str().unwrap()), "{name}: names the archive: {text}");
        if name == "plain" {
            assert!(text.contains(".bin does not match"), "names the file: {text}");
        }
        let verify = run("iwp-pack", &["verify", p.to_str().unwrap()], None);
        assert_eq!(verify.status.code(), Some(1), "{name}: verify finds it too");
    }
}

/// Starts iwp-pack, kills it after `after` result lines.
fn kill_after(args: &[&str], after: usize) {
    kill_after_lines(Command::new(iwp_tests::bin("iwp-pack")).args(args), after);
}

#[test]
fn kills_during_pack_and_unpack_resume_to_a_verified_result() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    small_files(&src, 20_000);
    let p = dir.path().join("pack");
    let (src_s, p_s) = (src.to_str().unwrap(), p.to_str().unwrap());
    kill_after(&["pack", src_s, "--into", p_s, "--size", "2MiB", "--threads", "1"], 2);
    assert!(!p.join("manifest-1.ndjson").exists(), "the kill came before the manifest");
    pack(&src, &p, &["--size", "2MiB"]);
    let out = dir.path().join("out");
    let o = out.to_str().unwrap();
    kill_after(&["unpack", p_s, "--to", o, "--threads", "1"], 3);
    let rerun = unpack(&p, &out);
    assert!(rerun.status.success(), "{}", String::from_utf8_lossy(&rerun.stderr));
    assert!(lines(&rerun.stdout).iter().any(|r| r["skipped"] == true), "finished archives are skipped");
    assert_eq!(tree(&out), tree(&src));
}
