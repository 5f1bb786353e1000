//! Footprint deduplication, decided per input file against all footprints, so the outcome does
//! not depend on which process or node staged which file.
//!
//! A polygon is flagged when it does not meet its own file's footprint (clip_to_footprint), or
//! when it meets the overlap of its footprint with the footprint of a file ranked higher by
//! deduplicate_keep_rules (ties broken by file name).

use crate::footprint_index::IndexFile;
use crate::geom::Polygon;
use crate::vector;
use anyhow::{anyhow, bail, Context};
use gdal::vector::{FieldValue, LayerAccess};
use geo::{BooleanOps, BoundingRect, Intersects, MultiPolygon};
use iwp_core::config::{Config, KeepRule};
use iwp_core::files::relative_within;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// A keep-rule value of a footprint.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum RankValue {
    /// A number (integer or real); numbers sort before text.
    Number(f64),
    /// Text: strings, dates and date-times as text, empty for null or other values.
    Text(String),
}

/// One footprint: its file's name, geometry (in `srs_wkt`), and keep-rule values.
#[derive(Debug, Clone)]
pub struct Footprint {
    /// The input file it belongs to, as staging_filename names it (relative to dir_input).
    pub filename: String,
    /// The footprint file.
    pub path: PathBuf,
    /// Its polygons, all features' together, in the CRS `srs_wkt`.
    pub shape: MultiPolygon<f64>,
    /// Its CRS: `EPSG:n` or a WKT definition (empty when the file has none).
    pub srs_wkt: String,
    /// The keep rules' property values of its first feature, in rule order.
    pub rank: Vec<RankValue>,
}

/// The footprint path of an input file (the reference's rule): same path relative to
/// dir_input, extension replaced by ext_footprints, under dir_footprints.
pub fn footprint_path(config: &Config, input: &Path) -> PathBuf {
    let mut rel = relative_within(input, &config.dir_input).unwrap_or_else(|| input.to_path_buf());
    rel.set_extension("");
    let name = format!("{}{}", rel.display(), config.ext_footprints);
    config.dir_footprints.join(name)
}

/// The input file's name as staging_filename holds it: its path relative to dir_input.
pub fn staging_filename(config: &Config, input: &Path) -> String {
    let rel = relative_within(input, &config.dir_input).unwrap_or_else(|| input.to_path_buf());
    rel.to_string_lossy().trim_matches('/').to_string()
}

/// Reads one footprint file: the union of its polygons and the keep-rule values of its first
/// feature. GeoPackages are read straight from SQLite ([`read_gpkg_footprint`], several times
/// faster than an OGR open); other files, and GeoPackages that read fails on, with GDAL.
pub fn read_footprint(path: &Path, filename: &str, rules: &[KeepRule]) -> anyhow::Result<Footprint> {
    if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("gpkg")) {
        if let Ok(f) = read_gpkg_footprint(path, filename, rules) {
            return Ok(f);
        }
    }
    read_footprint_with_gdal(path, filename, rules)
}

/// [`read_footprint`] through SQLite for a GeoPackage: the same polygons, CRS (`EPSG:n` as GDAL
/// names it, else the WKT definition) and keep-rule values as GDAL reads them (numbers as
/// numbers, DATETIME columns at whole seconds with their offset, other text as it is).
pub fn read_gpkg_footprint(path: &Path, filename: &str, rules: &[KeepRule]) -> anyhow::Result<Footprint> {
    let table = crate::gpkg::FeatureTable::open_reading_whole(path, 0)?;
    let found: Vec<Option<(&str, bool)>> = rules
        .iter()
        .map(|r| table.column_like(&r.property).map(|(name, kind)| (name, kind.eq_ignore_ascii_case("DATETIME"))))
        .collect();
    let columns: Vec<&str> = found.iter().flatten().map(|(name, _)| *name).collect();
    let srs_wkt = table.crs()?.unwrap_or_default();
    let mut shape: Vec<geo::Polygon<f64>> = Vec::new();
    let mut rank: Option<Vec<RankValue>> = None;
    table.for_each_row(&columns, |polygons, values| {
        if rank.is_none() {
            let mut ranks = Vec::with_capacity(rules.len());
            for (k, (rule, column)) in rules.iter().zip(&found).enumerate() {
                let Some((_, datetime)) = column else {
                    return Err(no_field(path, &rule.property));
                };
                ranks.push(sql_rank_value(values.get(k)?, *datetime));
            }
            rank = Some(ranks);
        }
        shape.extend((0..polygons.len()).map(|i| polygons.polygon(i).to_geo()));
        Ok(())
    })?;
    footprint(path, filename, shape, srs_wkt, rank)
}

