//! The Slurm job's time limit, to warn when a stage will not finish inside it.

use std::time::{Duration, Instant};

/// Time left in the Slurm job, asked of squeue at most once a minute.
#[derive(Debug, Default)]
pub struct SlurmClock {
    asked: Option<(Instant, Option<f64>)>,
}

impl SlurmClock {
    /// Seconds left in the Slurm job this runs in (None outside one): squeue's last answer less
    /// the time since.
    pub fn left(&mut self) -> Option<f64> {
        let stale = self.asked.is_none_or(|(at, _)| at.elapsed() > Duration::from_secs(60));
        if stale {
            self.asked = Some((Instant::now(), slurm_time_left()));
        }
        let (at, left) = self.asked?;
        left.map(|l| l - at.elapsed().as_secs_f64())
    }
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
