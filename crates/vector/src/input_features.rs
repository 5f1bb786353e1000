//! Reading an input file's features, in feature order: each feature's attribute row and its
//! polygons (multipolygons exploded, invalid ones repaired). A shapefile is read in ranges of
//! feature numbers that a thread with nothing else to do can take over, so the last file of a
//! run does not read on one thread while the others wait.

use crate::geom::{polygons_of, Polygon};
use crate::vector;
use gdal::vector::{Feature, FieldValue, LayerAccess};
use gdal::Dataset;
use std::ops::Range;
use std::path::Path;
use std::sync::Mutex;

/// Features per range up to which a range is read as one piece.
const RANGE_MIN: usize = 2048;

/// What reading features gives.
#[derive(Debug, Default)]
pub struct FeatureRows {
    /// Per feature with polygons, its attribute values (one per column).
    pub values: Vec<Vec<Option<FieldValue>>>,
    /// (feature number, attribute row, part, polygon), in feature order.
    pub polygons: Vec<(usize, usize, usize, Polygon)>,
    /// Invalid polygons repaired with MakeValid.
    pub repaired: usize,
    /// Features of other geometry types.
    pub skipped: usize,
    /// Features without a readable geometry.
    pub unreadable: usize,
    /// True when the features were read in ranges (a shapefile of more than 2,048 features and
    /// no deleted record), false when one after the other.
    pub in_ranges: bool,
}

impl FeatureRows {
    /// Adds feature number `number`, with the values of its first `columns` fields.
    fn add(&mut self, number: usize, feature: &Feature, columns: usize) {
        let Some(g) = vector::present_geometry(feature) else {
            self.unreadable += 1;
            return;
        };
        let mut parts = polygons_of(g);
        if parts.is_empty() {
            self.skipped += 1;
            return;
        }
        let simple = matches!(parts.as_slice(), [p] if p.certainly_valid());
        if !simple && !g.is_valid() {
            if let Ok(fixed) = g.make_valid(&gdal::cpl::CslStringList::new()) {
                self.repaired += 1;
                parts = collection_polygons(&fixed);
            }
        }
        self.values.push((0..columns).map(|i| feature.field(i).ok().flatten()).collect());
        let row = self.values.len() - 1;
        self.polygons.extend(parts.into_iter().enumerate().map(|(part, p)| (number, row, part, p)));
    }

    /// What consecutive ranges of features gave, as one (each moved once).
    fn concat(ranges: Vec<FeatureRows>) -> FeatureRows {
        let mut all = FeatureRows {
            values: Vec::with_capacity(ranges.iter().map(|r| r.values.len()).sum()),
            polygons: Vec::with_capacity(ranges.iter().map(|r| r.polygons.len()).sum()),
            ..Default::default()
        };
        for range in ranges {
            let offset = all.values.len();
            all.values.extend(range.values);
            all.polygons.extend(range.polygons.into_iter().map(|(n, row, part, p)| (n, row + offset, part, p)));
            all.repaired += range.repaired;
            all.skipped += range.skipped;
            all.unreadable += range.unreadable;
        }
        all
    }
}

/// Reads every feature of layer 0 of `ds` (the file at `path`), features numbered from 0 in
/// reading order, with the values of the first `columns` fields.
pub fn read_features(path: &Path, ds: Dataset, columns: usize) -> anyhow::Result<FeatureRows> {
    let count = ds.layer(0)?.try_feature_count().map_or(0, |n| n as usize);
    if ds.driver().short_name() == "ESRI Shapefile" && count > RANGE_MIN {
        let spare = Mutex::new(Some(ds));
        if let Some(ranges) = read_range(path, &spare, 0..count, columns)? {
            return Ok(FeatureRows { in_ranges: true, ..FeatureRows::concat(ranges) });
        }
        // A record deleted from the file (reading in order skips it): read in order.
        let ds = spare.into_inner().ok().flatten();
        return read_in_order(path, ds, columns);
    }
    read_in_order(path, Some(ds), columns)
}

/// `ds`, or the file at `path` opened again when there is none.
fn or_opened(ds: Option<Dataset>, path: &Path) -> anyhow::Result<Dataset> {
    ds.map_or_else(|| vector::open(path), Ok)
}

/// Every feature, one after the other (`ds`, or the file opened again).
fn read_in_order(path: &Path, ds: Option<Dataset>, columns: usize) -> anyhow::Result<FeatureRows> {
    let ds = or_opened(ds, path)?;
    let mut layer = ds.layer(0)?;
    let mut rows = FeatureRows::default();
    for (number, feature) in layer.features().enumerate() {
        rows.add(number, &feature, columns);
    }
    Ok(rows)
}

/// Features `range` of a shapefile, halves split off for rayon to hand to an idle thread, as
/// the rows of consecutive ranges. A half read on the same thread uses the dataset in `spare`;
/// one taken by another thread opens the file again (GDAL datasets are not shared between
/// threads). None when a feature's number is not its place in the file (a deleted record,
/// which reading in order skips).
fn read_range(
    path: &Path,
    spare: &Mutex<Option<Dataset>>,
    range: Range<usize>,
    columns: usize,
) -> anyhow::Result<Option<Vec<FeatureRows>>> {
    if range.len() > RANGE_MIN {
        let mid = range.start + range.len() / 2;
        let (first, second) = rayon::join_context(
            |_| read_range(path, spare, range.start..mid, columns),
            |taken| match taken.migrated() {
                true => read_range(path, &Mutex::new(None), mid..range.end, columns),
                false => read_range(path, spare, mid..range.end, columns),
            },
        );
        return Ok(match (first?, second?) {
            (Some(mut ranges), Some(later)) => {
                ranges.extend(later);
                Some(ranges)
            }
            _ => None,
        });
    }
    // Held while this range is read: no rayon work runs inside, so nothing else waits for it.
    let mut slot = spare.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let ds = or_opened(slot.take(), path)?;
    let mut layer = ds.layer(0)?;
    let mut rows = FeatureRows::default();
    // SAFETY: a valid layer of an open dataset; the call only moves its reading position.
    let moved = unsafe { gdal_sys::OGR_L_SetNextByIndex(layer.c_layer(), range.start as i64) };
    let mut in_place = moved == gdal_sys::OGRErr::OGRERR_NONE;
    if in_place {
        let mut features = layer.features();
        for number in range.clone() {
            match features.next() {
                Some(feature) if feature.fid() == Some(number as u64) => rows.add(number, &feature, columns),
                _ => {
                    in_place = false;
                    break;
                }
            }
        }
    }
    *slot = Some(ds);
    Ok(in_place.then(|| vec![rows]))
}

/// Polygons of a repaired geometry (Polygon, MultiPolygon or a collection holding them).
fn collection_polygons(g: &gdal::vector::Geometry) -> Vec<Polygon> {
    let direct = polygons_of(g);
    if !direct.is_empty() {
        return direct;
    }
    (0..g.geometry_count()).flat_map(|i| polygons_of(&g.get_geometry(i))).collect()
}
