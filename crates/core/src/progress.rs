//! Progress of one stage: a job list gives the units of work (and their sizes), result streams
//! (one NDJSON file per task, still being appended to) say which are done. A job is matched to
//! its result lines by a key: its tile (`z/x/y`, or its ancestor at a chosen zoom for a raster
//! level step) or its path (results name it in `source`, else `path`). A job is done when it
//! has as many distinct ok lines as its lines' `parts` say (1 if absent), failed when it has an
//! error line and not that many ok lines (a later successful rerun makes it done).
//!
//! Memory is a few dozen bytes per job whatever the number of result lines: where the job's
//! line is in the job list, its counts, and its key as a packed tile or a 128-bit hash. Texts
//! (job lines to redo, keys and error messages in summaries) are read again from the files
//! when needed. Parts already counted are kept, as 64-bit fingerprints, only for jobs not yet
//! complete; so a job that a later line gives more parts than it had when it completed may
//! count a repeated part again.
//!
//! `iwp-progress`'s run is [`run`]: the result files are found and read by [`watch`], the
//! figures of the moment are a [`state::State`], shown live by [`view`] and summed up at the
//! end by [`summary`].

mod follow;
mod joblist;
mod key;
mod line;
pub mod run;
mod slurm;
pub mod state;
pub mod summary;
pub mod view;
pub mod watch;

pub use follow::{hosts, node_hours, ChunkBuf, Follower, HostSummary, LineRef, CHUNK};
pub use line::{parse_result, Line, Scalar};
pub use slurm::{parse_slurm_duration, slurm_time_left, SlurmClock};

use joblist::{JobText, Reread, Span};
use key::{fingerprint, JobKey, Key, KeyHashing};
use std::cmp::Reverse;
use std::collections::hash_map::Entry;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::io::{self, Read};
use std::path::Path;

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

impl Weight {
    /// The weight a `--size-field` asks for: none is [`Weight::Auto`], `count` is
    /// [`Weight::Count`], any other name that field.
    pub fn from_size_field(field: Option<&str>) -> Weight {
        match field {
            None => Weight::Auto,
            Some("count") => Weight::Count,
            Some(f) => Weight::Field(f.to_string()),
        }
    }
}

/// The state of one job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// No result line yet: no ok part and no error line.
    Pending,
    /// Some of its parts are ok, more are expected, and no error line yet.
    Running,
    /// An error line, and fewer distinct ok parts than expected.
    Failed,
    /// As many distinct ok parts (by `path`) as its lines' `parts` say.
    Ok,
}

/// Why a job list could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum JobListError {
    /// It could not be read (or is not UTF-8).
    #[error("{0}")]
    Read(#[from] io::Error),
    /// A job line has no key to follow it by.
    #[error("{0}")]
    Line(String),
}

/// One unit of work of the job list: where its first line is, what its results said so far
/// (56 bytes).
#[derive(Debug, Clone)]
struct Unit {
    line_offset: u64,
    line_len: u32,
    /// Parts expected (the largest `parts` of its lines, at least 1) and distinct ok parts seen.
    parts: u32,
    ok: u32,
    errors: u32,
    weight: f64,
    secs: f64,
    /// Where its last error line is (when it has errors).
    error_file: u32,
    error_offset: u64,
}

impl Unit {
    fn new(line: Span, weight: f64) -> Unit {
        let (line_offset, line_len) = (line.offset, line.len);
        Unit { line_offset, line_len, parts: 1, ok: 0, errors: 0, weight, secs: 0.0, error_file: 0, error_offset: 0 }
    }

    fn line(&self) -> Span {
        Span { offset: self.line_offset, len: self.line_len }
    }

    fn last_error(&self) -> Option<LineRef> {
        (self.errors > 0).then_some(LineRef { file: self.error_file, offset: self.error_offset })
    }

    fn status(&self) -> Status {
        if self.ok >= self.parts {
            Status::Ok
        } else if self.errors > 0 {
            Status::Failed
        } else if self.ok == 0 {
            Status::Pending
        } else {
            Status::Running
        }
    }
}

