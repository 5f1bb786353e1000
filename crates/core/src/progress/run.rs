//! The run of `iwp-progress`: read the job list, follow the result files (live bars, or status
//! lines among the results), then write the summary or the job lines to redo, and end with the
//! stage's exit status. Everything for stdout goes through [`Results`], so a full disk is one
//! message and exit 1, and a closed pipe ends the run quietly (141).

use super::state::State;
use super::summary::{human_summary, summary};
use super::view::View;
use super::watch::Watch;
use super::{Counts, JobListError, KeyKind, Progress, SlurmClock, Weight};
use crate::cli;
use crate::jobs::{Results, EXIT_FAILED, EXIT_OK};
use std::io;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Exit status of --once (or --timeout) while jobs have no result yet.
pub const EXIT_INCOMPLETE: u8 = 3;

/// Redo lines are written in batches of whole lines of about this many bytes.
const REDO_BATCH: usize = 64 << 10;

/// What the run does once the job list is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Follow until every job has a result (or the timeout), then write the summary.
    Follow,
    /// Read the result files once and write the summary.
    Once,
    /// Read the result files once and write the job lines that failed or have no result yet.
    Failed,
}

/// How jobs are matched to result lines (`--key`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MatchBy {
    /// By z/x/y.
    Tile,
    /// By path (results name it in `source` or `path`).
    Path,
}

/// What to follow and how: the tool's arguments.
#[derive(Debug, Clone)]
pub struct Options {
    /// The job list (`-`: standard input).
    pub jobs: PathBuf,
    /// Result files or glob patterns.
    pub results: Vec<String>,
    /// Follow, once, or the lines to redo.
    pub mode: Mode,
    /// How jobs are matched to results; None guesses from the job lines.
    pub key: Option<MatchBy>,
    /// Count tiles of this zoom (job tiles stand for their ancestor at it).
    pub zoom: Option<u8>,
    /// The field jobs are weighed by (`count`: every job 1; None: `bytes` when every job has it).
    pub size_field: Option<String>,
    /// Seconds between status lines when stderr is not a terminal.
    pub interval: f64,
    /// Stop following after this many seconds.
    pub timeout: Option<f64>,
    /// The stage's name (None: the job file's name).
    pub name: Option<String>,
    /// No summary for people on stderr.
    pub quiet: bool,
}

/// Runs `tool` as `o` says, writing to standard output; gives the exit status.
pub fn run(tool: &str, o: &Options) -> ExitCode {
    run_to(tool, o, &Results::stdout())
}

/// As [`run`], writing to `out`: 0 every job ok, 1 some failed, 2 a usage error, 3 jobs without
/// a result yet (--once, --timeout); when `out` cannot be written, 1 with one message (or 141
/// quietly for a closed pipe), as [`Results::exit_code`] says.
pub fn run_to(tool: &str, o: &Options, out: &Results) -> ExitCode {
    let kind = match key_kind(o.key, o.zoom) {
        Ok(k) => k,
        Err(e) => return cli::usage_error(tool, e),
    };
    let cannot_read = |again: &str, e: &io::Error| {
        cli::usage_error(tool, &format!("cannot read job list {}{again}: {e}", o.jobs.display()))
    };
    let mut progress = match Progress::from_path(&o.jobs, kind, &Weight::from_size_field(o.size_field.as_deref())) {
        Ok(p) => p,
        Err(JobListError::Read(e)) => return cannot_read("", &e),
        Err(e) => return cli::usage_error(tool, &format!("{}: {e}", o.jobs.display())),
    };
    if progress.duplicate_jobs > 0 {
        tracing::warn!(
            "{}: {} job lines repeat an earlier job (counted once)",
            o.jobs.display(),
            progress.duplicate_jobs
        );
    }
    let name = o.name.clone().unwrap_or_else(|| stage_name(&o.jobs));
    let mut watch = Watch::new(&o.results);
    let started = Instant::now();
    let mut view = View::new(&name, progress.counts().jobs as u64, o.interval);
    let mut clock = SlurmClock::default();
    let counts = loop {
        watch.poll(&mut progress);
        let counts = progress.counts();
        if o.mode != Mode::Follow || counts.complete() {
            break counts;
        }
        let state = State::of(&name, &progress, &watch.followers, clock.left());
        view.update(&state, &watch.followers, out);
        if out.is_closed() || o.timeout.is_some_and(|t| started.elapsed().as_secs_f64() >= t) {
            break counts;
        }
        std::thread::sleep(Duration::from_millis(250));
    };
    view.finish();
    if out.is_closed() {
        return out.exit_code(tool);
    }
    if o.mode == Mode::Failed {
        return match write_redo_lines(&progress, out) {
            Ok(()) => out.exit_code(tool),
            Err(e) => cannot_read(" again", &e),
        };
    }
    let state = State::of(&name, &progress, &watch.followers, clock.left());
    let named = progress.slowest(5).and_then(|slow| Ok((slow, progress.failures(20, &watch.followers)?)));
    let (slowest, failures) = match named {
        Ok(n) => n,
        Err(e) => return cannot_read(" again", &e),
    };
    let line = summary(&state, &progress, &watch.followers, &slowest, &failures);
    if out.write_text(&format!("{line}\n")).is_err() {
        return out.exit_code(tool);
    }
    if !o.quiet {
        eprint!("{}", human_summary(&state, &watch.followers, &slowest, &failures));
    }
    ExitCode::from(exit_status(&counts))
}

