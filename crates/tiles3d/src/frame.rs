//! A tile's local east-north-up frame, and vertex positions quantized to 16-bit integers in it
//! (glTF's KHR_mesh_quantization: 8 bytes a vertex instead of 12) where that moves no vertex
//! farther than [`MAX_ERROR`].

use crate::ecef::{A, F};

/// The farthest quantization may move a vertex, in metres: half a step along each axis
/// together. A z15 tile of WorldCRS84Quad (about 610 m north to south) moves vertices by at
/// most about 5 mm; larger contents keep float positions.
pub const MAX_ERROR: f64 = 0.0075;

/// Positions as integer steps along a local frame's axes.
#[derive(Debug, Clone, PartialEq)]
pub struct Quantized {
    /// Per vertex, the steps east, north and up from `origin`.
    pub positions: Vec<[i16; 3]>,
    /// ECEF point (metres) of the steps' origin.
    pub origin: [f64; 3],
    /// The frame's east, north and up axes: ECEF unit vectors.
    pub axes: [[f64; 3]; 3],
    /// Metres a step along each axis.
    pub step: [f64; 3],
}

impl Quantized {
    /// The ECEF point (metres) of vertex `i`.
    pub fn ecef(&self, i: usize) -> [f64; 3] {
        let q = self.positions[i];
        let mut p = self.origin;
        for (k, axis) in self.axes.iter().enumerate() {
            let d = f64::from(q[k]) * self.step[k];
            for (c, a) in p.iter_mut().zip(axis) {
                *c += d * a;
            }
        }
        p
    }
}

/// The east, north and up unit vectors (ECEF) at an ECEF point: up is the ellipsoid's normal.
pub fn enu_axes([x, y, z]: [f64; 3]) -> [[f64; 3]; 3] {
    let b2 = (A * (1.0 - F)).powi(2);
    let normal = unit([x / (A * A), y / (A * A), z / b2]);
    let east = unit([-y, x, 0.0]);
    let north = cross(normal, east);
    [east, north, normal]
}

/// `positions` (ECEF metres relative to `centre`) as integer steps in the east-north-up frame
/// at `centre`, or None when some vertex would move farther than [`MAX_ERROR`] (or there is
/// no vertex).
pub fn quantize(centre: [f64; 3], positions: &[[f32; 3]]) -> Option<Quantized> {
    let axes = enu_axes(centre);
    let local: Vec<[f64; 3]> = positions.iter().map(|p| axes.map(|a| dot(a, p.map(f64::from)))).collect();
    let (mut lo, mut hi) = ([f64::INFINITY; 3], [f64::NEG_INFINITY; 3]);
    for p in &local {
        for k in 0..3 {
            (lo[k], hi[k]) = (lo[k].min(p[k]), hi[k].max(p[k]));
        }
    }
    if local.is_empty() {
        return None;
    }
    let mid: [f64; 3] = std::array::from_fn(|k| (lo[k] + hi[k]) / 2.0);
    // A step never 0, so the node's scale stays invertible.
    let step: [f64; 3] = std::array::from_fn(|k| ((hi[k] - lo[k]) / 2.0 / f64::from(i16::MAX)).max(1e-6));
    if step.iter().map(|s| (s / 2.0).powi(2)).sum::<f64>().sqrt() > MAX_ERROR {
        return None;
    }
    let quantized = local.iter().map(|p| std::array::from_fn(|k| ((p[k] - mid[k]) / step[k]).round() as i16)).collect();
    let mut origin = centre;
    for (k, axis) in axes.iter().enumerate() {
        for (c, a) in origin.iter_mut().zip(axis) {
            *c += mid[k] * a;
        }
    }
    Some(Quantized { positions: quantized, origin, axes, step })
}

