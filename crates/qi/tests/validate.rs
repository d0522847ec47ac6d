//! Bad input gets a clear message naming the field and what was expected, and an edit that is
//! refused changes nothing.

mod common;

use common::*;
use qi::*;
use time::{Duration, macros::date};

fn fields(problems: &[QiError]) -> Vec<&str> {
    problems.iter().map(|p| p.field.as_str()).collect()
}

#[test]
fn the_example_project_is_valid() {
    let mut p = with_done_cycle();
    p.cycles[0] = adopt(p.cycles[0].clone(), date!(2023 - 02 - 01));
    assert_eq!(validate_project(&p), Ok(()));
    let json = serde_json::to_string(&p).unwrap();
    assert!(json.contains("\"do\":{\"start\":\"2023-01-01\",\"end\":\"2023-01-31\""));
    assert!(json.contains("\"where\":\"Ash Ward\""));
    let back: Project = serde_json::from_str(&json).unwrap();
    assert_eq!(back, p);
}

#[test]
fn a_cycle_that_ends_before_it_starts() {
    let c = cycle(
        "c1-1",
        Some(date!(2024 - 03 - 10)),
        Some(date!(2024 - 03 - 09)),
    );
    let e = validate_cycle(&c).unwrap_err();
    assert_eq!(fields(&e), ["cycles[c1-1].do.end"]);
    assert_eq!(
        e[0].to_string(),
        "cycles[c1-1].do.end: expected a date on or after the start (2024-03-10); found 2024-03-09"
    );
    // The same day is a one-day cycle.
    let c = cycle(
        "c1-1",
        Some(date!(2024 - 03 - 10)),
        Some(date!(2024 - 03 - 10)),
    );
    assert_eq!(validate_cycle(&c), Ok(()));
    // An end with no start.
    let c = cycle("c1-1", None, Some(date!(2024 - 03 - 10)));
    assert_eq!(
        fields(&validate_cycle(&c).unwrap_err()),
        ["cycles[c1-1].do.start"]
    );
}

#[test]
fn a_decision_before_the_cycle_ended() {
    let c = adopt(cycle("c1-1", Some(CYCLE_START), None), CYCLE_START);
    assert_eq!(
        fields(&validate_cycle(&c).unwrap_err()),
        ["cycles[c1-1].act"]
    );
    let c = adopt(
        cycle("c1-1", Some(CYCLE_START), Some(date!(2023 - 01 - 31))),
        date!(2023 - 01 - 30),
    );
    assert_eq!(
        fields(&validate_cycle(&c).unwrap_err()),
        ["cycles[c1-1].act.date"]
    );
}

#[test]
fn an_aim_date_in_the_past() {
    let today = date!(2024 - 06 - 01);
    let mut aim = planned().aim.unwrap();
    aim.target_date = today - Duration::days(1);
    let e = validate_aim(&aim, today).unwrap_err();
    assert_eq!(
        e[0].to_string(),
        "aim.target_date: expected a date on or after today (2024-06-01); found 2024-05-31"
    );
    aim.target_date = today;
    assert_eq!(validate_aim(&aim, today), Ok(()));
}

#[test]
fn an_aim_target_that_is_not_a_number() {
    let mut aim = planned().aim.unwrap();
    aim.target = f64::NAN;
    aim.baseline = f64::INFINITY;
    let e = validate_aim(&aim, date!(2024 - 01 - 01)).unwrap_err();
    assert_eq!(fields(&e), ["aim.baseline", "aim.target"]);
    assert_eq!(e[1].expected, "a finite number");
    aim.target = 10.0;
    aim.baseline = 10.0;
    let e = validate_aim(&aim, date!(2024 - 01 - 01)).unwrap_err();
    assert!(e[0].expected.contains("different from the baseline"));
}

#[test]
fn a_value_typed_in_a_form() {
    assert_eq!(parse_value("v", " 12.5 "), Ok(12.5));
    assert_eq!(parse_value("v", "-3"), Ok(-3.0));
    assert_eq!(parse_value("v", "1e3"), Ok(1000.0));
    for bad in [
        "",
        "NaN",
        "inf",
        "-infinity",
        "12%",
        "1,200",
        "twelve",
        "1e999",
        ".",
        "-",
    ] {
        let e = parse_value("values[2024-03]", bad).unwrap_err();
        assert_eq!(e.field, "values[2024-03]", "{bad}");
        assert!(e.expected.starts_with("a number"), "{bad}");
    }
}

