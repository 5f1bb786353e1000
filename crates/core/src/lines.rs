//! Job and result lines as types, one per kind: the field names are defined here once.
//!
//! Every tool reads lines of one kind and writes lines of another (a result line is a valid job
//! line for the next tool). Fields a kind does not name are kept in its `extra`, in order, and
//! written back on the result line, so a user's own annotations survive a pipe. A line that
//! is not of the kind a tool reads (a missing field, a wrong type) gets one error line naming its
//! line number and the field; the other lines are still worked on. `docs/job-lines.md` documents
//! every kind; a test checks it against [`KINDS`].

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Fields a line carries that its kind does not name: kept in order and written back.
pub type Extra = Map<String, Value>;

/// What a result line reports: the unit was done, or it failed (with an `error` message).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The unit was done (`ok`).
    #[default]
    Ok,
    /// The unit failed; the line's `error` says why (`error`).
    Error,
}

/// One input vector file (iwp-stage's jobs; iwp-stage --list and iwp-synth print them).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InputFile {
    /// The input file (a shapefile, GeoPackage, ...).
    pub path: String,
    /// Its footprint file; when given it wins over the rule that derives it from `path`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub footprint: Option<String>,
    /// Its size in bytes (shards are balanced by it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    /// Polygons it holds (iwp-synth).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub polygons: Option<u64>,
    /// Fields this kind does not name, in order; written back on the result line.
    #[serde(flatten)]
    pub extra: Extra,
    /// `ok` or `error` on a result line; None when the line has no `status`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
}

/// A tile's place: its tile matrix set and z/x/y (lines may name a tile by its path instead).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TileAt {
    /// The tile matrix set's id (e.g. `WorldCRS84Quad`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tms: Option<String>,
    /// Zoom level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub z: Option<u8>,
    /// Column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<u32>,
    /// Row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<u32>,
}

/// A staged z-max tile, a GeoPackage (iwp-stage's results, iwp-merge's jobs and results,
/// iwp-raster's z-max jobs).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StagedTile {
    /// The tile's matrix set and z/x/y.
    #[serde(flatten)]
    pub tile: TileAt,
    /// The tile's file.
    #[serde(default)]
    pub path: String,
    /// Rows in the tile after the write.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features: Option<u64>,
    /// Rows this write added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<u64>,
    /// The input file whose rows were added, as `staging_filename` holds it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The job this line belongs to (the input file's path), for iwp-progress.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// How many lines that job gives (its tiles), for iwp-progress.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parts: Option<u64>,
    /// How many source folders held the tile (iwp-merge).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sources: Option<u64>,
    /// What the merge did: linked, copied, moved, combined or unchanged (iwp-merge).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// Rows the merge added (iwp-merge).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub added: Option<u64>,
    /// Seconds the unit took.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secs: Option<f64>,
    /// Fields this kind does not name, in order; written back on the result line.
    #[serde(flatten)]
    pub extra: Extra,
    /// `ok` or `error` on a result line; None when the line has no `status`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
}

/// The summary of one band of a GeoTIFF, written as `<stat>_min`, `<stat>_max`, `<stat>_sum`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BandFigures {
    /// The band's smallest pixel value.
    pub min: f64,
    /// The band's largest pixel value.
    pub max: f64,
    /// The sum of the band's pixel values.
    pub sum: f64,
}

impl BandFigures {
    /// The figures of one value.
    pub fn of(v: f64) -> BandFigures {
        BandFigures { min: v, max: v, sum: v }
    }

    /// The figures of both sets of values together.
    pub fn merge(self, o: BandFigures) -> BandFigures {
        BandFigures { min: self.min.min(o.min), max: self.max.max(o.max), sum: self.sum + o.sum }
    }
}

/// The suffixes of a band's summary fields on a GeoTIFF line.
pub const BAND_FIELDS: [&str; 3] = ["_min", "_max", "_sum"];

