//! Temporaries of killed processes: owners judged alive only when they exist, are not zombies
//! and started when their journal says; other hosts' journals by their lease; a claimed root is
//! swept of every folder a gone owner journaled, however deep, not only the folder rewritten.

use iwp_core::files::{host_name, remove_stale_temps, AtomicOutput, TEMP_PREFIX};
use iwp_core::temps::{claim, process_alive, sweep, JOURNAL_PREFIX};
use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

/// The start time (ticks since boot) of a process, from /proc.
fn start_of(pid: u32) -> u64 {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    stat[stat.rfind(')').unwrap() + 1..].split_whitespace().nth(19).unwrap().parse().unwrap()
}

/// A process that has exited and is not reaped: a zombie.
fn zombie() -> (std::process::Child, u32, u64) {
    let child = Command::new("true").stdout(Stdio::null()).spawn().unwrap();
    let pid = child.id();
    let start = start_of(pid);
    let t0 = std::time::Instant::now();
    while !fs::read_to_string(format!("/proc/{pid}/stat")).unwrap().contains(") Z ") {
        assert!(t0.elapsed() < Duration::from_secs(10), "the child did not exit");
        std::thread::sleep(Duration::from_millis(5));
    }
    (child, pid, start)
}

/// Writes a journal for owner (host, pid, start) listing `folders`, each holding one temporary
/// of that owner; returns the temporaries' paths.
fn left_behind(root: &Path, host: &str, pid: u32, start: u64, folders: &[&str]) -> Vec<std::path::PathBuf> {
    let journal = root.join(format!("{JOURNAL_PREFIX}{host}@{pid}@{start}"));
    let mut text = String::new();
    let mut temps = Vec::new();
    for f in folders {
        let dir = root.join(f);
        fs::create_dir_all(&dir).unwrap();
        text += &format!("{}\n", dir.display());
        let t = dir.join(format!("{TEMP_PREFIX}{pid}@{host}@7-1.png"));
        fs::write(&t, b"half").unwrap();
        temps.push(t);
    }
    fs::write(journal, text).unwrap();
    temps
}

#[test]
fn a_zombie_is_not_alive_and_its_temporaries_are_removed() {
    let (mut child, pid, start) = zombie();
    assert!(!process_alive(pid, None) && !process_alive(pid, Some(start)), "a zombie counts as gone");
    assert!(process_alive(std::process::id(), None));
    let dir = tempfile::tempdir().unwrap();
    let host = host_name();
    let t = dir.path().join(format!("{TEMP_PREFIX}{pid}@{host}@0-5.png"));
    fs::write(&t, b"x").unwrap();
    assert_eq!(remove_stale_temps(dir.path()).unwrap(), 1);
    assert!(!t.exists());
    // Through a journal too, in nested folders the sweep was not asked about.
    let temps = left_behind(dir.path(), host, pid, start, &["a/15/1", "b/14/2/3"]);
    assert_eq!(sweep(dir.path()).unwrap(), 2);
    assert!(temps.iter().all(|t| !t.exists()));
    assert!(fs::read_dir(dir.path()).unwrap().all(|e| !e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .starts_with(JOURNAL_PREFIX)));
    child.wait().unwrap();
}

#[test]
fn owners_alive_here_or_with_a_fresh_lease_keep_their_temporaries() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let host = host_name();
    // Alive on this host: a sleeping child, with its real start time.
    let mut sleeper = Command::new("sleep").arg("30").spawn().unwrap();
    let (pid, start) = (sleeper.id(), start_of(sleeper.id()));
    let alive = left_behind(root, host, pid, start, &["live/1"]);
    // The same pid with another start time: the id was reused, the owner is gone.
    let reused = left_behind(root, host, pid, start + 1, &["reused/1", "reused/2"]);
    // Another host: a fresh lease keeps them; one older than the lease does not.
    let fresh = left_behind(root, "other-node", 41, 1, &["fresh/1"]);
    let stale = left_behind(root, "far-node", 42, 1, &["stale/1", "stale/2/3"]);
    let old = SystemTime::now() - Duration::from_secs(iwp_core::temps::lease_secs() + 60);
    fs::File::options()
        .write(true)
        .open(root.join(format!("{JOURNAL_PREFIX}far-node@42@1")))
        .unwrap()
        .set_modified(old)
        .unwrap();
    // An unrelated file with the temporary prefix of another owner in a journaled folder stays.
    let other_owner = root.join(format!("stale/1/{TEMP_PREFIX}43@far-node@0-x.png"));
    fs::write(&other_owner, b"x").unwrap();

    assert_eq!(claim(&[root]), 4, "reused pid: 2, stale lease: 2");
    assert!(alive.iter().chain(&fresh).all(|t| t.exists()));
    assert!(reused.iter().chain(&stale).all(|t| !t.exists()));
    assert!(other_owner.exists());
    // This process now keeps a journal in the claimed root; a temporary below it is journaled.
    let out = AtomicOutput::new(&root.join("deep/15/9/9.png")).unwrap();
    fs::write(out.path(), b"x").unwrap();
    let mine = root.join(format!("{JOURNAL_PREFIX}{host}@{}@{}", std::process::id(), start_of(std::process::id())));
    let listed = fs::read_to_string(&mine).unwrap();
    assert!(listed.lines().any(|l| Path::new(l) == root.join("deep/15/9")), "{listed}");
    drop(out);
    sleeper.kill().unwrap();
    sleeper.wait().unwrap();
    assert_eq!(sweep(root).unwrap(), 1, "the sleeper's temporary, once it is gone");
}
