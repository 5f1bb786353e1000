//! Progress of one stage: a job list gives the units of work (and their sizes), result streams
//! (one NDJSON file per task, still being appended to) say which are done. A job is matched to
//! its result lines by a key: its tile (`z/x/y`, or its ancestor at a chosen zoom for a raster
//! level step) or its path (results name it in `source`, else `path`). A job is done when it
//! has as many distinct ok lines as its lines' `parts` say (1 if absent), failed when it has an
//! error line and not that many ok lines (a later successful rerun makes it done).

use crate::jobs::{parse_line, Fields};
use crate::tms::Tile;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// How jobs are identified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// By tile; with a zoom, job tiles stand for their ancestors at that zoom.
    Tile(Option<u8>),
    /// By the job's `path`.
    Path,
}

/// How jobs are weighed for the done share, rate and ETA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Weight {
    /// Every job counts 1.
    Count,
    /// By a numeric field (missing = 0), e.g. an input file's `bytes`.
    Field(String),
    /// By `bytes` when every job line has it, else by count.
    Auto,
}

/// The state of one job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    Pending,
    Running,
    Failed,
    Ok,
}

/// One unit of work of the job list.
#[derive(Debug, Clone)]
struct Unit {
    /// The job line(s) as written, to print them again for a redo.
    lines: Vec<String>,
    weight: f64,
    parts: usize,
    ok_parts: HashSet<String>,
    errors: usize,
    last_error: Option<String>,
    secs: f64,
}

impl Unit {
    fn status(&self) -> Status {
        if self.ok_parts.len() >= self.parts {
            Status::Ok
        } else if self.errors > 0 {
            Status::Failed
        } else if self.ok_parts.is_empty() {
            Status::Pending
        } else {
            Status::Running
        }
    }
}

/// The key of a tile in a line's `z`, `x`, `y` fields.
fn tile_in(fields: &Fields) -> Option<Tile> {
    let num = |k: &str| fields.get(k).and_then(Value::as_u64);
    Some(Tile::new(num("x")? as u32, num("y")? as u32, u8::try_from(num("z")?).ok()?))
}

fn tile_key(t: Tile) -> String {
    format!("{}/{}/{}", t.z, t.x, t.y)
}

/// The job list of a stage, and what its result lines say so far.
#[derive(Debug)]
pub struct Progress {
    kind: KeyKind,
    order: Vec<String>,
    units: HashMap<String, Unit>,
    /// Job lines naming a unit already listed.
    pub duplicate_jobs: usize,
    /// Result lines that match no job (e.g. lower-level tiles of a whole raster run).
    pub other_lines: usize,
}

impl Progress {
    /// Reads a job list. `kind` None guesses: tiles when the first job line has z/x/y, else paths.
    pub fn from_jobs(text: &str, kind: Option<KeyKind>, weight: &Weight) -> anyhow::Result<Progress> {
        let mut parsed = Vec::new();
        for (i, line) in text.lines().enumerate() {
            match parse_line(i + 1, line) {
                None => {}
                Some(Ok(job)) => parsed.push((line.trim().to_string(), Some(job.fields))),
                // A line that is not JSON: its tool reports it with its line number.
                Some(Err(bad)) => parsed.push((bad.text, None)),
            }
        }
        let kind = kind.unwrap_or_else(|| {
            let first = parsed.iter().find_map(|(_, f)| f.as_ref());
            if first.and_then(tile_in).is_some() {
                KeyKind::Tile(None)
            } else {
                KeyKind::Path
            }
        });
        let size_field = match weight {
            Weight::Count => None,
            Weight::Field(f) => Some(f.as_str()),
            Weight::Auto => {
                let all = parsed
                    .iter()
                    .all(|(_, f)| f.as_ref().is_some_and(|f| f.get("bytes").is_some_and(Value::is_number)));
                (all && !parsed.is_empty()).then_some("bytes")
            }
        };
        let mut p = Progress { kind, order: Vec::new(), units: HashMap::new(), duplicate_jobs: 0, other_lines: 0 };
        for (n, (line, fields)) in parsed.into_iter().enumerate() {
            let key = match &fields {
                Some(f) => p.job_key(f).ok_or_else(|| match kind {
                    KeyKind::Path => anyhow::anyhow!("job line {}: no \"path\" to follow it by", n + 1),
                    KeyKind::Tile(_) => anyhow::anyhow!("job line {}: no z/x/y tile to follow it by", n + 1),
                })?,
                None => format!("line:{}", n + 1),
            };
            let weight = match size_field {
                Some(f) => fields.as_ref().and_then(|j| j.get(f)).and_then(Value::as_f64).unwrap_or(0.0),
                None => 1.0,
            };
            match p.units.get_mut(&key) {
                Some(u) => {
                    u.lines.push(line);
                    // Under --zoom, children naming one parent are expected, not duplicates.
                    if !matches!(kind, KeyKind::Tile(Some(_))) {
                        p.duplicate_jobs += 1;
                    }
                }
                None => {
                    p.order.push(key.clone());
                    p.units.insert(
                        key,
                        Unit {
                            lines: vec![line],
                            weight,
                            parts: 1,
                            ok_parts: HashSet::new(),
                            errors: 0,
                            last_error: None,
                            secs: 0.0,
                        },
                    );
                }
            }
        }
        Ok(p)
    }