/// The job list of a stage, and what its result lines say so far.
#[derive(Debug)]
pub struct Progress {
    kind: KeyKind,
    /// Units in job-list order, and the unit of each key.
    units: Vec<Unit>,
    index: HashMap<Key, u32, KeyHashing>,
    /// Units whose first line is not a JSON object, with that line's number (their key is `line:N`).
    bad_lines: Vec<(u32, usize)>,
    /// Fingerprints of the ok parts seen of jobs not complete yet.
    open_parts: HashMap<u32, HashSet<u64>>,
    text: JobText,
    /// Job lines naming a unit already listed.
    pub duplicate_jobs: usize,
    /// Result lines that match no job (e.g. lower-level tiles of a whole raster run).
    pub other_lines: usize,
}

impl Progress {
    /// Reads a job list file (`-`: standard input) once. `kind` None guesses: tiles when the
    /// first job line has z/x/y, else paths.
    pub fn from_path(path: &Path, kind: Option<KeyKind>, weight: &Weight) -> Result<Progress, JobListError> {
        let (input, text) = joblist::open(path)?;
        Progress::load(input, text, kind, weight)
    }

    /// Reads a job list from a stream (copied to a temporary file to read its lines again).
    pub fn from_reader(
        input: impl Read + 'static,
        kind: Option<KeyKind>,
        weight: &Weight,
    ) -> Result<Progress, JobListError> {
        let (input, text) = joblist::spool(input)?;
        Progress::load(input, text, kind, weight)
    }

    fn load(
        input: Box<dyn Read>,
        text: JobText,
        kind: Option<KeyKind>,
        weight: &Weight,
    ) -> Result<Progress, JobListError> {
        let size_field = match weight {
            Weight::Count => None,
            Weight::Field(f) => Some(f.as_str()),
            Weight::Auto => Some("bytes"),
        };
        let mut p = Progress {
            kind: kind.unwrap_or(KeyKind::Path),
            units: Vec::new(),
            index: HashMap::default(),
            bad_lines: Vec::new(),
            open_parts: HashMap::new(),
            text,
            duplicate_jobs: 0,
            other_lines: 0,
        };
        let (mut guessed, mut all_sized, mut n) = (kind.is_some(), true, 0);
        let mut failed = None;
        // After a line without a key the rest is still read: a read error takes precedence.
        joblist::for_each_line(input, |text, span| {
            n += 1;
            if failed.is_some() {
                return;
            }
            let job = line::parse(text, size_field);
            let (key, weight) = match &job {
                Some(j) => {
                    if !guessed {
                        p.kind = if j.tile().is_some() { KeyKind::Tile(None) } else { KeyKind::Path };
                        guessed = true;
                    }
                    let Some(key) = p.job_key(j) else {
                        failed = Some(match p.kind {
                            KeyKind::Path => format!("job line {n}: no \"path\" to follow it by"),
                            KeyKind::Tile(_) => format!("job line {n}: no z/x/y tile to follow it by"),
                        });
                        return;
                    };
                    all_sized &= j.size.is_some();
                    (key.key(), size_field.map_or(1.0, |_| j.size.unwrap_or(0.0)))
                }
                // A line that is not JSON: its tool reports it with its line number.
                None => {
                    all_sized = false;
                    (Key::text(&format!("line:{n}")), if size_field.is_some() { 0.0 } else { 1.0 })
                }
            };
            p.add_unit(key, span, weight, job.is_none().then_some(n));
        })?;
        if let Some(e) = failed {
            return Err(JobListError::Line(e));
        }
        if *weight == Weight::Auto && !(all_sized && n > 0) {
            p.units.iter_mut().for_each(|u| u.weight = 1.0);
        }
        Ok(p)
    }

    /// A job line's unit: a new one, or the one its key names already.
    fn add_unit(&mut self, key: Key, line: Span, weight: f64, bad_line: Option<usize>) {
        match self.index.entry(key) {
            Entry::Occupied(_) => {
                // Under --zoom, children naming one parent are expected, not duplicates.
                if !matches!(self.kind, KeyKind::Tile(Some(_))) {
                    self.duplicate_jobs += 1;
                }
            }
            Entry::Vacant(v) => {
                let i = u32::try_from(self.units.len()).expect("fewer than 2^32 jobs");
                v.insert(i);
                if let Some(n) = bad_line {
                    self.bad_lines.push((i, n));
                }
                self.units.push(Unit::new(line, weight));
            }
        }
    }

