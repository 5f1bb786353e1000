//! The PDG config file as written: every key the reference's ConfigManager knows, with its
//! defaults, before paths are resolved and values checked (see [`super::Config::load`]).

use super::staging::{DedupAt, DedupMethod, KeepOrder};
use super::stats::Statistic;
use serde::Deserialize;
use serde_json::{Map, Value};

/// The config as written, with the reference's defaults; checked and resolved into [`Config`].
#[derive(Debug, Deserialize)]
pub(super) struct RawConfig {
    #[serde(default = "d::dir_input")]
    pub(super) dir_input: String,
    #[serde(default = "d::ext_input")]
    pub(super) ext_input: String,
    #[serde(default = "d::dir_staged")]
    pub(super) dir_staged: String,
    #[serde(default = "d::ext_staged")]
    pub(super) ext_staged: String,
    #[serde(default = "d::dir_geotiff")]
    pub(super) dir_geotiff: String,
    #[serde(default = "d::dir_web_tiles")]
    pub(super) dir_web_tiles: String,
    #[serde(default = "d::ext_web_tiles")]
    pub(super) ext_web_tiles: String,
    #[serde(default = "d::dir_footprints")]
    pub(super) dir_footprints: String,
    #[serde(default = "d::ext_footprints")]
    pub(super) ext_footprints: String,
    #[serde(default)]
    pub(super) footprint_index: Option<String>,
    #[serde(default = "d::dir_3dtiles")]
    pub(super) dir_3dtiles: String,
    #[serde(default = "d::dir_extracts")]
    pub(super) dir_extracts: String,
    #[serde(default = "d::dir_mosaics")]
    pub(super) dir_mosaics: String,
    #[serde(default = "d::dir_catalog")]
    pub(super) dir_catalog: String,
    #[serde(default = "d::filename_staging_summary")]
    pub(super) filename_staging_summary: String,
    #[serde(default = "d::filename_rasterization_events")]
    pub(super) filename_rasterization_events: String,
    #[serde(default = "d::filename_rasters_summary")]
    pub(super) filename_rasters_summary: String,
    #[serde(default)]
    #[allow(dead_code)]
    pub(super) filename_config: Option<String>,
    #[serde(default)]
    pub(super) version: Option<String>,
    #[serde(default = "d::layer_name")]
    pub(super) layer_name: String,
    #[serde(default)]
    pub(super) title: Option<String>,
    #[serde(default)]
    pub(super) doi: Option<String>,
    #[serde(default, rename = "abstract")]
    pub(super) summary: Option<String>,
    #[serde(default)]
    pub(super) keywords: Option<Vec<String>>,
    #[serde(default)]
    pub(super) attribution: Option<String>,
    #[serde(default = "d::prop_centroid_x")]
    pub(super) prop_centroid_x: String,
    #[serde(default = "d::prop_centroid_y")]
    pub(super) prop_centroid_y: String,
    #[serde(default = "d::prop_area")]
    pub(super) prop_area: String,
    #[serde(default = "d::prop_tile")]
    pub(super) prop_tile: String,
    #[serde(default = "d::prop_centroid_tile")]
    pub(super) prop_centroid_tile: String,
    #[serde(default = "d::prop_filename")]
    pub(super) prop_filename: String,
    #[serde(default = "d::prop_identifier")]
    pub(super) prop_identifier: String,
    #[serde(default = "d::prop_centroid_within_tile")]
    pub(super) prop_centroid_within_tile: String,
    #[serde(default = "d::prop_duplicated")]
    pub(super) prop_duplicated: String,
    #[serde(default)]
    pub(super) input_crs: Option<String>,
    #[serde(default = "d::simplify_tolerance")]
    pub(super) simplify_tolerance: Option<f64>,
    #[serde(default = "d::tms_id")]
    pub(super) tms_id: String,
    #[serde(default = "d::tile_path_structure")]
    pub(super) tile_path_structure: Vec<String>,
    #[serde(default = "d::z_range")]
    pub(super) z_range: [i64; 2],
    #[serde(default = "d::tile_size")]
    pub(super) tile_size: [i64; 2],
    #[serde(default = "d::statistics")]
    pub(super) statistics: Vec<Statistic>,
    #[serde(default, rename = "geometricError")]
    pub(super) geometric_error: Option<f64>,
    #[serde(default)]
    pub(super) z_coord: f64,
    #[serde(default)]
    pub(super) deduplicate_at: Option<Vec<DedupAt>>,
    #[serde(default)]
    pub(super) deduplicate_method: Option<DedupMethod>,
    #[serde(default)]
    pub(super) deduplicate_keep_rules: Vec<(String, KeepOrder)>,
    #[serde(default = "d::overlap_tolerance")]
    pub(super) deduplicate_overlap_tolerance: Option<f64>,
    #[serde(default = "d::yes")]
    pub(super) deduplicate_overlap_both: bool,
    #[serde(default)]
    pub(super) deduplicate_centroid_tolerance: Option<f64>,
    #[serde(default = "d::distance_crs")]
    pub(super) deduplicate_distance_crs: Option<String>,
    #[serde(default = "d::yes")]
    pub(super) deduplicate_clip_to_footprint: bool,
    #[serde(default = "d::clip_method")]
    pub(super) deduplicate_clip_method: String,
    #[serde(flatten)]
    pub(super) rest: Map<String, Value>,
}

/// The reference's defaults (ConfigManager.defaults).
pub(super) mod d {
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
        dir_extracts = "extracts",
        dir_mosaics = "mosaics",
        dir_catalog = "stac",
        filename_staging_summary = "staging_summary.csv",
        filename_rasterization_events = "rasterization_events.csv",
        filename_rasters_summary = "rasters_summary.csv",
        layer_name = "iwp",
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
        crate::config::stats::defaults()
    }
}

/// Switches of pdgworkflow 1.1 that the packages ignore but configs carry.
pub(super) const SWITCHES: &[(&str, bool)] = &[
    ("overwrite", false),
    ("enable_raster", true),
    ("enable_web_tiles", true),
    ("enable_stager", true),
    ("enable_3dtiles", true),
    ("enable_raster_parents", true),
    ("enable_web_tiles_parents", true),
    ("generate_wmtsCapabilities", true),
];
