//! The PDG config file: every key the reference's ConfigManager knows, with its defaults,
//! relative paths resolved against the config's folder, command-line overrides, and clear
//! errors naming the key.

use crate::colour;
use crate::tms::{TilePaths, Tms};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// A config that cannot be used.
#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("cannot read config {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("config {path} is not valid JSON: {source}")]
    Json { path: PathBuf, source: serde_json::Error },
    #[error("config {path}: key `{key}`: {why}")]
    Key { path: PathBuf, key: String, why: String },
    #[error("override `{0}` is not KEY=VALUE")]
    Override(String),
}

/// How a statistic assigns polygons to pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WeightBy {
    /// By the pixel that holds the polygon's centroid.
    Count,
    /// By the exact area of the polygon inside each pixel.
    Area,
}

/// A palette: a list of CSS colours, or one string naming a colormap (or a single colour).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum PaletteSpec {
    Colours(Vec<String>),
    Named(String),
}

/// Per-zoom overrides of a statistic.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ZConfig {
    #[serde(default = "unset_range")]
    pub val_range: [Option<f64>; 2],
}

/// One statistic: a GeoTIFF band and a web-tile layer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Statistic {
    pub name: String,
    pub weight_by: WeightBy,
    pub property: String,
    pub aggregation_method: String,
    pub resampling_method: String,
    #[serde(default = "unset_range")]
    pub val_range: [Option<f64>; 2],
    #[serde(default)]
    pub z_config: BTreeMap<String, ZConfig>,
    #[serde(default = "default_palette")]
    pub palette: PaletteSpec,
    #[serde(default)]
    pub nodata_val: Option<f64>,
    #[serde(default = "default_nodata_color")]
    pub nodata_color: String,
    /// Keys the reference does not know; warned about.
    #[serde(flatten)]
    pub unknown: Map<String, Value>,
}

/// Names of the columns staging adds (the reference's `prop_*` keys).
#[derive(Debug, Clone, PartialEq)]
pub struct PropNames {
    pub centroid_x: String,
    pub centroid_y: String,
    pub area: String,
    pub tile: String,
    pub centroid_tile: String,
    pub filename: String,
    pub identifier: String,
    pub centroid_within_tile: String,
    pub duplicated: String,
}

/// A loaded, checked config. Paths are absolute or relative to the working directory.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it came from, if any.
    pub source: Option<PathBuf>,
    pub dir_input: PathBuf,
    pub ext_input: String,
    pub dir_staged: PathBuf,
    pub ext_staged: String,
    pub dir_geotiff: PathBuf,
    pub dir_web_tiles: PathBuf,
    pub ext_web_tiles: String,
    pub dir_footprints: PathBuf,
    pub ext_footprints: String,
    /// The footprint index file (every footprint with its bounding box), built once and read by
    /// every staging process; default beside dir_staged, `STAGED.footprint-index.sqlite`.
    pub footprint_index: PathBuf,
    pub dir_3dtiles: PathBuf,
    pub filename_staging_summary: PathBuf,
    pub filename_rasterization_events: PathBuf,
    pub filename_rasters_summary: PathBuf,
    pub version: Option<String>,
    pub title: String,
    pub doi: String,
    pub props: PropNames,
    pub input_crs: Option<String>,
    pub simplify_tolerance: Option<f64>,
    pub tms: &'static Tms,
    pub tile_path_structure: Vec<String>,
    pub tile_paths: TilePaths,
    pub z_min: u8,
    pub z_max: u8,
    /// Rows (height) and columns (width) of a raster tile, as the reference reads `tile_size`.
    pub tile_size: [u32; 2],
    pub statistics: Vec<Statistic>,
    pub geometric_error: Option<f64>,
    pub z_coord: f64,
    pub deduplicate_at: Vec<String>,
    pub deduplicate_method: Option<DedupMethod>,
    pub deduplicate_keep_rules: Vec<KeepRule>,
    pub deduplicate_overlap_tolerance: Option<f64>,
    pub deduplicate_overlap_both: bool,
    pub deduplicate_centroid_tolerance: Option<f64>,
    pub deduplicate_distance_crs: Option<String>,
    pub deduplicate_clip_to_footprint: bool,
    /// Workflow switches of pdgworkflow (overwrite, enable_*, generate_wmtsCapabilities).
    pub switches: BTreeMap<String, bool>,
    /// Warnings found while loading (unknown keys); also logged.
    pub warnings: Vec<String>,
}

