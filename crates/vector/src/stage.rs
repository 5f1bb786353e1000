//! Staging one input vector file: read with GDAL, keep polygons (exploding multipolygons, repairing
//! invalid ones), simplify, flag footprint duplicates, reproject to the TMS CRS, compute the
//! staging properties and group the rows by the z-max tiles they intersect.

use crate::footprints::{staging_filename, FootprintIndex};
use crate::geom::Polygon;
use crate::input_features::{read_features, FeatureRows};
use crate::simplify::simplify_polygon;
use crate::vector;
use anyhow::{anyhow, bail, Context};
use gdal::vector::{FieldValue, LayerAccess, OGRFieldType};
use iwp_core::config::Config;
use iwp_core::tms::{Tile, Tms};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;

/// An input attribute column: name, OGR type and subtype.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// The column's name (one named `fid` is staged as `fid_input`).
    pub name: String,
    /// Its OGR field type.
    pub kind: OGRFieldType::Type,
    /// Its OGR field subtype (e.g. boolean, int16).
    pub subtype: gdal_sys::OGRFieldSubType::Type,
}

/// The attribute columns of a layer definition, in order.
pub fn columns_of(defn: &gdal::vector::Defn) -> Vec<Column> {
    defn.fields()
        .enumerate()
        .map(|(i, f)| Column {
            name: f.name(),
            kind: f.field_type(),
            // SAFETY: `defn` is a live layer's definition and `i` one of its field indices.
            subtype: unsafe { gdal_sys::OGR_Fld_GetSubType(gdal_sys::OGR_FD_GetFieldDefn(defn.c_defn(), i as i32)) },
        })
        .collect()
}

/// One staged polygon (in the TMS CRS) with its staging properties.
#[derive(Debug, Clone)]
pub struct Row {
    /// The polygon, in the TMS CRS.
    pub polygon: Polygon,
    /// Index of the source feature's attribute values in [`StagedFile::values`].
    pub feature: usize,
    /// Planar area in the TMS CRS's units (staging_area).
    pub area: f64,
    /// Planar centroid (x, y) in the TMS CRS (staging_centroid_x/_y).
    pub centroid: (f64, f64),
    /// Deterministic UUID from file, feature and part (staging_identifier).
    pub identifier: String,
    /// The z-max tile holding the centroid (None when it lies outside the tile matrix set).
    pub centroid_tile: Option<Tile>,
    /// Footprint dedup's flag, true = duplicated (None without footprint dedup).
    pub duplicated: Option<bool>,
}

/// A staged input file: its columns, attribute values per feature, rows and their tiles.
#[derive(Debug)]
pub struct StagedFile {
    /// The input file as staging_filename holds it (relative to dir_input).
    pub filename: String,
    /// Its attribute columns, in order.
    pub columns: Vec<Column>,
    /// Attribute values of each feature with polygons, in column order (None: null or unreadable).
    pub values: Vec<Vec<Option<FieldValue>>>,
    /// Staged polygons: one per polygon part (a part split at the antimeridian gives several).
    pub rows: Vec<Row>,
    /// Rows per z-max tile they intersect.
    pub tiles: BTreeMap<Tile, Vec<usize>>,
    /// Invalid polygons repaired with MakeValid.
    pub repaired: usize,
    /// Features skipped for not being polygons.
    pub skipped: usize,
}

impl StagedFile {
    /// Drops the rows and attribute values on rayon's threads: a large file's are millions of
    /// allocations, which one thread frees while the others may have nothing to do.
    pub fn release(self) {
        let StagedFile { rows, values, .. } = self;
        rayon::join(
            || rows.into_par_iter().with_min_len(CHUNK).for_each(drop),
            || values.into_par_iter().with_min_len(CHUNK).for_each(drop),
        );
    }
}

/// Polygons per parallel task (reprojection, freeing).
const CHUNK: usize = 4096;

/// A deterministic identifier for a polygon: a name-based UUID of file, feature and part.
pub fn identifier(filename: &str, feature: usize, part: usize) -> String {
    let name = format!("{filename}#{feature}#{part}");
    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, name.as_bytes()).to_string()
}

/// The tile holding a centroid, with the reference's edge rule: cells are (left, right] x
/// (bottom, top], so a centroid on an edge goes to the west / south tile.
pub fn centroid_tile(tms: &Tms, z: u8, x: f64, y: f64) -> Option<Tile> {
    let span = tms.span(z);
    let (w, h) = tms.matrix_size(z);
    let col = ((x - tms.origin.0) / span).ceil() - 1.0;
    let row = ((tms.origin.1 - y) / span).floor();
    if !(0.0..f64::from(w)).contains(&col) || !(0.0..f64::from(h)).contains(&row) {
        return None;
    }
    Some(Tile::new(col as u32, row as u32, z))
}

/// Tiles at `z` whose closed box the polygon meets.
pub fn tiles_of(tms: &Tms, z: u8, p: &Polygon) -> Vec<Tile> {
    let candidates = tms.tiles_touching(p.bounds(), z);
    if candidates.len() == 1 {
        return candidates;
    }
    candidates.into_iter().filter(|t| p.intersects_box(&tms.bounds(*t))).collect()
}