    /// The key of a job line.
    fn job_key<'a>(&self, job: &'a Line) -> Option<JobKey<'a>> {
        match self.kind {
            KeyKind::Tile(zoom) => {
                let t = job.tile()?;
                Some(JobKey::Tile(zoom.and_then(|z| t.ancestor(z)).unwrap_or(t)))
            }
            KeyKind::Path => job.path.as_deref().map(JobKey::Text),
        }
    }

    /// The unit a result line belongs to, if any.
    fn result_unit(&self, r: &Line) -> Option<u32> {
        if let Some(n) = r.line.filter(|_| r.input) {
            if let Some(&u) = self.index.get(&Key::text(&format!("line:{n}"))) {
                return Some(u);
            }
        }
        match self.kind {
            KeyKind::Tile(_) => r.tile().and_then(|t| self.index.get(&Key::tile(t))).copied(),
            KeyKind::Path => [&r.source, &r.path]
                .into_iter()
                .filter_map(|f| f.as_deref())
                .find_map(|p| self.index.get(&Key::text(p)))
                .copied(),
        }
    }

    /// Takes one result line into account: its fields, the text of its object, where it is.
    pub fn add_result(&mut self, r: &Line, object: &str, at: LineRef) {
        let Some(u) = self.result_unit(r) else {
            self.other_lines += 1;
            return;
        };
        let unit = &mut self.units[u as usize];
        if let Some(parts) = r.parts {
            unit.parts = unit.parts.max(u32::try_from(parts).unwrap_or(u32::MAX));
        }
        // A job's lines carry the time since it started: the last is its time.
        unit.secs = unit.secs.max(r.secs.unwrap_or(0.0));
        if r.failed {
            unit.errors += 1;
            (unit.error_file, unit.error_offset) = (at.file, at.offset);
        } else {
            self.add_ok_part(u, r, object);
        }
    }

    /// Counts an ok line's part once (a rerun's line for the same output counts once); the
    /// parts seen are kept only while the job is not complete.
    fn add_ok_part(&mut self, u: u32, r: &Line, object: &str) {
        let unit = &mut self.units[u as usize];
        if unit.ok >= unit.parts {
            return;
        }
        if unit.ok == 0 && unit.parts == 1 {
            unit.ok = 1;
            return;
        }
        let part = match r.path.as_deref() {
            Some(path) => fingerprint(path),
            None => fingerprint(&line::canonical(object)),
        };
        if self.open_parts.entry(u).or_default().insert(part) {
            unit.ok += 1;
        }
        if unit.ok >= unit.parts {
            self.open_parts.remove(&u);
        }
    }

    /// Counts of jobs by status, and the weight of the done ones (ok or failed).
    pub fn counts(&self) -> Counts {
        let mut c = Counts { jobs: self.units.len(), ..Default::default() };
        for u in &self.units {
            c.weight += u.weight;
            let status = u.status();
            match status {
                Status::Ok => c.ok += 1,
                Status::Failed => c.failed += 1,
                Status::Running => c.running += 1,
                Status::Pending => c.pending += 1,
            }
            if matches!(status, Status::Ok | Status::Failed) {
                c.done_weight += u.weight;
            }
        }
        c
    }

    /// The job lines to run again: those failed or without a full result, in job-list order
    /// (the first line of each), as written.
    pub fn redo_lines(&self) -> RedoLines<'_> {
        RedoLines { progress: self, reader: self.text.reader(), next: 0 }
    }

    /// A unit's key as text, from its job line read again.
    fn key_text(&self, reader: &mut Reread, u: usize) -> io::Result<String> {
        let text = reader.line(self.units[u].line())?;
        if let Some(key) = line::parse(text, None).and_then(|j| self.job_key(&j).map(|k| k.to_string())) {
            return Ok(key);
        }
        let i = self
            .bad_lines
            .binary_search_by_key(&(u as u32), |b| b.0)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "the job list changed while it was followed"))?;
        Ok(format!("line:{}", self.bad_lines[i].1))
    }

    /// The failed jobs' keys and last error messages, in job-list order (at most `n`); the
    /// messages are read again from the result files `followers` (as polled).
    pub fn failures(&self, n: usize, followers: &[Follower]) -> io::Result<Vec<(String, String)>> {
        let mut reader = self.text.reader();
        let failed = self.units.iter().enumerate().filter(|(_, u)| u.status() == Status::Failed);
        failed
            .take(n)
            .map(|(i, u)| Ok((self.key_text(&mut reader, i)?, error_text(u.last_error(), followers))))
            .collect()
    }

    /// The `n` jobs that took longest (the largest `secs` of their lines; ties by key).
    pub fn slowest(&self, n: usize) -> io::Result<Vec<(String, f64)>> {
        // The n-th largest time bounds the candidates, so only they are named. Positive
        // floats order as their bits.
        let mut floor = BinaryHeap::with_capacity(n + 1);
        for u in self.units.iter().filter(|u| u.secs > 0.0) {
            floor.push(Reverse(u.secs.to_bits()));
            if floor.len() > n {
                floor.pop();
            }
        }
        let Some(&Reverse(floor)) = floor.peek() else { return Ok(Vec::new()) };
        let mut reader = self.text.reader();
        let mut best: Vec<(String, f64)> = Vec::with_capacity(n + 1);
        for (i, u) in self.units.iter().enumerate().filter(|(_, u)| u.secs >= f64::from_bits(floor)) {
            let (key, secs) = (self.key_text(&mut reader, i)?, u.secs);
            let at = best.partition_point(|(k, s)| *s > secs || (*s == secs && *k < key));
            best.insert(at, (key, secs));
            best.truncate(n);
        }
        Ok(best)
    }

    /// Seconds of work the result lines report (each job's largest `secs`), over every job.
    pub fn work_secs(&self) -> f64 {
        // From +0.0: an empty f64 sum is -0.0.
        self.units.iter().fold(0.0, |sum, u| sum + u.secs)
    }

    /// Jobs whose counted parts are kept (incomplete jobs with several parts).
    pub fn open_jobs(&self) -> usize {
        self.open_parts.len()
    }
}