/// A footprint read from `path`: refused when it had no feature (so no keep-rule values).
fn footprint(
    path: &Path,
    filename: &str,
    shape: Vec<geo::Polygon<f64>>,
    srs_wkt: String,
    rank: Option<Vec<RankValue>>,
) -> anyhow::Result<Footprint> {
    let Some(rank) = rank else { bail!("footprint {} has no features", path.display()) };
    Ok(Footprint {
        filename: filename.to_string(),
        path: path.to_path_buf(),
        shape: MultiPolygon(shape),
        srs_wkt,
        rank,
    })
}

/// The error for a footprint without a keep rule's field.
fn no_field(path: &Path, property: &str) -> anyhow::Error {
    anyhow!("footprint {} has no field `{property}` for deduplicate_keep_rules", path.display())
}

/// A keep-rule value of an SQLite column value, as [`rank_value`] gives for GDAL's reading of it.
fn sql_rank_value(value: rusqlite::types::ValueRef, datetime: bool) -> RankValue {
    use rusqlite::types::ValueRef;
    match value {
        ValueRef::Integer(v) => RankValue::Number(v as f64),
        ValueRef::Real(v) => RankValue::Number(v),
        ValueRef::Text(t) => {
            let text = String::from_utf8_lossy(t).into_owned();
            if !datetime {
                return RankValue::Text(text);
            }
            // GDAL reads a GeoPackage DATETIME at whole seconds, UTC unless an offset is given.
            let parsed = chrono::DateTime::parse_from_rfc3339(&text).ok().or_else(|| {
                let naive = chrono::NaiveDateTime::parse_from_str(&text, "%Y-%m-%dT%H:%M:%S%.f").ok()?;
                Some(naive.and_utc().fixed_offset())
            });
            match parsed.and_then(|d| chrono::Timelike::with_nanosecond(&d, 0)) {
                Some(d) => RankValue::Text(d.to_string()),
                None => RankValue::Text(text),
            }
        }
        _ => RankValue::Text(String::new()),
    }
}

