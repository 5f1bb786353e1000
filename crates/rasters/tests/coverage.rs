//! Exact pixel coverage agrees with independent computations of area(polygon ∩ pixel), for random
//! polygons (with holes, either orientation, crossing the tile's edges): geo's boolean operations
//! (within 1e-7; geo snaps to an integer grid, ~3e-8 of a pixel) and clipping each ring to the
//! pixel (within 1e-9).

use geo::{Area, BooleanOps};
use iwp_core::tms::Bounds;
use iwp_rasters::coverage::{Coverage, CoverageSum, Grid};
use iwp_vector::geom::Polygon;
use iwp_vector::synth::Rand;

/// A star-shaped ring around (cx, cy), closed, counter-clockwise unless `reverse`.
fn star(r: &mut Rand, cx: f64, cy: f64, radius: f64, n: usize, reverse: bool) -> Vec<(f64, f64)> {
    let mut ring: Vec<(f64, f64)> = (0..n)
        .map(|k| {
            let a = k as f64 / n as f64 * std::f64::consts::TAU;
            let rad = radius * (0.5 + 0.5 * r.unit());
            (cx + rad * a.cos(), cy + rad * a.sin())
        })
        .collect();
    if reverse {
        ring.reverse();
    }
    ring.push(ring[0]);
    ring
}

/// Shoelace area of a ring (closed or not).
fn ring_area(ring: &[(f64, f64)]) -> f64 {
    let n = ring.len();
    (0..n).map(|i| ring[i].0 * ring[(i + 1) % n].1 - ring[(i + 1) % n].0 * ring[i].1).sum::<f64>() / 2.0
}

/// A clipping side: inside test, intersection with the side's line, the line's value.
type Side = (fn((f64, f64), f64) -> bool, fn((f64, f64), (f64, f64), f64) -> (f64, f64), f64);

/// Sutherland-Hodgman clipping of a ring to the rectangle (xmin, ymin, xmax, ymax).
fn clip_to_rect(ring: &[(f64, f64)], (x0, y0, x1, y1): (f64, f64, f64, f64)) -> Vec<(f64, f64)> {
    let mut pts: Vec<(f64, f64)> = ring[..ring.len() - 1].to_vec();
    let sides: [Side; 4] = [
        (|p, v| p.0 >= v, |a, b, v| (v, a.1 + (b.1 - a.1) * (v - a.0) / (b.0 - a.0)), x0),
        (|p, v| p.0 <= v, |a, b, v| (v, a.1 + (b.1 - a.1) * (v - a.0) / (b.0 - a.0)), x1),
        (|p, v| p.1 >= v, |a, b, v| (a.0 + (b.0 - a.0) * (v - a.1) / (b.1 - a.1), v), y0),
        (|p, v| p.1 <= v, |a, b, v| (a.0 + (b.0 - a.0) * (v - a.1) / (b.1 - a.1), v), y1),
    ];
    for (inside, cut, v) in sides {
        let input = std::mem::take(&mut pts);
        for i in 0..input.len() {
            let (cur, prev) = (input[i], input[(i + input.len() - 1) % input.len()]);
            if inside(cur, v) {
                if !inside(prev, v) {
                    pts.push(cut(prev, cur, v));
                }
                pts.push(cur);
            } else if inside(prev, v) {
                pts.push(cut(prev, cur, v));
            }
        }
        if pts.is_empty() {
            break;
        }
    }
    pts
}

