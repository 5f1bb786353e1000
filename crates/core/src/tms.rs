//! Tile matrix sets (OGC TMS 2.0, as morecantile defines them) and tile paths.
//!
//! Origin is the top-left corner, x grows east, y grows south. Coordinates are always in
//! "xy" order (x = easting or longitude). Bounds are exact (`origin + index * span`), which is
//! morecantile >= 4; morecantile 3 (the golden data) is off by about 1e-13 degrees.

use std::fmt;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Half the circumference of the WebMercator sphere, in metres.
const MERCATOR_HALF: f64 = 20037508.342789244;
/// Radius of the WebMercator sphere, in metres.
const MERCATOR_RADIUS: f64 = 6378137.0;

/// A tile matrix set: its name, CRS and the geometry of its zoom levels.
#[derive(Debug, Clone, PartialEq)]
pub struct Tms {
    /// Identifier as configured (used in tile paths), e.g. `WorldCRS84Quad`.
    pub id: &'static str,
    /// CRS of the tile grid as a GDAL user input string, e.g. `OGC:CRS84`.
    pub crs: &'static str,
    /// EPSG code GeoTIFFs carry for this CRS.
    pub epsg: u32,
    /// Top-left corner (x, y).
    pub origin: (f64, f64),
    /// Tile span at zoom 0, in CRS units.
    pub span0: f64,
    /// Matrix width and height at zoom 0.
    pub matrix0: (u32, u32),
    /// Deepest zoom level the set defines.
    pub max_zoom: u8,
    /// True when CRS units are degrees of longitude/latitude.
    pub geographic: bool,
}

/// Tile matrix sets this project knows.
pub const KNOWN_TMS: &[Tms] = &[
    Tms {
        id: "WorldCRS84Quad",
        crs: "OGC:CRS84",
        epsg: 4326,
        origin: (-180.0, 90.0),
        span0: 180.0,
        matrix0: (2, 1),
        max_zoom: 24,
        geographic: true,
    },
    Tms {
        id: "WGS1984Quad",
        crs: "EPSG:4326",
        epsg: 4326,
        origin: (-180.0, 90.0),
        span0: 180.0,
        matrix0: (2, 1),
        max_zoom: 24,
        geographic: true,
    },
    Tms {
        id: "WebMercatorQuad",
        crs: "EPSG:3857",
        epsg: 3857,
        origin: (-MERCATOR_HALF, MERCATOR_HALF),
        span0: 2.0 * MERCATOR_HALF,
        matrix0: (1, 1),
        max_zoom: 24,
        geographic: false,
    },
    Tms {
        id: "UPSArctic3413Quad",
        crs: "EPSG:3413",
        epsg: 3413,
        origin: (-4000100.0, 4100100.0),
        span0: 7500200.0,
        matrix0: (1, 1),
        max_zoom: 20,
        geographic: false,
    },
];

/// Errors of tile and path handling.
#[derive(Debug, Error, PartialEq)]
pub enum TmsError {
    /// No known tile matrix set has this id (holds the id as given).
    #[error("unknown tile matrix set `{0}` (known: WorldCRS84Quad, WGS1984Quad, WebMercatorQuad, UPSArctic3413Quad)")]
    Unknown(String),
    /// A zoom level deeper than the set defines.
    #[error("zoom {z} is beyond the deepest level {max} of {tms}")]
    ZoomTooDeep {
        /// The zoom level asked for.
        z: u8,
        /// The set's deepest zoom level.
        max: u8,
        /// The set's id.
        tms: String,
    },
    /// A tile_path_structure that does not end with x, y, z or holds other parts (holds it).
    #[error("tile_path_structure must end with x, y and z in some order and may hold only style, tms, x, y, z: {0:?}")]
    BadStructure(Vec<String>),
    /// A path whose last three components do not give a tile's x, y and z.
    #[error("`{path}` is not a tile path for structure {structure:?}: {why}")]
    BadPath {
        /// The path as given.
        path: String,
        /// The tile_path_structure it was read with.
        structure: Vec<String>,
        /// What is wrong with it.
        why: String,
    },
    /// Longitude/latitude cannot be converted to this set's projected CRS without a projection
    /// library (holds the set's id).
    #[error("lon/lat to {0} needs a projection library; reproject with GDAL first")]
    NeedsProjection(String),
}

