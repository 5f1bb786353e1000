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
    #[error("cannot read config {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("config {path} is not valid JSON: {source}")]
    Json { path: PathBuf, source: serde_json::Error },
    #[error("config {path}: key `{key}`: {why}")]
    Key { path: PathBuf, key: String, why: String },
    #[error("override `{0}` is not KEY=VALUE")]
    Override(String),
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
    pub deduplicate_at: Vec<DedupAt>,
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
