//! Neighbour deduplication (`deduplicate_method: "neighbor"`, for data without footprints), the
//! reference's rule applied to all rows of a tile: for every pair of input files in name order
//! (rows already flagged left out), each pair of their polygons whose intersection has area,
//! passes the overlap tolerance (strict `>`, on both areas or either) and the centroid tolerance
//! (`<=`, in deduplicate_distance_crs), flags the one that loses by deduplicate_keep_rules. Rows of
//! one file are never compared. Decided on the whole tile, so it does not depend on which node
//! staged which file.

use crate::footprints::{compare_ranks, rank_value, RankValue};
use anyhow::{anyhow, Context};
use gdal::vector::LayerAccess;
use gdal::Dataset;
use geo::{Area, BooleanOps, BoundingRect, Intersects};
use iwp_core::config::Config;
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashSet};

/// A row taking part: its file, polygon (TMS CRS), stored area and centroid, keep-rule values.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// Its input file, as staging_filename holds it.
    pub file: String,
    /// Its polygon, in the TMS CRS.
    pub polygon: geo::Polygon<f64>,
    /// Its stored area (staging_area, TMS CRS units).
    pub area: f64,
    /// Its stored centroid (staging_centroid_x/_y, TMS CRS).
    pub centroid: (f64, f64),
    /// Its values of the keep rules' properties, in rule order.
    pub rank: Vec<RankValue>,
}

/// The flag (true = duplicated) of every candidate.
pub fn flags(config: &Config, rows: &[Candidate]) -> anyhow::Result<Vec<bool>> {
    let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, r) in rows.iter().enumerate() {
        groups.entry(r.file.as_str()).or_default().push(i);
    }
    let centroids = distance_centroids(config, rows)?;
    let boxes: Vec<Option<geo::Rect<f64>>> = rows.iter().map(|r| r.polygon.bounding_rect()).collect();
    let keys: Vec<&str> = groups.keys().copied().collect();
    let mut removed: HashSet<usize> = HashSet::new();
    for (a, ka) in keys.iter().enumerate() {
        for kb in &keys[a + 1..] {
            let g1: Vec<usize> = groups[ka].iter().copied().filter(|i| !removed.contains(i)).collect();
            let g2: Vec<usize> = groups[kb].iter().copied().filter(|i| !removed.contains(i)).collect();
            let mut losers = Vec::new();
            for &i in &g1 {
                for &j in &g2 {
                    if !matches!((boxes[i], boxes[j]), (Some(x), Some(y)) if x.intersects(&y)) {
                        continue;
                    }
                    if is_duplicate_pair(config, &rows[i], &rows[j], centroids[i], centroids[j]) {
                        // The first by the keep rules stays; ties keep the earlier file's row.
                        let order = compare_ranks(&rows[i].rank, &rows[j].rank, &config.deduplicate_keep_rules);
                        losers.push(if order == Ordering::Greater { i } else { j });
                    }
                }
            }
            removed.extend(losers);
        }
    }
    Ok((0..rows.len()).map(|i| removed.contains(&i)).collect())
}

/// True when two polygons of different files overlap enough (and lie close enough) to be one.
fn is_duplicate_pair(config: &Config, a: &Candidate, b: &Candidate, ca: (f64, f64), cb: (f64, f64)) -> bool {
    let overlap = a.polygon.intersection(&b.polygon).unsigned_area();
    if overlap <= 0.0 {
        return false;
    }
    if let Some(tol) = config.deduplicate_overlap_tolerance {
        let (fa, fb) = (overlap / a.area > tol, overlap / b.area > tol);
        let enough = if config.deduplicate_overlap_both { fa && fb } else { fa || fb };
        if !enough {
            return false;
        }
    }
    if let Some(tol) = config.deduplicate_centroid_tolerance {
        if (ca.0 - cb.0).hypot(ca.1 - cb.1) > tol {
            return false;
        }
    }
    true
}

/// Centroids in deduplicate_distance_crs (as stored when it is null).
fn distance_centroids(config: &Config, rows: &[Candidate]) -> anyhow::Result<Vec<(f64, f64)>> {
    let mut pts: Vec<(f64, f64)> = rows.iter().map(|r| r.centroid).collect();
    if let (Some(crs), Some(_)) = (&config.deduplicate_distance_crs, config.deduplicate_centroid_tolerance) {
        let (from, to) = (crate::vector::srs(config.tms.crs)?, crate::vector::srs(crs)?);
        let t = gdal::spatial_ref::CoordTransform::new(&from, &to).context("deduplicate_distance_crs")?;
        crate::vector::transform_points(&t, &mut pts)?;
    }
    Ok(pts)
}

/// Recomputes staging_duplicated for every row of an open staged tile (when it holds rows of
/// more than one file). Returns the number flagged.
pub fn flag_tile(config: &Config, ds: &Dataset) -> anyhow::Result<usize> {
    let p = &config.props;
    let (mut fids, mut rows) = (Vec::new(), Vec::new());
    {
        let mut layer = ds.layer(0)?;
        let defn = layer.defn();
        let index = |name: &str| defn.field_index(name).map_err(|_| anyhow!("staged tile has no column `{name}`"));
        let (file_i, area_i, cx_i, cy_i) =
            (index(&p.filename)?, index(&p.area)?, index(&p.centroid_x)?, index(&p.centroid_y)?);
        let rank_i: Vec<usize> =
            config.deduplicate_keep_rules.iter().map(|r| index(&r.property)).collect::<anyhow::Result<_>>()?;
        for f in layer.features() {
            let Some(g) = f.geometry() else { continue };
            let Some(polygon) = crate::geom::polygons_of(g).into_iter().next() else { continue };
            let num = |i: usize| -> anyhow::Result<f64> { Ok(f.field_as_double(i)?.unwrap_or(f64::NAN)) };
            rows.push(Candidate {
                file: f.field_as_string(file_i)?.unwrap_or_default(),
                polygon: polygon.to_geo(),
                area: num(area_i)?,
                centroid: (num(cx_i)?, num(cy_i)?),
                rank: rank_i.iter().map(|&i| f.field(i).map(rank_value)).collect::<Result<_, _>>()?,
            });
            fids.push(f.fid().unwrap_or(0));
        }
    }
    let flagged = flags(config, &rows)?;
    let layer_name = ds.layer(0)?.name();
    let column = &p.duplicated;
    ds.execute_sql(format!("UPDATE \"{layer_name}\" SET \"{column}\" = 0"), None, gdal::vector::sql::Dialect::DEFAULT)?;
    let ids: Vec<String> = fids.iter().zip(&flagged).filter(|(_, f)| **f).map(|(id, _)| id.to_string()).collect();
    for chunk in ids.chunks(500) {
        let sql = format!("UPDATE \"{layer_name}\" SET \"{column}\" = 1 WHERE fid IN ({})", chunk.join(","));
        ds.execute_sql(&sql, None, gdal::vector::sql::Dialect::DEFAULT)?;
    }
    Ok(ids.len())
}
