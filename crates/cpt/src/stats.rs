//! The few statistics the scoring needs: the normal quantile and distribution function and
//! summaries of a sample.

/// The standard normal quantile z(p) for `0 < p < 1` (Wichura 1988, algorithm AS 241
/// PPND16, accurate to about 1e-16). Outside (0, 1) it returns ±infinity or NaN, but the
/// crate only calls it on log-linear corrected rates, which are strictly inside.
// The coefficients are written as published, digit for digit, so they can be checked.
#[allow(clippy::excessive_precision)]
pub fn normal_quantile(p: f64) -> f64 {
    if p.is_nan() {
        return f64::NAN;
    }
    if p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    const A: [f64; 8] = [
        3.387_132_872_796_366_608,
        133.141_667_891_784_377_45,
        1_971.590_950_306_551_442_7,
        13_731.693_765_509_461_125,
        45_921.953_931_549_871_457,
        67_265.770_927_008_700_853,
        33_430.575_583_588_128_105,
        2_509.080_928_730_122_672_7,
    ];
    const B: [f64; 8] = [
        1.0,
        42.313_330_701_600_911_252,
        687.187_007_492_057_908_3,
        5_394.196_021_424_751_107_7,
        21_213.794_301_586_595_867,
        39_307.895_800_092_710_61,
        28_729.085_735_721_942_674,
        5_226.495_278_852_854_561,
    ];
    const C: [f64; 8] = [
        1.423_437_110_749_683_577_34,
        4.630_337_846_156_545_295_9,
        5.769_497_221_460_691_405_5,
        3.647_848_324_763_204_605_04,
        1.270_458_252_452_368_382_58,
        0.241_780_725_177_450_611_77,
        0.022_723_844_989_269_184_583_3,
        7.745_450_142_783_414_076_4e-4,
    ];
    const D: [f64; 8] = [
        1.0,
        2.053_191_626_637_758_821_87,
        1.676_384_830_183_803_849_4,
        0.689_767_334_985_100_004_55,
        0.148_103_976_427_480_074_59,
        0.015_198_666_563_616_457_196_6,
        5.475_938_084_995_344_946e-4,
        1.050_750_071_644_416_843_24e-9,
    ];
    const E: [f64; 8] = [
        6.657_904_643_501_103_777_2,
        5.463_784_911_164_114_369_9,
        1.784_826_539_917_291_335_8,
        0.296_560_571_828_504_891_23,
        0.026_532_189_526_576_123_093,
        0.001_242_660_947_388_078_438_6,
        2.711_555_568_743_487_578_15e-5,
        2.010_334_399_292_288_132_65e-7,
    ];
    const F: [f64; 8] = [
        1.0,
        0.599_832_206_555_887_937_69,
        0.136_929_880_922_735_805_31,
        0.014_875_361_290_850_614_852_5,
        7.868_691_311_456_132_591e-4,
        1.846_318_317_510_054_681_8e-5,
        1.421_511_758_316_445_888_7e-7,
        2.044_263_103_389_939_785_64e-15,
    ];
    fn poly(c: &[f64; 8], x: f64) -> f64 {
        c.iter().rev().fold(0.0, |acc, &k| acc * x + k)
    }
    let q = p - 0.5;
    if q.abs() <= 0.425 {
        let r = 0.180_625 - q * q;
        return q * poly(&A, r) / poly(&B, r);
    }
    let r = if q < 0.0 { p } else { 1.0 - p };
    let r = (-r.ln()).sqrt();
    let v = if r <= 5.0 {
        let r = r - 1.6;
        poly(&C, r) / poly(&D, r)
    } else {
        let r = r - 5.0;
        poly(&E, r) / poly(&F, r)
    };
    if q < 0.0 { -v } else { v }
}