/// Reads, cleans, flags and tiles one input file; `footprint` is its job line's footprint, if any
/// (else the reference's rule names it).
pub fn stage_file(
    config: &Config,
    path: &Path,
    footprint: Option<&Path>,
    footprints: Option<&FootprintIndex>,
) -> anyhow::Result<StagedFile> {
    let filename = staging_filename(config, path);
    // A shapefile without its .dbf opens, with no attributes: refused, rather than losing them.
    if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("shp")) && path.exists() {
        let has = |ext: &str| [ext, &ext.to_uppercase()].iter().any(|e| path.with_extension(e).exists());
        if !has("dbf") {
            bail!(
                "{}: its .dbf (the attribute table) is missing; staging it would lose every attribute",
                path.display()
            );
        }
    }
    // The file and a shapefile's sidecars read ahead whole (shapefiles are read in small pieces).
    iwp_core::files::prefetch(path);
    for ext in ["shx", "dbf", "SHX", "DBF"] {
        iwp_core::files::prefetch(&path.with_extension(ext));
    }
    let ds = vector::open(path)?;
    if ds.layer_count() == 0 {
        bail!("{}: no vector layer", path.display());
    }
    let layer = ds.layer(0)?;
    let srs = match &config.input_crs {
        Some(crs) => vector::srs(crs)?,
        None => {
            let mut s = layer.spatial_ref().ok_or_else(|| {
                if path.with_extension("prj").exists() {
                    anyhow!(
                        "{}: no CRS: its .prj is not a CRS GDAL knows; fix it or set input_crs in the config",
                        path.display()
                    )
                } else {
                    anyhow!("{}: no CRS (no .prj); set input_crs in the config", path.display())
                }
            })?;
            s.set_axis_mapping_strategy(gdal::spatial_ref::AxisMappingStrategy::TraditionalGisOrder);
            s
        }
    };
    let mut columns = columns_of(layer.defn());
    // A column named like the GeoPackage's feature id (GDAL gives field-less shapefiles one)
    // cannot be written beside it.
    for c in columns.iter_mut().filter(|c| c.name.eq_ignore_ascii_case("fid")) {
        tracing::warn!(
            "{}: column `{}` staged as `{}_input` (GeoPackages keep `fid` for the feature id)",
            path.display(),
            c.name,
            c.name
        );
        c.name = format!("{}_input", c.name);
    }
    check_names(config, &columns, path)?;

    let read = read_features(path, ds, columns.len())?;
    let FeatureRows { values, mut polygons, repaired, skipped, unreadable, .. } = read;
    if polygons.is_empty() {
        if unreadable > 0 && skipped == 0 {
            bail!(
                "{}: no polygons: {unreadable} features without a readable geometry (a truncated or corrupt .shp?)",
                path.display()
            );
        }
        if skipped > 0 {
            bail!(
                "{}: no polygons ({skipped} features of other geometry types, {unreadable} without geometry)",
                path.display()
            );
        }
        bail!("{}: no features", path.display());
    }
    if unreadable > 0 {
        tracing::warn!("{}: {unreadable} features without a readable geometry skipped", path.display());
    }
    // Far outside the CRS's area of use: corrupt coordinates, or a wrong .prj / input_crs.
    let firsts: Vec<(f64, f64)> = polygons.iter().filter_map(|e| e.3.rings.first()?.first().copied()).collect();
    if let Some((outside, area)) = crate::extent::outside_area_of_use(&srs, &firsts)? {
        if outside > 0 {
            bail!(
                "{}: {outside} of {} polygons lie far outside the area of use of its CRS, {area}: corrupt coordinates, or a wrong .prj / input_crs",
                path.display(),
                firsts.len()
            );
        }
    }
    // Per-polygon work runs on rayon's threads, in chunks (one coordinate transform each).
    if let Some(tol) = config.simplify_tolerance {
        polygons.par_iter_mut().for_each(|(_, _, _, p)| p.rings = simplify_polygon(&p.rings, tol));
    }
    let srs_wkt = srs.to_wkt()?;
    let flags = match (footprints, config.deduplicate_method) {
        (Some(index), Some(iwp_core::config::DedupMethod::Footprints)) => {
            let test = index.duplicate_test(config, path, footprint, &filename, &srs_wkt)?;
            Some(polygons.par_iter().map(|e| test.duplicated(&e.3)).collect())
        }
        _ => None,
    };
    let target = vector::srs(config.tms.crs)?;
    if srs != target {
        let target_wkt = target.to_wkt()?;
        polygons.par_chunks_mut(CHUNK).try_for_each(|chunk| -> anyhow::Result<()> {
            // Spatial references and transforms are not shared between threads.
            let t = vector::transform_between(&srs_wkt, &target_wkt).context("no transformation to the TMS CRS")?;
            for (_, _, _, p) in chunk.iter_mut() {
                for ring in p.rings.iter_mut() {
                    vector::transform_points(&t, ring)
                        .with_context(|| format!("{}: reprojection failed", path.display()))?;
                }
            }
            Ok(())
        })?;
    }
    let (polygons, flags) = split_at_antimeridian(config, path, polygons, flags);
    let rows: Vec<Row> = polygons
        .into_par_iter()
        .enumerate()
        .map(|(n, (fid, feature, part, polygon))| {
            let centroid = polygon.centroid();
            Row {
                area: polygon.area(),
                centroid,
                identifier: identifier(&filename, fid, part),
                centroid_tile: centroid_tile(config.tms, config.z_max, centroid.0, centroid.1),
                duplicated: flags.as_ref().map(|f| f[n]),
                feature,
                polygon,
            }
        })
        .collect();
    let row_tiles: Vec<Vec<Tile>> = rows.par_iter().map(|r| tiles_of(config.tms, config.z_max, &r.polygon)).collect();
    let outside = row_tiles.iter().filter(|t| t.is_empty()).count();
    if outside == rows.len() {
        bail!("{}: every polygon lies outside the tile matrix set {}", path.display(), config.tms.id);
    }
    if outside > 0 {
        tracing::warn!(
            "{}: {outside} polygons lie outside the tile matrix set {}: not staged",
            path.display(),
            config.tms.id
        );
    }
    let tiles = rows_by_tile(row_tiles);
    Ok(StagedFile { filename, columns, values, rows, tiles, repaired, skipped })
}

