//! Exact pixel coverage: the area of a polygon inside each pixel of a tile's grid, found by
//! walking every polygon edge through the grid (cell coverage fractions, as exactextract does).
//!
//! For a row of pixels, the area of the polygon inside pixel column c equals the integral over the
//! row of `(c + 1 - clamp(u(v), c, c + 1))` along each edge (u = column, v = row coordinate, in
//! pixel units), signed by the edge's direction. An edge piece inside column c contributes a
//! trapezoid to c and its full height to every column right of it. Both go into one array of
//! differences per row (the trapezoid at c, the height less the trapezoid at c + 1), whose
//! prefix sum along the row gives the fractions.

use iwp_core::tms::Bounds;

/// A tile's pixel grid: bounds in CRS units, `width` columns and `height` rows, row 0 at the top.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Grid {
    /// The tile's bounds, in CRS units.
    pub bounds: Bounds,
    /// Pixel columns.
    pub width: usize,
    /// Pixel rows (row 0 at the top).
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
    /// Per window row, cols + 1 differences whose prefix sums along the row are the fractions:
    /// a sub-piece's trapezoid `t` and height `h` in cell c are `+t` at c and `h - t` at c + 1.
    /// All zero between polygons: the pass that reads them sets them back to zero.
    differences: Vec<f64>,
    /// The polygon's rings in pixel units (a buffer kept between polygons).
    rings: Vec<Vec<(f64, f64)>>,
    /// The result: grid pixel index and non-zero fraction, row by row, in the first `kept`
    /// entries (the buffer only grows).
    cells: Vec<(usize, f64)>,
    kept: usize,
}