/// A statistics GeoTIFF (iwp-raster's results and lower-level jobs, iwp-webtile's jobs). Each
/// band's summary is in `extra` as `<stat>_min`, `<stat>_max`, `<stat>_sum` ([`Bands::band`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GeoTiff {
    /// The tile's matrix set and z/x/y.
    #[serde(flatten)]
    pub tile: TileAt,
    /// The GeoTIFF's file.
    #[serde(default)]
    pub path: String,
    /// True when the file existed and was not written again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<bool>,
    /// Seconds the unit took.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secs: Option<f64>,
    /// Fields this kind does not name (among them the band summaries), in order; written back.
    #[serde(flatten)]
    pub extra: Extra,
    /// `ok` or `error` on a result line; None when the line has no `status`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
}

/// A coloured PNG web tile of one statistic (iwp-webtile's results).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Png {
    /// The tile's matrix set and z/x/y.
    #[serde(flatten)]
    pub tile: TileAt,
    /// The statistic it shows.
    #[serde(default)]
    pub stat: String,
    /// The PNG's file.
    #[serde(default)]
    pub path: String,
    /// The GeoTIFF it was made from (the job), for iwp-progress.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// How many PNGs that GeoTIFF gives (one per statistic), for iwp-progress.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parts: Option<u64>,
    /// True when the file existed and was not written again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<bool>,
    /// Seconds the unit took.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secs: Option<f64>,
    /// Fields this kind does not name, in order; written back on the result line.
    #[serde(flatten)]
    pub extra: Extra,
    /// `ok` or `error` on a result line; None when the line has no `status`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
}

/// A 3D Tiles content made of one staged tile (iwp-3dtiles's results, which its `--tileset` step
/// reads).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Content3d {
    /// The tile's place.
    #[serde(flatten)]
    pub tile: TileAt,
    /// The content's file (empty when the tile holds no polygon's centroid: no file).
    #[serde(default)]
    pub path: String,
    /// Features (polygons) in it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features: Option<u64>,
    /// Triangles in it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub triangles: Option<u64>,
    /// Rows left out as duplicates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicates: Option<u64>,
    /// The file's size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    /// West, south, east, north (degrees) and lowest and highest height (metres) of its polygons.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<[f64; 6]>,
    /// True when the file existed and was not written again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<bool>,
    /// Seconds the unit took.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secs: Option<f64>,
    /// Any other field of the job line, kept in order.
    #[serde(flatten)]
    pub extra: Extra,
    /// `ok` or `error`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
}

/// A tileset file of the 3D tiles hierarchy (iwp-3dtiles --tileset's results): the root
/// tileset.json or an external tileset.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Tileset3d {
    /// The file.
    pub path: String,
    /// Tiles (nodes) in it; a reference to an external tileset counts as one.
    pub tiles: u64,
    /// The file's size in bytes.
    pub bytes: u64,
    /// `ok` or `error` on a result line; None when the line has no `status`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
}

