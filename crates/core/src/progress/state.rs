//! The figures of a stage at one moment (counts, elapsed time, rate, ETA, Slurm time left), its
//! status line, and how durations are shown.

use super::{Counts, Follower, Progress};
use serde_json::{Map, Value};
use std::time::SystemTime;

/// The figures shown while following and in the summary.
#[derive(Debug, Clone, PartialEq)]
pub struct State {
    /// The stage's name.
    pub name: String,
    /// Jobs by status, and their weights.
    pub counts: Counts,
    /// Seconds since the first result file was created (0 before any).
    pub elapsed: f64,
    /// Jobs done (ok or failed) per second of `elapsed`.
    pub rate: f64,
    /// Seconds until every job is done at the rate of weight so far, when any is done.
    pub eta: Option<f64>,
    /// Seconds left in the Slurm job, when this runs in one.
    pub time_left: Option<f64>,
}

impl State {
    /// The stage now: `p`'s counts, timed from the earliest creation of the files followed.
    pub fn of(name: &str, p: &Progress, followers: &[Follower], time_left: Option<f64>) -> State {
        // The stage started when its first result file was created.
        let first = followers.iter().filter_map(|f| f.created).min();
        let elapsed = first.and_then(|c| SystemTime::now().duration_since(c).ok()).map_or(0.0, |d| d.as_secs_f64());
        State::new(name, p.counts(), elapsed, time_left)
    }

    /// The state of given counts after `elapsed` seconds: rate and ETA worked out.
    pub fn new(name: &str, counts: Counts, elapsed: f64, time_left: Option<f64>) -> State {
        let done = counts.ok + counts.failed;
        let rate = if elapsed > 0.0 { done as f64 / elapsed } else { 0.0 };
        let weight_rate = if elapsed > 0.0 { counts.done_weight / elapsed } else { 0.0 };
        let eta = (weight_rate > 0.0).then(|| (counts.weight - counts.done_weight) / weight_rate);
        State { name: name.to_string(), counts, elapsed, rate, eta, time_left }
    }

    /// The status line's fields: stage, counts, done share, elapsed, rate, ETA (null when
    /// unknown) and the Slurm time left (only inside a Slurm job).
    pub fn line(&self) -> Map<String, Value> {
        let c = &self.counts;
        let mut m = Map::new();
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
    pub fn overruns(&self) -> bool {
        matches!((self.eta, self.time_left), (Some(e), Some(l)) if e > l)
    }
}

/// `v` rounded to `digits` decimal places.
pub fn round(v: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (v * f).round() / f
}

/// A duration as people read it: 45s, 12m03s, 3h05m.
pub fn duration(secs: f64) -> String {
    let s = secs.max(0.0).round() as u64;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn counts(jobs: usize, ok: usize, failed: usize, running: usize, weight: f64, done_weight: f64) -> Counts {
        Counts { jobs, ok, failed, running, pending: jobs - ok - failed - running, weight, done_weight }
    }

    #[test]
    fn durations_as_people_read_them() {
        let cases = [
            (-5.0, "0s"),
            (0.0, "0s"),
            (0.4, "0s"),
            (44.6, "45s"),
            (59.4, "59s"),
            (59.5, "1m00s"),
            (723.0, "12m03s"),
            (3599.0, "59m59s"),
            (3600.0, "1h00m"),
            (11100.0, "3h05m"),
            (90000.0, "25h00m"),
        ];
        for (secs, text) in cases {
            assert_eq!(duration(secs), text, "{secs}");
        }
    }

    #[test]
    fn rounding() {
        assert_eq!((round(2.345678, 3), round(2.25, 1), round(1234.5, 0), round(-0.04, 1)), (2.346, 2.3, 1235.0, 0.0));
    }

    #[test]
    fn the_status_line_fields() {
        // 10 jobs weighing 200, 3 ok and 1 failed weighing 50, in 20 s: 0.2 jobs/s, 2.5 weight/s.
        let s = State::new("stage", counts(10, 3, 1, 2, 200.0, 50.0), 20.04, Some(30.4));
        assert_eq!((s.rate, s.eta), (4.0 / 20.04, Some(150.0 / (50.0 / 20.04))));
        let want = json!({"stage":"stage","jobs":10,"ok":3,"failed":1,"running":2,"pending":4,"done_pct":25.0,
            "elapsed_secs":20.0,"jobs_per_sec":0.2,"eta_secs":60.0,"slurm_time_left_secs":30.0});
        assert_eq!(Value::Object(s.line()), want);
        assert_eq!(s.line().keys().collect::<Vec<_>>(), want.as_object().unwrap().keys().collect::<Vec<_>>());
        assert!(s.overruns(), "60 s of work, 30 s left");

        // Nothing done yet: no rate, no ETA (null), no Slurm field outside Slurm.
        let s = State::new("s", counts(4, 0, 0, 0, 4.0, 0.0), 0.0, None);
        assert_eq!((s.rate, s.eta, s.overruns()), (0.0, None, false));
        let line = s.line();
        assert_eq!(
            (&line["done_pct"], &line["eta_secs"], line.get("slurm_time_left_secs")),
            (&json!(0.0), &Value::Null, None)
        );

        // No weight at all (an empty job list): done.
        let s = State::new("s", counts(0, 0, 0, 0, 0.0, 0.0), 5.0, Some(10.0));
        assert_eq!((&s.line()["done_pct"], s.overruns()), (&json!(100.0), false));
    }
}