impl Coverage {
    /// Computes the coverage on `grid` of the polygon with these closed rings (shell first, in
    /// the grid's CRS).
    pub fn compute<'a>(&mut self, grid: &Grid, polygon: impl IntoIterator<Item = &'a [(f64, f64)]>) {
        let rings = self.pixel_rings(grid, polygon);
        self.set_window(grid, rings.first().map(Vec::as_slice).unwrap_or(&[]));
        self.kept = 0;
        if self.cols > 0 && self.rows > 0 {
            self.add_ring_edges::<true>(&rings);
            self.spread_into_cells(grid.width);
        }
        self.rings = rings;
    }

    /// The polygon's rings in pixel units, in the buffer kept between polygons (to be put back
    /// in `self.rings`).
    fn pixel_rings<'a>(
        &mut self,
        grid: &Grid,
        polygon: impl IntoIterator<Item = &'a [(f64, f64)]>,
    ) -> Vec<Vec<(f64, f64)>> {
        let mut rings = std::mem::take(&mut self.rings);
        let mut count = 0;
        for ring in polygon {
            if rings.len() == count {
                rings.push(Vec::new());
            }
            let pixel = &mut rings[count];
            pixel.clear();
            pixel.extend(ring.iter().map(|p| grid.to_pixel(p.0, p.1)));
            count += 1;
        }
        rings.truncate(count);
        rings
    }

    /// Adds every ring's edges to the window's differences. `CLIP`: whether the polygon may
    /// reach outside the window (false only when its pixel bounding box is known to be inside,
    /// which spares every piece its checks).
    fn add_ring_edges<const CLIP: bool>(&mut self, rings: &[Vec<(f64, f64)>]) {
        for (k, ring) in rings.iter().enumerate() {
            // Shells add and holes subtract, whatever their orientation.
            let orientation = -signed_area(ring).signum();
            let factor = if k == 0 { orientation } else { -orientation };
            for w in ring.windows(2) {
                self.add_edge::<CLIP>(w[0], w[1], factor);
            }
        }
    }

    /// Sums the differences along each window row into the cells (the non-zero ones kept), and
    /// sets the differences back to zero.
    fn spread_into_cells(&mut self, width: usize) {
        // Every cell is written and the count moves past the non-zero ones: no branch to
        // mispredict at the polygon's outline.
        let cols = self.cols;
        if self.cells.len() < self.rows * cols {
            self.cells.resize(self.rows * cols, (0, 0.0));
        }
        let mut kept = 0;
        for r in 0..self.rows {
            let mut running = 0.0;
            let row = &mut self.differences[r * (cols + 1)..][..cols + 1];
            let first = (self.row0 + r) * width + self.col0;
            for (c, d) in row[..cols].iter_mut().enumerate() {
                running += std::mem::take(d);
                self.cells[kept] = (first + c, running);
                kept += usize::from(running != 0.0);
            }
            row[cols] = 0.0;
        }
        self.kept = kept;
    }

    /// Pixels of the grid (index row * width + column) with a non-zero fraction, and the fraction.
    pub fn cells(&self) -> impl Iterator<Item = (usize, f64)> + '_ {
        self.cells[..self.kept].iter().copied()
    }

    /// The window: the whole grid.
    fn set_whole_window(&mut self, grid: &Grid) {
        (self.col0, self.row0, self.cols, self.rows) = (0, 0, grid.width, grid.height);
        self.differences.resize((grid.width + 1) * grid.height, 0.0);
    }

    /// The window: the shell's pixel bounding box, clipped to the grid.
    fn set_window(&mut self, grid: &Grid, shell: &[(f64, f64)]) {
        let (u0, v0, u1, v1) = bounding_box(shell);
        let clip = |v: f64, n: usize| v.max(0.0).min(n as f64) as usize;
        let (c0, c1) = (clip(u0.floor(), grid.width), clip(u1.ceil(), grid.width));
        let (r0, r1) = (clip(v0.floor(), grid.height), clip(v1.ceil(), grid.height));
        if shell.is_empty() || u1 <= 0.0 || v1 <= 0.0 {
            (self.cols, self.rows) = (0, 0);
            return;
        }
        (self.col0, self.row0, self.cols, self.rows) = (c0, r0, c1.saturating_sub(c0), r1.saturating_sub(r0));
        // Grown with zeros when too small; what is there is zero already.
        if self.differences.len() < (self.cols + 1) * self.rows {
            self.differences.resize((self.cols + 1) * self.rows, 0.0);
        }
    }

    /// Adds one edge, from `a` to `b` in pixel units, times `factor`. The edge is walked from its
    /// upper end (smaller row coordinate) down, each row line's crossing computed once and
    /// shared by the rows above and below it, so the pieces' heights add up to the edge's.
    fn add_edge<const CLIP: bool>(&mut self, a: (f64, f64), b: (f64, f64), factor: f64) {
        if a.1 == b.1 {
            return; // horizontal: no height, no area
        }
        // Walking down: an edge drawn upwards counts negatively.
        let (p, q, weight) = if a.1 < b.1 { (a, b, factor) } else { (b, a, -factor) };
        let (mut first, mut last) = (floor(p.1), -floor(-q.1));
        if CLIP {
            first = first.max(self.row0 as f64);
            last = last.min((self.row0 + self.rows) as f64);
        }
        let du_dv = (q.0 - p.0) / (q.1 - p.1);
        // Height per column crossed (infinite for a vertical edge, whose pieces stay in a column).
        let dv_du = ((q.1 - p.1) / (q.0 - p.0)).abs();
        let u_at = |v: f64| {
            if v <= p.1 {
                p.0
            } else if v >= q.1 {
                q.0
            } else {
                p.0 + (v - p.1) * du_dv
            }
        };
        let stride = self.cols + 1;
        let window = Columns { first: self.col0 as i64, count: self.cols as i64 };
        let mut top = first.max(p.1);
        let mut u_top = u_at(top);
        for row in first as usize..last as usize {
            let bottom = ((row + 1) as f64).min(q.1);
            let u_bottom = u_at(bottom);
            if top < bottom {
                let (left, right) = if u_top <= u_bottom { (u_top, u_bottom) } else { (u_bottom, u_top) };
                let cells = &mut self.differences[(row - self.row0) * stride..][..stride];
                let piece = RowPiece { left, right, height: bottom - top, weight, dv_du };
                piece.add::<CLIP>(cells, window);
            }
            (top, u_top) = (bottom, u_bottom);
        }
    }
}

/// The window's columns: the grid column of its first, and how many.
#[derive(Clone, Copy)]
struct Columns {
    first: i64,
    count: i64,
}

/// An edge piece lying within one pixel row, from column coordinate `left` to `right`, `height`
/// rows tall, walked downwards times `weight`, rising `dv_du` per column.
struct RowPiece {
    left: f64,
    right: f64,
    height: f64,
    weight: f64,
    dv_du: f64,
}