/// A failed job's last error message, read again from its result file.
fn error_text(at: Option<LineRef>, followers: &[Follower]) -> String {
    let Some(at) = at else { return String::new() };
    let Some(f) = followers.get(at.file as usize) else { return String::new() };
    let gone = match f.error_at(at.offset) {
        Ok(Some(message)) => return message,
        Ok(None) => "no error line there any more".to_string(),
        Err(e) => e.to_string(),
    };
    tracing::warn!("{}: cannot read the error line at byte {} again: {gone}", f.path.display(), at.offset);
    format!("(error line unreadable: {gone})")
}

/// The job lines to redo, read one at a time (see [`Progress::redo_lines`]).
pub struct RedoLines<'a> {
    progress: &'a Progress,
    reader: Reread<'a>,
    next: usize,
}

impl RedoLines<'_> {
    /// The next line, None after the last.
    pub fn next_line(&mut self) -> io::Result<Option<&str>> {
        let units = &self.progress.units;
        while let Some(u) = units.get(self.next) {
            self.next += 1;
            if u.status() != Status::Ok {
                return self.reader.line(u.line()).map(Some);
            }
        }
        Ok(None)
    }
}

/// Jobs by status.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Counts {
    /// Jobs in the job list (lines naming the same job count once).
    pub jobs: usize,
    /// Jobs that are ok.
    pub ok: usize,
    /// Jobs that failed (an error line and too few ok parts).
    pub failed: usize,
    /// Jobs with some ok parts and more expected.
    pub running: usize,
    /// Jobs without any result line yet.
    pub pending: usize,
    /// Total weight (jobs, or the size field's sum) and the weight of finished jobs.
    pub weight: f64,
    /// The weight of the finished jobs (ok or failed).
    pub done_weight: f64,
}

impl Counts {
    /// True when every job has a result (ok or failed).
    pub fn complete(&self) -> bool {
        self.ok + self.failed == self.jobs
    }
}

