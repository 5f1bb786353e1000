//! Job lines: flat JSON objects, one per line (NDJSON), the one interface between tools.
//!
//! A tool reads job lines, does one unit of work per line and writes one result line per
//! finished unit. A result line keeps the job's unknown fields, so it is a valid job line for
//! the next tool. A failed unit is a line with `"status":"error"` and an `"error"` message.

use serde_json::{Map, Value};
use std::fs::File;
use std::io::{self, BufRead, BufReader, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

/// The fields of one job or result line, in their original order.
pub type Fields = Map<String, Value>;

/// Exit status: every unit succeeded.
pub const EXIT_OK: u8 = 0;
/// Exit status: some units failed (their error lines say which).
pub const EXIT_FAILED: u8 = 1;
/// Exit status: bad usage or config; no work was done.
pub const EXIT_USAGE: u8 = 2;

/// A job line that was read, with its 1-based line number in the input.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// Its 1-based line number in the input.
    pub line: usize,
    /// Its fields, in the order written.
    pub fields: Fields,
}

impl Job {
    /// A string field, if present and a string.
    pub fn str(&self, key: &str) -> Option<&str> {
        self.fields.get(key).and_then(Value::as_str)
    }

    /// A numeric field as f64, if present and a number.
    pub fn num(&self, key: &str) -> Option<f64> {
        self.fields.get(key).and_then(Value::as_f64)
    }
}

/// An input line that is not a job line.
#[derive(Debug, Clone, PartialEq)]
pub struct BadLine {
    /// Its 1-based line number in the input.
    pub line: usize,
    /// The line's text, trimmed.
    pub text: String,
    /// Why it is not a job line (not JSON, or not a JSON object).
    pub why: String,
}

impl BadLine {
    /// The error line reporting it.
    pub fn error_fields(&self) -> Fields {
        let mut f = Fields::new();
        f.insert("line".into(), self.line.into());
        f.insert("input".into(), self.text.clone().into());
        f.insert("status".into(), "error".into());
        f.insert("error".into(), format!("line {}: not a job line: {}", self.line, self.why).into());
        f
    }
}

/// Opens the job input: a file, or standard input when `path` is None or `-`.
pub fn open_input(path: Option<&Path>) -> io::Result<Box<dyn BufRead + Send>> {
    match path {
        Some(p) if p != Path::new("-") => {
            let file = File::open(p)
                .map_err(|e| io::Error::new(e.kind(), format!("cannot open job file {}: {e}", p.display())))?;
            Ok(Box::new(BufReader::new(file)))
        }
        _ => {
            if io::stdin().is_terminal() {
                tracing::warn!("reading job lines from the terminal; end with Ctrl-D (or pass --input FILE)");
            }
            Ok(Box::new(BufReader::new(io::stdin())))
        }
    }
}

/// Parses one line; blank lines give None.
pub fn parse_line(line: usize, text: &str) -> Option<Result<Job, BadLine>> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return None;
    }
    let bad = |why: String| BadLine { line, text: trimmed.to_string(), why };
    Some(match serde_json::from_str::<Value>(trimmed) {
        Ok(Value::Object(fields)) => Ok(Job { line, fields }),
        Ok(other) => Err(bad(format!("expected a JSON object, got {}", kind_of(&other)))),
        Err(e) => Err(bad(format!("malformed JSON: {e}"))),
    })
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Reads every job line of an input; read errors end the stream with an `Err`.
pub fn read_jobs<R: BufRead>(input: R) -> impl Iterator<Item = io::Result<Result<Job, BadLine>>> {
    input.lines().enumerate().filter_map(|(i, line)| match line {
        Ok(text) => parse_line(i + 1, &text).map(Ok),
        Err(e) => Some(Err(e)),
    })
}

