//! Parent pixels from 2x2 child blocks by each resampling method (the table in
//! REFERENCE-NOTES §6), missing children as zeros; per-pixel aggregations with pandas' semantics;
//! band summaries against direct computation.

use iwp_core::config::{Aggregation as Method, Resampling as R};
use iwp_rasters::aggregate::{median, PixelAggregator};
use iwp_rasters::bandstats::summarize;
use iwp_rasters::geotiff::py_float;
use iwp_rasters::pyramid::parent_band;

/// A 4x4 child whose pixel (r, c) is `base + 4r + c`.
fn child(base: f64) -> Vec<f64> {
    (0..16).map(|i| base + i as f64).collect()
}

#[test]
fn each_method_reduces_the_block_under_each_parent_pixel() {
    let tl = child(0.0);
    let br = child(100.0);
    // Children order: top-left, bottom-left, top-right, bottom-right; two missing.
    let kids = [Some(tl.as_slice()), None, None, Some(br.as_slice())];
    // Parent pixel (0, 0) covers top-left child pixels (0,0) (0,1) (1,0) (1,1) = 0, 1, 4, 5.
    // Parent pixel (3, 3) covers bottom-right child pixels (2,2) (2,3) (3,2) (3,3) = 110, 111, 114, 115.
    let cases: [(R, f64, f64); 6] = [
        (R::Sum, 10.0, 450.0),
        (R::Average, 2.5, 112.5),
        (R::Nearest, 5.0, 115.0),
        (R::Max, 5.0, 115.0),
        (R::Min, 0.0, 110.0),
        (
            R::Rms,
            ((0.0 + 1.0 + 16.0 + 25.0) / 4.0f64).sqrt(),
            ((110.0f64.powi(2) + 111.0f64.powi(2) + 114.0f64.powi(2) + 115.0f64.powi(2)) / 4.0).sqrt(),
        ),
    ];
    for (method, first, last) in cases {
        let p = parent_band(method, kids, 4, 4).unwrap();
        assert_eq!(p[0], first, "{method:?} top-left");
        assert_eq!(p[15], last, "{method:?} bottom-right");
        // The missing bottom-left and top-right quadrants are zeros.
        assert_eq!(p[8], 0.0, "{method:?} bottom-left");
        assert_eq!(p[2], 0.0, "{method:?} top-right");
    }
    // Mode: most frequent, ties to the first seen (top-left first).
    let m = vec![7.0, 7.0, 3.0, 3.0, 1.0, 2.0, 2.0, 9.0, 5.0, 5.0, 5.0, 5.0, 4.0, 6.0, 4.0, 6.0];
    let p = parent_band(R::Mode, [Some(m.as_slice()), None, None, None], 4, 4).unwrap();
    // Blocks: [7 7; 1 2] -> 7, [3 3; 2 9] -> 3, [5 5; 4 6] -> 5, [5 5; 4 6] -> 5.
    assert_eq!(&p[..2], &[7.0, 3.0]);
    assert_eq!(&p[4..6], &[5.0, 5.0]);
    let distinct = vec![4.0, 3.0, 2.0, 1.0];
    let p = parent_band(R::Mode, [Some(distinct.as_slice()), None, None, None], 2, 2).unwrap();
    assert_eq!(p[0], 4.0, "all distinct: the top-left value");
    // Counts are conserved by sum; methods GDAL's warper lacks are refused by name.
    let s =
        parent_band(R::Sum, [Some(tl.as_slice()), Some(br.as_slice()), Some(tl.as_slice()), Some(tl.as_slice())], 4, 4)
            .unwrap();
    assert_eq!(s.iter().sum::<f64>(), 3.0 * tl.iter().sum::<f64>() + br.iter().sum::<f64>());
    let err = parent_band(R::Gauss, kids, 4, 4).unwrap_err().to_string();
    assert!(err.contains("gauss"), "{err}");
}