    /// The key of a job line.
    fn job_key(&self, job: &Fields) -> Option<String> {
        match self.kind {
            KeyKind::Tile(zoom) => {
                let mut t = tile_in(job)?;
                while zoom.is_some_and(|z| t.z > z) {
                    t = t.parent()?;
                }
                Some(tile_key(t))
            }
            KeyKind::Path => job.get("path").and_then(Value::as_str).map(String::from),
        }
    }

    /// The job a result line belongs to, if any.
    fn result_key(&self, r: &Fields) -> Option<String> {
        if let Some(n) = r.get("line").and_then(Value::as_u64).filter(|_| r.contains_key("input")) {
            let key = format!("line:{n}");
            if self.units.contains_key(&key) {
                return Some(key);
            }
        }
        let key = match self.kind {
            KeyKind::Tile(_) => tile_in(r).map(tile_key),
            KeyKind::Path => ["source", "path"]
                .iter()
                .filter_map(|k| r.get(*k).and_then(Value::as_str))
                .find(|p| self.units.contains_key(*p))
                .map(String::from),
        };
        key.filter(|k| self.units.contains_key(k))
    }

    /// Takes one result line into account.
    pub fn add_result(&mut self, r: &Fields) {
        let Some(key) = self.result_key(r) else {
            self.other_lines += 1;
            return;
        };
        let unit = self.units.get_mut(&key).expect("result_key returns known keys");
        if let Some(parts) = r.get("parts").and_then(Value::as_u64) {
            unit.parts = unit.parts.max(parts as usize);
        }
        // A job's lines carry the time since it started: the last is its time.
        unit.secs = unit.secs.max(r.get("secs").and_then(Value::as_f64).unwrap_or(0.0));
        if r.get("status").and_then(Value::as_str) == Some("error") {
            unit.errors += 1;
            unit.last_error = r.get("error").and_then(Value::as_str).map(String::from);
        } else {
            // Distinct parts: a rerun's lines for the same output count once.
            let part = r.get("path").and_then(Value::as_str).map(String::from);
            unit.ok_parts.insert(part.unwrap_or_else(|| Value::Object(r.clone()).to_string()));
        }
    }

    /// Counts of jobs by status, and the weight of the done ones (ok or failed).
    pub fn counts(&self) -> Counts {
        let mut c = Counts { jobs: self.order.len(), ..Default::default() };
        for u in self.units.values() {
            c.weight += u.weight;
            match u.status() {
                Status::Ok => c.ok += 1,
                Status::Failed => c.failed += 1,
                Status::Running => c.running += 1,
                Status::Pending => c.pending += 1,
            }
            if matches!(u.status(), Status::Ok | Status::Failed) {
                c.done_weight += u.weight;
            }
        }
        c
    }

