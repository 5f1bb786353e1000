//! Footprint deduplication, decided per input file against all footprints, so the outcome does
//! not depend on which process or node staged which file.
//!
//! A polygon is flagged when it does not meet its own file's footprint (clip_to_footprint), or
//! when it meets the overlap of its footprint with the footprint of a file ranked higher by
//! deduplicate_keep_rules (ties broken by file name).

use crate::config::{Config, KeepRule};
use crate::geom::Polygon;
use crate::vector;
use anyhow::{anyhow, bail, Context};
use gdal::vector::{FieldValue, LayerAccess};
use geo::{BooleanOps, BoundingRect, Intersects, MultiPolygon};
use rayon::prelude::*;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// A keep-rule value of a footprint.
#[derive(Debug, Clone, PartialEq)]
pub enum RankValue {
    Number(f64),
    Text(String),
}

/// One footprint: its file's name, geometry (in `srs_wkt`), and keep-rule values.
#[derive(Debug, Clone)]
pub struct Footprint {
    pub filename: String,
    pub path: PathBuf,
    pub shape: MultiPolygon<f64>,
    pub srs_wkt: String,
    pub rank: Vec<RankValue>,
}

/// The footprint path of an input file (the reference's rule): same path relative to
/// dir_input, extension replaced by ext_footprints, under dir_footprints.
pub fn footprint_path(config: &Config, input: &Path) -> PathBuf {
    let rel = input.strip_prefix(&config.dir_input).unwrap_or(input);
    let mut rel = rel.to_path_buf();
    rel.set_extension("");
    let name = format!("{}{}", rel.display(), config.ext_footprints);
    config.dir_footprints.join(name)
}

/// The input file's name as staging_filename holds it: its path relative to dir_input.
pub fn staging_filename(config: &Config, input: &Path) -> String {
    input.strip_prefix(&config.dir_input).unwrap_or(input).to_string_lossy().trim_matches('/').to_string()
}

