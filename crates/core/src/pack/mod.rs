//! Packing many small files into a few large archives (tar, optionally zstd) with a manifest of
//! every file's relative path, size, mode, mtime, checksum (xxh3-64) and archive, and unpacking
//! them with verification. Archives and manifests are written atomically; an unpacked archive is
//! marked done only after every file in it matched and was written, so reruns skip it and a
//! killed run resumes (rewriting the files of archives without a marker).

pub mod commands;

use crate::files::AtomicOutput;
use anyhow::{anyhow, bail, Context};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fs;
use std::io::{BufRead, Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use xxhash_rust::xxh3::Xxh3;

/// One file of a pack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Path relative to its source folder, with `/`.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// Unix mode as `stat` gives it (file type and permission bits); restored on unpack.
    pub mode: u32,
    /// Modification time, nanoseconds since the epoch (for `--since`).
    pub mtime_ns: i128,
    /// xxh3-64 of the content, hex.
    pub xxh3: String,
    /// Archive file name (in the pack folder).
    pub archive: String,
}

/// A file to pack: where it is, its relative path in the pack, and its metadata (read once).
#[derive(Debug, Clone)]
pub struct Source {
    /// The file on disk.
    pub file: PathBuf,
    /// Its path in the pack, relative to its source folder, with `/`.
    pub rel: String,
    /// Its metadata, read once (size, mode and mtime go into the manifest).
    pub meta: fs::Metadata,
}

impl Source {
    /// A source file, its metadata read now.
    pub fn new(file: PathBuf, rel: String) -> anyhow::Result<Source> {
        let meta = fs::metadata(&file).with_context(|| format!("cannot stat {}", file.display()))?;
        Ok(Source { file, rel, meta })
    }
}

/// Every regular file under `dir`, relative to it, sorted; temporary outputs skipped.
pub fn walk(dir: &Path) -> anyhow::Result<Vec<Source>> {
    let mut out = Vec::new();
    for e in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let e = e.with_context(|| format!("cannot list {}", dir.display()))?;
        if !e.file_type().is_file() || crate::files::is_temp_name(&e.file_name().to_string_lossy()) {
            continue;
        }
        let rel = e.path().strip_prefix(dir).unwrap_or(e.path()).to_string_lossy().into_owned();
        let meta = e.metadata().with_context(|| format!("cannot stat {}", e.path().display()))?;
        out.push(Source { file: e.into_path(), rel, meta });
    }
    Ok(out)
}

fn mtime_ns(m: &fs::Metadata) -> i128 {
    i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec())
}

/// Keeps the sources that are new or changed (size, mode or mtime) since `earlier`.
pub fn changed_since(sources: Vec<Source>, earlier: &[Entry]) -> Vec<Source> {
    let known: HashMap<&str, &Entry> = earlier.iter().map(|e| (e.path.as_str(), e)).collect();
    let mut out = Vec::new();
    for s in sources {
        let m = &s.meta;
        let same = known
            .get(s.rel.as_str())
            .is_some_and(|e| e.size == m.len() && e.mode == m.permissions().mode() && e.mtime_ns == mtime_ns(m));
        if !same {
            out.push(s);
        }
    }
    out
}

/// Splits sources, in order, into groups of about `size` bytes each.
pub fn groups(sources: &[Source], size: u64) -> Vec<Vec<Source>> {
    let mut out: Vec<Vec<Source>> = vec![Vec::new()];
    let mut bytes = 0;
    for s in sources {
        let len = s.meta.len();
        if bytes > 0 && bytes + len > size {
            out.push(Vec::new());
            bytes = 0;
        }
        bytes += len;
        out.last_mut().expect("a group").push(s.clone());
    }
    out.retain(|g| !g.is_empty());
    out
}

/// Writes one archive of `files` to `path` (zstd-compressed when `zstd` is Some(level)); returns
/// the manifest entries.
pub fn write_archive(path: &Path, files: &[Source], zstd: Option<i32>) -> anyhow::Result<Vec<Entry>> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let out = AtomicOutput::new(path)?;
    let file = fs::File::create(out.path()).with_context(|| format!("cannot create {}", out.path().display()))?;
    let writer: Box<dyn Write> = match zstd {
        Some(level) => {
            let mut enc = zstd::stream::write::Encoder::new(file, level)?;
            enc.include_checksum(true)?;
            Box::new(enc.auto_finish())
        }
        None => Box::new(std::io::BufWriter::new(file)),
    };
    let mut tar = tar::Builder::new(writer);
    let mut entries = Vec::with_capacity(files.len());
    for s in files {
        let data =
            read_known_size(&s.file, s.meta.len()).with_context(|| format!("cannot read {}", s.file.display()))?;
        let meta = &s.meta;
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(meta.permissions().mode());
        header.set_mtime(meta.mtime().max(0) as u64);
        header.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut header, &s.rel, data.as_slice()).with_context(|| format!("cannot archive {}", s.rel))?;
        entries.push(Entry {
            path: s.rel.clone(),
            size: data.len() as u64,
            mode: meta.permissions().mode(),
            mtime_ns: mtime_ns(meta),
            xxh3: format!("{:016x}", xxhash_rust::xxh3::xxh3_64(&data)),
            archive: name.clone(),
        });
    }
    let inner = tar.into_inner()?;
    drop(inner); // flushes (and finishes the zstd frame)
    out.commit()?;
    Ok(entries)
}

