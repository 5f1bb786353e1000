//! The footprint index: one SQLite file holding every footprint under dir_footprints (its shape
//! in its own CRS, the CRS, its keep-rule values, or why its file could not be read) with its
//! bounding box in longitude/latitude (an R*Tree), and the size and modification time of every
//! file and folder under dir_footprints when it was built. Built once (`iwp-stage
//! --index-footprints`, `--list`, or by the first staging process that finds it missing or
//! stale, under a lock), it lets each staging process read only the footprints whose boxes meet
//! its own file's footprint instead of every footprint.
//!
//! Freshness. An index is used only when it was built for the same folder (resolved), the same
//! footprint and input extensions and the same keep rules, and no folder under dir_footprints has
//! changed since (adding, removing or renaming a file changes its folder's time). Each footprint
//! read from it is checked against its files' sizes and times. `--list` and `--index-footprints`
//! compare every file. Anything else is stale: rebuilt, never used.

use crate::footprints::{read_footprint, Footprint, RankValue};
use crate::geom::PolygonList;
use anyhow::{anyhow, bail, Context};
use geo::MultiPolygon;
use iwp_core::config::Config;
use iwp_core::files::{is_temp_name, relative_within, AtomicOutput};
use rayon::prelude::*;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use std::collections::{BTreeMap, HashMap};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

/// The format this code writes and reads.
const FORMAT: &str = "iwp footprint index 1";

/// Longitude/latitude box used for footprints whose place is unknown: it meets every box.
const EVERYWHERE: [f64; 4] = [-1e30, -1e30, 1e30, 1e30];

/// One footprint as the index holds it.
#[derive(Debug, Clone)]
pub struct Indexed {
    /// Its row in the index.
    pub id: i64,
    /// Its path relative to dir_footprints.
    pub rel: String,
    /// The footprint, or why its file could not be read.
    pub footprint: Result<Footprint, String>,
    /// Its bounding box in longitude/latitude: west, south, east, north.
    pub lonlat: [f64; 4],
}

/// Whether an index can be used as it is.
#[derive(Debug, Clone, PartialEq)]
pub enum Freshness {
    /// The index was built for this config and nothing checked under dir_footprints changed since.
    Fresh,
    /// There is no index file.
    Missing,
    /// Built for something else or before a change, with what differs.
    Stale(String),
}

/// What building an index did.
#[derive(Debug, Clone)]
pub struct Built {
    /// The index file.
    pub path: PathBuf,
    /// Footprint files indexed (those ending with ext_footprints).
    pub footprints: usize,
    /// Footprints that could not be read (kept as errors; left out of footprint dedup).
    pub unreadable: usize,
    /// Files under dir_footprints recorded (size and mtime) for freshness checks.
    pub files: usize,
    /// Folders under dir_footprints recorded (mtime) for freshness checks.
    pub folders: usize,
    /// Seconds the build took.
    pub secs: f64,
}

/// A file or folder under dir_footprints: relative path, size (0 for folders), mtime in ns.
#[derive(Debug, Clone, PartialEq)]
struct Stamp {
    rel: String,
    size: u64,
    mtime_ns: i64,
}

fn stamp_of(rel: String, meta: &std::fs::Metadata) -> Stamp {
    let size = if meta.is_dir() { 0 } else { meta.len() };
    Stamp { rel, size, mtime_ns: meta.mtime() * 1_000_000_000 + meta.mtime_nsec() }
}

/// Folders and files under dir_footprints.
type Listing = (Vec<Stamp>, Vec<Stamp>);

/// The folder the footprints are in, resolved (links and `..`), as the index records it.
fn footprint_dir(config: &Config) -> anyhow::Result<PathBuf> {
    std::fs::canonicalize(&config.dir_footprints)
        .with_context(|| format!("dir_footprints {}: no such folder", config.dir_footprints.display()))
}

/// What the index must have been built for: meta keys and values.
fn expected_meta(config: &Config, dir: &Path) -> Vec<(&'static str, String)> {
    let rules: Vec<String> = config
        .deduplicate_keep_rules
        .iter()
        .map(|r| format!("{} {}", r.property, if r.larger { "larger" } else { "smaller" }))
        .collect();
    vec![
        ("format", FORMAT.to_string()),
        ("dir_footprints", dir.display().to_string()),
        ("ext_footprints", config.ext_footprints.clone()),
        ("ext_input", config.ext_input.clone()),
        ("keep_rules", rules.join(", ")),
    ]
}

