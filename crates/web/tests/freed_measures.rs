//! FREED measures on the platform (issue 14, item 3) on the example region, SQLite and (when
//! MHSIP_TEST_POSTGRES_URL is set) PostgreSQL: a service's charts from its own referrals with
//! the clock counted where it was decided; the trust's through the ordinary chart page and its
//! downloads; counts disclosure-controlled for the programme; access as for the waiting list.

#[path = "../../ingest/tests/common/mod.rs"]
mod common;
#[path = "support/app.rs"]
mod support;

use axum::http::StatusCode;
use common::databases;
use support::App;

/// The example's March 2024 at R8A-FREED, assessment within 2 weeks: FR-0001 (assessed after 10
/// days) and FR-0003 (the next day) met; FR-0002 (the assessment not attended, 7 days paused)
/// and FR-0004 (discharged after its deadline) breached, both in March: 2 of 4.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_services_clock_chart_counts_the_clocks_decided_in_each_month() {
    for db in databases().await {
        let app = App::new(db).await;
        let lead = app.login("lead").await;
        let page = app.get("/freed/R8A-FREED/measures", Some(&lead)).await;
        assert_eq!(
            page.status,
            StatusCode::OK,
            "{}: {}",
            app.db_name,
            page.body
        );
        for m in domain::measures::freed_catalogue() {
            let link = format!("/freed/R8A-FREED/measures/{}?", m.id);
            assert!(page.body.contains(&link), "{}: {}", app.db_name, m.id);
        }
        let chart = app
            .get("/freed/R8A-FREED/measures/freed_assessment_2w", Some(&lead))
            .await;
        assert_eq!(chart.status, StatusCode::OK, "{}", app.db_name);
        assert!(chart.body.contains("<svg"), "{}", app.db_name);
        let csv = app
            .get(
                "/freed/R8A-FREED/measures/freed_assessment_2w/download/csv",
                Some(&lead),
            )
            .await;
        assert_eq!(csv.status, StatusCode::OK, "{}", app.db_name);
        let march = csv
            .body
            .lines()
            .find(|l| l.contains("2024") && l.contains("Mar"))
            .unwrap_or_else(|| panic!("{}: no March row in {}", app.db_name, csv.body));
        let cells: Vec<&str> = march.split(',').collect();
        assert_eq!(&cells[1..4], ["2", "4", "50"], "{}: {march}", app.db_name);
        // Weekly too, and the same measure for the trust on the ordinary chart page.
        let weekly = app
            .get(
                "/freed/R8A-FREED/measures/freed_engagement_48h?period=week",
                Some(&lead),
            )
            .await;
        assert_eq!(weekly.status, StatusCode::OK, "{}", app.db_name);
        app.state.settled().await.unwrap();
        let trust = app
            .get("/chart/R8A/freed_assessment_2w/download/csv", Some(&lead))
            .await;
        assert_eq!(trust.status, StatusCode::OK, "{}", app.db_name);
        let march = trust
            .body
            .lines()
            .find(|l| l.contains("2024") && l.contains("Mar"))
            .unwrap_or_else(|| panic!("{}: trust: no March row in {}", app.db_name, trust.body));
        let cells: Vec<&str> = march.split(',').collect();
        assert_eq!(
            &cells[1..4],
            ["2", "4", "50"],
            "{}: trust {march}",
            app.db_name
        );
        let api = app
            .get(
                "/api/series/R8A/freed_median_days_to_treatment",
                Some(&lead),
            )
            .await;
        assert_eq!(api.status, StatusCode::OK, "{}: {}", app.db_name, api.body);
        // FR-0001 was treated 25 days after its referral (1 to 26 March).
        assert!(
            api.body.contains("\"numerator\":\"25\""),
            "{}: {}",
            app.db_name,
            api.body
        );
        // Unknown measures and ward measures are not FREED charts of a service.
        for bad in ["nope", "ri_rate"] {
            let r = app
                .get(&format!("/freed/R8A-FREED/measures/{bad}"), Some(&lead))
                .await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{}: {bad}", app.db_name);
        }
        let r = app
            .get(
                "/freed/R8A-FREED/measures/freed_uptake/download/pdf",
                Some(&lead),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", app.db_name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn others_see_the_counts_under_disclosure_control_and_a_ward_elsewhere_nothing() {
    for db in databases().await {
        let app = App::new(db).await;
        let viewer = app.login("viewer").await;
        let csv = app
            .get(
                "/freed/R8A-FREED/measures/freed_assessment_2w/download/csv",
                Some(&viewer),
            )
            .await;
        assert_eq!(csv.status, StatusCode::OK, "{}", app.db_name);
        for line in csv.body.lines().skip(1) {
            let cells: Vec<&str> = line.split(',').collect();
            for c in &cells[1..3] {
                assert!(
                    c.is_empty() || *c == "*" || c.parse::<u64>().is_ok_and(|n| n == 0 || n >= 5),
                    "{}: {line}",
                    app.db_name
                );
            }
        }
        let page = app.get("/freed/R8A-FREED/measures", Some(&viewer)).await;
        assert!(
            page.body.contains("Disclosure control applies"),
            "{}",
            app.db_name
        );
        // A ward user of another trust sees no FREED service of R8A.
        let birch = app.login("lead_b").await;
        let r = app.get("/freed/R8A-FREED/measures", Some(&birch)).await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "{}: another trust's lead sees counts",
            app.db_name
        );
        assert!(
            r.body.contains("Disclosure control applies"),
            "{}",
            app.db_name
        );
        let ward = app.login("ward").await;
        let r = app
            .get("/freed/R8B-FREED/measures/freed_uptake", Some(&ward))
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", app.db_name);
    }
}

