//! The run every job-line tool shares: read the job lines as one kind of line, take this
//! process's shard, work on the jobs in parallel with a progress bar, write result lines, log a
//! summary, and end with the exit status the lines say: 0 every unit ok, 1 some failed (their
//! error lines say which) or the results could not be written (one message says why), 2 a usage
//! error before any work, 141 quietly when the reader closed the pipe (`| head -1`).

use crate::cli::JobArgs;
use crate::jobs::{self, Results};
use crate::lines;
use crate::logging::progress_bar;
use crate::shard::Shard;
use rayon::prelude::*;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::process::ExitCode;
use std::time::Instant;

/// A job line read as kind `T`, with its 1-based line number in the input.
#[derive(Debug, Clone, PartialEq)]
pub struct Job<T> {
    /// Its 1-based line number in the input.
    pub line: usize,
    /// The line read as kind `T`.
    pub body: T,
}

/// One tool's run: its results and when it started.
pub struct Run {
    tool: &'static str,
    /// Where result lines go (standard output).
    pub results: Results,
    started: Instant,
}

impl Run {
    /// A run of `tool` writing its results to standard output.
    pub fn new(tool: &'static str) -> Run {
        Run { tool, results: Results::stdout(), started: Instant::now() }
    }

    /// The tool's name.
    pub fn tool(&self) -> &'static str {
        self.tool
    }

    /// Reads the job lines (`--input` or standard input) as kind `T` and keeps this process's
    /// share (`--shard`), balanced by `size` when every job has one. A line that is no JSON
    /// object, or not of kind `T` (a missing field, a wrong type), gets one error line naming its
    /// number and the field, written by one share only. A job file that cannot be read is a
    /// usage error (the Err is the exit status).
    pub fn read<T: DeserializeOwned>(
        &self,
        args: &JobArgs,
        size: impl Fn(&T) -> Option<f64>,
    ) -> Result<Vec<Job<T>>, ExitCode> {
        let shard = args.shard.unwrap_or(Shard::All);
        let jobs = self.read_all(args)?;
        let sizes: Option<Vec<f64>> = jobs.iter().map(|j| size(&j.body)).collect();
        let mine = shard.keep(jobs, sizes);
        if let Shard::Part { index, count } = shard {
            tracing::info!("shard {index}/{count}: {} job lines", mine.len());
        }
        Ok(mine)
    }

    /// Reads every job line as kind `T`, whatever `--shard` says, for tools that share out units
    /// made of several lines (a tile's sources); bad lines are reported as [`Run::read`] does.
    pub fn read_all<T: DeserializeOwned>(&self, args: &JobArgs) -> Result<Vec<Job<T>>, ExitCode> {
        let mut jobs = Vec::new();
        self.read_each(args, |job| jobs.push(job))?;
        Ok(jobs)
    }

    /// Hands every job line read as kind `T` to `take` as it is read, whatever `--shard` says
    /// (for steps over more lines than memory should hold); bad lines are reported as
    /// [`Run::read`] does.
    pub fn read_each<T: DeserializeOwned>(&self, args: &JobArgs, mut take: impl FnMut(Job<T>)) -> Result<(), ExitCode> {
        let reports = args.shard.unwrap_or(Shard::All).reports_for_all();
        let input = jobs::open_input(args.input.as_deref()).map_err(|e| self.usage(&e.to_string()))?;
        for item in jobs::read_jobs(input) {
            let reported = match item.map_err(|e| self.usage(&format!("cannot read job lines: {e}")))? {
                Ok(job) => match lines::parse::<T>(job.line, job.fields.clone()) {
                    Ok(body) => {
                        take(Job { line: job.line, body });
                        continue;
                    }
                    Err(why) => reports.then(|| self.results.error(job.fields, &why)),
                },
                Err(bad) => reports.then(|| self.results.bad_line(&bad)),
            };
            if reported.is_some_and(|r| r.is_err()) {
                break;
            }
        }
        Ok(())
    }

    /// Works on every unit on rayon's threads, with a progress bar of `what` on a terminal;
    /// `work` writes the unit's result or error line itself. Once results cannot be written,
    /// units not yet started are left.
    pub fn each_unit<U: Sync>(&self, what: &str, units: &[U], work: impl Fn(&U) + Sync) {
        let bar = progress_bar(units.len() as u64, what);
        units.par_iter().for_each(|unit| {
            if self.results.is_closed() {
                return;
            }
            work(unit);
            bar.inc(1);
        });
        bar.finish_and_clear();
    }

    /// Works on every job on rayon's threads, with a progress bar of `what` on a terminal: a job
    /// whose work fails gets an error line with its own fields and the error's chain. Once results
    /// cannot be written, jobs not yet started are left.
    pub fn each<T: Serialize + Sync>(
        &self,
        what: &str,
        jobs: &[Job<T>],
        work: impl Fn(&Job<T>) -> anyhow::Result<()> + Sync,
    ) {
        self.each_unit(what, jobs, |job| {
            // A unit that failed because its result line could not be written is not reported:
            // the run ends with why.
            if let Err(e) = work(job) {
                if !self.results.is_closed() {
                    let _ = self.results.error_for(&job.body, &format!("{e:#}"));
                }
            }
        });
    }

    /// Logs the summary (`what`: the units' name) and gives the exit status.
    pub fn finish(&self, what: &str) -> ExitCode {
        tracing::info!(
            "{}: {} {what} ok, {} failed, in {:.1} s",
            self.tool,
            self.results.ok_count(),
            self.results.failed_count(),
            self.started.elapsed().as_secs_f64()
        );
        self.results.exit_code(self.tool)
    }

    /// Ends the tool with a usage error (nothing done): `TOOL: message` on stderr, exit 2.
    pub fn usage(&self, message: &str) -> ExitCode {
        crate::cli::usage_error(self.tool, message)
    }
}