impl RowPiece {
    /// Adds the piece to a window row's differences. Each sub-piece inside a column adds its
    /// trapezoid to that cell and its full height to every cell right of it. The columns it
    /// crosses whole take `dv_du` each; the end columns take their share, the last one what
    /// remains of `height`, so the sub-pieces' heights add up to the piece's.
    #[inline(always)]
    fn add<const CLIP: bool>(&self, cells: &mut [f64], window: Columns) {
        let RowPiece { left, right, height, weight, dv_du } = *self;
        let (first, first_at) = floor_whole(left);
        if right <= first + 1.0 {
            add_sub_piece::<CLIP>(cells, window, first_at, (first, (left + right) / 2.0), weight * height);
            return;
        }
        let last = -floor(-right) - 1.0;
        let last_at = last as i64;
        let first_height = ((first + 1.0 - left) * dv_du).min(height);
        add_sub_piece::<CLIP>(cells, window, first_at, (first, (left + first + 1.0) / 2.0), weight * first_height);
        let whole = last - first - 1.0;
        if whole > 0.0 {
            add_whole_columns::<CLIP>(cells, window, first_at.saturating_add(1), last_at, weight * dv_du);
        }
        let last_height = (height - first_height - whole * dv_du).max(0.0);
        add_sub_piece::<CLIP>(cells, window, last_at, (last, (last + right) / 2.0), weight * last_height);
    }
}

/// A sub-piece in grid column `at` (`column` as a float), mid-point `mid_u`, signed height
/// `dv`: its trapezoid to the cell, its height to every cell right of it (left of the window:
/// to the row's start; right of it: nothing).
#[inline(always)]
fn add_sub_piece<const CLIP: bool>(cells: &mut [f64], window: Columns, at: i64, (column, mid_u): (f64, f64), dv: f64) {
    // Saturating: a column far outside (a coordinate beyond i64) stays outside.
    let c = at.saturating_sub(window.first);
    if CLIP {
        if c < 0 {
            cells[0] += dv;
            return;
        }
        if c >= window.count {
            return;
        }
    }
    let c = c as usize;
    let trapezoid = (1.0 - (mid_u - column)) * dv;
    cells[c] += trapezoid;
    cells[c + 1] += dv - trapezoid;
}

/// Grid columns `from` up to (not including) `to`, each crossed whole by a sub-piece of signed
/// height `dv`: half of it to each cell, all of it to every cell right of it.
fn add_whole_columns<const CLIP: bool>(cells: &mut [f64], window: Columns, from: i64, to: i64, dv: f64) {
    let (mut start, mut end) = (from.saturating_sub(window.first), to.saturating_sub(window.first));
    if CLIP {
        cells[0] += dv * ((end.min(0) - start).max(0) as f64);
        (start, end) = (start.max(0), end.min(window.count));
        if start >= end {
            return;
        }
    }
    let (start, end) = (start as usize, end as usize);
    // Half to the cell, half to the cell right of it: the whole height between them.
    cells[start] += 0.5 * dv;
    for d in &mut cells[start + 1..end] {
        *d += dv;
    }
    cells[end] += 0.5 * dv;
}

/// The coverage fractions of many polygons summed per pixel over a whole grid. Coverage is
/// additive, so every polygon's edges go into one accumulation of the grid's size, spread along
/// the rows once at the end: no pass over each polygon's window and no list of its cells.
/// Reusable: [`CoverageSum::finish`] leaves it empty.
#[derive(Debug)]
pub struct CoverageSum {
    grid: Grid,
    coverage: Coverage,
}

impl CoverageSum {
    /// An empty sum on `grid`.
    pub fn new(grid: Grid) -> CoverageSum {
        let mut coverage = Coverage::default();
        coverage.set_whole_window(&grid);
        CoverageSum { grid, coverage }
    }

    /// The same (empty) sum moved to `grid`, its buffer reused: tiles of one zoom level have
    /// different bounds but the same size.
    pub fn moved_to(mut self, grid: Grid) -> CoverageSum {
        debug_assert!(self.coverage.differences.iter().all(|&d| d == 0.0), "a sum moved before it finished");
        self.grid = grid;
        self.coverage.set_whole_window(&grid);
        self
    }