/// The key kind from `--key` and `--zoom` (None: guessed from the job lines); Err: the usage
/// error of `--zoom` with `--key path`.
pub fn key_kind(key: Option<MatchBy>, zoom: Option<u8>) -> Result<Option<KeyKind>, &'static str> {
    Ok(match (key, zoom) {
        (Some(MatchBy::Path), Some(_)) => return Err("--zoom counts tiles: not with --key path"),
        (Some(MatchBy::Path), None) => Some(KeyKind::Path),
        (_, Some(z)) => Some(KeyKind::Tile(Some(z))),
        (Some(MatchBy::Tile), None) => Some(KeyKind::Tile(None)),
        (None, None) => None,
    })
}

/// The stage's name from its job file's name, less `.ndjson` (`stdin` for `-`).
pub fn stage_name(jobs: &Path) -> String {
    if jobs == Path::new("-") {
        return "stdin".into();
    }
    let file = jobs.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    file.strip_suffix(".ndjson").unwrap_or(&file).to_string()
}

/// Writes the job lines to redo ([`Progress::redo_lines`]) to `out` as they are in the job
/// list, in batches of whole lines. A write that fails ends it early, kept in `out`
/// ([`Results::exit_code`]); the Err is a job list that could not be read again.
pub fn write_redo_lines(p: &Progress, out: &Results) -> io::Result<()> {
    let mut lines = p.redo_lines();
    let mut batch = String::new();
    loop {
        let line = match lines.next_line() {
            Ok(Some(line)) => line,
            Ok(None) => break,
            Err(e) => {
                // What was read before is written, as far as it goes.
                if !batch.is_empty() {
                    let _ = out.write_text(&batch);
                }
                return Err(e);
            }
        };
        batch.push_str(line);
        batch.push('\n');
        if batch.len() >= REDO_BATCH {
            if out.write_text(&batch).is_err() {
                return Ok(());
            }
            batch.clear();
        }
    }
    if !batch.is_empty() {
        let _ = out.write_text(&batch);
    }
    Ok(())
}

