//! Tiling: the tile matrix set, the zoom levels, the raster tiles' size and the tile paths.

use crate::tms::{TilePaths, Tms};

/// The tiling a config asks for, checked.
#[derive(Debug, Clone)]
pub struct Tiling {
    /// The tile matrix set (`tms_id`).
    pub tms: &'static Tms,
    /// The lowest zoom level (`z_range[0]`).
    pub z_min: u8,
    /// The deepest zoom level, where polygons are staged and rasterized (`z_range[1]`).
    pub z_max: u8,
    /// Rows (height) and columns (width) of a raster tile, as the reference reads `tile_size`.
    pub tile_size: [u32; 2],
    /// How tile files are laid out (`tile_path_structure`).
    pub tile_paths: TilePaths,
}

/// Checks and resolves the tiling keys; on error returns (key, reason).
pub fn tiling(
    tms_id: &str,
    z_range: [i64; 2],
    tile_size: [i64; 2],
    structure: &[String],
) -> Result<Tiling, (String, String)> {
    let err = |k: &str, why: String| (k.to_string(), why);
    let tms = Tms::by_id(tms_id).map_err(|e| err("tms_id", e.to_string()))?;
    let [z_min, z_max] = z_range;
    if z_min < 0 || z_max < 0 {
        return Err(err("z_range", format!("zoom levels are >= 0, got [{z_min}, {z_max}]")));
    }
    if z_min > z_max {
        return Err(err("z_range", format!("[min, max] is out of order: [{z_min}, {z_max}]")));
    }
    if z_max > i64::from(tms.max_zoom) {
        return Err(err("z_range", format!("{} has no zoom {z_max} (deepest is {})", tms.id, tms.max_zoom)));
    }
    let [rows, cols] = tile_size;
    if !(1..=16384).contains(&rows) || !(1..=16384).contains(&cols) {
        return Err(err("tile_size", format!("sizes are 1..16384 pixels, got [{rows}, {cols}]")));
    }
    let tile_paths = TilePaths::new(structure, tms.id).map_err(|e| err("tile_path_structure", e.to_string()))?;
    Ok(Tiling { tms, z_min: z_min as u8, z_max: z_max as u8, tile_size: [rows as u32, cols as u32], tile_paths })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_in_order_within_the_matrix_set() {
        let s = ["style", "tms", "z", "x", "y"].map(String::from);
        let t = tiling("WGS1984Quad", [6, 13], [128, 256], &s).unwrap();
        assert_eq!((t.tms.id, t.z_min, t.z_max, t.tile_size), ("WGS1984Quad", 6, 13, [128, 256]));
        assert_eq!(tiling("WorldCRS84Quad", [9, 3], [256, 256], &s).unwrap_err().0, "z_range");
        assert_eq!(tiling("WorldCRS84Quad", [0, 40], [256, 256], &s).unwrap_err().0, "z_range");
        assert_eq!(tiling("WorldCRS84Quad", [0, 3], [0, 256], &s).unwrap_err().0, "tile_size");
        assert_eq!(tiling("NoSuchQuad", [0, 3], [256, 256], &s).unwrap_err().0, "tms_id");
    }
}
