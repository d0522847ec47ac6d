//! The measures, computed by the store from the example files, against counts made by hand
//! (docs/examples), on SQLite and PostgreSQL: rates, proportions, medians, days between
//! incidents, levels above the ward, weeks, and breakdowns by patient characteristics.

mod common;
use common::*;
use domain::OrgLevel;
use domain::dates::{PeriodKind, iso};
use domain::measures::{Stratifier, catalogue, find};
use store::measures::{MeasureSeries, Query};
use time::macros::date;

fn query(level: OrgLevel, period: PeriodKind) -> Query {
    Query {
        level,
        period,
        from: date!(2024 - 01 - 01),
        to: date!(2024 - 03 - 31),
        scope: None,
    }
}

fn value(series: &[MeasureSeries], measure: &str, org: &str, period: &str) -> Option<f64> {
    let s = series
        .iter()
        .find(|s| s.measure == measure && s.org == org)
        .unwrap_or_else(|| panic!("no series {measure} {org}"));
    s.points
        .iter()
        .find(|p| iso(p.period) == period)
        .unwrap_or_else(|| panic!("no period {period}"))
        .value
}

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-9)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ward_measures_match_hand_counts() {
    for db in databases().await {
        let mut keys = key();
        import_all_examples(&db, &mut keys).await;
        let all = catalogue();
        let s = db
            .store
            .compute_measures(&query(OrgLevel::Ward, PeriodKind::Month), &all)
            .await
            .unwrap();
        assert_eq!(s.len(), all.len() * 3, "{}", db.name);
        let v = |m: &str, p: &str| value(&s, m, "R8A-ASH", p);
        // January on Ash: 3 interventions (prone, rapid tranquillisation, supine) over 600 bed days.
        assert!(
            close(v("ri_rate", "2024-01-01"), 5.0),
            "{}: {:?}",
            db.name,
            v("ri_rate", "2024-01-01")
        );
        assert!(close(v("ri_physical_rate", "2024-01-01"), 2000.0 / 600.0));
        assert!(close(v("ri_prone_rate", "2024-01-01"), 1000.0 / 600.0));
        assert!(close(v("ri_chemical_rate", "2024-01-01"), 1000.0 / 600.0));
        assert!(close(
            v("ri_rapid_tranq_rate", "2024-01-01"),
            1000.0 / 600.0
        ));
        assert!(
            close(v("ri_seclusion_rate", "2024-01-01"), 0.0),
            "a real zero, not a gap"
        );
        assert!(close(v("ri_rate", "2024-02-01"), 1000.0 / 580.0));
        assert!(close(v("people_restricted", "2024-01-01"), 2.0));
        assert!(close(
            v("pct_incidents_reviewed_with_patient", "2024-01-01"),
            50.0
        ));
        assert!(close(v("median_restraint_minutes", "2024-01-01"), 11.0));
        // Inpatients: two stays overlap January, both restricted; three overlap February, one restricted.
        assert!(close(v("pct_inpatients_restricted", "2024-01-01"), 100.0));
        assert!(close(
            v("pct_inpatients_restricted", "2024-02-01"),
            100.0 / 3.0
        ));
        assert!(close(v("self_harm_rate", "2024-01-01"), 2000.0 / 600.0));
        assert!(close(
            v("self_harm_moderate_rate", "2024-01-01"),
            1000.0 / 600.0
        ));
        assert!(close(
            v("self_harm_on_leave_rate", "2024-01-01"),
            1000.0 / 600.0
        ));
        assert!(
            close(v("awol_rate", "2024-01-01"), 1000.0 / 560.0),
            "bed days less leave"
        );
        assert!(
            close(v("pct_leave_on_time", "2024-01-01"), 50.0),
            "5 minutes late is on time, 45 is not"
        );
        assert!(close(v("pct_leave_on_time", "2024-02-01"), 100.0));
        assert!(close(
            v("pct_feel_sexually_safe", "2024-01-01"),
            200.0 / 3.0
        ));
        assert_eq!(
            v("pct_feel_sexually_safe", "2024-02-01"),
            None,
            "no answers: a gap"
        );
        assert!(close(
            value(
                &s,
                "sexual_harassment_verbal_rate",
                "R8A-BIRCH",
                "2024-02-01"
            ),
            1000.0 / 290.0
        ));
        assert!(close(
            value(&s, "sexual_assault_rate", "R8B-CEDAR", "2024-03-01"),
            1000.0 / 540.0
        ));
        let gaps = s
            .iter()
            .find(|x| x.measure == "days_between_self_harm" && x.org == "R8A-ASH")
            .unwrap();
        let days: Vec<(String, f64)> = gaps
            .points
            .iter()
            .map(|p| (iso(p.period), p.value.unwrap()))
            .collect();
        assert_eq!(
            days,
            vec![("2024-01-25".into(), 17.0), ("2024-02-02".into(), 8.0)]
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trust_level_weekly_and_scoped_queries() {
    for db in databases().await {
        let mut keys = key();
        import_all_examples(&db, &mut keys).await;
        let ri = vec![find("ri_rate").unwrap()];
        let trusts = db
            .store
            .compute_measures(&query(OrgLevel::Trust, PeriodKind::Month), &ri)
            .await
            .unwrap();
        assert_eq!(trusts.len(), 2);
        assert!(
            close(
                value(&trusts, "ri_rate", "R8A", "2024-01-01"),
                3000.0 / 900.0
            ),
            "{}",
            db.name
        );
        let region = db
            .store
            .compute_measures(&query(OrgLevel::Region, PeriodKind::Month), &ri)
            .await
            .unwrap();
        assert!(close(
            value(&region, "ri_rate", "Y98", "2024-01-01"),
            4000.0 / 1400.0
        ));

        // Weeks: monthly bed-day totals cannot be split, so weekly rates are gaps (never zero).
        let weeks = db
            .store
            .compute_measures(&query(OrgLevel::Ward, PeriodKind::Week), &ri)
            .await
            .unwrap();
        let ash = weeks.iter().find(|s| s.org == "R8A-ASH").unwrap();
        assert_eq!(iso(ash.points[0].period), "2024-01-01");
        assert!(ash.points.iter().all(|p| p.value.is_none()));
        assert_eq!(
            ash.points.iter().map(|p| p.numerator).sum::<f64>(),
            5.0,
            "events are still counted by week"
        );

        let mut q = query(OrgLevel::Ward, PeriodKind::Month);
        q.scope = Some((OrgLevel::Trust, "R8B".into()));
        let scoped = db.store.compute_measures(&q, &ri).await.unwrap();
        assert_eq!(
            scoped.iter().map(|s| s.org.as_str()).collect::<Vec<_>>(),
            ["R8B-CEDAR"]
        );
    }
}

/// Each trust numbers its own incidents: R8B's incident RI-002 is not R8A's RI-002. January
/// 2024 in the region: R8A's RI-001 (reviewed with the patient) and RI-002 (not), R8B's RI-006
/// (reviewed) and, uploaded here, R8B's own RI-002 (reviewed): 3 of 4 incidents, 75%. Counting
/// ids alone would find 3 incidents, all reviewed: 100%.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_trusts_incidents_with_the_same_id_are_two_incidents_above_a_trust() {
    for db in databases().await {
        let mut keys = key();
        import_all_examples(&db, &mut keys).await;
        let header = std::fs::read_to_string(example("restrictive_interventions.csv")).unwrap();
        let header = header.lines().next().unwrap();
        let file = format!(
            "{header}\nRI-002,1,9990000042,R8B-CEDAR,2024-01-15,18:00,2024-01-15,18:20,10,Y,Y,10,2024-01-15,18:02,2024-01-15,18:12,N,N,N\n"
        );
        let r = import_bytes(
            &db,
            &mut keys,
            ingest::formats::Kind::RestrictiveInterventions,
            "r8b-more.csv",
            file.as_bytes(),
            false,
        )
        .await;
        assert!(r.ok(), "{}: {:?}", db.name, r.error_lines());
        let m = vec![find("pct_incidents_reviewed_with_patient").unwrap()];
        for (level, org, expected) in [
            (OrgLevel::Region, "Y98", 75.0),
            (OrgLevel::Trust, "R8A", 50.0),
            (OrgLevel::Trust, "R8B", 100.0),
        ] {
            let s = db
                .store
                .compute_measures(&query(level, PeriodKind::Month), &m)
                .await
                .unwrap();
            let v = value(&s, "pct_incidents_reviewed_with_patient", org, "2024-01-01");
            assert!(close(v, expected), "{}: {org}: {v:?}", db.name);
        }
    }
}

/// Every characteristic at once (as the inequalities page asks) gives what each one alone
/// gives: summed from one pass for counts and bed nights, one pass each for distinct people.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_characteristic_at_once_is_each_one_alone() {
    for db in databases().await {
        let mut keys = key();
        import_all_examples(&db, &mut keys).await;
        for id in [
            "ri_rate",
            "ri_prone_rate",
            "people_restricted",
            "pct_inpatients_restricted",
            "self_harm_rate",
            "awol_rate",
        ] {
            let m = find(id).unwrap();
            for scope in [None, Some((OrgLevel::Trust, "R8A".to_string()))] {
                let (from, to) = (date!(2024 - 01 - 01), date!(2024 - 03 - 31));
                let together = db
                    .store
                    .stratified_each(&m, scope.clone(), from, to, &Stratifier::ALL)
                    .await
                    .unwrap();
                assert_eq!(together.len(), Stratifier::ALL.len());
                for (by, rows) in Stratifier::ALL.into_iter().zip(&together) {
                    let alone = db
                        .store
                        .stratified(&m, scope.clone(), from, to, by)
                        .await
                        .unwrap();
                    assert_eq!(rows, &alone, "{}: {id} by {by:?} in {scope:?}", db.name);
                    assert!(!alone.is_empty(), "{id} by {by:?}: something to compare");
                }
            }
        }
    }
}

/// Restrictive interventions per 1,000 bed days by ethnic group in trust R8A, first quarter
/// of 2024: White 2 over 40 nights, Black 3 over 177, Asian 1 over 34 (by hand from the stays).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn breakdowns_by_ethnic_group_age_sex_and_ld_autism() {
    for db in databases().await {
        let mut keys = key();
        import_all_examples(&db, &mut keys).await;
        let m = find("ri_rate").unwrap();
        let scope = Some((OrgLevel::Trust, "R8A".to_string()));
        let rows = db
            .store
            .stratified(
                &m,
                scope.clone(),
                date!(2024 - 01 - 01),
                date!(2024 - 03 - 31),
                Stratifier::EthnicGroup,
            )
            .await
            .unwrap();
        let get = |g: &str| {
            rows.iter()
                .find(|r| r.group == g)
                .map(|r| (r.numerator, r.denominator))
        };
        assert_eq!(get("White"), Some((2.0, 40.0)), "{}: {rows:?}", db.name);
        assert_eq!(get("Black or Black British"), Some((3.0, 177.0)));
        assert_eq!(get("Asian or Asian British"), Some((1.0, 34.0)));
        let rr = domain::stats::rate_ratio(3, 177.0, 2, 40.0).unwrap();
        assert!((rr.value - (3.0 / 177.0) / (2.0 / 40.0)).abs() < 1e-12);

        let sex = db
            .store
            .stratified(
                &m,
                scope.clone(),
                date!(2024 - 01 - 01),
                date!(2024 - 03 - 31),
                Stratifier::Sex,
            )
            .await
            .unwrap();
        let female = sex.iter().find(|r| r.group == "Female").unwrap();
        assert_eq!((female.numerator, female.denominator), (2.0, 86.0));
        let ld = db
            .store
            .stratified(
                &m,
                scope.clone(),
                date!(2024 - 01 - 01),
                date!(2024 - 03 - 31),
                Stratifier::LdAutism,
            )
            .await
            .unwrap();
        assert_eq!(
            ld.iter().find(|r| r.group == "Yes").map(|r| r.numerator),
            Some(1.0)
        );
        let age = db
            .store
            .stratified(
                &m,
                scope,
                date!(2024 - 01 - 01),
                date!(2024 - 03 - 31),
                Stratifier::AgeBand,
            )
            .await
            .unwrap();
        // Born 1990 (33-34 in 2024), 1985 (38), 2001 (22-23), 1995 (28-29).
        assert_eq!(
            age.iter()
                .find(|r| r.group == "18 to 24")
                .map(|r| r.numerator),
            Some(1.0),
            "{age:?}"
        );
        assert_eq!(
            age.iter()
                .find(|r| r.group == "25 to 34")
                .map(|r| r.numerator),
            Some(3.0),
            "{age:?}"
        );
        assert_eq!(
            age.iter()
                .find(|r| r.group == "35 to 44")
                .map(|r| r.numerator),
            Some(2.0),
            "{age:?}"
        );

        let people = find("pct_inpatients_restricted").unwrap();
        let p = db
            .store
            .stratified(
                &people,
                None,
                date!(2024 - 01 - 01),
                date!(2024 - 03 - 31),
                Stratifier::EthnicGroup,
            )
            .await
            .unwrap();
        let black = p
            .iter()
            .find(|r| r.group == "Black or Black British")
            .unwrap();
        assert_eq!((black.numerator, black.denominator), (2.0, 2.0));
    }
}

