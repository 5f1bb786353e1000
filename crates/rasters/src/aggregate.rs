//! Per-pixel aggregation of the values that fall in each pixel, by a pandas aggregation name as
//! the reference's statistics give it (`sum`, `mean`, `max`, ...). Null values are skipped as
//! pandas skips NaN (`size` counts them). A pixel without values is 0; so is a statistic pandas
//! leaves undefined (the mean of nulls only, the std of one value).

use std::collections::HashMap;

use iwp_core::config::Aggregation;

/// Running aggregates of a band: per pixel a value (sum, mean, extreme, product...), a sum of
/// squared deviations for std/var, and counts;
/// full value lists only for the methods that need them (median, nunique).
#[derive(Debug)]
pub struct PixelAggregator {
    method: Aggregation,
    value: Vec<f64>,
    square: Vec<f64>,
    count: Vec<u32>,
    rows: Vec<u32>,
    lists: HashMap<usize, Vec<f64>>,
}

impl PixelAggregator {
    /// An aggregator for `pixels` pixels.
    pub fn new(method: Aggregation, pixels: usize) -> PixelAggregator {
        let start = if method == Aggregation::Prod { 1.0 } else { 0.0 };
        // A sum needs no counts: a pixel without values keeps 0.
        let counts = if method == Aggregation::Sum { 0 } else { pixels };
        PixelAggregator {
            method,
            value: filled(pixels, start),
            square: if matches!(method, Aggregation::Std | Aggregation::Var) { vec![0.0; pixels] } else { Vec::new() },
            count: vec![0; counts],
            rows: vec![0; counts],
            lists: HashMap::new(),
        }
    }

    /// Adds one row's value (None = null) to a pixel.
    pub fn add(&mut self, pixel: usize, value: Option<f64>) {
        if self.method == Aggregation::Sum {
            if let Some(v) = value.filter(|v| !v.is_nan()) {
                self.value[pixel] += v;
            }
            return;
        }
        self.rows[pixel] += 1;
        let Some(v) = value.filter(|v| !v.is_nan()) else { return };
        let first = self.count[pixel] == 0;
        self.count[pixel] += 1;
        let slot = &mut self.value[pixel];
        match self.method {
            Aggregation::Sum | Aggregation::Mean => *slot += v,
            Aggregation::Std | Aggregation::Var => {
                // Welford: running mean and sum of squared deviations.
                let delta = v - *slot;
                *slot += delta / f64::from(self.count[pixel]);
                self.square[pixel] += delta * (v - *slot);
            }
            Aggregation::Max => *slot = if first { v } else { slot.max(v) },
            Aggregation::Min => *slot = if first { v } else { slot.min(v) },
            Aggregation::First if first => *slot = v,
            Aggregation::Last => *slot = v,
            Aggregation::Prod => *slot *= v,
            Aggregation::Median | Aggregation::Nunique => self.lists.entry(pixel).or_default().push(v),
            Aggregation::First | Aggregation::Count | Aggregation::Size => {}
        }
    }

    /// Adds `value(fraction)` to the pixel of each (pixel, fraction) piece.
    pub fn add_each(&mut self, pieces: impl Iterator<Item = (usize, f64)>, value: impl Fn(f64) -> Option<f64>) {
        if self.method == Aggregation::Sum {
            // The common case, without add's per-call method checks.
            for (pixel, fraction) in pieces {
                if let Some(v) = value(fraction).filter(|v| !v.is_nan()) {
                    self.value[pixel] += v;
                }
            }
        } else {
            for (pixel, fraction) in pieces {
                self.add(pixel, value(fraction));
            }
        }
    }

    /// The band: one value per pixel.
    pub fn finish(mut self) -> Vec<f64> {
        if self.method == Aggregation::Sum {
            return self.value;
        }
        let pixels = self.value.len();
        let mut out = vec![0.0; pixels];
        for (p, o) in out.iter_mut().enumerate() {
            let n = f64::from(self.count[p]);
            if self.rows[p] == 0 {
                continue;
            }
            *o = match self.method {
                Aggregation::Size => f64::from(self.rows[p]),
                Aggregation::Count => n,
                _ if n == 0.0 => {
                    if self.method == Aggregation::Prod || self.method == Aggregation::Sum {
                        self.value[p]
                    } else {
                        0.0
                    }
                }
                Aggregation::Mean => self.value[p] / n,
                Aggregation::Std | Aggregation::Var if n < 2.0 => 0.0,
                Aggregation::Std | Aggregation::Var => {
                    let var = self.square[p] / (n - 1.0);
                    if self.method == Aggregation::Std {
                        var.sqrt()
                    } else {
                        var
                    }
                }
                Aggregation::Median => median(self.lists.get_mut(&p).map(Vec::as_mut_slice).unwrap_or(&mut [])),
                Aggregation::Nunique => {
                    let list = self.lists.get_mut(&p).map(Vec::as_mut_slice).unwrap_or(&mut []);
                    list.sort_by(f64::total_cmp);
                    let mut distinct = list.to_vec();
                    distinct.dedup();
                    distinct.len() as f64
                }
                _ => self.value[p],
            };
        }
        out
    }
}

/// `n` copies of `v`, written into a plain allocation: a zeroed one (`vec![0.0; n]`) may be
/// fresh pages from the system, each zeroed by the kernel at its first touch (7% of
/// rasterizing a tile where the allocator handed freed bands back), where a reused block is
/// written once.
fn filled(n: usize, v: f64) -> Vec<f64> {
    let mut out = Vec::with_capacity(n);
    out.resize(n, v);
    out
}

/// Median of values (mean of the two middle ones for an even count), as numpy and pandas give
/// it. Reorders `values`.
pub fn median(values: &mut [f64]) -> f64 {
    let n = values.len();
    if n == 0 {
        return f64::NAN;
    }
    let (_, &mut upper, _) = values.select_nth_unstable_by(n / 2, f64::total_cmp);
    if n % 2 == 1 {
        return upper;
    }
    // The lower middle is the largest value left of the upper one.
    let lower = values[..n / 2].iter().copied().max_by(f64::total_cmp).unwrap_or(upper);
    (lower + upper) / 2.0
}
