//! The network's statistics against hand-computed and published examples, and their
//! properties.

use network::dist::{Z95, binomial_cdf, gamma_quantile};
use network::effect::{MIN_PERIODS, Period, Scale, Signal, site_effect};
use network::funnel::{Band, Unit, binomial_limit, exact, funnel};
use network::meta::{Study, dersimonian_laird};
use proptest::prelude::*;
use spc::Direction;

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

/// BCG vaccine trials (Colditz et al. 1994), R's `metafor::dat.bcg`: tpos, tneg, cpos, cneg.
const BCG: [(f64, f64, f64, f64); 13] = [
    (4., 119., 11., 128.),
    (6., 300., 29., 274.),
    (3., 228., 11., 209.),
    (62., 13536., 248., 12619.),
    (33., 5036., 47., 5761.),
    (180., 1361., 372., 1079.),
    (8., 2537., 10., 619.),
    (505., 87886., 499., 87892.),
    (29., 7470., 45., 7232.),
    (17., 1699., 65., 1600.),
    (186., 50448., 141., 27197.),
    (5., 2493., 3., 2338.),
    (27., 16886., 29., 17825.),
];

#[test]
fn dersimonian_laird_reproduces_metafor_on_the_bcg_trials() {
    // Viechtbauer (2010), J Stat Softw 36(3), and metafor's documentation: escalc("RR") then
    // rma(yi, vi, method = "DL") gives estimate -0.7141 (SE 0.1787, 95% CI -1.0644 to
    // -0.3638), tau^2 0.3088, Q(df = 12) = 152.2330, I^2 92.12%.
    let studies: Vec<Study> = BCG
        .iter()
        .map(|&(a, b, c, d)| Study {
            log_ratio: ((a / (a + b)) / (c / (c + d))).ln(),
            se: (1.0 / a - 1.0 / (a + b) + 1.0 / c - 1.0 / (c + d)).sqrt(),
        })
        .collect();
    let p = dersimonian_laird(&studies).unwrap();
    assert!(close(p.log_estimate, -0.7141, 5e-5), "{}", p.log_estimate);
    assert!(close(p.se, 0.1787, 5e-5), "{}", p.se);
    assert!(close(p.lower.ln(), -1.0644, 5e-5));
    assert!(close(p.upper.ln(), -0.3638, 5e-5));
    assert!(close(p.tau2, 0.3088, 5e-5), "{}", p.tau2);
    let h = p.heterogeneity.unwrap();
    assert_eq!(h.df, 12);
    assert!(close(h.q, 152.2330, 5e-4), "{}", h.q);
    assert!(close(h.i2, 92.12, 5e-3), "{}", h.i2);
    assert!(h.p_value < 1e-20);
    assert!(!p.single_site);
}

#[test]
fn dersimonian_laird_by_hand_on_three_sites() {
    // y = ln 0.5, ln 0.8, ln 1.1; se 0.2, 0.3, 0.25. w = 25, 11.111, 16; sum 52.111.
    let y = [0.5f64.ln(), 0.8f64.ln(), 1.1f64.ln()];
    let se = [0.2, 0.3, 0.25];
    let studies: Vec<Study> = y
        .iter()
        .zip(se)
        .map(|(&y, se)| Study { log_ratio: y, se })
        .collect();
    let w: Vec<f64> = se.iter().map(|s| 1.0 / (s * s)).collect();
    let sw: f64 = w.iter().sum();
    let fixed = (w[0] * y[0] + w[1] * y[1] + w[2] * y[2]) / sw;
    let q: f64 = (0..3).map(|i| w[i] * (y[i] - fixed).powi(2)).sum();
    let c = sw - w.iter().map(|w| w * w).sum::<f64>() / sw;
    let tau2 = ((q - 2.0) / c).max(0.0);
    let ws: Vec<f64> = se.iter().map(|s| 1.0 / (s * s + tau2)).collect();
    let mu = (0..3).map(|i| ws[i] * y[i]).sum::<f64>() / ws.iter().sum::<f64>();
    let p = dersimonian_laird(&studies).unwrap();
    assert!(tau2 > 0.0, "the example is heterogeneous: Q = {q}");
    assert!(close(p.tau2, tau2, 1e-12));
    assert!(close(p.log_estimate, mu, 1e-12));
    assert!(close(p.heterogeneity.unwrap().q, q, 1e-12));
}