/// Every folder and file under `dir` (temporaries skipped), in name order.
fn list(dir: &Path) -> anyhow::Result<Listing> {
    let (mut folders, mut files) = (Vec::new(), Vec::new());
    for entry in walkdir::WalkDir::new(dir).follow_links(true).sort_by_file_name() {
        let entry = entry.with_context(|| format!("cannot list {}", dir.display()))?;
        if is_temp_name(&entry.file_name().to_string_lossy()) {
            continue;
        }
        let rel = entry.path().strip_prefix(dir).unwrap_or(entry.path()).to_string_lossy().into_owned();
        let meta = entry.metadata().with_context(|| format!("cannot read {}", entry.path().display()))?;
        if meta.is_dir() {
            folders.push(stamp_of(rel, &meta));
        } else if meta.is_file() {
            files.push(stamp_of(rel, &meta));
        }
    }
    Ok((folders, files))
}

/// The footprint a file belongs to (itself, or a side-car such as a shapefile's .dbf): the
/// footprint in the same folder whose name without `ext` the file's name starts with, then a dot.
fn owner(rel: &str, stems: &HashMap<&str, i64>) -> Option<i64> {
    let dots = rel.char_indices().filter(|(_, c)| *c == '.').map(|(i, _)| i);
    let slash = rel.rfind('/').map_or(0, |i| i + 1);
    dots.filter(|&i| i > slash).find_map(|i| stems.get(&rel[..i]).copied())
}

/// Builds the index of every footprint under dir_footprints into config.footprint_index
/// (written under a temporary name, then renamed).
pub fn build(config: &Config) -> anyhow::Result<Built> {
    let t0 = Instant::now();
    let dir = footprint_dir(config)?;
    check_location(config, &dir)?;
    let (folders, files) = list(&dir)?;
    let rels: Vec<&Stamp> = files.iter().filter(|f| f.rel.ends_with(&config.ext_footprints)).collect();
    // One GDAL dataset per footprint, read on rayon's threads.
    let read: Vec<(Result<Footprint, String>, [f64; 4])> = rels
        .par_iter()
        .map(|s| {
            let stem = &s.rel[..s.rel.len() - config.ext_footprints.len()];
            let filename = format!("{stem}{}", config.ext_input);
            match read_footprint(&dir.join(&s.rel), &filename, &config.deduplicate_keep_rules) {
                Ok(f) => {
                    let lonlat = lonlat_box(&f);
                    (Ok(f), lonlat)
                }
                Err(e) => (Err(format!("{e:#}")), EVERYWHERE),
            }
        })
        .collect();
    let unreadable = read.iter().filter(|(f, _)| f.is_err()).count();
    for (rel, (f, _)) in rels.iter().zip(&read) {
        if let Err(why) = f {
            tracing::warn!(
                "{why}: footprint {} left out of footprint dedup (files overlapping it may be flagged differently once it is mended)",
                rel.rel
            );
        }
    }
    let out = AtomicOutput::new(&config.footprint_index)?;
    write(out.path(), &expected_meta(config, &dir), &folders, &files, &rels, &read, config)
        .with_context(|| format!("cannot write the footprint index {}", config.footprint_index.display()))?;
    out.commit()?;
    Ok(Built {
        path: config.footprint_index.clone(),
        footprints: rels.len(),
        unreadable,
        files: files.len(),
        folders: folders.len(),
        secs: t0.elapsed().as_secs_f64(),
    })
}

/// Refuses an index inside dir_footprints (writing it would change the folder it checks).
fn check_location(config: &Config, dir: &Path) -> anyhow::Result<()> {
    let parent = config.footprint_index.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    iwp_core::temps::claim(&[parent]);
    if relative_within(&config.footprint_index, dir).is_some() {
        bail!(
            "footprint_index {} is inside dir_footprints {}: put it elsewhere (default: beside dir_staged)",
            config.footprint_index.display(),
            dir.display()
        );
    }
    Ok(())
}