/// Who is reached, on the example's R8A-FREED (four referrals: White, Black, Asian and one with
/// no ethnic category): exact for the trust's lead, every small count suppressed for the
/// programme, a wrong characteristic refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn who_is_reached_by_ethnic_group_sex_age_and_deprivation() {
    for db in databases().await {
        let app = App::new(db).await;
        let lead = app.login("lead").await;
        let page = app
            .get("/freed/R8A-FREED/inequalities?by=ethnic_group", Some(&lead))
            .await;
        assert_eq!(
            page.status,
            StatusCode::OK,
            "{}: {}",
            app.db_name,
            page.body
        );
        for group in [
            "White",
            "Black or Black British",
            "Asian or Asian British",
            "Not known",
        ] {
            assert!(
                page.body.contains(&format!("<th scope=\"row\">{group}")),
                "{}: {group}",
                app.db_name
            );
        }
        assert!(
            page.body.contains("25.0%"),
            "{}: a quarter of referrals each",
            app.db_name
        );
        for (by, group) in [
            ("sex", "Female"),
            ("age_band", "16 to 18"),
            ("imd_decile", "1 (most deprived)"),
        ] {
            let r = app
                .get(
                    &format!("/freed/R8A-FREED/inequalities?by={by}"),
                    Some(&lead),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}: {by}", app.db_name);
            assert!(r.body.contains(group), "{}: {by}: {group}", app.db_name);
        }
        let bad = app
            .get("/freed/R8A-FREED/inequalities?by=ld_autism", Some(&lead))
            .await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", app.db_name);
        assert!(bad.body.contains("imd_decile"), "{}", app.db_name);
        let viewer = app.login("viewer").await;
        let page = app
            .get(
                "/freed/R8A-FREED/inequalities?by=ethnic_group",
                Some(&viewer),
            )
            .await;
        assert_eq!(page.status, StatusCode::OK, "{}", app.db_name);
        for n in 1..=4 {
            assert!(
                !page
                    .body
                    .contains(&format!("<td class=\"app-num\">{n}</td>")),
                "{}: a count of {n} shown to the programme",
                app.db_name
            );
        }
        assert!(
            page.body.contains("Disclosure control applies"),
            "{}",
            app.db_name
        );
    }
}