/// Deduplication methods of the reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DedupMethod {
    Neighbor,
    Footprints,
}

/// One keep rule: prefer rows with the larger (or smaller) value of `property`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeepRule {
    pub property: String,
    pub larger: bool,
}

/// Added to dir_staged's name for the footprint index's default path (beside dir_staged, so that
/// nothing but tiles is inside it).
pub const FOOTPRINT_INDEX_SUFFIX: &str = ".footprint-index.sqlite";

/// A file beside folder `dir`: its name with `suffix` added (`staged` -> `staged.SUFFIX`).
fn beside(dir: &Path, suffix: &str) -> PathBuf {
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "staged".into());
    dir.with_file_name(format!("{name}{suffix}"))
}

fn unset_range() -> [Option<f64>; 2] {
    [None, None]
}
fn default_palette() -> PaletteSpec {
    PaletteSpec::Colours(vec!["#FFFFFF".into(), "#000000".into()])
}
fn default_nodata_color() -> String {
    "#ffffff00".into()
}

/// The config as written, with the reference's defaults; checked and resolved into [`Config`].
#[derive(Debug, Deserialize)]
struct RawConfig {
    #[serde(default = "d::dir_input")]
    dir_input: String,
    #[serde(default = "d::ext_input")]
    ext_input: String,
    #[serde(default = "d::dir_staged")]
    dir_staged: String,
    #[serde(default = "d::ext_staged")]
    ext_staged: String,
    #[serde(default = "d::dir_geotiff")]
    dir_geotiff: String,
    #[serde(default = "d::dir_web_tiles")]
    dir_web_tiles: String,
    #[serde(default = "d::ext_web_tiles")]
    ext_web_tiles: String,
    #[serde(default = "d::dir_footprints")]
    dir_footprints: String,
    #[serde(default = "d::ext_footprints")]
    ext_footprints: String,
    #[serde(default)]
    footprint_index: Option<String>,
    #[serde(default = "d::dir_3dtiles")]
    dir_3dtiles: String,
    #[serde(default = "d::filename_staging_summary")]
    filename_staging_summary: String,
    #[serde(default = "d::filename_rasterization_events")]
    filename_rasterization_events: String,
    #[serde(default = "d::filename_rasters_summary")]
    filename_rasters_summary: String,
    #[serde(default)]
    #[allow(dead_code)]
    filename_config: Option<String>,
    #[serde(default)]
    version: Option<String>,
    #[serde(default = "d::title")]
    title: String,
    #[serde(default = "d::doi")]
    doi: String,
    #[serde(default = "d::prop_centroid_x")]
    prop_centroid_x: String,
    #[serde(default = "d::prop_centroid_y")]
    prop_centroid_y: String,
    #[serde(default = "d::prop_area")]
    prop_area: String,
    #[serde(default = "d::prop_tile")]
    prop_tile: String,
    #[serde(default = "d::prop_centroid_tile")]
    prop_centroid_tile: String,
    #[serde(default = "d::prop_filename")]
    prop_filename: String,
    #[serde(default = "d::prop_identifier")]
    prop_identifier: String,
    #[serde(default = "d::prop_centroid_within_tile")]
    prop_centroid_within_tile: String,
    #[serde(default = "d::prop_duplicated")]
    prop_duplicated: String,
    #[serde(default)]
    input_crs: Option<String>,
    #[serde(default = "d::simplify_tolerance")]
    simplify_tolerance: Option<f64>,
    #[serde(default = "d::tms_id")]
    tms_id: String,
    #[serde(default = "d::tile_path_structure")]
    tile_path_structure: Vec<String>,
    #[serde(default = "d::z_range")]
    z_range: [i64; 2],
    #[serde(default = "d::tile_size")]
    tile_size: [i64; 2],
    #[serde(default = "d::statistics")]
    statistics: Vec<Statistic>,
    #[serde(default, rename = "geometricError")]
    geometric_error: Option<f64>,
    #[serde(default)]
    z_coord: f64,
    #[serde(default)]
    deduplicate_at: Option<Vec<String>>,
    #[serde(default)]
    deduplicate_method: Option<String>,
    #[serde(default)]
    deduplicate_keep_rules: Vec<(String, String)>,
    #[serde(default = "d::overlap_tolerance")]
    deduplicate_overlap_tolerance: Option<f64>,
    #[serde(default = "d::yes")]
    deduplicate_overlap_both: bool,
    #[serde(default)]
    deduplicate_centroid_tolerance: Option<f64>,
    #[serde(default = "d::distance_crs")]
    deduplicate_distance_crs: Option<String>,
    #[serde(default = "d::yes")]
    deduplicate_clip_to_footprint: bool,
    #[serde(default = "d::clip_method")]
    deduplicate_clip_method: String,
    #[serde(flatten)]
    rest: Map<String, Value>,
}

