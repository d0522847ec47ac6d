//! One test per rule of the progress scale, on series built to meet it exactly, and one that
//! just fails it.

mod common;

use common::*;
use qi::*;
use spc::{Direction, PointType};
use time::{Duration, macros::date};

fn flat_outcome() -> Owned {
    Owned::new(outcome(), Direction::Decrease, &flat(10.0, 36), &[])
}

fn flat_process() -> Owned {
    Owned::new(process(), Direction::Increase, &flat(50.0, 36), &[])
}

#[test]
fn the_series_builders_have_exactly_the_signals_they_claim() {
    let count = |o: &Owned, pred: fn(PointType) -> bool| {
        o.analysis
            .points
            .iter()
            .filter(|p| p.point_type.is_some_and(pred))
            .count()
    };
    let special = |t: PointType| t.is_special_cause();
    assert_eq!(count(&flat_outcome(), special), 0);
    let s = Owned::new(process(), Direction::Increase, &spike(36, 12, false), &[]);
    assert_eq!(count(&s, special), 1);
    assert_eq!(
        s.analysis.points[12].point_type,
        Some(PointType::Improvement(spc::Side::High))
    );
    let s = Owned::new(outcome(), Direction::Decrease, &spike(36, 12, true), &[]);
    assert_eq!(count(&s, special), 1);
    assert!(matches!(
        s.analysis.points[12].point_type,
        Some(PointType::Improvement(_))
    ));
    // The step: improvement (a shift low) from month 13 to 20 in segment 0, nothing in segment 1.
    let s = Owned::new(outcome(), Direction::Decrease, &step(36), &[21]);
    let improving: Vec<usize> = (0..36)
        .filter(|i| {
            matches!(
                s.analysis.points[*i].point_type,
                Some(PointType::Improvement(_))
            )
        })
        .collect();
    assert_eq!(improving, (13..21).collect::<Vec<_>>());
    assert!((21..36).all(|i| s.analysis.points[i].point_type == Some(PointType::CommonCause)));
}

// 0.5 -----------------------------------------------------------------------------------------

#[test]
fn r0_5_a_registered_project_is_intent() {
    let s = score(&registered(), &[]);
    assert_eq!(s.score.to_string(), "0.5");
    assert_eq!(s.rule.name, "Intent to participate");
    let next = s.next.unwrap();
    assert_eq!(next.score.to_string(), "1.0");
    assert_eq!(next.missing, vec!["a charter", "a team with a lead"]);
}

// 1.0 -----------------------------------------------------------------------------------------

#[test]
fn r1_0_charter_and_a_lead() {
    assert_eq!(score(&chartered(), &[]).score.to_string(), "1.0");
}

#[test]
fn r1_0_fails_without_a_lead() {
    let mut p = chartered();
    p.team.retain(|m| m.role != TeamRole::Lead);
    let s = score(&p, &[]);
    assert_eq!(halves(&s), 1);
    assert_eq!(s.next.unwrap().missing, vec!["a team with a lead"]);
}

// 1.5 -----------------------------------------------------------------------------------------

#[test]
fn r1_5_aim_and_measures_set() {
    assert_eq!(score(&planned(), &[]).score.to_string(), "1.5");
}

#[test]
fn r1_5_fails_without_a_process_measure() {
    let mut p = planned();
    p.measures.retain(|m| m.role != MeasureRole::Process);
    let s = score(&p, &[]);
    assert_eq!(halves(&s), 2);
    assert_eq!(s.next.unwrap().missing, vec!["a process measure"]);
}

// 2.0 -----------------------------------------------------------------------------------------

#[test]
fn r2_0_twelve_baseline_points_and_a_cycle_planned() {
    let s = score(&with_planned_cycle(), &[&flat_outcome()]);
    assert_eq!(s.score.to_string(), "2.0");
    let baseline = s.evidence.iter().find(|e| e.kind == "baseline").unwrap();
    assert_eq!(baseline.measure, Some(outcome()));
    assert_eq!(baseline.since, Some(START));
}

#[test]
fn r2_0_fails_with_eleven_baseline_points() {
    let o = flat_outcome().starting(month(1));
    let s = score(&with_planned_cycle(), &[&o]);
    assert_eq!(halves(&s), 3);
}

#[test]
fn r2_0_fails_with_no_cycle_planned() {
    let s = score(&planned(), &[&flat_outcome()]);
    assert_eq!(halves(&s), 3);
    assert_eq!(s.next.unwrap().missing, vec!["a PDSA cycle planned"]);
}