/// A ward that reports about 20 incidents a month, then 2 in one month, and no bed days for
/// another: completeness shows both, before anyone compares wards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completeness_shows_missing_months_and_under_reporting() {
    use ingest::formats::Kind;
    use store::completeness::Status;
    for db in databases().await {
        let mut keys = key();
        for kind in [Kind::Organisations, Kind::Wards] {
            import_example(&db, &mut keys, kind).await;
        }
        let mut beds = String::from("WardCode,Month,OccupiedBedDays,LeaveBedDays\n");
        let mut incidents = String::from(
            "IncidentID,IncidentKind,WardCode,IncidentDate,IncidentTime,PhysicalHarm\n",
        );
        let mut n = 0;
        for month in 1..=12u32 {
            if month != 9 {
                beds.push_str(&format!("R8A-ASH,2023-{month:02},600,0\n"));
            }
            let count = if month == 6 { 2 } else { 18 + (month % 5) };
            for k in 0..count {
                n += 1;
                incidents.push_str(&format!(
                    "X-{n},other,R8A-ASH,2023-{month:02}-{:02},10:00,none\n",
                    1 + k % 28
                ));
            }
        }
        assert!(
            import_bytes(
                &db,
                &mut keys,
                Kind::BedDays,
                "beds.csv",
                beds.as_bytes(),
                false
            )
            .await
            .ok()
        );
        assert!(
            import_bytes(
                &db,
                &mut keys,
                Kind::Incidents,
                "inc.csv",
                incidents.as_bytes(),
                false
            )
            .await
            .ok()
        );
        let rows = db
            .store
            .completeness(
                date!(2023 - 01 - 01),
                date!(2023 - 12 - 31),
                Some((OrgLevel::Ward, "R8A-ASH".into())),
            )
            .await
            .unwrap();
        assert_eq!(rows.len(), 12, "{}", db.name);
        let status = |m: usize| rows[m - 1].status;
        assert_eq!(
            status(6),
            Status::LikelyUnderReported,
            "{}: {:?}",
            db.name,
            rows[5]
        );
        assert_eq!(status(9), Status::MissingBedDays);
        assert!(
            (1..=12)
                .filter(|m| ![6, 9].contains(m))
                .all(|m| status(m) == Status::Complete),
            "{rows:?}"
        );
        assert_eq!(rows[5].events, 2);
    }
}

