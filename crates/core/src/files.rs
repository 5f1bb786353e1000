//! Output files: written under a temporary name in the same folder, then renamed into place,
//! so a killed run never leaves a half-written output under its real name.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Every temporary output name starts with this.
pub const TEMP_PREFIX: &str = ".iwp-tmp-";

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// This machine's host name (temporary names carry it: on a shared filesystem a process id
/// means something only on its own host).
pub fn host_name() -> &'static str {
    static HOST: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HOST.get_or_init(|| {
        fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().replace(['@', '/'], "_"))
            .unwrap_or_else(|_| "localhost".into())
    })
}

/// True for names of temporary outputs (which listings of outputs must skip).
pub fn is_temp_name(name: &str) -> bool {
    name.starts_with(TEMP_PREFIX)
}

/// An output being written: a temporary path beside the target, removed on drop unless committed.
#[derive(Debug)]
pub struct AtomicOutput {
    temp: PathBuf,
    target: PathBuf,
    committed: bool,
}

impl AtomicOutput {
    /// Prepares to write `target`: creates its folder and picks a unique temporary name that
    /// keeps the target's extension (so GDAL picks the same driver).
    pub fn new(target: &Path) -> io::Result<AtomicOutput> {
        let dir = target.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        fs::create_dir_all(dir)
            .map_err(|e| io::Error::new(e.kind(), format!("cannot create folder {}: {e}", dir.display())))?;
        let name = target
            .file_name()
            .ok_or_else(|| {
                io::Error::new(io::ErrorKind::InvalidInput, format!("{} has no file name", target.display()))
            })?
            .to_string_lossy();
        clean_once(dir);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        // .iwp-tmp-PID@HOST@N-NAME: whose it is, so only its host can tell it is stale.
        let temp = dir.join(format!("{TEMP_PREFIX}{}@{}@{n}-{name}", std::process::id(), host_name()));
        Ok(AtomicOutput { temp, target: target.to_path_buf(), committed: false })
    }

    /// Where to write now.
    pub fn path(&self) -> &Path {
        &self.temp
    }

    /// Where the output ends up.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Flushes the temporary file to disk and renames it onto the target: after the call the
    /// output survives a crash of the machine. For outputs that gather other work (staged tiles).
    pub fn commit(self) -> io::Result<()> {
        if let Ok(f) = fs::File::open(&self.temp) {
            f.sync_all()?;
        }
        self.rename()
    }

    /// Renames the temporary file onto the target without waiting for the disk: a killed process
    /// never leaves a partial file, but a machine crash may leave an empty or truncated one,
    /// which a rerun detects and writes again. For derived tiles (GeoTIFFs, PNGs), where waiting
    /// for the disk per small file costs more than the work.
    pub fn commit_unsynced(self) -> io::Result<()> {
        self.rename()
    }

    fn rename(mut self) -> io::Result<()> {
        fs::rename(&self.temp, &self.target).map_err(|e| {
            io::Error::new(e.kind(), format!("cannot rename {} to {}: {e}", self.temp.display(), self.target.display()))
        })?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for AtomicOutput {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_file(&self.temp);
        }
    }
}

