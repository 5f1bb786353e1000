//! Staging rules: the columns staging adds, and how duplicates are found and where dropped.

use serde::Deserialize;

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
    #[serde(rename = "staging")]
    Staging,
    #[serde(rename = "raster")]
    Raster,
    #[serde(rename = "3dtiles")]
    Tiles3d,
}

/// Which value of a keep rule's property wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeepOrder {
    Larger,
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
