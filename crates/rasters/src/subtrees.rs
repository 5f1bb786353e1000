//! A whole pyramid shared by several processes (Slurm tasks) without a barrier between levels.
//! Each process takes whole subtrees, rooted at the coarsest level with at least
//! [`ROOTS_PER_SHARE`] tiles per share and balanced by their z-max tiles, and builds them depth
//! first. A tile above the roots is built by whichever process finishes its last needed child:
//! finishing and claiming go through a folder every process shares, under a lock.

use iwp_core::tms::Tile;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// Subtrees per share wanted at the split level, so shares can be balanced.
pub const ROOTS_PER_SHARE: usize = 4;

/// The level whose tiles root the subtrees: the coarsest with at least [`ROOTS_PER_SHARE`]
/// tiles per share, else z-max (every subtree a single z-max tile).
pub fn split_level(needed: &HashSet<Tile>, z_min: u8, z_max: u8, shares: usize) -> u8 {
    (z_min..=z_max).find(|&z| needed.iter().filter(|t| t.z == z).count() >= ROOTS_PER_SHARE * shares).unwrap_or(z_max)
}

/// The subtree roots (tiles at `split`) of share `index` of `count`: every root weighed by its
/// z-max tiles and given, heaviest first, to the lightest share (the same in every process).
pub fn roots_of_share(needed: &HashSet<Tile>, split: u8, z_max: u8, index: usize, count: usize) -> Vec<Tile> {
    let mut weights: HashMap<Tile, usize> = needed.iter().filter(|t| t.z == split).map(|r| (*r, 0)).collect();
    for leaf in needed.iter().filter(|t| t.z == z_max) {
        if let Some(w) = leaf.ancestor(split).and_then(|r| weights.get_mut(&r)) {
            *w += 1;
        }
    }
    let mut roots: Vec<(usize, Tile)> = weights.into_iter().map(|(r, w)| (w, r)).collect();
    roots.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut load = vec![0usize; count];
    let mut mine = Vec::new();
    for (weight, root) in roots {
        let lightest = (0..count).min_by_key(|&s| (load[s], s)).unwrap_or(0);
        load[lightest] += weight.max(1);
        if lightest == index {
            mine.push(root);
        }
    }
    mine
}

/// How many of the needed tiles lie in the subtrees of `roots` (all at one level; the roots
/// included).
pub fn tiles_under(roots: &[Tile], needed: &HashSet<Tile>) -> usize {
    let Some(split) = roots.first().map(|r| r.z) else { return 0 };
    let roots: HashSet<Tile> = roots.iter().copied().collect();
    needed.iter().filter(|t| t.ancestor(split).is_some_and(|a| roots.contains(&a))).count()
}

/// The folder the processes of one run share to finish tiles and claim their parents.
pub struct Claims {
    dir: PathBuf,
    z_min: u8,
}

impl Claims {
    /// The claims folder `dir` (created if need be; empty at the start of a run) for a pyramid
    /// down to `z_min`.
    pub fn open(dir: &Path, z_min: u8) -> anyhow::Result<Claims> {
        std::fs::create_dir_all(dir)
            .map_err(|e| anyhow::anyhow!("cannot create the claims folder {}: {e}", dir.display()))?;
        Ok(Claims { dir: dir.to_path_buf(), z_min })
    }

    fn marker(&self, what: &str, t: Tile) -> PathBuf {
        self.dir.join(format!("{what}-{}-{}-{}", t.z, t.x, t.y))
    }

    /// Records `tile` as finished (built, found complete or failed). Returns its parent when
    /// every needed child of that parent is now finished and this call claimed it (so exactly
    /// one process builds it); None otherwise, or at `z_min`.
    pub fn finish(&self, tile: Tile, needed: &HashSet<Tile>) -> anyhow::Result<Option<Tile>> {
        let fail = |e: std::io::Error| anyhow::anyhow!("claims folder {}: {e}", self.dir.display());
        // One lock for the folder: finishing is rare (the tiles above the subtree roots).
        let lock = std::fs::File::create(self.dir.join("lock")).map_err(fail)?;
        lock.lock().map_err(fail)?;
        std::fs::File::create(self.marker("done", tile)).map_err(fail)?;
        let Some(parent) = tile.parent().filter(|p| p.z >= self.z_min && needed.contains(p)) else {
            return Ok(None);
        };
        let ready = parent.children().iter().filter(|c| needed.contains(c)).all(|c| self.marker("done", *c).exists());
        if !ready {
            return Ok(None);
        }
        match std::fs::OpenOptions::new().write(true).create_new(true).open(self.marker("claim", parent)) {
            Ok(_) => Ok(Some(parent)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(None),
            Err(e) => Err(fail(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn needed(tiles: &[Tile], z_min: u8) -> HashSet<Tile> {
        crate::raster_job::with_ancestors(tiles.iter().copied(), z_min)
    }

    #[test]
    fn shares_take_every_root_once_and_balance_by_leaves() {
        // 64 z6 leaves under 16 z5 tiles and 4 z4 tiles; 3 shares want 12 roots: z5 has 16.
        let leaves: Vec<Tile> = (0..8).flat_map(|x| (0..8).map(move |y| Tile::new(x, y, 6))).collect();
        let n = needed(&leaves, 2);
        assert_eq!(split_level(&n, 2, 6, 3), 5);
        let shares: Vec<Vec<Tile>> = (0..3).map(|i| roots_of_share(&n, 5, 6, i, 3)).collect();
        let mut all: Vec<Tile> = shares.concat();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 16);
        assert_eq!(shares.iter().map(Vec::len).sum::<usize>(), 16);
        // Each root at z5 holds itself and its 4 z6 leaves.
        assert_eq!(shares.iter().map(|s| tiles_under(s, &n)).sum::<usize>(), 16 * 5);
        let sizes: Vec<usize> = shares.iter().map(Vec::len).collect();
        assert!(sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1, "{sizes:?}");
        // Too few tiles anywhere for 100 shares: every z-max tile its own subtree.
        assert_eq!(split_level(&n, 2, 6, 100), 6);
    }

    #[test]
    fn the_last_finished_child_claims_its_parent_once() {
        let dir = tempfile::tempdir().unwrap();
        let leaves = [Tile::new(0, 0, 3), Tile::new(1, 0, 3), Tile::new(1, 1, 3)];
        let n = needed(&leaves, 1);
        let claims = Claims::open(dir.path(), 1).unwrap();
        assert_eq!(claims.finish(leaves[0], &n).unwrap(), None);
        assert_eq!(claims.finish(leaves[1], &n).unwrap(), None);
        let parent = Tile::new(0, 0, 2);
        assert_eq!(claims.finish(leaves[2], &n).unwrap(), Some(parent), "(0, 1, 3) is not needed");
        assert_eq!(claims.finish(leaves[2], &n).unwrap(), None, "claimed once");
        assert_eq!(claims.finish(parent, &n).unwrap(), Some(Tile::new(0, 0, 1)));
        assert_eq!(claims.finish(Tile::new(0, 0, 1), &n).unwrap(), None, "z_min has no parent to build");
    }
}
