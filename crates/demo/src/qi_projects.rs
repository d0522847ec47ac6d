//! The demo's quality improvement projects (issue 11), written through the store after the
//! region is imported, as a team would have recorded them: Ash Ward's safety huddles project
//! with its ramp of cycles before the March 2024 change, spread to Elm Ward which made the same
//! change; Beech Ward's de-escalation project, whose cycles moved neither the ward's restraint nor
//! the use of the change itself; and a trust's
//! project that has only its charter. Their scores are not planted: the platform suggests them
//! from the record and the data (`qi::suggest`), whatever they turn out to be.

use crate::generate::HUDDLES_START;
use domain::dates::{PeriodKind, date_from_day};
use qi::*;
use store::{Store, StoreError};
use time::Date;
use time::macros::date;

/// Who the demo records as having set the projects up.
pub const AUTHOR: &str = "demo";

/// The Patient Safety Network's demo (issue 12), planted after the projects.
#[path = "network.rs"]
pub mod network;

fn ward(code: &str) -> Organisation {
    Organisation {
        level: OrgLevel::Ward,
        code: code.into(),
    }
}

fn idea(id: &str, text: &str, secondaries: &[&str]) -> ChangeIdea {
    ChangeIdea {
        id: id.into(),
        text: text.into(),
        secondaries: secondaries.iter().map(|s| s.to_string()).collect(),
    }
}

#[allow(clippy::too_many_arguments)]
fn cycle(
    id: &str,
    change_idea: &str,
    question: &str,
    measure: MeasureRef,
    direction: Expected,
    prediction: &str,
    plan: [&str; 4],
    run: (Date, Date, &str),
    study: &str,
    act: (Decision, Date, &str),
    next: Option<&str>,
) -> Cycle {
    Cycle {
        id: id.into(),
        change_idea: change_idea.into(),
        question: question.into(),
        prediction: Prediction {
            measure,
            direction,
            text: prediction.into(),
        },
        plan: Plan {
            who: plan[0].into(),
            what: plan[1].into(),
            where_: plan[2].into(),
            when: plan[3].into(),
        },
        do_: Do {
            start: Some(run.0),
            end: Some(run.1),
            notes: run.2.into(),
        },
        study: study.into(),
        act: Some(Act {
            decision: act.0,
            date: act.1,
            notes: act.2.into(),
            rebase: false,
        }),
        next: next.map(str::to_string),
    }
}

/// The mean of a ward's monthly `measure` over the twelve months before `before`, from the
/// imported data (the aim's baseline "taken from the data"), to two decimals.
async fn baseline(
    store: &Store,
    ward: &str,
    measure: &str,
    before: Date,
) -> Result<Option<f64>, StoreError> {
    let Some(m) = domain::measures::find(measure) else {
        return Ok(None);
    };
    let Some((first, last)) = store.data_range().await? else {
        return Ok(None);
    };
    let trust = ward.split('-').next().unwrap_or(ward).to_string();
    let q = store::measures::Query {
        level: domain::OrgLevel::Ward,
        period: PeriodKind::Month,
        from: date_from_day(first as i32),
        to: date_from_day(last as i32),
        scope: Some((domain::OrgLevel::Trust, trust)),
    };
    let series = store.compute_measures(&q, &[m]).await?;
    let Some(s) = series.iter().find(|s| s.org == ward) else {
        return Ok(None);
    };
    let year: Vec<f64> = s
        .points
        .iter()
        .filter(|p| p.period < before)
        .rev()
        .take(12)
        .filter_map(|p| p.value)
        .collect();
    if year.len() < 6 {
        return Ok(None);
    }
    let mean = year.iter().sum::<f64>() / year.len() as f64;
    Ok(Some((mean * 100.0).round() / 100.0))
}

/// Month starts from `from` up to and including `to`.
fn months(from: Date, to: Date) -> Vec<Date> {
    let mut out = Vec::new();
    let mut d = from;
    while d <= to {
        out.push(d);
        d = PeriodKind::Month.next_start(d);
    }
    out
}

