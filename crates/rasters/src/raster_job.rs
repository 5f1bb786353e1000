//! iwp-raster's run: which levels to build, the tiles of the first one (from staged-tile or
//! GeoTIFF lines), and the two schedules: one level at a time (a parent's children read back from
//! their GeoTIFFs), or the whole pyramid depth first (each parent from its children in memory).

use crate::geotiff::{self, Compression, TileRaster, Written};
use crate::pyramid::{build_down, parent_from, parent_raster};
use crate::rasterize::rasterize_tile;
use crate::subtrees::{self, Claims};
use iwp_core::config::{Config, Resampling};
use iwp_core::jobs::Results;
use iwp_core::lines::{BandFigures, Bands, GeoTiff, TileLine};
use iwp_core::logging::progress_bar;
use iwp_core::runner::Job;
use iwp_core::shard::Shard;
use iwp_core::tilejobs;
use iwp_core::tms::Tile;
use iwp_vector::tilestore::tile_path;
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The levels a run builds: from `first` down to `lowest`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Levels {
    /// The level the job lines are for (z-max unless `--z`).
    pub first: u8,
    /// The last level built: z_range's minimum for a whole run, else `first`.
    pub lowest: u8,
    /// True for a whole run (z-max and every lower level, depth first).
    pub whole: bool,
}

/// The levels `--z` (None: a whole run) asks for, refused when outside z_range, when a parent
/// level is asked of a statistic that cannot make one, or when a whole run is sharded without
/// a claims folder (`claims`) for its shares to meet in.
pub fn plan(config: &Config, z: Option<u8>, shard: Shard, claims: bool) -> Result<Levels, String> {
    let (z_min, z_max) = (config.z_min, config.z_max);
    let first = z.unwrap_or(z_max);
    if !(z_min..=z_max).contains(&first) {
        return Err(format!("--z {first} is outside z_range [{z_min}, {z_max}]"));
    }
    let lowest = if z.is_some() { first } else { z_min };
    let gauss = config.statistics.iter().find(|s| s.resampling_method == Resampling::Gauss);
    if let Some(s) = gauss.filter(|_| lowest < z_max) {
        return Err(format!(
            "statistic {}: resampling `gauss` cannot make parent tiles (GDAL warps without it)",
            s.name
        ));
    }
    if z.is_none() && shard != Shard::All && !claims {
        return Err("a whole run with --shard needs --claims DIR (a folder every share reaches, new for the run), or build one level at a time (--z)".into());
    }
    Ok(Levels { first, lowest, whole: z.is_none() })
}

/// Writes job lines for level `z`: staged tiles at z-max, else the GeoTIFFs of level z + 1.
pub fn list(config: &Config, z: u8, results: &Results) -> io::Result<()> {
    if z == config.z_max {
        tilejobs::list(config, &config.dir_staged, &config.ext_staged, Some(z), results)
    } else {
        tilejobs::list(config, &config.dir_geotiff, ".tif", Some(z + 1), results)
    }
}

/// A level's tiles, with the staged file of each z-max tile when its line named one.
pub type LevelTiles = Vec<(Tile, Option<PathBuf>)>;

/// The tiles of level `first`: the z-max tiles of staged-tile lines, else the parents of the
/// tiles of GeoTIFF lines one level deeper; failed units' lines are skipped, a line naming no
/// tile of that level gets an error line when `reports` (one share reports).
pub fn first_level<T: TileLine>(
    config: &Config,
    first: u8,
    jobs: &[Job<T>],
    reports: bool,
    results: &Results,
) -> io::Result<LevelTiles> {
    if first == config.z_max {
        return Ok(tilejobs::tiles_of_lines(config, first, jobs, reports, results)?.into_iter().collect());
    }
    let below = tilejobs::tiles_of_lines(config, first + 1, jobs, reports, results)?;
    let parents: BTreeSet<Tile> = below.keys().filter_map(|t| t.parent()).collect();
    Ok(parents.into_iter().map(|p| (p, None)).collect())
}

/// Every tile from each of `tiles` up to level `z_min` (the tiles themselves included).
pub fn with_ancestors(tiles: impl IntoIterator<Item = Tile>, z_min: u8) -> HashSet<Tile> {
    let mut needed = HashSet::new();
    for t in tiles {
        let mut cur = Some(t);
        while let Some(c) = cur.filter(|c| c.z >= z_min) {
            if !needed.insert(c) {
                break;
            }
            cur = c.parent();
        }
    }
    needed
}

/// GeoTIFFs written with one compression, each with its result line.
pub struct Rasters<'a> {
    /// The run's config.
    pub config: &'a Config,
    /// GeoTIFF compression.
    pub compression: Compression,
    /// Write GeoTIFFs that already exist again.
    pub force: bool,
    /// Where result lines go.
    pub results: &'a Results,
}

