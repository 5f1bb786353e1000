//! Statistics rasters of a z-max tile from its staged polygons: one band per configured statistic.
//! Count-weighted statistics put each polygon in the pixel of its centroid (the reference's
//! numpy edge rule: columns (left, right], rows [bottom, top)); area-weighted ones put a piece in
//! every pixel the polygon covers, with its exact coverage.

use crate::aggregate::PixelAggregator;
use crate::coverage::{Coverage, CoverageSum, Grid};
use anyhow::{bail, Context};
use iwp_core::config::{Aggregation, Config, DedupAt, StatProperty, Statistic, WeightBy};
use iwp_vector::geom::PolygonList;
use iwp_vector::gpkg::{number, FeatureTable};
use rusqlite::types::ValueRef;
use std::path::Path;

/// Pieces smaller than this fraction of a pixel are treated as touching, not covering (the
/// reference's overlay keeps only polygonal intersections).
const MIN_PIECE: f64 = 1e-12;

/// The polygons of a staged tile that rasterization uses, with their centroids and the values
/// of the attribute columns statistics name (per statistic, None for the built-in properties).
#[derive(Debug, Default)]
pub struct TilePolygons {
    /// The tile's polygons in the TMS CRS (a multipolygon's parts each on their own), in identifier order.
    pub polygons: PolygonList,
    /// Each polygon's centroid: its row's stored staging centroid, else that of the row's first part.
    pub centroids: Vec<(f64, f64)>,
    /// Per statistic, each polygon's value of its attribute column (None for a built-in property;
    /// an inner None for a null).
    pub values: Vec<Option<Vec<Option<f64>>>>,
    /// Rows dropped as duplicates.
    pub dropped: usize,
}

/// Reads a staged tile: polygons, stored centroids (computed when the columns are missing), the
/// statistics' attribute columns; drops flagged duplicates when deduplicate_at has "raster".
/// Polygons come in identifier order (rows without a text identifier first, then by row), so a
/// tile's rows sum in the same order however the tile was put together (one process, or several
/// nodes merged) and the rasters are the same to the last bit.
pub fn read_staged_tile(config: &Config, path: &Path) -> anyhow::Result<TilePolygons> {
    read_staged_table(config, &FeatureTable::open(path)?, path)
}