#[test]
fn the_diagram_checks_ids_texts_and_parents() {
    let mut d = diagram();
    d.secondaries[0].primaries = vec!["nope".into()];
    d.change_ideas.push(ChangeIdea {
        id: "p1".into(),
        text: " ".into(),
        secondaries: vec![],
    });
    let e = validate_diagram(&d).unwrap_err();
    assert_eq!(
        fields(&e),
        [
            "change_ideas[p1].text",
            "change_ideas[p1].id",
            "secondaries[s1].primaries",
            "change_ideas[p1].secondaries"
        ]
    );
}

#[test]
fn removing_a_change_idea_a_cycle_tests_is_refused_and_changes_nothing() {
    let p = with_done_cycle();
    let before = p.diagram.clone();
    let e = apply_edit(
        &p.diagram,
        &p.cycles,
        &DiagramEdit::Remove { id: "c1".into() },
    )
    .unwrap_err();
    assert_eq!(e.field, "change_ideas[c1]");
    assert!(e.expected.contains("cycles c1-1 test it"), "{}", e.expected);
    assert_eq!(p.diagram, before);
    // With no cycle it goes.
    let d = apply_edit(&p.diagram, &[], &DiagramEdit::Remove { id: "c1".into() }).unwrap();
    assert!(d.change_ideas.is_empty());
}

#[test]
fn removing_a_driver_that_would_leave_a_child_without_a_parent_is_refused() {
    let d = diagram();
    let e = apply_edit(&d, &[], &DiagramEdit::Remove { id: "s1".into() }).unwrap_err();
    assert_eq!(e.field, "secondaries[s1]");
    assert!(e.expected.contains("c1"));
    let e = apply_edit(&d, &[], &DiagramEdit::Remove { id: "p1".into() }).unwrap_err();
    assert_eq!(e.field, "primaries[p1]");
    let e = apply_edit(
        &d,
        &[],
        &DiagramEdit::Unlink {
            child: "c1".into(),
            parent: "s1".into(),
        },
    )
    .unwrap_err();
    assert!(e.expected.contains("left with none"));
    // Link a second primary first, then the first can go.
    let d = apply_edit(
        &d,
        &[],
        &DiagramEdit::AddPrimary {
            id: "p2".into(),
            text: "Activities on the ward".into(),
        },
    )
    .unwrap();
    let d = apply_edit(
        &d,
        &[],
        &DiagramEdit::Link {
            child: "s1".into(),
            parent: "p2".into(),
        },
    )
    .unwrap();
    let d = apply_edit(&d, &[], &DiagramEdit::Remove { id: "p1".into() }).unwrap();
    assert_eq!(d.secondaries[0].primaries, ["p2"]);
}

#[test]
fn edits_that_would_break_the_diagram_are_refused() {
    let d = diagram();
    let cases = [
        (
            DiagramEdit::AddPrimary {
                id: "s1".into(),
                text: "x".into(),
            },
            "add.id",
        ),
        (
            DiagramEdit::AddSecondary {
                id: "s2".into(),
                text: "x".into(),
                primaries: vec!["nope".into()],
            },
            "secondaries[s2].primaries",
        ),
        (
            DiagramEdit::AddChangeIdea {
                id: "bad id".into(),
                text: "x".into(),
                secondaries: vec!["s1".into()],
            },
            "change_ideas[bad id].id",
        ),
        (
            DiagramEdit::Rename {
                id: "zz".into(),
                text: "x".into(),
            },
            "rename.id",
        ),
        (
            DiagramEdit::Rename {
                id: "p1".into(),
                text: "".into(),
            },
            "primaries[p1].text",
        ),
        (
            DiagramEdit::Link {
                child: "c1".into(),
                parent: "p1".into(),
            },
            "change_ideas[c1].secondaries",
        ),
        (DiagramEdit::Remove { id: "zz".into() }, "remove.id"),
    ];
    for (edit, field) in cases {
        let e = apply_edit(&d, &[], &edit).unwrap_err();
        assert_eq!(e.field, field, "{edit:?}");
    }
    let d2 = apply_edit(
        &d,
        &[],
        &DiagramEdit::Rename {
            id: "c1".into(),
            text: "Huddle at 07:30 and 19:30".into(),
        },
    )
    .unwrap();
    assert_eq!(d2.change_ideas[0].text, "Huddle at 07:30 and 19:30");
    assert_eq!(d.change_ideas[0].text, "A safety huddle at every handover");
}