/// Results captured in memory, or failing, for the modules' tests.
#[cfg(test)]
pub(crate) mod testing {
    use crate::jobs::Results;
    use std::io::{self, Write};
    use std::sync::{Arc, Mutex};

    /// A writer taking `room` bytes, then failing with `kind` (without room limit: never).
    #[derive(Clone)]
    struct Sink {
        taken: Arc<Mutex<Vec<u8>>>,
        room: Option<usize>,
        kind: io::ErrorKind,
    }

    impl Write for Sink {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            let mut taken = self.taken.lock().unwrap();
            let n = self.room.map_or(bytes.len(), |room| bytes.len().min(room - taken.len()));
            if n == 0 && !bytes.is_empty() {
                return Err(io::Error::from(self.kind));
            }
            taken.extend_from_slice(&bytes[..n]);
            Ok(n)
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn results(room: Option<usize>, kind: io::ErrorKind) -> (Results, impl Fn() -> String) {
        let sink = Sink { taken: Arc::default(), room, kind };
        let taken = sink.taken.clone();
        (Results::to_writer(Box::new(sink)), move || String::from_utf8_lossy(&taken.lock().unwrap()).into_owned())
    }

    /// Results kept in memory, and their text so far.
    pub fn captured() -> (Results, impl Fn() -> String) {
        results(None, io::ErrorKind::Other)
    }