/// Writes a new index database at `path`.
fn write(
    path: &Path,
    meta: &[(&str, String)],
    folders: &[Stamp],
    files: &[Stamp],
    rels: &[&Stamp],
    read: &[(Result<Footprint, String>, [f64; 4])],
    config: &Config,
) -> anyhow::Result<()> {
    let mut conn = Connection::open(path)?;
    conn.execute_batch(
        "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;
         CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
         CREATE TABLE folders (rel TEXT PRIMARY KEY, mtime_ns INTEGER NOT NULL);
         CREATE TABLE files (rel TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, footprint INTEGER);
         CREATE INDEX files_footprint ON files (footprint);
         CREATE TABLE crs (id INTEGER PRIMARY KEY, wkt TEXT NOT NULL UNIQUE);
         CREATE TABLE footprints (id INTEGER PRIMARY KEY, rel TEXT NOT NULL UNIQUE, filename TEXT NOT NULL,
             crs INTEGER, rank TEXT, shape BLOB, error TEXT);
         CREATE VIRTUAL TABLE boxes USING rtree (id, west, east, south, north);",
    )?;
    let tx = conn.transaction()?;
    {
        let mut put_meta = tx.prepare("INSERT INTO meta VALUES (?1, ?2)")?;
        for (k, v) in meta {
            put_meta.execute(params![k, v])?;
        }
        let mut put_folder = tx.prepare("INSERT INTO folders VALUES (?1, ?2)")?;
        for f in folders {
            put_folder.execute(params![f.rel, f.mtime_ns])?;
        }
        let mut crs_ids: HashMap<&str, i64> = HashMap::new();
        let mut put_crs = tx.prepare("INSERT INTO crs (id, wkt) VALUES (?1, ?2)")?;
        let mut put = tx.prepare("INSERT INTO footprints VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")?;
        let mut put_box = tx.prepare("INSERT INTO boxes VALUES (?1, ?2, ?3, ?4, ?5)")?;
        let mut stems: HashMap<&str, i64> = HashMap::new();
        for (k, (stamp, (footprint, lonlat))) in rels.iter().zip(read).enumerate() {
            let id = k as i64 + 1;
            let stem = &stamp.rel[..stamp.rel.len() - config.ext_footprints.len()];
            stems.insert(stem, id);
            let filename = format!("{stem}{}", config.ext_input);
            match footprint {
                Ok(f) => {
                    let next = crs_ids.len() as i64 + 1;
                    let crs = *crs_ids.entry(f.srs_wkt.as_str()).or_insert_with(|| next);
                    if crs == next {
                        put_crs.execute(params![crs, f.srs_wkt])?;
                    }
                    let rings: Vec<Vec<Vec<(f64, f64)>>> = f.shape.0.iter().map(rings_of).collect();
                    let shape = crate::vector::multipolygon_wkb(rings.iter().map(Vec::as_slice));
                    let rank = serde_json::to_string(&f.rank)?;
                    put.execute(params![id, stamp.rel, filename, crs, rank, shape, None::<String>])?;
                    put_box.execute(params![id, lonlat[0], lonlat[2], lonlat[1], lonlat[3]])?;
                }
                Err(why) => {
                    put.execute(params![id, stamp.rel, filename, None::<i64>, None::<String>, None::<Vec<u8>>, why])?;
                }
            }
        }
        let mut put_file = tx.prepare("INSERT INTO files VALUES (?1, ?2, ?3, ?4)")?;
        for f in files {
            put_file.execute(params![f.rel, f.size as i64, f.mtime_ns, owner(&f.rel, &stems)])?;
        }
    }
    tx.commit()?;
    conn.close().map_err(|(_, e)| e)?;
    Ok(())
}

/// A geo polygon's rings (shell first) as point lists.
fn rings_of(p: &geo::Polygon<f64>) -> Vec<Vec<(f64, f64)>> {
    std::iter::once(p.exterior()).chain(p.interiors()).map(|r| r.0.iter().map(|c| (c.x, c.y)).collect()).collect()
}

