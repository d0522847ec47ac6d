//! The engine against the worked examples of SPC.md (sections 2, 4, 6 and 7) and textbook
//! examples whose published limits are known.

use spc::*;

fn some(v: &[f64]) -> Vec<Option<f64>> {
    v.iter().copied().map(Some).collect()
}

fn run(values: &[Option<f64>], settings: &Settings) -> Analysis {
    analyse(&Series::values(values), settings).expect("valid series")
}

fn mdc(direction: Direction) -> Settings {
    Settings {
        direction,
        ..Settings::default()
    }
}

fn approx(a: Option<f64>, b: f64, tol: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() <= tol)
}

const VIGNETTE: [f64; 18] = [
    1., 2., 1., 2., 10., 1., 2., 1., 2., 1., 2., 1., 2., 1., 2., 1., 2., 1.,
];

#[test]
fn vignette_outlier_unscreened_and_screened() {
    let v = some(&VIGNETTE);
    let a = run(&v, &mdc(Direction::Increase));
    let p = &a.points[0];
    assert!(approx(p.centre, 1.9444, 1e-4));
    assert!(approx(p.upper_limit, 6.9515, 1e-4), "{:?}", p.upper_limit);
    assert!(approx(p.lower_limit, -3.06, 1e-2), "{:?}", p.lower_limit);
    let screened = run(
        &v,
        &Settings {
            screen_mr: Some(true),
            ..mdc(Direction::Increase)
        },
    );
    assert!(approx(screened.points[0].upper_limit, 4.6044, 1e-4));
    assert_eq!(a.points[4].astronomical, Some(Side::High));
    assert_eq!(
        a.points[4].point_type,
        Some(PointType::Improvement(Side::High))
    );
}

#[test]
fn flat_series_mdc_limits_on_the_mean_ptd_none() {
    let v = vec![Some(1.0); 24];
    let a = run(
        &v,
        &Settings {
            target: Some(0.95),
            ..mdc(Direction::Increase)
        },
    );
    assert!(
        a.points
            .iter()
            .all(|p| p.lower_limit == Some(1.0) && p.upper_limit == Some(1.0))
    );
    assert!(
        a.points
            .iter()
            .all(|p| p.point_type == Some(PointType::CommonCause))
    );
    assert_eq!(a.summary.assurance, Assurance::Pass);
    let p = run(
        &v,
        &Settings {
            convention: Convention::Ptd,
            target: Some(0.95),
            ..mdc(Direction::Increase)
        },
    );
    assert!(
        p.points
            .iter()
            .all(|p| p.upper_limit.is_none() && p.centre == Some(1.0))
    );
    assert!(
        p.points
            .iter()
            .all(|p| p.point_type == Some(PointType::CommonCause))
    );
    assert_eq!(p.summary.assurance, Assurance::None);
}

#[test]
fn seven_above_the_mean_is_a_shift_six_is_not_unless_configured() {
    let mut v = some(&[0.0, 1.0].repeat(6));
    v.extend(some(&[2.0; 7]));
    v.extend(some(&[0.0, 1.0]));
    let a = run(&v, &mdc(Direction::Decrease));
    assert!(a.points[12..19].iter().all(|p| p.shift == Some(Side::High)));
    assert!(
        a.points[12..19]
            .iter()
            .all(|p| p.point_type == Some(PointType::Concern(Side::High)))
    );
    assert!(a.points[..12].iter().all(|p| p.shift.is_none()));

    let mut six = some(&[1.0, 0.0].repeat(6));
    six.extend(some(&[2.0; 6]));
    six.extend(some(&[0.0, 1.0, 0.0]));
    assert!(
        run(&six, &mdc(Direction::Decrease))
            .points
            .iter()
            .all(|p| p.shift.is_none())
    );
    let six_rule = Settings {
        run_length: 6,
        ..mdc(Direction::Decrease)
    };
    assert!(
        run(&six, &six_rule).points[12..18]
            .iter()
            .all(|p| p.shift == Some(Side::High))
    );
}