/// A file's bytes, its size known from the walk: std's read_to_end for files would stat and seek
/// it again to size the buffer (two system calls per file of a pack).
fn read_known_size(path: &Path, size: u64) -> std::io::Result<Vec<u8>> {
    /// A file seen only as a reader, so the generic read_to_end (no stat) is used.
    struct Plain(fs::File);
    impl Read for Plain {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            self.0.read(buf)
        }
    }
    let mut data = Vec::with_capacity(size as usize + 1);
    Plain(fs::File::open(path)?).read_to_end(&mut data)?;
    Ok(data)
}

/// Reads a manifest (one JSON entry per line).
pub fn read_manifest(path: &Path) -> anyhow::Result<Vec<Entry>> {
    let f = fs::File::open(path).with_context(|| format!("cannot open manifest {}", path.display()))?;
    std::io::BufReader::new(f)
        .lines()
        .enumerate()
        .filter(|(_, l)| l.as_ref().map(|l| !l.trim().is_empty()).unwrap_or(true))
        .map(|(n, l)| serde_json::from_str(&l?).with_context(|| format!("{} line {}", path.display(), n + 1)))
        .collect()
}

/// What a manifest file lists, or, for a pack folder, every file its manifests list, each as
/// the latest manifest lists it (the state of a chain of `--since` packs).
pub fn packed_before(path: &Path) -> anyhow::Result<Vec<Entry>> {
    if !path.is_dir() {
        return read_manifest(path);
    }
    let mut latest: std::collections::BTreeMap<String, Entry> = std::collections::BTreeMap::new();
    for m in manifests(path)? {
        for e in read_manifest(&m)? {
            latest.insert(e.path.clone(), e);
        }
    }
    Ok(latest.into_values().collect())
}

/// Writes a manifest atomically.
pub fn write_manifest(path: &Path, entries: &[Entry]) -> anyhow::Result<()> {
    let mut text = String::new();
    for e in entries {
        text.push_str(&serde_json::to_string(e)?);
        text.push('\n');
    }
    crate::files::write_atomic(path, text.as_bytes()).with_context(|| format!("cannot write {}", path.display()))
}

/// Every manifest in a pack folder (`manifest-N.ndjson`), sorted by N.
pub fn manifests(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut found: Vec<(u32, PathBuf)> = fs::read_dir(dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let n = name.strip_prefix("manifest-")?.strip_suffix(".ndjson")?.parse().ok()?;
            Some((n, e.path()))
        })
        .collect();
    found.sort();
    Ok(found.into_iter().map(|(_, p)| p).collect())
}

/// The folder's latest manifest, when it lists exactly `sources` as they are now (same paths,
/// sizes, modes, mtimes): packing them again would repeat it.
pub fn same_as_latest(dir: &Path, sources: &[Source]) -> anyhow::Result<Option<PathBuf>> {
    if !dir.exists() {
        return Ok(None);
    }
    let Some(latest) = manifests(dir)?.pop() else { return Ok(None) };
    let earlier = read_manifest(&latest)?;
    let same = earlier.len() == sources.len() && changed_since(sources.to_vec(), &earlier).is_empty();
    Ok(same.then_some(latest))
}

/// The next pack run number in a folder (1 + the largest manifest number).
pub fn next_run(dir: &Path) -> anyhow::Result<u32> {
    if !dir.exists() {
        return Ok(1);
    }
    Ok(manifests(dir)?
        .iter()
        .filter_map(|p| {
            p.file_name()?.to_str()?.strip_prefix("manifest-")?.strip_suffix(".ndjson")?.parse::<u32>().ok()
        })
        .max()
        .unwrap_or(0)
        + 1)
}

/// What unpacking or verifying one archive found.
#[derive(Debug, Clone, Default)]
pub struct Checked {
    /// Files read and verified (when skipped: the files the manifest lists for the archive).
    pub files: u64,
    /// Bytes of those files.
    pub bytes: u64,
    /// True when the archive's done-marker showed it unpacked before, so it was not read again.
    pub skipped: bool,
}

