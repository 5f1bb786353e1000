//! Exact pixel coverage: the area of a polygon inside each pixel of a tile's grid, found by
//! walking every polygon edge through the grid (cell coverage fractions, as exactextract does).
//!
//! For a row of pixels, the area of the polygon inside pixel column c equals the integral over the
//! row of `(c + 1 - clamp(u(v), c, c + 1))` along each edge (u = column, v = row coordinate, in
//! pixel units), signed by the edge's direction. An edge piece inside column c contributes a
//! trapezoid to c and its full height to every column right of it; the latter is accumulated
//! once and spread by a prefix sum along the row.

use crate::geom::Polygon;
use crate::tms::Bounds;

/// A tile's pixel grid: bounds in CRS units, `width` columns and `height` rows, row 0 at the top.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Grid {
    pub bounds: Bounds,
    pub width: usize,
    pub height: usize,
}

impl Grid {
    /// Pixel width and height in CRS units.
    pub fn pixel_size(&self) -> (f64, f64) {
        let b = self.bounds;
        ((b.right - b.left) / self.width as f64, (b.top - b.bottom) / self.height as f64)
    }

    /// A point in pixel units: (column, row) coordinates, growing east and south.
    pub fn to_pixel(&self, x: f64, y: f64) -> (f64, f64) {
        let (pw, ph) = self.pixel_size();
        ((x - self.bounds.left) / pw, (self.bounds.top - y) / ph)
    }
}

/// Coverage of one polygon: fractions of pixel area (0..=1) inside the polygon, for the pixels
/// of a window of the grid. Reused between polygons to save allocations.
#[derive(Debug, Default)]
pub struct Coverage {
    /// First column and row of the window, and its size.
    col0: usize,
    row0: usize,
    cols: usize,
    rows: usize,
    /// Per window cell: trapezoid areas; per row, cols + 1 cover starts (prefix-summed later).
    area: Vec<f64>,
    cover: Vec<f64>,
    /// The polygon's rings in pixel units (a buffer kept between polygons).
    rings: Vec<Vec<(f64, f64)>>,
}

impl Coverage {
    /// Computes the coverage of `polygon` (in the grid's CRS) on `grid`.
    pub fn compute(&mut self, grid: &Grid, polygon: &Polygon) {
        let mut rings = std::mem::take(&mut self.rings);
        rings.resize_with(polygon.rings.len(), Vec::new);
        for (pixel, ring) in rings.iter_mut().zip(&polygon.rings) {
            pixel.clear();
            pixel.extend(ring.iter().map(|p| grid.to_pixel(p.0, p.1)));
        }
        self.set_window(grid, rings.first().map(Vec::as_slice).unwrap_or(&[]));
        if self.cols > 0 && self.rows > 0 {
            self.add_rings(&rings);
        }
        self.rings = rings;
    }

    /// Adds every ring's edges, then spreads the covers along each row.
    fn add_rings(&mut self, rings: &[Vec<(f64, f64)>]) {
        for (k, ring) in rings.iter().enumerate() {
            // Shells add and holes subtract, whatever their orientation.
            let orientation = -signed_area(ring).signum();
            let factor = if k == 0 { orientation } else { -orientation };
            for w in ring.windows(2) {
                self.add_edge(w[0], w[1], factor);
            }
        }
        for r in 0..self.rows {
            let mut running = 0.0;
            for c in 0..self.cols {
                running += self.cover[r * (self.cols + 1) + c];
                self.area[r * self.cols + c] += running;
            }
        }
    }

    /// Pixels of the grid (index row * width + column) with a non-zero fraction, and the fraction.
    pub fn cells<'a>(&'a self, grid: &'a Grid) -> impl Iterator<Item = (usize, f64)> + 'a {
        (0..self.rows).flat_map(move |r| {
            (0..self.cols).filter_map(move |c| {
                let f = self.area[r * self.cols + c];
                (f != 0.0).then(|| ((self.row0 + r) * grid.width + self.col0 + c, f))
            })
        })
    }

