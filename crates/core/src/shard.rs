//! Sharding: each of N tasks takes its own deterministic share of one shared job list.
//!
//! `--shard I/N` (0-based I) or `--shard auto`, which reads SLURM_PROCID/SLURM_NTASKS, else
//! SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT (offset by SLURM_ARRAY_TASK_MIN). When every line
//! carries a numeric size field, shares are balanced by size (largest first onto the lightest
//! share); otherwise line k goes to share k mod N.

use crate::jobs::Job;
use std::str::FromStr;
use thiserror::Error;

/// Which share of the job lines this process takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shard {
    /// Every line.
    All,
    /// Share `index` of `count` (0-based).
    Part {
        /// This share's number, 0..count.
        index: usize,
        /// How many shares the job lines are split into.
        count: usize,
    },
}

/// A shard spec that cannot be used.
#[derive(Debug, Error, PartialEq)]
pub enum ShardError {
    /// A spec (or a Slurm task number) that is not a share I of N with 0 <= I < N; holds the
    /// text or task numbers as given.
    #[error("--shard `{0}` is not `auto` or I/N with 0 <= I < N")]
    Spec(String),
    /// A Slurm environment variable that `auto` reads is not a number.
    #[error("environment variable {name}=`{value}` is not a usable number")]
    Env {
        /// The variable, e.g. `SLURM_PROCID`.
        name: String,
        /// Its value.
        value: String,
    },
}

impl FromStr for Shard {
    type Err = ShardError;
    fn from_str(s: &str) -> Result<Shard, ShardError> {
        if s == "auto" {
            return Shard::from_env(|k| std::env::var(k).ok());
        }
        let bad = || ShardError::Spec(s.to_string());
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let index: usize = i.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        Shard::part(index, count).ok_or_else(bad)
    }
}

impl Shard {
    /// Share `index` of `count`, or None when out of range. One share of one is [`Shard::All`].
    pub fn part(index: usize, count: usize) -> Option<Shard> {
        match (index, count) {
            (_, 0) => None,
            (i, n) if i >= n => None,
            (_, 1) => Some(Shard::All),
            (index, count) => Some(Shard::Part { index, count }),
        }
    }

    /// The share Slurm's environment gives this task (read through `env`); All outside Slurm.
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Result<Shard, ShardError> {
        let num = |name: &str| -> Result<Option<usize>, ShardError> {
            match env(name) {
                None => Ok(None),
                Some(v) => v.trim().parse().map(Some).map_err(|_| ShardError::Env { name: name.into(), value: v }),
            }
        };
        if let (Some(i), Some(n)) = (num("SLURM_PROCID")?, num("SLURM_NTASKS")?) {
            return Shard::part(i, n).ok_or_else(|| ShardError::Spec(format!("SLURM_PROCID={i} of SLURM_NTASKS={n}")));
        }
        if let (Some(id), Some(n)) = (num("SLURM_ARRAY_TASK_ID")?, num("SLURM_ARRAY_TASK_COUNT")?) {
            let min = num("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
            let i =
                id.checked_sub(min).ok_or_else(|| ShardError::Spec(format!("array task {id} below minimum {min}")))?;
            return Shard::part(i, n).ok_or_else(|| ShardError::Spec(format!("array task {i} of {n}")));
        }
        Ok(Shard::All)
    }

    /// Keeps this share of `jobs`, in input order. Balanced by `size_field` when every job has it.
    pub fn select(&self, jobs: Vec<Job>, size_field: &str) -> Vec<Job> {
        let sizes: Option<Vec<f64>> = jobs.iter().map(|j| j.num(size_field)).collect();
        self.keep(jobs, sizes)
    }

    /// Keeps this share of `items`, in order: balanced by `sizes` when given (one per item),
    /// else item k goes to share k mod N.
    pub fn keep<T>(&self, items: Vec<T>, sizes: Option<Vec<f64>>) -> Vec<T> {
        let (index, count) = match *self {
            Shard::All => return items,
            Shard::Part { index, count } => (index, count),
        };
        let owner = match sizes {
            Some(sizes) => balance(&sizes, count),
            None => (0..items.len()).map(|k| k % count).collect(),
        };
        items.into_iter().zip(owner).filter(|(_, o)| *o == index).map(|(j, _)| j).collect()
    }

    /// True for the share that reports what concerns every share (lines that are no jobs).
    pub fn reports_for_all(&self) -> bool {
        matches!(*self, Shard::All | Shard::Part { index: 0, .. })
    }
}

/// Assigns items to `count` shares: largest first onto the lightest share (ties: lower index).
pub fn balance(sizes: &[f64], count: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..sizes.len()).collect();
    order.sort_by(|&a, &b| sizes[b].total_cmp(&sizes[a]).then(a.cmp(&b)));
    let mut load = vec![0.0f64; count];
    let mut owner = vec![0usize; sizes.len()];
    for k in order {
        let lightest = (0..count).min_by(|&a, &b| load[a].total_cmp(&load[b]).then(a.cmp(&b))).unwrap_or(0);
        load[lightest] += sizes[k].max(0.0);
        owner[k] = lightest;
    }
    owner
}
