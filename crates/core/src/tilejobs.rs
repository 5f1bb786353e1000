//! Job lines that name tiles (`tms`, `z`, `x`, `y`, `path`): reading the tile out of a line,
//! listing tile files as lines, and a shard's share of a level's tiles.

use crate::config::Config;
use crate::jobs::Results;
use crate::lines::{StagedTile, TileAt, TileLine};
use crate::runner::Job;
use crate::shard::Shard;
use crate::tms::Tile;
use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

/// A tile's place on a typed line: the config's tms and the tile's z/x/y.
pub fn tile_at(config: &Config, tile: Tile) -> TileAt {
    TileAt { tms: Some(config.tms.id.into()), z: Some(tile.z), x: Some(tile.x), y: Some(tile.y) }
}

/// The tiles of level `z` the lines name, each with the file its (last) line names (None when
/// the line names none); failed units' lines are skipped, a line naming no tile of that level
/// gets an error line when `reports` (one share reports).
pub fn tiles_of_lines<T: TileLine>(
    config: &Config,
    z: u8,
    jobs: &[Job<T>],
    reports: bool,
    results: &Results,
) -> io::Result<BTreeMap<Tile, Option<PathBuf>>> {
    let mut tiles = BTreeMap::new();
    for job in jobs.iter().filter(|j| !j.body.failed()) {
        match tile_of_line(config, job, Some(z)) {
            Ok(t) => {
                tiles.insert(t, Some(job.body.file()).filter(|p| !p.is_empty()).map(PathBuf::from));
            }
            Err(e) if reports => results.error_for(&job.body, &e)?,
            Err(_) => {}
        }
    }
    Ok(tiles)
}

/// The tile line `line` names: its z/x/y, else its path (empty: none); refused when its tms is
/// not the config's.
pub fn tile_named(config: &Config, line: usize, at: &TileAt, path: &str) -> Result<Tile, String> {
    if let Some(tms) = at.tms.as_deref().filter(|t| *t != config.tms.id) {
        return Err(format!("line {line}: tile of {tms}, the config's tms is {}", config.tms.id));
    }
    match (at.z, at.x, at.y) {
        (Some(z), Some(x), Some(y)) => Ok(Tile::new(x, y, z)),
        _ if path.is_empty() => Err(format!("line {line}: no z/x/y and no path")),
        _ => config.tile_paths.parse(Path::new(path)).map_err(|e| format!("line {line}: {e}")),
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

/// Writes one line (`tms`, `z`, `x`, `y`, `path`) per tile file under `dir` ending with `ext`
/// (at zoom `z` if given); stops at the first line that cannot be written.
pub fn list(config: &Config, dir: &Path, ext: &str, z: Option<u8>, results: &Results) -> io::Result<()> {
    for (tile, path) in tile_files(config, dir, ext) {
        if z.is_some_and(|z| tile.z != z) {
            continue;
        }
        let line =
            StagedTile { tile: tile_at(config, tile), path: path.display().to_string(), ..StagedTile::default() };
        results.put(&line)?;
    }
    Ok(())
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

/// The tile a typed tile line names, which must be at zoom `z` when given.
pub fn tile_of_line<T: TileLine>(config: &Config, job: &Job<T>, z: Option<u8>) -> Result<Tile, String> {
    let tile = tile_named(config, job.line, job.body.at(), job.body.file())?;
    match z {
        Some(z) if tile.z != z => Err(format!("line {}: a z{} tile where z{z} tiles are needed", job.line, tile.z)),
        _ => Ok(tile),
    }
}