#[test]
fn one_site_is_its_own_estimate_without_heterogeneity() {
    let p = dersimonian_laird(&[Study {
        log_ratio: -0.4,
        se: 0.2,
    }])
    .unwrap();
    assert!(p.single_site);
    assert_eq!(p.heterogeneity, None);
    assert_eq!(p.tau2, 0.0);
    assert!(close(p.ratio, (-0.4f64).exp(), 1e-12));
    assert!(close(p.lower, (-0.4 - Z95 * 0.2f64).exp(), 1e-12));
}

#[test]
fn bad_studies_are_refused_by_position() {
    assert!(dersimonian_laird(&[]).is_err());
    let e = dersimonian_laird(&[
        Study {
            log_ratio: 0.1,
            se: 0.2,
        },
        Study {
            log_ratio: 0.1,
            se: 0.0,
        },
    ])
    .unwrap_err();
    assert!(
        e.to_string().starts_with("site 1: the standard error is 0"),
        "{e}"
    );
}

/// Two years of monthly restraint on a ward: about 2,600 occupied bed days a month.
fn ward(
    before_rate: f64,
    after_rate: f64,
    months_before: usize,
    months_after: usize,
) -> Vec<Option<Period>> {
    // A fixed, irregular wobble so the series look real (no randomness in tests).
    let wobble = [
        0.9, 1.1, 1.0, 0.85, 1.15, 1.05, 0.95, 1.0, 1.1, 0.9, 1.0, 1.05,
    ];
    (0..months_before + months_after)
        .map(|i| {
            let rate = if i < months_before {
                before_rate
            } else {
                after_rate
            };
            let bed_days = 2600.0 + 40.0 * (i % 5) as f64;
            Some(Period {
                numerator: (rate / 1000.0 * bed_days * wobble[i % 12]).round(),
                denominator: bed_days,
            })
        })
        .collect()
}

#[test]
fn a_real_fall_is_a_ratio_below_one_with_a_signal_that_held() {
    let series = ward(12.0, 6.0, 18, 12);
    let e = site_effect(
        &series,
        18,
        Scale::Rate { multiplier: 1000.0 },
        Direction::Decrease,
    )
    .unwrap();
    // The ratio by hand from the pooled counts.
    let (n0, d0): (f64, f64) = series[..18]
        .iter()
        .flatten()
        .fold((0.0, 0.0), |a, p| (a.0 + p.numerator, a.1 + p.denominator));
    let (n1, d1): (f64, f64) = series[18..]
        .iter()
        .flatten()
        .fold((0.0, 0.0), |a, p| (a.0 + p.numerator, a.1 + p.denominator));
    let rr = (n1 / d1) / (n0 / d0);
    let se = (1.0 / n1 + 1.0 / n0).sqrt();
    assert!(close(e.ratio.value, rr, 1e-12));
    assert!(close(e.ratio.upper, rr * (Z95 * se).exp(), 1e-12));
    assert!(e.ratio.upper < 1.0);
    assert!(close(e.before.centre, n0 / d0 * 1000.0, 1e-9));
    // The frozen centre is the before period's, and stays on every point after.
    assert!(close(e.frozen_centre, e.before.centre, 1e-9));
    assert!(
        e.points[25]
            .centre
            .is_some_and(|c| close(c, e.frozen_centre, 1e-9))
    );
    let (kind, after) = e.first_signal.unwrap();
    assert_eq!(kind, Signal::Improvement);
    assert!(after < 7, "a halving shows within a run: {after}");
    assert_eq!(e.held, Some(true));
}