/// Who FREED reaches across a trust's services and the region's, by the same rules as a
/// service's page: the example's four R8A-FREED referrals and two R8B-FREED ones add up; the
/// trust's own lead sees its figures exactly and the region's under disclosure control; every
/// full view is audited; the FREED list links the pages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn who_is_reached_across_a_trust_and_the_region() {
    let referrals = |v: &serde_json::Value| -> Vec<String> {
        v["referred"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["referrals"].as_str().unwrap().to_string())
            .collect()
    };
    let total = |v: &serde_json::Value| -> u64 {
        referrals(v).iter().map(|n| n.parse::<u64>().unwrap()).sum()
    };
    for db in databases().await {
        let app = App::new(db).await;
        let admin = app.login("admin").await;
        let get_json = |path: String, cookie: String| {
            let app = &app;
            async move {
                let r = app.get(&path, Some(&cookie)).await;
                assert_eq!(
                    r.status,
                    StatusCode::OK,
                    "{}: {path}: {}",
                    app.db_name,
                    r.body
                );
                serde_json::from_str::<serde_json::Value>(&r.body).unwrap()
            }
        };
        let service = get_json(
            "/api/freed/R8A-FREED/inequalities?by=sex".into(),
            admin.clone(),
        )
        .await;
        let trust = get_json(
            "/api/freed/org/R8A/inequalities?by=sex".into(),
            admin.clone(),
        )
        .await;
        let other = get_json(
            "/api/freed/org/R8B/inequalities?by=sex".into(),
            admin.clone(),
        )
        .await;
        let region = get_json(
            "/api/freed/org/Y98/inequalities?by=sex".into(),
            admin.clone(),
        )
        .await;
        assert_eq!(total(&service), 4, "{}", app.db_name);
        assert_eq!(
            trust["measures"], service["measures"],
            "{}: one service: the trust's figures are its service's",
            app.db_name
        );
        assert_eq!(trust["scope"]["kind"], "trust", "{}", app.db_name);
        assert_eq!(total(&other), 2, "{}", app.db_name);
        assert_eq!(total(&region), 6, "{}: both trusts' services", app.db_name);
        assert_eq!(region["services"], 2, "{}", app.db_name);
        assert_eq!(region["disclosure_controlled"], false, "{}", app.db_name);
        let audited: Vec<String> = app
            .store
            .audit_log(1000)
            .await
            .unwrap()
            .into_iter()
            .filter(|r| r.action == "freed_inequalities_viewed")
            .map(|r| r.target)
            .collect();
        for target in ["R8A-FREED", "R8A", "R8B", "Y98"] {
            assert!(
                audited.iter().any(|t| t == target),
                "{}: {target} audited: {audited:?}",
                app.db_name
            );
        }
        // The trust's lead: its own trust exactly, the region under disclosure control (six
        // referrals in all: every count under 5 is hidden, the rest rounded).
        let lead = app.login("lead").await;
        let own = get_json(
            "/api/freed/org/R8A/inequalities?by=sex".into(),
            lead.clone(),
        )
        .await;
        assert_eq!(own["disclosure_controlled"], false, "{}", app.db_name);
        assert_eq!(total(&own), 4, "{}", app.db_name);
        let region = get_json(
            "/api/freed/org/Y98/inequalities?by=sex".into(),
            lead.clone(),
        )
        .await;
        assert_eq!(region["disclosure_controlled"], true, "{}", app.db_name);
        for n in referrals(&region) {
            assert!(
                n == "*" || n.parse::<u64>().is_ok_and(|v| v == 0 || v % 5 == 0),
                "{}: the region shows {n} to a trust's lead",
                app.db_name
            );
        }
        let page = app
            .get("/freed/org/Y98/inequalities?by=ethnic_group", Some(&lead))
            .await;
        assert_eq!(page.status, StatusCode::OK, "{}", app.db_name);
        assert!(
            page.body.contains("Disclosure control applies")
                && page.body.contains("action=\"/freed/org/Y98/inequalities\""),
            "{}: {}",
            app.db_name,
            page.body
        );
        for n in 1..=4 {
            assert!(
                !page
                    .body
                    .contains(&format!("<td class=\"app-num\">{n}</td>")),
                "{}: a count of {n} of the region shown to a trust's lead",
                app.db_name
            );
        }
        let list = app.get("/freed", Some(&lead)).await;
        for link in ["/freed/org/Y98/inequalities", "/freed/org/R8A/inequalities"] {
            assert!(
                list.body.contains(link),
                "{}: {link} on /freed",
                app.db_name
            );
        }
        // Only trusts, ICBs and the region: a ward is not a FREED scope.
        let ward = app
            .get("/freed/org/R8A-ASH/inequalities", Some(&admin))
            .await;
        assert_eq!(ward.status, StatusCode::NOT_FOUND, "{}", app.db_name);
    }
}

/// The waiting list keeps a service's referrals not yet off the list between views; an upload
/// (here a referral typed in by hand) moves the data generation, and the next view reads again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_waiting_list_shows_a_referral_added_after_it_was_last_viewed() {
    for db in databases().await {
        let app = App::new(db).await;
        let lead = app.login("lead").await;
        let at = "/freed/R8A-FREED?as_of=2024-03-10+10:00";
        let before = app.get(at, Some(&lead)).await;
        assert_eq!(before.status, StatusCode::OK, "{}", app.db_name);
        assert!(before.body.contains(">FR-2024-0002<"), "{}", app.db_name);
        assert!(!before.body.contains(">FR-HAND-2<"), "{}", app.db_name);
        let form = "reference=FR-HAND-2&nhs_number=999+000+0018&received_date=2024-03-08&received_time=08:05&source=self_referral&age=18&first_episode=Y&onset=2023-10&diagnosis=AN&priority=urgent&ethnic_category=A&gender=2&imd_decile=2";
        let r = app
            .post_form("/freed/R8A-FREED/referral", Some(&lead), form)
            .await;
        assert_eq!(
            r.status,
            StatusCode::SEE_OTHER,
            "{}: {}",
            app.db_name,
            r.body
        );
        let after = app.get(at, Some(&lead)).await;
        assert!(
            after.body.contains(">FR-HAND-2<"),
            "{}: the new referral",
            app.db_name
        );
        // Earlier than its receipt: not on the list; later again: on it.
        let earlier = app
            .get("/freed/R8A-FREED?as_of=2024-03-07+10:00", Some(&lead))
            .await;
        assert!(!earlier.body.contains(">FR-HAND-2<"), "{}", app.db_name);
        let later = app
            .get("/freed/R8A-FREED?as_of=2024-03-11+10:00", Some(&lead))
            .await;
        assert!(later.body.contains(">FR-HAND-2<"), "{}", app.db_name);
        // FR-2024-0001 was treated on 26 March: off the list after it, whatever was kept.
        let treated = app
            .get("/freed/R8A-FREED?as_of=2024-03-27+10:00", Some(&lead))
            .await;
        assert!(!treated.body.contains(">FR-2024-0001<"), "{}", app.db_name);
        assert!(later.body.contains(">FR-2024-0001<"), "{}", app.db_name);
    }
}