// 2.5 -----------------------------------------------------------------------------------------

#[test]
fn r2_5_a_cycle_done_without_a_signal() {
    let s = score(&with_done_cycle(), &[&flat_outcome(), &flat_process()]);
    assert_eq!(s.score.to_string(), "2.5");
    assert_eq!(s.next.unwrap().score.to_string(), "3.0");
}

#[test]
fn r2_5_fails_when_the_cycle_ends_after_today() {
    let mut p = with_done_cycle();
    p.cycles[0].do_.end = Some(TODAY + Duration::days(1));
    let s = score(&p, &[&flat_outcome()]);
    assert_eq!(halves(&s), 4);
    // Ending today counts.
    p.cycles[0].do_.end = Some(TODAY);
    assert_eq!(halves(&score(&p, &[&flat_outcome()])), 5);
}

// 3.0 -----------------------------------------------------------------------------------------

#[test]
fn r3_0_process_improvement_on_the_first_cycles_start() {
    let proc_ = Owned::new(process(), Direction::Increase, &spike(36, 12, false), &[]);
    let s = score(&with_done_cycle(), &[&flat_outcome(), &proc_]);
    assert_eq!(s.score.to_string(), "3.0");
    let e = s.evidence.iter().find(|e| e.kind == "improvement").unwrap();
    assert_eq!(e.measure, Some(process()));
    assert_eq!(e.role, Some(MeasureRole::Process));
    assert_eq!(e.since, Some(CYCLE_START));
    assert!(e.text.contains("beyond a process limit"), "{}", e.text);
}

#[test]
fn r3_0_fails_when_the_signal_is_a_month_before_the_first_cycle() {
    let proc_ = Owned::new(process(), Direction::Increase, &spike(36, 11, false), &[]);
    let s = score(&with_done_cycle(), &[&flat_outcome(), &proc_]);
    assert_eq!(halves(&s), 5);
}

#[test]
fn r3_0_fails_on_a_special_cause_of_concern() {
    // Lower is worse for huddles: the same spike downwards is a concern.
    let proc_ = Owned::new(process(), Direction::Increase, &spike(36, 12, true), &[]);
    let s = score(&with_done_cycle(), &[&flat_outcome(), &proc_]);
    assert_eq!(halves(&s), 5);
}

// 3.5 -----------------------------------------------------------------------------------------

#[test]
fn r3_5_outcome_improvement_on_the_first_cycles_start() {
    let out = Owned::new(outcome(), Direction::Decrease, &spike(36, 12, true), &[]);
    let s = score(&with_done_cycle(), &[&out, &flat_process()]);
    assert_eq!(s.score.to_string(), "3.5");
    let e = s.evidence.iter().find(|e| e.kind == "improvement").unwrap();
    assert_eq!(
        (e.measure.clone(), e.since),
        (Some(outcome()), Some(CYCLE_START))
    );
}

#[test]
fn r3_5_fails_when_the_signal_is_a_month_before_the_first_cycle() {
    let out = Owned::new(outcome(), Direction::Decrease, &spike(36, 11, true), &[]);
    let s = score(&with_done_cycle(), &[&out, &flat_process()]);
    assert_eq!(halves(&s), 5);
}

#[test]
fn r3_5_fails_on_a_process_measure_alone() {
    let proc_ = Owned::new(process(), Direction::Increase, &spike(36, 12, false), &[]);
    let s = score(&with_done_cycle(), &[&flat_outcome(), &proc_]);
    assert_eq!(halves(&s), 6);
    assert!(s.next.unwrap().missing[0].contains("outcome measure"));
}

/// 12 baseline months at 10 ± 1, then `after` months at 6 ± 1 from the first cycle's start,
/// rebased there: the new segment holds no signal of its own.
fn rebased_at_the_change(after: usize) -> Owned {
    let mut v = flat(10.0, 12);
    v.extend(flat(6.0, after));
    Owned::new(outcome(), Direction::Decrease, &v, &[12])
}