/// A tile index: zoom, column (east) and row (south).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tile {
    /// Zoom level (0 = the set's whole extent, in one or two tiles).
    pub z: u8,
    /// Column, counted east from the set's left edge (0-based).
    pub x: u32,
    /// Row, counted south from the set's top edge (0-based).
    pub y: u32,
}

impl Tile {
    /// A tile at zoom `z`, column `x`, row `y`.
    pub fn new(x: u32, y: u32, z: u8) -> Tile {
        Tile { z, x, y }
    }

    /// The tile one level up that contains this one.
    ///
    /// ```
    /// use iwp_core::tms::Tile;
    /// let t = Tile::new(1419, 909, 13);
    /// assert_eq!(t.parent(), Some(Tile::new(709, 454, 12)));
    /// assert!(t.parent().unwrap().children().contains(&t));
    /// assert_eq!(Tile::new(0, 0, 0).parent(), None);
    /// ```
    pub fn parent(&self) -> Option<Tile> {
        (self.z > 0).then(|| Tile::new(self.x / 2, self.y / 2, self.z - 1))
    }

    /// The tile at zoom `z` that contains this one (itself at its own zoom); None when `z` is
    /// deeper than this tile.
    ///
    /// ```
    /// use iwp_core::tms::Tile;
    /// let t = Tile::new(1419, 909, 13);
    /// assert_eq!(t.ancestor(11), Some(Tile::new(354, 227, 11)));
    /// assert_eq!(t.ancestor(11), t.parent().and_then(|p| p.parent()));
    /// assert_eq!(t.ancestor(13), Some(t));
    /// assert_eq!(t.ancestor(14), None);
    /// ```
    pub fn ancestor(&self, z: u8) -> Option<Tile> {
        let up = self.z.checked_sub(z)?;
        Some(Tile::new(self.x >> up, self.y >> up, z))
    }

    /// The four tiles one level down, in the order (2x,2y), (2x,2y+1), (2x+1,2y), (2x+1,2y+1).
    pub fn children(&self) -> [Tile; 4] {
        let (x, y, z) = (self.x * 2, self.y * 2, self.z + 1);
        [Tile::new(x, y, z), Tile::new(x, y + 1, z), Tile::new(x + 1, y, z), Tile::new(x + 1, y + 1, z)]
    }
}

impl fmt::Display for Tile {
    /// The reference's text form, `Tile(x=1418, y=908, z=13)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tile(x={}, y={}, z={})", self.x, self.y, self.z)
    }
}

/// An axis-aligned box in CRS units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bounds {
    /// Smallest x (west edge).
    pub left: f64,
    /// Smallest y (south edge).
    pub bottom: f64,
    /// Largest x (east edge).
    pub right: f64,
    /// Largest y (north edge).
    pub top: f64,
}

