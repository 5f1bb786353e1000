//! iwp-pack: move many small files as a few large verified archives.

use clap::{Parser, Subcommand};
use iwp_core::cli::{self, LogArgs, ThreadArgs};
use iwp_core::jobs::{Fields, Results};
use iwp_core::pack::{self, Entry, Source};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// The tool's name, for messages.
const TOOL: &str = "iwp-pack";

/// Pack many small files (footprints, staged tiles, GeoTIFFs) into a few large tar archives
/// (optionally zstd) with a manifest of every file's path, size, mode and checksum; unpack them in
/// parallel with every file verified; ship only what changed since an earlier manifest or pack.
#[derive(Parser, Debug)]
#[command(
    version,
    after_help = "Examples:\n  iwp-pack pack /scratch/footprints --into /scratch/fp-pack --size 1GiB\n  srun --ntasks-per-node=1 iwp-pack unpack /scratch/fp-pack --to /tmp/footprints\n  iwp-pack pack /tmp/staged --into /scratch/staged-pack --since /scratch/staged-pack"
)]
struct Args {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    threads: ThreadArgs,
    #[command(flatten)]
    log: LogArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Pack the files under SRC (or file job lines {"path":...} on stdin) into archives in DIR.
    Pack {
        /// Source folders; paths in the archives are relative to them.
        src: Vec<PathBuf>,
        /// Folder for the archives and the manifest (manifest-N.ndjson, part-N-K.tar[.zst]).
        #[arg(long, value_name = "DIR")]
        into: PathBuf,
        /// Target archive size, e.g. 512MiB, 1GiB.
        #[arg(long, default_value = "1GiB", value_parser = parse_size)]
        size: u64,
        /// Compress with zstd at this level (e.g. 3); uncompressed tar without it.
        #[arg(long, value_name = "LEVEL")]
        zstd: Option<i32>,
        /// Only files new or changed (size, mode, mtime) since this earlier manifest, or, given a
        /// pack folder, since its packs (each file as its latest manifest lists it).
        #[arg(long, value_name = "MANIFEST")]
        since: Option<PathBuf>,
    },
    /// Extract every archive of a pack folder into DEST, verifying every file.
    Unpack {
        dir: PathBuf,
        #[arg(long, value_name = "DEST")]
        to: PathBuf,
    },
    /// Check every archive of a pack folder against its manifest, without extracting.
    Verify { dir: PathBuf },
    /// Print the manifest entries of a pack folder, one line per file.
    List { dir: PathBuf },
}

