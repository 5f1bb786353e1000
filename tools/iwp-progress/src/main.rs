//! iwp-progress: how far a stage is, from its job list and the result files its tasks append
//! to; waits for it to finish, and prints the job lines to redo.

use clap::{Parser, ValueEnum};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use iwp_core::cli::{self, LogArgs};
use iwp_core::progress::{
    hosts, node_hours, slurm_time_left, ChunkBuf, Counts, Follower, JobListError, KeyKind, LineRef, Progress, Weight,
};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime};

/// The tool's name, for messages.
const TOOL: &str = "iwp-progress";
/// Exit status of --once (or --timeout) while jobs have no result yet.
const EXIT_INCOMPLETE: u8 = 3;

/// Follow a stage: the job list gives the total, result files (one per task, appended to while
/// the stage runs) give what is done. Live bars on a terminal, else a status line of NDJSON
/// every few seconds on stdout; a final summary (counts, rate, slowest jobs, per host, node-hours).
#[derive(Parser, Debug)]
#[command(
    version,
    after_help = "Examples:\n  iwp-progress --jobs run/files.ndjson 'run/stage.*.ndjson'          (live, until every job has a result)\n  iwp-progress --jobs run/files.ndjson 'run/stage.*.ndjson' --once   (exit 0 done, 1 failures, 3 incomplete)\n  iwp-progress --jobs run/files.ndjson 'run/stage.*.ndjson' --failed | iwp-stage -c c.json >> run/stage.redo.ndjson\n  iwp-progress --jobs run/z15.ndjson --zoom 14 'run/z14.*.ndjson'    (a raster level: tiles of the level above)\n\nExit status: 0 every job ok, 1 every job has a result and some failed, 2 usage error,\n3 jobs without a result yet (--once, --timeout), whether or not some failed."
)]
struct Args {
    /// The stage's job list (NDJSON, one unit of work per line); `-` reads it from stdin.
    #[arg(long, value_name = "FILE")]
    jobs: PathBuf,
    /// Result files or glob patterns; quote patterns so files that appear later are picked up.
    #[arg(required = true, value_name = "RESULTS")]
    results: Vec<String>,
    /// Follow until every job has a result, then exit 0 if all are ok, 1 if any failed (the
    /// default; named for scripts).
    #[arg(long, conflicts_with_all = ["once", "failed"])]
    wait: bool,
    /// Print the current summary and exit: 0 all ok, 1 complete with failures, 3 incomplete.
    #[arg(long, conflicts_with = "failed")]
    once: bool,
    /// Print the job lines that failed or have no result yet, ready to pipe into the stage's
    /// tool again, and exit.
    #[arg(long)]
    failed: bool,
    /// How jobs are matched to results (default: tile when job lines have z/x/y, else path).
    #[arg(long, value_enum)]
    key: Option<Key>,
    /// Count tiles of zoom Z: each job tile stands for its ancestor at Z (a raster level step,
    /// whose jobs are the tiles of the level below).
    #[arg(long, value_name = "Z")]
    zoom: Option<u8>,
    /// Weigh jobs by this numeric field for rate and ETA; `count` weighs every job 1
    /// (default: `bytes` when every job line has it).
    #[arg(long, value_name = "FIELD")]
    size_field: Option<String>,
    /// Seconds between status lines when stderr is not a terminal.
    #[arg(long, value_name = "SECS", default_value_t = 5.0)]
    interval: f64,
    /// Stop following after SECS and exit 3 if jobs still have no result.
    #[arg(long, value_name = "SECS")]
    timeout: Option<f64>,
    /// The stage's name in the display (default: the job file's name).
    #[arg(long)]
    name: Option<String>,
    #[command(flatten)]
    log: LogArgs,
}

/// How jobs are matched to result lines.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum Key {
    /// By z/x/y.
    Tile,
    /// By path (results name it in `source` or `path`).
    Path,
}

