//! Test databases: every test runs on SQLite, and on PostgreSQL too when
//! MHSIP_TEST_POSTGRES_URL names a server (each test gets a database of its own).
#![allow(dead_code)]

use ingest::formats::Kind;
use ingest::pseudonym::Pseudonymiser;
use ingest::{Report, Request};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use store::Store;

pub struct TestDb {
    pub name: &'static str,
    pub store: Store,
    pub dir: PathBuf,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

fn fresh_dir() -> PathBuf {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let dir = std::env::temp_dir().join(format!("mhsip-test-{}-{n}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A new, empty SQLite database, and a new PostgreSQL database when a server is configured.
pub async fn databases() -> Vec<TestDb> {
    let mut out = Vec::new();
    let dir = fresh_dir();
    let store = Store::open(&format!("sqlite://{}", dir.join("test.db").display()))
        .await
        .expect("SQLite opens");
    out.push(TestDb {
        name: "sqlite",
        store,
        dir,
    });
    if let Ok(url) = std::env::var("MHSIP_TEST_POSTGRES_URL") {
        use sqlx::Connection;
        let db = format!(
            "t_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        let mut admin = sqlx::PgConnection::connect(&url)
            .await
            .expect("PostgreSQL test server reachable");
        sqlx::query(&format!("CREATE DATABASE {db}"))
            .execute(&mut admin)
            .await
            .expect("create test database");
        let base = url
            .rsplit_once('/')
            .map_or(url.as_str(), |(b, _)| b)
            .to_string();
        let store = Store::open(&format!("{base}/{db}"))
            .await
            .expect("PostgreSQL opens");
        out.push(TestDb {
            name: "postgres",
            store,
            dir: fresh_dir(),
        });
    }
    out
}

pub fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../docs/examples")
        .join(name)
}

pub fn key() -> Pseudonymiser {
    Pseudonymiser::from_key([7; 32])
}

pub async fn import_bytes(
    db: &TestDb,
    keys: &mut Pseudonymiser,
    kind: Kind,
    name: &str,
    bytes: &[u8],
    dry_run: bool,
) -> Report {
    let req = Request {
        kind,
        file_name: name,
        bytes,
        mapping: None,
        uploaded_by: "test",
        only_trust: None,
        dry_run,
    };
    ingest::import(&db.store, keys, &req, &mut |_, _, _| {})
        .await
        .expect("no database failure")
}

/// Import one of docs/examples, expecting success.
pub async fn import_example(db: &TestDb, keys: &mut Pseudonymiser, kind: Kind) -> Report {
    let name = format!("{}.csv", kind.as_str());
    let bytes = std::fs::read(example(&name)).unwrap();
    let r = import_bytes(db, keys, kind, &name, &bytes, false).await;
    assert!(r.ok(), "{}: {name}: {:?}", db.name, r.error_lines());
    r
}

/// The whole example region, in upload order.
pub async fn import_all_examples(db: &TestDb, keys: &mut Pseudonymiser) {
    for kind in Kind::ALL {
        import_example(db, keys, kind).await;
    }
}