/// The reference's defaults (ConfigManager.defaults).
mod d {
    use super::*;
    macro_rules! text {
        ($($name:ident = $value:expr),* $(,)?) => { $(pub fn $name() -> String { $value.to_string() })* };
    }
    text!(
        dir_input = "input",
        ext_input = ".shp",
        dir_staged = "staged",
        ext_staged = ".gpkg",
        dir_geotiff = "geotiff",
        dir_web_tiles = "web_tiles",
        ext_web_tiles = ".png",
        dir_footprints = "footprints",
        ext_footprints = ".gpkg",
        dir_3dtiles = "3dtiles",
        filename_staging_summary = "staging_summary.csv",
        filename_rasterization_events = "rasterization_events.csv",
        filename_rasters_summary = "rasters_summary.csv",
        title = "Placeholder Title",
        doi = "doi/placeholder",
        prop_centroid_x = "staging_centroid_x",
        prop_centroid_y = "staging_centroid_y",
        prop_area = "staging_area",
        prop_tile = "staging_tile",
        prop_centroid_tile = "staging_centroid_tile",
        prop_filename = "staging_filename",
        prop_identifier = "staging_identifier",
        prop_centroid_within_tile = "staging_centroid_within_tile",
        prop_duplicated = "staging_duplicated",
        tms_id = "WGS1984Quad",
        clip_method = "intersects",
    );
    pub fn simplify_tolerance() -> Option<f64> {
        Some(0.0001)
    }
    pub fn tile_path_structure() -> Vec<String> {
        ["style", "tms", "z", "x", "y"].iter().map(|s| s.to_string()).collect()
    }
    pub fn z_range() -> [i64; 2] {
        [0, 13]
    }
    pub fn tile_size() -> [i64; 2] {
        [256, 256]
    }
    pub fn overlap_tolerance() -> Option<f64> {
        Some(0.5)
    }
    pub fn yes() -> bool {
        true
    }
    pub fn distance_crs() -> Option<String> {
        Some("EPSG:3857".into())
    }
    pub fn statistics() -> Vec<Statistic> {
        let stat = |name: &str, weight_by, property: &str, resampling: &str, max: Option<f64>| Statistic {
            name: name.into(),
            weight_by,
            property: property.into(),
            aggregation_method: "sum".into(),
            resampling_method: resampling.into(),
            val_range: [Some(0.0), max],
            z_config: BTreeMap::new(),
            palette: default_palette(),
            nodata_val: Some(0.0),
            nodata_color: default_nodata_color(),
            unknown: Map::new(),
        };
        vec![
            stat("polygon_count", WeightBy::Count, "centroids_per_pixel", "sum", None),
            stat("coverage", WeightBy::Area, "area_per_pixel_area", "average", Some(1.0)),
        ]
    }
}

/// Switches of pdgworkflow 1.1 that the packages ignore but configs carry.
const SWITCHES: &[(&str, bool)] = &[
    ("overwrite", false),
    ("enable_raster", true),
    ("enable_web_tiles", true),
    ("enable_stager", true),
    ("enable_3dtiles", true),
    ("enable_raster_parents", true),
    ("enable_web_tiles_parents", true),
    ("generate_wmtsCapabilities", true),
];

/// Per-pixel aggregations the reference accepts (pandas names).
pub const AGGREGATIONS: &[&str] =
    &["sum", "mean", "max", "min", "count", "median", "first", "last", "std", "var", "prod", "nunique", "size"];
/// Resampling methods of the reference (rasterio/GDAL names).
pub const RESAMPLINGS: &[&str] = &[
    "nearest",
    "bilinear",
    "cubic",
    "cubic_spline",
    "lanczos",
    "average",
    "mode",
    "gauss",
    "max",
    "min",
    "med",
    "q1",
    "q3",
    "sum",
    "rms",
];
/// Colormap names a single-string palette may take.
pub const COLORMAPS: &[&str] = &["viridis", "plasma", "inferno", "magma", "cividis", "greys", "gray"];