/// [`read_staged_tile`] of a staged tile already open (`path` names it in errors).
pub fn read_staged_table(config: &Config, table: &FeatureTable, path: &Path) -> anyhow::Result<TilePolygons> {
    let optional = |name: &str| table.has_column(name).then(|| name.to_string());
    let dup = if config.drops_duplicates_at(DedupAt::Raster) { optional(&config.props.duplicated) } else { None };
    let centroid = optional(&config.props.centroid_x).zip(optional(&config.props.centroid_y));
    let identifier = optional(&config.props.identifier);
    for (s, column) in config.statistics.iter().filter_map(|s| Some((s, s.property.column()?))) {
        if !table.has_column(column) {
            bail!("{}: no column `{column}` for statistic {}", path.display(), s.name);
        }
    }
    // Only the columns used are read, each once: [duplicated] [centroid x, y] [identifier]
    // attributes...
    let mut columns: Vec<&str> = Vec::new();
    columns.extend(dup.as_deref());
    let centroid_at = centroid.as_ref().map(|(x, y)| {
        columns.push(x);
        columns.push(y);
        columns.len() - 2
    });
    let identifier_at = identifier.as_deref().map(|name| {
        columns.push(name);
        columns.len() - 1
    });
    let attribute_at: Vec<Option<usize>> = config
        .statistics
        .iter()
        .map(|s| {
            s.property.column().map(|column| {
                columns.push(column);
                columns.len() - 1
            })
        })
        .collect();
    let mut read =
        TilePolygons { values: attribute_at.iter().map(|c| c.map(|_| Vec::new())).collect(), ..Default::default() };
    // Per polygon, its row's identifier as a range of `names` (None without a text identifier).
    let (mut names, mut keys): (Vec<u8>, Vec<Option<(usize, usize)>>) = (Vec::new(), Vec::new());
    let value = |v: ValueRef| number(v).with_context(|| path.display().to_string());
    table.for_each_row(&columns, |parts, row| {
        if dup.is_some() && matches!(row.get(0)?, ValueRef::Integer(1)) {
            read.dropped += 1;
            return Ok(());
        }
        if parts.is_empty() {
            return Ok(());
        }
        // Parts of a multipolygon share the feature's centroid, identifier and values.
        let stored = match centroid_at {
            Some(i) => value(row.get(i)?)?.zip(value(row.get(i + 1)?)?),
            None => None,
        };
        let centroid = stored.unwrap_or_else(|| parts.polygon(0).centroid());
        let key = match identifier_at.map(|i| row.get(i)).transpose()? {
            Some(ValueRef::Text(text)) => {
                names.extend_from_slice(text);
                Some((names.len() - text.len(), names.len()))
            }
            _ => None,
        };
        for part in 0..parts.len() {
            read.polygons.push_from(parts, part);
            read.centroids.push(centroid);
            keys.push(key);
        }
        for (column, list) in attribute_at.iter().zip(read.values.iter_mut()) {
            if let (Some(i), Some(list)) = (column, list.as_mut()) {
                let v = value(row.get(*i)?)?;
                list.extend(std::iter::repeat_n(v, parts.len()));
            }
        }
        Ok(())
    })?;
    // Sorted here rather than by SQLite, whose sort would copy every row, geometry and all.
    // Compared by the names' first 16 bytes (as one number, big-endian: the byte order), then
    // the whole names, then the rows: the order of a stable sort by name, at a fraction of the
    // cost of comparing the names byte by byte.
    let name = |n: usize| keys[n].map(|(start, end)| &names[start..end]);
    let mut order: Vec<(Option<u128>, usize)> = (0..read.polygons.len())
        .map(|n| {
            (
                name(n).map(|text| {
                    let mut prefix = [0; 16];
                    let len = text.len().min(16);
                    prefix[..len].copy_from_slice(&text[..len]);
                    u128::from_be_bytes(prefix)
                }),
                n,
            )
        })
        .collect();
    order.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| name(a.1).cmp(&name(b.1))).then(a.1.cmp(&b.1)));
    Ok(read.reordered(order.into_iter().map(|(_, n)| n)))
}

impl TilePolygons {
    /// The same polygons (with their centroids and values) in the order `order` gives.
    fn reordered(&self, order: impl ExactSizeIterator<Item = usize>) -> TilePolygons {
        let mut out = TilePolygons {
            values: self.values.iter().map(|v| v.as_ref().map(|_| Vec::with_capacity(order.len()))).collect(),
            dropped: self.dropped,
            ..Default::default()
        };
        for n in order {
            out.polygons.push_from(&self.polygons, n);
            out.centroids.push(self.centroids[n]);
            for (from, to) in self.values.iter().zip(out.values.iter_mut()) {
                if let (Some(from), Some(to)) = (from, to.as_mut()) {
                    to.push(from[n]);
                }
            }
        }
        out
    }
}

/// Pixel edges as numpy's `linspace(start, stop, n + 1)` gives them (last edge exactly `stop`).
fn linspace(start: f64, stop: f64, n: usize) -> Vec<f64> {
    let step = (stop - start) / n as f64;
    let mut v: Vec<f64> = (0..=n).map(|i| i as f64 * step + start).collect();
    v[n] = stop;
    v
}

/// Finds the pixel holding a centroid with the reference's edge rule.
struct CentroidPixels {
    cols: Vec<f64>,
    rows: Vec<f64>,
}

impl CentroidPixels {
    fn new(grid: &Grid) -> CentroidPixels {
        let b = grid.bounds;
        CentroidPixels { cols: linspace(b.left, b.right, grid.width), rows: linspace(b.bottom, b.top, grid.height) }
    }