/// The standard normal distribution function Φ(x) (Marsaglia 2004's Taylor series, absolute
/// error about 1e-15); exactly 0 or 1 beyond ±8.5 and for infinite arguments, NaN for NaN.
pub fn normal_cdf(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x <= -8.5 {
        return 0.0;
    }
    if x >= 8.5 {
        return 1.0;
    }
    let q = x * x;
    let (mut s, mut b) = (x, x);
    let mut i = 1.0;
    for _ in 0..1000 {
        i += 2.0;
        b *= q / i;
        let t = s + b;
        if t == s {
            break;
        }
        s = t;
    }
    // 0.918938533... = ln(sqrt(2 pi)).
    (0.5 + s * (-0.5 * q - 0.918_938_533_204_672_8).exp()).clamp(0.0, 1.0)
}

/// Mean, median and sample standard deviation (n - 1) of a sample.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Summary {
    pub n: u32,
    /// `None` for an empty sample.
    pub mean: Option<f64>,
    /// The middle value, or the mean of the two middle values; `None` when empty.
    pub median: Option<f64>,
    /// The sample standard deviation, `None` with fewer than two values.
    pub sd: Option<f64>,
}

impl Summary {
    /// Summarises `values` (which the caller has checked are finite).
    pub fn of(values: &[f64]) -> Summary {
        let n = values.len();
        if n == 0 {
            return Summary::default();
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let median = if n % 2 == 1 {
            sorted[n / 2]
        } else {
            (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
        };
        let sd = (n >= 2).then(|| {
            let ss: f64 = values.iter().map(|v| (v - mean) * (v - mean)).sum();
            (ss / (n - 1) as f64).sqrt()
        });
        Summary {
            n: n as u32,
            mean: Some(mean),
            median: Some(median),
            sd,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) {
        assert!((a - b).abs() <= tol, "{a} vs {b}");
    }

    #[test]
    fn quantile_reference_values() {
        // Values from R's qnorm and Python's statistics.NormalDist.
        close(normal_quantile(0.5), 0.0, 1e-16);
        close(normal_quantile(0.975), 1.959_963_984_540_054, 1e-14);
        close(normal_quantile(0.75), 0.674_489_750_196_081_7, 1e-14);
        close(normal_quantile(0.1), -1.281_551_565_544_600_8, 1e-14);
        close(normal_quantile(1e-10), -6.361_340_902_404_056, 1e-12);
        close(normal_quantile(1e-300), -37.047_096_299_361_2, 1e-9);
        assert_eq!(normal_quantile(0.0), f64::NEG_INFINITY);
        assert_eq!(normal_quantile(1.0), f64::INFINITY);
        assert!(normal_quantile(f64::NAN).is_nan());
    }

    #[test]
    fn cdf_reference_values_and_inverse() {
        close(normal_cdf(0.0), 0.5, 1e-16);
        close(normal_cdf(1.96), 0.975_002_104_851_779_5, 1e-14);
        close(normal_cdf(-1.5), 0.066_807_201_268_858_06, 1e-14);
        for p in [0.001, 0.02, 0.3, 0.5, 0.77, 0.999] {
            close(normal_cdf(normal_quantile(p)), p, 1e-13);
        }
        assert_eq!(normal_cdf(f64::INFINITY), 1.0);
        assert_eq!(normal_cdf(-40.0), 0.0);
    }

    #[test]
    fn summary_by_hand() {
        // 300, 400, 500, 600: mean 450, median (400 + 500) / 2 = 450,
        // squares of deviations 22500 + 2500 + 2500 + 22500 = 50000, / 3 = 16666.67, sd 129.10.
        let s = Summary::of(&[600.0, 300.0, 500.0, 400.0]);
        assert_eq!(s.n, 4);
        assert_eq!(s.mean, Some(450.0));
        assert_eq!(s.median, Some(450.0));
        close(s.sd.unwrap(), (50_000.0f64 / 3.0).sqrt(), 1e-12);
        let one = Summary::of(&[250.0]);
        assert_eq!(
            (one.mean, one.median, one.sd),
            (Some(250.0), Some(250.0), None)
        );
        assert_eq!(Summary::of(&[]), Summary::default());
    }
}