/// One `KEY=VALUE` override from the command line; VALUE is JSON, or else a plain string.
pub fn parse_override(text: &str) -> Result<(String, Value), ConfigError> {
    let (key, value) = text.split_once('=').ok_or_else(|| ConfigError::Override(text.to_string()))?;
    if key.trim().is_empty() {
        return Err(ConfigError::Override(text.to_string()));
    }
    let value = serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_string()));
    Ok((key.trim().to_string(), value))
}

/// How `--get` reads one config value.
type Getter = fn(&Config) -> String;

impl Config {
    /// The values `--get KEY` prints, as scripts want them: paths absolute as the tools use them,
    /// numbers and names plain, `statistics` as the statistics' names separated by spaces.
    const GETTERS: [(&'static str, Getter); 18] = [
        ("dir_input", |c| c.dir_input.display().to_string()),
        ("ext_input", |c| c.ext_input.clone()),
        ("dir_footprints", |c| c.dir_footprints.display().to_string()),
        ("ext_footprints", |c| c.ext_footprints.clone()),
        ("footprint_index", |c| c.footprint_index.display().to_string()),
        ("dir_staged", |c| c.dir_staged.display().to_string()),
        ("ext_staged", |c| c.ext_staged.clone()),
        ("dir_geotiff", |c| c.dir_geotiff.display().to_string()),
        ("dir_web_tiles", |c| c.dir_web_tiles.display().to_string()),
        ("ext_web_tiles", |c| c.ext_web_tiles.clone()),
        ("filename_staging_summary", |c| c.filename_staging_summary.display().to_string()),
        ("filename_rasters_summary", |c| c.filename_rasters_summary.display().to_string()),
        ("tms_id", |c| c.tms.id.to_string()),
        ("z_min", |c| c.z_min.to_string()),
        ("z_max", |c| c.z_max.to_string()),
        ("statistics", |c| c.statistics.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(" ")),
        ("deduplicate_method", |c| c.deduplicate_method.map_or("none".into(), |m| format!("{m:?}").to_lowercase())),
        ("doi", |c| c.doi.clone()),
    ];

    /// The keys [`Config::get`] answers.
    pub fn gettable() -> impl Iterator<Item = &'static str> {
        Self::GETTERS.iter().map(|(k, _)| *k)
    }

    /// A resolved config value as `--get` prints it (see [`Config::GETTERS`]).
    pub fn get(&self, key: &str) -> Option<String> {
        Self::GETTERS.iter().find(|(k, _)| *k == key).map(|(_, f)| f(self))
    }

