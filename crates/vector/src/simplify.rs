//! Topology-preserving simplification of polygon rings, with the rules of GEOS >= 3.12
//! (`TopologyPreservingSimplifier`, what shapely's `simplify(tol)` does): Douglas-Peucker per
//! ring, refusing any flattening that would cross another segment of the polygon, keep fewer
//! than 4 ring points or move a hole across the shell; then the ring's start/end vertex is
//! dropped too where the same tests allow it. Implemented here, not taken from the system GEOS,
//! so results do not depend on the GEOS version installed (Debian bookworm's 3.11 never drops
//! the start vertex).

use robust::{orient2d, Coord};

/// A point (x, y).
pub type Pt = (f64, f64);

/// A result segment; `id` tells segments apart in the output index.
#[derive(Debug, Clone, Copy)]
struct Seg {
    p0: Pt,
    p1: Pt,
    id: usize,
}

/// Simplification state of one ring.
struct Ring<'a> {
    pts: &'a [Pt],
    result: Vec<Seg>,
}

impl Ring<'_> {
    /// Points in the result, as GEOS counts them (segments + 1, or 0).
    fn result_size(&self) -> usize {
        if self.result.is_empty() {
            0
        } else {
            self.result.len() + 1
        }
    }

    /// The point other rings test against for jumps.
    fn component_point(&self) -> Pt {
        self.result.first().map(|s| s.p0).unwrap_or(self.pts[1])
    }
}

/// Orientation of `q` relative to `p1`->`p2`: 1 left, -1 right, 0 collinear (exact).
fn orientation(p1: Pt, p2: Pt, q: Pt) -> i32 {
    let d = orient2d(Coord { x: p1.0, y: p1.1 }, Coord { x: p2.0, y: p2.1 }, Coord { x: q.0, y: q.1 });
    if d > 0.0 {
        1
    } else if d < 0.0 {
        -1
    } else {
        0
    }
}

fn env_contains(a: Pt, b: Pt, q: Pt) -> bool {
    q.0 >= a.0.min(b.0) && q.0 <= a.0.max(b.0) && q.1 >= a.1.min(b.1) && q.1 <= a.1.max(b.1)
}

fn envs_meet(p1: Pt, p2: Pt, q1: Pt, q2: Pt) -> bool {
    p1.0.min(p2.0) <= q1.0.max(q2.0)
        && q1.0.min(q2.0) <= p1.0.max(p2.0)
        && p1.1.min(p2.1) <= q1.1.max(q2.1)
        && q1.1.min(q2.1) <= p1.1.max(p2.1)
}

/// Distance from `p` to segment `a`-`b`, computed as GEOS's Distance::pointToSegment.
pub fn point_segment_distance(p: Pt, a: Pt, b: Pt) -> f64 {
    let dist = |q: Pt| ((p.0 - q.0) * (p.0 - q.0) + (p.1 - q.1) * (p.1 - q.1)).sqrt();
    if a == b {
        return dist(a);
    }
    let len2 = (b.0 - a.0) * (b.0 - a.0) + (b.1 - a.1) * (b.1 - a.1);
    let r = ((p.0 - a.0) * (b.0 - a.0) + (p.1 - a.1) * (b.1 - a.1)) / len2;
    if r <= 0.0 {
        return dist(a);
    }
    if r >= 1.0 {
        return dist(b);
    }
    let s = ((a.1 - p.1) * (b.0 - a.0) - (a.0 - p.0) * (b.1 - a.1)) / len2;
    s.abs() * len2.sqrt()
}

