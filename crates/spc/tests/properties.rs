//! Properties that must hold for any series: symmetry of direction, invariance to a shift of
//! level, no panic and no NaN on any input.

use proptest::prelude::*;
use spc::*;

fn series() -> impl Strategy<Value = Vec<Option<f64>>> {
    // Whole numbers keep sums exact, so "same flags" is a fair test of the logic, not of the
    // last bit of floating point.
    prop::collection::vec(
        prop::option::weighted(0.92, (0i32..60).prop_map(f64::from)),
        0..80,
    )
}

fn any_settings() -> impl Strategy<Value = Settings> {
    (
        prop::sample::select(vec![
            ChartKind::Xmr,
            ChartKind::I,
            ChartKind::Run,
            ChartKind::C,
            ChartKind::G,
            ChartKind::T,
        ]),
        prop::sample::select(vec![
            Direction::Increase,
            Direction::Decrease,
            Direction::Neutral,
        ]),
        prop::sample::select(vec![Convention::Mdc, Convention::Ptd]),
        prop::option::of(any::<bool>()),
        6usize..=7,
        prop::option::of(0.0f64..60.0),
        prop::collection::vec(0usize..80, 0..3),
        prop::option::of(2usize..20),
    )
        .prop_map(
            |(
                chart,
                direction,
                convention,
                screen_mr,
                run_length,
                target,
                segment_starts,
                baseline,
            )| Settings {
                chart,
                direction,
                convention,
                screen_mr,
                run_length,
                target,
                segment_starts,
                baseline,
                ..Settings::default()
            },
        )
}

fn flags(p: &Point) -> [Option<Side>; 4] {
    [p.astronomical, p.shift, p.trend, p.two_in_three]
}

