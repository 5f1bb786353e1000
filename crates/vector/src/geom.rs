//! Polygons as closed rings of (x, y), with the planar measures staging needs. Area and
//! centroid follow GEOS's formulas (shoelace shifted to the first vertex; triangle fan from the
//! first shell vertex), so they agree with shapely to the last bits on small polygons far from
//! the origin, where a plain shoelace loses most of its digits.

use crate::simplify::Pt;
use geo::{Intersects, LineString, MultiPolygon};
use iwp_core::tms::Bounds;

/// A polygon: the shell first, then holes; every ring closed (first point = last point).
#[derive(Debug, Clone, PartialEq)]
pub struct Polygon {
    /// The rings, shell first: each a closed list of (x, y) points in the polygon's CRS.
    pub rings: Vec<Vec<Pt>>,
}

/// Signed area of a closed ring (positive when counter-clockwise), as GEOS Area::ofRingSigned.
pub fn ring_signed_area(ring: &[Pt]) -> f64 {
    let n = ring.len();
    if n < 3 {
        return 0.0;
    }
    let x0 = ring[0].0;
    let mut sum = 0.0;
    for i in 1..n - 1 {
        sum += (ring[i].0 - x0) * (ring[i - 1].1 - ring[i + 1].1);
    }
    // GEOS sums p1.x * (p0.y - p2.y), which is clockwise-positive; flip to the usual sign.
    -sum / 2.0
}

impl Polygon {
    /// Planar area: |shell| minus |holes|.
    pub fn area(&self) -> f64 {
        let mut rings = self.rings.iter();
        let shell = rings.next().map(|r| ring_signed_area(r).abs()).unwrap_or(0.0);
        shell - rings.map(|r| ring_signed_area(r).abs()).sum::<f64>()
    }

    /// Area centroid (GEOS Centroid: triangles fanned from the first shell vertex).
    pub fn centroid(&self) -> Pt {
        let Some(base) = self.rings.first().and_then(|r| r.first()).copied() else { return (f64::NAN, f64::NAN) };
        let (mut cx, mut cy, mut area2) = (0.0, 0.0, 0.0);
        for (k, ring) in self.rings.iter().enumerate() {
            let ccw = ring_signed_area(ring) > 0.0;
            // Shell counts positive when clockwise, holes when counter-clockwise (as GEOS).
            let sign = if (k == 0) != ccw { 1.0 } else { -1.0 };
            for w in ring.windows(2) {
                let (p1, p2) = (w[0], w[1]);
                let a2 = (p1.0 - base.0) * (p2.1 - base.1) - (p2.0 - base.0) * (p1.1 - base.1);
                cx += sign * a2 * (base.0 + p1.0 + p2.0);
                cy += sign * a2 * (base.1 + p1.1 + p2.1);
                area2 += sign * a2;
            }
        }
        if area2 != 0.0 {
            (cx / 3.0 / area2, cy / 3.0 / area2)
        } else {
            let n = self.rings[0].len() as f64;
            let s = self.rings[0].iter().fold((0.0, 0.0), |a, p| (a.0 + p.0, a.1 + p.1));
            (s.0 / n, s.1 / n)
        }
    }

    /// Bounding box of the shell.
    pub fn bounds(&self) -> Bounds {
        let mut b = Bounds { left: f64::MAX, bottom: f64::MAX, right: f64::MIN, top: f64::MIN };
        for p in self.rings.first().map(Vec::as_slice).unwrap_or(&[]) {
            b.left = b.left.min(p.0);
            b.right = b.right.max(p.0);
            b.bottom = b.bottom.min(p.1);
            b.top = b.top.max(p.1);
        }
        b
    }

    /// The polygon as a geo polygon, for predicates.
    pub fn to_geo(&self) -> geo::Polygon<f64> {
        let ring = |r: &Vec<Pt>| LineString::from(r.clone());
        let mut rings = self.rings.iter();
        let shell = rings.next().map(ring).unwrap_or_else(|| LineString::new(vec![]));
        geo::Polygon::new(shell, rings.map(ring).collect())
    }