/// True when segments p and q meet at a point interior to either (GEOS LineIntersector's
/// isInteriorIntersection), or are the same segment.
fn invalid_intersection(p1: Pt, p2: Pt, q1: Pt, q2: Pt) -> bool {
    if (p1 == q1 && p2 == q2) || (p1 == q2 && p2 == q1) {
        return true;
    }
    if !envs_meet(p1, p2, q1, q2) {
        return false;
    }
    let (pq1, pq2) = (orientation(p1, p2, q1), orientation(p1, p2, q2));
    if (pq1 > 0 && pq2 > 0) || (pq1 < 0 && pq2 < 0) {
        return false;
    }
    let (qp1, qp2) = (orientation(q1, q2, p1), orientation(q1, q2, p2));
    if (qp1 > 0 && qp2 > 0) || (qp1 < 0 && qp2 < 0) {
        return false;
    }
    let interior = |pts: &[Pt]| pts.iter().any(|&i| !(i == p1 || i == p2) || !(i == q1 || i == q2));
    if pq1 == 0 && pq2 == 0 && qp1 == 0 && qp2 == 0 {
        let (q1p, q2p, p1q, p2q) =
            (env_contains(p1, p2, q1), env_contains(p1, p2, q2), env_contains(q1, q2, p1), env_contains(q1, q2, p2));
        let pair = |a: Pt, b: Pt, point: bool| if point { interior(&[a]) } else { interior(&[a, b]) };
        return if q1p && q2p {
            interior(&[q1, q2])
        } else if p1q && p2q {
            interior(&[p1, p2])
        } else if q1p && p1q {
            pair(q1, p1, q1 == p1 && !q2p && !p2q)
        } else if q1p && p2q {
            pair(q1, p2, q1 == p2 && !q2p && !p1q)
        } else if q2p && p1q {
            pair(q2, p1, q2 == p1 && !q1p && !p2q)
        } else if q2p && p2q {
            pair(q2, p2, q2 == p2 && !q1p && !p1q)
        } else {
            false
        };
    }
    if pq1 == 0 || pq2 == 0 || qp1 == 0 || qp2 == 0 {
        let at = if p1 == q1 || p1 == q2 {
            p1
        } else if p2 == q1 || p2 == q2 {
            p2
        } else if pq1 == 0 {
            q1
        } else if pq2 == 0 {
            q2
        } else if qp1 == 0 {
            p1
        } else {
            p2
        };
        return interior(&[at]);
    }
    true // a proper crossing is interior to both
}

/// Parity of crossings of the ray from `pt` towards +x with segment a-b (GEOS RayCrossingCounter).
fn crossings(pt: Pt, segs: impl Iterator<Item = (Pt, Pt)>) -> usize {
    let mut count = 0;
    for (p1, p2) in segs {
        if p1.0 < pt.0 && p2.0 < pt.0 {
            continue;
        }
        if pt == p2 || (p1.1 == pt.1 && p2.1 == pt.1) {
            continue;
        }
        if (p1.1 > pt.1 && p2.1 <= pt.1) || (p2.1 > pt.1 && p1.1 <= pt.1) {
            let mut o = orientation(p1, p2, pt);
            if o == 0 {
                continue;
            }
            if p2.1 < p1.1 {
                o = -o;
            }
            if o == 1 {
                count += 1;
            }
        }
    }
    count
}

struct Simplifier<'a> {
    rings: Vec<Ring<'a>>,
    /// Alive flags of the input segments, per ring.
    input_alive: Vec<Vec<bool>>,
    output: Vec<Seg>,
    tolerance: f64,
    next_id: usize,
}

impl<'a> Simplifier<'a> {
    fn new_seg(&mut self, p0: Pt, p1: Pt) -> Seg {
        self.next_id += 1;
        Seg { p0, p1, id: self.next_id }
    }

    fn has_output_intersection(&self, a: Pt, b: Pt) -> bool {
        self.output.iter().any(|s| invalid_intersection(s.p0, s.p1, a, b))
    }

    /// Input segments meeting a-b badly, except those of `ring` in [start, end) (when given).
    fn has_input_intersection(&self, a: Pt, b: Pt, exclude: Option<(usize, usize, usize)>) -> bool {
        for (r, alive) in self.input_alive.iter().enumerate() {
            let pts = self.rings[r].pts;
            for (k, _) in alive.iter().enumerate().filter(|(_, &on)| on) {
                if !invalid_intersection(pts[k], pts[k + 1], a, b) {
                    continue;
                }
                match exclude {
                    Some((ring, start, end)) if ring == r && k >= start && k < end => continue,
                    _ => return true,
                }
            }
        }
        false
    }

    /// Whether replacing a stretch of `ring` (enclosed by `env`, crossing counts from `section`)
    /// by a-b moves another ring's component point to the other side.
    fn has_jump(&self, ring: usize, env: (Pt, Pt), section: &dyn Fn(Pt) -> usize, a: Pt, b: Pt) -> bool {
        (0..self.rings.len()).filter(|&r| r != ring).any(|r| {
            let c = self.rings[r].component_point();
            let inside = c.0 >= env.0 .0 && c.0 <= env.1 .0 && c.1 >= env.0 .1 && c.1 <= env.1 .1;
            inside && section(c) % 2 != crossings(c, std::iter::once((a, b))) % 2
        })
    }