#[test]
fn r3_5_a_rebase_at_the_change_shows_the_shift_against_the_old_centre() {
    let out = rebased_at_the_change(7);
    assert!(
        out.analysis.points[12..]
            .iter()
            .all(|p| !matches!(p.point_type, Some(spc::PointType::Improvement(_)))),
        "the rebased segment classifies no point as improvement"
    );
    let s = score(&with_done_cycle(), &[&out, &flat_process()]);
    assert_eq!(s.score.to_string(), "3.5");
    let e = s.evidence.iter().find(|e| e.kind == "improvement").unwrap();
    assert_eq!(e.since, Some(CYCLE_START));
    assert!(
        e.text
            .contains("7 points in a row are all below the centre line before the rebase (10)"),
        "{}",
        e.text
    );
}

#[test]
fn r3_5_a_rebase_needs_seven_points_on_the_better_side() {
    let s = score(
        &with_done_cycle(),
        &[&rebased_at_the_change(6), &flat_process()],
    );
    assert_eq!(halves(&s), 5);
    // Worse, not better: lower is better, the new level is higher.
    let mut v = flat(10.0, 12);
    v.extend(flat(14.0, 9));
    let worse = Owned::new(outcome(), Direction::Decrease, &v, &[12]);
    assert_eq!(
        halves(&score(&with_done_cycle(), &[&worse, &flat_process()])),
        5
    );
}

// 4.0 -----------------------------------------------------------------------------------------

/// Done in January 2023, adopted on the rebase date (month 21, October 2023).
fn adopted_at(on: time::Date) -> Project {
    let mut p = with_done_cycle();
    p.cycles[0] = adopt(p.cycles[0].clone(), on);
    p
}

#[test]
fn r4_0_a_new_better_centre_line_after_adoption() {
    let out = Owned::new(outcome(), Direction::Decrease, &step(36), &[21]);
    let s = score(&adopted_at(month(21)), &[&out, &flat_process()]);
    assert_eq!(s.score.to_string(), "4.0");
    let e = s.evidence.iter().find(|e| e.kind == "new_centre").unwrap();
    assert_eq!(e.since, Some(month(21)));
    assert!(e.text.contains("new centre line of 6"), "{}", e.text);
    // No balancing measure: 4.5 says so.
    assert!(s.next.unwrap().missing[0].contains("balancing measure"));
}

#[test]
fn r4_0_fails_when_the_rebase_is_before_the_adoption() {
    // The new segment starts with October's point; an adoption in November is after it.
    let out = Owned::new(outcome(), Direction::Decrease, &step(36), &[21]);
    let s = score(&adopted_at(month(22)), &[&out]);
    assert_eq!(halves(&s), 7);
    // An adoption during the rebased month counts: the month's point is the new segment's first.
    let s = score(&adopted_at(month(22) - Duration::days(1)), &[&out]);
    assert_eq!(halves(&s), 8);
}

#[test]
fn r4_0_needs_six_points_after_the_rebase() {
    let six = Owned::new(outcome(), Direction::Decrease, &step(27), &[21]);
    assert_eq!(halves(&score(&adopted_at(month(21)), &[&six])), 8);
    let five = Owned::new(outcome(), Direction::Decrease, &step(26), &[21]);
    assert_eq!(halves(&score(&adopted_at(month(21)), &[&five])), 7);
}

#[test]
fn r4_0_fails_when_the_new_centre_is_worse() {
    // Higher is better here, so the lower new centre is not an improvement that holds (and
    // the aim's target, below its baseline, is no improvement to meet). Month 12, the end of
    // the high baseline run, is classified improvement: 3.5 and no more.
    let out = Owned::new(outcome(), Direction::Increase, &step(36), &[21]);
    assert_eq!(halves(&score(&adopted_at(month(21)), &[&out])), 7);
}

#[test]
fn r4_0_the_last_six_points_meet_the_target() {
    let mut p = with_done_cycle();
    p.aim.as_mut().unwrap().target = 7.0;
    let out = Owned::new(outcome(), Direction::Decrease, &step(36), &[]);
    let s = score(&p, &[&out]);
    assert_eq!(s.score.to_string(), "4.0");
    let e = s.evidence.iter().find(|e| e.kind == "target_met").unwrap();
    assert!(e.text.contains("last 23 points"), "{}", e.text);
    assert_eq!(e.since, Some(month(13)));
}

#[test]
fn r4_0_fails_when_one_of_the_last_six_points_misses_the_target() {
    let mut p = with_done_cycle();
    p.aim.as_mut().unwrap().target = 6.9; // the 7s miss it
    let out = Owned::new(outcome(), Direction::Decrease, &step(36), &[]);
    assert_eq!(halves(&score(&p, &[&out])), 7);
}

