//! The PDG config file: every key the reference's ConfigManager knows, with its defaults,
//! relative paths resolved against the config's folder, command-line overrides, and clear
//! errors naming the key. By concern: [`pdg`] (the file as written and its defaults),
//! [`tiling`], [`staging`] (added columns, dedup rules), [`stats`] (raster statistics) and
//! [`styles`] (web tile colours).

pub mod pdg;
pub mod staging;
pub mod stats;
pub mod styles;
pub mod tiling;

pub use staging::{DedupAt, DedupMethod, KeepOrder, KeepRule, PropNames};
pub use stats::{Aggregation, Resampling, StatProperty, Statistic, WeightBy, ZConfig};
pub use styles::{is_colormap, Colormap, PaletteSpec, COLORMAPS};

use crate::tms::{TilePaths, Tms};
use pdg::{RawConfig, SWITCHES};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// A config that cannot be used.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The config file could not be read.
    #[error("cannot read config {path}: {source}")]
    Io {
        /// The config file.
        path: PathBuf,
        /// Why reading it failed.
        source: std::io::Error,
    },
    /// The config file is not valid JSON.
    #[error("config {path} is not valid JSON: {source}")]
    Json {
        /// The config file.
        path: PathBuf,
        /// Where and why parsing failed.
        source: serde_json::Error,
    },
    /// A key's value cannot be used (wrong type, out of range, unknown choice, missing rule).
    #[error("config {path}: key `{key}`: {why}")]
    Key {
        /// The config file, or `(defaults)` when there is none.
        path: PathBuf,
        /// The key as a path into the config (e.g. `statistics[0].palette`), or `(top level)`.
        key: String,
        /// What is wrong with the value.
        why: String,
    },
    /// A command-line override that is not `KEY=VALUE` (holds the text as given).
    #[error("override `{0}` is not KEY=VALUE")]
    Override(String),
}

