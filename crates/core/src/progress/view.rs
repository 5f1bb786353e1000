//! The live display while a stage is followed: bars on a terminal (one for the stage, one per
//! task file), else a status line of NDJSON every few seconds among the results.

use super::state::{duration, State};
use super::Follower;
use crate::jobs::Results;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::Value;
use std::io::IsTerminal;
use std::time::{Duration, Instant, SystemTime};

/// Live display: bars on a terminal (one for the stage, one per task file), else status lines.
pub struct View {
    bars: Option<(MultiProgress, ProgressBar, Vec<ProgressBar>)>,
    interval: Duration,
    last_line: Option<Instant>,
    warned_overrun: bool,
}

impl View {
    /// Bars of stage `name` with `jobs` jobs when stderr is a terminal, else status lines every
    /// `interval` seconds (at least 0.1).
    pub fn new(name: &str, jobs: u64, interval: f64) -> View {
        if !std::io::stderr().is_terminal() {
            return View::status_lines(interval);
        }
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let main = multi.add(ProgressBar::new(jobs));
        main.set_style(
            ProgressStyle::with_template("{prefix:>12} [{bar:40}] {pos}/{len} jobs {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        main.set_prefix(name.to_string());
        View { bars: Some((multi, main, Vec::new())), ..View::status_lines(interval) }
    }

    /// Status lines every `interval` seconds (at least 0.1), whatever stderr is.
    pub fn status_lines(interval: f64) -> View {
        View {
            bars: None,
            interval: Duration::from_secs_f64(interval.max(0.1)),
            last_line: None,
            warned_overrun: false,
        }
    }

    /// Shows `s`: the bars, or a status line written to `out` when the interval has passed
    /// since the last one (a failed write is kept in `out`, which the caller checks). Warns once
    /// when the stage will overrun its Slurm job.
    pub fn update(&mut self, s: &State, followers: &[Follower], out: &Results) {
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
                let _ = out.write_text(&format!("{}\n", Value::Object(s.line())));
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

    /// Clears the bars (status lines need nothing).
    pub fn finish(&mut self) {
        if let Some((multi, main, tasks)) = self.bars.take() {
            main.finish_and_clear();
            tasks.iter().for_each(ProgressBar::finish_and_clear);
            let _ = multi.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::testing::captured;
    use crate::progress::Counts;

    #[test]
    fn status_lines_at_most_once_an_interval() {
        let (out, text) = captured();
        let mut view = View::status_lines(3600.0);
        let counts = Counts { jobs: 2, ok: 1, pending: 1, weight: 2.0, done_weight: 1.0, ..Default::default() };
        let s = State::new("st", counts, 2.0, None);
        view.update(&s, &[], &out);
        view.update(&s, &[], &out);
        view.finish();
        let want = "{\"stage\":\"st\",\"jobs\":2,\"ok\":1,\"failed\":0,\"running\":0,\"pending\":1,\"done_pct\":50.0,\
                    \"elapsed_secs\":2.0,\"jobs_per_sec\":0.5,\"eta_secs\":2.0}\n";
        assert_eq!(text(), want, "one line: the next one is an hour away");

        let (out, text) = captured();
        let mut view = View::status_lines(0.0);
        view.update(&s, &[], &out);
        std::thread::sleep(Duration::from_millis(120));
        view.update(&s, &[], &out);
        assert_eq!(text().lines().count(), 2, "intervals are at least 0.1 s");
    }
}
