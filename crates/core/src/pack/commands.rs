//! iwp-pack's commands: pack files into archives with a manifest (all, or what changed since an
//! earlier pack), unpack or verify every archive of a pack folder in parallel, list a manifest.

use super::*;
use crate::cli::JobArgs;
use crate::jobs::Results;
use crate::lines::{Archive, InputFile};
use crate::runner::Run;
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Seconds since `t0`, to the millisecond.
fn secs_since(t0: Instant) -> f64 {
    (t0.elapsed().as_secs_f64() * 1000.0).round() / 1000.0
}

/// A size such as `512MiB`, `1GiB`, `300k` or `12` (bytes) in bytes.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().map_err(|_| format!("`{s}` is not a size like 512MiB or 1GiB"))?;
    let mult = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" | "kib" => 1024.0,
        "m" | "mb" | "mib" => 1024.0 * 1024.0,
        "g" | "gb" | "gib" => 1024.0 * 1024.0 * 1024.0,
        _ => return Err(format!("`{s}`: unknown unit (use KiB, MiB or GiB)")),
    };
    Ok((n * mult) as u64)
}

/// Sources from folders, or from file job lines on stdin (relative to the current folder).
fn sources(src: &[PathBuf], run: &Run) -> anyhow::Result<Vec<Source>> {
    if !src.is_empty() {
        let mut all = Vec::new();
        for dir in src {
            anyhow::ensure!(dir.is_dir(), "{} is not a folder", dir.display());
            all.extend(walk(dir)?);
        }
        return Ok(all);
    }
    let mut all = Vec::new();
    let stdin = JobArgs { input: None, shard: None };
    let jobs = run.read::<InputFile>(&stdin, |_| None).map_err(|_| anyhow::anyhow!("cannot read job lines"))?;
    for job in jobs {
        let p = &job.body.path;
        match Source::new(PathBuf::from(p), p.trim_start_matches('/').to_string()) {
            Ok(s) => all.push(s),
            Err(e) => run.results.error_for(&job.body, &format!("{e:#}"))?,
        }
    }
    Ok(all)
}

