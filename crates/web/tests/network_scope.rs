//! The network beyond inpatient mental health (issue 12, item 4) through the router, on the
//! example region (docs/examples: R8B's four acute self-harm incidents, R8A's and R8B's staff
//! months), on SQLite and (when MHSIP_TEST_POSTGRES_URL is set) PostgreSQL: the measures'
//! series against hand counts, disclosure control of other trusts' staff counts, the
//! breakdown of acute self-harm by group, and the funnel plot narrowed to a peer group.
#![allow(dead_code)]

#[path = "../../ingest/tests/common/mod.rs"]
mod common;

use axum::http::StatusCode;
use common::databases;

#[path = "support/app.rs"]
mod app;

use app::App;

/// (period, value) of every point of `/api/series/{org}/{measure}`, and whether controlled.
async fn series(
    app: &App,
    cookie: &str,
    org: &str,
    measure: &str,
) -> (Vec<(String, Option<f64>)>, bool) {
    let r = app
        .get(&format!("/api/series/{org}/{measure}"), Some(cookie))
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}: {org} {measure}: {}",
        app.db_name,
        r.body
    );
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    let points = v["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["period"].as_str().unwrap_or_default().to_string(),
                p["value"].as_f64(),
            )
        })
        .collect();
    (
        points,
        v["disclosure_controlled"].as_bool().unwrap_or(false),
    )
}

