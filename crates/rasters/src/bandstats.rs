//! Summaries of a band (min, max, mean, median, population std/var, sum) computed as numpy computes
//! them for the reference's rasters summary: sums by numpy's pairwise summation, so the figures
//! agree with the reference's to the last bit (tested on the golden summaries), and with eight
//! independent accumulators, which is also several times faster than a running sum.

/// Summary of a band over all pixels (zeros included), as the rasters summary has it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BandSummary {
    /// The smallest pixel value.
    pub min: f64,
    /// The largest pixel value.
    pub max: f64,
    /// The mean over all pixels.
    pub mean: f64,
    /// The median over all pixels (mean of the two middle values for an even count).
    pub median: f64,
    /// Population standard deviation (ddof 0).
    pub std: f64,
    /// Population variance (ddof 0).
    pub var: f64,
    /// The sum of all pixels, by numpy's pairwise summation.
    pub sum: f64,
}

/// Min, max, mean, median, population std/var and sum of a band, as numpy's `min`, `max`,
/// `mean`, `median`, `std`, `var` and `sum` give them.
pub fn summarize(values: &[f64]) -> BandSummary {
    let n = values.len() as f64;
    let (min, max, below, zeros) = extremes(values);
    let sum = pairwise_sum(values, |v| v);
    let mean = sum / n;
    let var = pairwise_sum(values, |v| (v - mean) * (v - mean)) / n;
    BandSummary { min, max, mean, median: band_median(values, below, zeros), std: var.sqrt(), var, sum }
}

/// numpy's sum of `f(v)` over `values` (`add.reduce` on a contiguous float64 array): blocks of
/// up to 128 values summed in 8 interleaved accumulators, longer runs split in halves.
///
/// ```
/// use iwp_rasters::bandstats::pairwise_sum;
/// // 0.1 ten times: numpy gives exactly 1.0 where a running sum gives 0.9999999999999999.
/// let tenths = [0.1; 10];
/// assert_eq!(pairwise_sum(&tenths, |v| v), 1.0);
/// assert_ne!(tenths.iter().sum::<f64>(), 1.0);
/// ```
pub fn pairwise_sum(values: &[f64], f: impl Fn(f64) -> f64 + Copy) -> f64 {
    0.0 + pairwise(values, f)
}

fn pairwise(a: &[f64], f: impl Fn(f64) -> f64 + Copy) -> f64 {
    const BLOCK: usize = 128;
    let n = a.len();
    if n < 8 {
        a.iter().fold(0.0, |r, &v| r + f(v))
    } else if n <= BLOCK {
        let mut r: [f64; 8] = std::array::from_fn(|j| f(a[j]));
        let whole = n - n % 8;
        for chunk in a[8..whole].chunks_exact(8) {
            for j in 0..8 {
                r[j] += f(chunk[j]);
            }
        }
        let res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        a[whole..].iter().fold(res, |r, &v| r + f(v))
    } else {
        let half = n / 2;
        let half = half - half % 8;
        pairwise(&a[..half], f) + pairwise(&a[half..], f)
    }
}

/// Smallest and largest value (NaN ignored), and how many values are negative and zero.
fn extremes(values: &[f64]) -> (f64, f64, usize, usize) {
    // Eight lanes, so the loop runs on vector registers.
    let (mut lo, mut hi) = ([f64::INFINITY; 8], [f64::NEG_INFINITY; 8]);
    let (mut below, mut zeros) = ([0u32; 8], [0u32; 8]);
    let chunks = values.chunks_exact(8);
    let rest = chunks.remainder();
    for chunk in chunks {
        for j in 0..8 {
            let v = chunk[j];
            // Written as comparisons (NaN never replaces), which compile to vector min/max.
            lo[j] = if v < lo[j] { v } else { lo[j] };
            hi[j] = if v > hi[j] { v } else { hi[j] };
            below[j] += u32::from(v < 0.0);
            zeros[j] += u32::from(v == 0.0);
        }
    }
    let (mut min, mut max) =
        (lo.iter().fold(f64::INFINITY, |a, &b| a.min(b)), hi.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b)));
    let (mut below, mut zeros) = (below.iter().map(|&c| c as usize).sum(), zeros.iter().map(|&c| c as usize).sum());
    for &v in rest {
        min = min.min(v);
        max = max.max(v);
        below += usize::from(v < 0.0);
        zeros += usize::from(v == 0.0);
    }
    (min, max, below, zeros)
}

/// The median of a band with `below` negative values and `zeros` zeros. Bands are mostly zeros:
/// the middle positions are often both zeros, and otherwise, when many values are zero, the
/// upper one is selected among the values on its side of zero only.
fn band_median(values: &[f64], below: usize, zeros: usize) -> f64 {
    let n = values.len();
    if n == 0 {
        return f64::NAN;
    }
    let (lo, hi) = ((n - 1) / 2, n / 2);
    let zero = below..below + zeros;
    if zero.contains(&lo) && zero.contains(&hi) {
        return 0.0;
    }
    let many_zeros = zeros > n / 4;
    // The selection list (as ordered keys) and the sorted position of its first value.
    let keys = |keep: fn(f64) -> bool, size: usize| {
        let mut list = Vec::with_capacity(size);
        for &v in values {
            if keep(v) {
                list.push(order_key(v));
            }
        }
        list
    };
    let (mut list, offset) = if many_zeros && hi >= zero.end {
        (keys(|v| v > 0.0 || v.is_nan(), n - zero.end), zero.end)
    } else if many_zeros && hi < below {
        (keys(|v| v < 0.0, below), 0)
    } else {
        (values.iter().copied().map(order_key).collect(), 0)
    };
    let (left, &mut upper, _) = list.select_nth_unstable(hi - offset);
    let upper = from_order_key(upper);
    if lo == hi {
        return upper;
    }
    // The lower middle: the largest value left of the upper one, or a zero just below the list.
    let lower = if lo < offset { 0.0 } else { left.iter().max().map_or(upper, |&k| from_order_key(k)) };
    (lower + upper) / 2.0
}

/// An integer whose order is `f64::total_cmp`'s (the same bit transform), so selection compares
/// integers.
fn order_key(v: f64) -> i64 {
    let bits = v.to_bits() as i64;
    bits ^ ((((bits >> 63) as u64) >> 1) as i64)
}

/// The value of an [`order_key`] (the transform is its own inverse).
fn from_order_key(key: i64) -> f64 {
    f64::from_bits((key ^ ((((key >> 63) as u64) >> 1) as i64)) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_of_known_bands() {
        let s = summarize(&[0.0, 0.0, 1.0, 3.0]);
        assert_eq!((s.min, s.max, s.sum, s.mean, s.median), (0.0, 3.0, 4.0, 1.0, 0.5));
        assert_eq!(s.var, 1.5, "population variance: (1 + 1 + 0 + 4) / 4");
        assert_eq!(s.std, 1.5f64.sqrt());
        // Sums of many values split in halves of whole blocks of 8 agree with an exact sum.
        let values: Vec<f64> = (0..1000).map(|i| f64::from(i % 7)).collect();
        assert_eq!(pairwise_sum(&values, |v| v), values.iter().sum::<f64>());
        assert_eq!(pairwise_sum(&values, |v| 2.0 * v), 2.0 * values.iter().sum::<f64>());
    }
}