    /// True when the polygon meets the closed box (touching counts, as GEOS intersects).
    pub fn intersects_box(&self, b: &Bounds) -> bool {
        let own = self.bounds();
        if own.right < b.left || own.left > b.right || own.top < b.bottom || own.bottom > b.top {
            return false;
        }
        if own.left >= b.left && own.right <= b.right && own.bottom >= b.bottom && own.top <= b.top {
            return true;
        }
        let rect = geo::Rect::new((b.left, b.bottom), (b.right, b.top));
        self.to_geo().intersects(&rect)
    }

    /// True when the polygon meets any polygon of `other` (touching counts).
    pub fn intersects(&self, other: &MultiPolygon<f64>) -> bool {
        self.to_geo().intersects(other)
    }

    /// True when GEOS would certainly call the polygon valid: a single closed ring of finite
    /// points, no zero-length or collinear-folding edges, and no two edges meeting except
    /// neighbours at their shared vertex (decided with exact orientation tests). False means
    /// "not sure": ask GEOS. A fast path for the common simple polygon.
    pub fn certainly_valid(&self) -> bool {
        let [ring] = self.rings.as_slice() else { return false };
        let n = ring.len();
        if n < 4 || ring[0] != ring[n - 1] || ring.iter().any(|p| !p.0.is_finite() || !p.1.is_finite()) {
            return false;
        }
        let edges = n - 1;
        let orient = |a: Pt, b: Pt, c: Pt| {
            robust::orient2d(
                robust::Coord { x: a.0, y: a.1 },
                robust::Coord { x: b.0, y: b.1 },
                robust::Coord { x: c.0, y: c.1 },
            )
        };
        // Neighbouring edges: no zero length, no fold back onto the previous edge.
        for i in 0..edges {
            let (a, b, c) = (ring[i], ring[i + 1], ring[(i + 2) % edges]);
            if a == b || orient(a, b, c) == 0.0 {
                return false;
            }
        }
        let boxes: Vec<(f64, f64, f64, f64)> = (0..edges)
            .map(|i| {
                let (a, b) = (ring[i], ring[i + 1]);
                (a.0.min(b.0), a.0.max(b.0), a.1.min(b.1), a.1.max(b.1))
            })
            .collect();
        for i in 0..edges {
            for j in i + 2..edges {
                if i == 0 && j == edges - 1 {
                    continue; // the closing edge neighbours the first
                }
                let (bi, bj) = (boxes[i], boxes[j]);
                if bi.1 < bj.0 || bj.1 < bi.0 || bi.3 < bj.2 || bj.3 < bi.2 {
                    continue;
                }
                let (a, b, c, d) = (ring[i], ring[i + 1], ring[j], ring[j + 1]);
                let (o1, o2) = (orient(a, b, c), orient(a, b, d));
                let (o3, o4) = (orient(c, d, a), orient(c, d, b));
                // Strictly separated by either edge's line, or else they may meet.
                if !(o1 * o2 > 0.0 || o3 * o4 > 0.0) {
                    return false;
                }
            }
        }
        true
    }
}

/// Many polygons stored flat: every point in one buffer, rings and polygons as the ends of
/// index ranges, so reading a tile's thousands of polygons allocates nothing per polygon or ring.
/// Rings are closed as they are added.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct PolygonList {
    points: Vec<Pt>,
    /// Per ring, the end of its points; per polygon, the end of its rings.
    ring_ends: Vec<usize>,
    polygon_ends: Vec<usize>,
}

impl PolygonList {
    /// The number of polygons.
    pub fn len(&self) -> usize {
        self.polygon_ends.len()
    }

    /// True when there is no polygon.
    pub fn is_empty(&self) -> bool {
        self.polygon_ends.is_empty()
    }