    /// Pixel index (row * width + column), or None outside the tile.
    fn pixel(&self, x: f64, y: f64) -> Option<usize> {
        let (w, h) = (self.cols.len() - 1, self.rows.len() - 1);
        // searchsorted(cols, x, "left") - 1: columns are (left, right].
        let c = partition_point_near(&self.cols, x, |e| e < x).checked_sub(1)?;
        // searchsorted(-rows_descending, -y, "left") - 1: rows are [bottom, top).
        let r = (h + 1 - partition_point_near(&self.rows, y, |e| e <= y)).checked_sub(1)?;
        (c < w && r < h).then_some(r * w + c)
    }
}

/// `edges.partition_point(below)` for evenly spaced `edges` and a predicate true below `v`:
/// started from where `v` falls by arithmetic and moved to the exact boundary, so a step or
/// two instead of a binary search's unpredictable branches.
fn partition_point_near(edges: &[f64], v: f64, below: impl Fn(f64) -> bool) -> usize {
    let n = edges.len();
    let step = (edges[n - 1] - edges[0]) / (n - 1) as f64;
    // Saturating: a NaN or a point far outside starts at an end.
    let mut k = (((v - edges[0]) / step) as usize).min(n);
    while k > 0 && !below(edges[k - 1]) {
        k -= 1;
    }
    while k < n && below(edges[k]) {
        k += 1;
    }
    k
}

/// The bands of a tile (one per statistic, row-major, `grid.width * grid.height` values).
/// Statistics summing coverage fractions or areas (no attribute column) take every polygon's
/// coverage through one [`CoverageSum`]; the others (attribute values, other aggregations)
/// take each polygon's pixels and fractions, pieces under 1e-12 of a pixel left out.
pub fn tile_bands(config: &Config, grid: &Grid, input: &TilePolygons) -> anyhow::Result<Vec<Vec<f64>>> {
    let pixels = grid.width * grid.height;
    let (pw, ph) = grid.pixel_size();
    let summed: Vec<bool> = config
        .statistics
        .iter()
        .zip(&input.values)
        .map(|(s, values)| {
            s.weight_by == WeightBy::Area && s.aggregation_method == Aggregation::Sum && values.is_none()
        })
        .collect();
    let mut aggs: Vec<Option<PixelAggregator>> = config
        .statistics
        .iter()
        .zip(&summed)
        .map(|(s, &summed)| (!summed).then(|| PixelAggregator::new(s.aggregation_method, pixels)))
        .collect();
    let needs_cells =
        config.statistics.iter().zip(&summed).any(|(s, &summed)| s.weight_by == WeightBy::Area && !summed);
    // One sum per thread, reused from tile to tile (its grid-sized buffer comes back empty).
    thread_local! {
        static SUMS: std::cell::RefCell<Option<CoverageSum>> = const { std::cell::RefCell::new(None) };
    }
    let mut sum = summed.contains(&true).then(|| {
        SUMS.with_borrow_mut(|slot| slot.take().map_or_else(|| CoverageSum::new(*grid), |s| s.moved_to(*grid)))
    });
    let centroid_pixels = CentroidPixels::new(grid);
    let carried: Vec<Piece> = config.statistics.iter().map(|s| Piece::of(s, pw * ph)).collect();
    let mut coverage = Coverage::default();
    for n in 0..input.polygons.len() {
        let centroid_pixel = centroid_pixels.pixel(input.centroids[n].0, input.centroids[n].1);
        if let Some(sum) = sum.as_mut() {
            sum.add(input.polygons.rings(n));
        }
        if needs_cells {
            coverage.compute(grid, input.polygons.rings(n));
        }
        for (k, (stat, agg)) in config.statistics.iter().zip(aggs.iter_mut()).enumerate() {
            let Some(agg) = agg else { continue };
            let attribute = input.values[k].as_ref().map(|v| v[n]);
            match stat.weight_by {
                WeightBy::Count => {
                    if let Some(p) = centroid_pixel {
                        agg.add(p, attribute.unwrap_or(Some(1.0)));
                    }
                }
                WeightBy::Area => {
                    let pieces = coverage.cells().filter(|&(_, f)| f > MIN_PIECE);
                    match (attribute, carried[k]) {
                        (Some(v), _) => agg.add_each(pieces, |_| v),
                        (None, Piece::Area(pixel_area)) => agg.add_each(pieces, |f| Some(f * pixel_area)),
                        (None, Piece::Fraction) => agg.add_each(pieces, Some),
                    }
                }
            }
        }
    }
    let mut fractions = sum.as_mut().map(|sum| sum.finish(MIN_PIECE)).unwrap_or_default();
    if let Some(sum) = sum {
        SUMS.with_borrow_mut(|slot| *slot = Some(sum));
    }
    let mut summed_left = summed.iter().filter(|&&s| s).count();
    Ok(aggs
        .into_iter()
        .zip(carried)
        .map(|(agg, piece)| {
            let Some(agg) = agg else {
                summed_left -= 1;
                return match piece {
                    Piece::Area(pixel_area) => fractions.iter().map(|&f| f * pixel_area).collect(),
                    Piece::Fraction if summed_left == 0 => std::mem::take(&mut fractions),
                    Piece::Fraction => fractions.clone(),
                };
            };
            agg.finish()
        })
        .collect())
}