/// The region's and the ICB's facts added up from the trusts' parts (as the web's cache does
/// after an upload) are the facts read for them directly, for every measure, monthly and
/// weekly; and a trust's facts read with its parts (medians from the restraint lengths) are
/// its facts read alone. A patient with stays in both trusts in January counts once above them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn levels_above_a_trust_added_up_from_trusts_are_read_directly() {
    for db in databases().await {
        let mut keys = key();
        import_all_examples(&db, &mut keys).await;
        let moved = b"WardStayId,NHSNumber,WardCode,StartDateWardStay,EndDateWardStay\n\
                      WS90,9990000018,R8B-CEDAR,2024-01-12,2024-01-20\n";
        let r = import_bytes(
            &db,
            &mut keys,
            ingest::formats::Kind::WardStays,
            "moved.csv",
            moved,
            false,
        )
        .await;
        assert!(r.ok(), "{}: {:?}", db.name, r.error_lines());
        let all = catalogue();
        for period in [PeriodKind::Month, PeriodKind::Week] {
            let trusts = query(OrgLevel::Trust, period);
            let (trust_facts, parts) = db.store.trust_parts(&trusts, &all).await.unwrap();
            assert_eq!(
                trust_facts,
                db.store.measure_facts(&trusts, &all).await.unwrap(),
                "{} {period:?}: trusts",
                db.name
            );
            for (level, scope) in [
                (OrgLevel::Region, None),
                (OrgLevel::Icb, None),
                (OrgLevel::Icb, Some((OrgLevel::Region, "Y98".to_string()))),
            ] {
                let q = Query {
                    scope: scope.clone(),
                    ..query(level, period)
                };
                let parents = db
                    .store
                    .trust_parents(level, &scope)
                    .await
                    .unwrap()
                    .expect("each trust's wards are in one ICB and one region");
                let orgs = db.store.orgs_in_scope(&q).await.unwrap();
                let composed = parts.compose(&parents, orgs);
                let direct = db.store.measure_facts(&q, &all).await.unwrap();
                assert_eq!(
                    composed, direct,
                    "{} {period:?} {level:?} {scope:?}",
                    db.name
                );
                if level == OrgLevel::Region && period == PeriodKind::Month {
                    let jan = direct.get("Y98", date!(2024 - 01 - 01));
                    let trust_sum: f64 = ["R8A", "R8B"]
                        .iter()
                        .filter_map(|t| trust_facts.get(t, date!(2024 - 01 - 01)).inpatients)
                        .sum();
                    assert_eq!(jan.inpatients, Some(trust_sum - 1.0), "{}", db.name);
                }
            }
        }
    }
}