#[test]
fn coverage_equals_area_of_polygon_intersection_pixel() {
    // A z13 WorldCRS84Quad tile near the golden data, 32 x 32 pixels.
    let span = 180.0 / 8192.0;
    let bounds = Bounds {
        left: -148.84277343750014,
        top: 70.04882812500009,
        right: -148.84277343750014 + span,
        bottom: 70.04882812500009 - span,
    };
    let grid = Grid { bounds, width: 32, height: 32 };
    let (pw, ph) = grid.pixel_size();
    let mut r = Rand(11);
    let mut cov = Coverage::default();
    let (mut checked, mut worst, mut worst_clip) = (0, 0.0f64, 0.0f64);
    for case in 0..300 {
        // Centres anywhere over the tile and a margin, sizes from a fraction of a pixel to a third of the tile.
        let cx = bounds.left - 0.2 * span + 1.4 * span * r.unit();
        let cy = bounds.bottom - 0.2 * span + 1.4 * span * r.unit();
        let radius = pw * (0.3 + 10.0 * r.unit());
        let n = 5 + (r.unit() * 20.0) as usize;
        let shell = star(&mut r, cx, cy, radius, n, case % 2 == 1);
        let mut rings = vec![shell];
        if case % 3 == 0 {
            rings.push(star(&mut r, cx, cy, radius * 0.3, 6, case % 4 == 0));
        }
        let polygon = Polygon { rings };
        cov.compute(&grid, polygon.rings.iter().map(Vec::as_slice));
        let mut fast = vec![0.0; grid.width * grid.height];
        for (i, f) in cov.cells() {
            fast[i] = f;
        }
        // geo in coordinates relative to the tile corner, so its own rounding stays small.
        let local = Polygon {
            rings: polygon
                .rings
                .iter()
                .map(|r| r.iter().map(|p| (p.0 - bounds.left, p.1 - bounds.bottom)).collect())
                .collect(),
        };
        let geo_poly = local.to_geo();
        for row in 0..grid.height {
            for col in 0..grid.width {
                let (x0, y1) = (col as f64 * pw, span - row as f64 * ph);
                let pixel = geo::Rect::new((x0, y1 - ph), (x0 + pw, y1)).to_polygon();
                let exact = geo_poly.intersection(&pixel).unsigned_area() / (pw * ph);
                let diff = (fast[row * grid.width + col] - exact).abs();
                worst = worst.max(diff);
                // A second, exact reference: each ring clipped to the pixel (Sutherland-Hodgman).
                let rect = (x0, y1 - ph, x0 + pw, y1);
                let clipped: f64 = local
                    .rings
                    .iter()
                    .enumerate()
                    .map(|(k, ring)| {
                        let a = ring_area(&clip_to_rect(ring, rect)).abs();
                        if k == 0 {
                            a
                        } else {
                            -a
                        }
                    })
                    .sum::<f64>()
                    / (pw * ph);
                let diff = (fast[row * grid.width + col] - clipped).abs();
                worst_clip = worst_clip.max(diff);
                assert!(
                    diff < 1e-9,
                    "case {case} pixel ({col}, {row}): {} vs clipped {clipped}",
                    fast[row * grid.width + col]
                );
                assert!(diff < 1e-7, "case {case} pixel ({col}, {row}): {} vs {exact}", fast[row * grid.width + col]);
                checked += usize::from(exact > 0.0);
            }
        }
    }
    println!("{checked} covered pixels checked, largest difference {worst:e} to geo, {worst_clip:e} to clipping");
    assert!(checked > 5000);
}

#[test]
fn a_polygon_covering_the_whole_tile_gives_one_everywhere() {
    let bounds = Bounds { left: 0.0, top: 1.0, right: 1.0, bottom: 0.0 };
    let grid = Grid { bounds, width: 8, height: 4 };
    let big = Polygon { rings: vec![vec![(-5.0, -5.0), (5.0, -5.0), (5.0, 5.0), (-5.0, 5.0), (-5.0, -5.0)]] };
    let mut cov = Coverage::default();
    cov.compute(&grid, big.rings.iter().map(Vec::as_slice));
    let cells: Vec<_> = cov.cells().collect();
    assert_eq!(cells.len(), 32);
    assert!(cells.iter().all(|&(_, f)| (f - 1.0).abs() < 1e-12), "{cells:?}");
    // Exactly one pixel, edges on grid lines.
    let one = Polygon { rings: vec![vec![(0.125, 0.5), (0.25, 0.5), (0.25, 0.75), (0.125, 0.75), (0.125, 0.5)]] };
    cov.compute(&grid, one.rings.iter().map(Vec::as_slice));
    let cells: Vec<_> = cov.cells().filter(|c| c.1.abs() > 1e-12).collect();
    assert_eq!(cells.len(), 1);
    assert_eq!(cells[0].0, 8 + 1);
    assert!((cells[0].1 - 1.0).abs() < 1e-12);
    // Outside the tile: nothing.
    let away = Polygon { rings: vec![vec![(2.0, 2.0), (3.0, 2.0), (3.0, 3.0), (2.0, 2.0)]] };
    cov.compute(&grid, away.rings.iter().map(Vec::as_slice));
    assert_eq!(cov.cells().count(), 0);
}

