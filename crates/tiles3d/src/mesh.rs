//! Flat polygons as one indexed triangle mesh: rings in longitude and latitude triangulated by
//! ear clipping (holes respected), vertices in ECEF metres relative to a tile-local centre, so
//! float32 positions keep sub-millimetre precision (the GLB may quantize them further: see
//! [`crate::frame`]); one feature id and one colour per vertex.

use crate::ecef::to_ecef;
use geo::{LineString, Polygon, TriangulateEarcut};

/// A point in longitude and latitude, degrees.
pub type LonLat = (f64, f64);

/// Triangles of many polygons, each polygon a feature.
#[derive(Debug, Clone, Default)]
pub struct Mesh {
    /// ECEF point (metres) the positions are relative to.
    pub centre: [f64; 3],
    /// Vertex positions in ECEF metres minus `centre` (z-up, as EPSG:4978).
    pub positions: Vec<[f32; 3]>,
    /// Three vertex indices per triangle, counter-clockwise seen from above.
    pub indices: Vec<u32>,
    /// Per vertex, the index of the feature (polygon) it belongs to.
    pub feature_ids: Vec<u32>,
    /// Per vertex, its feature's colour (RGBA).
    pub colours: Vec<[u8; 4]>,
}

impl Mesh {
    /// An empty mesh around `centre` (ECEF metres).
    pub fn new(centre: [f64; 3]) -> Mesh {
        Mesh { centre, ..Mesh::default() }
    }