#[test]
fn a_trend_may_cross_the_mean_and_its_direction_is_the_slope() {
    let mut v = some(&[5.0, 6.0].repeat(6));
    v.extend(some(&[2.0, 3.0, 4.0, 5.5, 7.0, 8.0, 9.0]));
    let a = run(&v, &mdc(Direction::Increase));
    assert!(a.points[12..19].iter().all(|p| p.trend == Some(Side::High)));
    // Points below the mean in a rising trend are still improvement.
    assert_eq!(
        a.points[12].point_type,
        Some(PointType::Improvement(Side::High))
    );
}

#[test]
fn two_of_three_mdc_counts_points_beyond_the_limit_ptd_does_not() {
    // SPC.md section 7: 5.6 beyond the 2-sigma line (5.13), 9.0 beyond the limit (7.28).
    let mut v = some(&[1.0, -1.0].repeat(7));
    v.extend(some(&[1.0, 5.6, 9.0, 1.2, 1.0, -1.0]));
    let a = run(&v, &mdc(Direction::Increase));
    assert!(approx(a.points[0].centre, 0.84, 1e-9));
    assert!(approx(a.points[0].upper_limit, 7.28, 1e-9));
    assert!(approx(a.points[0].upper_2sigma, 5.1333, 1e-4));
    assert_eq!(a.points[15].two_in_three, Some(Side::High));
    assert_eq!(a.points[16].two_in_three, Some(Side::High));
    assert_eq!(
        a.points[17].two_in_three, None,
        "the third point is never flagged"
    );
    let p = run(
        &v,
        &Settings {
            convention: Convention::Ptd,
            screen_mr: Some(false),
            ..mdc(Direction::Increase)
        },
    );
    assert_eq!(p.points[15].point_type, Some(PointType::CommonCause));
    assert_eq!(p.points[16].astronomical, Some(Side::High));
    assert_eq!(p.points[16].two_in_three, None);
}

/// Montgomery example 6.5 (the qicharts2 test reference): mortgage processing costs, I chart
/// with limits frozen after 20 weeks.
#[test]
fn montgomery_6_5_i_chart_with_frozen_baseline() {
    let mut v = some(&[
        310., 288., 297., 298., 307., 303., 294., 297., 308., 306., 294., 299., 297., 299., 314.,
        295., 293., 306., 301., 304.,
    ]);
    v.extend(some(&[
        305., 282., 310., 292., 318., 295., 320., 331., 335., 328.,
    ]));
    let s = Settings {
        chart: ChartKind::I,
        baseline: Some(20),
        direction: Direction::Decrease,
        ..Settings::default()
    };
    let a = run(&v, &s);
    for p in &a.points {
        assert!(approx(p.centre, 300.5, 1e-9));
        assert!(approx(p.lower_limit, 279.7833, 1e-4), "{:?}", p.lower_limit);
        assert!(approx(p.upper_limit, 321.2167, 1e-4), "{:?}", p.upper_limit);
    }
    // The later points are still tested against the frozen limits.
    assert_eq!(a.points[27].astronomical, Some(Side::High));
    assert_eq!(
        a.points[27].point_type,
        Some(PointType::Concern(Side::High))
    );
}

/// Montgomery example 7.3: nonconformities in 26 samples of circuit boards (C chart):
/// centre 19.85, limits 6.48 and 33.22; samples 6 and 20 are outside.
#[test]
fn montgomery_7_3_c_chart() {
    let v = some(&[
        21., 24., 16., 12., 15., 5., 28., 20., 31., 25., 20., 24., 16., 19., 10., 17., 13., 22.,
        18., 39., 30., 24., 16., 19., 17., 15.,
    ]);
    let a = run(
        &v,
        &Settings {
            chart: ChartKind::C,
            direction: Direction::Decrease,
            ..Settings::default()
        },
    );
    assert!(approx(a.points[0].centre, 19.846, 1e-3));
    assert!(approx(a.points[0].upper_limit, 33.21, 1e-2));
    assert!(approx(a.points[0].lower_limit, 6.48, 1e-2));
    assert_eq!(a.points[5].astronomical, Some(Side::Low));
    assert_eq!(a.points[19].astronomical, Some(Side::High));
    assert_eq!(
        a.points.iter().filter(|p| p.astronomical.is_some()).count(),
        2
    );
}