#[test]
fn r4_0_the_assurance_icon_says_the_target_is_met() {
    // Rebased with no adoption, so only the target can hold it: the latest segment (15 points,
    // firm limits) has an upper limit of 6 + 2.66 x 2 = 11.32.
    let mut p = with_done_cycle();
    p.aim.as_mut().unwrap().baseline = 12.0; // the target must be better than the baseline
    p.aim.as_mut().unwrap().target = 11.5;
    let out = Owned::new(outcome(), Direction::Decrease, &step(36), &[21]);
    let s = score(&p, &[&out]);
    assert_eq!(halves(&s), 8);
    let e = s.evidence.iter().find(|e| e.kind == "target_met").unwrap();
    assert!(e.text.contains("assurance: pass"), "{}", e.text);
    assert_eq!(e.since, Some(month(21)));
    // A target inside the limits is no pass (the last points still meet it, as (b) allows).
    p.aim.as_mut().unwrap().target = 11.0;
    let s = score(&p, &[&out]);
    let e = s.evidence.iter().find(|e| e.kind == "target_met").unwrap();
    assert!(e.text.contains("last"), "{}", e.text);
}

#[test]
fn r4_0_the_target_must_be_better_than_the_baseline() {
    let mut p = with_done_cycle();
    let aim = p.aim.as_mut().unwrap();
    aim.target = 7.0;
    aim.baseline = 6.5;
    let out = Owned::new(outcome(), Direction::Decrease, &step(36), &[]);
    assert_eq!(halves(&score(&p, &[&out])), 7);
}

#[test]
fn r4_0_the_target_counts_only_on_the_aims_measure() {
    let mut p = with_done_cycle();
    p.aim.as_mut().unwrap().target = 7.0;
    p.aim.as_mut().unwrap().measure = MeasureRef::Catalogue("other".into());
    let out = Owned::new(outcome(), Direction::Decrease, &step(36), &[]);
    assert_eq!(halves(&score(&p, &[&out])), 7);
}

// 4.5 -----------------------------------------------------------------------------------------

fn quiet_balancing(n: usize) -> Owned {
    Owned::new(balancing(), Direction::Decrease, &flat(3.0, n), &[])
}

#[test]
fn r4_5_held_six_months_after_adoption_with_quiet_balancing_measures() {
    // Adopted and rebased at month 21; the last point is month 27, six months later.
    let out = Owned::new(outcome(), Direction::Decrease, &step(28), &[21]);
    let s = score(&adopted_at(month(21)), &[&out, &quiet_balancing(28)]);
    assert_eq!(s.score.to_string(), "4.5");
    let kinds: Vec<&str> = s.evidence.iter().map(|e| e.kind).collect();
    assert!(kinds.contains(&"sustained") && kinds.contains(&"balancing_clear"));
}

#[test]
fn r4_5_fails_a_month_short_of_six() {
    let out = Owned::new(outcome(), Direction::Decrease, &step(27), &[21]);
    let s = score(&adopted_at(month(21)), &[&out, &quiet_balancing(27)]);
    assert_eq!(halves(&s), 8);
    assert!(s.next.unwrap().missing[0].contains("data to at least 2024-04-01"));
}

#[test]
fn r4_5_fails_on_a_balancing_concern_after_adoption() {
    let out = Owned::new(outcome(), Direction::Decrease, &step(36), &[21]);
    let bal = Owned::new(balancing(), Direction::Decrease, &spike(36, 21, false), &[]);
    let s = score(&adopted_at(month(21)), &[&out, &bal]);
    assert_eq!(halves(&s), 8);
    assert!(s.next.unwrap().missing[0].contains("balancing"));
    // The same concern the month before adoption does not count.
    let bal = Owned::new(balancing(), Direction::Decrease, &spike(36, 20, false), &[]);
    assert_eq!(halves(&score(&adopted_at(month(21)), &[&out, &bal])), 9);
}

#[test]
fn r4_5_fails_without_balancing_data_after_adoption() {
    let out = Owned::new(outcome(), Direction::Decrease, &step(36), &[21]);
    let s = score(&adopted_at(month(21)), &[&out, &quiet_balancing(21)]);
    assert_eq!(halves(&s), 8);
}

// 5.0 -----------------------------------------------------------------------------------------

fn spread_to(ward: &str, on: time::Date) -> Project {
    let mut p = adopted_at(month(21));
    p.spread = vec![Spread {
        ward: ward.into(),
        change_idea: "c1".into(),
        adopted: on,
        evidence: outcome(),
        notes: "Birch Ward started huddles in January 2024".into(),
    }];
    p
}