    /// Adds a polygon (its rings, the exterior first, in longitude and latitude; closed or not)
    /// at `height` metres over the ellipsoid as feature `feature` in `colour`. Returns the
    /// triangles added: 0 for a polygon without area, which adds no vertex.
    pub fn add_polygon<'r>(
        &mut self,
        rings: impl IntoIterator<Item = &'r [LonLat]>,
        height: f64,
        feature: u32,
        colour: [u8; 4],
    ) -> usize {
        let mut rings = rings.into_iter().map(|r| LineString::from(r.to_vec()));
        let Some(exterior) = rings.next() else { return 0 };
        let polygon = Polygon::new(exterior, rings.collect());
        let raw = polygon.earcut_triangles_raw();
        if raw.triangle_indices.is_empty() {
            return 0;
        }
        let first = self.positions.len() as u32;
        let c = self.centre;
        for v in &raw.vertices {
            let p = to_ecef(v[0], v[1], height);
            self.positions.push([(p[0] - c[0]) as f32, (p[1] - c[1]) as f32, (p[2] - c[2]) as f32]);
            self.feature_ids.push(feature);
            self.colours.push(colour);
        }
        for t in raw.triangle_indices.chunks_exact(3) {
            let [a, b, c] = [raw.vertices[t[0]], raw.vertices[t[1]], raw.vertices[t[2]]];
            // Counter-clockwise in east/north is counter-clockwise seen from above.
            let ccw = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]) > 0.0;
            let order = if ccw { [t[0], t[1], t[2]] } else { [t[0], t[2], t[1]] };
            self.indices.extend(order.iter().map(|&i| first + i as u32));
        }
        raw.triangle_indices.len() / 3
    }

    /// Number of triangles.
    pub fn triangles(&self) -> usize {
        self.indices.len() / 3
    }

    /// Sum of the triangles' areas in square metres, from the float32 positions.
    pub fn area(&self) -> f64 {
        self.indices
            .chunks_exact(3)
            .map(|t| {
                let p = |i: u32| self.positions[i as usize].map(f64::from);
                let (a, b, c) = (p(t[0]), p(t[1]), p(t[2]));
                let (u, v) = ([b[0] - a[0], b[1] - a[1], b[2] - a[2]], [c[0] - a[0], c[1] - a[1], c[2] - a[2]]);
                let n = [u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]];
                0.5 * (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt()
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ecef::from_ecef;

    /// A 10 m x 10 m square (in degrees near 70° N) with a 4 m x 4 m hole.
    fn square_with_hole() -> (Vec<LonLat>, Vec<LonLat>) {
        let (lon, lat) = (-150.0, 70.0);
        let dlat = 10.0 / 111_600.0;
        let dlon = 10.0 / (111_600.0 * 70f64.to_radians().cos());
        let sq = |f0: f64, f1: f64| {
            vec![
                (lon + f0 * dlon, lat + f0 * dlat),
                (lon + f1 * dlon, lat + f0 * dlat),
                (lon + f1 * dlon, lat + f1 * dlat),
                (lon + f0 * dlon, lat + f1 * dlat),
                (lon + f0 * dlon, lat + f0 * dlat),
            ]
        };
        (sq(0.0, 1.0), sq(0.3, 0.7))
    }

    #[test]
    fn holes_are_left_out_and_faces_point_up() {
        let (outer, hole) = square_with_hole();
        let centre = to_ecef(outer[0].0, outer[0].1, 0.0);
        let mut mesh = Mesh::new(centre);
        let n = mesh.add_polygon([outer.as_slice(), hole.as_slice()], 0.0, 7, [1, 2, 3, 255]);
        assert_eq!(n, 8, "a square ring around a square hole: 8 triangles");
        let whole = {
            let mut m = Mesh::new(centre);
            m.add_polygon([outer.as_slice()], 0.0, 0, [0; 4]);
            m.area()
        };
        // The hole is 16 % of the square.
        assert!((mesh.area() / whole - 0.84).abs() < 1e-3, "{} {}", mesh.area(), whole);
        assert!(mesh.feature_ids.iter().all(|&f| f == 7) && mesh.colours.iter().all(|c| *c == [1, 2, 3, 255]));
        let up = {
            let l = (centre[0].powi(2) + centre[1].powi(2) + centre[2].powi(2)).sqrt();
            centre.map(|v| v / l)
        };
        for t in mesh.indices.chunks_exact(3) {
            let p = |i: u32| mesh.positions[i as usize].map(f64::from);
            let (a, b, c) = (p(t[0]), p(t[1]), p(t[2]));
            let (u, v) = ([b[0] - a[0], b[1] - a[1], b[2] - a[2]], [c[0] - a[0], c[1] - a[1], c[2] - a[2]]);
            let n = [u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]];
            assert!(n[0] * up[0] + n[1] * up[1] + n[2] * up[2] > 0.0, "triangle {t:?} faces down");
        }
    }

    #[test]
    fn float32_positions_keep_centimetres_within_a_tile() {
        // A point 600 m (a z15 tile) from the centre comes back within a millimetre.
        let centre = to_ecef(-150.0, 70.0, 0.0);
        let far = (-150.0 + 600.0 / (111_600.0 * 70f64.to_radians().cos()), 70.0 + 600.0 / 111_600.0);
        let tri = [(-150.0, 70.0), far, (far.0, 70.0)];
        let mut mesh = Mesh::new(centre);
        mesh.add_polygon([tri.as_slice()], 0.0, 0, [0; 4]);
        for (p, src) in mesh.positions.iter().zip([tri[0], tri[1], tri[2]]) {
            let abs = [p[0] as f64 + centre[0], p[1] as f64 + centre[1], p[2] as f64 + centre[2]];
            let (lon, lat, h) = from_ecef(abs);
            let metres = ((lon - src.0) * 111_600.0 * 70f64.to_radians().cos()).hypot((lat - src.1) * 111_600.0);
            assert!(metres < 1e-3 && h.abs() < 1e-3, "{metres} m, {h} m up");
        }
    }

    #[test]
    fn a_polygon_without_area_adds_nothing() {
        let line = [(0.0, 0.0), (1e-5, 0.0), (2e-5, 0.0), (0.0, 0.0)];
        let mut mesh = Mesh::new(to_ecef(0.0, 0.0, 0.0));
        assert_eq!(mesh.add_polygon([line.as_slice()], 0.0, 0, [0; 4]), 0);
        assert!(mesh.positions.is_empty());
    }
}