#[test]
fn u_chart_pools_the_rate_and_widens_limits_for_small_exposure() {
    let events = some(&[3., 5., 2., 8., 4., 6.]);
    let beddays = some(&[900., 1000., 450., 1100., 1000., 950.]);
    let s = Settings {
        chart: ChartKind::U,
        multiplier: 1000.0,
        ..mdc(Direction::Decrease)
    };
    let a = analyse(&Series::with_denominators(&events, &beddays), &s).unwrap();
    let centre = 28.0 / 5400.0;
    assert!(approx(a.points[0].centre, centre * 1000.0, 1e-9));
    assert!(
        approx(a.points[1].value, 5.0, 1e-9),
        "values are per 1,000 bed days"
    );
    let width = |p: &Point| p.upper_limit.unwrap() - p.centre.unwrap();
    assert!(width(&a.points[2]) > width(&a.points[3]));
    assert!(approx(
        a.points[2].upper_limit,
        (centre + 3.0 * (centre / 450.0).sqrt()) * 1000.0,
        1e-9
    ));
    assert!(
        a.points.iter().all(|p| p.lower_limit.unwrap() >= 0.0),
        "lower limit clipped at 0"
    );
}

#[test]
fn p_chart_limits_stay_within_0_and_1() {
    let yes = some(&[9., 10., 8., 10., 10., 7.]);
    let asked = some(&[10., 10., 10., 10., 10., 10.]);
    let s = Settings {
        chart: ChartKind::P,
        ..mdc(Direction::Increase)
    };
    let a = analyse(&Series::with_denominators(&yes, &asked), &s).unwrap();
    assert!(approx(a.points[0].centre, 54.0 / 60.0, 1e-12));
    assert!(a.points.iter().all(|p| p.upper_limit == Some(1.0)));
    let p = 0.9f64;
    assert!(approx(
        a.points[0].lower_limit,
        p - 3.0 * (p * (1.0 - p) / 10.0).sqrt(),
        1e-9
    ));
}

#[test]
fn laney_limits_widen_for_overdispersed_large_denominators_and_vanish_when_undefined() {
    // Many bed days and real month-to-month variation: plain U limits are far too narrow.
    let events = some(&[
        120., 160., 95., 180., 110., 150., 200., 90., 140., 170., 100., 130.,
    ]);
    let exposure = some(&[30000.; 12]);
    let u = Settings {
        chart: ChartKind::U,
        ..mdc(Direction::Decrease)
    };
    let up = Settings {
        chart: ChartKind::UPrime,
        ..u.clone()
    };
    let a = analyse(&Series::with_denominators(&events, &exposure), &u).unwrap();
    let b = analyse(&Series::with_denominators(&events, &exposure), &up).unwrap();
    let outside = |x: &Analysis| x.points.iter().filter(|p| p.astronomical.is_some()).count();
    assert!(outside(&a) >= 4, "U flags most months: {}", outside(&a));
    assert_eq!(outside(&b), 0, "U' allows for the real variation");
    assert!(b.points[0].upper_limit > a.points[0].upper_limit);
    // No events at all: centre 0, Laney limits are 0/0 and must not appear (never NaN).
    let zero = some(&[0.; 12]);
    let c = analyse(&Series::with_denominators(&zero, &exposure), &up).unwrap();
    assert!(
        c.points
            .iter()
            .all(|p| p.upper_limit.is_none() && p.centre == Some(0.0))
    );
    let pp = Settings {
        chart: ChartKind::PPrime,
        ..mdc(Direction::Increase)
    };
    let all = analyse(&Series::with_denominators(&exposure, &exposure), &pp).unwrap();
    assert!(
        all.points
            .iter()
            .all(|p| p.upper_limit.is_none() && p.centre == Some(1.0))
    );
}

