//! Result files followed while writers append to them: read in bounded chunks, line by line;
//! only a half-written last line is kept until its end arrives.

use super::line::{self, Line};
use serde::Serialize;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Bytes read from a result file at a time.
pub const CHUNK: usize = 1 << 20;

/// The read buffer shared by every followed file (one chunk, plus a line longer than that).
#[derive(Debug)]
pub struct ChunkBuf {
    buf: Vec<u8>,
    chunk: usize,
}

impl ChunkBuf {
    /// A buffer reading `chunk` bytes at a time.
    pub fn new(chunk: usize) -> ChunkBuf {
        ChunkBuf { buf: Vec::new(), chunk: chunk.max(1) }
    }
}

impl Default for ChunkBuf {
    fn default() -> ChunkBuf {
        ChunkBuf::new(CHUNK)
    }
}

/// Where a result line is: its file (index among the followed files) and its start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineRef {
    /// Index of the file among the followed result files.
    pub file: u32,
    /// Byte offset of the line's start in that file.
    pub offset: u64,
}

/// A result file followed while writers append to it: complete lines are parsed as they come,
/// a half-written last line waits for its end.
#[derive(Debug)]
pub struct Follower {
    /// The result file.
    pub path: PathBuf,
    offset: u64,
    partial: Vec<u8>,
    /// Result lines read that are not error lines.
    pub ok_lines: usize,
    /// Result lines with `"status":"error"`.
    pub error_lines: usize,
    /// Non-blank lines that are not JSON objects.
    pub unreadable: usize,
    /// When the file was created (else its mtime when first seen).
    pub created: Option<SystemTime>,
    /// When the file was last written (its mtime at the last poll).
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