#[test]
fn aggregations_follow_pandas() {
    let values = [Some(3.0), None, Some(1.0), Some(4.0), Some(1.0)];
    let run = |name: &str| {
        let method: Method = serde_json::from_value(name.into()).unwrap();
        let mut a = PixelAggregator::new(method, 2);
        for v in values {
            a.add(0, v);
        }
        a.finish()
    };
    let sample_var = {
        let m = 9.0 / 4.0;
        [3.0, 1.0, 4.0, 1.0].iter().map(|v: &f64| (v - m) * (v - m)).sum::<f64>() / 3.0
    };
    for (name, want) in [
        ("sum", 9.0),
        ("mean", 2.25),
        ("max", 4.0),
        ("min", 1.0),
        ("count", 4.0),
        ("size", 5.0),
        ("median", 2.0),
        ("first", 3.0),
        ("last", 1.0),
        ("prod", 12.0),
        ("nunique", 3.0),
        ("var", sample_var),
        ("std", sample_var.sqrt()),
    ] {
        let band = run(name);
        assert!((band[0] - want).abs() < 1e-12, "{name}: {} vs {want}", band[0]);
        assert_eq!(band[1], 0.0, "{name}: a pixel without values is 0");
    }
    assert!(serde_json::from_value::<Method>("bogus".into()).is_err());
}

#[test]
fn summaries_and_python_floats() {
    let mut values: Vec<f64> = (0..1000).map(|i| if i % 3 == 0 { (i as f64).sqrt() } else { 0.0 }).collect();
    let s = summarize(&values);
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    assert!((s.sum - values.iter().sum::<f64>()).abs() < 1e-9);
    assert!((s.var - values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).abs() < 1e-12);
    let mut sorted = values.clone();
    sorted.sort_by(f64::total_cmp);
    assert_eq!(s.median, (sorted[499] + sorted[500]) / 2.0);
    assert_eq!(median(&mut values), s.median);
    // Medians against a full sort: bands mostly zero, with negatives, odd and even lengths.
    let mut rand = iwp_vector::synth::Rand(7);
    for case in 0..400 {
        let n = 1 + case % 37;
        let band: Vec<f64> = (0..n)
            .map(|_| match (rand.unit() * 4.0) as u32 {
                0 => 0.0,
                1 => -((rand.unit() * 1000.0).floor()) / 7.0,
                _ => (rand.unit() * 1000.0).floor() / 3.0,
            })
            .collect();
        let mut sorted = band.clone();
        sorted.sort_by(f64::total_cmp);
        let want = (sorted[(n - 1) / 2] + sorted[n / 2]) / 2.0;
        assert_eq!(summarize(&band).median, want, "{band:?}");
    }
    let dense: Vec<f64> = (0..101).map(|i| ((i * 37) % 101) as f64).collect();
    assert_eq!(summarize(&dense).median, 50.0);
    // 0, 37, 74, 10: the mean of the middle two, 10 and 37.
    assert_eq!(median(&mut dense[..4].to_vec()), 23.5);
    for (v, text) in [
        (3915.0, "3915.0"),
        (0.1, "0.1"),
        (1e-5, "1e-05"),
        (1.5e16, "1.5e+16"),
        (-148.84277343750014, "-148.84277343750014"),
        (0.0, "0.0"),
    ] {
        assert_eq!(py_float(v), text);
    }
}

#[test]
fn exact_reductions_agree_with_gdals_warper() {
    use iwp_rasters::pyramid::gdal_resample;
    // Irregular values, a missing child, 8x8 tiles.
    let a: Vec<f64> = (0..64).map(|i| ((i * 7919) % 13) as f64 * 0.37).collect();
    let b: Vec<f64> = (0..64).map(|i| ((i * 104729) % 5) as f64).collect();
    let c: Vec<f64> = (0..64).map(|i| (i as f64).sin().abs()).collect();
    let kids = [Some(a.as_slice()), Some(b.as_slice()), None, Some(c.as_slice())];
    for method in [R::Sum, R::Average, R::Nearest, R::Max, R::Min, R::Rms, R::Mode] {
        let exact = parent_band(method, kids, 8, 8).unwrap();
        let gdal = gdal_resample(method, kids, 8, 8).unwrap();
        let worst = exact.iter().zip(&gdal).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max);
        assert!(worst < 1e-6, "{method:?}: exact and GDAL differ by {worst:e}");
    }
    // Kernel methods run through GDAL and give finite values of the right size.
    for method in [R::Bilinear, R::Cubic, R::CubicSpline, R::Lanczos, R::Med, R::Q1, R::Q3] {
        let p = parent_band(method, kids, 8, 8).unwrap();
        assert_eq!(p.len(), 64);
        assert!(p.iter().all(|v| v.is_finite()), "{method:?}");
    }
    assert!(parent_band(R::Gauss, kids, 8, 8).is_err());
}