/// Flushes everything written to the filesystem holding `path` to disk (syncfs): one wait for
/// the disk where many small outputs would each wait for it with [`AtomicOutput::commit`].
pub fn sync_filesystem(path: &Path) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let dir = fs::File::open(path)?;
    // SAFETY: syncfs on a descriptor that stays open for the call.
    if unsafe { libc::syncfs(dir.as_raw_fd()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Writes `bytes` to a new file at `path` and starts its writeback to disk without waiting for
/// it (Linux `sync_file_range`), so a later [`sync_filesystem`] finds it written or in flight.
/// Starting the writeback is advice: a filesystem that refuses it is flushed by the sync alone.
pub fn write_starting_writeback(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let mut f = fs::File::create(path)?;
    f.write_all(bytes)?;
    // SAFETY: sync_file_range on a descriptor that stays open for the call; its result is
    // ignored (it only starts writing back what the later sync writes anyway).
    unsafe { libc::sync_file_range(f.as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE) };
    Ok(())
}

/// Asks the kernel to start reading a whole file into the page cache (Linux
/// `posix_fadvise(WILLNEED)`), so reads that follow find it there or on its way rather than
/// waiting on one small read after another. Missing or unreadable files are left alone.
pub fn prefetch(path: &Path) {
    use std::os::fd::AsRawFd;
    if let Ok(f) = fs::File::open(path) {
        // SAFETY: posix_fadvise on a descriptor that stays open for the call; advice only.
        unsafe { libc::posix_fadvise(f.as_raw_fd(), 0, 0, libc::POSIX_FADV_WILLNEED) };
    }
}

/// Writes `bytes` to `target` atomically and durably ([`AtomicOutput::commit`]).
pub fn write_atomic(target: &Path, bytes: &[u8]) -> io::Result<()> {
    write_temp(target, bytes)?.commit()
}

/// Writes `bytes` to `target` atomically, not waiting for the disk ([`AtomicOutput::commit_unsynced`]).
pub fn write_atomic_unsynced(target: &Path, bytes: &[u8]) -> io::Result<()> {
    write_temp(target, bytes)?.commit_unsynced()
}

fn write_temp(target: &Path, bytes: &[u8]) -> io::Result<AtomicOutput> {
    let out = AtomicOutput::new(target)?;
    let mut f = fs::File::create(out.path())?;
    f.write_all(bytes)?;
    Ok(out)
}

/// Appends CSV records to `path` under an exclusive lock on the file, writing `header` first when
/// the file is new or empty, so processes on several nodes can share one summary file.
pub fn append_csv(path: &Path, header: &[&str], records: &[Vec<String>]) -> io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir)?;
    }
    let mut file = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| io::Error::new(e.kind(), format!("cannot open {}: {e}", path.display())))?;
    file.lock()?;
    let mut w = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::new());
    if file.metadata()?.len() == 0 {
        w.write_record(header)?;
    }
    for r in records {
        w.write_record(r)?;
    }
    file.write_all(&w.into_inner().map_err(|e| io::Error::other(e.to_string()))?)
}

/// True when `target` exists as a non-empty file: outputs appear only complete, by rename.
pub fn is_complete(target: &Path) -> bool {
    fs::metadata(target).map(|m| m.is_file() && m.len() > 0).unwrap_or(false)
}

/// The first time this process writes into `dir`: journals the folder (so that, if this process
/// is killed, a later one removes its temporaries: [`crate::temps`]) and removes what killed
/// processes of this host left there without a journal.
fn clean_once(dir: &Path) {
    static CLEANED: std::sync::Mutex<Option<std::collections::HashSet<PathBuf>>> = std::sync::Mutex::new(None);
    let first = CLEANED
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get_or_insert_with(Default::default)
        .insert(dir.to_path_buf());
    if first {
        if let Err(e) = crate::temps::note_folder(dir) {
            tracing::warn!("{}: cannot journal temporaries: {e}", dir.display());
        }
        match remove_stale_temps(dir) {
            Ok(0) => {}
            Ok(n) => tracing::info!("{}: {n} temporary files of a killed run removed", dir.display()),
            Err(e) => tracing::warn!("{}: cannot remove temporary files of a killed run: {e}", dir.display()),
        }
    }
}