impl Tms {
    /// Looks up a tile matrix set by identifier.
    pub fn by_id(id: &str) -> Result<&'static Tms, TmsError> {
        KNOWN_TMS.iter().find(|t| t.id == id).ok_or_else(|| TmsError::Unknown(id.to_string()))
    }

    /// Tile span (width = height) at zoom `z`, in CRS units.
    pub fn span(&self, z: u8) -> f64 {
        self.span0 / f64::from(1u32 << z)
    }

    /// Number of columns and rows at zoom `z`.
    pub fn matrix_size(&self, z: u8) -> (u32, u32) {
        (self.matrix0.0 << z, self.matrix0.1 << z)
    }

    /// Whole extent of the set.
    pub fn extent(&self) -> Bounds {
        let (w, h) = self.matrix0;
        let (x0, y0) = self.origin;
        Bounds { left: x0, top: y0, right: x0 + f64::from(w) * self.span0, bottom: y0 - f64::from(h) * self.span0 }
    }

    /// Checks that zoom `z` exists in this set.
    pub fn check_zoom(&self, z: u8) -> Result<(), TmsError> {
        if z > self.max_zoom {
            return Err(TmsError::ZoomTooDeep { z, max: self.max_zoom, tms: self.id.to_string() });
        }
        Ok(())
    }

    /// The tile containing CRS point (x, y) at zoom `z` (floor, clamped to the matrix).
    pub fn tile_at_xy(&self, x: f64, y: f64, z: u8) -> Tile {
        let span = self.span(z);
        let (w, h) = self.matrix_size(z);
        let col = clamp_index(((x - self.origin.0) / span).floor(), w);
        let row = clamp_index(((self.origin.1 - y) / span).floor(), h);
        Tile::new(col, row, z)
    }

    /// The tile containing a longitude/latitude at zoom `z`.
    pub fn tile_at_lonlat(&self, lon: f64, lat: f64, z: u8) -> Result<Tile, TmsError> {
        let (x, y) = self.lonlat_to_xy(lon, lat)?;
        Ok(self.tile_at_xy(x, y, z))
    }

    /// Converts longitude/latitude to CRS coordinates (geographic and WebMercator sets only).
    pub fn lonlat_to_xy(&self, lon: f64, lat: f64) -> Result<(f64, f64), TmsError> {
        if self.geographic {
            Ok((lon, lat))
        } else if self.id == "WebMercatorQuad" {
            let phi = lat.to_radians();
            let y = MERCATOR_RADIUS * (std::f64::consts::FRAC_PI_4 + phi / 2.0).tan().ln();
            Ok((MERCATOR_RADIUS * lon.to_radians(), y))
        } else {
            Err(TmsError::NeedsProjection(self.id.to_string()))
        }
    }

    /// Bounds of a tile in CRS units.
    pub fn bounds(&self, tile: Tile) -> Bounds {
        let span = self.span(tile.z);
        let left = self.origin.0 + f64::from(tile.x) * span;
        let top = self.origin.1 - f64::from(tile.y) * span;
        Bounds { left, top, right: left + span, bottom: top - span }
    }

    /// Tiles at zoom `z` whose area meets the box (a box ending exactly on a tile edge does not
    /// reach into the next tile), row by row from the top-left. Empty when the box misses the set.
    pub fn tiles_covering(&self, b: Bounds, z: u8) -> Vec<Tile> {
        self.tiles_meeting(b, z, false)
    }

    /// Tiles at zoom `z` whose closed box meets the box: one ending exactly on a tile edge also
    /// meets the neighbour (as GEOS `intersects`). Row by row from the top-left.
    pub fn tiles_touching(&self, b: Bounds, z: u8) -> Vec<Tile> {
        self.tiles_meeting(b, z, true)
    }

    /// The columns and rows of the tiles at zoom `z` whose area meets the box (as
    /// [`Tms::tiles_covering`]), without listing them; None when the box misses the set.
    pub fn range_covering(&self, b: Bounds, z: u8) -> Option<(RangeInclusive<u32>, RangeInclusive<u32>)> {
        self.range_meeting(b, z, false)
    }

    fn tiles_meeting(&self, b: Bounds, z: u8, closed: bool) -> Vec<Tile> {
        match self.range_meeting(b, z, closed) {
            Some((xs, ys)) => ys.flat_map(|y| xs.clone().map(move |x| Tile::new(x, y, z))).collect(),
            None => Vec::new(),
        }
    }

    fn range_meeting(&self, b: Bounds, z: u8, closed: bool) -> Option<(RangeInclusive<u32>, RangeInclusive<u32>)> {
        let ext = self.extent();
        if b.right < ext.left || b.left > ext.right || b.top < ext.bottom || b.bottom > ext.top {
            return None;
        }
        let span = self.span(z);
        let (w, h) = self.matrix_size(z);
        // First and last index of the cells [k, k+1) a coordinate range [lo, hi] meets.
        let range = |lo: f64, hi: f64, n: u32| {
            let (first, last) = if closed { (lo.ceil() - 1.0, hi.floor()) } else { (lo.floor(), hi.ceil() - 1.0) };
            let first = clamp_index(first, n);
            (first, clamp_index(last, n).max(first))
        };
        let (x0, x1) = range((b.left - self.origin.0) / span, (b.right - self.origin.0) / span, w);
        let (y0, y1) = range((self.origin.1 - b.top) / span, (self.origin.1 - b.bottom) / span, h);
        Some((x0..=x1, y0..=y1))
    }
}

fn clamp_index(v: f64, n: u32) -> u32 {
    if v.is_nan() || v < 0.0 {
        0
    } else {
        (v as u64).min(u64::from(n) - 1) as u32
    }
}

/// Lays tiles out as files: `base/[style/]tms/z/x/y.ext` in the order of `tile_path_structure`.
#[derive(Debug, Clone, PartialEq)]
pub struct TilePaths {
    structure: Vec<String>,
    tms_id: String,
}