fn values(points: &[(String, Option<f64>)]) -> Vec<Option<f64>> {
    points.iter().map(|p| p.1).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_measures_count_the_uploads_and_other_trusts_see_staff_counts_only_under_control() {
    for db in databases().await {
        let app = App::new(db).await;
        let lead_b = app.login("lead_b").await;
        // R8B's incidents, counted by hand from docs/examples/acute_self_harm.csv: January two
        // in the emergency department, February one on an acute ward, March one elsewhere.
        let (all, controlled) = series(&app, &lead_b, "R8B", "acute_self_harm").await;
        assert!(!controlled);
        assert_eq!(all[0].0, "Jan 2024", "{}", app.db_name);
        assert_eq!(
            values(&all),
            vec![Some(2.0), Some(1.0), Some(1.0)],
            "{}",
            app.db_name
        );
        let (ed, _) = series(&app, &lead_b, "R8B", "acute_self_harm_ed").await;
        assert_eq!(values(&ed), vec![Some(2.0), Some(0.0), Some(0.0)]);
        let (ward, _) = series(&app, &lead_b, "R8B", "acute_self_harm_ward").await;
        assert_eq!(values(&ward), vec![Some(0.0), Some(1.0), Some(0.0)]);

        // R8A's staff months: its own lead sees them exactly, with the rate per 1,000 staff.
        let lead = app.login("lead").await;
        let (own, controlled) = series(&app, &lead, "R8A", "staff_self_harm").await;
        assert!(!controlled);
        assert_eq!(values(&own), vec![Some(2.0), Some(0.0), Some(1.0)]);
        let (deaths, _) = series(&app, &lead, "R8A", "staff_suicides").await;
        assert_eq!(values(&deaths), vec![Some(0.0), Some(0.0), Some(1.0)]);
        let (rate, _) = series(&app, &lead, "R8A", "staff_self_harm_rate").await;
        let want = [2.0 / 4200.0, 0.0, 1.0 / 4195.0].map(|x| x * 1000.0);
        for (got, want) in values(&rate).iter().zip(want) {
            assert!((got.unwrap() - want).abs() < 1e-4, "{got:?} {want}");
        }
        // Another trust's lead sees R8A's counts under disclosure control: 0, 1 and 2 are
        // never shown, nor the rate built on them.
        for m in ["staff_self_harm", "staff_suicides", "staff_self_harm_rate"] {
            let (other, controlled) = series(&app, &lead_b, "R8A", m).await;
            assert!(controlled, "{m}");
            assert!(
                other.iter().all(|p| p.1.is_none()),
                "{}: {m}: {other:?}",
                app.db_name
            );
        }
        // The region adds its trusts' months: January 2 + 3 = 5 (shown to a trust's lead as
        // the published 5), February 0 + 1 and March 1 (suppressed).
        let (region, controlled) = series(&app, &lead, "Y98", "staff_self_harm").await;
        assert!(controlled);
        assert_eq!(
            values(&region),
            vec![Some(5.0), None, None],
            "{}",
            app.db_name
        );
        let admin = app.login("admin").await;
        let (region, _) = series(&app, &admin, "Y98", "staff_self_harm").await;
        assert_eq!(values(&region), vec![Some(5.0), Some(1.0), Some(1.0)]);
        // The chart page says there is no breakdown of staff figures, and the measures list
        // them.
        let page = app.get("/chart/R8A/staff_suicides", Some(&lead)).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(
            page.body
                .contains("never a person, so there is no breakdown by group")
        );
        let api = app.get("/api/measures", Some(&lead)).await;
        assert!(api.body.contains("\"acute_self_harm_ed\""));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acute_self_harm_by_group_full_for_the_trust_and_suppressed_for_others() {
    for db in databases().await {
        let app = App::new(db).await;
        let lead_b = app.login("lead_b").await;
        // docs/examples: 9990000042 (born 1970: 53 or 54 in 2024) twice, 9990000050 (born
        // 1995) and 9990000069 (born 1960) once each; 0042 and 0069 are women, 0050 a man.
        let page = app
            .get("/network/beyond?org=R8B&by=age_band", Some(&lead_b))
            .await;
        assert_eq!(
            page.status,
            StatusCode::OK,
            "{}: {}",
            app.db_name,
            page.body
        );
        let row = |group: &str, n: &str| {
            format!(
                "<td class=\"nhsuk-table__cell\">{group}</td><td class=\"nhsuk-table__cell\">{n}</td>"
            )
        };
        assert!(page.body.contains(&row("45 to 54", "2")), "{}", page.body);
        assert!(page.body.contains(&row("25 to 34", "1")));
        assert!(page.body.contains(&row("55 to 64", "1")));
        assert!(page.body.contains("50.0%"));
        assert!(page.body.contains("no such breakdown is offered"));
        let sex = app
            .get("/network/beyond?org=R8B&by=sex", Some(&lead_b))
            .await;
        assert!(sex.body.contains(&row("Female", "3")), "{}", sex.body);
        assert!(sex.body.contains(&row("Male", "1")));
        // Another trust's lead: every group starred, nothing to subtract.
        let lead = app.login("lead").await;
        let other = app
            .get("/network/beyond?org=R8B&by=age_band", Some(&lead))
            .await;
        assert_eq!(other.status, StatusCode::OK);
        assert!(other.body.contains(&row("45 to 54", "*")), "{}", other.body);
        for n in ["1", "2"] {
            assert!(!other.body.contains(&row("25 to 34", n)));
            assert!(!other.body.contains(&row("45 to 54", n)));
        }
        assert!(other.body.contains("Under disclosure control"));
        // Refusals: a characteristic that is not offered, a ward, an unknown organisation;
        // and the network's roles only.
        let bad = app.get("/network/beyond?by=ld_autism", Some(&lead)).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        let ward = app.get("/network/beyond?org=R8A-ASH", Some(&lead)).await;
        assert_eq!(ward.status, StatusCode::BAD_REQUEST);
        let none = app.get("/network/beyond?org=RZZ", Some(&lead)).await;
        assert_eq!(none.status, StatusCode::NOT_FOUND);
        let uploader = app.login("uploader").await;
        let r = app.get("/network/beyond", Some(&uploader)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_funnel_compares_a_peer_group_and_the_staff_rate_across_trusts() {
    for db in databases().await {
        let app = App::new(db).await;
        let id = app
            .store
            .net_set_peer_group(
                "Adult acute of the example region",
                "Ash and Cedar",
                &["R8A-ASH".to_string(), "R8B-CEDAR".to_string()],
                "admin",
            )
            .await
            .unwrap();
        let admin = app.login("admin").await;
        let r = app
            .get(
                &format!("/api/network/funnel?measure=ri_rate&level=ward&peer_group={id}"),
                Some(&admin),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}: {}", app.db_name, r.body);
        let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(v["peer_group"].as_i64(), Some(id));
        assert!(
            v["title"]
                .as_str()
                .unwrap()
                .contains("the peer group Adult acute of the example region")
        );
        let labels: Vec<&str> = v["units"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["label"].as_str().unwrap())
            .collect();
        assert!(!labels.contains(&"Birch Ward"), "{labels:?}");
        assert!(labels.len() <= 2, "{labels:?}");
        let all = app
            .get(
                "/api/network/funnel?measure=ri_rate&level=ward",
                Some(&admin),
            )
            .await;
        let v: serde_json::Value = serde_json::from_str(&all.body).unwrap();
        assert!(v["units"].as_array().unwrap().len() > labels.len() || labels.is_empty());
        // The page offers the group; an unknown group is refused.
        let page = app.get("/network/funnel", Some(&admin)).await;
        assert!(
            page.body.contains(&format!(
                "<option value=\"{id}\">Adult acute of the example region</option>"
            )),
            "{}",
            page.body
        );
        let bad = app
            .get(
                "/network/funnel?measure=ri_rate&peer_group=999",
                Some(&admin),
            )
            .await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        assert!(bad.body.contains("there is no peer group 999"));
        // The staff rate per 1,000 staff across trusts: only R8A gave headcounts.
        let r = app
            .get(
                "/api/network/funnel?measure=staff_self_harm_rate&level=trust",
                Some(&admin),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        let units = v["units"].as_array().unwrap();
        assert_eq!(units.len(), 1, "{}", r.body);
        assert_eq!(
            units[0]["denominator"].as_f64(),
            Some(4200.0 + 4210.0 + 4195.0)
        );
    }
}

/// An acute trust joins with `OrgType` acute: its page says it has no mental health wards and
/// points to its figures beyond inpatient care, instead of empty ward measures, a board report
/// of them, or their filters; a mental health trust's page is as before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_acute_trusts_page_points_to_its_figures_beyond_inpatient_care() {
    for db in databases().await {
        let app = App::new(db).await;
        let admin = app.login("admin").await;
        let orgs = "OrgCode,OrgName,OrgLevel,ParentOrgCode,OrgType\n\
                    RK9,Example Acute Hospitals NHS Trust,trust,Q98,acute\n";
        let r = app
            .post_file(&admin, "organisations", "acute.csv", orgs.as_bytes())
            .await;
        assert!(
            r.body.contains("Check before importing"),
            "{}: {}",
            app.db_name,
            r.body
        );
        let token = r.upload_token();
        let r = app
            .post_form("/uploads/confirm", Some(&admin), &format!("token={token}"))
            .await;
        assert!(r.body.contains("Imported"), "{}: {}", app.db_name, r.body);
        app.state.settled().await.unwrap();
        let page = app.get("/org/RK9", Some(&admin)).await;
        assert_eq!(
            page.status,
            StatusCode::OK,
            "{}: {}",
            app.db_name,
            page.body
        );
        assert!(page.body.contains("is an acute trust"), "{}", app.db_name);
        assert!(
            page.body.contains("href=\"/network/beyond?org=RK9\""),
            "{}",
            app.db_name
        );
        assert!(!page.body.contains("/reports/board/RK9"), "{}", app.db_name);
        // Typed by hand, its board report says where its figures are instead.
        for path in ["/reports/board/RK9", "/reports/board/RK9/pdf"] {
            let r = app.get(path, Some(&admin)).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}: {path}", app.db_name);
            assert!(
                r.body.contains("is an acute trust"),
                "{}: {path}",
                app.db_name
            );
            assert!(
                r.body.contains("/network/beyond?org=RK9"),
                "{}",
                app.db_name
            );
        }
        assert!(!page.body.contains("Wards by measure"), "{}", app.db_name);
        let mh = app.get("/org/R8A", Some(&admin)).await;
        assert_eq!(mh.status, StatusCode::OK, "{}", app.db_name);
        assert!(!mh.body.contains("is an acute trust"), "{}", app.db_name);
        assert!(mh.body.contains("/reports/board/R8A"), "{}", app.db_name);
    }
}