/// A footprint's bounding box in longitude/latitude, from its rings with every edge cut in 8 (an
/// edge straight in a projected CRS bends in longitude/latitude), widened by 1% of its size and
/// 1e-6 degrees; [`EVERYWHERE`] when its CRS is unknown or a point has no longitude/latitude.
fn lonlat_box(f: &Footprint) -> [f64; 4] {
    if f.srs_wkt.is_empty() {
        return EVERYWHERE;
    }
    let mut pts: Vec<(f64, f64)> = Vec::new();
    for p in &f.shape.0 {
        for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
            for w in ring.0.windows(2) {
                for k in 0..8 {
                    let s = f64::from(k) / 8.0;
                    pts.push((w[0].x + (w[1].x - w[0].x) * s, w[0].y + (w[1].y - w[0].y) * s));
                }
            }
            pts.extend(ring.0.last().map(|c| (c.x, c.y)));
        }
    }
    if pts.is_empty() || to_lonlat(&f.srs_wkt, &mut pts).is_err() {
        return EVERYWHERE;
    }
    let mut b = [f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY];
    for (x, y) in pts {
        b = [b[0].min(x), b[1].min(y), b[2].max(x), b[3].max(y)];
    }
    let (dx, dy) = ((b[2] - b[0]) * 0.01 + 1e-6, (b[3] - b[1]) * 0.01 + 1e-6);
    [b[0] - dx, b[1] - dy, b[2] + dx, b[3] + dy]
}

/// Transforms `pts` from a CRS (WKT or `EPSG:n`) to longitude/latitude (EPSG:4326, x =
/// longitude); transformations are made once per CRS and thread.
fn to_lonlat(wkt: &str, pts: &mut [(f64, f64)]) -> anyhow::Result<()> {
    use gdal::spatial_ref::CoordTransform;
    thread_local! {
        static MADE: std::cell::RefCell<HashMap<String, Option<CoordTransform>>> = Default::default();
    }
    MADE.with(|made| {
        let mut made = made.borrow_mut();
        let t = made.entry(wkt.to_string()).or_insert_with(|| {
            let from = crate::vector::srs(wkt).ok()?;
            CoordTransform::new(&from, &crate::vector::srs("EPSG:4326").ok()?).ok()
        });
        match t {
            Some(t) => crate::vector::transform_points(t, pts),
            None => bail!("no transformation from {wkt} to longitude/latitude"),
        }
    })
}