#[test]
fn g_chart_centre_is_the_median_and_limits_come_from_the_mean() {
    let days = some(&[12., 30., 7., 45., 22., 18., 60., 9., 25., 33.]);
    let a = run(
        &days,
        &Settings {
            chart: ChartKind::G,
            ..mdc(Direction::Increase)
        },
    );
    let mean: f64 = 261.0 / 10.0;
    assert!(approx(a.points[0].centre, 23.5, 1e-12));
    assert!(approx(
        a.points[0].upper_limit,
        mean + 3.0 * (mean * (mean + 1.0)).sqrt(),
        1e-9
    ));
    assert_eq!(a.points[0].lower_limit, Some(0.0));
}

#[test]
fn t_chart_back_transforms_an_i_chart_of_y_to_the_1_over_3_6() {
    let hours = some(&[
        286., 948., 536., 124., 816., 729., 4., 143., 431., 8., 2837., 596., 81., 227., 603., 492.,
        1199., 1214., 2831., 96.,
    ]);
    let a = run(
        &hours,
        &Settings {
            chart: ChartKind::T,
            ..mdc(Direction::Increase)
        },
    );
    let t: Vec<f64> = hours.iter().map(|h| h.unwrap().powf(1.0 / 3.6)).collect();
    let mean = t.iter().sum::<f64>() / t.len() as f64;
    assert!(approx(a.points[0].centre, mean.powf(3.6), 1e-6));
    assert!(a.points[0].lower_limit.unwrap() >= 0.0);
}

#[test]
fn run_chart_uses_the_median_and_anhoj_rules() {
    // 24 points, a run of 9 below the median at the start: longest run > 8 is a signal.
    let mut v = some(&[1.0; 9]);
    v.extend(some(&[5.0, 3.0].repeat(7)));
    v.push(Some(9.0));
    let a = run(
        &v,
        &Settings {
            chart: ChartKind::Run,
            ..mdc(Direction::Decrease)
        },
    );
    assert_eq!(a.points[0].centre, Some(3.0));
    assert!(a.points.iter().all(|p| p.upper_limit.is_none()));
    let h = a.summary.anhoj;
    assert_eq!(
        h.longest_run_max,
        (h.useful_points as f64).log2().round() as usize + 3
    );
    assert_eq!(h.longest_run, 9);
    assert!(h.runs_signal);
}

#[test]
fn rebase_starts_an_independent_segment() {
    let mut v = some(&[20.0, 22.0].repeat(8));
    v.extend(some(&[10.0, 11.0].repeat(8)));
    let s = Settings {
        segment_starts: vec![16],
        ..mdc(Direction::Decrease)
    };
    let a = run(&v, &s);
    assert_eq!(a.segments.len(), 2);
    assert_eq!(a.points[0].centre, Some(21.0));
    assert_eq!(a.points[16].centre, Some(10.5));
    assert_eq!(a.points[16].segment, 1);
    // Each segment on its own is common cause: no shift across the rebase.
    assert!(
        a.points
            .iter()
            .all(|p| p.point_type == Some(PointType::CommonCause))
    );
    let unrebased = run(&v, &mdc(Direction::Decrease));
    assert_eq!(unrebased.summary.variation, Some(Variation::ImprovementLow));
}