/// The measures, chart and who-is-reached pages keep what they counted for the data
/// generation: a view after a referral typed in by hand counts it, on the service's pages, the
/// trust's and the region's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_counted_pages_count_a_referral_added_after_they_were_viewed() {
    for db in databases().await {
        let app = App::new(db).await;
        let lead = app.login("lead").await;
        let total = |body: &str| -> u64 {
            let v: serde_json::Value = serde_json::from_str(body).unwrap();
            v["referred"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["referrals"].as_str().unwrap().parse::<u64>().unwrap())
                .sum()
        };
        let paths = [
            "/api/freed/R8A-FREED/inequalities?by=sex&as_of=2024-04-30+12:00",
            "/api/freed/org/R8A/inequalities?by=sex&as_of=2024-04-30+12:00",
        ];
        let mut before = Vec::new();
        for p in paths {
            let r = app.get(p, Some(&lead)).await;
            assert_eq!(r.status, StatusCode::OK, "{}: {p}", app.db_name);
            before.push(total(&r.body));
        }
        let measures =
            "/freed/R8A-FREED/measures/freed_waiting_list/download/csv?as_of=2024-04-30+12:00";
        let csv_before = app.get(measures, Some(&lead)).await.body;
        // Viewed twice (the second from what was kept): the same answer.
        assert_eq!(app.get(measures, Some(&lead)).await.body, csv_before);
        let form = "reference=FR-HAND-3&nhs_number=999+000+0018&received_date=2024-03-08&received_time=08:05&source=self_referral&age=18&first_episode=Y&onset=2023-10&diagnosis=AN&priority=urgent&ethnic_category=A&gender=2&imd_decile=2";
        let r = app
            .post_form("/freed/R8A-FREED/referral", Some(&lead), form)
            .await;
        assert_eq!(
            r.status,
            StatusCode::SEE_OTHER,
            "{}: {}",
            app.db_name,
            r.body
        );
        for (p, n) in paths.iter().zip(&before) {
            let r = app.get(p, Some(&lead)).await;
            assert_eq!(
                total(&r.body),
                n + 1,
                "{}: {p} counts the new referral",
                app.db_name
            );
        }
        // The new referral waits at the end of its month: the waiting list counts it.
        let csv_after = app.get(measures, Some(&lead)).await.body;
        assert_ne!(
            csv_after, csv_before,
            "{}: the chart's table is counted again",
            app.db_name
        );
    }
}

/// A note the trust saves on a FREED measure (a change tested across its services) is on its
/// services' charts of that measure too, and rebases them where it says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_trusts_notes_are_on_its_services_charts() {
    for db in databases().await {
        let app = App::new(db).await;
        app.store
            .add_annotation(
                "R8A",
                Some("freed_assessment_2w"),
                time::macros::date!(2024 - 03 - 01),
                "Triage clinic",
                false,
                "lead",
            )
            .await
            .unwrap();
        app.state.settled().await.unwrap();
        let lead = app.login("lead").await;
        let csv = app
            .get(
                "/freed/R8A-FREED/measures/freed_assessment_2w/download/csv",
                Some(&lead),
            )
            .await;
        assert!(
            csv.body.contains("Triage clinic"),
            "{}: {}",
            app.db_name,
            csv.body
        );
        let other = app
            .get(
                "/freed/R8A-FREED/measures/freed_uptake/download/csv",
                Some(&lead),
            )
            .await;
        assert!(
            !other.body.contains("Triage clinic"),
            "{}: only that measure",
            app.db_name
        );
    }
}
