//! Raster statistics: what each GeoTIFF band counts or measures, how polygons' values are
//! aggregated into a pixel, and how lower levels are made from their children.

use super::styles::PaletteSpec;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// How a statistic assigns polygons to pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WeightBy {
    /// By the pixel that holds the polygon's centroid.
    Count,
    /// By the exact area of the polygon inside each pixel.
    Area,
}

/// What a statistic measures: one of the reference's built-in properties, or an attribute
/// column of the staged tiles aggregated per pixel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatProperty {
    /// Polygons whose centroid lies in the pixel (`centroids_per_pixel`).
    CentroidsPerPixel,
    /// The polygons' area inside the pixel over the pixel's area (`area_per_pixel_area`).
    AreaPerPixelArea,
    /// The polygons' area inside the pixel, in TMS units (`area_within_pixel`).
    AreaWithinPixel,
    /// An attribute column, aggregated over the polygons of each pixel.
    Attribute(String),
}

impl StatProperty {
    /// The name the config writes.
    pub fn as_str(&self) -> &str {
        match self {
            StatProperty::CentroidsPerPixel => "centroids_per_pixel",
            StatProperty::AreaPerPixelArea => "area_per_pixel_area",
            StatProperty::AreaWithinPixel => "area_within_pixel",
            StatProperty::Attribute(column) => column,
        }
    }

    /// The attribute column it reads, if it is not a built-in property.
    pub fn column(&self) -> Option<&str> {
        match self {
            StatProperty::Attribute(column) => Some(column),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for StatProperty {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match String::deserialize(d)?.as_str() {
            "centroids_per_pixel" => StatProperty::CentroidsPerPixel,
            "area_per_pixel_area" => StatProperty::AreaPerPixelArea,
            "area_within_pixel" => StatProperty::AreaWithinPixel,
            column => StatProperty::Attribute(column.to_string()),
        })
    }
}

/// How the polygons of a pixel are aggregated (the reference's pandas names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregation {
    /// Sum of the values (`sum`).
    Sum,
    /// Mean of the values (`mean`).
    Mean,
    /// Largest value (`max`).
    Max,
    /// Smallest value (`min`).
    Min,
    /// Number of non-null values (`count`).
    Count,
    /// Median of the values; the mean of the two middle ones for an even count (`median`).
    Median,
    /// The first non-null value, rows in staging_identifier order (`first`).
    First,
    /// The last non-null value, rows in staging_identifier order (`last`).
    Last,
    /// Sample standard deviation, ddof 1; 0 for fewer than two values (`std`).
    Std,
    /// Sample variance, ddof 1; 0 for fewer than two values (`var`).
    Var,
    /// Product of the values (`prod`).
    Prod,
    /// Number of distinct values (`nunique`).
    Nunique,
    /// Number of rows, nulls included (`size`).
    Size,
}

/// How a parent pixel is made from the 2x2 child pixels under it (the reference's rasterio
/// names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Resampling {
    /// Nearest neighbour as GDAL picks it at 2:1: the block's bottom-right pixel (`nearest`).
    Nearest,
    /// Bilinear, by GDAL's warper on the children's mosaic (`bilinear`).
    Bilinear,
    /// Cubic, by GDAL's warper on the children's mosaic (`cubic`).
    Cubic,
    /// Cubic spline, by GDAL's warper on the children's mosaic (`cubic_spline`).
    CubicSpline,
    /// Lanczos, by GDAL's warper on the children's mosaic (`lanczos`).
    Lanczos,
    /// Mean of the four child pixels (`average`).
    Average,
    /// Most frequent of the four values; ties go to the first seen, top left first (`mode`).
    Mode,
    /// Gaussian (`gauss`): GDAL's warper has none, so a run that builds lower levels refuses it.
    Gauss,
    /// Largest of the four values (`max`).
    Max,
    /// Smallest of the four values (`min`).
    Min,
    /// Median, by GDAL's warper on the children's mosaic (`med`).
    Med,
    /// First quartile, by GDAL's warper on the children's mosaic (`q1`).
    Q1,
    /// Third quartile, by GDAL's warper on the children's mosaic (`q3`).
    Q3,
    /// Sum of the four values (`sum`).
    Sum,
    /// Root mean square of the four values (`rms`).
    Rms,
}

impl Resampling {
    /// The name the config writes.
    pub fn as_str(self) -> &'static str {
        match self {
            Resampling::Nearest => "nearest",
            Resampling::Bilinear => "bilinear",
            Resampling::Cubic => "cubic",
            Resampling::CubicSpline => "cubic_spline",
            Resampling::Lanczos => "lanczos",
            Resampling::Average => "average",
            Resampling::Mode => "mode",
            Resampling::Gauss => "gauss",
            Resampling::Max => "max",
            Resampling::Min => "min",
            Resampling::Med => "med",
            Resampling::Q1 => "q1",
            Resampling::Q3 => "q3",
            Resampling::Sum => "sum",
            Resampling::Rms => "rms",
        }
    }
}