    /// Results that take `room` bytes and then fail with `kind`, and the text taken.
    pub fn failing(room: usize, kind: io::ErrorKind) -> (Results, impl Fn() -> String) {
        results(Some(room), kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_from_the_size_field_flag() {
        assert_eq!(Weight::from_size_field(None), Weight::Auto);
        assert_eq!(Weight::from_size_field(Some("count")), Weight::Count);
        assert_eq!(Weight::from_size_field(Some("bytes")), Weight::Field("bytes".into()));
    }

    fn progress(jobs: &str, kind: Option<KeyKind>, weight: &Weight) -> Progress {
        Progress::from_reader(io::Cursor::new(jobs.as_bytes().to_vec()), kind, weight).unwrap()
    }

    /// Takes result lines into account (as if from file 0, one byte apart).
    fn feed(p: &mut Progress, lines: &[&str]) {
        for (i, l) in lines.iter().enumerate() {
            let (r, object) = parse_result(l).unwrap();
            p.add_result(&r, object, LineRef { file: 0, offset: i as u64 });
        }
    }

    fn redo(p: &Progress) -> Vec<String> {
        let (mut lines, mut out) = (p.redo_lines(), Vec::new());
        while let Some(l) = lines.next_line().unwrap() {
            out.push(l.to_string());
        }
        out
    }

    #[test]
    fn parts_counted_once_and_forgotten_when_the_job_completes() {
        let mut p = progress("{\"path\":\"a\"}\n{\"path\":\"b\"}\n{\"path\":\"c\"}\n", None, &Weight::Auto);
        let part = |n: u32| format!(r#"{{"path":"a/{n}","source":"a","parts":3,"status":"ok"}}"#);
        feed(&mut p, &[&part(1), &part(1), &part(2)]);
        assert_eq!((p.counts().running, p.units[0].ok), (1, 2), "a rerun's line for a part counts once");
        assert_eq!((p.open_jobs(), p.open_parts[&0].len()), (1, 2));
        feed(&mut p, &[&part(3)]);
        assert_eq!((p.counts().ok, p.open_jobs()), (1, 0), "complete: its parts are dropped");
        feed(&mut p, &[&part(1), &part(4)]);
        assert_eq!((p.counts().ok, p.open_jobs()), (1, 0), "later lines of a complete job keep nothing");
        // Lines without a path are parts by their whole text, spacing aside.
        let b = [r#"{"source":"b","parts":2,"status":"ok"}"#, r#"{ "source":"b", "parts":2, "status":"ok" }"#];
        feed(&mut p, &b);
        assert_eq!((p.units[1].ok, p.open_jobs()), (1, 1));
        feed(&mut p, &[r#"{"source":"b","parts":2,"status":"ok","n":2}"#]);
        assert_eq!((p.units[1].status(), p.open_jobs()), (Status::Ok, 0));
        // One part: nothing is kept at all.
        feed(&mut p, &[r#"{"path":"c","status":"ok"}"#]);
        assert_eq!((p.counts().ok, p.open_jobs(), p.open_parts.capacity() > 0), (3, 0, true));
    }

    #[test]
    fn errors_then_a_rerun() {
        let mut p = progress("{\"path\":\"a\"}\n{\"path\":\"b\"}\n", None, &Weight::Auto);
        feed(&mut p, &[r#"{"path":"a","status":"error","error":"x"}"#, r#"{"path":"a","status":"error"}"#]);
        let c = p.counts();
        assert_eq!((c.failed, c.pending, p.units[0].errors, p.units[0].last_error().unwrap().offset), (1, 1, 2, 1));
        assert_eq!(redo(&p), ["{\"path\":\"a\"}", "{\"path\":\"b\"}"]);
        feed(&mut p, &[r#"{"path":"a","status":"ok"}"#, r#"{"path":"zz","status":"ok"}"#]);
        assert_eq!((p.counts().ok, p.counts().failed, p.other_lines), (1, 0, 1));
        assert_eq!(redo(&p), ["{\"path\":\"b\"}"]);
    }

    #[test]
    fn keys_of_tiles_at_a_zoom_and_of_bad_lines() {
        let jobs =
            "not json\n{\"z\":15,\"x\":5,\"y\":6,\"bytes\":10}\n\n  {\"z\":15,\"x\":4,\"y\":7,\"bytes\":30}\n[1]\n";
        let mut p = progress(jobs, Some(KeyKind::Tile(Some(14))), &Weight::Auto);
        assert_eq!((p.units.len(), p.duplicate_jobs), (3, 0), "two children of one parent: one unit");
        assert_eq!(p.units.iter().map(|u| u.weight).collect::<Vec<_>>(), [1.0; 3], "not every line has bytes");
        feed(
            &mut p,
            &[
                r#"{"z":14,"x":2,"y":3,"status":"error","secs":2.5}"#,
                r#"{"line":4,"input":"[1]","status":"error","secs":2.5}"#,
                r#"{"line":1,"input":"not json","status":"ok","secs":1}"#,
            ],
        );
        // Lines are numbered without blank lines, as before (`[1]` is the file's line 5).
        assert_eq!(p.slowest(5).unwrap(), [("14/2/3".into(), 2.5), ("line:4".into(), 2.5), ("line:1".into(), 1.0)]);
        assert_eq!(p.slowest(1).unwrap(), [("14/2/3".to_string(), 2.5)], "ties by key");
        let failed: Vec<String> = p.failures(20, &[]).unwrap().into_iter().map(|f| f.0).collect();
        assert_eq!(failed, ["14/2/3", "line:4"]);
        assert_eq!(redo(&p), ["{\"z\":15,\"x\":5,\"y\":6,\"bytes\":10}", "[1]"]);
    }

    #[test]
    fn weights_and_key_errors() {
        let p = progress("{\"path\":\"a\",\"bytes\":10}\n{\"path\":\"a\",\"bytes\":5}\n", None, &Weight::Auto);
        assert_eq!((p.counts().weight, p.duplicate_jobs), (10.0, 1));
        let p = progress("{\"path\":\"a\",\"n\":2.5}\n{\"path\":\"b\"}\n", None, &Weight::Field("n".into()));
        assert_eq!(p.counts().weight, 2.5);
        let e =
            Progress::from_reader(io::Cursor::new(b"{\"path\":\"a\"}\n\n{\"z\":1}\n".to_vec()), None, &Weight::Auto);
        assert_eq!(e.unwrap_err().to_string(), "job line 2: no \"path\" to follow it by");
        // A bad line after a line without a key: the read error is told.
        let e = Progress::from_reader(io::Cursor::new(b"{\"z\":1}\n\xff\n".to_vec()), None, &Weight::Auto);
        assert!(matches!(e, Err(JobListError::Read(_))));
    }

    #[test]
    fn unit_state_is_a_few_dozen_bytes() {
        assert_eq!(std::mem::size_of::<Unit>(), 56);
        assert_eq!(std::mem::size_of::<Key>(), 16);
    }
}