fn main() -> ExitCode {
    let args = Args::parse();
    args.log.init();
    let kind = match (args.key, args.zoom) {
        (Some(Key::Path), Some(_)) => return cli::usage_error(TOOL, "--zoom counts tiles: not with --key path"),
        (Some(Key::Path), None) => Some(KeyKind::Path),
        (_, Some(z)) => Some(KeyKind::Tile(Some(z))),
        (Some(Key::Tile), None) => Some(KeyKind::Tile(None)),
        (None, None) => None,
    };
    let weight = match args.size_field.as_deref() {
        None => Weight::Auto,
        Some("count") => Weight::Count,
        Some(f) => Weight::Field(f.to_string()),
    };
    let mut progress = match Progress::from_path(&args.jobs, kind, &weight) {
        Ok(p) => p,
        Err(JobListError::Read(e)) => return cannot_read(&args.jobs, "", &e),
        Err(e) => return cli::usage_error(TOOL, &format!("{}: {e}", args.jobs.display())),
    };
    if progress.duplicate_jobs > 0 {
        tracing::warn!(
            "{}: {} job lines repeat an earlier job (counted once)",
            args.jobs.display(),
            progress.duplicate_jobs
        );
    }
    let name = args.name.clone().unwrap_or_else(|| stage_name(&args.jobs));
    let mut watch = Watch::new(&args.results);
    let started = Instant::now();
    let mut view = View::new(&name, progress.counts().jobs as u64, args.interval);
    let mut clock = SlurmClock::default();
    let counts = loop {
        watch.poll(&mut progress);
        let counts = progress.counts();
        if args.once || args.failed || counts.complete() {
            break counts;
        }
        let state = State::of(&name, &progress, &watch.followers, clock.left());
        view.update(&state, &watch.followers);
        if args.timeout.is_some_and(|t| started.elapsed().as_secs_f64() >= t) {
            break counts;
        }
        std::thread::sleep(Duration::from_millis(250));
    };
    view.finish();
    if args.failed {
        return print_redo_lines(&progress, &args.jobs);
    }
    let state = State::of(&name, &progress, &watch.followers, clock.left());
    let named = progress.slowest(5).and_then(|slow| Ok((slow, progress.failures(20, &watch.followers)?)));
    let (slowest, failures) = match named {
        Ok(n) => n,
        Err(e) => return cannot_read(&args.jobs, " again", &e),
    };
    let summary = summary(&state, &progress, &watch.followers, &slowest, &failures);
    println!("{summary}");
    if !args.log.quiet {
        eprint!("{}", human_summary(&state, &watch.followers, &slowest, &failures));
    }
    ExitCode::from(exit_status(&counts))
}

/// The stage's name from its job file's name (`stdin` for `-`).
fn stage_name(jobs: &Path) -> String {
    if jobs == Path::new("-") {
        return "stdin".into();
    }
    let file = jobs.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    file.strip_suffix(".ndjson").unwrap_or(&file).to_string()
}

/// The usage error for a job list that cannot be read (`again`: when lines are read again).
fn cannot_read(jobs: &Path, again: &str, e: &std::io::Error) -> ExitCode {
    cli::usage_error(TOOL, &format!("cannot read job list {}{again}: {e}", jobs.display()))
}