/// The unit quaternion `[x, y, z, w]` of the rotation whose matrix has `columns`.
pub fn quaternion(columns: [[f64; 3]; 3]) -> [f64; 4] {
    let m = |r: usize, c: usize| columns[c][r];
    let trace = m(0, 0) + m(1, 1) + m(2, 2);
    let q = if trace > 0.0 {
        let s = (trace + 1.0).sqrt() * 2.0;
        [(m(2, 1) - m(1, 2)) / s, (m(0, 2) - m(2, 0)) / s, (m(1, 0) - m(0, 1)) / s, s / 4.0]
    } else if m(0, 0) > m(1, 1) && m(0, 0) > m(2, 2) {
        let s = (1.0 + m(0, 0) - m(1, 1) - m(2, 2)).sqrt() * 2.0;
        [s / 4.0, (m(0, 1) + m(1, 0)) / s, (m(0, 2) + m(2, 0)) / s, (m(2, 1) - m(1, 2)) / s]
    } else if m(1, 1) > m(2, 2) {
        let s = (1.0 + m(1, 1) - m(0, 0) - m(2, 2)).sqrt() * 2.0;
        [(m(0, 1) + m(1, 0)) / s, s / 4.0, (m(1, 2) + m(2, 1)) / s, (m(0, 2) - m(2, 0)) / s]
    } else {
        let s = (1.0 + m(2, 2) - m(0, 0) - m(1, 1)).sqrt() * 2.0;
        [(m(0, 2) + m(2, 0)) / s, (m(1, 2) + m(2, 1)) / s, s / 4.0, (m(1, 0) - m(0, 1)) / s]
    };
    let n = q.iter().map(|v| v * v).sum::<f64>().sqrt();
    q.map(|v| v / n)
}

fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
}

fn unit(v: [f64; 3]) -> [f64; 3] {
    let n = dot(v, v).sqrt();
    v.map(|c| c / n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ecef::to_ecef;

    /// Rotates `v` by the unit quaternion `q` ([x, y, z, w]).
    fn rotate(q: [f64; 4], v: [f64; 3]) -> [f64; 3] {
        let u = [q[0], q[1], q[2]];
        let t = cross(u, v).map(|c| 2.0 * c);
        let ut = cross(u, t);
        std::array::from_fn(|k| v[k] + q[3] * t[k] + ut[k])
    }

    #[test]
    fn quaternions_rotate_as_their_matrices() {
        for (lon, lat) in [(-150.0, 70.0), (0.0, 0.0), (179.9, -89.9), (90.0, 45.0), (-45.0, 10.0), (120.0, -60.0)] {
            let axes = enu_axes(to_ecef(lon, lat, 0.0));
            let q = quaternion(axes);
            for (k, axis) in axes.iter().enumerate() {
                let e: [f64; 3] = std::array::from_fn(|i| if i == k { 1.0 } else { 0.0 });
                let r = rotate(q, e);
                assert!((0..3).all(|i| (r[i] - axis[i]).abs() < 1e-12), "{lon} {lat}: {r:?} {axis:?}");
            }
        }
    }

    #[test]
    fn up_is_the_normal_and_north_points_to_the_pole() {
        let p = to_ecef(-150.0, 70.0, 0.0);
        let [east, north, up] = enu_axes(p);
        let higher = to_ecef(-150.0, 70.0, 1.0);
        assert!((0..3).all(|k| (higher[k] - p[k] - up[k]).abs() < 1e-9));
        let further = to_ecef(-150.0, 70.0001, 0.0);
        let d: [f64; 3] = std::array::from_fn(|k| further[k] - p[k]);
        assert!(dot(d, north) > 0.99 * dot(d, d).sqrt() && dot(d, east).abs() < 1e-6);
    }

    #[test]
    fn a_z15_tile_moves_no_vertex_farther_than_the_bound_and_a_larger_one_stays_float() {
        let step = 180.0 / f64::from(1 << 15);
        let tile = |span: f64| {
            let centre = to_ecef(-150.0 + span / 2.0, 70.0 + span / 2.0, 0.0);
            let mut points = Vec::new();
            for i in 0..=20 {
                for j in 0..=20 {
                    let p = to_ecef(-150.0 + span * f64::from(i) / 20.0, 70.0 + span * f64::from(j) / 20.0, 0.0);
                    points.push(std::array::from_fn(|k| (p[k] - centre[k]) as f32));
                }
            }
            (centre, points)
        };
        let (centre, points) = tile(step * 1.05);
        let q = quantize(centre, &points).expect("a z15 tile quantizes");
        for (i, p) in points.iter().enumerate() {
            let back = q.ecef(i);
            let d = (0..3).map(|k| (back[k] - centre[k] - f64::from(p[k])).powi(2)).sum::<f64>().sqrt();
            assert!(d <= MAX_ERROR, "vertex {i} moved {d} m");
        }
        let (centre, points) = tile(step * 2.0);
        assert_eq!(quantize(centre, &points), None);
        assert_eq!(quantize(centre, &[]), None);
    }
}
