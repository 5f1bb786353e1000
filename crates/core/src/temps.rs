//! Temporaries of killed processes, found without walking output trees of millions of files.
//!
//! Every output is written under a temporary name (`.iwp-tmp-PID@HOST@N-NAME`, see
//! [`crate::files::AtomicOutput`]) in its own folder. Before a process makes its first temporary
//! in a folder it appends that folder to its journal, `.iwp-tmp-journal-HOST@PID@START` in the
//! output root (the folder a tool claimed with [`claim`] that holds it, else the folder itself),
//! and it touches its journals every tenth of the lease while it runs (its lease) and removes
//! them when it exits normally. A tool claims its output roots at start, which sweeps them: the
//! journals of owners that are gone are read, their temporaries removed from the folders listed,
//! and the journals removed.
//!
//! An owner is gone when, on this host, no process has its id, or it is a zombie (exited, not yet
//! reaped), or the process with that id started at another time (the id was reused); on another
//! host (whose processes cannot be seen from here), when its journal was last touched more than
//! the lease ago (`IWP_LEASE_SECS`, default 600), compared with the time the filesystem gives
//! this process's own journal, so the hosts' clocks need not agree.

use std::collections::HashMap;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, SystemTime};

/// Journal file names start with this (a temporary name: listings and packs skip it).
pub const JOURNAL_PREFIX: &str = ".iwp-tmp-journal-";

/// Seconds after which another host's journal that nobody touched counts as its owner's death.
pub fn lease_secs() -> u64 {
    std::env::var("IWP_LEASE_SECS").ok().and_then(|s| s.parse().ok()).filter(|s| *s > 0).unwrap_or(600)
}

/// This process: host, pid, and its start time in clock ticks since boot (/proc/self/stat).
fn me() -> &'static (String, u32, u64) {
    static ME: OnceLock<(String, u32, u64)> = OnceLock::new();
    ME.get_or_init(|| {
        let pid = std::process::id();
        let start = process_state(pid).map(|(_, s)| s).unwrap_or(0);
        (crate::files::host_name().to_string(), pid, start)
    })
}

/// The state letter and start time (ticks since boot) of a process of this host, if it exists.
fn process_state(pid: u32) -> Option<(char, u64)> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // `pid (comm) state ...`: comm may hold spaces and parentheses, so fields follow the last `)`.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let state = fields.first()?.chars().next()?;
    let start = fields.get(19)?.parse().ok()?;
    Some((state, start))
}

/// True when process `pid` of this host runs: it exists, is not a zombie (or dead), and, when
/// `start` is given, started at that time.
pub fn process_alive(pid: u32, start: Option<u64>) -> bool {
    match process_state(pid) {
        None => false,
        Some(('Z' | 'X' | 'x', _)) => false,
        Some((_, s)) => start.is_none_or(|want| want == s),
    }
}

/// The journal name of an owner.
fn journal_name(host: &str, pid: u32, start: u64) -> String {
    format!("{JOURNAL_PREFIX}{host}@{pid}@{start}")
}

/// The owner a journal name gives: host, pid, start.
fn journal_owner(name: &str) -> Option<(String, u32, u64)> {
    let rest = name.strip_prefix(JOURNAL_PREFIX)?;
    let mut parts = rest.rsplitn(3, '@');
    let start = parts.next()?.parse().ok()?;
    let pid = parts.next()?.parse().ok()?;
    Some((parts.next()?.to_string(), pid, start))
}

/// This process's open journals, by output root, and the roots it claimed.
struct Journals {
    roots: Vec<PathBuf>,
    open: HashMap<PathBuf, (PathBuf, fs::File)>,
}

fn journals() -> &'static Mutex<Journals> {
    static J: OnceLock<Mutex<Journals>> = OnceLock::new();
    J.get_or_init(|| Mutex::new(Journals { roots: Vec::new(), open: HashMap::new() }))
}