impl Rasters<'_> {
    /// Builds levels `first` down to `lowest` one at a time, each from the GeoTIFFs of the level
    /// below (z-max from staged tiles); a level's parents are those of the tiles written.
    pub fn by_level(&self, mut level: LevelTiles, first: u8, lowest: u8) {
        let config = self.config;
        for z in (lowest..=first).rev() {
            let start = Instant::now();
            let bar = progress_bar(level.len() as u64, &format!("z{z} tiles"));
            // Only the tiles are kept (their lines are out): thousands of small records made by
            // the workers and kept to the level's end would pin memory between the tiles' buffers.
            let written: Vec<Tile> = level
                .par_iter()
                .filter_map(|(tile, staged)| {
                    if self.results.is_closed() {
                        return None;
                    }
                    let t0 = Instant::now();
                    let done = if z == config.z_max {
                        let staged = staged.clone().unwrap_or_else(|| tile_path(config, &config.dir_staged, *tile));
                        self.write(*tile, || rasterize_tile(config, *tile, &staged).map(|r| r.0))
                    } else {
                        self.write(*tile, || parent_raster(config, *tile))
                    };
                    bar.inc(1);
                    self.report(*tile, done.map(|(w, _)| w), t0).map(|w| w.tile)
                })
                .collect();
            bar.finish_and_clear();
            tracing::info!("z{z}: {} GeoTIFFs in {:.1} s", written.len(), start.elapsed().as_secs_f64());
            let parents: BTreeMap<Tile, Option<PathBuf>> =
                written.iter().filter_map(|t| t.parent()).map(|p| (p, None)).collect();
            level = parents.into_iter().collect();
        }
    }

    /// z-max and every lower level in one pass, depth first: each parent right after its four
    /// children, from their rasters in memory (no GeoTIFF is read back), so result lines come
    /// children first, then their parent.
    pub fn whole_pyramid(&self, tiles: LevelTiles) {
        let config = self.config;
        let start = Instant::now();
        let staged: HashMap<Tile, Option<PathBuf>> = tiles.into_iter().collect();
        let needed = with_ancestors(staged.keys().copied(), config.z_min);
        let mut roots: Vec<Tile> = needed.iter().filter(|t| t.z == config.z_min).copied().collect();
        roots.sort();
        let bar = progress_bar(needed.len() as u64, "GeoTIFFs");
        roots.par_iter().for_each(|root| {
            build_down(*root, config.z_max, &needed, &|tile, kids| self.visit(&staged, tile, kids, &bar));
        });
        bar.finish_and_clear();
        let secs = start.elapsed().as_secs_f64();
        tracing::info!("{} GeoTIFFs at z{}..{} in {secs:.1} s", needed.len(), config.z_min, config.z_max);
    }

    /// [`Rasters::whole_pyramid`] shared by `count` processes without a barrier between levels
    /// ([`crate::subtrees`]): share `index` builds its subtrees depth first, then every tile
    /// above them whose last needed child it finished, from the children's GeoTIFFs. `tiles`
    /// are every share's z-max tiles; `claims` is a folder all shares use, empty at the start.
    pub fn subtrees(&self, tiles: LevelTiles, index: usize, count: usize, claims: &Path) -> anyhow::Result<()> {
        let config = self.config;
        let start = Instant::now();
        let staged: HashMap<Tile, Option<PathBuf>> = tiles.into_iter().collect();
        let needed = with_ancestors(staged.keys().copied(), config.z_min);
        let split = subtrees::split_level(&needed, config.z_min, config.z_max, count);
        let roots = subtrees::roots_of_share(&needed, split, config.z_max, index, count);
        let claims = Claims::open(claims, config.z_min)?;
        let mine = subtrees::tiles_under(&roots, &needed);
        let bar = progress_bar(mine as u64, "GeoTIFFs");
        let built = std::sync::atomic::AtomicUsize::new(0);
        roots.par_iter().for_each(|root| {
            build_down(*root, config.z_max, &needed, &|tile, kids| self.visit(&staged, tile, kids, &bar));
            // Up from the root while this share finishes a parent's last child.
            let mut tile = *root;
            loop {
                let parent = match claims.finish(tile, &needed) {
                    Ok(Some(p)) => p,
                    Ok(None) => break,
                    Err(e) => {
                        // The parent's error line: it may be left unbuilt.
                        if let Some(p) = tile.parent() {
                            self.report(p, Err(e), Instant::now());
                        }
                        break;
                    }
                };
                let t0 = Instant::now();
                let done = self.write(parent, || parent_raster(config, parent));
                self.report(parent, done.map(|(w, _)| w), t0);
                built.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tile = parent;
            }
        });
        bar.finish_and_clear();
        tracing::info!(
            "share {index} of {count}: {} subtrees from z{split} ({mine} GeoTIFFs) and {} tiles above them in {:.1} s",
            roots.len(),
            built.into_inner(),
            start.elapsed().as_secs_f64()
        );
        Ok(())
    }

    /// Builds one tile of a depth-first pass: a z-max tile from its staged tile, a parent from
    /// its children's rasters; writes its line. The raster, for its parent.
    fn visit(
        &self,
        staged: &HashMap<Tile, Option<PathBuf>>,
        tile: Tile,
        kids: [Option<&TileRaster>; 4],
        bar: &indicatif::ProgressBar,
    ) -> Option<TileRaster> {
        let config = self.config;
        if self.results.is_closed() {
            return None;
        }
        let t0 = Instant::now();
        let done = if tile.z == config.z_max {
            let path = staged.get(&tile).cloned().flatten();
            let path = path.unwrap_or_else(|| tile_path(config, &config.dir_staged, tile));
            self.write(tile, || rasterize_tile(config, tile, &path).map(|r| r.0))
        } else if kids.iter().all(Option::is_none) {
            Err(anyhow::anyhow!("no child of {tile} was built (see their error lines)"))
        } else {
            self.write(tile, || parent_from(config, kids))
        };
        bar.inc(1);
        let (written, raster) = match done {
            Ok((w, r)) => (Ok(w), Some(r)),
            Err(e) => (Err(e), None),
        };
        self.report(tile, written, t0)?;
        raster
    }

    /// Writes one GeoTIFF (or finds it complete).
    fn write(
        &self,
        tile: Tile,
        make: impl FnOnce() -> anyhow::Result<TileRaster>,
    ) -> anyhow::Result<(Written, TileRaster)> {
        geotiff::write_tile(self.config, tile, self.compression, self.force, make)
    }

    /// Writes a GeoTIFF's result line (or its error line); the written tile for the next level.
    fn report(&self, tile: Tile, done: anyhow::Result<Written>, t0: Instant) -> Option<Written> {
        let mut line = GeoTiff { tile: tilejobs::tile_at(self.config, tile), ..GeoTiff::default() };
        match done {
            Ok(w) => {
                line.path = w.path.display().to_string();
                for (name, s) in w.names.iter().zip(&w.summaries) {
                    line.set_band(name, BandFigures { min: s.min, max: s.max, sum: s.sum });
                }
                line.skipped = w.skipped.then_some(true);
                line.secs = Some((t0.elapsed().as_secs_f64() * 1000.0).round() / 1000.0);
                self.results.put(&line).ok()?;
                Some(w)
            }
            Err(e) => {
                let _ = self.results.error_for(&line, &format!("{e:#}"));
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(z_range: [u8; 2], resampling: &str) -> Config {
        let stat = serde_json::json!([{"name": "s", "weight_by": "count", "property": "centroids_per_pixel",
            "aggregation_method": "sum", "resampling_method": resampling}]);
        let sets = [("z_range".to_string(), serde_json::json!(z_range)), ("statistics".to_string(), stat)];
        Config::load(None, &sets).unwrap()
    }

    #[test]
    fn levels_of_a_run_and_of_one_level() {
        let c = config([10, 13], "sum");
        assert_eq!(plan(&c, None, Shard::All, false), Ok(Levels { first: 13, lowest: 10, whole: true }));
        assert_eq!(
            plan(&c, Some(11), Shard::Part { index: 1, count: 3 }, false),
            Ok(Levels { first: 11, lowest: 11, whole: false })
        );
        assert!(plan(&c, Some(14), Shard::All, false).unwrap_err().contains("outside z_range [10, 13]"));
        assert!(plan(&c, Some(9), Shard::All, false).is_err());
        let two = Shard::Part { index: 0, count: 2 };
        assert!(plan(&c, None, two, false).unwrap_err().contains("--claims"));
        assert_eq!(plan(&c, None, two, true), Ok(Levels { first: 13, lowest: 10, whole: true }));
        let gauss = config([10, 13], "gauss");
        assert!(plan(&gauss, None, Shard::All, false).unwrap_err().contains("gauss"));
        assert!(plan(&gauss, Some(13), Shard::All, false).is_ok(), "z-max alone needs no parents");
    }

    #[test]
    fn ancestors_reach_the_lowest_level_once() {
        let a = Tile::new(4, 4, 3);
        let b = Tile::new(5, 5, 3);
        let needed = with_ancestors([a, b], 1);
        // Both share their z2 parent (2,2) and z1 grandparent (1,1).
        let mut got: Vec<Tile> = needed.into_iter().collect();
        got.sort();
        let mut want = vec![a, b, Tile::new(2, 2, 2), Tile::new(1, 1, 1)];
        want.sort();
        assert_eq!(got, want);
        assert!(with_ancestors([a], 4).is_empty(), "below z_min: nothing");
    }
}