/// Plants the projects, if the region has the wards they belong to (a small region may not).
/// Returns the ids of the projects written.
pub async fn plant(store: &Store) -> Result<Vec<i64>, StoreError> {
    let wards: Vec<String> = store.wards().await?.into_iter().map(|w| w.code).collect();
    let has = |c: &str| wards.iter().any(|w| w == c);
    let Some((_, last)) = store.data_range().await? else {
        return Ok(Vec::new());
    };
    let last_month = PeriodKind::Month.start_of(date_from_day(last as i32));
    let mut ids = Vec::new();

    // 1. Ash Ward: safety huddles, tested in a ramp of three cycles before the March 2024
    //    change, adopted on 1 March 2024, and spread to Elm Ward the same day.
    if has("R9A-ASH") && HUDDLES_START < last_month {
        let ri = MeasureRef::Catalogue("ri_rate".into());
        let prone = MeasureRef::Catalogue("ri_prone_rate".into());
        let huddles = MeasureRef::Project("huddles".into());
        let rt = MeasureRef::Catalogue("ri_rapid_tranq_rate".into());
        let mut p = Project::new("Safety huddles on Ash Ward", ward("R9A-ASH"));
        p.charter = "Restraint on Ash Ward, prone restraint above all, has been high for years, and most of it happens in the evening. We want every shift to start knowing who is at risk and what helps them, so that staff can step in before restraint is needed.".into();
        p.team = vec![
            TeamMember {
                user: "ward.ash".into(),
                role: TeamRole::Lead,
            },
            TeamMember {
                user: "lead.r9a".into(),
                role: TeamRole::Sponsor,
            },
        ];
        let base = baseline(store, "R9A-ASH", "ri_rate", HUDDLES_START).await?;
        p.aim = base.map(|b| Aim {
            measure: ri.clone(),
            baseline: b,
            target: (b * 0.7 * 100.0).round() / 100.0,
            target_date: date!(2027 - 03 - 31),
        });
        p.measures = vec![
            FamilyMeasure {
                role: MeasureRole::Outcome,
                measure: ri.clone(),
                name: "Restrictive interventions per 1,000 occupied bed days".into(),
            },
            FamilyMeasure {
                role: MeasureRole::Outcome,
                measure: prone.clone(),
                name: "Prone restraint per 1,000 occupied bed days".into(),
            },
            FamilyMeasure {
                role: MeasureRole::Process,
                measure: huddles.clone(),
                name: "% of shifts that held a safety huddle".into(),
            },
            FamilyMeasure {
                role: MeasureRole::Balancing,
                measure: rt.clone(),
                name: "Rapid tranquillisation per 1,000 occupied bed days".into(),
            },
        ];
        p.diagram = DriverDiagram {
            aim: "Reduce restraint on Ash Ward by 30% by March 2027".into(),
            primaries: vec![
                Primary {
                    id: "p1".into(),
                    text: "Every shift knows who is at risk".into(),
                },
                Primary {
                    id: "p2".into(),
                    text: "Alternatives to restraint are planned".into(),
                },
            ],
            secondaries: vec![
                Secondary {
                    id: "s1".into(),
                    text: "A short huddle at the start of each shift".into(),
                    primaries: vec!["p1".into()],
                },
                Secondary {
                    id: "s2".into(),
                    text: "Care plans say what helps each patient".into(),
                    primaries: vec!["p2".into(), "p1".into()],
                },
            ],
            change_ideas: vec![
                idea("ci1", "Ten-minute safety huddle at each handover", &["s1"]),
                idea(
                    "ci2",
                    "A prone-restraint reduction plan in every care plan",
                    &["s2"],
                ),
            ],
        };
        let plan = [
            "Nurse in charge",
            "Ten-minute huddle: risks, triggers, what helps",
            "Ash Ward day room",
            "Start of each shift",
        ];
        p.cycles = vec![
            cycle(
                "c1",
                "ci1",
                "Can the night shift hold a huddle at handover?",
                huddles.clone(),
                Expected::Increase,
                "Most night shifts will hold one once it is on the handover sheet",
                [
                    "Night nurse in charge",
                    plan[1],
                    plan[2],
                    "Night shifts, two weeks",
                ],
                (
                    date!(2024 - 01 - 08),
                    date!(2024 - 01 - 21),
                    "Held on 9 of 14 nights; missed when the ward was short-staffed",
                ),
                "Feasible, but it slips when the nurse in charge is called away.",
                (
                    Decision::Adapt,
                    date!(2024 - 01 - 24),
                    "Any registered nurse may lead it",
                ),
                Some("c2"),
            ),
            cycle(
                "c2",
                "ci1",
                "Does any registered nurse leading it keep it going, day and night?",
                huddles.clone(),
                Expected::Increase,
                "Nine shifts in ten will hold a huddle",
                [
                    "Any registered nurse on shift",
                    plan[1],
                    plan[2],
                    "Every shift, three weeks",
                ],
                (
                    date!(2024 - 01 - 29),
                    date!(2024 - 02 - 18),
                    "Held on 38 of 42 shifts",
                ),
                "Huddles held; staff say they knew earlier who was unsettled.",
                (
                    Decision::Adapt,
                    date!(2024 - 02 - 20),
                    "Add the prone-restraint plan to the huddle",
                ),
                Some("c3"),
            ),
            cycle(
                "c3",
                "ci2",
                "With the huddle reading out each patient's plan, is prone restraint avoided?",
                prone.clone(),
                Expected::Decrease,
                "Fewer prone restraints in the weeks of the test",
                [
                    "Ward manager and nurses",
                    "Each patient's plan read out at the huddle",
                    plan[2],
                    "Every shift, one week",
                ],
                (
                    date!(2024 - 02 - 19),
                    date!(2024 - 02 - 26),
                    "Plans read at 20 of 21 huddles",
                ),
                "Too short to see on a monthly chart; staff want to keep it.",
                (
                    Decision::Adopt,
                    HUDDLES_START,
                    "Huddles and plans on every shift from 1 March 2024",
                ),
                None,
            ),
        ];
        p.spread = vec![Spread {
            ward: "R9A-ELM".into(),
            change_idea: "ci1".into(),
            adopted: HUDDLES_START,
            evidence: ri.clone(),
            notes: "Elm Ward started huddles and prone-restraint plans on the same day".into(),
        }]
        .into_iter()
        .filter(|_| has("R9A-ELM"))
        .collect();
        if validate_project(&p).is_ok() {
            let own = store::qi::OwnMeasure {
                id: "huddles".into(),
                name: "% of shifts that held a safety huddle".into(),
                unit: "% of shifts".into(),
                direction: "increase".into(),
            };
            let id = create(store, &p, &[own]).await?;
            // Counted from the huddle log: none before the first cycle, a few during the
            // tests, nearly every shift after adoption.
            for (i, m) in months(date!(2023 - 01 - 01), last_month)
                .into_iter()
                .enumerate()
            {
                let v = if m < date!(2024 - 01 - 01) {
                    0.0
                } else if m < HUDDLES_START {
                    if i % 2 == 0 { 55.0 } else { 78.0 }
                } else {
                    [88.0, 92.0, 90.0, 94.0, 91.0, 89.0][i % 6]
                };
                store.qi_set_value(id, "huddles", m, v, AUTHOR).await?;
            }
            store
                .qi_set_score(id, &set_score("4.0", "The huddles have held for more than two years and restraint is down by about a third").expect("a valid score"), "ward.ash")
                .await?;
            ids.push(id);
        }
    }

    // 2. Beech Ward: a low-stimulus room offered before any restraint, tested twice; neither
    //    its use nor restraint moved, and the team abandoned it.
    //    and the team abandoned it.
    if has("R9A-BEECH") {
        let sec = MeasureRef::Catalogue("ri_rate".into());
        let reviews = MeasureRef::Project("room_offered".into());
        let mut p = Project::new(
            "The low-stimulus room before restraint on Beech Ward",
            ward("R9A-BEECH"),
        );
        p.charter = "Restraint on Beech Ward often follows an escalation in the busy day area. Offering the low-stimulus room first might let patients settle without it.".into();
        p.team = vec![TeamMember {
            user: "lead.r9a".into(),
            role: TeamRole::Lead,
        }];
        let base = baseline(store, "R9A-BEECH", "ri_rate", date!(2025 - 01 - 01)).await?;
        p.aim = base.filter(|b| *b > 0.0).map(|b| Aim {
            measure: sec.clone(),
            baseline: b,
            target: (b * 0.75 * 100.0).round() / 100.0,
            target_date: date!(2027 - 06 - 30),
        });
        p.measures = vec![
            FamilyMeasure {
                role: MeasureRole::Outcome,
                measure: sec.clone(),
                name: "Restrictive interventions per 1,000 occupied bed days".into(),
            },
            FamilyMeasure {
                role: MeasureRole::Process,
                measure: reviews.clone(),
                name: "% of escalations where the room was offered first".into(),
            },
        ];
        p.diagram = DriverDiagram {
            aim: "Reduce restraint on Beech Ward by a quarter".into(),
            primaries: vec![Primary {
                id: "p1".into(),
                text: "Seclusion ends as soon as it is safe".into(),
            }],
            secondaries: vec![Secondary {
                id: "s1".into(),
                text: "Early senior review".into(),
                primaries: vec!["p1".into()],
            }],
            change_ideas: vec![idea(
                "ci1",
                "Offer the low-stimulus room at the first sign of escalation",
                &["s1"],
            )],
        };
        p.cycles = vec![
            cycle(
                "c1",
                "ci1",
                "Will staff offer the room at the first sign of escalation?",
                reviews.clone(),
                Expected::Increase,
                "The room offered in most escalations",
                [
                    "Nurse in charge",
                    "Offer the low-stimulus room first",
                    "Beech Ward",
                    "Four weeks",
                ],
                (
                    date!(2025 - 01 - 06),
                    date!(2025 - 02 - 02),
                    "Offered in 14 of 29 escalations",
                ),
                "The room was offered in about half of escalations; often it was in use or not ready.",
                (
                    Decision::Adapt,
                    date!(2025 - 02 - 05),
                    "Run it for three months",
                ),
                Some("c2"),
            ),
            cycle(
                "c2",
                "ci1",
                "With the room kept free and ready, does restraint fall over three months?",
                sec.clone(),
                Expected::Decrease,
                "Fewer restrictive interventions a month",
                [
                    "Nurse in charge",
                    "Offer the low-stimulus room first",
                    "Beech Ward",
                    "Three months",
                ],
                (
                    date!(2025 - 02 - 10),
                    date!(2025 - 05 - 11),
                    "Offered in about half of escalations",
                ),
                "Neither chart moved: common-cause variation only, and the room was still offered in about half of escalations.",
                (
                    Decision::Abandon,
                    date!(2025 - 05 - 20),
                    "No change seen; the team will test de-escalation training instead",
                ),
                None,
            ),
        ];
        if validate_project(&p).is_ok() {
            let own = store::qi::OwnMeasure {
                id: "room_offered".into(),
                name: "% of escalations where the room was offered first".into(),
                unit: "% of escalations".into(),
                direction: "increase".into(),
            };
            let id = create(store, &p, &[own]).await?;
            for (i, m) in months(date!(2024 - 01 - 01), date!(2025 - 06 - 01))
                .into_iter()
                .enumerate()
            {
                let v = if m < date!(2025 - 01 - 01) {
                    [40.0, 50.0, 45.0][i % 3]
                } else {
                    [50.0, 45.0, 55.0][i % 3]
                };
                store.qi_set_value(id, "room_offered", m, v, AUTHOR).await?;
            }
            ids.push(id);
        }
    }

    // 3. A trust's project just registered: a title and a charter, no team named yet.
    if wards.iter().any(|w| w.starts_with("R9B-")) {
        let mut p = Project::new(
            "Leave that starts and ends on time",
            Organisation {
                level: OrgLevel::Trust,
                code: "R9B".into(),
            },
        );
        p.charter =
            "Leave that starts late or is cancelled is a common trigger of distress on our wards."
                .into();
        if validate_project(&p).is_ok() {
            ids.push(create(store, &p, &[]).await?);
        }
    }
    network::plant(store).await?;
    Ok(ids)
}

/// Registers `p` as the team would: the project with its catalogue measures, then each of
/// the team's own measures (its definition, in the family in the role `p` gives it).
async fn create(
    store: &Store,
    p: &Project,
    own: &[store::qi::OwnMeasure],
) -> Result<i64, StoreError> {
    let mut first = p.clone();
    first
        .measures
        .retain(|m| matches!(m.measure, MeasureRef::Catalogue(_)));
    let id = store.qi_create(&first, AUTHOR).await?;
    for o in own {
        let role = p
            .role_of(&MeasureRef::Project(o.id.clone()))
            .unwrap_or(MeasureRole::Process);
        store.qi_add_own_measure(id, o, role, AUTHOR).await?;
    }
    Ok(id)
}