fn five(p: &Project, birch_spike: usize) -> Suggestion {
    let out = Owned::new(outcome(), Direction::Decrease, &step(36), &[21]);
    let bal = quiet_balancing(36);
    let birch = Owned::new(
        outcome(),
        Direction::Decrease,
        &spike(36, birch_spike, true),
        &[],
    );
    let spread = [SpreadSeries {
        ward: "BIRCH",
        series: birch.series(),
    }];
    suggest(p, TODAY, &[out.series(), bal.series()], &spread).unwrap()
}

#[test]
fn r5_0_shown_to_work_on_another_ward() {
    let s = five(&spread_to("BIRCH", month(24)), 24);
    assert_eq!(s.score.to_string(), "5.0");
    assert!(s.next.is_none());
    let e = s.evidence.iter().find(|e| e.kind == "spread").unwrap();
    assert_eq!(e.since, Some(month(24)));
    assert!(e.text.contains("ward BIRCH"));
}

#[test]
fn r5_0_fails_when_the_signal_there_is_before_its_adoption() {
    assert_eq!(halves(&five(&spread_to("BIRCH", month(24)), 23)), 9);
}

#[test]
fn r5_0_fails_on_the_projects_own_ward() {
    assert_eq!(halves(&five(&spread_to("ASH", month(24)), 24)), 9);
}

// The data handed in ---------------------------------------------------------------------------

#[test]
fn series_that_do_not_fit_are_named() {
    let p = with_done_cycle();
    let o = flat_outcome();
    let mut s = o.series();
    s.dates = &o.dates[1..];
    let e = suggest(&p, TODAY, &[s], &[]).unwrap_err();
    assert_eq!(e.field, "measures[restraint_rate].dates");
    assert!(e.expected.contains("36 points"));

    let mut dates = o.dates.clone();
    dates.swap(3, 4);
    let mut s = o.series();
    s.dates = &dates;
    let e = suggest(&p, TODAY, &[s], &[]).unwrap_err();
    assert!(e.expected.contains("increasing"));

    let stranger = MeasureRef::Catalogue("awol_rate".into());
    let mut s = o.series();
    s.measure = &stranger;
    let e = suggest(&p, TODAY, &[s], &[]).unwrap_err();
    assert_eq!(e.field, "measures[awol_rate]");
}

#[test]
fn the_rules_are_data_the_page_can_print() {
    assert_eq!(RULES.len(), 10);
    for (i, r) in RULES.iter().enumerate() {
        assert_eq!(usize::from(r.score.halves()), i + 1);
        assert!(!r.name.is_empty() && r.text.len() > 40);
    }
    assert_eq!(
        RULES
            .iter()
            .map(|r| r.score.to_string())
            .collect::<Vec<_>>(),
        [
            "0.5", "1.0", "1.5", "2.0", "2.5", "3.0", "3.5", "4.0", "4.5", "5.0"
        ]
    );
    let s = score(&chartered(), &[]);
    assert_eq!(s.rule, &RULES[1]);
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(json["score"], 1.0);
    assert_eq!(json["rule"]["name"], "Charter and team");
}

#[test]
fn a_score_set_by_hand_needs_a_valid_score_and_a_reason() {
    assert_eq!(Score::parse("s", "3.5").unwrap().halves(), 7);
    assert_eq!(Score::parse("s", " 4 ").unwrap().halves(), 8);
    assert_eq!(Score::parse("s", "0.5").unwrap().to_string(), "0.5");
    for bad in ["0", "5.5", "3.2", "-1", "x", "", "+3", "NaN", "300"] {
        let e = Score::parse("score", bad).unwrap_err();
        assert_eq!(e.field, "score", "{bad}");
    }
    assert_eq!(set_score("2.5", "  ").unwrap_err().field, "reason");
    let set = set_score("2.5", " Cycles done on days too ").unwrap();
    assert_eq!(
        (set.score.halves(), set.reason.as_str()),
        (5, "Cycles done on days too")
    );
}

#[test]
fn a_target_date_long_past_does_not_change_the_score() {
    let mut p = with_done_cycle();
    p.aim.as_mut().unwrap().target_date = date!(2020 - 01 - 01);
    assert_eq!(halves(&score(&p, &[&flat_outcome()])), 5);
}