    /// The job lines to run again: those failed or without a full result, in job-list order.
    pub fn redo_lines(&self) -> Vec<&str> {
        self.order
            .iter()
            .map(|k| &self.units[k])
            .filter(|u| u.status() != Status::Ok)
            .flat_map(|u| u.lines.iter().take(1).map(String::as_str))
            .collect()
    }

    /// The failed jobs' keys and last error messages, in job-list order (at most `n`).
    pub fn failures(&self, n: usize) -> Vec<(String, String)> {
        self.order
            .iter()
            .filter(|k| self.units[*k].status() == Status::Failed)
            .take(n)
            .map(|k| (k.clone(), self.units[k].last_error.clone().unwrap_or_default()))
            .collect()
    }

    /// The `n` jobs that took longest (the largest `secs` of their lines).
    pub fn slowest(&self, n: usize) -> Vec<(String, f64)> {
        let mut v: Vec<(String, f64)> =
            self.units.iter().filter(|(_, u)| u.secs > 0.0).map(|(k, u)| (k.clone(), u.secs)).collect();
        v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        v.truncate(n);
        v
    }

    /// Seconds of work the result lines report (each job's largest `secs`), over every job.
    pub fn work_secs(&self) -> f64 {
        self.units.values().map(|u| u.secs).sum()
    }
}

/// Jobs by status.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Counts {
    pub jobs: usize,
    pub ok: usize,
    pub failed: usize,
    pub running: usize,
    pub pending: usize,
    /// Total weight (jobs, or the size field's sum) and the weight of finished jobs.
    pub weight: f64,
    pub done_weight: f64,
}

impl Counts {
    /// True when every job has a result (ok or failed).
    pub fn complete(&self) -> bool {
        self.ok + self.failed == self.jobs
    }
}

/// A result file followed while writers append to it: complete lines are parsed as they come,
/// a half-written last line waits for its end.
#[derive(Debug)]
pub struct Follower {
    pub path: PathBuf,
    offset: u64,
    partial: Vec<u8>,
    /// Lines read: ok results, error results, and lines that were not JSON objects.
    pub ok_lines: usize,
    pub error_lines: usize,
    pub unreadable: usize,
    /// When the file was created (or first seen) and last written.
    pub created: Option<SystemTime>,
    pub modified: Option<SystemTime>,
}

impl Follower {
    /// Starts following a file from its beginning.
    pub fn new(path: &Path) -> Follower {
        Follower {
            path: path.to_path_buf(),
            offset: 0,
            partial: Vec::new(),
            ok_lines: 0,
            error_lines: 0,
            unreadable: 0,
            created: None,
            modified: None,
        }
    }

    /// Reads what was appended since the last call; returns the new complete result lines.
    pub fn poll(&mut self) -> std::io::Result<Vec<Fields>> {
        let mut file = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let meta = file.metadata()?;
        self.modified = meta.modified().ok();
        if self.created.is_none() {
            self.created = meta.created().ok().or(self.modified);
        }
        if meta.len() < self.offset {
            tracing::warn!("{} was truncated: reading it again from the start", self.path.display());
            self.offset = 0;
            self.partial.clear();
        }
        if meta.len() == self.offset {
            return Ok(Vec::new());
        }
        file.seek(SeekFrom::Start(self.offset))?;
        let mut new = Vec::new();
        file.take(meta.len() - self.offset).read_to_end(&mut new)?;
        self.offset += new.len() as u64;
        self.partial.extend_from_slice(&new);
        let Some(end) = self.partial.iter().rposition(|&b| b == b'\n') else { return Ok(Vec::new()) };
        let complete: Vec<u8> = self.partial.drain(..=end).collect();
        let mut out = Vec::new();
        for line in complete.split(|&b| b == b'\n') {
            let text = String::from_utf8_lossy(line);
            if text.trim().is_empty() {
                continue;
            }
            match parse_object(&text) {
                Some(fields) => {
                    if fields.get("status").and_then(Value::as_str) == Some("error") {
                        self.error_lines += 1;
                    } else {
                        self.ok_lines += 1;
                    }
                    out.push(fields);
                }
                None => self.unreadable += 1,
            }
        }
        Ok(out)
    }