fn three_cycles() -> Vec<Cycle> {
    vec![
        cycle("b", Some(date!(2023 - 02 - 01)), None),
        cycle("a", Some(date!(2023 - 01 - 01)), None),
        cycle("c", Some(date!(2023 - 03 - 01)), None),
    ]
}

#[test]
fn next_cycle_links_make_ramps_in_order() {
    let cycles = link_next(&three_cycles(), "a", Some("b")).unwrap();
    let cycles = link_next(&cycles, "b", Some("c")).unwrap();
    assert_eq!(
        ramps(&cycles).unwrap(),
        [Ramp {
            cycles: vec!["a".into(), "b".into(), "c".into()]
        }]
    );
    assert_eq!(validate_cycles(&cycles, &diagram()), Ok(()));
    // Unlinked cycles are ramps of one, by start date.
    let r = ramps(&three_cycles()).unwrap();
    let firsts: Vec<&str> = r.iter().map(|r| r.cycles[0].as_str()).collect();
    assert_eq!(firsts, ["a", "b", "c"]);
}

#[test]
fn a_loop_in_the_next_cycle_links_is_refused() {
    let cycles = link_next(&three_cycles(), "a", Some("b")).unwrap();
    let cycles = link_next(&cycles, "b", Some("c")).unwrap();
    let e = link_next(&cycles, "c", Some("a")).unwrap_err();
    assert!(e.expected.contains("not round in a loop"), "{e}");
    assert!(e.found.contains('→'));
    let e = link_next(&cycles, "a", Some("a")).unwrap_err();
    assert_eq!(e.field, "cycles[a].next");
    // Two cycles cannot both lead to the same one.
    let e = link_next(&cycles, "c", Some("b")).unwrap_err();
    assert!(e.expected.contains("already leads to b"), "{e}");
    let e = link_next(&cycles, "a", Some("zz")).unwrap_err();
    assert_eq!(e.field, "cycles[a].next");
    let e = link_next(&cycles, "zz", None).unwrap_err();
    assert_eq!(e.field, "next.from");
    // A loop written straight into the record is caught too.
    let mut looped = cycles.clone();
    looped[2].next = Some("a".into());
    assert!(ramps(&looped).is_err());
    assert!(validate_cycles(&looped, &diagram()).is_err());
}

#[test]
fn the_project_as_a_whole() {
    let mut p = with_done_cycle();
    p.title = "  ".into();
    p.cycles[0].change_idea = "gone".into();
    p.cycles[0].prediction.measure = MeasureRef::Catalogue("awol_rate".into());
    p.cycles.push(p.cycles[0].clone());
    p.measures.push(p.measures[0].clone());
    p.spread.push(Spread {
        ward: "ASH".into(),
        change_idea: "c1".into(),
        adopted: date!(2024 - 01 - 01),
        evidence: outcome(),
        notes: String::new(),
    });
    let e = validate_project(&p).unwrap_err();
    let f = fields(&e);
    for want in [
        "title",
        "measures[restraint_rate]",
        "cycles[c1-1].id",
        "cycles[c1-1].change_idea",
        "cycles[c1-1].prediction.measure",
        "spread[0].ward",
    ] {
        assert!(f.contains(&want), "{want} not in {f:?}");
    }
}

#[test]
fn dates_in_json_are_iso_and_bad_ones_are_named() {
    let bad = r#"{"measure":{"kind":"catalogue","id":"x"},"baseline":1,"target":2,"target_date":"31/12/2025"}"#;
    let e = serde_json::from_str::<Aim>(bad).unwrap_err().to_string();
    assert!(e.contains("YYYY-MM-DD"), "{e}");
}