#[test]
fn no_change_has_an_interval_across_one_and_nothing_held() {
    let series = ward(10.0, 10.0, 18, 12);
    let e = site_effect(
        &series,
        18,
        Scale::Rate { multiplier: 1000.0 },
        Direction::Decrease,
    )
    .unwrap();
    assert!(e.ratio.lower < 1.0 && e.ratio.upper > 1.0, "{:?}", e.ratio);
    assert!(!matches!(e.first_signal, Some((Signal::Improvement, _))));
    assert_eq!(e.held, None);
}

#[test]
fn a_fall_that_came_back_did_not_hold() {
    let mut series = ward(12.0, 5.0, 18, 8);
    series.extend(ward(13.0, 13.0, 6, 0));
    let e = site_effect(
        &series,
        18,
        Scale::Rate { multiplier: 1000.0 },
        Direction::Decrease,
    )
    .unwrap();
    assert_eq!(e.first_signal.map(|s| s.0), Some(Signal::Improvement));
    assert_eq!(e.held, Some(false));
}

#[test]
fn proportions_use_the_ratio_of_proportions() {
    // % of incidents with a debrief, higher is better: 40 of 100 a month, then 70 of 100.
    let mut series: Vec<Option<Period>> = (0..12)
        .map(|i| {
            Some(Period {
                numerator: 38.0 + (i % 4) as f64,
                denominator: 100.0,
            })
        })
        .collect();
    series.extend((0..10).map(|i| {
        Some(Period {
            numerator: 68.0 + (i % 3) as f64,
            denominator: 100.0,
        })
    }));
    let e = site_effect(
        &series,
        12,
        Scale::Proportion { multiplier: 100.0 },
        Direction::Increase,
    )
    .unwrap();
    let (x0, n0, x1, n1) = (e.before.numerator, 1200.0, e.after.numerator, 1000.0);
    let se = (1.0 / x1 - 1.0 / n1 + 1.0 / x0 - 1.0 / n0).sqrt();
    assert!(close(e.ratio.value, (x1 / n1) / (x0 / n0), 1e-12));
    assert!(close(e.ratio.se, se, 1e-12));
    assert_eq!(e.first_signal.map(|s| s.0), Some(Signal::Improvement));
}

#[test]
fn zero_events_after_are_corrected_and_said_so() {
    let mut series = ward(4.0, 4.0, 12, 0);
    series.extend((0..6).map(|_| {
        Some(Period {
            numerator: 0.0,
            denominator: 2600.0,
        })
    }));
    let e = site_effect(
        &series,
        12,
        Scale::Rate { multiplier: 1000.0 },
        Direction::Decrease,
    )
    .unwrap();
    assert!(e.ratio.corrected);
    assert!(e.ratio.value.is_finite() && e.ratio.value > 0.0);
}

#[test]
fn effects_refuse_bad_input_naming_the_period() {
    let mut series = ward(10.0, 8.0, 12, 12);
    series[5] = Some(Period {
        numerator: -1.0,
        denominator: 2600.0,
    });
    let e = site_effect(
        &series,
        12,
        Scale::Rate { multiplier: 1000.0 },
        Direction::Decrease,
    )
    .unwrap_err();
    assert!(
        e.to_string().starts_with("period 5: the numerator is -1"),
        "{e}"
    );
    let series = ward(10.0, 8.0, 12, 2);
    let e = site_effect(
        &series,
        12,
        Scale::Rate { multiplier: 1000.0 },
        Direction::Decrease,
    )
    .unwrap_err();
    assert!(
        e.to_string().contains(&format!("at least {MIN_PERIODS}")),
        "{e}"
    );
    let series = vec![
        Some(Period {
            numerator: 6.0,
            denominator: 5.0
        });
        8
    ];
    assert!(
        site_effect(
            &series,
            4,
            Scale::Proportion { multiplier: 100.0 },
            Direction::Increase
        )
        .is_err()
    );
}