    /// Adds the coverage of the polygon with these closed rings (shell first, in the grid's CRS).
    pub fn add<'a>(&mut self, polygon: impl IntoIterator<Item = &'a [(f64, f64)]>) {
        let rings = self.coverage.pixel_rings(&self.grid, polygon);
        let (w, h) = (self.grid.width as f64, self.grid.height as f64);
        let shell = bounding_box(rings.first().map(Vec::as_slice).unwrap_or(&[]));
        // A polygon wholly outside the grid adds nothing (its edges' covers would cancel out).
        let meets = shell.0 < w && shell.2 > 0.0 && shell.1 < h && shell.3 > 0.0;
        // Every ring a column inside the grid's sides (a crossing interpolated along an edge
        // may round a little past its ends) and within its rows, no coordinate NaN: every
        // piece's cells are in the grid, and no piece needs checking.
        let (u0, v0, u1, v1) = rings
            .iter()
            .skip(1)
            .map(|r| bounding_box(r))
            .fold(shell, |a, b| (a.0.min(b.0), a.1.min(b.1), a.2.max(b.2), a.3.max(b.3)));
        let inside = || {
            u0 >= 1.0
                && u1 < w - 1.0
                && v0 >= 0.0
                && v1 <= h
                && rings.iter().flatten().all(|p| !p.0.is_nan() && !p.1.is_nan())
        };
        if !meets {
        } else if inside() {
            self.coverage.add_ring_edges::<false>(&rings);
        } else {
            self.coverage.add_ring_edges::<true>(&rings);
        }
        self.coverage.rings = rings;
    }

    /// The summed fractions, row-major; sums no larger than `min` in size (what polygons that
    /// only touch a pixel leave, rounding error) are 0. The sum is empty again afterwards.
    pub fn finish(&mut self, min: f64) -> Vec<f64> {
        let cols = self.grid.width;
        // Appended to, never zeroed first: a zeroed allocation may be fresh pages the kernel
        // zeroes at first touch, or a reused block memset once more.
        let mut out = Vec::with_capacity(cols * self.grid.height);
        // Four rows at a time, their running sums independent chains of additions, through a
        // small buffer that stays in cache.
        let mut four = vec![0.0; 4 * cols];
        let mut rows = self.coverage.differences.chunks_exact_mut(4 * (cols + 1));
        for group in &mut rows {
            let (d01, d23) = group.split_at_mut(2 * (cols + 1));
            let (d0, d1) = d01.split_at_mut(cols + 1);
            let (d2, d3) = d23.split_at_mut(cols + 1);
            let (o01, o23) = four.split_at_mut(2 * cols);
            let (o0, o1) = o01.split_at_mut(cols);
            let (o2, o3) = o23.split_at_mut(cols);
            let mut running = [0.0; 4];
            for c in 0..cols {
                for (k, (d, o)) in
                    [(&mut *d0, &mut *o0), (&mut *d1, &mut *o1), (&mut *d2, &mut *o2), (&mut *d3, &mut *o3)]
                        .into_iter()
                        .enumerate()
                {
                    running[k] += std::mem::take(&mut d[c]);
                    o[c] = if running[k].abs() > min { running[k] } else { 0.0 };
                }
            }
            for d in [d0, d1, d2, d3] {
                d[cols] = 0.0;
            }
            out.extend_from_slice(&four);
        }
        for row in rows.into_remainder().chunks_exact_mut(cols + 1) {
            let mut running = 0.0;
            out.extend(row[..cols].iter_mut().map(|d| {
                running += std::mem::take(d);
                if running.abs() > min {
                    running
                } else {
                    0.0
                }
            }));
            row[cols] = 0.0;
        }
        out
    }
}

/// `x.floor()` without a libm call on CPUs without SSE4.1's rounding instruction (pixel
/// coordinates are far below 2^52, where every float is whole).
fn floor(x: f64) -> f64 {
    if x.abs() < 4.5e15 {
        let t = x as i64 as f64;
        if t > x {
            t - 1.0
        } else {
            t
        }
    } else {
        x.floor()
    }
}

/// `floor(x)`, and as an integer (saturating far outside any grid).
#[inline(always)]
fn floor_whole(x: f64) -> (f64, i64) {
    let f = floor(x);
    (f, f as i64)
}

/// The smallest and largest coordinates of points: (min u, min v, max u, max v).
fn bounding_box(points: &[(f64, f64)]) -> (f64, f64, f64, f64) {
    points.iter().fold((f64::MAX, f64::MAX, f64::MIN, f64::MIN), |(u0, v0, u1, v1), p| {
        (u0.min(p.0), v0.min(p.1), u1.max(p.0), v1.max(p.1))
    })
}

/// Signed shoelace area of a closed ring.
fn signed_area(ring: &[(f64, f64)]) -> f64 {
    ring.windows(2).map(|w| w[0].0 * w[1].1 - w[1].0 * w[0].1).sum::<f64>() / 2.0
}
