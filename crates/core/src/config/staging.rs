//! Staging rules: the columns staging adds, and how duplicates are found and where dropped.

use serde::Deserialize;

/// Names of the columns staging adds (the reference's `prop_*` keys).
#[derive(Debug, Clone, PartialEq)]
pub struct PropNames {
    /// Staged centroid x, planar in the TMS CRS (`prop_centroid_x`, default `staging_centroid_x`).
    pub centroid_x: String,
    /// Staged centroid y, planar in the TMS CRS (`prop_centroid_y`, default `staging_centroid_y`).
    pub centroid_y: String,
    /// Polygon area, planar in the TMS CRS's units (`prop_area`, default `staging_area`).
    pub area: String,
    /// The z-max tile the row is stored in (`prop_tile`, default `staging_tile`).
    pub tile: String,
    /// The z-max tile holding the polygon's centroid (`prop_centroid_tile`, default
    /// `staging_centroid_tile`).
    pub centroid_tile: String,
    /// The input file, relative to dir_input (`prop_filename`, default `staging_filename`).
    pub filename: String,
    /// The row's deterministic UUID, from file, feature and part (`prop_identifier`, default
    /// `staging_identifier`).
    pub identifier: String,
    /// True in the tile that holds the centroid (`prop_centroid_within_tile`, default
    /// `staging_centroid_within_tile`).
    pub centroid_within_tile: String,
    /// The dedup flag, true for a duplicate; written only with a dedup method (`prop_duplicated`,
    /// default `staging_duplicated`).
    pub duplicated: String,
}

/// Deduplication methods of the reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DedupMethod {
    /// Overlapping polygons of different files in a tile (`neighbor`).
    Neighbor,
    /// Polygons outside their file's footprint or in the overlap with a preferred file's.
    Footprints,
}

/// Where flagged duplicates are dropped (`deduplicate_at`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum DedupAt {
    /// While staging (`staging`); accepted, but staging keeps flagged rows (iwp-raster drops them).
    #[serde(rename = "staging")]
    Staging,
    /// When rasterizing: iwp-raster leaves them out of every statistic (`raster`).
    #[serde(rename = "raster")]
    Raster,
    /// In 3D tiles (`3dtiles`): iwp-3dtiles leaves flagged rows out of its contents.
    #[serde(rename = "3dtiles")]
    Tiles3d,
    /// In area extracts (`extract`): iwp-extract leaves flagged rows out of its GeoPackages
    /// (otherwise it keeps them, flagged).
    #[serde(rename = "extract")]
    Extract,
}

/// Which value of a keep rule's property wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeepOrder {
    /// The larger value is kept (`larger`).
    Larger,
    /// The smaller value is kept (`smaller`).
    Smaller,
}

/// One keep rule: prefer rows with the larger (or smaller) value of `property`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeepRule {
    /// The attribute compared (of the footprints, or of the rows for neighbour dedup).
    pub property: String,
    /// True when the larger value is preferred.
    pub larger: bool,
}

impl KeepRule {
    /// A rule from the config's `[property, "larger"|"smaller"]`.
    pub fn new(property: &str, order: KeepOrder) -> KeepRule {
        KeepRule { property: property.to_string(), larger: order == KeepOrder::Larger }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dedup_choices_by_their_config_names() {
        let at: Vec<DedupAt> = serde_json::from_value(serde_json::json!(["staging", "raster", "3dtiles"])).unwrap();
        assert_eq!(at, [DedupAt::Staging, DedupAt::Raster, DedupAt::Tiles3d]);
        let e = serde_json::from_value::<DedupMethod>("neighbors".into()).unwrap_err().to_string();
        assert!(e.contains("`neighbor`") && e.contains("`footprints`"), "{e}");
        let rule = KeepRule::new("Date", serde_json::from_value("smaller".into()).unwrap());
        assert!(!rule.larger);
    }
}