/// Row numbers per tile, in order, from each row's tiles (sorted on rayon's threads).
fn rows_by_tile(row_tiles: Vec<Vec<Tile>>) -> BTreeMap<Tile, Vec<usize>> {
    let mut pairs: Vec<(Tile, usize)> =
        row_tiles.into_par_iter().enumerate().flat_map_iter(|(n, ts)| ts.into_iter().map(move |t| (t, n))).collect();
    pairs.par_sort_unstable();
    pairs.chunk_by(|a, b| a.0 == b.0).map(|run| (run[0].0, run.iter().map(|p| p.1).collect())).collect()
}

/// Polygons (feature, attribute row, part, polygon) with those that cross the antimeridian split
/// there; a piece after the first has part `part | k << 32`, so its identifier is new while
/// every other polygon keeps its own. Footprint flags follow their polygons.
type Located = (usize, usize, usize, Polygon);
fn split_at_antimeridian(
    config: &Config,
    path: &Path,
    polygons: Vec<Located>,
    flags: Option<Vec<bool>>,
) -> (Vec<Located>, Option<Vec<bool>>) {
    // Most files have none: they are checked on rayon's threads and kept as they are.
    if !polygons.par_iter().any(|e| crate::extent::crosses_antimeridian(config.tms, &e.3)) {
        return (polygons, flags);
    }
    let mut out = Vec::with_capacity(polygons.len());
    let mut out_flags = flags.as_ref().map(|_| Vec::with_capacity(polygons.len()));
    let mut crossing = 0;
    for (n, (fid, row, part, p)) in polygons.into_iter().enumerate() {
        let pieces = crate::extent::split_at_antimeridian(config.tms, p);
        crossing += usize::from(pieces.len() != 1);
        for (k, piece) in pieces.into_iter().enumerate() {
            out.push((fid, row, part | (k << 32), piece));
            if let (Some(of), Some(f)) = (out_flags.as_mut(), flags.as_ref()) {
                of.push(f[n]);
            }
        }
    }
    if crossing > 0 {
        tracing::info!("{}: {crossing} polygons cross the antimeridian: split there", path.display());
    }
    (out, out_flags)
}

/// Refuses inputs whose columns collide with the staging columns (case-insensitive).
fn check_names(config: &Config, columns: &[Column], path: &Path) -> anyhow::Result<()> {
    let p = &config.props;
    let ours = [
        &p.centroid_x,
        &p.centroid_y,
        &p.area,
        &p.tile,
        &p.centroid_tile,
        &p.filename,
        &p.identifier,
        &p.centroid_within_tile,
        &p.duplicated,
    ];
    for c in columns {
        if ours.iter().any(|o| o.eq_ignore_ascii_case(&c.name)) {
            bail!("{}: column `{}` collides with a staging column", path.display(), c.name);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use iwp_core::rand::Rand;

    #[test]
    fn rows_by_tile_lists_each_tiles_rows_in_order_as_filling_a_map_row_by_row_does() {
        let mut rand = Rand(22);
        for rows in [0, 1, 7, 5000, 40_000] {
            let row_tiles: Vec<Vec<Tile>> = (0..rows)
                .map(|_| {
                    // No tile for some rows, up to four (a row's tiles are distinct) for others.
                    let (x, y) = (rand.below(30) as u32, rand.below(30) as u32);
                    let n = rand.below(5) as u32;
                    (0..n).map(|k| Tile::new(x + k % 2, y + k / 2, 15)).collect()
                })
                .collect();
            let mut expected: BTreeMap<Tile, Vec<usize>> = BTreeMap::new();
            for (n, ts) in row_tiles.iter().enumerate() {
                for t in ts {
                    expected.entry(*t).or_default().push(n);
                }
            }
            assert_eq!(rows_by_tile(row_tiles), expected, "{rows} rows");
        }
    }
}
