//! Slopes through a figure's samples: Theil–Sen (what the verdicts use, with its 95% interval)
//! and least squares.

/// A least-squares line through points.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fit {
    /// Change of y per unit of x.
    pub slope: f64,
    /// y at x = 0.
    pub intercept: f64,
    /// Coefficient of determination (1.0 for a perfect line, 0.0 for none).
    pub r2: f64,
}

/// The Theil–Sen slope through `points`: the median of the slopes between every pair with
/// distinct x. Robust to outliers (up to about 29% of the points), which a heap series has: a
/// sample taken while a late peer still holds memory is one point far off the line, and least
/// squares lets such a point decide the verdict. `None` with fewer than two distinct x values.
pub fn theil_sen(points: &[(f64, f64)]) -> Option<f64> {
    let slopes = pairwise_slopes(points);
    if slopes.is_empty() {
        return None;
    }
    let mid = slopes.len() / 2;
    Some(if slopes.len().is_multiple_of(2) {
        (slopes[mid - 1] + slopes[mid]) / 2.0
    } else {
        slopes[mid]
    })
}

/// The slopes between every pair of `points` with distinct x, sorted.
fn pairwise_slopes(points: &[(f64, f64)]) -> Vec<f64> {
    let mut slopes = Vec::new();
    for (i, a) in points.iter().enumerate() {
        for b in &points[i + 1..] {
            if b.0 != a.0 {
                slopes.push((b.1 - a.1) / (b.0 - a.0));
            }
        }
    }
    slopes.sort_by(f64::total_cmp);
    slopes
}

/// The 95% confidence interval of the Theil–Sen slope through `points` (Sen 1968): the pairwise
/// slopes ranked, and the ranks `(N ∓ C) / 2` around the median with
/// `C = 1.96 · sqrt(n (n - 1) (2n + 5) / 18)` (Kendall's tau under no trend, ties ignored).
///
/// It says what a run can tell: a heap sampled between waves still varies by megabytes (the
/// state of peers that left seconds ago), so a short run may fit a slope whose interval spans
/// far more than the threshold. `None` with fewer than three distinct x values.
pub fn theil_sen_interval(points: &[(f64, f64)]) -> Option<(f64, f64)> {
    let n = points.len() as f64;
    let slopes = pairwise_slopes(points);
    if slopes.len() < 3 {
        return None;
    }
    let pairs = slopes.len() as f64;
    let c = 1.96 * (n * (n - 1.0) * (2.0 * n + 5.0) / 18.0).sqrt();
    // Ranks are 1-based: the lower bound is the M1-th slope, the upper the (M2 + 1)-th.
    let lower_rank = ((pairs - c) / 2.0).floor().max(1.0) as usize;
    let upper_rank = (((pairs + c) / 2.0).ceil() as usize + 1).min(slopes.len());
    Some((slopes[lower_rank - 1], slopes[upper_rank - 1]))
}

/// Fits a line through `points`; `None` with fewer than two distinct x values.
pub fn least_squares(points: &[(f64, f64)]) -> Option<Fit> {
    let n = points.len() as f64;
    if points.len() < 2 {
        return None;
    }
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    if sxx == 0.0 {
        return None;
    }
    let sxy: f64 = points.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    let syy: f64 = points.iter().map(|p| (p.1 - mean_y).powi(2)).sum();
    let slope = sxy / sxx;
    let r2 = if syy == 0.0 {
        1.0
    } else {
        (sxy * sxy) / (sxx * syy)
    };
    Some(Fit {
        slope,
        intercept: mean_y - slope * mean_x,
        r2,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn theil_sen_ignores_an_outlier_least_squares_follows() {
        let mut points: Vec<(f64, f64)> = (0..14).map(|x| (x as f64, 100.0)).collect();
        points[10].1 = 1_000.0;
        assert_eq!(theil_sen(&points), Some(0.0));
        assert!(least_squares(&points).unwrap().slope > 10.0);
        let line: Vec<(f64, f64)> = (0..10).map(|x| (x as f64, 3.0 * x as f64 + 1.0)).collect();
        assert_eq!(theil_sen(&line), Some(3.0));
        assert_eq!(theil_sen(&[(1.0, 1.0), (1.0, 5.0)]), None);
    }

    #[test]
    fn slope_interval_holds_the_slope_and_narrows_with_less_noise() {
        // A line with scrambled noise of ±300: the interval brackets the slope.
        let noise = |x: u64| ((x * 37) % 11) as f64 * 60.0 - 300.0;
        let noisy: Vec<(f64, f64)> = (0..40)
            .map(|x| (x as f64, 5.0 * x as f64 + noise(x)))
            .collect();
        let (lo, hi) = theil_sen_interval(&noisy).unwrap();
        assert!(lo < 5.0 && 5.0 < hi, "[{lo}, {hi}]");
        let quieter: Vec<(f64, f64)> = noisy
            .iter()
            .map(|&(x, y)| (x, 5.0 * x + (y - 5.0 * x) / 10.0))
            .collect();
        let (qlo, qhi) = theil_sen_interval(&quieter).unwrap();
        assert!(qlo < 5.0 && 5.0 < qhi, "[{qlo}, {qhi}]");
        assert!(
            qhi - qlo < (hi - lo) / 5.0,
            "[{qlo}, {qhi}] vs [{lo}, {hi}]"
        );
        // An exact line has a zero-width interval; two points have none.
        let line: Vec<(f64, f64)> = (0..10).map(|x| (x as f64, 3.0 * x as f64)).collect();
        assert_eq!(theil_sen_interval(&line), Some((3.0, 3.0)));
        assert_eq!(theil_sen_interval(&[(0.0, 0.0), (1.0, 1.0)]), None);
    }

    #[test]
    fn fits_a_line() {
        let fit = least_squares(&[(0.0, 1.0), (1.0, 3.0), (2.0, 5.0)]).unwrap();
        assert!((fit.slope - 2.0).abs() < 1e-9);
        assert!((fit.intercept - 1.0).abs() < 1e-9);
        assert!((fit.r2 - 1.0).abs() < 1e-9);
        assert!(least_squares(&[(1.0, 1.0), (1.0, 2.0)]).is_none());
    }
}