/// A loaded, checked config. Paths are absolute or relative to the working directory.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it came from, if any.
    pub source: Option<PathBuf>,
    /// Folder searched (recursively) for input files (`dir_input`, default `input`); staging_filename
    /// and footprint paths are taken relative to it.
    pub dir_input: PathBuf,
    /// Suffix that marks an input file under dir_input (`ext_input`, default `.shp`).
    pub ext_input: String,
    /// Folder of the staged GeoPackage tiles, one per z-max tile (`dir_staged`, default `staged`).
    pub dir_staged: PathBuf,
    /// File extension of the staged tiles (`ext_staged`, default `.gpkg`).
    pub ext_staged: String,
    /// Folder of the GeoTIFF tiles of every zoom level (`dir_geotiff`, default `geotiff`).
    pub dir_geotiff: PathBuf,
    /// Folder of the PNG web tiles, one subfolder per statistic (`dir_web_tiles`, default `web_tiles`).
    pub dir_web_tiles: PathBuf,
    /// File extension of the web tiles (`ext_web_tiles`, default `.png`).
    pub ext_web_tiles: String,
    /// Folder of the footprint files: an input file's footprint has its path under dir_input, with
    /// ext_footprints for its extension (`dir_footprints`, default `footprints`).
    pub dir_footprints: PathBuf,
    /// Extension of footprint files, in place of the input file's (`ext_footprints`, default `.gpkg`).
    pub ext_footprints: String,
    /// The footprint index file (every footprint with its bounding box), built once and read by
    /// every staging process; default beside dir_staged, `STAGED.footprint-index.sqlite`.
    pub footprint_index: PathBuf,
    /// Folder for 3D tiles (`dir_3dtiles`, default `3dtiles`): iwp-3dtiles writes its contents and tilesets there.
    pub dir_3dtiles: PathBuf,
    /// Folder for area extracts (`dir_extracts`, default `extracts`): iwp-extract's COGs and GeoPackages.
    pub dir_extracts: PathBuf,
    /// Folder for per-level mosaics (`dir_mosaics`, default `mosaics`): iwp-mosaic's VRTs and COGs.
    pub dir_mosaics: PathBuf,
    /// Folder of the STAC catalog of a run (`dir_catalog`, default `stac`): iwp-catalog writes it.
    pub dir_catalog: PathBuf,
    /// The staging summary CSV, one row per tile write that added rows (`filename_staging_summary`,
    /// default `staging_summary.csv`).
    pub filename_staging_summary: PathBuf,
    /// The reference's rasterization event log (`filename_rasterization_events`, default
    /// `rasterization_events.csv`); read, but no tool writes it.
    pub filename_rasterization_events: PathBuf,
    /// The rasters summary CSV, one row per band of each GeoTIFF written (`filename_rasters_summary`,
    /// default `rasters_summary.csv`).
    pub filename_rasters_summary: PathBuf,
    /// The `version` key (used by the reference's 3D tiles only); read, but unused.
    pub version: Option<String>,
    /// The feature table (layer) name of staged GeoPackages (`layer_name`, default `iwp`).
    pub layer_name: String,
    /// Title of the web tiles' service and map page (`title`; None: from the layer names, see
    /// [`Config::service_title`]).
    pub title: Option<String>,
    /// The dataset's DOI, put between the base URL and the layers in WMTS URLs when configured
    /// (`doi`, default none).
    pub doi: Option<String>,
    /// What the web tiles show, for the capabilities' abstract (`abstract`, default none: from
    /// the layer names).
    pub summary: Option<String>,
    /// Keywords of the capabilities (`keywords`; None: the layer names).
    pub keywords: Option<Vec<String>>,
    /// Who to credit, for the capabilities' provider and the map page (`attribution`, default
    /// none).
    pub attribution: Option<String>,
    /// Names of the columns staging adds (the `prop_*` keys).
    pub props: PropNames,
    /// A CRS definition (e.g. `EPSG:3413`) used for every input file instead of its own (`input_crs`;
    /// None: each file's own CRS).
    pub input_crs: Option<String>,
    /// Simplification tolerance, in the input CRS's units (`simplify_tolerance`, default 0.0001;
    /// None: no simplification).
    pub simplify_tolerance: Option<f64>,
    /// The tile matrix set (`tms_id`, default WGS1984Quad).
    pub tms: &'static Tms,
    /// Order of the parts of a tile's path (`tile_path_structure`, default style, tms, z, x, y).
    pub tile_path_structure: Vec<String>,
    /// How tile files are laid out, from tile_path_structure.
    pub tile_paths: TilePaths,
    /// The lowest zoom level, down to which the raster pyramid is built (`z_range[0]`, default 0).
    pub z_min: u8,
    /// The deepest zoom level, at which polygons are staged and rasterized (`z_range[1]`, default 13).
    pub z_max: u8,
    /// Rows (height) and columns (width) of a raster tile, as the reference reads `tile_size`.
    pub tile_size: [u32; 2],
    /// The statistics: one GeoTIFF band and one web-tile layer each, in list order (`statistics`).
    pub statistics: Vec<Statistic>,
    /// The `geometricError` key (used by the reference's 3D tiles only); read, but unused.
    pub geometric_error: Option<f64>,
    /// The `z_coord` key (used by the reference's 3D tiles only, default 0); read, but unused.
    pub z_coord: f64,
    /// Steps at which flagged duplicates are dropped (`deduplicate_at`, default none); only `raster`
    /// is acted on (by iwp-raster).
    pub deduplicate_at: Vec<DedupAt>,
    /// How duplicates are flagged (`deduplicate_method`; None: no dedup).
    pub deduplicate_method: Option<DedupMethod>,
    /// Rules ranking which of two duplicates is kept, the first rule first (`deduplicate_keep_rules`;
    /// at least one when deduplicate_method is set).
    pub deduplicate_keep_rules: Vec<KeepRule>,
    /// Neighbour dedup: share of each polygon's area the overlap must exceed, 0..1
    /// (`deduplicate_overlap_tolerance`, default 0.5; None: any overlap with area).
    pub deduplicate_overlap_tolerance: Option<f64>,
    /// Neighbour dedup: true when both polygons' shares must exceed the tolerance, false when either's
    /// may (`deduplicate_overlap_both`, default true).
    pub deduplicate_overlap_both: bool,
    /// Neighbour dedup: largest distance between the two centroids, in deduplicate_distance_crs units
    /// (`deduplicate_centroid_tolerance`; None: no distance test).
    pub deduplicate_centroid_tolerance: Option<f64>,
    /// Neighbour dedup: CRS in which centroid distances are measured (`deduplicate_distance_crs`,
    /// default EPSG:3857; None: the TMS CRS the centroids are stored in).
    pub deduplicate_distance_crs: Option<String>,
    /// Footprint dedup: flag polygons that miss their own file's footprint
    /// (`deduplicate_clip_to_footprint`, default true).
    pub deduplicate_clip_to_footprint: bool,
    /// Workflow switches of pdgworkflow (overwrite, enable_*, generate_wmtsCapabilities).
    pub switches: BTreeMap<String, bool>,
    /// Warnings found while loading (unknown keys); also logged.
    pub warnings: Vec<String>,
}

/// Added to dir_staged's name for the footprint index's default path (beside dir_staged, so that
/// nothing but tiles is inside it).
pub const FOOTPRINT_INDEX_SUFFIX: &str = ".footprint-index.sqlite";

