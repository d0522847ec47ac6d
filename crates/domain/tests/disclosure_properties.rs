//! Properties of disclosure control over any counts: what a controlled viewer can work out is
//! never a count from 1 to 4.

use domain::disclosure::{Figure, Policy};
use proptest::prelude::*;

proptest! {
    /// Every published count, and the count a published rate or percentage gives back with
    /// its denominator, is a multiple of 5: so is any difference between them.
    #[test]
    fn published_figures_give_back_only_multiples_of_five(
        events in 0u64..10_000,
        extra in 0u64..10_000,
        exposure in 1.0f64..1e6,
    ) {
        let p = Policy::default();
        if let Some(c) = p.publish(Figure::Count(events)) {
            prop_assert!(c.value >= 5.0 && c.value % 5.0 == 0.0);
        }
        if let Some(r) = p.publish(Figure::Rate { events, exposure, per: 1000.0 }) {
            let back = r.value * exposure / 1000.0;
            prop_assert!(((back / 5.0).round() * 5.0 - back).abs() < 1e-6 * back.max(1.0));
            prop_assert!(back >= 5.0 - 1e-9);
        }
        let denominator = events + extra;
        if let Some(q) = p.publish(Figure::Proportion { numerator: events, denominator, per: 100.0 }) {
            let d = q.denominator.unwrap();
            let back = q.value * d / 100.0;
            prop_assert!(d % 5.0 == 0.0 && ((back / 5.0).round() * 5.0 - back).abs() < 1e-6);
            prop_assert!(q.value <= 100.0 + 1e-9);
        }
    }

    /// In a breakdown, the suppressed groups never hold 1 to 4 events between them, and never
    /// give each other away by all holding exactly 4.
    #[test]
    fn suppressed_groups_of_a_breakdown_cannot_be_read_by_difference(
        counts in proptest::collection::vec(0u64..40, 1..10),
        reference in proptest::option::of(0usize..10),
    ) {
        let p = Policy::default();
        let primary = vec![false; counts.len()];
        let reference = reference.filter(|&r| r < counts.len());
        let hidden = p.breakdown(&counts, &primary, reference);
        let held: Vec<u64> = counts.iter().zip(&hidden).filter(|x| *x.1).map(|x| *x.0).collect();
        let total: u64 = held.iter().sum();
        let all_shown_small = held.iter().all(|&n| n < 5);
        for (n, h) in counts.iter().zip(&hidden) {
            prop_assert!(*n >= 5 || *h, "a small count is always suppressed");
        }
        let everything = hidden.iter().all(|h| *h);
        prop_assert!(
            everything || total == 0 || (total >= 5 && !(all_shown_small && total == 4 * held.len() as u64)),
            "{counts:?} -> {hidden:?}"
        );
    }
}