    /// Reads what was appended since the last call, a chunk at a time; calls `each` with every
    /// new complete result line, the text of its object and the line's offset in the file.
    pub fn poll(&mut self, chunks: &mut ChunkBuf, mut each: impl FnMut(&Line, &str, u64)) -> io::Result<()> {
        let mut file = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
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
            self.partial = Vec::new();
        }
        if meta.len() == self.offset {
            return Ok(());
        }
        file.seek(SeekFrom::Start(self.offset))?;
        let mut file = file.take(meta.len() - self.offset);
        let buf = &mut chunks.buf;
        buf.clear();
        buf.extend_from_slice(&self.partial);
        // The file offset of buf[0].
        let mut start = self.offset - buf.len() as u64;
        let read = loop {
            buf.reserve(chunks.chunk);
            let n = match (&mut file).take(chunks.chunk as u64).read_to_end(buf) {
                Ok(n) => n,
                Err(e) => break Err(e),
            };
            if n == 0 {
                break Ok(());
            }
            self.offset += n as u64;
            let used = self.lines(buf, start, &mut each);
            buf.drain(..used);
            start += used as u64;
        };
        // What is left is the start of a line still being written.
        self.partial = buf.clone();
        read
    }

    /// Takes the complete lines at the start of `bytes` (which begin at file offset `start`);
    /// returns how many bytes they span.
    fn lines(&mut self, bytes: &[u8], start: u64, each: &mut impl FnMut(&Line, &str, u64)) -> usize {
        let mut at = 0;
        while let Some(end) = bytes[at..].iter().position(|&b| b == b'\n') {
            let text = lossy(&bytes[at..at + end]);
            if !text.trim().is_empty() {
                match line::parse_result(&text) {
                    Some((l, object)) => {
                        if l.failed {
                            self.error_lines += 1;
                        } else {
                            self.ok_lines += 1;
                        }
                        each(&l, object, start + at as u64);
                    }
                    None => self.unreadable += 1,
                }
            }
            at += end + 1;
        }
        at
    }

    /// The `error` message of the error line at `offset` (an empty text when it has none), read
    /// again; None when no error line is there any more.
    pub fn error_at(&self, offset: u64) -> io::Result<Option<String>> {
        let mut file = File::open(&self.path)?;
        file.seek(SeekFrom::Start(offset))?;
        let mut bytes = Vec::new();
        BufReader::new(file).read_until(b'\n', &mut bytes)?;
        let text = lossy(bytes.strip_suffix(b"\n").unwrap_or(&bytes));
        Ok(match line::parse_result(&text) {
            Some((l, _)) if l.failed => Some(l.error.unwrap_or_default().into_owned()),
            _ => None,
        })
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

/// A line's text, invalid UTF-8 replaced (as `String::from_utf8_lossy`, faster when valid).
fn lossy(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

/// One host's task files taken together.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HostSummary {
    /// The host, from the task files' names (`STAGE.HOST.TASK.ndjson`).
    pub host: String,
    /// How many task files it has.
    pub task_files: usize,
    /// Ok result lines in its task files.
    pub ok_lines: usize,
    /// Error result lines in its task files.
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
    // From +0.0: an empty f64 sum is -0.0 (shown as `-0.000`).
    hosts(followers).iter().fold(0.0, |sum, h| sum + h.span_secs) / 3600.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// Polls `f` and returns (path or error text, offset) of each line it gave.
    fn poll(f: &mut Follower, chunks: &mut ChunkBuf) -> Vec<(String, u64)> {
        let mut got = Vec::new();
        f.poll(chunks, |l, _, at| {
            let what = l.path.as_deref().or(l.error.as_deref()).unwrap_or_default();
            got.push((what.to_string(), at));
        })
        .unwrap();
        got
    }

    #[test]
    fn lines_split_by_chunks_and_by_writers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stage.h.0.ndjson");
        let lines = [
            r#"{"path":"a","status":"ok"}"#.to_string(),
            format!(r#"{{"path":"{}","status":"ok"}}"#, "b".repeat(40)),
            "not json".to_string(),
            String::new(),
            r#"{"path":"c","status":"error","error":"bad"}"#.to_string(),
        ];
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        // Every chunk size from 1 byte to more than the file, and every point where a writer
        // stopped half way through: the same lines at the same offsets.
        let offsets: Vec<u64> =
            lines.iter().scan(0, |o, l| Some(std::mem::replace(o, *o + l.len() as u64 + 1))).collect();
        let want = vec![("a".to_string(), offsets[0]), ("b".repeat(40), offsets[1]), ("c".to_string(), offsets[4])];
        for chunk in [1, 2, 3, 7, 16, 64, 1 << 20] {
            for cut in (0..text.len()).step_by(5) {
                std::fs::write(&path, &text[..cut]).unwrap();
                let (mut f, mut chunks) = (Follower::new(&path), ChunkBuf::new(chunk));
                let mut got = poll(&mut f, &mut chunks);
                std::fs::OpenOptions::new()
                    .append(true)
                    .open(&path)
                    .unwrap()
                    .write_all(&text.as_bytes()[cut..])
                    .unwrap();
                got.extend(poll(&mut f, &mut chunks));
                assert_eq!(got, want, "chunk {chunk}, cut at {cut}");
                assert_eq!((f.ok_lines, f.error_lines, f.unreadable), (2, 1, 1));
                assert!(f.partial.is_empty());
                assert!(chunks.buf.capacity() <= 2 * (chunk + text.len()), "the buffer holds a chunk and a line");
            }
        }
        let f = Follower::new(&path);
        assert_eq!(f.error_at(offsets[4]).unwrap(), Some("bad".to_string()));
        assert_eq!(f.error_at(offsets[0]).unwrap(), None, "an ok line");
    }

    #[test]
    fn a_half_line_waits_and_a_glued_line_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.ndjson");
        std::fs::write(&path, "{\"path\":\"a\",\"sta").unwrap();
        let (mut f, mut chunks) = (Follower::new(&path), ChunkBuf::new(4));
        assert!(poll(&mut f, &mut chunks).is_empty());
        assert_eq!(f.partial.len(), 16, "the half line is kept");
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"{\"path\":\"b\",\"status\":\"error\"}\n")
            .unwrap();
        assert_eq!(poll(&mut f, &mut chunks), [("b".to_string(), 0)]);
        assert_eq!(f.error_at(0).unwrap(), Some(String::new()), "an error line without a message");
        assert_eq!(f.unreadable, 0);
    }
}