/// A file beside folder `dir`: its name with `suffix` added (`staged` -> `staged.SUFFIX`).
fn beside(dir: &Path, suffix: &str) -> PathBuf {
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "staged".into());
    dir.with_file_name(format!("{name}{suffix}"))
}

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
    const GETTERS: [(&'static str, Getter); 23] = [
        ("dir_input", |c| c.dir_input.display().to_string()),
        ("ext_input", |c| c.ext_input.clone()),
        ("dir_footprints", |c| c.dir_footprints.display().to_string()),
        ("ext_footprints", |c| c.ext_footprints.clone()),
        ("footprint_index", |c| c.footprint_index.display().to_string()),
        ("dir_staged", |c| c.dir_staged.display().to_string()),
        ("ext_staged", |c| c.ext_staged.clone()),
        ("dir_geotiff", |c| c.dir_geotiff.display().to_string()),
        ("dir_web_tiles", |c| c.dir_web_tiles.display().to_string()),
        ("dir_3dtiles", |c| c.dir_3dtiles.display().to_string()),
        ("dir_extracts", |c| c.dir_extracts.display().to_string()),
        ("dir_mosaics", |c| c.dir_mosaics.display().to_string()),
        ("dir_catalog", |c| c.dir_catalog.display().to_string()),
        ("ext_web_tiles", |c| c.ext_web_tiles.clone()),
        ("filename_staging_summary", |c| c.filename_staging_summary.display().to_string()),
        ("filename_rasters_summary", |c| c.filename_rasters_summary.display().to_string()),
        ("tms_id", |c| c.tms.id.to_string()),
        ("z_min", |c| c.z_min.to_string()),
        ("z_max", |c| c.z_max.to_string()),
        ("statistics", |c| c.layer_names().join(" ")),
        ("deduplicate_method", |c| c.deduplicate_method.map_or("none".into(), |m| format!("{m:?}").to_lowercase())),
        ("doi", |c| c.doi.clone().unwrap_or_default()),
        ("title", |c| c.service_title()),
    ];

    /// The keys [`Config::get`] answers.
    pub fn gettable() -> impl Iterator<Item = &'static str> {
        Self::GETTERS.iter().map(|(k, _)| *k)
    }

    /// The service's title: `title`, else "Ice-wedge polygons: " and the layer names.
    pub fn service_title(&self) -> String {
        self.title.clone().unwrap_or_else(|| format!("Ice-wedge polygons: {}", self.layer_names().join(", ")))
    }

    /// The web-tile layers' names: the statistics', in order.
    pub fn layer_names(&self) -> Vec<&str> {
        self.statistics.iter().map(|s| s.name.as_str()).collect()
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

        let tiling = tiling::tiling(&raw.tms_id, raw.z_range, raw.tile_size, &raw.tile_path_structure)
            .map_err(|(k, why)| key_err(&k, why))?;
        stats::check(&raw.statistics, &mut warnings).map_err(|(k, why)| key_err(&k, why))?;
        let deduplicate_method = raw.deduplicate_method;
        let deduplicate_keep_rules: Vec<KeepRule> =
            raw.deduplicate_keep_rules.iter().map(|(property, order)| KeepRule::new(property, *order)).collect();
        if deduplicate_method.is_some() && deduplicate_keep_rules.is_empty() {
            return Err(key_err("deduplicate_keep_rules", "deduplication needs at least one keep rule".into()));
        }
        let deduplicate_at = raw.deduplicate_at.unwrap_or_default();
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
            dir_extracts: resolve("dir_extracts", &raw.dir_extracts),
            dir_mosaics: resolve("dir_mosaics", &raw.dir_mosaics),
            dir_catalog: resolve("dir_catalog", &raw.dir_catalog),
            filename_staging_summary: resolve("filename_staging_summary", &raw.filename_staging_summary),
            filename_rasterization_events: resolve("filename_rasterization_events", &raw.filename_rasterization_events),
            filename_rasters_summary: resolve("filename_rasters_summary", &raw.filename_rasters_summary),
            version: raw.version,
            layer_name: raw.layer_name,
            title: raw.title,
            doi: raw.doi.filter(|d| !d.trim_matches('/').is_empty()),
            summary: raw.summary,
            keywords: raw.keywords,
            attribution: raw.attribution,
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
            tms: tiling.tms,
            tile_path_structure: raw.tile_path_structure,
            tile_paths: tiling.tile_paths,
            z_min: tiling.z_min,
            z_max: tiling.z_max,
            tile_size: tiling.tile_size,
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

    /// True when flagged duplicates are removed at `step`.
    pub fn drops_duplicates_at(&self, step: DedupAt) -> bool {
        self.deduplicate_method.is_some() && self.deduplicate_at.contains(&step)
    }
}