/// An area extract (iwp-extract's jobs and results): the area (a box, or a polygon file) and the
/// level as the job gives them; on a result line also the files written, with counts and bytes.
/// Each band's summary over the area is in `extra` as on a [`GeoTiff`] line ([`Extract::band`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Extract {
    /// The area's name, used in the files' names (default: from the polygon file or the box).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The box: min x, min y, max x, max y (longitude, latitude unless `bbox_crs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bbox: Option<[f64; 4]>,
    /// The box's CRS (any GDAL user input, e.g. `EPSG:3413`; default EPSG:4326).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bbox_crs: Option<String>,
    /// A polygon file (GeoJSON, GeoPackage, shapefile, ...): the area is the union of its polygons.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub area: Option<String>,
    /// The level of the raster (default z-max).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub z: Option<u8>,
    /// The Cloud-Optimized GeoTIFF written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cog: Option<String>,
    /// The GeoPackage of the polygons written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpkg: Option<String>,
    /// The COG's CRS (`EPSG:code` where it has one, else its WKT).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crs: Option<String>,
    /// The COG's pixel columns and rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<[u64; 2]>,
    /// The COG's geotransform (GDAL order).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transform: Option<[f64; 6]>,
    /// The area's west, south, east, north in longitude and latitude.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lonlat_bbox: Option<[f64; 4]>,
    /// GeoTIFF tiles the COG was made of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tiles: Option<u64>,
    /// Polygons in the GeoPackage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub polygons: Option<u64>,
    /// Duplicates among the area's polygons: left out, or kept with their flag (`duplicates_kept`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicates: Option<u64>,
    /// True when the duplicates are in the GeoPackage, flagged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicates_kept: Option<bool>,
    /// Bytes of the files written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    /// True when both files existed and were not written again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<bool>,
    /// Seconds the unit took.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secs: Option<f64>,
    /// Fields this kind does not name (among them the band summaries), in order; written back.
    #[serde(flatten)]
    pub extra: Extra,
    /// `ok` or `error` on a result line; None when the line has no `status`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
}

/// A mosaic of one level (iwp-mosaic's results): a VRT of one band over the level's GeoTIFFs, or
/// a COG of every band. Each band's summary, from the GeoTIFF lines, is in `extra` as on a
/// [`GeoTiff`] line.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Mosaic {
    /// The tile matrix set's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tms: Option<String>,
    /// The level.
    pub z: u8,
    /// The band (statistic) of a VRT; None for a COG of every band.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stat: Option<String>,
    /// The mosaic's file.
    pub path: String,
    /// GeoTIFF tiles in it.
    pub tiles: u64,
    /// Pixel columns and rows.
    pub size: [u64; 2],
    /// The geotransform (GDAL order), in the tiles' CRS.
    pub transform: [f64; 6],
    /// The tiles' CRS as `EPSG:code`.
    pub crs: String,
    /// West, south, east, north of its tiles, in longitude and latitude.
    pub lonlat_bbox: [f64; 4],
    /// The file's size in bytes.
    pub bytes: u64,
    /// Seconds the unit took.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secs: Option<f64>,
    /// Fields this kind does not name (among them the band summaries), in order; written back.
    #[serde(flatten)]
    pub extra: Extra,
    /// `ok` or `error` on a result line; None when the line has no `status`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
}

/// A STAC catalog written (iwp-catalog's result).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Catalog {
    /// The root catalog file.
    pub path: String,
    /// Collections in it.
    pub collections: u64,
    /// Items in it.
    pub items: u64,
    /// Assets of those items.
    pub assets: u64,
    /// `ok` or `error` on a result line; None when the line has no `status`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
}

/// Lines that carry band summaries as `<stat>_min`, `<stat>_max`, `<stat>_sum` in `extra`.
pub trait Bands {
    /// The line's fields beyond its kind's.
    fn extra(&self) -> &Extra;
    /// The line's fields beyond its kind's, to change.
    fn extra_mut(&mut self) -> &mut Extra;

    /// The summary of band `stat`, when the line has all three of its fields as numbers.
    fn band(&self, stat: &str) -> Option<BandFigures> {
        let get = |suffix: &str| self.extra().get(&format!("{stat}{suffix}")).and_then(Value::as_f64);
        Some(BandFigures { min: get(BAND_FIELDS[0])?, max: get(BAND_FIELDS[1])?, sum: get(BAND_FIELDS[2])? })
    }

    /// Sets band `stat`'s summary fields.
    fn set_band(&mut self, stat: &str, b: BandFigures) {
        for (suffix, v) in BAND_FIELDS.iter().zip([b.min, b.max, b.sum]) {
            self.extra_mut().insert(format!("{stat}{suffix}"), v.into());
        }
    }
}

