//! Accounts and the audit log on SQLite and PostgreSQL: argon2 hashes, roles bound to an
//! organisation, wrong passwords and unknown users refused alike.

mod common;
use common::*;
use domain::access::{Detail, Grant, Place, Role};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_are_hashed_and_bound_to_their_organisation() {
    for db in databases().await {
        let s = &db.store;
        let lead = Grant::new(Role::TrustLead, Some("r9a".into()), None).unwrap();
        s.create_user("lead.r9a", "correct horse battery", &lead)
            .await
            .unwrap();
        let dup = s
            .create_user("lead.r9a", "another long password", &lead)
            .await
            .unwrap_err()
            .to_string();
        assert!(dup.contains("already exists"), "{}: {dup}", db.name);
        assert!(
            s.create_user("short", "tooshort", &lead)
                .await
                .unwrap_err()
                .to_string()
                .contains("at least 12")
        );
        assert!(
            s.create_user("bad name!", "long enough password", &lead)
                .await
                .is_err()
        );

        let g = s
            .verify_user("lead.r9a", "correct horse battery")
            .await
            .unwrap()
            .expect("right password");
        assert_eq!(g, lead);
        assert_eq!(
            g.detail(&Place {
                ward: Some("R9A-ASH".into()),
                trust: Some("R9A".into())
            }),
            Detail::Full
        );
        assert_eq!(
            g.detail(&Place {
                ward: None,
                trust: Some("R9B".into())
            }),
            Detail::DisclosureControlled
        );
        assert_eq!(
            s.verify_user("lead.r9a", "wrong horse battery")
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            s.verify_user("nobody", "correct horse battery")
                .await
                .unwrap(),
            None
        );

        let (hash,): (String,) =
            sqlx::query_as("SELECT password_hash FROM users WHERE name = 'lead.r9a'")
                .fetch_one(s.pool())
                .await
                .unwrap();
        assert!(
            hash.starts_with("$argon2id$") && !hash.contains("correct horse"),
            "{hash}"
        );
        assert_eq!(
            s.users().await.unwrap()[0].trust_code.as_deref(),
            Some("R9A")
        );

        s.audit("lead.r9a", "download", "ri_rate R9A csv", None)
            .await
            .unwrap();
        let log = s.audit_log(10).await.unwrap();
        assert_eq!(
            (log[0].user_name.as_str(), log[0].action.as_str()),
            ("lead.r9a", "download")
        );
    }
}