/// Per-zoom overrides of a statistic.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ZConfig {
    /// The value range of the level's colours (null ends: the level's min or max).
    #[serde(default = "unset_range")]
    pub val_range: [Option<f64>; 2],
}

/// One statistic: a GeoTIFF band and a web-tile layer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Statistic {
    /// The band's and layer's name.
    pub name: String,
    /// How polygons reach pixels.
    pub weight_by: WeightBy,
    /// What is measured.
    pub property: StatProperty,
    /// How a pixel's polygons are aggregated.
    pub aggregation_method: Aggregation,
    /// How parents are made from children.
    pub resampling_method: Resampling,
    /// The value range of the colours (null ends: each level's min or max).
    #[serde(default = "unset_range")]
    pub val_range: [Option<f64>; 2],
    /// Per-zoom overrides, by zoom level as text.
    #[serde(default)]
    pub z_config: BTreeMap<String, ZConfig>,
    /// The colours of the web tiles.
    #[serde(default = "super::styles::default_palette")]
    pub palette: PaletteSpec,
    /// The value that means no data (transparent in web tiles).
    #[serde(default)]
    pub nodata_val: Option<f64>,
    /// The colour of no data.
    #[serde(default = "super::styles::default_nodata_color")]
    pub nodata_color: String,
    /// Keys the reference does not know; warned about.
    #[serde(flatten)]
    pub unknown: Map<String, Value>,
}

fn unset_range() -> [Option<f64>; 2] {
    [None, None]
}

/// The reference's two default statistics (ConfigManager.defaults).
pub fn defaults() -> Vec<Statistic> {
    let stat = |name: &str, weight_by, property, resampling, max: Option<f64>| Statistic {
        name: name.into(),
        weight_by,
        property,
        aggregation_method: Aggregation::Sum,
        resampling_method: resampling,
        val_range: [Some(0.0), max],
        z_config: BTreeMap::new(),
        palette: super::styles::default_palette(),
        nodata_val: Some(0.0),
        nodata_color: super::styles::default_nodata_color(),
        unknown: Map::new(),
    };
    vec![
        stat("polygon_count", WeightBy::Count, StatProperty::CentroidsPerPixel, Resampling::Sum, None),
        stat("coverage", WeightBy::Area, StatProperty::AreaPerPixelArea, Resampling::Average, Some(1.0)),
    ]
}

/// Checks the statistics list (names, properties against weight_by, ranges, colours); on error
/// returns (key path, reason). Unknown keys are added to `warnings`.
pub fn check(stats: &[Statistic], warnings: &mut Vec<String>) -> Result<(), (String, String)> {
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
        let fits = match s.property {
            StatProperty::CentroidsPerPixel => s.weight_by == WeightBy::Count,
            StatProperty::AreaPerPixelArea | StatProperty::AreaWithinPixel => s.weight_by == WeightBy::Area,
            StatProperty::Attribute(_) => true,
        };
        if !fits {
            return Err((
                key("property"),
                format!("`{}` does not go with weight_by {:?}", s.property.as_str(), s.weight_by),
            ));
        }
        if let [Some(lo), Some(hi)] = s.val_range {
            if lo >= hi {
                return Err((key("val_range"), format!("[{lo}, {hi}] is empty or out of order")));
            }
        }
        super::styles::check_palette(&s.palette, i)?;
        crate::colour::parse(&s.nodata_color).map_err(|e| (key("nodata_color"), e.to_string()))?;
        for k in s.unknown.keys() {
            warnings.push(format!("unknown key `{k}` in statistics[{i}] is ignored"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_parse_by_their_config_names_and_unknown_ones_list_the_allowed() {
        let r: Resampling = serde_json::from_value("cubic_spline".into()).unwrap();
        assert_eq!((r, r.as_str()), (Resampling::CubicSpline, "cubic_spline"));
        let a: Aggregation = serde_json::from_value("nunique".into()).unwrap();
        assert_eq!(a, Aggregation::Nunique);
        let e = serde_json::from_value::<Resampling>("cubicc".into()).unwrap_err().to_string();
        assert!(e.contains("unknown variant `cubicc`") && e.contains("`cubic_spline`") && e.contains("`rms`"), "{e}");
        let p: StatProperty = serde_json::from_value("Area".into()).unwrap();
        assert_eq!((p.column(), p.as_str()), (Some("Area"), "Area"));
        let p: StatProperty = serde_json::from_value("area_within_pixel".into()).unwrap();
        assert_eq!((p.column(), p.as_str()), (None, "area_within_pixel"));
    }
}