macro_rules! bands {
    ($($kind:ty),*) => {$(
        impl Bands for $kind {
            fn extra(&self) -> &Extra {
                &self.extra
            }
            fn extra_mut(&mut self) -> &mut Extra {
                &mut self.extra
            }
        }
    )*};
}
bands!(GeoTiff, Extract, Mosaic);

/// An archive of a pack (iwp-pack pack's and unpack's results), or, with `manifest`, a pack
/// that was already made.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Archive {
    /// The archive's file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive: Option<String>,
    /// The manifest of a pack left as it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest: Option<String>,
    /// Files in it.
    #[serde(default)]
    pub files: u64,
    /// Bytes of those files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    /// True when nothing was done (unpacked before, or packed unchanged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<bool>,
    /// Seconds the unit took.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secs: Option<f64>,
    /// Fields this kind does not name, in order; written back on the result line.
    #[serde(flatten)]
    pub extra: Extra,
    /// `ok` or `error` on a result line; None when the line has no `status`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
}

/// A unit that failed: the job's own fields, `status` `error` and a message naming the unit
/// and the problem. For an input line that was no job line, `line` and `input` say which.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ErrorLine {
    /// The 1-based number of the input line that was no job line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// That line's text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    /// The job's fields, as it gave them.
    #[serde(flatten)]
    pub job: Extra,
    /// Always `error`.
    pub status: Status,
    /// What went wrong.
    pub error: String,
}

/// A Slurm node (iwp-nodes' results).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Node {
    /// The node's name.
    pub node: String,
    /// Its place in the job's node list (0 is the head).
    pub index: usize,
    /// True for the head node.
    pub head: bool,
}

/// A line that names one tile and its file (staged tiles, GeoTIFFs, PNGs).
pub trait TileLine: Serialize {
    /// The tile's place (any of its fields may be missing: the path then names the tile).
    fn at(&self) -> &TileAt;
    /// The tile's file ("" when the line has none).
    fn file(&self) -> &str;
    /// True for the error line of a failed unit.
    fn failed(&self) -> bool;
}

macro_rules! tile_line {
    ($($kind:ty),*) => {$(
        impl TileLine for $kind {
            fn at(&self) -> &TileAt {
                &self.tile
            }
            fn file(&self) -> &str {
                &self.path
            }
            fn failed(&self) -> bool {
                self.status == Some(Status::Error)
            }
        }
    )*};
}
tile_line!(StagedTile, GeoTiff, Png, Content3d);

/// Every kind with its fields in order (`extra` shown as `...`), for the documentation test.
pub const KINDS: &[(&str, &[&str])] = &[
    ("input file", &["path", "footprint", "bytes", "polygons", "...", "status"]),
    (
        "staged tile",
        &[
            "tms", "z", "x", "y", "path", "features", "rows", "file", "source", "parts", "sources", "action", "added",
            "secs", "...", "status",
        ],
    ),
    (
        "GeoTIFF",
        &["tms", "z", "x", "y", "path", "skipped", "secs", "<stat>_min", "<stat>_max", "<stat>_sum", "...", "status"],
    ),
    ("PNG", &["tms", "z", "x", "y", "stat", "path", "source", "parts", "skipped", "secs", "...", "status"]),
    (
        "3D content",
        &[
            "tms",
            "z",
            "x",
            "y",
            "path",
            "features",
            "triangles",
            "duplicates",
            "bytes",
            "region",
            "skipped",
            "secs",
            "...",
            "status",
        ],
    ),
    ("3D tileset", &["path", "tiles", "bytes", "status"]),
    (
        "extract",
        &[
            "name",
            "bbox",
            "bbox_crs",
            "area",
            "z",
            "cog",
            "gpkg",
            "crs",
            "size",
            "transform",
            "lonlat_bbox",
            "tiles",
            "polygons",
            "duplicates",
            "duplicates_kept",
            "bytes",
            "skipped",
            "secs",
            "<stat>_min",
            "<stat>_max",
            "<stat>_sum",
            "...",
            "status",
        ],
    ),
    (
        "mosaic",
        &[
            "tms",
            "z",
            "stat",
            "path",
            "tiles",
            "size",
            "transform",
            "crs",
            "lonlat_bbox",
            "bytes",
            "secs",
            "<stat>_min",
            "<stat>_max",
            "<stat>_sum",
            "...",
            "status",
        ],
    ),
    ("catalog", &["path", "collections", "items", "assets", "status"]),
    ("archive", &["archive", "manifest", "files", "bytes", "skipped", "secs", "...", "status"]),
    ("error", &["line", "input", "...", "status", "error"]),
    ("node", &["node", "index", "head"]),
];

