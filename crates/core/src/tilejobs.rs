//! Job lines that name tiles (`tms`, `z`, `x`, `y`, `path`): reading the tile out of a line,
//! listing tile files as lines, and a shard's share of a level's tiles.

use crate::config::Config;
use crate::jobs::{Fields, Job, Results};
use crate::shard::Shard;
use crate::tms::Tile;
use std::path::Path;
use std::process::ExitCode;

/// The `tms`, `z`, `x`, `y` fields of a tile's line.
pub fn tile_fields(config: &Config, tile: Tile) -> Fields {
    let mut f = Fields::new();
    f.insert("tms".into(), config.tms.id.into());
    f.insert("z".into(), tile.z.into());
    f.insert("x".into(), tile.x.into());
    f.insert("y".into(), tile.y.into());
    f
}

/// The tile a job line names: its z/x/y fields, else its path; refused when the line's tms is
/// not the config's.
pub fn tile_of(config: &Config, job: &Job) -> Result<Tile, String> {
    if let Some(tms) = job.str("tms").filter(|t| *t != config.tms.id) {
        return Err(format!("line {}: tile of {tms}, the config's tms is {}", job.line, config.tms.id));
    }
    let num = |k: &str| job.num(k).filter(|v| *v >= 0.0 && v.fract() == 0.0);
    match (num("z"), num("x"), num("y")) {
        (Some(z), Some(x), Some(y)) => Ok(Tile::new(x as u32, y as u32, z as u8)),
        _ => {
            let path = job.str("path").ok_or_else(|| format!("line {}: no z/x/y and no path", job.line))?;
            config.tile_paths.parse(Path::new(path)).map_err(|e| format!("line {}: {e}", job.line))
        }
    }
}

/// Tile files under `dir` ending with `ext` (temporary files skipped), sorted by path.
pub fn tile_files(config: &Config, dir: &Path, ext: &str) -> Vec<(Tile, std::path::PathBuf)> {
    walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| {
            let name = e.file_name().to_string_lossy();
            e.file_type().is_file() && name.ends_with(ext) && !crate::files::is_temp_name(&name)
        })
        .filter_map(|e| config.tile_paths.parse(e.path()).ok().map(|t| (t, e.into_path())))
        .collect()
}

/// Prints one line per tile file under `dir` ending with `ext` (at zoom `z` if given).
pub fn list(config: &Config, dir: &Path, ext: &str, z: Option<u8>) -> ExitCode {
    let results = Results::stdout();
    for (tile, path) in tile_files(config, dir, ext) {
        if z.is_some_and(|z| tile.z != z) {
            continue;
        }
        let mut f = tile_fields(config, tile);
        f.insert("path".into(), path.display().to_string().into());
        if results.ok(f).is_err() {
            return ExitCode::from(1);
        }
    }
    ExitCode::SUCCESS
}

/// This process's share of a level's (sorted) tiles: round robin.
pub fn share<T>(items: impl IntoIterator<Item = T>, shard: Shard) -> Vec<T> {
    match shard {
        Shard::All => items.into_iter().collect(),
        Shard::Part { index, count } => {
            items.into_iter().enumerate().filter(|(k, _)| k % count == index).map(|(_, t)| t).collect()
        }
    }
}