/// Packs the files under `src` (or named by file job lines on stdin) into archives of about
/// `size` bytes in `into`, with a manifest; with `since`, only files new or changed since then.
/// A pack that already holds these files unchanged is one `skipped` line.
pub fn pack(
    run: &Run,
    src: &[PathBuf],
    into: &Path,
    size: u64,
    zstd: Option<i32>,
    since: Option<&Path>,
) -> anyhow::Result<()> {
    let start = Instant::now();
    let results = &run.results;
    let mut files = sources(src, run)?;
    if let Some(m) = since {
        let before = files.len();
        files = changed_since(files, &packed_before(m)?);
        tracing::info!("{} of {before} files new or changed since {}", files.len(), m.display());
    }
    if since.is_none() {
        // A rerun after a pack that finished (a kill after its manifest, or a second submission).
        if let Some(latest) = same_as_latest(into, &files)? {
            tracing::info!("{} already packs these {} files unchanged: nothing to do", latest.display(), files.len());
            let line = Archive {
                manifest: Some(latest.display().to_string()),
                files: files.len() as u64,
                skipped: Some(true),
                ..Archive::default()
            };
            results.put(&line)?;
            return Ok(());
        }
    }
    let run = next_run(into)?;
    let ext = if zstd.is_some() { "tar.zst" } else { "tar" };
    let groups = groups(&files, size);
    let written: Vec<anyhow::Result<Vec<Entry>>> = groups
        .par_iter()
        .enumerate()
        .map(|(k, g)| {
            let path = into.join(format!("part-{run}-{:05}.{ext}", k + 1));
            let t0 = Instant::now();
            let entries = write_archive(&path, g, zstd);
            if let Ok(e) = &entries {
                let line = Archive {
                    archive: Some(path.display().to_string()),
                    files: e.len() as u64,
                    bytes: Some(e.iter().map(|x| x.size).sum()),
                    secs: Some(secs_since(t0)),
                    ..Archive::default()
                };
                let _ = results.put(&line);
            }
            entries
        })
        .collect();
    let mut manifest = Vec::new();
    for w in written {
        manifest.extend(w?);
    }
    let path = into.join(format!("manifest-{run}.ndjson"));
    write_manifest(&path, &manifest)?;
    tracing::info!(
        "{} files in {} archives, manifest {} ({:.1} s)",
        manifest.len(),
        groups.len(),
        path.display(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Unpacks (with a destination) or verifies every archive of every manifest, in parallel: one
/// line per archive.
pub fn per_archive(results: &Results, dir: &Path, dest: Option<&Path>) -> anyhow::Result<()> {
    let mut by_archive: BTreeMap<String, Vec<Entry>> = BTreeMap::new();
    for m in manifests(dir)? {
        for e in read_manifest(&m)? {
            by_archive.entry(e.archive.clone()).or_default().push(e);
        }
    }
    anyhow::ensure!(!manifests(dir)?.is_empty(), "no manifest-N.ndjson in {}", dir.display());
    // A path packed again later (pack --since) is written from its latest archive only.
    let mut latest: std::collections::HashMap<&str, &str> = std::collections::HashMap::new();
    for (name, entries) in &by_archive {
        for e in entries {
            let slot = latest.entry(e.path.as_str()).or_insert(name.as_str());
            if run_of(name) > run_of(slot) {
                *slot = name.as_str();
            }
        }
    }
    let start = Instant::now();
    by_archive.par_iter().for_each(|(name, entries)| {
        if results.is_closed() {
            return;
        }
        let t0 = Instant::now();
        let archive = dir.join(name);
        let mut line = Archive { archive: Some(archive.display().to_string()), ..Archive::default() };
        let outcome = match dest {
            Some(d) => {
                let superseded = entries
                    .iter()
                    .filter(|e| latest[e.path.as_str()] != name.as_str())
                    .map(|e| e.path.clone())
                    .collect();
                unpack_archive(&archive, entries, d, &superseded)
            }
            None => verify_archive(&archive, entries),
        };
        match outcome {
            Ok(c) => {
                line.files = c.files;
                line.bytes = Some(c.bytes);
                line.skipped = c.skipped.then_some(true);
                line.secs = Some(secs_since(t0));
                let _ = results.put(&line);
            }
            Err(e) => drop(results.error_for(&line, &format!("{e:#}"))),
        }
    });
    tracing::info!(
        "{} archives, {} failed, in {:.1} s",
        by_archive.len(),
        results.failed_count(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Writes every manifest entry of the pack folder `dir`, one line per file.
pub fn list(results: &Results, dir: &Path) -> anyhow::Result<()> {
    for m in manifests(dir)? {
        for e in read_manifest(&m)? {
            let Ok(serde_json::Value::Object(f)) = serde_json::to_value(&e) else { continue };
            if results.ok(f).is_err() {
                return Ok(()); // the reader went away (e.g. `| head`)
            }
        }
    }
    Ok(())
}

/// The pack run number of an archive name (`part-N-K.tar...`).
fn run_of(archive: &str) -> u32 {
    archive.strip_prefix("part-").and_then(|r| r.split('-').next()).and_then(|n| n.parse().ok()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_take_binary_units() {
        assert_eq!(parse_size("512MiB"), Ok(512 << 20));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("1.5k"), Ok(1536));
        assert_eq!(parse_size(" 12 "), Ok(12));
        assert!(parse_size("1TB").unwrap_err().contains("unknown unit"));
        assert!(parse_size("lots").unwrap_err().contains("not a size"));
    }

    #[test]
    fn an_archive_names_its_run() {
        assert_eq!(run_of("part-3-00012.tar.zst"), 3);
        assert_eq!(run_of("part-12-00001.tar"), 12);
        assert_eq!(run_of("other.tar"), 0);
    }
}