/// [`read_footprint`] with GDAL (any format it reads).
pub fn read_footprint_with_gdal(path: &Path, filename: &str, rules: &[KeepRule]) -> anyhow::Result<Footprint> {
    let ds = crate::vector::open_vector(path).context("footprint")?;
    let mut layer = ds.layer(0).with_context(|| format!("footprint {} has no layer", path.display()))?;
    let srs_wkt = layer.spatial_ref().map(|s| s.to_wkt()).transpose()?.unwrap_or_default();
    let mut shape: Vec<geo::Polygon<f64>> = Vec::new();
    let mut rank = None;
    for f in layer.features() {
        if rank.is_none() {
            let values = rules
                .iter()
                .map(|r| {
                    let idx = f.field_index(&r.property).map_err(|_| no_field(path, &r.property))?;
                    Ok(rank_value(f.field(idx)?))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            rank = Some(values);
        }
        if let Some(g) = f.geometry() {
            shape.extend(crate::geom::polygons_of(g).iter().map(Polygon::to_geo));
        }
    }
    footprint(path, filename, shape, srs_wkt, rank)
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

/// The footprints of a run, read from the footprint index: each file's own footprint and those
/// whose boxes meet it, moved into the file's CRS on first use (kept per footprint and CRS).
pub struct FootprintIndex {
    file: IndexFile,
    placed: Mutex<HashMap<(i64, String), Arc<Placed>>>,
}

impl FootprintIndex {
    /// Opens the run's footprint index, building it first when it is missing or stale (checked
    /// by folder times; see [`crate::footprint_index`]).
    pub fn open(config: &Config) -> anyhow::Result<FootprintIndex> {
        crate::footprint_index::ensure(config, false)?;
        let file = IndexFile::open(config)?;
        let (n, first) = file.unreadable()?;
        if let Some((rel, why)) = first {
            tracing::warn!(
                "{n} footprints could not be read and are left out of footprint dedup (files overlapping them may be flagged differently once they are mended); first: {rel}: {why}"
            );
        }
        Ok(FootprintIndex { file, placed: Mutex::new(HashMap::new()) })
    }

    /// The index file's path and how many footprints it holds.
    pub fn describe(&self) -> String {
        format!("{} footprints in {}", self.file.len().unwrap_or(0), self.file.path.display())
    }

    /// A footprint in the data CRS `data_wkt`, with its bounding box (reprojected on first use).
    fn placed(&self, id: Option<i64>, f: &Footprint, data_wkt: &str) -> Arc<Placed> {
        let make = || {
            let shape = reproject(&f.shape, &f.srs_wkt, data_wkt)
                .map_err(|e| format!("footprint {}: {e:#}", f.path.display()))?;
            let bbox = shape.bounding_rect();
            Ok((shape, bbox))
        };
        let Some(id) = id else { return Arc::new(make()) };
        let key = (id, data_wkt.to_string());
        if let Some(p) = self.placed.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return p.clone();
        }
        let p = Arc::new(make());
        self.placed.lock().unwrap_or_else(|e| e.into_inner()).insert(key, p.clone());
        p
    }

    /// The own footprint of input `input` (staged as `filename`): the job line's `footprint`
    /// when given, else the one the reference's rule names; from the index when it is inside
    /// dir_footprints, else read from its file. With its index id, if any, and box.
    fn own(
        &self,
        config: &Config,
        input: &Path,
        job_footprint: Option<&Path>,
        filename: &str,
    ) -> anyhow::Result<(Option<i64>, Footprint, [f64; 4])> {
        let path = job_footprint.map(Path::to_path_buf).unwrap_or_else(|| footprint_path(config, input));
        let missing = || anyhow!("no footprint for {filename} (expected {})", path.display());
        let Some(rel) = relative_within(&path, &config.dir_footprints) else {
            // Outside dir_footprints: read where the job line says.
            if !path.exists() {
                return Err(missing());
            }
            let f = read_footprint(&path, filename, &config.deduplicate_keep_rules)
                .map_err(|e| anyhow!("{filename}: its footprint: {e:#}"))?;
            let lonlat = crate::footprint_index::box_of(&f);
            return Ok((None, f, lonlat));
        };
        match self.file.by_rel(&rel.to_string_lossy())? {
            Some(entry) => {
                self.file.check_files(entry.id)?;
                let f = entry.footprint.map_err(|why| anyhow!("{filename}: its {why}"))?;
                Ok((Some(entry.id), f, entry.lonlat))
            }
            None if path.exists() => bail!(
                "footprint {} is not in the footprint index {}: it was added after the index was built; run `iwp-stage --index-footprints` to rebuild it",
                path.display(),
                self.file.path.display()
            ),
            None => Err(missing()),
        }
    }

    /// The test of duplicates for polygons (in the data CRS `data_wkt`) of input file `input`,
    /// staged as `filename`, whose job line may name its footprint. Errors when the file has no
    /// footprint.
    pub fn duplicate_test(
        &self,
        config: &Config,
        input: &Path,
        job_footprint: Option<&Path>,
        filename: &str,
        data_wkt: &str,
    ) -> anyhow::Result<DuplicateTest> {
        let (own_id, own, own_lonlat) = self.own(config, input, job_footprint, filename)?;
        let own_placed = self.placed(own_id, &own, data_wkt);
        let (own_shape, own_box) = own_placed.as_ref().as_ref().map_err(|e| anyhow!("{e}"))?;
        let mut overlaps = Vec::new();
        let meeting = self.file.meeting(own_lonlat)?;
        let nearby = meeting.iter().filter(|o| Some(o.id) != own_id).count();
        for other in meeting {
            if Some(other.id) == own_id {
                continue;
            }
            let Ok(f) = &other.footprint else { continue };
            if compare(f, &own, &config.deduplicate_keep_rules) != Ordering::Less {
                continue;
            }
            self.file.check_files(other.id)?;
            // A higher-ranked footprint that cannot be placed might overlap: no guessing.
            let placed = self.placed(Some(other.id), f, data_wkt);
            let (shape, bbox) = placed.as_ref().as_ref().map_err(|e| anyhow!("{e}"))?;
            if !matches!((own_box, bbox), (Some(a), Some(b)) if a.intersects(b)) {
                continue;
            }
            let overlap = own_shape.intersection(shape);
            if !overlap.0.is_empty() {
                overlaps.push(overlap);
            }
        }
        tracing::debug!(
            "{filename}: {nearby} other footprints read (their boxes meet its own), {} ranked higher and overlapping",
            overlaps.len()
        );
        let own = config.deduplicate_clip_to_footprint.then(|| own_shape.clone());
        Ok(DuplicateTest { own, overlaps })
    }
}

/// What flags a polygon of one file as duplicated: meeting a higher-ranked footprint where it
/// overlaps the file's own, or (with deduplicate_clip_to_footprint) lying outside its own.
pub struct DuplicateTest {
    /// The file's own footprint, in its CRS, with deduplicate_clip_to_footprint.
    own: Option<MultiPolygon<f64>>,
    /// Overlaps of the own footprint with higher-ranked footprints.
    overlaps: Vec<MultiPolygon<f64>>,
}

impl DuplicateTest {
    /// True when `polygon` is a duplicate.
    pub fn duplicated(&self, polygon: &Polygon) -> bool {
        let g = polygon.to_geo();
        self.own.as_ref().is_some_and(|own| !g.intersects(own)) || self.overlaps.iter().any(|o| g.intersects(o))
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

#[cfg(test)]
mod tests {
    use super::*;
    use iwp_core::config::KeepRule;

    fn footprint(filename: &str, rank: Vec<RankValue>) -> Footprint {
        Footprint {
            filename: filename.into(),
            path: PathBuf::new(),
            shape: MultiPolygon(vec![]),
            srs_wkt: String::new(),
            rank,
        }
    }

    /// A square polygon of side `side` with its lower left corner at (x, y).
    fn square(x: f64, y: f64, side: f64) -> Polygon {
        Polygon { rings: vec![vec![(x, y), (x + side, y), (x + side, y + side), (x, y + side), (x, y)]] }
    }

    #[test]
    fn a_polygon_is_a_duplicate_where_a_higher_ranked_footprint_overlaps_or_outside_its_own_with_clipping() {
        // Own footprint 0..10, a higher-ranked one's overlap with it 8..10 (x).
        let own = MultiPolygon(vec![square(0.0, 0.0, 10.0).to_geo()]);
        let overlap = MultiPolygon(vec![square(8.0, 0.0, 2.0).to_geo()]);
        let (inside, in_overlap, across, outside) =
            (square(1.0, 1.0, 1.0), square(8.5, 1.0, 1.0), square(7.5, 1.0, 1.0), square(20.0, 1.0, 1.0));
        let clipping = DuplicateTest { own: Some(own), overlaps: vec![overlap.clone()] };
        let keeping = DuplicateTest { own: None, overlaps: vec![overlap] };
        for (test, outside_flagged) in [(&clipping, true), (&keeping, false)] {
            assert!(!test.duplicated(&inside), "inside its own footprint only");
            assert!(test.duplicated(&in_overlap), "inside the overlap");
            assert!(test.duplicated(&across), "meeting the overlap");
            assert_eq!(test.duplicated(&outside), outside_flagged, "outside every footprint");
        }
        let alone = DuplicateTest { own: None, overlaps: vec![] };
        assert!([inside, in_overlap, across, outside].iter().all(|p| !alone.duplicated(p)), "no overlap, no clipping");
    }

    #[test]
    fn keep_rules_rank_footprints_and_file_names_break_ties() {
        let newer = [KeepRule { property: "Date".into(), larger: true }];
        let (a, b) = (RankValue::Text("2015-07-01".into()), RankValue::Text("2019-09-03".into()));
        assert_eq!(
            compare_ranks(std::slice::from_ref(&b), std::slice::from_ref(&a), &newer),
            Ordering::Less,
            "the newer image is kept"
        );
        let older = [KeepRule { property: "Date".into(), larger: false }];
        assert_eq!(compare_ranks(std::slice::from_ref(&b), std::slice::from_ref(&a), &older), Ordering::Greater);
        // Numbers compare as numbers (9 < 10), and before text.
        let more = [KeepRule { property: "n".into(), larger: true }];
        assert_eq!(compare_ranks(&[RankValue::Number(10.0)], &[RankValue::Number(9.0)], &more), Ordering::Less);
        assert_eq!(compare_ranks(&[RankValue::Number(1.0)], &[RankValue::Text("9".into())], &older), Ordering::Less);
        // Later rules break ties of earlier ones; equal ranks fall to the file name.
        let two =
            [KeepRule { property: "Date".into(), larger: true }, KeepRule { property: "n".into(), larger: false }];
        let x = [a.clone(), RankValue::Number(2.0)];
        let y = [a.clone(), RankValue::Number(1.0)];
        assert_eq!(compare_ranks(&y, &x, &two), Ordering::Less);
        let (f, g) = (footprint("b.shp", vec![a.clone()]), footprint("a.shp", vec![a]));
        assert_eq!(compare(&g, &f, &newer), Ordering::Less, "ties: the smaller file name is kept");
    }
}