    fn section_valid(&self, ring: usize, i: usize, j: usize, a: Pt, b: Pt) -> bool {
        if self.has_output_intersection(a, b) || self.has_input_intersection(a, b, Some((ring, i, j))) {
            return false;
        }
        let pts = self.rings[ring].pts;
        let env = bounds(&pts[i..=j]);
        let section = |c: Pt| crossings(c, (i..j).map(|k| (pts[k], pts[k + 1])));
        !self.has_jump(ring, env, &section, a, b)
    }

    fn simplify_section(&mut self, ring: usize, i: usize, j: usize, depth: usize) {
        let depth = depth + 1;
        let pts = self.rings[ring].pts;
        if i + 1 == j {
            let seg = self.new_seg(pts[i], pts[j]);
            self.rings[ring].result.push(seg);
            return;
        }
        let mut valid = !(self.rings[ring].result_size() < 4 && depth + 1 < 4);
        let (mut far, mut distance) = (i, -1.0f64);
        for (k, &p) in pts.iter().enumerate().take(j).skip(i + 1) {
            let d = point_segment_distance(p, pts[i], pts[j]);
            if d > distance {
                distance = d;
                far = k;
            }
        }
        if distance > self.tolerance {
            valid = false;
        }
        if valid && self.section_valid(ring, i, j, pts[i], pts[j]) {
            let seg = self.new_seg(pts[i], pts[j]);
            self.output.push(seg);
            for k in i..j {
                self.input_alive[ring][k] = false;
            }
            self.rings[ring].result.push(seg);
            return;
        }
        self.simplify_section(ring, i, far, depth);
        self.simplify_section(ring, far, j, depth);
    }

    fn simplify_ring_endpoint(&mut self, ring: usize) {
        let r = &self.rings[ring];
        if r.result_size() <= 4 {
            return;
        }
        let (first, last) = (r.result[0], r.result[r.result.len() - 1]);
        let (a, b) = (last.p0, first.p1);
        if point_segment_distance(first.p0, a, b) > self.tolerance {
            return;
        }
        let valid = orientation(a, b, first.p0) == 0
            || !(self.has_output_intersection(a, b)
                || self.has_input_intersection(a, b, None)
                || self.has_jump(
                    ring,
                    bounds(&[first.p0, first.p1, last.p0, last.p1]),
                    &|c| crossings(c, [(first.p0, first.p1), (last.p0, last.p1)].into_iter()),
                    a,
                    b,
                ));
        if valid {
            self.output.retain(|s| s.id != first.id && s.id != last.id);
            let r = &mut self.rings[ring];
            r.result[0].p0 = last.p0;
            r.result.pop();
            self.output.push(r.result[0]);
        }
    }
}

fn bounds(pts: &[Pt]) -> (Pt, Pt) {
    pts.iter().fold(((f64::MAX, f64::MAX), (f64::MIN, f64::MIN)), |(lo, hi), p| {
        ((lo.0.min(p.0), lo.1.min(p.1)), (hi.0.max(p.0), hi.1.max(p.1)))
    })
}

/// Simplifies the closed rings of one polygon (shell first, then holes) with `tolerance`,
/// together, as GEOS does for one geometry. Rings come back closed.
pub fn simplify_polygon(rings: &[Vec<Pt>], tolerance: f64) -> Vec<Vec<Pt>> {
    let mut s = Simplifier {
        input_alive: rings.iter().map(|r| vec![true; r.len().saturating_sub(1)]).collect(),
        rings: rings.iter().map(|r| Ring { pts: r, result: Vec::new() }).collect(),
        output: Vec::new(),
        tolerance,
        next_id: 0,
    };
    for (ring, pts) in rings.iter().enumerate() {
        if pts.len() < 2 {
            continue;
        }
        s.simplify_section(ring, 0, pts.len() - 1, 0);
        if pts.len() >= 4 && pts[0] == pts[pts.len() - 1] {
            s.simplify_ring_endpoint(ring);
        }
    }
    s.rings
        .iter()
        .map(|r| {
            let mut out: Vec<Pt> = r.result.iter().map(|seg| seg.p0).collect();
            if let Some(last) = r.result.last() {
                out.push(last.p1);
            }
            if out.is_empty() {
                out = r.pts.to_vec();
            }
            out
        })
        .collect()
}