fn parse_size(s: &str) -> Result<u64, String> {
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

fn main() -> ExitCode {
    let args = Args::parse();
    args.log.init();
    args.threads.init();
    let results = Results::stdout();
    let outcome = match &args.command {
        Command::Pack { src, into, size, zstd, since } => {
            iwp_core::temps::claim(&[into]);
            run_pack(&results, src, into, *size, *zstd, since.as_deref())
        }
        Command::Unpack { dir, to } => {
            // The pack folder too: a job killed while packing left its temporaries there.
            iwp_core::temps::claim(&[dir, to]);
            per_archive(&results, dir, Some(to))
        }
        Command::Verify { dir } => per_archive(&results, dir, None),
        Command::List { dir } => list(&results, dir),
    };
    match outcome {
        Ok(()) => results.exit_code(TOOL),
        Err(e) => cli::usage_error(TOOL, &format!("{e:#}")),
    }
}

/// Sources from folders, or from file job lines on stdin (relative to the current folder).
fn sources(src: &[PathBuf], results: &Results) -> anyhow::Result<Vec<Source>> {
    if !src.is_empty() {
        let mut all = Vec::new();
        for dir in src {
            anyhow::ensure!(dir.is_dir(), "{} is not a folder", dir.display());
            all.extend(pack::walk(dir)?);
        }
        return Ok(all);
    }
    let mut all = Vec::new();
    for item in iwp_core::jobs::read_jobs(iwp_core::jobs::open_input(None)?) {
        match item? {
            Ok(job) => match job.str("path") {
                Some(p) => match Source::new(PathBuf::from(p), p.trim_start_matches('/').to_string()) {
                    Ok(s) => all.push(s),
                    Err(e) => drop(results.error(job.fields.clone(), &format!("{e:#}"))),
                },
                None => drop(results.error(job.fields.clone(), &format!("line {}: no \"path\"", job.line))),
            },
            Err(bad) => drop(results.bad_line(&bad)),
        }
    }
    Ok(all)
}

fn run_pack(
    results: &Results,
    src: &[PathBuf],
    into: &Path,
    size: u64,
    zstd: Option<i32>,
    since: Option<&Path>,
) -> anyhow::Result<()> {
    let start = Instant::now();
    let mut files = sources(src, results)?;
    if let Some(m) = since {
        let before = files.len();
        files = pack::changed_since(files, &pack::packed_before(m)?);
        tracing::info!("{} of {before} files new or changed since {}", files.len(), m.display());
    }
    if since.is_none() {
        // A rerun after a pack that finished (a kill after its manifest, or a second submission).
        if let Some(latest) = pack::same_as_latest(into, &files)? {
            tracing::info!("{} already packs these {} files unchanged: nothing to do", latest.display(), files.len());
            let mut f = Fields::new();
            f.insert("manifest".into(), latest.display().to_string().into());
            f.insert("files".into(), files.len().into());
            f.insert("skipped".into(), true.into());
            let _ = results.ok(f);
            return Ok(());
        }
    }
    let run = pack::next_run(into)?;
    let ext = if zstd.is_some() { "tar.zst" } else { "tar" };
    let groups = pack::groups(&files, size);
    let written: Vec<anyhow::Result<Vec<Entry>>> = groups
        .par_iter()
        .enumerate()
        .map(|(k, g)| {
            let path = into.join(format!("part-{run}-{:05}.{ext}", k + 1));
            let t0 = Instant::now();
            let entries = pack::write_archive(&path, g, zstd);
            if let Ok(e) = &entries {
                let mut f = Fields::new();
                f.insert("archive".into(), path.display().to_string().into());
                f.insert("files".into(), e.len().into());
                f.insert("bytes".into(), e.iter().map(|x| x.size).sum::<u64>().into());
                f.insert("secs".into(), ((t0.elapsed().as_secs_f64() * 1000.0).round() / 1000.0).into());
                let _ = results.ok(f);
            }
            entries
        })
        .collect();
    let mut manifest = Vec::new();
    for w in written {
        manifest.extend(w?);
    }
    let path = into.join(format!("manifest-{run}.ndjson"));
    pack::write_manifest(&path, &manifest)?;
    tracing::info!(
        "{} files in {} archives, manifest {} ({:.1} s)",
        manifest.len(),
        groups.len(),
        path.display(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Unpacks (with a destination) or verifies every archive of every manifest, in parallel.
fn per_archive(results: &Results, dir: &Path, dest: Option<&Path>) -> anyhow::Result<()> {
    let mut by_archive: BTreeMap<String, Vec<Entry>> = BTreeMap::new();
    for m in pack::manifests(dir)? {
        for e in pack::read_manifest(&m)? {
            by_archive.entry(e.archive.clone()).or_default().push(e);
        }
    }
    anyhow::ensure!(!pack::manifests(dir)?.is_empty(), "no manifest-N.ndjson in {}", dir.display());
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
        let t0 = Instant::now();
        let archive = dir.join(name);
        let mut f = Fields::new();
        f.insert("archive".into(), archive.display().to_string().into());
        let outcome = match dest {
            Some(d) => {
                let superseded = entries
                    .iter()
                    .filter(|e| latest[e.path.as_str()] != name.as_str())
                    .map(|e| e.path.clone())
                    .collect();
                pack::unpack_archive(&archive, entries, d, &superseded)
            }
            None => pack::verify_archive(&archive, entries),
        };
        match outcome {
            Ok(c) => {
                f.insert("files".into(), c.files.into());
                f.insert("bytes".into(), c.bytes.into());
                if c.skipped {
                    f.insert("skipped".into(), true.into());
                }
                f.insert("secs".into(), ((t0.elapsed().as_secs_f64() * 1000.0).round() / 1000.0).into());
                let _ = results.ok(f);
            }
            Err(e) => drop(results.error(f, &format!("{e:#}"))),
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

fn list(results: &Results, dir: &Path) -> anyhow::Result<()> {
    for m in pack::manifests(dir)? {
        for e in pack::read_manifest(&m)? {
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