/// A line read as kind `T`, or why it is not one: `line N: field `F`: reason` (serde's words).
pub fn parse<T: DeserializeOwned>(line: usize, fields: Map<String, Value>) -> Result<T, String> {
    let located = |e: serde_path_to_error::Error<serde_json::Error>| (e.path().to_string(), e.into_inner().to_string());
    let (mut field, mut why) = match serde_path_to_error::deserialize(Value::Object(fields.clone())) {
        Ok(t) => return Ok(t),
        Err(e) => located(e),
    };
    // A field of a flattened [`TileAt`] is not located by serde: read the tile alone to find it.
    if field == "." {
        if let Err(e) = serde_path_to_error::deserialize::<_, TileAt>(Value::Object(fields)) {
            (field, why) = located(e);
        }
    }
    Err(if field == "." { format!("line {line}: {why}") } else { format!("line {line}: field `{field}`: {why}") })
}

/// The fields of a line of any kind (for error lines, which keep the job's own fields).
pub fn fields_of<T: Serialize>(line: &T) -> Map<String, Value> {
    match serde_json::to_value(line) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_fields_survive_and_known_ones_are_typed() {
        let v = json!({"path": "a.shp", "bytes": 12, "mine": {"k": [1, 2]}, "status": "ok", "note": "x"});
        let f: InputFile = parse(1, v.as_object().unwrap().clone()).unwrap();
        assert_eq!((f.path.as_str(), f.bytes, f.status), ("a.shp", Some(12), Some(Status::Ok)));
        assert_eq!(f.extra.keys().collect::<Vec<_>>(), ["mine", "note"]);
        let back = serde_json::to_string(&f).unwrap();
        assert_eq!(back, r#"{"path":"a.shp","bytes":12,"mine":{"k":[1,2]},"note":"x","status":"ok"}"#);
    }

    #[test]
    fn a_wrong_type_or_a_missing_field_names_the_line_and_the_field() {
        let e = parse::<StagedTile>(7, json!({"z": "15", "path": "t.gpkg"}).as_object().unwrap().clone()).unwrap_err();
        assert!(e.starts_with("line 7: field `z`: invalid type: string \"15\""), "{e}");
        let e = parse::<InputFile>(3, json!({"bytes": 5}).as_object().unwrap().clone()).unwrap_err();
        assert_eq!(e, "line 3: missing field `path`");
        let e = parse::<InputFile>(4, json!({"path": "a", "status": "fine"}).as_object().unwrap().clone()).unwrap_err();
        assert!(e.contains("field `status`") && e.contains("`ok`") && e.contains("`error`"), "{e}");
    }

    #[test]
    fn band_figures_are_three_fields_per_statistic() {
        let mut g = GeoTiff { path: "t.tif".into(), ..Default::default() };
        g.set_band("iwp_count", BandFigures { min: 0.0, max: 9.0, sum: 40.0 });
        assert_eq!(g.band("iwp_count"), Some(BandFigures { min: 0.0, max: 9.0, sum: 40.0 }));
        assert_eq!(g.band("iwp_coverage"), None);
        let text = serde_json::to_string(&g).unwrap();
        assert_eq!(text, r#"{"path":"t.tif","iwp_count_min":0.0,"iwp_count_max":9.0,"iwp_count_sum":40.0}"#);
    }
}