#[test]
fn fewer_than_13_points_give_trial_limits() {
    let a = run(
        &some(&[1., 3., 2., 4., 3., 5., 2., 3., 4., 2., 3., 4.]),
        &Settings::default(),
    );
    assert!(a.points.iter().all(|p| p.trial) && a.segments[0].trial);
    assert!(
        a.points[0].upper_limit.is_some(),
        "limits are still computed"
    );
    let b = run(
        &some(&[1., 3., 2., 4., 3., 5., 2., 3., 4., 2., 3., 4., 3.]),
        &Settings::default(),
    );
    assert!(b.points.iter().all(|p| !p.trial));
}

#[test]
fn gaps_are_excluded_and_break_runs_but_never_become_zero() {
    let mut v = some(&[5.0; 4]);
    v.push(None);
    v.extend(some(&[
        5.0, 6.0, 6.0, 6.0, 6.0, 6.0, 6.0, 4.0, 4.0, 4.0, 4.0,
    ]));
    let a = run(&v, &mdc(Direction::Increase));
    assert_eq!(a.points[4].value, None);
    assert_eq!(a.points[4].point_type, None);
    assert!(approx(
        a.points[0].centre,
        (5.0 * 5.0 + 6.0 * 6.0 + 4.0 * 4.0) / 15.0,
        1e-12
    ));
    assert_eq!(a.summary.points, 15);
}

#[test]
fn assurance_follows_direction_and_comparison() {
    let v = some(&[
        10., 12., 11., 13., 12., 10., 11., 12., 13., 11., 12., 10., 11., 12.,
    ]);
    let base = |d, t| Settings {
        direction: d,
        target: Some(t),
        ..Settings::default()
    };
    assert_eq!(
        run(&v, &base(Direction::Decrease, 20.0)).summary.assurance,
        Assurance::Pass
    );
    assert_eq!(
        run(&v, &base(Direction::Decrease, 5.0)).summary.assurance,
        Assurance::Fail
    );
    assert_eq!(
        run(&v, &base(Direction::Increase, 5.0)).summary.assurance,
        Assurance::Pass
    );
    assert_eq!(
        run(&v, &base(Direction::Increase, 11.5)).summary.assurance,
        Assurance::HitOrMiss
    );
    assert_eq!(
        run(&v, &base(Direction::Neutral, 5.0)).summary.assurance,
        Assurance::None
    );
}

#[test]
fn variation_icon_is_the_latest_point() {
    let mut v = some(&[10.0, 11.0].repeat(8));
    v.push(Some(30.0));
    assert_eq!(
        run(&v, &mdc(Direction::Decrease)).summary.variation,
        Some(Variation::ConcernHigh)
    );
    assert_eq!(
        run(&v, &mdc(Direction::Neutral)).summary.variation,
        Some(Variation::NeutralHigh)
    );
    v.push(None);
    assert_eq!(
        run(&v, &mdc(Direction::Increase)).summary.variation,
        Some(Variation::ImprovementHigh)
    );
}

#[test]
fn bad_values_are_errors_with_their_index_not_panics() {
    let e = analyse(
        &Series::values(&[Some(1.0), Some(f64::NAN)]),
        &Settings::default(),
    )
    .unwrap_err();
    assert_eq!(e.index(), Some(1));
    let u = Settings {
        chart: ChartKind::U,
        ..Settings::default()
    };
    assert!(matches!(
        analyse(&Series::values(&[Some(1.0)]), &u),
        Err(SpcError::MissingDenominator { .. })
    ));
    let e = analyse(
        &Series::with_denominators(&[Some(1.0), Some(2.0)], &[Some(5.0), Some(0.0)]),
        &u,
    )
    .unwrap_err();
    assert_eq!((e.index(), e.is_about_denominator()), (Some(1), true));
    let p = Settings {
        chart: ChartKind::P,
        ..Settings::default()
    };
    assert!(analyse(&Series::with_denominators(&[Some(6.0)], &[Some(5.0)]), &p).is_err());
    assert!(analyse(&Series::values(&[]), &Settings::default()).is_ok());
}