    /// The window: the shell's pixel bounding box, clipped to the grid.
    fn set_window(&mut self, grid: &Grid, shell: &[(f64, f64)]) {
        let (mut u0, mut v0, mut u1, mut v1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for p in shell {
            u0 = u0.min(p.0);
            u1 = u1.max(p.0);
            v0 = v0.min(p.1);
            v1 = v1.max(p.1);
        }
        let clip = |v: f64, n: usize| v.max(0.0).min(n as f64) as usize;
        let (c0, c1) = (clip(u0.floor(), grid.width), clip(u1.ceil(), grid.width));
        let (r0, r1) = (clip(v0.floor(), grid.height), clip(v1.ceil(), grid.height));
        if shell.is_empty() || u1 <= 0.0 || v1 <= 0.0 {
            (self.cols, self.rows) = (0, 0);
            return;
        }
        (self.col0, self.row0, self.cols, self.rows) = (c0, r0, c1.saturating_sub(c0), r1.saturating_sub(r0));
        self.area.clear();
        self.area.resize(self.cols * self.rows, 0.0);
        self.cover.clear();
        self.cover.resize((self.cols + 1) * self.rows, 0.0);
    }

    /// Adds one edge, from `a` to `b` in pixel units, times `factor`.
    fn add_edge(&mut self, a: (f64, f64), b: (f64, f64), factor: f64) {
        if a.1 == b.1 {
            return; // horizontal: no height, no area
        }
        let (vlo, vhi) = (a.1.min(b.1), a.1.max(b.1));
        let first = (vlo.floor().max(self.row0 as f64)) as usize;
        let last = (vhi.ceil().min((self.row0 + self.rows) as f64)) as usize;
        let du_dv = (b.0 - a.0) / (b.1 - a.1);
        let at = |v: f64| {
            if v == a.1 {
                a.0
            } else if v == b.1 {
                b.0
            } else {
                a.0 + (v - a.1) * du_dv
            }
        };
        for row in first..last {
            let (top, bottom) = ((row as f64).max(vlo), ((row + 1) as f64).min(vhi));
            if top >= bottom {
                continue;
            }
            // The piece in this row, in the edge's direction.
            let (va, vb) = if a.1 < b.1 { (top, bottom) } else { (bottom, top) };
            self.add_row_piece(row - self.row0, (at(va), va), (at(vb), vb), factor);
        }
    }

    /// Adds an edge piece lying within one pixel row (`r` in window rows).
    fn add_row_piece(&mut self, r: usize, a: (f64, f64), b: (f64, f64), factor: f64) {
        let (ulo, uhi) = (a.0.min(b.0), a.0.max(b.0));
        if ulo == uhi {
            self.add_cell_piece(r, ulo.floor(), ulo, b.1 - a.1, factor);
            return;
        }
        // v along the piece as a function of u; sub-pieces between column lines.
        let v_at = |u: f64| {
            if u == a.0 {
                a.1
            } else if u == b.0 {
                b.1
            } else {
                a.1 + (u - a.0) * (b.1 - a.1) / (b.0 - a.0)
            }
        };
        let forward = a.0 < b.0;
        let mut column = ulo.floor();
        while column < uhi {
            let (s, e) = (ulo.max(column), uhi.min(column + 1.0));
            if s < e {
                let (vs, ve) = (v_at(s), v_at(e));
                let dv = if forward { ve - vs } else { vs - ve };
                self.add_cell_piece(r, column, (s + e) / 2.0, dv, factor);
            }
            column += 1.0;
        }
    }

    /// Adds a sub-piece inside grid column `column` (mid-point `mid_u`, signed height `dv`): its
    /// trapezoid to that cell and its full height to every cell right of it.
    fn add_cell_piece(&mut self, r: usize, column: f64, mid_u: f64, dv: f64, factor: f64) {
        let c = column - self.col0 as f64;
        let cover_row = r * (self.cols + 1);
        if c < 0.0 {
            self.cover[cover_row] += factor * dv;
        } else if (c as usize) < self.cols {
            let ci = c as usize;
            self.area[r * self.cols + ci] += factor * (1.0 - (mid_u - column)) * dv;
            self.cover[cover_row + ci + 1] += factor * dv;
        }
    }
}

/// Signed shoelace area of a closed ring.
fn signed_area(ring: &[(f64, f64)]) -> f64 {
    ring.windows(2).map(|w| w[0].0 * w[1].1 - w[1].0 * w[0].1).sum::<f64>() / 2.0
}