/// A path made absolute, `.` and `..` taken out as text.
fn absolute(p: &Path) -> PathBuf {
    let abs = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let mut out = PathBuf::new();
    for c in abs.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

impl Journals {
    /// This process's journal in `root` (created on first use, with its lease kept).
    fn journal(&mut self, root: &Path) -> io::Result<&mut (PathBuf, fs::File)> {
        if !self.open.contains_key(root) {
            let (host, pid, start) = me();
            let path = root.join(journal_name(host, *pid, *start));
            fs::create_dir_all(root)?;
            let file = fs::OpenOptions::new().create(true).append(true).open(&path)?;
            keep_leases();
            self.open.insert(root.to_path_buf(), (path, file));
        }
        Ok(self.open.get_mut(root).expect("just inserted"))
    }
}

/// Claims output roots: each is swept of dead owners' temporaries (see the module notes), and
/// temporaries this process makes under it are journaled there. Returns how many were removed.
pub fn claim(roots: &[&Path]) -> usize {
    let mut removed = 0;
    for root in roots {
        let root = absolute(root);
        {
            let mut j = journals().lock().unwrap_or_else(|e| e.into_inner());
            if !j.roots.contains(&root) {
                j.roots.push(root.clone());
            }
            if let Err(e) = j.journal(&root) {
                tracing::warn!("{}: cannot keep a journal of temporaries: {e}", root.display());
                continue;
            }
        }
        match sweep(&root) {
            Ok(0) => {}
            Ok(n) => {
                tracing::info!("{}: {n} temporary files of killed processes removed", root.display());
                removed += n;
            }
            Err(e) => tracing::warn!("{}: cannot remove temporaries of killed processes: {e}", root.display()),
        }
    }
    removed
}

/// Journals `dir` as a folder this process makes temporaries in (before the first one), in the
/// journal of the claimed root holding it, else of `dir` itself.
pub(crate) fn note_folder(dir: &Path) -> io::Result<()> {
    let dir = absolute(dir);
    let mut j = journals().lock().unwrap_or_else(|e| e.into_inner());
    let root = j.roots.iter().filter(|r| dir.starts_with(r)).max_by_key(|r| r.as_os_str().len()).cloned();
    let root = root.unwrap_or_else(|| dir.clone());
    let (_, file) = j.journal(&root)?;
    file.write_all(format!("{}\n", dir.display()).as_bytes())
}

/// Removes what owners that are gone left under `root`: their temporaries in the folders their
/// journals list, then the journals. Returns how many temporaries were removed.
pub fn sweep(root: &Path) -> io::Result<usize> {
    let entries = match fs::read_dir(root) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let (host, pid, start) = me();
    let own = journal_name(host, *pid, *start);
    // "Now" as the filesystem tells it: the time of this process's own journal, touched now.
    let now = fs::File::open(root.join(&own))
        .ok()
        .and_then(|f| {
            touch(&f).ok()?;
            f.metadata().ok()?.modified().ok()
        })
        .unwrap_or_else(SystemTime::now);
    let lease = Duration::from_secs(lease_secs());
    let mut removed = 0;
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some((owner_host, owner_pid, owner_start)) = journal_owner(&name) else { continue };
        if name == own {
            continue;
        }
        let gone = if owner_host == *host {
            !process_alive(owner_pid, Some(owner_start))
        } else {
            let touched = entry.metadata()?.modified()?;
            now.duration_since(touched).is_ok_and(|age| age > lease)
        };
        if gone {
            removed += clear_owner(&entry.path(), &owner_host, owner_pid)?;
        }
    }
    Ok(removed)
}

/// Removes the temporaries of one gone owner from the folders its journal lists, then the journal.
fn clear_owner(journal: &Path, host: &str, pid: u32) -> io::Result<usize> {
    let text = match fs::read_to_string(journal) {
        Ok(t) => t,
        // Another process sweeping the same root got there first.
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let prefix = format!("{}{pid}@{host}@", crate::files::TEMP_PREFIX);
    let mut removed = 0;
    let mut folders: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
    folders.sort_unstable();
    folders.dedup();
    for folder in folders {
        let Ok(entries) = fs::read_dir(folder) else { continue };
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().starts_with(&prefix) {
                match fs::remove_file(e.path()) {
                    Ok(()) => removed += 1,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e),
                }
            }
        }
    }
    match fs::remove_file(journal) {
        Ok(()) => Ok(removed),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(removed),
        Err(e) => Err(e),
    }
}

/// Sets a file's times to now, as the filesystem's clock says.
fn touch(f: &fs::File) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: a valid open descriptor; a null times pointer means "now" for both times.
    if unsafe { libc::futimens(f.as_raw_fd(), std::ptr::null()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Starts, once, the thread that touches this process's journals every tenth of the lease, and
/// has them removed when the process exits normally.
fn keep_leases() {
    static STARTED: OnceLock<()> = OnceLock::new();
    STARTED.get_or_init(|| {
        extern "C" fn remove_journals() {
            let j = journals().lock().unwrap_or_else(|e| e.into_inner());
            for (path, _) in j.open.values() {
                let _ = fs::remove_file(path);
            }
        }
        // SAFETY: registers a plain function without arguments to run at exit.
        unsafe { libc::atexit(remove_journals) };
        let every = Duration::from_secs((lease_secs() / 10).max(1));
        let spawned = std::thread::Builder::new().name("iwp-lease".into()).spawn(move || loop {
            std::thread::sleep(every);
            let j = journals().lock().unwrap_or_else(|e| e.into_inner());
            for (_, file) in j.open.values() {
                let _ = touch(file);
            }
        });
        if let Err(e) = spawned {
            tracing::warn!("cannot start the thread keeping temporaries' leases: {e}");
        }
    });
}