#[test]
fn a_grid_wide_sum_equals_the_polygons_cells_added_up() {
    // Random polygons with holes, over the tile, across its edges and beyond them; pieces under
    // 1e-12 of a pixel left out on both sides, as rasterizing does.
    let bounds = Bounds { left: 10.0, top: 21.0, right: 11.0, bottom: 20.0 };
    let grid = Grid { bounds, width: 48, height: 40 };
    let (pw, _) = grid.pixel_size();
    let mut r = Rand(5);
    let mut sum = CoverageSum::new(grid);
    for round in 0..2 {
        let mut cov = Coverage::default();
        let mut expected = vec![0.0; grid.width * grid.height];
        for case in 0..400 {
            let (cx, cy) = (9.7 + 1.6 * r.unit(), 19.7 + 1.6 * r.unit());
            let radius = pw * (0.3 + 12.0 * r.unit());
            let n = 5 + (r.unit() * 20.0) as usize;
            let mut rings = vec![star(&mut r, cx, cy, radius, n, case % 2 == 1)];
            if case % 3 == 0 {
                rings.push(star(&mut r, cx, cy, radius * 0.3, 6, case % 4 == 0));
            }
            let polygon = Polygon { rings };
            cov.compute(&grid, polygon.rings.iter().map(Vec::as_slice));
            for (i, f) in cov.cells().filter(|&(_, f)| f > 1e-12) {
                expected[i] += f;
            }
            sum.add(polygon.rings.iter().map(Vec::as_slice));
        }
        let got = sum.finish(1e-12);
        let covered = expected.iter().filter(|&&f| f > 0.0).count();
        assert!(covered > 1000, "round {round}: {covered} pixels covered");
        for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
            assert!((g - e).abs() < 1e-11, "round {round} pixel {i}: {g} vs {e}");
            assert_eq!(*g == 0.0, *e == 0.0, "round {round} pixel {i}: {g} vs {e}");
        }
    }
}

/// The per-polygon cells of `polygons` on `grid` summed into a band, as `CoverageSum` gives it.
fn cells_summed(grid: &Grid, polygons: &[Polygon]) -> Vec<f64> {
    let (mut cov, mut band) = (Coverage::default(), vec![0.0; grid.width * grid.height]);
    for polygon in polygons {
        cov.compute(grid, polygon.rings.iter().map(Vec::as_slice));
        for (i, f) in cov.cells().filter(|&(_, f)| f > 1e-12) {
            band[i] += f;
        }
    }
    band
}

#[test]
fn a_crossing_rounded_past_the_tiles_edge_stays_in_the_grid() {
    // A vertex on the left edge, just below a row line: the crossing of row line 26,
    // interpolated along the edge, rounds to -2.8e-14 (past the tile's edge).
    let grid = Grid { bounds: Bounds { left: 0.0, top: 0.0, right: 256.0, bottom: -256.0 }, width: 256, height: 256 };
    let triangle = Polygon {
        rings: vec![vec![
            (204.1627593776702, -6.464126038979964),
            (0.0, -26.000000000000004),
            (100.0, -40.0),
            (204.1627593776702, -6.464126038979964),
        ]],
    };
    let mut sum = CoverageSum::new(grid);
    sum.add(triangle.rings.iter().map(Vec::as_slice));
    let got = sum.finish(1e-12);
    let expected = cells_summed(&grid, &[triangle]);
    assert!(expected.iter().sum::<f64>() > 100.0, "the triangle covers pixels");
    for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
        assert!((g - e).abs() < 1e-11, "pixel {i}: {g} vs {e}");
    }
}

#[test]
fn a_sum_moved_to_a_grid_of_another_size_equals_a_new_one() {
    let mut r = Rand(11);
    let bounds = Bounds { left: 10.0, top: 21.0, right: 11.0, bottom: 20.0 };
    let stars = |r: &mut Rand, n: usize| -> Vec<Polygon> {
        (0..n)
            .map(|k| {
                let (cx, cy) = (10.1 + 0.8 * r.unit(), 20.1 + 0.8 * r.unit());
                Polygon { rings: vec![star(r, cx, cy, 0.05, 9, k % 2 == 0)] }
            })
            .collect()
    };
    let mut sum = CoverageSum::new(Grid { bounds, width: 48, height: 40 });
    for p in stars(&mut r, 50) {
        sum.add(p.rings.iter().map(Vec::as_slice));
    }
    let _ = sum.finish(1e-12);
    for (width, height) in [(32, 50), (64, 20)] {
        let grid = Grid { bounds, width, height };
        let polygons = stars(&mut r, 50);
        sum = sum.moved_to(grid);
        for p in &polygons {
            sum.add(p.rings.iter().map(Vec::as_slice));
        }
        let got = sum.finish(1e-12);
        let expected = cells_summed(&grid, &polygons);
        assert!(expected.iter().filter(|&&f| f > 0.0).count() > 100, "{width}x{height}: pixels covered");
        for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
            assert!((g - e).abs() < 1e-11, "{width}x{height} pixel {i}: {g} vs {e}");
        }
    }
}