#[test]
fn exact_poisson_limits_by_hand() {
    // E = 10 expected events: the 95% lower limit of O/E is qchisq(0.025, 20)/2/10 =
    // 9.590777/20 = 0.4795389; the upper qchisq(0.975, 22)/2/10 = 36.78071/20 = 1.839036.
    let theta = 0.002;
    let l = exact(5000.0, theta, false);
    assert!(
        close(l.lower95 / theta, 0.479_538_9, 1e-6),
        "{}",
        l.lower95 / theta
    );
    assert!(
        close(l.upper95 / theta, 1.839_036, 1e-6),
        "{}",
        l.upper95 / theta
    );
    // And by the Poisson identity itself: at mean x = lower * E, P(X >= 10) = 0.025.
    let x = l.lower95 / theta * 10.0;
    let mut term = (-x).exp();
    let mut below = term;
    for i in 1..10 {
        term *= x / i as f64;
        below += term;
    }
    assert!(close(1.0 - below, 0.025, 1e-10));
    // The 99.8% shape-1 case: qgamma(0.001, 1) = -ln(0.999).
    assert!(close(gamma_quantile(0.001, 1.0), -(0.999f64).ln(), 1e-14));
}

#[test]
fn exact_binomial_limits_by_hand() {
    // Binomial(10, 0.5): F(7) = 968/1024, F(8) = 1013/1024. p = 0.975 gives r = 8 and
    // a = (1013/1024 - 0.975)/(45/1024) = 0.324444..., so y = (8 - a)/10 = 0.7675556.
    assert!(close(binomial_cdf(7, 10, 0.5), 968.0 / 1024.0, 1e-13));
    let a = (1013.0 / 1024.0 - 0.975) / (45.0 / 1024.0);
    assert!(close(
        binomial_limit(0.975, 10, 0.5),
        (8.0 - a) / 10.0,
        1e-12
    ));
    // p = 0.025: F(1) = 11/1024 < 0.025 <= F(2) = 56/1024; a = (56/1024 - 0.025)/(45/1024).
    let a = (56.0 / 1024.0 - 0.025) / (45.0 / 1024.0);
    assert!(close(
        binomial_limit(0.025, 10, 0.5),
        (2.0 - a) / 10.0,
        1e-12
    ));
}

/// Eight wards' proportions; the figures below were computed by hand (Python, from
/// FunnelPlotR's `transformed_zscore`, `winsorisation`, `phi_func` and `tau_func`).
const PROPORTIONS: [(f64, f64); 8] = [
    (12., 80.),
    (30., 150.),
    (5., 60.),
    (40., 200.),
    (9., 45.),
    (60., 220.),
    (2., 70.),
    (25., 130.),
];

#[test]
fn overdispersed_proportions_as_funnelplotr() {
    let units: Vec<Unit> = PROPORTIONS
        .iter()
        .map(|&(n, d)| Unit {
            numerator: n,
            denominator: d,
        })
        .collect();
    let f = funnel(&units, Scale::Proportion { multiplier: 1.0 }).unwrap();
    assert!(close(f.target, 0.191_623_036_649_214_6, 1e-12));
    assert!(close(f.phi, 2.305_356_645_840_102, 1e-9), "{}", f.phi);
    assert!(close(f.tau2, 0.003_560_512_437_839_95, 1e-12), "{}", f.tau2);
    assert!(f.overdispersed);
    // Winsorised at R's type-7 quantiles: -3.15968 and 1.06667.
    let lo = f
        .units
        .iter()
        .map(|u| u.winsorised_z)
        .fold(f64::INFINITY, f64::min);
    let hi = f
        .units
        .iter()
        .map(|u| u.winsorised_z)
        .fold(f64::NEG_INFINITY, f64::max);
    assert!(close(lo, -3.159_682_385_927_883, 1e-9) && close(hi, 1.066_674_231_579_034, 1e-9));
}

