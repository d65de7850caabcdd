//! Summary statistics of a task's durations: median, 95th percentile, mean, spread.
//!
//! Inputs are the cleaned samples of `subjects` (finite, not negative); an empty slice
//! gives `None` rather than a NaN, so no NaN reaches a message or the JSON.

/// The summary of some samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Summary {
    /// How many samples.
    pub(super) n: usize,
    /// The median (the mean of the middle two for an even count).
    pub(super) median: f64,
    /// The 95th percentile, by nearest rank.
    pub(super) p95: f64,
    /// The smallest.
    pub(super) min: f64,
    /// The largest.
    pub(super) max: f64,
    /// The mean.
    pub(super) mean: f64,
    /// The coefficient of variation: the sample standard deviation over the mean (0
    /// when the mean is 0 or there is one sample).
    pub(super) cv: f64,
}

/// Summarizes `samples`; `None` when there are none.
pub(super) fn summarize(samples: &[f64]) -> Option<Summary> {
    let n = samples.len();
    if n == 0 {
        return None;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let median = if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    };
    // Nearest rank: the smallest value with at least 95% of the samples at or below it.
    let rank = ((0.95 * n as f64).ceil() as usize).clamp(1, n);
    let p95 = sorted[rank - 1];
    let mean = sorted.iter().sum::<f64>() / n as f64;
    let cv = if n > 1 && mean > 0.0 {
        let var = sorted.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        var.sqrt() / mean
    } else {
        0.0
    };
    Some(Summary {
        n,
        median,
        p95,
        min: sorted[0],
        max: sorted[n - 1],
        mean,
        cv,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_percentiles_and_spread() {
        assert_eq!(summarize(&[]), None);
        let one = summarize(&[7.0]).expect("one");
        assert_eq!((one.median, one.p95, one.cv), (7.0, 7.0, 0.0));
        let even = summarize(&[4.0, 1.0, 3.0, 2.0]).expect("four");
        assert_eq!(
            (even.median, even.min, even.max, even.mean),
            (2.5, 1.0, 4.0, 2.5)
        );
        let twenty: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(summarize(&twenty).expect("twenty").p95, 19.0);
        let flat = summarize(&[5.0; 6]).expect("flat");
        assert_eq!(flat.cv, 0.0);
        let spread = summarize(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]).expect("spread");
        // Sample standard deviation 2.138..., mean 5.
        assert!((spread.cv - 0.4276).abs() < 1e-3, "{}", spread.cv);
        let zeros = summarize(&[0.0, 0.0]).expect("zeros");
        assert_eq!(zeros.cv, 0.0);
    }
}