/// A result line starting from a job's fields, less the ones this tool consumed.
pub fn result_from(job: &Fields, consumed: &[&str]) -> Fields {
    job.iter().filter(|(k, _)| !consumed.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// Writes result lines (whole lines, flushed at once, safe from many threads) and counts them.
/// The first write that fails (a closed pipe, a full disk) is kept: the tool stops taking work
/// and ends with it ([`Results::exit_code`]).
pub struct Results {
    out: Mutex<Box<dyn Write + Send>>,
    ok: AtomicUsize,
    failed: AtomicUsize,
    broken: Mutex<Option<io::Error>>,
    closed: AtomicBool,
}

/// Exit status of a tool whose results could not be written because the reader closed the pipe
/// (as a program killed by SIGPIPE: 128 + 13).
pub const EXIT_PIPE_CLOSED: u8 = 141;

impl Results {
    /// Results written to standard output.
    pub fn stdout() -> Results {
        Results::to_writer(Box::new(io::stdout()))
    }

    /// Results written to any writer.
    pub fn to_writer(out: Box<dyn Write + Send>) -> Results {
        Results {
            out: Mutex::new(out),
            ok: AtomicUsize::new(0),
            failed: AtomicUsize::new(0),
            broken: Mutex::new(None),
            closed: AtomicBool::new(false),
        }
    }

    fn write(&self, fields: &Fields) -> io::Result<()> {
        let mut text = serde_json::to_string(fields).map_err(io::Error::other)?;
        text.push('\n');
        self.write_text(&text)
    }

    /// Writes text that is whole lines (e.g. job lines printed again as they were).
    pub fn write_text(&self, text: &str) -> io::Result<()> {
        if self.is_closed() {
            return Err(io::Error::new(io::ErrorKind::BrokenPipe, "results are closed"));
        }
        let mut out = self.out.lock().unwrap_or_else(|p| p.into_inner());
        let written = out.write_all(text.as_bytes()).and_then(|()| out.flush());
        if let Err(e) = &written {
            self.closed.store(true, Ordering::Relaxed);
            let mut broken = self.broken.lock().unwrap_or_else(|p| p.into_inner());
            broken.get_or_insert_with(|| io::Error::new(e.kind(), e.to_string()));
        }
        written
    }

    /// True once a write failed: no more lines can be written, and the tool should stop.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Relaxed)
    }

    /// Writes a finished unit; sets `"status":"ok"` unless the fields carry a status.
    pub fn ok(&self, mut fields: Fields) -> io::Result<()> {
        fields.entry("status").or_insert_with(|| "ok".into());
        self.ok.fetch_add(1, Ordering::Relaxed);
        self.write(&fields)
    }

    /// Writes a finished unit given as a typed line ([`crate::lines`]).
    pub fn put<T: serde::Serialize>(&self, line: &T) -> io::Result<()> {
        self.ok(crate::lines::fields_of(line))
    }

    /// Writes a failed unit: the given fields plus `"status":"error"` and the message.
    pub fn error(&self, mut fields: Fields, message: &str) -> io::Result<()> {
        if self.is_closed() {
            // Nothing can be reported any more; the run ends with why ([`Results::exit_code`]).
            return Err(io::Error::new(io::ErrorKind::BrokenPipe, "results are closed"));
        }
        fields.insert("status".into(), "error".into());
        fields.insert("error".into(), message.into());
        self.failed.fetch_add(1, Ordering::Relaxed);
        tracing::error!("{message}");
        self.write(&fields)
    }

    /// Writes the error line of a typed job (its own fields, status error, the message).
    pub fn error_for<T: serde::Serialize>(&self, job: &T, message: &str) -> io::Result<()> {
        let mut fields = crate::lines::fields_of(job);
        fields.shift_remove("error");
        fields.shift_remove("status");
        self.error(fields, message)
    }

    /// Writes the error line for an input line that is not a job line.
    pub fn bad_line(&self, bad: &BadLine) -> io::Result<()> {
        let mut f = bad.error_fields();
        let message = f.remove("error").and_then(|v| v.as_str().map(String::from)).unwrap_or_default();
        self.error(f, &message)
    }

    /// Number of units written as ok.
    pub fn ok_count(&self) -> usize {
        self.ok.load(Ordering::Relaxed)
    }

    /// Number of units written as failed.
    pub fn failed_count(&self) -> usize {
        self.failed.load(Ordering::Relaxed)
    }

    /// The exit status for the run: [`EXIT_OK`], or [`EXIT_FAILED`] when a unit failed or the
    /// results could not be written (one message says why on stderr), or [`EXIT_PIPE_CLOSED`],
    /// without a word, when the reader closed the pipe (`| head -1`).
    pub fn exit_code(&self, tool: &str) -> ExitCode {
        if let Some(e) = self.broken.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            if e.kind() == io::ErrorKind::BrokenPipe {
                return ExitCode::from(EXIT_PIPE_CLOSED);
            }
            eprintln!("{tool}: cannot write results: {e}");
            return ExitCode::from(EXIT_FAILED);
        }
        ExitCode::from(if self.failed_count() == 0 { EXIT_OK } else { EXIT_FAILED })
    }
}