/// Opens an archive's entries (decompressing `.zst`).
fn open_archive(path: &Path) -> anyhow::Result<tar::Archive<Box<dyn Read>>> {
    let file = fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let reader: Box<dyn Read> = if path.extension().is_some_and(|e| e == "zst") {
        Box::new(zstd::stream::read::Decoder::new(file)?)
    } else {
        Box::new(std::io::BufReader::new(file))
    };
    Ok(tar::Archive::new(reader))
}

/// Reads every entry of an archive, checks it against `expected` (by path), and hands the bytes
/// of each good one to `keep`. Errors name the archive and the file.
fn check_archive(
    archive: &Path,
    expected: &HashMap<String, Entry>,
    mut keep: impl FnMut(&Entry, &[u8]) -> anyhow::Result<()>,
) -> anyhow::Result<Checked> {
    let name = archive.display();
    let mut done = Checked::default();
    let mut seen = 0;
    for entry in open_archive(archive)?.entries().with_context(|| format!("{name}: not a readable archive"))? {
        let mut entry = entry.with_context(|| format!("{name}: damaged"))?;
        let path = entry.path()?.to_string_lossy().into_owned();
        let want = expected.get(&path).ok_or_else(|| anyhow!("{name}: {path} is not in the manifest"))?;
        let mut data = Vec::with_capacity(want.size as usize);
        entry.read_to_end(&mut data).with_context(|| format!("{name}: {path} is damaged"))?;
        let mut h = Xxh3::new();
        h.update(&data);
        if data.len() as u64 != want.size || format!("{:016x}", h.digest()) != want.xxh3 {
            bail!("{name}: {path} does not match the manifest (size or checksum)");
        }
        keep(want, &data)?;
        done.files += 1;
        done.bytes += data.len() as u64;
        seen += 1;
    }
    if seen != expected.len() {
        bail!("{name}: {} of the manifest's {} files are missing", expected.len() - seen, expected.len());
    }
    Ok(done)
}

/// The marker recording that an archive was unpacked into `dest` and verified.
fn marker(dest: &Path, archive: &str) -> PathBuf {
    dest.join(".iwp-pack").join(format!("{archive}.done"))
}

/// Unpacks one archive into `dest`, every file verified and written atomically with its mode,
/// except `superseded` paths (a later pack holds a newer version); skipped when its marker says it
/// was done before.
pub fn unpack_archive(
    archive: &Path,
    entries: &[Entry],
    dest: &Path,
    superseded: &std::collections::HashSet<String>,
) -> anyhow::Result<Checked> {
    let name = archive.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    if marker(dest, &name).exists() {
        return Ok(Checked { files: entries.len() as u64, bytes: entries.iter().map(|e| e.size).sum(), skipped: true });
    }
    let expected: HashMap<String, Entry> = entries.iter().map(|e| (e.path.clone(), e.clone())).collect();
    // Files are written in place: until the archive's marker exists nothing of it counts as
    // unpacked, and a rerun writes every file again.
    let mut made: Option<PathBuf> = None;
    let done = check_archive(archive, &expected, |e, data| {
        if superseded.contains(&e.path) {
            return Ok(());
        }
        let target = safe_join(dest, &e.path)?;
        let folder = target.parent().unwrap_or(dest);
        if made.as_deref() != Some(folder) {
            fs::create_dir_all(folder).with_context(|| format!("cannot create {}", folder.display()))?;
            made = Some(folder.to_path_buf());
        }
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&target)
            .with_context(|| format!("cannot write {}", target.display()))?;
        f.write_all(data).with_context(|| format!("cannot write {}", target.display()))?;
        f.set_permissions(fs::Permissions::from_mode(e.mode))?;
        Ok(())
    })?;
    crate::files::write_atomic(&marker(dest, &name), b"verified\n")?;
    Ok(done)
}

/// Checks one archive against its manifest entries without extracting.
pub fn verify_archive(archive: &Path, entries: &[Entry]) -> anyhow::Result<Checked> {
    let expected: HashMap<String, Entry> = entries.iter().map(|e| (e.path.clone(), e.clone())).collect();
    check_archive(archive, &expected, |_, _| Ok(()))
}

/// `dest/rel`, refusing absolute paths and `..` (an archive cannot write outside `dest`).
fn safe_join(dest: &Path, rel: &str) -> anyhow::Result<PathBuf> {
    let p = Path::new(rel);
    if p.is_absolute() || p.components().any(|c| matches!(c, std::path::Component::ParentDir)) {
        bail!("{rel}: a path outside the destination");
    }
    Ok(dest.join(p))
}