/// Removes temporary outputs left in `dir` (not recursive) by processes of this host that are
/// gone (no such process, or a zombie); returns how many were removed. Temporaries of live
/// processes, of other hosts (whose processes this host cannot see) and journals (which
/// [`crate::temps::sweep`] handles) are kept.
pub fn remove_stale_temps(dir: &Path) -> io::Result<usize> {
    let mut removed = 0;
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(TEMP_PREFIX) else {
            continue;
        };
        if name.starts_with(crate::temps::JOURNAL_PREFIX) {
            continue;
        }
        // PID@HOST@N-NAME, or (written before hosts were named) PID-N-NAME on this host.
        let (pid, host) = match rest.split_once('@') {
            Some((pid, tail)) => (pid, tail.split_once('@').map(|(h, _)| h)),
            None => (rest.split('-').next().unwrap_or(""), Some(host_name())),
        };
        if host != Some(host_name()) {
            continue;
        }
        let alive = pid.parse::<u32>().is_ok_and(|pid| crate::temps::process_alive(pid, None));
        if !alive {
            match fs::remove_file(entry.path()) {
                Ok(()) => removed += 1,
                // Another process cleaning the same folder got there first.
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(removed)
}

/// `path` relative to `dir`, however either is spelled: relative or absolute, with `.` or `..`, or
/// through symbolic links (to the folders, or of the file itself into `dir`). None when `path` is
/// not inside `dir`. Names derived from it (staging_filename, footprint names) so do not depend on
/// how a config or a job line wrote the path.
pub fn relative_within(path: &Path, dir: &Path) -> Option<PathBuf> {
    let lexical = |p: &Path| std::path::absolute(p).ok().map(|a| normalized(&a));
    if let (Some(p), Some(d)) = (lexical(path), lexical(dir)) {
        if let Ok(rel) = p.strip_prefix(&d) {
            return Some(rel.to_path_buf());
        }
    }
    let dir = fs::canonicalize(dir).ok()?;
    // The file's folder resolved and its own name kept: a linked file placed inside `dir`.
    if let (Some(parent), Some(name)) = (path.parent(), path.file_name()) {
        let parent = if parent.as_os_str().is_empty() { Path::new(".") } else { parent };
        if let Ok(rel) = fs::canonicalize(parent).map(|p| p.join(name)) {
            if let Ok(rel) = rel.strip_prefix(&dir) {
                return Some(rel.to_path_buf());
            }
        }
    }
    fs::canonicalize(path).ok()?.strip_prefix(&dir).ok().map(Path::to_path_buf)
}

/// The relative way from folder `from` to `to` (`..` where needed), both taken as absolute
/// paths with `.` and `..` resolved as text; as a URL path (`/` separated, percent-encoded).
pub fn relative_url(from: &Path, to: &Path) -> io::Result<String> {
    Ok(url_path(&relative_path(from, to)?))
}

/// The relative way from folder `from` to `to` (`..` where needed), both taken as absolute
/// paths with `.` and `..` resolved as text.
pub fn relative_path(from: &Path, to: &Path) -> io::Result<PathBuf> {
    let (from, to) = (normalized(&std::path::absolute(from)?), normalized(&std::path::absolute(to)?));
    let common = from.components().zip(to.components()).take_while(|(a, b)| a == b).count();
    let mut rel = PathBuf::new();
    for _ in from.components().skip(common) {
        rel.push("..");
    }
    for c in to.components().skip(common) {
        rel.push(c);
    }
    Ok(rel)
}

/// An absolute path with `.` and `..` taken out as text (no link resolved).
fn normalized(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Bytes free for unprivileged writers on the filesystem holding `path` (None if unknown).
pub fn free_bytes(path: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    let mut st = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `c` is a NUL-terminated path and `st` a properly sized buffer statvfs fills.
    let rc = unsafe { libc::statvfs(c.as_ptr(), st.as_mut_ptr()) };
    if rc != 0 {
        return None;
    }
    // SAFETY: statvfs returned 0, so it filled `st`.
    let st = unsafe { st.assume_init() };
    Some(st.f_bavail * st.f_frsize)
}

/// When a write into `dir` failed: that its disk is full, if it is (under 1 MiB free).
pub fn full_disk_note(dir: &Path) -> Option<String> {
    let existing = dir.ancestors().find(|a| a.exists())?;
    let free = free_bytes(existing)?;
    (free < 1 << 20).then(|| format!("the disk holding {} is full ({free} bytes free)", existing.display()))
}

/// An absolute path as the path of a `file://` URL: bytes other than letters, digits, `/` and
/// `-._~` percent-encoded.
pub fn url_path(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let mut out = String::new();
    for &b in path.as_os_str().as_bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
