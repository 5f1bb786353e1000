//! Merging staged tiles from several folders (one per node) into one tree: a tile found in one
//! source is hard-linked (or copied, or moved); tiles found in several are combined into one
//! GeoPackage with every row once (rows are told apart by staging_identifier), so merging the same
//! source again adds nothing. Every write is atomic and durable.

use crate::tilestore::add_missing_columns;
use anyhow::{anyhow, Context};
use gdal::vector::{Feature, LayerAccess};
use gdal::Dataset;
use iwp_core::config::Config;
use iwp_core::files::AtomicOutput;
use iwp_core::tms::Tile;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// How single-source tiles reach the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Transfer {
    /// A hard link where source and target share a filesystem, else a copy.
    Link,
    /// Always a copy.
    Copy,
    /// A rename where they share a filesystem (the source is gone), else a copy.
    Move,
}

/// What merging one tile did.
#[derive(Debug, Clone, PartialEq)]
pub struct Merged {
    /// The z-max tile merged.
    pub tile: Tile,
    /// The tile's file in the target folder.
    pub path: PathBuf,
    /// "linked", "copied", "moved", "combined" or "unchanged".
    pub action: &'static str,
    /// Rows added to the target; not counted (None) for a tile that was linked, copied or moved
    /// whole, which would cost opening every file.
    pub added: Option<u64>,
    /// Rows in the target tile afterwards (None when not counted).
    pub features: Option<u64>,
}

/// The staging identifiers a tile's layer holds.
fn identifiers(ds: &Dataset, column: &str) -> anyhow::Result<HashSet<String>> {
    let mut layer = ds.layer(0)?;
    let Ok(index) = layer.defn().field_index(column) else { return Ok(HashSet::new()) };
    // Only the identifier is read: every other column and the geometry are skipped.
    crate::vector::read_only(&layer, &[column], false);
    let mut ids = HashSet::new();
    for f in layer.features() {
        if let Some(id) = f.field_as_string(index)? {
            ids.insert(id);
        }
    }
    Ok(ids)
}

/// Merges the `sources` of `tile` (staged GeoPackages) into `target`.
pub fn merge_tile(
    config: &Config,
    tile: Tile,
    sources: &[PathBuf],
    target: &Path,
    transfer: Transfer,
) -> anyhow::Result<Merged> {
    let id_column = &config.props.identifier;
    let done = |action, added, features| Merged { tile, path: target.to_path_buf(), action, added, features };
    if let [only] = sources {
        if !target.exists() {
            return Ok(done(place(only, target, transfer)?, None, None));
        }
        if same_file(only, target) {
            return Ok(done("unchanged", Some(0), None));
        }
    }
    // The base is the target (or the first source); only sources holding rows it lacks are read.
    let (base, rest) = if target.exists() { (target, sources) } else { (sources[0].as_path(), &sources[1..]) };
    let mut seen = identifiers(&crate::vector::open(base)?, id_column)?;
    let base_rows = seen.len() as u64;
    let mut contributing = Vec::new();
    for source in rest {
        let ids = identifiers(&crate::vector::open(source)?, id_column)?;
        let new: HashSet<String> = ids.difference(&seen).cloned().collect();
        if !new.is_empty() {
            seen.extend(new.iter().cloned());
            contributing.push((source, new));
        }
    }
    if contributing.is_empty() {
        // Every source row is in the base already (e.g. a share staged twice).
        return Ok(if target.exists() {
            done("unchanged", Some(0), Some(base_rows))
        } else {
            done(place(base, target, transfer)?, Some(base_rows), Some(base_rows))
        });
    }
    // Combine into a copy of the base, then rename it into place.
    let out = AtomicOutput::new(target)?;
    std::fs::copy(base, out.path()).with_context(|| format!("cannot copy {}", base.display()))?;
    let mut ds = crate::vector::open_gpkg_for_update(out.path())?;
    let mut added = if target.exists() { 0 } else { base_rows };
    for (source, new) in &contributing {
        added += append_rows(&mut ds, source, id_column, new)?;
    }
    let features = ds.layer(0)?.feature_count();
    if config.deduplicate_method == Some(iwp_core::config::DedupMethod::Neighbor) {
        crate::neighbors::flag_tile(config, &ds).with_context(|| format!("neighbour dedup of {}", target.display()))?;
    }
    drop(ds);
    out.commit()?;
    Ok(done("combined", Some(added), Some(features)))
}

/// Appends the rows of `source` whose identifier is in `wanted` (adding missing columns).
fn append_rows(ds: &mut Dataset, source: &Path, id_column: &str, wanted: &HashSet<String>) -> anyhow::Result<u64> {
    let src = crate::vector::open(source)?;
    let mut src_layer = src.layer(0)?;
    let src_defn = src_layer.defn();
    add_missing_columns(&ds.layer(0)?, &crate::stage::columns_of(src_defn))?;
    let id_index =
        src_defn.field_index(id_column).map_err(|_| anyhow!("{} has no {id_column} column", source.display()))?;
    let tx = ds.start_transaction()?;
    let layer = tx.layer(0)?;
    let defn = layer.defn();
    let mapping: Vec<usize> = src_defn.fields().map(|f| defn.field_index(f.name())).collect::<Result<_, _>>()?;
    let mut added = 0;
    for f in src_layer.features() {
        let Some(id) = f.field_as_string(id_index)? else { continue };
        if !wanted.contains(&id) {
            continue;
        }
        let mut row = Feature::new(defn)?;
        for (i, target_index) in mapping.iter().enumerate() {
            if let Some(v) = f.field(i)? {
                row.set_field(*target_index, &v)?;
            }
        }
        if let Some(g) = f.geometry() {
            row.set_geometry(g.clone())?;
        }
        row.create(&layer)?;
        added += 1;
    }
    tx.commit()?;
    Ok(added)
}

/// Puts a single source at a target that does not exist yet; returns the action taken.
fn place(source: &Path, target: &Path, transfer: Transfer) -> anyhow::Result<&'static str> {
    let folder = target.parent().ok_or_else(|| anyhow!("{} has no folder", target.display()))?;
    std::fs::create_dir_all(folder).with_context(|| format!("cannot create {}", folder.display()))?;
    match transfer {
        Transfer::Link if std::fs::hard_link(source, target).is_ok() => return Ok("linked"),
        Transfer::Move if std::fs::rename(source, target).is_ok() => return Ok("moved"),
        _ => {}
    }
    let out = AtomicOutput::new(target)?;
    std::fs::copy(source, out.path()).with_context(|| format!("cannot copy {}", source.display()))?;
    out.commit()?;
    Ok("copied")
}

/// True when two paths are the same file (e.g. a hard link made by an earlier merge).
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}