/// 3 while jobs have no result (even if some failed: the stage is not over), else 1 when any
/// failed, else 0.
pub fn exit_status(c: &Counts) -> u8 {
    if !c.complete() {
        EXIT_INCOMPLETE
    } else if c.failed > 0 {
        EXIT_FAILED
    } else {
        EXIT_OK
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::testing::{captured, failing};
    use std::fs;

    #[test]
    fn exit_status_from_counts() {
        let c = |jobs, ok, failed, running| Counts {
            jobs,
            ok,
            failed,
            running,
            pending: jobs - ok - failed - running,
            ..Default::default()
        };
        assert_eq!(exit_status(&c(3, 3, 0, 0)), 0);
        assert_eq!(exit_status(&c(0, 0, 0, 0)), 0, "no jobs: all done");
        assert_eq!(exit_status(&c(3, 2, 1, 0)), 1);
        assert_eq!(exit_status(&c(3, 0, 3, 0)), 1);
        assert_eq!(exit_status(&c(3, 2, 0, 1)), 3, "a job running");
        assert_eq!(exit_status(&c(3, 1, 1, 0)), 3, "failed, but a job pending: not over");
    }

    #[test]
    fn key_kinds_and_stage_names() {
        assert_eq!(key_kind(None, None), Ok(None));
        assert_eq!(key_kind(Some(MatchBy::Path), None), Ok(Some(KeyKind::Path)));
        assert_eq!(key_kind(Some(MatchBy::Tile), None), Ok(Some(KeyKind::Tile(None))));
        assert_eq!(key_kind(None, Some(14)), Ok(Some(KeyKind::Tile(Some(14)))));
        assert_eq!(key_kind(Some(MatchBy::Tile), Some(3)), Ok(Some(KeyKind::Tile(Some(3)))));
        assert_eq!(key_kind(Some(MatchBy::Path), Some(3)), Err("--zoom counts tiles: not with --key path"));
        assert_eq!(stage_name(Path::new("-")), "stdin");
        assert_eq!(stage_name(Path::new("run/z15.ndjson")), "z15");
        assert_eq!(stage_name(Path::new("files.txt")), "files.txt");
    }

    /// A stage of 4 jobs in `dir`: a ok, b failed, c running (1 of 2 parts), d pending.
    fn stage(dir: &Path) -> Options {
        let jobs: String = ["a", "b", "c", "d"].iter().map(|p| format!("{{\"path\":\"{p}\"}}\n")).collect();
        fs::write(dir.join("jobs.ndjson"), jobs).unwrap();
        let results = [
            r#"{"path":"a","status":"ok","secs":2}"#,
            r#"{"path":"b","status":"error","error":"broken b"}"#,
            r#"{"path":"c/1","source":"c","parts":2,"status":"ok"}"#,
        ];
        fs::write(dir.join("stage.h.0.ndjson"), results.join("\n") + "\n").unwrap();
        Options {
            jobs: dir.join("jobs.ndjson"),
            results: vec![dir.join("stage.*.ndjson").display().to_string()],
            mode: Mode::Once,
            key: None,
            zoom: None,
            size_field: None,
            interval: 0.1,
            timeout: None,
            name: None,
            quiet: true,
        }
    }

    #[test]
    fn once_failed_and_a_timeout() {
        let dir = tempfile::tempdir().unwrap();
        let o = stage(dir.path());
        let (out, text) = captured();
        assert_eq!(run_to("t", &o, &out), ExitCode::from(EXIT_INCOMPLETE));
        let s: serde_json::Value = serde_json::from_str(text().trim_end()).unwrap();
        assert_eq!((s["stage"].as_str(), s["summary"].as_bool()), (Some("jobs"), Some(true)));
        assert_eq!([&s["ok"], &s["failed"], &s["running"], &s["pending"]], [1, 1, 1, 1]);
        assert_eq!(s["failures"], serde_json::json!([{"job": "b", "error": "broken b"}]));

        let (out, text) = captured();
        assert_eq!(run_to("t", &Options { mode: Mode::Failed, ..o.clone() }, &out), ExitCode::SUCCESS);
        assert_eq!(text(), "{\"path\":\"b\"}\n{\"path\":\"c\"}\n{\"path\":\"d\"}\n");

        // Following until the timeout: status lines, then the summary.
        let (out, text) = captured();
        let follow = Options { mode: Mode::Follow, timeout: Some(0.3), name: Some("s".into()), ..o.clone() };
        assert_eq!(run_to("t", &follow, &out), ExitCode::from(EXIT_INCOMPLETE));
        let lines: Vec<serde_json::Value> = text().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert!(lines.len() >= 2 && lines.iter().all(|l| l["stage"] == "s"), "{lines:?}");
        assert_eq!(lines.iter().filter(|l| l["summary"] == true).count(), 1);
        assert_eq!(lines.last().unwrap()["summary"], true);

        // Complete with a failure: 1; all ok: 0.
        fs::write(
            dir.path().join("stage.h.1.ndjson"),
            "{\"path\":\"c/2\",\"source\":\"c\",\"parts\":2}\n{\"path\":\"d\"}\n",
        )
        .unwrap();
        assert_eq!(run_to("t", &follow, &captured().0), ExitCode::from(EXIT_FAILED));
        fs::write(dir.path().join("stage.h.2.ndjson"), "{\"path\":\"b\",\"status\":\"ok\"}\n").unwrap();
        assert_eq!(run_to("t", &o, &captured().0), ExitCode::SUCCESS);
        let (out, text) = captured();
        assert_eq!(run_to("t", &Options { mode: Mode::Failed, ..o }, &out), ExitCode::SUCCESS);
        assert_eq!(text(), "", "nothing to redo");
    }

    #[test]
    fn results_that_cannot_be_written_end_the_run() {
        let dir = tempfile::tempdir().unwrap();
        let o = stage(dir.path());
        let follow = Options { mode: Mode::Follow, timeout: Some(30.0), ..o.clone() };
        for mode in [o.clone(), Options { mode: Mode::Failed, ..o.clone() }, follow] {
            let (out, taken) = failing(5, io::ErrorKind::BrokenPipe);
            let started = Instant::now();
            assert_eq!(run_to("t", &mode, &out), ExitCode::from(crate::jobs::EXIT_PIPE_CLOSED), "{:?}", mode.mode);
            assert!(started.elapsed() < Duration::from_secs(10), "{:?}: not followed until the timeout", mode.mode);
            assert_eq!(taken().len(), 5, "{:?}", mode.mode);
            let (out, _) = failing(0, io::ErrorKind::StorageFull);
            assert_eq!(run_to("t", &mode, &out), ExitCode::from(EXIT_FAILED), "{:?}", mode.mode);
        }
    }

    #[test]
    fn usage_errors() {
        let dir = tempfile::tempdir().unwrap();
        let o = stage(dir.path());
        let usage = ExitCode::from(crate::jobs::EXIT_USAGE);
        assert_eq!(
            run_to("t", &Options { key: Some(MatchBy::Path), zoom: Some(3), ..o.clone() }, &captured().0),
            usage
        );
        let missing = Options { jobs: dir.path().join("nonexistent.ndjson"), ..o.clone() };
        assert_eq!(run_to("t", &missing, &captured().0), usage);
        assert_eq!(run_to("t", &Options { key: Some(MatchBy::Tile), ..o }, &captured().0), usage, "no tiles");
    }
}