fn swap(pt: Option<PointType>) -> Option<PointType> {
    pt.map(|t| match t {
        PointType::Improvement(s) => PointType::Concern(s),
        PointType::Concern(s) => PointType::Improvement(s),
        other => other,
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Reversing the improvement direction swaps improvement and concern and nothing else
    /// (with one rule per point, as in ptd, or with no conflicting signals, as is usual).
    #[test]
    fn reversing_direction_swaps_improvement_and_concern(v in series(), mut s in any_settings()) {
        s.direction = Direction::Increase;
        let up = analyse(&Series::values(&v), &s).unwrap();
        s.direction = Direction::Decrease;
        let down = analyse(&Series::values(&v), &s).unwrap();
        for (a, b) in up.points.iter().zip(&down.points) {
            prop_assert_eq!((a.centre, a.lower_limit, a.upper_limit), (b.centre, b.lower_limit, b.upper_limit));
            prop_assert_eq!([a.astronomical, a.shift, a.two_in_three], [b.astronomical, b.shift, b.two_in_three]);
            // A point where a rising trend meets a falling one belongs to both; its one trend
            // field shows the side better for the direction, so the two runs differ there.
            let in_both_trends = a.trend != b.trend;
            if in_both_trends {
                prop_assert_eq!((a.trend, b.trend), (Some(Side::High), Some(Side::Low)));
            }
            let conflict = in_both_trends || {
                let sides: Vec<Side> = flags(a).iter().flatten().copied().collect();
                sides.contains(&Side::High) && sides.contains(&Side::Low)
            };
            if !conflict {
                prop_assert_eq!(a.trend, b.trend);
                prop_assert_eq!(swap(a.point_type), b.point_type);
            } else {
                // Improvement wins a conflict in either direction.
                prop_assert!(matches!(a.point_type, Some(PointType::Improvement(_))));
                prop_assert!(matches!(b.point_type, Some(PointType::Improvement(_))));
            }
        }
    }

    /// Adding a constant moves centre and limits by that constant and changes no flag.
    #[test]
    fn adding_a_constant_moves_lines_and_keeps_flags(v in series(), k in -1000i32..1000, mut s in any_settings()) {
        s.chart = if s.chart == ChartKind::Run { ChartKind::Run } else if s.chart == ChartKind::I { ChartKind::I } else { ChartKind::Xmr };
        let k = f64::from(k);
        let shifted: Vec<Option<f64>> = v.iter().map(|x| x.map(|x| x + k)).collect();
        let a = analyse(&Series::values(&v), &s).unwrap();
        let b = analyse(&Series::values(&shifted), &s).unwrap();
        let close = |x: Option<f64>, y: Option<f64>| match (x, y) {
            (Some(x), Some(y)) => (x + k - y).abs() < 1e-6,
            (None, None) => true,
            _ => false,
        };
        for (p, q) in a.points.iter().zip(&b.points) {
            prop_assert!(close(p.centre, q.centre));
            prop_assert!(close(p.upper_limit, q.upper_limit));
            prop_assert!(close(p.lower_limit, q.lower_limit));
            prop_assert_eq!(flags(p), flags(q));
            prop_assert_eq!(p.point_type, q.point_type);
        }
        prop_assert_eq!(a.summary.variation, b.summary.variation);
    }

    /// Any finite input gives an analysis with no NaN, one point per input, in order.
    #[test]
    fn never_nan_never_panics(
        v in prop::collection::vec(prop::option::of(-1e6f64..1e6), 0..60),
        d in prop::collection::vec(prop::option::of(0.0f64..1e5), 60),
        s in any_settings(),
        ratio in prop::sample::select(vec![None, Some(ChartKind::U), Some(ChartKind::UPrime), Some(ChartKind::P), Some(ChartKind::PPrime)]),
    ) {
        let mut s = s;
        let dens = &d[..v.len()];
        let r = match ratio {
            Some(kind) => { s.chart = kind; analyse(&Series::with_denominators(&v, dens), &s) }
            None => analyse(&Series::values(&v), &s),
        };
        if let Ok(a) = r {
            prop_assert_eq!(a.points.len(), v.len());
            for p in &a.points {
                for x in [p.value, p.centre, p.lower_limit, p.upper_limit, p.lower_2sigma, p.upper_2sigma].into_iter().flatten() {
                    prop_assert!(x.is_finite());
                }
                prop_assert!(p.segment < a.segments.len());
            }
        }
    }

    /// Segments tile the series, and each point's segment matches the tiling.
    #[test]
    fn segments_tile_the_series(v in series(), s in any_settings()) {
        let a = analyse(&Series::values(&v), &s).unwrap();
        let mut next = 0;
        for (k, seg) in a.segments.iter().enumerate() {
            prop_assert_eq!(seg.start, next);
            for p in &a.points[seg.start..seg.end] { prop_assert_eq!(p.segment, k); }
            next = seg.end;
        }
        prop_assert_eq!(next, v.len());
    }
}

/// Found by the property above in CI: a fall of six points ending where a rise of six begins.
/// The low point belongs to both trends and shows as improvement whichever way is better.
#[test]
fn a_point_in_a_falling_and_a_rising_trend_is_improvement_both_ways() {
    let v: Vec<Option<f64>> = [47.0, 33.0, 20.0, 14.0, 6.0, 1.0, 3.0, 4.0, 16.0, 17.0, 18.0]
        .into_iter()
        .map(Some)
        .chain([None, Some(0.0), None])
        .collect();
    let mut s = Settings {
        chart: ChartKind::Run,
        run_length: 6,
        ..Settings::default()
    };
    s.direction = Direction::Increase;
    let up = analyse(&Series::values(&v), &s).unwrap();
    s.direction = Direction::Decrease;
    let down = analyse(&Series::values(&v), &s).unwrap();
    assert_eq!(up.points[5].trend, Some(Side::High));
    assert_eq!(down.points[5].trend, Some(Side::Low));
    assert_eq!(
        up.points[5].point_type,
        Some(PointType::Improvement(Side::High))
    );
    assert_eq!(
        down.points[5].point_type,
        Some(PointType::Improvement(Side::Low))
    );
    assert_eq!(up.points[0].point_type, Some(PointType::Concern(Side::Low)));
    assert_eq!(
        down.points[0].point_type,
        Some(PointType::Improvement(Side::Low))
    );
}