    /// Removes every polygon, keeping the buffers.
    pub fn clear(&mut self) {
        self.points.clear();
        self.ring_ends.clear();
        self.polygon_ends.clear();
    }

    /// The rings of polygon `i`, shell first.
    pub fn rings(&self, i: usize) -> impl Iterator<Item = &[Pt]> + '_ {
        let first_ring = if i == 0 { 0 } else { self.polygon_ends[i - 1] };
        (first_ring..self.polygon_ends[i]).map(move |r| {
            let start = if r == 0 { 0 } else { self.ring_ends[r - 1] };
            &self.points[start..self.ring_ends[r]]
        })
    }

    /// Polygon `i` on its own.
    pub fn polygon(&self, i: usize) -> Polygon {
        Polygon { rings: self.rings(i).map(<[Pt]>::to_vec).collect() }
    }

    /// Starts a polygon: the rings added next are its rings.
    pub fn begin_polygon(&mut self) {
        self.polygon_ends.push(self.ring_ends.len());
    }

    /// Adds a point to the ring being read.
    pub fn push_point(&mut self, p: Pt) {
        self.points.push(p);
    }

    /// Ends the ring being read: closed if it was not, dropped if it has no point.
    pub fn end_ring(&mut self) {
        let start = self.ring_ends.last().copied().unwrap_or(0);
        if self.points.len() == start {
            return;
        }
        if self.points[start] != self.points[self.points.len() - 1] {
            self.points.push(self.points[start]);
        }
        self.ring_ends.push(self.points.len());
        if let Some(end) = self.polygon_ends.last_mut() {
            *end = self.ring_ends.len();
        }
    }

    /// Ends a polygon: dropped if it has no ring (an empty polygon).
    pub fn end_polygon(&mut self) {
        let rings_before = if self.polygon_ends.len() < 2 { 0 } else { self.polygon_ends[self.polygon_ends.len() - 2] };
        if self.polygon_ends.last() == Some(&rings_before) {
            self.polygon_ends.pop();
        }
    }

    /// Appends polygon `i` of `other`.
    pub fn push_from(&mut self, other: &PolygonList, i: usize) {
        self.begin_polygon();
        for ring in other.rings(i) {
            self.points.extend_from_slice(ring);
            self.end_ring();
        }
    }
}

/// A ring with its first point repeated at the end when it was not (GDAL reads unclosed rings).
pub fn close_ring(mut ring: Vec<Pt>) -> Vec<Pt> {
    if let (Some(&first), Some(&last)) = (ring.first(), ring.last()) {
        if first != last {
            ring.push(first);
        }
    }
    ring
}

/// Reads polygons out of a GDAL geometry: a Polygon, or the parts of a MultiPolygon (other
/// types give none). Rings are closed (an unclosed ring gets its first point again).
pub fn polygons_of(g: &gdal::vector::Geometry) -> Vec<Polygon> {
    use gdal::vector::OGRwkbGeometryType::{wkbMultiPolygon, wkbPolygon};
    fn rings_of(p: &gdal::vector::Geometry) -> Polygon {
        let rings = (0..p.geometry_count())
            .map(|i| {
                let mut pts = Vec::new();
                p.get_geometry(i).get_points(&mut pts);
                close_ring(pts.into_iter().map(|q| (q.0, q.1)).collect::<Vec<Pt>>())
            })
            .filter(|r| !r.is_empty())
            .collect::<Vec<_>>();
        Polygon { rings }
    }
    let flat = gdal::vector::geometry_type_flatten(g.geometry_type());
    let parts = if flat == wkbPolygon {
        vec![rings_of(g)]
    } else if flat == wkbMultiPolygon {
        (0..g.geometry_count()).map(|i| rings_of(&g.get_geometry(i))).collect()
    } else {
        Vec::new()
    };
    parts.into_iter().filter(|p| !p.rings.is_empty()).collect()
}