impl TilePaths {
    /// Checks a tile_path_structure (last three parts x, y, z in any order) for a set.
    pub fn new(structure: &[String], tms_id: &str) -> Result<TilePaths, TmsError> {
        let bad = || TmsError::BadStructure(structure.to_vec());
        if structure.len() < 3 {
            return Err(bad());
        }
        let mut tail: Vec<&str> = structure[structure.len() - 3..].iter().map(String::as_str).collect();
        tail.sort_unstable();
        let head_ok = structure[..structure.len() - 3].iter().all(|p| p == "style" || p == "tms");
        if tail != ["x", "y", "z"] || !head_ok {
            return Err(bad());
        }
        Ok(TilePaths { structure: structure.to_vec(), tms_id: tms_id.to_string() })
    }

    /// Path of a tile under `base`, with `style` (e.g. a statistic) where the structure has one
    /// and `ext` (with its dot) appended to the last part.
    pub fn path(&self, base: &Path, style: Option<&str>, tile: Tile, ext: &str) -> PathBuf {
        let mut path = base.to_path_buf();
        let last = self.structure.len() - 1;
        for (i, part) in self.structure.iter().enumerate() {
            let mut text = match part.as_str() {
                "style" => style.unwrap_or("").to_string(),
                "tms" => self.tms_id.clone(),
                "z" => tile.z.to_string(),
                "x" => tile.x.to_string(),
                _ => tile.y.to_string(),
            };
            if i == last {
                text.push_str(ext);
            }
            if !text.is_empty() {
                path.push(text);
            }
        }
        path
    }

    /// Reads the tile out of a path written by [`TilePaths::path`] (the last three components).
    pub fn parse(&self, path: &Path) -> Result<Tile, TmsError> {
        let err = |why: &str| TmsError::BadPath {
            path: path.display().to_string(),
            structure: self.structure.clone(),
            why: why.to_string(),
        };
        let parts: Vec<String> = path.iter().map(|p| p.to_string_lossy().into_owned()).collect();
        if parts.len() < 3 {
            return Err(err("fewer than three components"));
        }
        let tail = &parts[parts.len() - 3..];
        let (mut x, mut y, mut z) = (None, None, None);
        for (i, key) in self.structure[self.structure.len() - 3..].iter().enumerate() {
            let mut text = tail[i].as_str();
            if i == 2 {
                text = text.split('.').next().unwrap_or(text);
            }
            let value: u32 = text.parse().map_err(|_| err(&format!("`{text}` is not a number for {key}")))?;
            match key.as_str() {
                "x" => x = Some(value),
                "y" => y = Some(value),
                _ => z = Some(value),
            }
        }
        let z = u8::try_from(z.unwrap_or(0)).map_err(|_| err("zoom out of range"))?;
        Ok(Tile::new(x.unwrap_or(0), y.unwrap_or(0), z))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn children_tile_their_parent_and_the_matrix_grows_by_two() {
        for id in ["WorldCRS84Quad", "WebMercatorQuad", "UPSArctic3413Quad"] {
            let tms = Tms::by_id(id).unwrap();
            let parent = Tile::new(3, 1, 4);
            let b = tms.bounds(parent);
            let kids: Vec<Bounds> = parent.children().iter().map(|c| tms.bounds(*c)).collect();
            let (w, h) = (b.right - b.left, b.top - b.bottom);
            for k in &kids {
                assert!(k.left >= b.left - 1e-9 && k.right <= b.right + 1e-9, "{id}: inside");
                assert!(((k.right - k.left) - w / 2.0).abs() < 1e-6 * w, "{id}: half as wide");
                assert!(((k.top - k.bottom) - h / 2.0).abs() < 1e-6 * h, "{id}: half as high");
            }
            let area: f64 = kids.iter().map(|k| (k.right - k.left) * (k.top - k.bottom)).sum();
            assert!((area - w * h).abs() < 1e-6 * w * h, "{id}: the four children cover the parent");
            let (c0, r0) = tms.matrix_size(3);
            assert_eq!(tms.matrix_size(4), (2 * c0, 2 * r0), "{id}");
            // A point's tile at z is the parent of its tile at z + 1.
            let (x, y) = ((b.left + b.right) / 2.0 + w / 7.0, (b.top + b.bottom) / 2.0 - h / 5.0);
            assert_eq!(tms.tile_at_xy(x, y, 5).parent(), Some(tms.tile_at_xy(x, y, 4)), "{id}");
        }
    }
}