/// --failed: the job lines to redo on stdout; 1 when they cannot all be written.
fn print_redo_lines(progress: &Progress, jobs: &Path) -> ExitCode {
    let mut out = BufWriter::new(std::io::stdout().lock());
    let mut lines = progress.redo_lines();
    loop {
        match lines.next_line() {
            Ok(Some(line)) => {
                if writeln!(out, "{line}").is_err() {
                    return ExitCode::from(1);
                }
            }
            Ok(None) => break,
            Err(e) => return cannot_read(jobs, " again", &e),
        }
    }
    if out.flush().is_err() {
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

/// 3 while jobs have no result (even if some failed: the stage is not over), else 1 when any
/// failed, else 0.
fn exit_status(c: &Counts) -> u8 {
    if !c.complete() {
        EXIT_INCOMPLETE
    } else if c.failed > 0 {
        iwp_core::jobs::EXIT_FAILED
    } else {
        iwp_core::jobs::EXIT_OK
    }
}

/// The result files followed, found again from their patterns on every poll.
struct Watch {
    patterns: Vec<String>,
    seen: HashSet<PathBuf>,
    followers: Vec<Follower>,
    warned: HashSet<PathBuf>,
    /// The read buffer every file is read through.
    chunks: ChunkBuf,
}

impl Watch {
    fn new(patterns: &[String]) -> Watch {
        Watch {
            patterns: patterns.to_vec(),
            seen: HashSet::new(),
            followers: Vec::new(),
            warned: HashSet::new(),
            chunks: ChunkBuf::default(),
        }
    }

    /// Picks up new files and reads what every file gained.
    fn poll(&mut self, progress: &mut Progress) {
        for pattern in &self.patterns {
            let paths: Vec<PathBuf> = if pattern.contains(['*', '?', '[']) {
                glob::glob(pattern)
                    .map(|g| g.filter_map(Result::ok).filter(|p| p.is_file()).collect())
                    .unwrap_or_default()
            } else {
                vec![PathBuf::from(pattern)]
            };
            for p in paths {
                if self.seen.insert(p.clone()) {
                    self.followers.push(Follower::new(&p));
                }
            }
        }
        for (file, f) in (0u32..).zip(&mut self.followers) {
            let read = f.poll(&mut self.chunks, |line, object, offset| {
                progress.add_result(line, object, LineRef { file, offset })
            });
            if let Err(e) = read {
                if self.warned.insert(f.path.clone()) {
                    tracing::warn!("cannot read {}: {e}", f.path.display());
                }
            }
        }
    }
}

/// Time left in the Slurm job, asked of squeue at most once a minute.
#[derive(Default)]
struct SlurmClock {
    asked: Option<(Instant, Option<f64>)>,
}

impl SlurmClock {
    fn left(&mut self) -> Option<f64> {
        let stale = self.asked.is_none_or(|(at, _)| at.elapsed() > Duration::from_secs(60));
        if stale {
            self.asked = Some((Instant::now(), slurm_time_left()));
        }
        let (at, left) = self.asked?;
        left.map(|l| l - at.elapsed().as_secs_f64())
    }
}

/// The figures shown while following and in the summary.
struct State {
    name: String,
    counts: Counts,
    elapsed: f64,
    rate: f64,
    eta: Option<f64>,
    time_left: Option<f64>,
}

impl State {
    fn of(name: &str, p: &Progress, followers: &[Follower], time_left: Option<f64>) -> State {
        let counts = p.counts();
        // The stage started when its first result file was created.
        let first = followers.iter().filter_map(|f| f.created).min();
        let elapsed = first.and_then(|c| SystemTime::now().duration_since(c).ok()).map_or(0.0, |d| d.as_secs_f64());
        let done = counts.ok + counts.failed;
        let rate = if elapsed > 0.0 { done as f64 / elapsed } else { 0.0 };
        let weight_rate = if elapsed > 0.0 { counts.done_weight / elapsed } else { 0.0 };
        let eta = (weight_rate > 0.0).then(|| (counts.weight - counts.done_weight) / weight_rate);
        State { name: name.to_string(), counts, elapsed, rate, eta, time_left }
    }

    fn line(&self) -> serde_json::Map<String, Value> {
        let c = &self.counts;
        let mut m = serde_json::Map::new();
        m.insert("stage".into(), self.name.clone().into());
        for (k, v) in
            [("jobs", c.jobs), ("ok", c.ok), ("failed", c.failed), ("running", c.running), ("pending", c.pending)]
        {
            m.insert(k.into(), v.into());
        }
        let pct = if c.weight > 0.0 { 100.0 * c.done_weight / c.weight } else { 100.0 };
        m.insert("done_pct".into(), round(pct, 1).into());
        m.insert("elapsed_secs".into(), round(self.elapsed, 1).into());
        m.insert("jobs_per_sec".into(), round(self.rate, 3).into());
        m.insert("eta_secs".into(), self.eta.map(|e| round(e, 0)).into());
        if let Some(left) = self.time_left {
            m.insert("slurm_time_left_secs".into(), round(left, 0).into());
        }
        m
    }

    /// True when the stage will not finish inside the Slurm job at the current rate.
    fn overruns(&self) -> bool {
        matches!((self.eta, self.time_left), (Some(e), Some(l)) if e > l)
    }
}

fn round(v: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (v * f).round() / f
}

/// Live display: bars on a terminal (one for the stage, one per task file), else status lines.
struct View {
    bars: Option<(MultiProgress, ProgressBar, Vec<ProgressBar>)>,
    interval: Duration,
    last_line: Option<Instant>,
    warned_overrun: bool,
}

impl View {
    fn new(name: &str, jobs: u64, interval: f64) -> View {
        let bars = std::io::stderr().is_terminal().then(|| {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
            let main = multi.add(ProgressBar::new(jobs));
            main.set_style(
                ProgressStyle::with_template("{prefix:>12} [{bar:40}] {pos}/{len} jobs {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            main.set_prefix(name.to_string());
            (multi, main, Vec::new())
        });
        View { bars, interval: Duration::from_secs_f64(interval.max(0.1)), last_line: None, warned_overrun: false }
    }

    fn update(&mut self, s: &State, followers: &[Follower]) {
        if s.overruns() && !self.warned_overrun {
            self.warned_overrun = true;
            tracing::warn!(
                "{}: at {:.2} jobs/s the stage needs {} more, the Slurm job has {} left",
                s.name,
                s.rate,
                duration(s.eta.unwrap_or(0.0)),
                duration(s.time_left.unwrap_or(0.0))
            );
        }
        let Some((multi, main, tasks)) = &mut self.bars else {
            if self.last_line.is_none_or(|t| t.elapsed() >= self.interval) {
                self.last_line = Some(Instant::now());
                println!("{}", Value::Object(s.line()));
            }
            return;
        };
        let c = &s.counts;
        main.set_position((c.ok + c.failed) as u64);
        let eta = s.eta.map_or("-".into(), duration);
        main.set_message(format!("{} ok, {} failed, {:.1}/s, eta {eta}", c.ok, c.failed, s.rate));
        while tasks.len() < followers.len() {
            let bar = multi.add(ProgressBar::new_spinner());
            bar.set_style(
                ProgressStyle::with_template("{prefix:>12} {msg}").unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            tasks.push(bar);
        }
        let now = SystemTime::now();
        for (bar, f) in tasks.iter().zip(followers) {
            let ago =
                f.modified.and_then(|m| now.duration_since(m).ok()).map_or("-".into(), |d| duration(d.as_secs_f64()));
            let rate = if f.span_secs() > 0.0 { (f.ok_lines + f.error_lines) as f64 / f.span_secs() } else { 0.0 };
            bar.set_prefix(f.host());
            bar.set_message(format!(
                "{} ok, {} failed lines, {rate:.1}/s, last {ago} ago  {}",
                f.ok_lines,
                f.error_lines,
                f.path.display()
            ));
            bar.tick();
        }
    }

    fn finish(&mut self) {
        if let Some((multi, main, tasks)) = self.bars.take() {
            main.finish_and_clear();
            tasks.iter().for_each(ProgressBar::finish_and_clear);
            let _ = multi.clear();
        }
    }
}

/// A duration as people read it: 45s, 12m03s, 3h05m.
fn duration(secs: f64) -> String {
    let s = secs.max(0.0).round() as u64;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

/// The final summary line, with the slowest jobs and the first failures.
fn summary(
    s: &State,
    p: &Progress,
    followers: &[Follower],
    slowest: &[(String, f64)],
    failures: &[(String, String)],
) -> Value {
    let mut m = s.line();
    m.insert("summary".into(), true.into());
    m.insert("work_secs".into(), round(p.work_secs(), 3).into());
    m.insert("node_hours".into(), round(node_hours(followers), 4).into());
    m.insert(
        "tasks".into(),
        followers
            .iter()
            .map(|f| {
                json!({"file": f.path.display().to_string(), "host": f.host(), "ok_lines": f.ok_lines,
                       "error_lines": f.error_lines, "unreadable_lines": f.unreadable, "span_secs": round(f.span_secs(), 1)})
            })
            .collect::<Vec<_>>()
            .into(),
    );
    m.insert("hosts".into(), serde_json::to_value(hosts(followers)).unwrap_or_default());
    m.insert(
        "slowest".into(),
        slowest.iter().map(|(k, secs)| json!({"job": k, "secs": secs})).collect::<Vec<_>>().into(),
    );
    m.insert("failures".into(), failures.iter().map(|(k, e)| json!({"job": k, "error": e})).collect::<Vec<_>>().into());
    m.insert("other_lines".into(), p.other_lines.into());
    m.insert("unreadable_lines".into(), followers.iter().map(|f| f.unreadable).sum::<usize>().into());
    m.insert("duplicate_jobs".into(), p.duplicate_jobs.into());
    Value::Object(m)
}

/// The summary for people, on stderr: the 3 slowest jobs and the first 5 failures.
fn human_summary(
    s: &State,
    followers: &[Follower],
    slowest: &[(String, f64)],
    failures: &[(String, String)],
) -> String {
    let c = &s.counts;
    let hosts = hosts(followers);
    let mut out = format!(
        "{}: {} jobs: {} ok, {} failed, {} running, {} pending; {} elapsed, {:.2} jobs/s; {} task files on {} hosts, ~{:.3} node-hours\n",
        s.name,
        c.jobs,
        c.ok,
        c.failed,
        c.running,
        c.pending,
        duration(s.elapsed),
        s.rate,
        followers.len(),
        hosts.len(),
        node_hours(followers)
    );
    for (k, secs) in slowest.iter().take(3) {
        out += &format!("  slow: {k} {secs:.2} s\n");
    }
    for (k, e) in failures.iter().take(5) {
        out += &format!("  failed: {k}: {e}\n");
    }
    if c.failed > 5 {
        out += &format!("  ... {} more failed (--failed lists every job to redo)\n", c.failed - 5);
    }
    out
}