/// The value an area-weighted piece carries when the statistic's property is not a column:
/// its area (`area_within_pixel`) or its fraction of the pixel (`area_per_pixel_area`).
#[derive(Clone, Copy)]
enum Piece {
    Area(f64),
    Fraction,
}

impl Piece {
    fn of(stat: &Statistic, pixel_area: f64) -> Piece {
        if stat.property == StatProperty::AreaWithinPixel {
            Piece::Area(pixel_area)
        } else {
            Piece::Fraction
        }
    }
}

/// The pixel grid of a tile: tile_size is [rows, columns], as the reference reads it.
pub fn tile_grid(config: &Config, tile: iwp_core::tms::Tile) -> Grid {
    Grid { bounds: config.tms.bounds(tile), width: config.tile_size[1] as usize, height: config.tile_size[0] as usize }
}

/// The GeoTIFF bands of a z-max tile from its staged file; also the polygon and dropped counts.
pub fn rasterize_tile(
    config: &Config,
    tile: iwp_core::tms::Tile,
    staged: &Path,
) -> anyhow::Result<(crate::geotiff::TileRaster, usize, usize)> {
    let input = read_staged_tile(config, staged)?;
    let grid = tile_grid(config, tile);
    let bands = tile_bands(config, &grid, &input)?;
    let raster = crate::geotiff::TileRaster {
        names: config.statistics.iter().map(|s| s.name.clone()).collect(),
        bands,
        width: grid.width,
        height: grid.height,
    };
    Ok((raster, input.polygons.len(), input.dropped))
}

#[cfg(test)]
mod tests {
    use super::{linspace, partition_point_near};
    use iwp_core::rand::Rand;

    #[test]
    fn partition_point_near_equals_a_binary_search() {
        let mut r = Rand(7);
        let edges = linspace(-73.123456789, -73.117963, 256);
        let (lo, hi) = (edges[0], edges[256]);
        let mut values: Vec<f64> = (0..20_000).map(|_| lo - 0.01 + r.unit() * (hi - lo + 0.02)).collect();
        // Every edge exactly, its neighbouring floats, far outside, and NaN.
        values
            .extend(edges.iter().flat_map(|&e| [e, f64::from_bits(e.to_bits() - 1), f64::from_bits(e.to_bits() + 1)]));
        values.extend([f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -1e300, 1e300]);
        for v in values {
            assert_eq!(partition_point_near(&edges, v, |e| e < v), edges.partition_point(|&e| e < v), "{v} (<)");
            assert_eq!(partition_point_near(&edges, v, |e| e <= v), edges.partition_point(|&e| e <= v), "{v} (<=)");
        }
    }
}