    /// Seconds between the file's creation and its last write.
    pub fn span_secs(&self) -> f64 {
        match (self.created, self.modified) {
            (Some(c), Some(m)) => m.duration_since(c).unwrap_or(Duration::ZERO).as_secs_f64(),
            _ => 0.0,
        }
    }

    /// The host of a task file named `STAGE.HOST.TASK.ndjson` (the slurm scripts' names), else
    /// the file's name without `.ndjson`.
    pub fn host(&self) -> String {
        let name = self.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let stem = name.strip_suffix(".ndjson").unwrap_or(&name);
        let parts: Vec<&str> = stem.split('.').collect();
        if parts.len() >= 3 {
            parts[1..parts.len() - 1].join(".")
        } else {
            stem.to_string()
        }
    }
}

/// A line as a JSON object; when a killed writer left half a line that the next writer's line
/// was appended to, the complete object at its end.
fn parse_object(text: &str) -> Option<Fields> {
    if let Ok(Value::Object(f)) = serde_json::from_str::<Value>(text.trim()) {
        return Some(f);
    }
    text.match_indices('{').skip(1).find_map(|(i, _)| match serde_json::from_str::<Value>(text[i..].trim()) {
        Ok(Value::Object(f)) => Some(f),
        _ => None,
    })
}

/// One host's task files taken together.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HostSummary {
    pub host: String,
    pub task_files: usize,
    pub ok_lines: usize,
    pub error_lines: usize,
    /// From its first task file's creation to its last write.
    pub span_secs: f64,
}

/// The task files grouped by host, in host order.
pub fn hosts(followers: &[Follower]) -> Vec<HostSummary> {
    let mut by: BTreeMap<String, (HostSummary, Option<(SystemTime, SystemTime)>)> = BTreeMap::new();
    for f in followers {
        let host = f.host();
        let e = by.entry(host.clone()).or_insert_with(|| {
            (HostSummary { host, task_files: 0, ok_lines: 0, error_lines: 0, span_secs: 0.0 }, None)
        });
        e.0.task_files += 1;
        e.0.ok_lines += f.ok_lines;
        e.0.error_lines += f.error_lines;
        if let (Some(c), Some(m)) = (f.created, f.modified) {
            let span = e.1.get_or_insert((c, m));
            *span = (span.0.min(c), span.1.max(m));
        }
    }
    by.into_values()
        .map(|(mut h, span)| {
            h.span_secs = span.map_or(0.0, |(c, m)| m.duration_since(c).unwrap_or(Duration::ZERO).as_secs_f64());
            h
        })
        .collect()
}

/// Node-hours spent, estimated from the task files: per host, from its first file's creation to
/// its last write.
pub fn node_hours(followers: &[Follower]) -> f64 {
    hosts(followers).iter().map(|h| h.span_secs).sum::<f64>() / 3600.0
}

/// Seconds left in the Slurm job this runs in (`squeue %L`), if any.
pub fn slurm_time_left() -> Option<f64> {
    let id = std::env::var("SLURM_JOB_ID").ok()?;
    let out = std::process::Command::new("squeue").args(["-h", "-j", &id, "-o", "%L"]).output().ok()?;
    parse_slurm_duration(String::from_utf8_lossy(&out.stdout).trim())
}

/// Seconds in a Slurm duration: `[D-]HH:MM:SS`, `MM:SS` or `SS`; None for `UNLIMITED` etc.
pub fn parse_slurm_duration(text: &str) -> Option<f64> {
    let (days, rest) = match text.split_once('-') {
        Some((d, r)) => (d.parse::<f64>().ok()?, r),
        None => (0.0, text),
    };
    let fields: Vec<f64> = rest.split(':').map(|f| f.parse::<f64>().ok()).collect::<Option<_>>()?;
    let secs = match fields.as_slice() {
        [s] => *s,
        [m, s] => m * 60.0 + s,
        [h, m, s] => h * 3600.0 + m * 60.0 + s,
        _ => return None,
    };
    Some(days * 86400.0 + secs)
}