/// Says whether the index at config.footprint_index can be used: with `full`, every file under
/// dir_footprints is compared; without, every folder's time (files added, removed or renamed).
pub fn freshness(config: &Config, full: bool) -> anyhow::Result<Freshness> {
    let dir = footprint_dir(config)?;
    if !config.footprint_index.exists() {
        return Ok(Freshness::Missing);
    }
    let conn = match open_read_only(&config.footprint_index) {
        Ok(c) => c,
        Err(e) => return Ok(Freshness::Stale(format!("unreadable ({e:#})"))),
    };
    let recorded = |sql: &str| -> rusqlite::Result<Vec<Stamp>> {
        let mut stmt = conn.prepare(sql)?;
        let rows = stmt
            .query_map([], |r| Ok(Stamp { rel: r.get(0)?, size: r.get::<_, i64>(1)? as u64, mtime_ns: r.get(2)? }))?;
        rows.collect()
    };
    let check = || -> rusqlite::Result<Result<Listing, String>> {
        let meta: BTreeMap<String, String> = {
            let mut stmt = conn.prepare("SELECT key, value FROM meta")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        for (key, want) in expected_meta(config, &dir) {
            let have = meta.get(key).map(String::as_str).unwrap_or("(none)");
            if have != want {
                return Ok(Err(format!("built for {key} {have}, not {want}")));
            }
        }
        Ok(Ok((
            recorded("SELECT rel, 0, mtime_ns FROM folders ORDER BY rel")?,
            recorded("SELECT rel, size, mtime_ns FROM files ORDER BY rel")?,
        )))
    };
    let (folders, files) = match check() {
        Ok(Ok(v)) => v,
        Ok(Err(why)) => return Ok(Freshness::Stale(why)),
        Err(e) => return Ok(Freshness::Stale(format!("unreadable ({e})"))),
    };
    if full {
        let (now_folders, now_files) = list(&dir)?;
        if let Some(why) =
            difference("files", &files, &now_files).or_else(|| difference("folders", &folders, &now_folders))
        {
            return Ok(Freshness::Stale(why));
        }
        return Ok(Freshness::Fresh);
    }
    for f in &folders {
        let now = std::fs::metadata(dir.join(&f.rel)).map(|m| stamp_of(f.rel.clone(), &m));
        if now.as_ref().ok() != Some(f) {
            let name = if f.rel.is_empty() { dir.display().to_string() } else { f.rel.clone() };
            return Ok(Freshness::Stale(format!("folder {name} changed since it was built")));
        }
    }
    Ok(Freshness::Fresh)
}

/// How two sorted listings differ, in a few words (None when equal).
fn difference(what: &str, then: &[Stamp], now: &[Stamp]) -> Option<String> {
    let then_by: HashMap<&str, &Stamp> = then.iter().map(|s| (s.rel.as_str(), s)).collect();
    let now_by: HashMap<&str, &Stamp> = now.iter().map(|s| (s.rel.as_str(), s)).collect();
    let added: Vec<&str> =
        now.iter().filter(|s| !then_by.contains_key(s.rel.as_str())).map(|s| s.rel.as_str()).collect();
    let removed: Vec<&str> =
        then.iter().filter(|s| !now_by.contains_key(s.rel.as_str())).map(|s| s.rel.as_str()).collect();
    let changed: Vec<&str> =
        now.iter().filter(|s| then_by.get(s.rel.as_str()).is_some_and(|t| t != s)).map(|s| s.rel.as_str()).collect();
    let mut parts = Vec::new();
    for (n, verb) in [(&added, "added"), (&removed, "removed"), (&changed, "changed")] {
        if let Some(first) = n.first() {
            parts.push(format!("{} {what} {verb} (first: {first})", n.len()));
        }
    }
    (!parts.is_empty()).then(|| format!("{} since it was built", parts.join(", ")))
}

/// Makes sure a usable index exists: checks it (every file with `full`) and, when it is missing
/// or stale, rebuilds it under a lock on its folder (other processes wait, then use it).
/// Returns what was built, if anything.
pub fn ensure(config: &Config, full: bool) -> anyhow::Result<Option<Built>> {
    if freshness(config, full)? == Freshness::Fresh {
        return Ok(None);
    }
    let folder = config.footprint_index.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(folder).with_context(|| format!("cannot create {}", folder.display()))?;
    let lock = std::fs::File::open(folder).with_context(|| format!("cannot open {}", folder.display()))?;
    lock.lock().with_context(|| format!("cannot lock {}", folder.display()))?;
    match freshness(config, full)? {
        Freshness::Fresh => Ok(None),
        state => {
            let why = match state {
                Freshness::Stale(why) => why,
                _ => "none yet".into(),
            };
            tracing::info!("footprint index {}: {why}: building it", config.footprint_index.display());
            let built = build(config)?;
            tracing::info!(
                "footprint index {}: {} footprints ({} unreadable) in {:.1} s",
                built.path.display(),
                built.footprints,
                built.unreadable,
                built.secs
            );
            Ok(Some(built))
        }
    }
}

/// Opens an index read-only (it is only ever replaced whole, by rename).
fn open_read_only(path: &Path) -> anyhow::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
    Connection::open_with_flags(crate::gpkg::immutable_uri(path), flags)
        .with_context(|| format!("cannot open the footprint index {}", path.display()))
}

/// An index opened for lookups.
pub struct IndexFile {
    conn: Mutex<Connection>,
    /// dir_footprints, resolved.
    dir: PathBuf,
    /// The index file.
    pub path: PathBuf,
}

/// The columns of a footprint row, in [`IndexFile::row`]'s order.
const COLUMNS: &str = "f.id, f.rel, f.filename, c.wkt, f.rank, f.shape, f.error";

