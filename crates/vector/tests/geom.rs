//! The fast validity check agrees with GEOS: whenever it says "certainly valid", GEOS says valid,
//! on random simple, self-crossing, touching and degenerate rings.

use iwp_vector::geom::Polygon;

use iwp_vector::synth::Rand;

fn geos_valid(p: &Polygon) -> bool {
    let wkb = iwp_vector::vector::polygon_wkb(&p.rings);
    gdal::vector::Geometry::from_wkb(&wkb).expect("wkb").is_valid()
}

fn closed(mut pts: Vec<(f64, f64)>) -> Polygon {
    pts.push(pts[0]);
    Polygon { rings: vec![pts] }
}

#[test]
fn certainly_valid_implies_geos_valid() {
    let mut r = Rand(7);
    let (mut stars, mut stars_sure, mut total) = (0, 0, 0);
    for case in 0..20_000 {
        let n = 3 + (r.unit() * 20.0) as usize;
        // Star-shaped rings are simple; shuffled or snapped ones often are not.
        let mut pts: Vec<(f64, f64)> = (0..n)
            .map(|k| {
                let a = k as f64 / n as f64 * std::f64::consts::TAU;
                let rad = 1.0 + r.unit() * 3.0;
                (-2_000_000.0 + rad * a.cos(), 500_000.0 + rad * a.sin())
            })
            .collect();
        match case % 5 {
            1 => {
                let (i, j) = ((r.unit() * n as f64) as usize, (r.unit() * n as f64) as usize);
                pts.swap(i, j);
            }
            2 => {
                // Snap to a coarse grid: repeated points, collinear runs, touching vertices.
                pts.iter_mut().for_each(|p| *p = ((p.0 * 0.5).round() * 2.0, (p.1 * 0.5).round() * 2.0));
            }
            3 => {
                let i = (r.unit() * n as f64) as usize;
                let j = (i + 2 + (r.unit() * (n as f64 - 3.0)) as usize) % n;
                pts[j] = pts[i]; // a vertex touching another
            }
            _ => {}
        }
        let p = closed(pts);
        let (fast, geos) = (p.certainly_valid(), geos_valid(&p));
        assert!(!fast || geos, "fast check says valid, GEOS does not: {:?}", p.rings[0]);
        total += 1;
        if case % 5 == 0 || case % 5 == 4 {
            // Untouched star-shaped rings: simple, so GEOS-valid and settled by the fast path.
            assert!(geos);
            stars += 1;
            stars_sure += usize::from(fast);
        }
    }
    println!("{stars_sure} of {stars} simple rings settled by the fast check ({total} rings in all)");
    assert_eq!(stars_sure, stars);
}

#[test]
fn certainly_valid_cases() {
    let square = closed(vec![(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]);
    assert!(square.certainly_valid());
    let bowtie = closed(vec![(0.0, 0.0), (1.0, 1.0), (1.0, 0.0), (0.0, 1.0)]);
    assert!(!bowtie.certainly_valid() && !geos_valid(&bowtie));
    let spike = closed(vec![(0.0, 0.0), (2.0, 0.0), (1.0, 0.0), (1.0, 1.0)]);
    assert!(!spike.certainly_valid() && !geos_valid(&spike));
    let repeated = closed(vec![(0.0, 0.0), (1.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]);
    assert!(!repeated.certainly_valid(), "repeated points go to GEOS");
    let mut holed = square.clone();
    holed.rings.push(vec![(0.2, 0.2), (0.4, 0.2), (0.4, 0.4), (0.2, 0.2)]);
    assert!(!holed.certainly_valid(), "holes go to GEOS");
    let open = Polygon { rings: vec![vec![(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]] };
    assert!(!open.certainly_valid());
    let nan = closed(vec![(0.0, 0.0), (f64::NAN, 0.0), (1.0, 1.0), (0.0, 1.0)]);
    assert!(!nan.certainly_valid());
    // Touching at a vertex: GEOS calls it a self-intersection; the fast check defers.
    let touch = closed(vec![(0.0, 0.0), (2.0, 0.0), (1.0, 1.0), (2.0, 2.0), (0.0, 2.0), (1.0, 1.0)]);
    assert!(!touch.certainly_valid() && !geos_valid(&touch));
}