#[test]
fn adjusted_limits_at_a_denominator_by_hand() {
    // Add a ward with n = 100 to the eight above: its additive 95% limits and multiplicative
    // 99.8% limits (sin^2(asin(sqrt(theta)) +/- z sqrt(s^2 + tau^2)), with s = 1/20).
    let mut units: Vec<Unit> = PROPORTIONS
        .iter()
        .map(|&(n, d)| Unit {
            numerator: n,
            denominator: d,
        })
        .collect();
    units.push(Unit {
        numerator: 19.0,
        denominator: 100.0,
    });
    let f = funnel(&units, Scale::Proportion { multiplier: 1.0 }).unwrap();
    let t = f.target.sqrt().asin();
    let s: f64 = 0.05;
    let u = f.units[8];
    let sd = (s * s + f.tau2).sqrt();
    assert!(close(
        u.additive.lower95,
        (t - Z95 * sd).sin().powi(2),
        1e-12
    ));
    assert!(close(
        u.additive.upper95,
        (t + Z95 * sd).sin().powi(2),
        1e-12
    ));
    let z998 = 3.090_232_306_167_813;
    assert!(close(
        u.multiplicative.upper998,
        (t + z998 * f.phi.sqrt() * s).sin().powi(2),
        1e-12
    ));
    assert_eq!(u.band, Band::Within);
}

#[test]
fn overdispersed_rates_and_a_true_outlier() {
    // Six wards' restraints over bed days (hand-computed: theta 0.0046021, phi 5.05954,
    // tau^2 0.0582981).
    let rates = [
        (14., 4200.),
        (30., 6100.),
        (9., 3900.),
        (52., 7000.),
        (20., 2500.),
        (8., 5200.),
    ];
    let units: Vec<Unit> = rates
        .iter()
        .map(|&(n, d)| Unit {
            numerator: n,
            denominator: d,
        })
        .collect();
    let f = funnel(&units, Scale::Rate { multiplier: 1000.0 }).unwrap();
    assert!(close(f.target, 4.602_076_124_567_474, 1e-9));
    assert!(close(f.phi, 5.059_538_952_946_04, 1e-9), "{}", f.phi);
    assert!(close(f.tau2, 0.058_298_080_159_267, 1e-12), "{}", f.tau2);
    // Without the adjustment, the ward with 52 in 7,000 would be outside the exact 95%
    // limit; with it, inside. A ward of 90 in 2,000 is outside both.
    let w = &f.units[3];
    assert!(w.value > w.exact.upper95);
    assert!(w.value < w.additive.upper95);
    assert_eq!(w.band, Band::Within);
    let mut with_outlier = units.clone();
    with_outlier.push(Unit {
        numerator: 90.0,
        denominator: 2000.0,
    });
    let f = funnel(&with_outlier, Scale::Rate { multiplier: 1000.0 }).unwrap();
    assert_eq!(f.outliers().first(), Some(&6));
    assert_eq!(f.units[6].band, Band::High998);
}

#[test]
fn funnels_refuse_bad_units_by_position() {
    let e = funnel(
        &[
            Unit {
                numerator: 1.0,
                denominator: 10.0,
            },
            Unit {
                numerator: 1.0,
                denominator: 0.0,
            },
        ],
        Scale::Rate { multiplier: 1.0 },
    )
    .unwrap_err();
    assert!(
        e.to_string().starts_with("unit 1: the denominator is 0"),
        "{e}"
    );
    assert!(funnel(&[], Scale::Rate { multiplier: 1.0 }).is_err());
    assert!(
        funnel(
            &[Unit {
                numerator: 0.0,
                denominator: 10.0
            }],
            Scale::Rate { multiplier: 1.0 }
        )
        .is_err()
    );
    assert!(
        funnel(
            &[Unit {
                numerator: 11.0,
                denominator: 10.0
            }],
            Scale::Proportion { multiplier: 1.0 }
        )
        .is_err()
    );
    assert!(
        funnel(
            &[Unit {
                numerator: f64::NAN,
                denominator: 10.0
            }],
            Scale::Proportion { multiplier: 1.0 }
        )
        .is_err()
    );
}