/// Reads one footprint file: the union of its polygons and the keep-rule values of its first feature.
pub fn read_footprint(path: &Path, filename: &str, rules: &[KeepRule]) -> anyhow::Result<Footprint> {
    let ds = crate::vector::open(path).context("footprint")?;
    let mut layer = ds.layer(0).with_context(|| format!("footprint {} has no layer", path.display()))?;
    let srs_wkt = layer.spatial_ref().map(|s| s.to_wkt()).transpose()?.unwrap_or_default();
    let mut shape: Vec<geo::Polygon<f64>> = Vec::new();
    let mut rank = None;
    for f in layer.features() {
        if rank.is_none() {
            let values = rules
                .iter()
                .map(|r| {
                    let idx = f.field_index(&r.property).map_err(|_| {
                        anyhow!("footprint {} has no field `{}` for deduplicate_keep_rules", path.display(), r.property)
                    })?;
                    Ok(rank_value(f.field(idx)?))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            rank = Some(values);
        }
        if let Some(g) = f.geometry() {
            shape.extend(crate::geom::polygons_of(g).iter().map(Polygon::to_geo));
        }
    }
    let Some(rank) = rank else { bail!("footprint {} has no features", path.display()) };
    Ok(Footprint {
        filename: filename.to_string(),
        path: path.to_path_buf(),
        shape: MultiPolygon(shape),
        srs_wkt,
        rank,
    })
}

/// Orders footprints by the keep rules: Less means `a` is preferred (kept) over `b`.
pub fn compare(a: &Footprint, b: &Footprint, rules: &[KeepRule]) -> Ordering {
    compare_ranks(&a.rank, &b.rank, rules).then_with(|| a.filename.cmp(&b.filename))
}

/// Orders two rows' keep-rule values: Less means `a` is preferred (kept) over `b`.
pub fn compare_ranks(a: &[RankValue], b: &[RankValue], rules: &[KeepRule]) -> Ordering {
    for (k, rule) in rules.iter().enumerate() {
        let ord = match (&a[k], &b[k]) {
            (RankValue::Number(x), RankValue::Number(y)) => x.total_cmp(y),
            (RankValue::Text(x), RankValue::Text(y)) => x.cmp(y),
            (RankValue::Number(_), RankValue::Text(_)) => Ordering::Less,
            (RankValue::Text(_), RankValue::Number(_)) => Ordering::Greater,
        };
        let ord = if rule.larger { ord.reverse() } else { ord };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    Ordering::Equal
}

/// A keep-rule value of an attribute (numbers compare as numbers, the rest as text).
pub fn rank_value(value: Option<FieldValue>) -> RankValue {
    match value {
        Some(FieldValue::IntegerValue(v)) => RankValue::Number(f64::from(v)),
        Some(FieldValue::Integer64Value(v)) => RankValue::Number(v as f64),
        Some(FieldValue::RealValue(v)) => RankValue::Number(v),
        Some(FieldValue::StringValue(s)) => RankValue::Text(s),
        Some(FieldValue::DateValue(d)) => RankValue::Text(d.to_string()),
        Some(FieldValue::DateTimeValue(d)) => RankValue::Text(d.to_string()),
        _ => RankValue::Text(String::new()),
    }
}

/// A footprint's shape moved into a data CRS, with its bounding box (or why it could not be moved).
type Placed = Result<(MultiPolygon<f64>, Option<geo::Rect<f64>>), String>;

/// Every footprint under dir_footprints, read once per process.
pub struct FootprintIndex {
    pub footprints: Vec<Footprint>,
    /// Footprint files that could not be read, by the input file name they belong to, with why.
    pub unreadable: HashMap<String, String>,
    /// All footprints moved into a data CRS (keyed by its WKT), made once per CRS and process.
    placed: Mutex<HashMap<String, Arc<Vec<Placed>>>>,
}

impl FootprintIndex {
    /// Reads all footprint files (ending with ext_footprints) under dir_footprints.
    pub fn load(config: &Config) -> anyhow::Result<FootprintIndex> {
        let (mut footprints, mut unreadable) = (Vec::new(), HashMap::new());
        for entry in walkdir::WalkDir::new(&config.dir_footprints).sort_by_file_name() {
            let entry = entry.with_context(|| format!("cannot list {}", config.dir_footprints.display()))?;
            let name = entry.file_name().to_string_lossy();
            if !entry.file_type().is_file() || !name.ends_with(&config.ext_footprints) {
                continue;
            }
            let rel = entry.path().strip_prefix(&config.dir_footprints).unwrap_or(entry.path());
            let stem = rel.to_string_lossy();
            let stem = &stem[..stem.len() - config.ext_footprints.len()];
            let filename = format!("{stem}{}", config.ext_input);
            // One unreadable footprint fails its own file, not the run.
            match read_footprint(entry.path(), &filename, &config.deduplicate_keep_rules) {
                Ok(f) => footprints.push(f),
                Err(e) => {
                    tracing::warn!(
                        "{e:#}: left out of footprint dedup (files overlapping it may be flagged differently once it is mended)"
                    );
                    unreadable.insert(filename, format!("{e:#}"));
                }
            }
        }
        Ok(FootprintIndex { unreadable, ..FootprintIndex::new(footprints) })
    }

    /// An index of the given footprints.
    pub fn new(footprints: Vec<Footprint>) -> FootprintIndex {
        FootprintIndex { footprints, unreadable: HashMap::new(), placed: Mutex::new(HashMap::new()) }
    }

    /// Every footprint in the data CRS `data_wkt`, with bounding boxes (reprojected on first use).
    fn placed_in(&self, data_wkt: &str) -> Arc<Vec<Placed>> {
        let mut cache = self.placed.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(p) = cache.get(data_wkt) {
            return p.clone();
        }
        let placed = self
            .footprints
            .iter()
            .map(|f| {
                let shape = reproject(&f.shape, &f.srs_wkt, data_wkt)
                    .map_err(|e| format!("footprint {}: {e:#}", f.path.display()))?;
                let bbox = shape.bounding_rect();
                Ok((shape, bbox))
            })
            .collect::<Vec<_>>();
        let placed = Arc::new(placed);
        cache.insert(data_wkt.to_string(), placed.clone());
        placed
    }

    /// Flags for `polygons` (in the data CRS `data_wkt`) of input file `filename`:
    /// true = duplicated. Errors when the file has no footprint.
    pub fn flags(
        &self,
        config: &Config,
        filename: &str,
        data_wkt: &str,
        polygons: &[Polygon],
    ) -> anyhow::Result<Vec<bool>> {
        if let Some(why) = self.unreadable.get(filename) {
            bail!("{filename}: its {why}");
        }
        let own = self.footprints.iter().position(|f| f.filename == filename).ok_or_else(|| {
            anyhow!(
                "no footprint for {filename} (expected {})",
                footprint_path(config, &config.dir_input.join(filename)).display()
            )
        })?;
        let placed = self.placed_in(data_wkt);
        let (own_shape, own_box) = placed[own].as_ref().map_err(|e| anyhow!("{e}"))?;
        let mut overlaps = Vec::new();
        for (k, other) in self.footprints.iter().enumerate() {
            if k == own || compare(other, &self.footprints[own], &config.deduplicate_keep_rules) != Ordering::Less {
                continue;
            }
            // A higher-ranked footprint that cannot be placed might overlap: no guessing.
            let (shape, bbox) = placed[k].as_ref().map_err(|e| anyhow!("{e}"))?;
            if !matches!((own_box, bbox), (Some(a), Some(b)) if a.intersects(b)) {
                continue;
            }
            let overlap = own_shape.intersection(shape);
            if !overlap.0.is_empty() {
                overlaps.push(overlap);
            }
        }
        Ok(polygons
            .par_iter()
            .map(|p| {
                let g = p.to_geo();
                (config.deduplicate_clip_to_footprint && !g.intersects(own_shape))
                    || overlaps.iter().any(|o| g.intersects(o))
            })
            .collect())
    }
}

/// A footprint in another CRS, moved into the data's CRS (unchanged when they are the same).
fn reproject(shape: &MultiPolygon<f64>, from_wkt: &str, to_wkt: &str) -> anyhow::Result<MultiPolygon<f64>> {
    if from_wkt.is_empty() || to_wkt.is_empty() || from_wkt == to_wkt {
        return Ok(shape.clone());
    }
    let (from, to) = (vector::srs(from_wkt)?, vector::srs(to_wkt)?);
    if from == to {
        return Ok(shape.clone());
    }
    let t = gdal::spatial_ref::CoordTransform::new(&from, &to)?;
    let mut out = shape.clone();
    for poly in out.0.iter_mut() {
        let ring = |r: &geo::LineString<f64>| -> anyhow::Result<geo::LineString<f64>> {
            let mut pts: Vec<(f64, f64)> = r.0.iter().map(|c| (c.x, c.y)).collect();
            vector::transform_points(&t, &mut pts).context("cannot reproject a footprint to the data CRS")?;
            Ok(geo::LineString::from(pts))
        };
        let exterior = ring(poly.exterior())?;
        let interiors = poly.interiors().iter().map(ring).collect::<anyhow::Result<Vec<_>>>()?;
        *poly = geo::Polygon::new(exterior, interiors);
    }
    Ok(out)
}
