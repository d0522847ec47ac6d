//! The ADHD pathway pages (issue 15 item 8) through the router, on SQLite and (when
//! MHSIP_TEST_POSTGRES_URL is set) PostgreSQL: an uploader's file of referrals is imported whole
//! (or, with any bad row, not at all, every problem named by file, line and column); the
//! service's page charts median days and appointments to the decision with SPC and shows the
//! groups; another trust's lead sees disclosure-controlled figures (no count or median of 1 to
//! 4 referrals); a ward user of another trust, and a clinician of another trust, see nothing (a clinician of the service's trust sees it in full); views and uploads
//! are audited without any referral's reference.

#[path = "../../ingest/tests/common/mod.rs"]
mod common;

use axum::http::StatusCode;
use common::databases;
use domain::access::{Grant, Role};

#[path = "support/app.rs"]
mod app;

use app::App;

const HEADER: &str = "TrustCode,ServiceCode,ReferralId,ReferralDate,AgeAtReferral,Gender,EthnicCategory,IMDDecile,ObjectiveTestDate,AppointmentsToDecision,DecisionDate";

/// Twelve decided referrals of R8A-ADHD in two months and one undecided, and three of a
/// second service (a group of 3: starred for other trusts).
fn file() -> String {
    let mut s = format!("{HEADER}\n");
    for i in 0..8 {
        // Decided in January 2025 after 100 + 10 i days, 5 appointments each.
        s.push_str(&format!(
            "R8A,R8A-ADHD,J-{i},2024-09-{:02},8,1,A,3,,5,2025-01-{:02}\n",
            1 + i,
            10 + 2 * i
        ));
    }
    for i in 0..4 {
        s.push_str(&format!(
            "R8A,R8A-ADHD,M-{i},2024-12-{:02},10,2,N,7,2025-03-01,3,2025-03-{:02}\n",
            1 + i,
            5 + i
        ));
    }
    s.push_str("R8A,R8A-ADHD,OPEN-1,2025-03-01,9,1,H,5,,,\n");
    for i in 0..3 {
        s.push_str(&format!(
            "R8A,R8A-SMALL,S-{i},2024-10-01,7,1,A,2,,4,2025-01-15\n"
        ));
    }
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn referrals_are_uploaded_whole_charted_and_disclosed() {
    for db in databases().await {
        let app = App::new(db).await;
        let db = app.db_name;
        let g = Grant::new(Role::Clinician, Some("R8A".into()), None).unwrap();
        app.store
            .create_user("clin", app::PASSWORD, &g)
            .await
            .unwrap();
        let g = Grant::new(Role::Clinician, Some("R8B".into()), None).unwrap();
        app.store
            .create_user("clin_b", app::PASSWORD, &g)
            .await
            .unwrap();
        let uploader = app.login("uploader").await;
        let lead = app.login("lead").await;
        let lead_b = app.login("lead_b").await;
        let admin = app.login("admin").await;

        // A file with bad rows: every problem named, nothing stored.
        let bad = format!(
            "{HEADER}\nR8A,R8A-ADHD,X-1,2025-01-01,,,,,2024-12-01,,\nR8B,R8B-ADHD,X-2,2025-01-01,,,,,,,\n"
        );
        let r = app
            .post_multipart(
                "/adhd/upload",
                &uploader,
                &[("mapping", "")],
                "bad.csv",
                bad.as_bytes(),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{db}: {}", r.body);
        assert!(
            r.body
                .contains("The file bad.csv was not imported: nothing was changed.")
        );
        assert!(
            r.body
                .contains("bad.csv:2:33: ObjectiveTestDate: is before the referral"),
            "{}",
            r.body
        );
        assert!(
            r.body
                .contains("bad.csv:3:1: TrustCode: &#39;R8B&#39; is another trust; expected R8A"),
            "{}",
            r.body
        );
        assert!(
            app.store.adhd_services(None).await.unwrap().is_empty(),
            "{db}: nothing stored"
        );
        // A lead cannot upload; the uploader can.
        let r = app
            .post_multipart("/adhd/upload", &lead, &[], "f.csv", file().as_bytes())
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = app
            .post_multipart(
                "/adhd/upload",
                &uploader,
                &[],
                "referrals.csv",
                file().as_bytes(),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{db}: {}", r.body);
        assert!(
            r.body
                .contains("referrals.csv: 16 referrals imported (16 new, 0 updated)."),
            "{}",
            r.body
        );
        // Uploaded again: replaced, never duplicated.
        let r = app
            .post_multipart(
                "/adhd/upload",
                &uploader,
                &[],
                "referrals.csv",
                file().as_bytes(),
            )
            .await;
        assert!(
            r.body.contains("16 referrals imported (0 new, 16 updated)"),
            "{}",
            r.body
        );
        assert_eq!(app.store.adhd_referral_count("R8A-ADHD").await.unwrap(), 13);

        // The trust's lead: exact figures.
        let page = app.get("/adhd", Some(&lead)).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("href=\"/adhd/R8A-ADHD\""));
        let r = app.get("/adhd/R8A-ADHD", Some(&lead)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let b = &r.body;
        assert!(b.contains("<svg"), "the SPC chart");
        assert!(b.contains("Median days from referral to the diagnostic decision"));
        // January: 8 decisions after 131 + i days (i = 0 to 7): median (134 + 135) / 2 = 134.5.
        assert!(
            b.contains("<th scope=\"row\">Jan 2025</th><td>8</td><td>134.5</td>"),
            "{b}"
        );
        assert!(
            b.contains("<th scope=\"row\">Feb 2025</th><td>0</td><td>–</td>"),
            "a gap"
        );
        assert!(b.contains("First objective attention test") || b.contains("2025-03-01"));
        assert!(b.contains("By ethnic group") && b.contains("Black or Black British"));
        let r = app
            .get("/adhd/R8A-ADHD?measure=appointments", Some(&lead))
            .await;
        assert!(
            r.body
                .contains("<th scope=\"row\">Jan 2025</th><td>8</td><td>5.0</td>"),
            "{}",
            r.body
        );
        assert_eq!(
            app.get("/adhd/R8A-ADHD?measure=nonsense", Some(&lead))
                .await
                .status,
            StatusCode::BAD_REQUEST
        );
        let small = app.get("/adhd/R8A-SMALL", Some(&lead)).await.body;
        assert!(small.contains("<td>3</td>"), "exact inside the trust");

        // Another trust's lead: controlled; a group of 3 and a month of 4 are starred.
        let r = app.get("/adhd/R8A-SMALL", Some(&lead_b)).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("Disclosure control applies"));
        assert!(!r.body.contains("<td>3</td>"), "{}", r.body);
        let r = app.get("/adhd/R8A-ADHD", Some(&lead_b)).await;
        assert!(
            r.body
                .contains("<th scope=\"row\">Mar 2025</th><td>*</td><td>*</td>"),
            "{}",
            r.body
        );
        assert!(
            r.body
                .contains("<th scope=\"row\">Jan 2025</th><td>10</td><td>134.5</td>"),
            "{}",
            r.body
        );
        for n in 1..=4 {
            assert!(
                !r.body.contains(&format!("<td>{n}</td>")),
                "a count of {n}: {}",
                r.body
            );
        }
        // An admin sees every service; a clinician of the trust (whose tests feed the pathway)
        // sees its service in full; a clinician of another trust sees none.
        assert_eq!(
            app.get("/adhd/R8A-ADHD", Some(&admin)).await.status,
            StatusCode::OK
        );
        let clin = app.login("clin").await;
        assert_eq!(
            app.get("/adhd/R8A-ADHD", Some(&clin)).await.status,
            StatusCode::OK
        );
        let clin_b = app.login("clin_b").await;
        assert_eq!(
            app.get("/adhd/R8A-ADHD", Some(&clin_b)).await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            app.get("/adhd/NOPE-ADHD", Some(&lead)).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(app.get("/adhd", None).await.status, StatusCode::SEE_OTHER);

        // Audited: the upload and the views, never a referral's reference.
        let log = app.store.audit_log(200).await.unwrap();
        assert!(
            log.iter()
                .any(|a| a.action == "upload" && a.target.contains("adhd_referrals referrals.csv"))
        );
        assert!(
            log.iter()
                .any(|a| a.action == "adhd_service_viewed" && a.user_name == "lead_b")
        );
        for a in &log {
            let text = format!("{} {} {:?}", a.action, a.target, a.detail);
            assert!(!text.contains("J-1") && !text.contains("OPEN-1"), "{text}");
        }
    }
}