    /// Loads a config file (or the defaults when `path` is None) and applies `overrides`.
    /// Paths in the file resolve against its folder; overridden paths against the working dir.
    pub fn load(path: Option<&Path>, overrides: &[(String, Value)]) -> Result<Config, ConfigError> {
        let mut map = match path {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|source| ConfigError::Io { path: p.into(), source })?;
                let value: Value =
                    serde_json::from_str(&text).map_err(|source| ConfigError::Json { path: p.into(), source })?;
                match value {
                    Value::Object(map) => map,
                    _ => {
                        return Err(ConfigError::Key {
                            path: p.into(),
                            key: "(top level)".into(),
                            why: "a config is a JSON object".into(),
                        })
                    }
                }
            }
            None => Map::new(),
        };
        for (key, value) in overrides {
            map.insert(key.clone(), value.clone());
        }
        let base = path.and_then(Path::parent).map(Path::to_path_buf).unwrap_or_default();
        let overridden: Vec<&str> = overrides.iter().map(|(k, _)| k.as_str()).collect();
        Self::from_map(map, path, &base, &overridden)
    }

    fn from_map(
        map: Map<String, Value>,
        path: Option<&Path>,
        base: &Path,
        cli_keys: &[&str],
    ) -> Result<Config, ConfigError> {
        let src = path.map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("(defaults)"));
        let key_err = |key: &str, why: String| ConfigError::Key { path: src.clone(), key: key.to_string(), why };
        let raw: RawConfig = serde_path_to_error::deserialize(Value::Object(map)).map_err(|e| {
            let key = e.path().to_string();
            let why = e.into_inner().to_string();
            key_err(&key, why)
        })?;
        let mut warnings = Vec::new();
        let mut switches: BTreeMap<String, bool> = SWITCHES.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        for (key, value) in &raw.rest {
            match (switches.get_mut(key.as_str()), value) {
                (Some(slot), Value::Bool(b)) => *slot = *b,
                (Some(_), _) => return Err(key_err(key, format!("expected true or false, got {value}"))),
                (None, _) => warnings.push(format!("{}: unknown key `{key}` is ignored", src.display())),
            }
        }
        let resolve = |key: &str, value: &str| {
            let p = Path::new(value);
            if p.is_absolute() || cli_keys.contains(&key) {
                p.to_path_buf()
            } else {
                base.join(p)
            }
        };

        let tms = Tms::by_id(&raw.tms_id).map_err(|e| key_err("tms_id", e.to_string()))?;
        let [z_min, z_max] = raw.z_range;
        if z_min < 0 || z_max < 0 {
            return Err(key_err("z_range", format!("zoom levels are >= 0, got [{z_min}, {z_max}]")));
        }
        if z_min > z_max {
            return Err(key_err("z_range", format!("[min, max] is out of order: [{z_min}, {z_max}]")));
        }
        if z_max > i64::from(tms.max_zoom) {
            return Err(key_err("z_range", format!("{} has no zoom {z_max} (deepest is {})", tms.id, tms.max_zoom)));
        }
        let [rows, cols] = raw.tile_size;
        if !(1..=16384).contains(&rows) || !(1..=16384).contains(&cols) {
            return Err(key_err("tile_size", format!("sizes are 1..16384 pixels, got [{rows}, {cols}]")));
        }
        let tile_paths = TilePaths::new(&raw.tile_path_structure, tms.id)
            .map_err(|e| key_err("tile_path_structure", e.to_string()))?;
        check_statistics(&raw.statistics, &mut warnings).map_err(|(k, why)| key_err(&k, why))?;

        let deduplicate_method = match raw.deduplicate_method.as_deref() {
            None => None,
            Some("neighbor") => Some(DedupMethod::Neighbor),
            Some("footprints") => Some(DedupMethod::Footprints),
            Some(other) => {
                return Err(key_err("deduplicate_method", format!("`{other}` is not `neighbor`, `footprints` or null")))
            }
        };
        let deduplicate_keep_rules = raw
            .deduplicate_keep_rules
            .iter()
            .map(|(property, order)| match order.as_str() {
                "larger" | "smaller" => Ok(KeepRule { property: property.clone(), larger: order == "larger" }),
                _ => Err(key_err("deduplicate_keep_rules", format!("order `{order}` is not `larger` or `smaller`"))),
            })
            .collect::<Result<Vec<_>, _>>()?;
        if deduplicate_method.is_some() && deduplicate_keep_rules.is_empty() {
            return Err(key_err("deduplicate_keep_rules", "deduplication needs at least one keep rule".into()));
        }
        let deduplicate_at = raw.deduplicate_at.unwrap_or_default();
        if let Some(bad) = deduplicate_at.iter().find(|s| !["staging", "raster", "3dtiles"].contains(&s.as_str())) {
            return Err(key_err("deduplicate_at", format!("`{bad}` is not staging, raster or 3dtiles")));
        }
        if raw.deduplicate_clip_method != "intersects" {
            warnings.push(format!(
                "{}: deduplicate_clip_method `{}` is ignored: the clip always uses `intersects`, as the reference does",
                src.display(),
                raw.deduplicate_clip_method
            ));
        }
        if let Some(tol) = raw.simplify_tolerance {
            if !(tol >= 0.0 && tol.is_finite()) {
                return Err(key_err("simplify_tolerance", format!("must be a finite number >= 0 or null, got {tol}")));
            }
        }
        for w in &warnings {
            tracing::warn!("{w}");
        }
        Ok(Config {
            source: path.map(Path::to_path_buf),
            dir_input: resolve("dir_input", &raw.dir_input),
            ext_input: raw.ext_input,
            dir_staged: resolve("dir_staged", &raw.dir_staged),
            ext_staged: raw.ext_staged,
            dir_geotiff: resolve("dir_geotiff", &raw.dir_geotiff),
            dir_web_tiles: resolve("dir_web_tiles", &raw.dir_web_tiles),
            ext_web_tiles: raw.ext_web_tiles,
            dir_footprints: resolve("dir_footprints", &raw.dir_footprints),
            ext_footprints: raw.ext_footprints,
            footprint_index: match &raw.footprint_index {
                Some(p) => resolve("footprint_index", p),
                None => beside(&resolve("dir_staged", &raw.dir_staged), FOOTPRINT_INDEX_SUFFIX),
            },
            dir_3dtiles: resolve("dir_3dtiles", &raw.dir_3dtiles),
            filename_staging_summary: resolve("filename_staging_summary", &raw.filename_staging_summary),
            filename_rasterization_events: resolve("filename_rasterization_events", &raw.filename_rasterization_events),
            filename_rasters_summary: resolve("filename_rasters_summary", &raw.filename_rasters_summary),
            version: raw.version,
            title: raw.title,
            doi: raw.doi,
            props: PropNames {
                centroid_x: raw.prop_centroid_x,
                centroid_y: raw.prop_centroid_y,
                area: raw.prop_area,
                tile: raw.prop_tile,
                centroid_tile: raw.prop_centroid_tile,
                filename: raw.prop_filename,
                identifier: raw.prop_identifier,
                centroid_within_tile: raw.prop_centroid_within_tile,
                duplicated: raw.prop_duplicated,
            },
            input_crs: raw.input_crs,
            simplify_tolerance: raw.simplify_tolerance,
            tms,
            tile_path_structure: raw.tile_path_structure,
            tile_paths,
            z_min: z_min as u8,
            z_max: z_max as u8,
            tile_size: [rows as u32, cols as u32],
            statistics: raw.statistics,
            geometric_error: raw.geometric_error,
            z_coord: raw.z_coord,
            deduplicate_at,
            deduplicate_method,
            deduplicate_keep_rules,
            deduplicate_overlap_tolerance: raw.deduplicate_overlap_tolerance,
            deduplicate_overlap_both: raw.deduplicate_overlap_both,
            deduplicate_centroid_tolerance: raw.deduplicate_centroid_tolerance,
            deduplicate_distance_crs: raw.deduplicate_distance_crs,
            deduplicate_clip_to_footprint: raw.deduplicate_clip_to_footprint,
            switches,
            warnings,
        })
    }

    /// True when flagged duplicates are removed at `step` (`staging`, `raster` or `3dtiles`).
    pub fn drops_duplicates_at(&self, step: &str) -> bool {
        self.deduplicate_method.is_some() && self.deduplicate_at.iter().any(|s| s == step)
    }
}