impl IndexFile {
    /// Opens config.footprint_index (see [`ensure`] to have a fresh one first).
    pub fn open(config: &Config) -> anyhow::Result<IndexFile> {
        let conn = open_read_only(&config.footprint_index)?;
        Ok(IndexFile { conn: Mutex::new(conn), dir: footprint_dir(config)?, path: config.footprint_index.clone() })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The footprint at `rel` (relative to dir_footprints), if the index has it.
    pub fn by_rel(&self, rel: &str) -> anyhow::Result<Option<Indexed>> {
        let sql = format!(
            "SELECT {COLUMNS}, b.west, b.south, b.east, b.north FROM footprints f LEFT JOIN crs c ON c.id = f.crs \
             LEFT JOIN boxes b ON b.id = f.id WHERE f.rel = ?1"
        );
        let conn = self.conn();
        let found = conn.query_row(&sql, [rel], |r| self.row(r)).optional()?;
        found.transpose()
    }

    /// The readable footprints whose boxes meet `lonlat` (west, south, east, north).
    pub fn meeting(&self, lonlat: [f64; 4]) -> anyhow::Result<Vec<Indexed>> {
        let sql = format!(
            "SELECT {COLUMNS}, b.west, b.south, b.east, b.north FROM boxes b JOIN footprints f ON f.id = b.id \
             LEFT JOIN crs c ON c.id = f.crs WHERE b.east >= ?1 AND b.west <= ?3 AND b.north >= ?2 AND b.south <= ?4 \
             ORDER BY f.id"
        );
        let conn = self.conn();
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt.query_map(params![lonlat[0], lonlat[1], lonlat[2], lonlat[3]], |r| self.row(r))?;
        rows.map(|r| r?).collect()
    }

    /// A footprint row (with its box columns after [`COLUMNS`]).
    fn row(&self, r: &rusqlite::Row) -> rusqlite::Result<anyhow::Result<Indexed>> {
        let (id, rel, filename): (i64, String, String) = (r.get(0)?, r.get(1)?, r.get(2)?);
        let (wkt, rank, shape, error): (Option<String>, Option<String>, Option<Vec<u8>>, Option<String>) =
            (r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?);
        let b: [Option<f64>; 4] = [r.get(7)?, r.get(8)?, r.get(9)?, r.get(10)?];
        let lonlat = match b {
            [Some(w), Some(s), Some(e), Some(n)] => [w, s, e, n],
            _ => EVERYWHERE,
        };
        let path = self.dir.join(&rel);
        let footprint = match (error, shape, rank) {
            (Some(why), _, _) => Err(why),
            (None, Some(shape), Some(rank)) => {
                let decoded = || -> anyhow::Result<Footprint> {
                    let mut list = PolygonList::default();
                    crate::gpkg::read_wkb(&shape, &mut list)?;
                    let shape = MultiPolygon((0..list.len()).map(|i| list.polygon(i).to_geo()).collect());
                    let rank: Vec<RankValue> = serde_json::from_str(&rank)?;
                    Ok(Footprint { filename, path, shape, srs_wkt: wkt.unwrap_or_default(), rank })
                };
                match decoded() {
                    Ok(f) => Ok(f),
                    Err(e) => return Ok(Err(e.context(format!("footprint index {}: row {rel}", self.path.display())))),
                }
            }
            _ => return Ok(Err(anyhow!("footprint index {}: row {rel} is incomplete", self.path.display()))),
        };
        Ok(Ok(Indexed { id, rel, footprint, lonlat }))
    }

    /// Checks a footprint's files (itself and its side-cars) against their recorded sizes and
    /// times: an error names the file that changed since the index was built.
    pub fn check_files(&self, id: i64) -> anyhow::Result<()> {
        let recorded: Vec<Stamp> = {
            let conn = self.conn();
            let mut stmt = conn.prepare("SELECT rel, size, mtime_ns FROM files WHERE footprint = ?1")?;
            let rows = stmt.query_map([id], |r| {
                Ok(Stamp { rel: r.get(0)?, size: r.get::<_, i64>(1)? as u64, mtime_ns: r.get(2)? })
            })?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        for s in recorded {
            let now = std::fs::metadata(self.dir.join(&s.rel)).map(|m| stamp_of(s.rel.clone(), &m));
            if now.as_ref().ok() != Some(&s) {
                bail!(
                    "footprint file {} changed since the footprint index {} was built: run `iwp-stage --index-footprints` (or start the run again) to rebuild it",
                    self.dir.join(&s.rel).display(),
                    self.path.display()
                );
            }
        }
        Ok(())
    }

    /// How many footprints could not be read, and the first of them with why.
    pub fn unreadable(&self) -> anyhow::Result<(u64, Option<(String, String)>)> {
        let conn = self.conn();
        let n: i64 = conn.query_row("SELECT count(*) FROM footprints WHERE error IS NOT NULL", [], |r| r.get(0))?;
        let first = conn
            .query_row("SELECT rel, error FROM footprints WHERE error IS NOT NULL ORDER BY id LIMIT 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        Ok((n as u64, first))
    }

    /// The number of footprints in the index.
    pub fn len(&self) -> anyhow::Result<u64> {
        let n: i64 = self.conn().query_row("SELECT count(*) FROM footprints", [], |r| r.get(0))?;
        Ok(n as u64)
    }

    /// True when the index holds no footprint.
    pub fn is_empty(&self) -> anyhow::Result<bool> {
        Ok(self.len()? == 0)
    }
}

/// The longitude/latitude box of a footprint read outside the index (as the index computes it).
pub fn box_of(f: &Footprint) -> [f64; 4] {
    lonlat_box(f)
}
