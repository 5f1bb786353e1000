use iwp_core::files::{
    is_complete, is_temp_name, remove_stale_temps, write_atomic, write_atomic_unsynced, AtomicOutput,
};
use std::fs;

/// The names in `dir`, but this process's journal of temporaries (kept while it runs).
fn names(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into())
        .filter(|n: &String| !n.starts_with(iwp_core::temps::JOURNAL_PREFIX))
        .collect();
    v.sort();
    v
}

#[test]
fn atomic_write_creates_folders_and_leaves_no_temporaries() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("a/b/908.gpkg");
    assert!(!is_complete(&target));
    write_atomic(&target, b"data").unwrap();
    assert_eq!(fs::read(&target).unwrap(), b"data");
    assert!(is_complete(&target));
    assert_eq!(names(&dir.path().join("a/b")), ["908.gpkg"]);
    // Unsynced: the same outcome, renamed into place without waiting for the disk.
    write_atomic_unsynced(&dir.path().join("a/b/909.png"), b"png").unwrap();
    assert_eq!(fs::read(dir.path().join("a/b/909.png")).unwrap(), b"png");
    assert_eq!(names(&dir.path().join("a/b")), ["908.gpkg", "909.png"]);
}

#[test]
fn uncommitted_output_vanishes_and_keeps_extension() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("1.tif");
    {
        let out = AtomicOutput::new(&target).unwrap();
        assert!(out.path().to_string_lossy().ends_with("1.tif"));
        assert!(is_temp_name(&out.path().file_name().unwrap().to_string_lossy()));
        fs::write(out.path(), b"half").unwrap();
    }
    assert!(names(dir.path()).is_empty());
    assert!(!is_complete(&target));
}

#[test]
fn stale_temporaries_of_dead_processes_are_removed() {
    let dir = tempfile::tempdir().unwrap();
    let host = iwp_core::files::host_name();
    // Dead on this host (both name forms): removed. Live here, or of another host: kept.
    fs::write(dir.path().join(".iwp-tmp-999999999-0-908.gpkg"), b"x").unwrap();
    fs::write(dir.path().join(format!(".iwp-tmp-999999998@{host}@0-907.gpkg")), b"x").unwrap();
    let live = format!(".iwp-tmp-{}@{host}@0-909.gpkg", std::process::id());
    let other = ".iwp-tmp-999999997@another-node@3-906.gpkg".to_string();
    for n in [&live, &other] {
        fs::write(dir.path().join(n), b"x").unwrap();
    }
    fs::write(dir.path().join("910.gpkg"), b"x").unwrap();
    assert_eq!(remove_stale_temps(dir.path()).unwrap(), 2);
    let mut want = vec![other.as_str(), live.as_str(), "910.gpkg"];
    want.sort();
    assert_eq!(names(dir.path()), want);
    // A new temporary carries this host and this process.
    let out = AtomicOutput::new(&dir.path().join("911.gpkg")).unwrap();
    let name = out.path().file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.starts_with(&format!(".iwp-tmp-{}@{host}@", std::process::id())), "{name}");
}