#[test]
fn svgs_have_titles_text_and_escape_labels() {
    let units: Vec<Unit> = PROPORTIONS
        .iter()
        .map(|&(n, d)| Unit {
            numerator: n,
            denominator: d,
        })
        .collect();
    let f = funnel(&units, Scale::Proportion { multiplier: 100.0 }).unwrap();
    let labels: Vec<String> = (0..8)
        .map(|i| format!("a PICU in another trust <{i}>"))
        .collect();
    let svg = network::svg::funnel(
        "f1",
        "Debriefs",
        "incidents",
        "% debriefed",
        &f,
        &labels,
        &[true],
    );
    assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
    assert!(svg.contains(r#"aria-labelledby="f1-title f1-desc""#));
    assert!(svg.contains("&lt;6&gt;") && !svg.contains("<6>"));
    assert!(!svg.contains("NaN"));
    let p = dersimonian_laird(&[
        Study {
            log_ratio: -0.5,
            se: 0.2,
        },
        Study {
            log_ratio: -0.1,
            se: 0.3,
        },
    ])
    .unwrap();
    let rows = vec![
        network::svg::ForestRow {
            label: "Ward A".into(),
            ratio: Some((0.61, 0.41, 0.9)),
            note: String::new(),
        },
        network::svg::ForestRow {
            label: "A ward in another trust".into(),
            ratio: None,
            note: "too few periods".into(),
        },
    ];
    let svg = network::svg::forest("x", "Safety huddles", "rate ratio", &rows, Some(&p));
    assert!(svg.contains("<polygon") && svg.contains("too few periods"));
    assert!(
        network::svg::forest_text("rate ratio", &rows, Some(&p)).contains("Pooled over 2 sites")
    );
}

proptest! {
    #[test]
    fn poisson_limits_widen_as_the_denominator_falls(theta in 0.0005f64..0.05, d in 200.0f64..50_000.0, k in 1.2f64..5.0) {
        let big = exact(d * k, theta, false);
        let small = exact(d, theta, false);
        prop_assert!(small.upper95 >= big.upper95 - 1e-12);
        prop_assert!(small.lower95 <= big.lower95 + 1e-12);
        prop_assert!(small.upper998 > small.upper95 && small.lower998 <= small.lower95);
        prop_assert!(small.lower95 < theta && theta < small.upper95);
    }

    #[test]
    fn binomial_limits_nest_and_stay_in_range(theta in 0.01f64..0.99, n in 5u64..3000) {
        let l = exact(n as f64, theta, true);
        prop_assert!(0.0 <= l.lower998 && l.lower998 <= l.lower95);
        prop_assert!(l.lower95 <= theta + 1e-12 && theta <= l.upper95 + 1e-12);
        prop_assert!(l.upper95 <= l.upper998 && l.upper998 <= 1.0);
    }

    #[test]
    fn binomial_limits_widen_as_the_denominator_falls(theta in 0.05f64..0.95, n in 10u64..2000) {
        // Discrete limits are jagged from one n to the next even when interpolated; over a
        // factor of 4 they widen, to within half an event at the smaller n.
        let small = exact(n as f64, theta, true);
        let big = exact((4 * n) as f64, theta, true);
        let tol = 0.5 / n as f64;
        prop_assert!(small.upper998 >= big.upper998 - tol && small.lower998 <= big.lower998 + tol);
        prop_assert!(small.upper95 >= big.upper95 - tol && small.lower95 <= big.lower95 + tol);
    }

    #[test]
    fn adjusted_limits_contain_the_unadjusted_normal_ones(
        units in proptest::collection::vec((0u32..200, 50u32..5000), 3..40)
    ) {
        let units: Vec<Unit> = units.iter().map(|&(n, d)| Unit { numerator: n.min(d) as f64, denominator: d as f64 }).collect();
        prop_assume!(units.iter().any(|u| u.numerator > 0.0));
        let f = funnel(&units, Scale::Proportion { multiplier: 1.0 }).unwrap();
        prop_assert!(f.phi >= 0.0 && f.tau2 >= 0.0);
        for u in &f.units {
            prop_assert!(u.additive.lower998 <= u.additive.lower95 && u.additive.upper95 <= u.additive.upper998);
            prop_assert!(u.multiplicative.lower95 <= f.target + 1e-12 && f.target <= u.multiplicative.upper95 + 1e-12);
            prop_assert!(u.winsorised_z.abs() <= u.z.abs() + 1e-12);
        }
        for w in f.curve.windows(2) {
            prop_assert!(w[0].additive.upper998 >= w[1].additive.upper998 - 1e-12);
        }
    }

    #[test]
    fn pooling_lies_within_the_sites_and_ignores_their_order(
        sites in proptest::collection::vec((-2.0f64..2.0, 0.05f64..1.0), 1..15)
    ) {
        let studies: Vec<Study> = sites.iter().map(|&(y, se)| Study { log_ratio: y, se }).collect();
        let p = dersimonian_laird(&studies).unwrap();
        let lo = sites.iter().map(|s| s.0).fold(f64::INFINITY, f64::min);
        let hi = sites.iter().map(|s| s.0).fold(f64::NEG_INFINITY, f64::max);
        prop_assert!(p.log_estimate >= lo - 1e-9 && p.log_estimate <= hi + 1e-9);
        prop_assert!(p.tau2 >= 0.0 && p.lower <= p.ratio && p.ratio <= p.upper);
        if let Some(h) = p.heterogeneity { prop_assert!((0.0..100.0).contains(&h.i2)); }
        let mut reversed = studies.clone();
        reversed.reverse();
        let r = dersimonian_laird(&reversed).unwrap();
        prop_assert!((r.log_estimate - p.log_estimate).abs() < 1e-9);
    }

    #[test]
    fn effects_never_panic(values in proptest::collection::vec(proptest::option::of((0u32..60, 0u32..4000)), 0..40), adoption in 0usize..45) {
        let periods: Vec<Option<Period>> = values.iter().map(|v| v.map(|(n, d)| Period { numerator: n as f64, denominator: d as f64 })).collect();
        if let Ok(e) = site_effect(&periods, adoption, Scale::Rate { multiplier: 1000.0 }, Direction::Decrease) {
            prop_assert!(e.ratio.lower <= e.ratio.value && e.ratio.value <= e.ratio.upper);
        }
    }
}

mod on_the_platform {
    use super::close;
    use domain::disclosure::Policy;
    use measures::series::{MeasurePoint, MeasureSeries};
    use network::site::{SMALL_NUMBERS, effect_from_series, pool_visible, publish_unit, view};
    use network::{Scale, funnel};
    use time::{Date, Month};

    fn month(i: usize) -> Date {
        let y = 2024 + (i / 12) as i32;
        Date::from_calendar_date(y, Month::try_from((i % 12) as u8 + 1).unwrap(), 1).unwrap()
    }

    /// A ward's monthly restraint as the cache holds it: numerator, bed days, value.
    fn series(org: &str, counts: &[f64]) -> MeasureSeries {
        MeasureSeries {
            measure: "ri_rate",
            org: org.into(),
            points: counts
                .iter()
                .enumerate()
                .map(|(i, &n)| MeasurePoint {
                    period: month(i),
                    numerator: n,
                    denominator: Some(2600.0),
                    value: Some(n / 2600.0 * 1000.0),
                })
                .collect(),
        }
    }

    fn before_after(before: f64, after: f64) -> Vec<f64> {
        let wobble = [0.9, 1.1, 1.0, 0.85, 1.15, 1.05];
        (0..24)
            .map(|i| (if i < 12 { before } else { after } * wobble[i % 6]).round())
            .collect()
    }

    #[test]
    fn the_effect_starts_at_the_adoption_month() {
        let m = domain::measures::find("ri_rate").unwrap();
        let s = series("R8A-ASH", &before_after(30.0, 18.0));
        // Adopted mid-month: the month's start is the first period of the new process.
        let e = effect_from_series(
            &m,
            &s,
            Date::from_calendar_date(2025, Month::January, 17).unwrap(),
        )
        .unwrap();
        assert_eq!(e.adoption, 12);
        assert_eq!(e.before.periods, 12);
        assert!(e.ratio.upper < 1.0);
        let m = domain::measures::find("people_restricted").unwrap();
        assert!(
            effect_from_series(&m, &s, month(12)).is_err(),
            "a count has no ratio"
        );
    }

    #[test]
    fn a_controlled_viewer_sees_ratios_never_counts_and_nothing_from_small_numbers() {
        let m = domain::measures::find("ri_rate").unwrap();
        let big =
            effect_from_series(&m, &series("A", &before_after(30.0, 18.0)), month(12)).unwrap();
        let mut small_counts = before_after(30.0, 0.0);
        small_counts[20] = 2.0; // two events in the year after
        let small = effect_from_series(&m, &series("B", &small_counts), month(12)).unwrap();
        let p = Policy::default();
        let full = view(&big, None);
        assert!(full.counts.is_some() && full.ratio.is_some());
        let vb = view(&big, Some(&p));
        assert_eq!(vb.counts, None);
        assert_eq!(vb.ratio, full.ratio, "the ratio itself is not a count");
        // The published centre is computed from a count rounded to 5.
        let published_events = vb.before.unwrap() / 1000.0 * big.before.denominator;
        assert!(
            close(published_events % 5.0, 0.0, 1e-6) || close(published_events % 5.0, 5.0, 1e-6)
        );
        let vs = view(&small, Some(&p));
        assert_eq!(vs.ratio, None);
        assert_eq!(vs.after, None, "two events after: suppressed");
        assert_eq!(vs.withheld, Some(SMALL_NUMBERS));
        // Pooling for this viewer leaves the hidden site out, so one visible site pools alone.
        let pooled = pool_visible(&[vb.clone(), vs.clone()]).unwrap();
        assert_eq!(pooled.k, 1);
        assert!(pool_visible(&[vs]).is_none());
        assert_eq!(pool_visible(&[full, view(&small, None)]).unwrap().k, 2);
    }

    #[test]
    fn funnel_units_are_published_as_the_charts_are() {
        let p = Policy::default();
        let rate = Scale::Rate { multiplier: 1000.0 };
        assert_eq!(publish_unit(3.0, 2600.0, rate, Some(&p)), None);
        let (v, d) = publish_unit(23.0, 2600.0, rate, Some(&p)).unwrap();
        assert!(close(v * d / 1000.0, 25.0, 1e-9), "rounded to 25 events");
        let (v, d) = publish_unit(23.0, 2600.0, rate, None).unwrap();
        assert!(close(v, 23.0 / 2.6, 1e-12) && d == 2600.0);
        let f = funnel(
            &[
                network::Unit {
                    numerator: 23.0,
                    denominator: 2600.0,
                },
                network::Unit {
                    numerator: 40.0,
                    denominator: 3000.0,
                },
            ],
            rate,
        )
        .unwrap();
        assert_eq!(f.units.len(), 2);
    }
}