/// Checks the statistics list; on error returns (key path, reason).
fn check_statistics(stats: &[Statistic], warnings: &mut Vec<String>) -> Result<(), (String, String)> {
    if stats.is_empty() {
        return Err(("statistics".into(), "the list is empty: at least one statistic is needed".into()));
    }
    let mut names = std::collections::HashSet::new();
    for (i, s) in stats.iter().enumerate() {
        let key = |k: &str| format!("statistics[{i}].{k}");
        if s.name.is_empty() || s.name.contains('/') {
            return Err((key("name"), format!("`{}` is not a usable name (empty or with `/`)", s.name)));
        }
        if !names.insert(s.name.as_str()) {
            return Err((key("name"), format!("`{}` is used twice", s.name)));
        }
        let fits = match s.property.as_str() {
            "centroids_per_pixel" => s.weight_by == WeightBy::Count,
            "area_per_pixel_area" | "area_within_pixel" => s.weight_by == WeightBy::Area,
            _ => true,
        };
        if !fits {
            return Err((key("property"), format!("`{}` does not go with weight_by {:?}", s.property, s.weight_by)));
        }
        if !AGGREGATIONS.contains(&s.aggregation_method.as_str()) {
            return Err((
                key("aggregation_method"),
                format!("`{}` is not one of {AGGREGATIONS:?}", s.aggregation_method),
            ));
        }
        if !RESAMPLINGS.contains(&s.resampling_method.as_str()) {
            return Err((key("resampling_method"), format!("`{}` is not one of {RESAMPLINGS:?}", s.resampling_method)));
        }
        if let [Some(lo), Some(hi)] = s.val_range {
            if lo >= hi {
                return Err((key("val_range"), format!("[{lo}, {hi}] is empty or out of order")));
            }
        }
        match &s.palette {
            PaletteSpec::Colours(list) => {
                if list.is_empty() {
                    return Err((key("palette"), "an empty list has no colours".into()));
                }
                for (j, c) in list.iter().enumerate() {
                    colour::parse(c).map_err(|e| (format!("statistics[{i}].palette[{j}]"), e.to_string()))?;
                }
            }
            PaletteSpec::Named(name) => {
                if !crate::palette::is_colormap(name) {
                    colour::parse(name)
                        .map_err(|e| (key("palette"), format!("not a known colormap ({COLORMAPS:?}) and {e}")))?;
                }
            }
        }
        colour::parse(&s.nodata_color).map_err(|e| (key("nodata_color"), e.to_string()))?;
        for k in s.unknown.keys() {
            warnings.push(format!("unknown key `{k}` in statistics[{i}] is ignored"));
        }
    }
    Ok(())
}
