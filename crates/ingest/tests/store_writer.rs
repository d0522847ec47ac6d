//! The import writer when the database itself refuses a row, on SQLite and PostgreSQL, and
//! SQLite's schema after migration 0005 (imports without statement journals): the checks that
//! moved out of SQLite's declarations must still hold, and a database made before it must keep
//! every row.

mod common;
use common::*;
use sqlx::Row;
use store::{Batch, INTERVENTION_COLUMNS, INTERVENTION_KEY, UploadMeta, Val};

/// One intervention row as the writer receives it (`INTERVENTION_COLUMNS`; minutes and days
/// as stored).
fn ri_row(incident: Val, ward: &str) -> Vec<Val> {
    let day = 19_734; // 2024-01-12
    let min = day * 1440 + 14 * 60;
    vec![
        Val::Text("R8A".into()),
        incident,
        Val::Text("1".into()),
        Val::Text("0123456789abcdef0123456789abcdef".into()),
        Val::Text(ward.into()),
        Val::Int(min),
        Val::Int(min + 35),
        Val::Static("10"),
        Val::Int(1),
        Val::Int(1),
        Val::Static("01"),
        Val::Int(min + 1),
        Val::Int(min + 13),
        Val::Int(day),
        Val::Int(day - 11),
        Val::Int(day - 4),
        Val::Int(0),
        Val::Int(0),
        Val::Int(0),
        Val::NullInt,
        Val::NullInt,
    ]
}

fn ri_batch(rows: Vec<Vec<Val>>) -> Batch {
    Batch {
        table: "ri_interventions",
        cols: &INTERVENTION_COLUMNS,
        key: &INTERVENTION_KEY,
        tracked: true,
        vals: rows.into_iter().flatten().collect(),
        mode: Default::default(),
    }
}

fn meta() -> UploadMeta {
    UploadMeta {
        kind: "restrictive_interventions".into(),
        file_name: "writer-test.csv".into(),
        sha256: "0".repeat(64),
        uploaded_by: "test".into(),
        trust_code: None,
        mapping: None,
    }
}

/// The tables uploads write (every table but the programme's own: settings, accounts, notes).
fn uploaded_tables() -> impl Iterator<Item = &'static str> {
    store::TABLES.into_iter().filter(|t| {
        ![
            "meta",
            "uploads",
            "mappings",
            "users",
            "audit_log",
            "annotations",
        ]
        .contains(t)
    })
}

/// Row counts of every table an upload writes, and of the uploads themselves.
async fn table_counts(db: &TestDb) -> Vec<(&'static str, i64)> {
    let mut out = Vec::new();
    for t in std::iter::once("uploads").chain(uploaded_tables()) {
        out.push((t, db.store.count(t).await.unwrap()));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_the_database_refuses_ends_the_upload_and_nothing_is_kept() {
    for db in databases().await {
        let mut keys = key();
        import_all_examples(&db, &mut keys).await;
        let before = table_counts(&db).await;

        let mut import = db.store.begin_import(&meta()).await.unwrap();
        let good = |id: &str| ri_row(Val::Text(id.into()), "R8A-ASH");
        import
            .write(ri_batch(
                (0..100).map(|i| good(&format!("W-{i}"))).collect(),
            ))
            .await
            .expect("valid rows are written");
        // A key column left empty: refused by the database (NOT NULL), whichever engine.
        let refused = import
            .write(ri_batch(vec![
                good("W-200"),
                ri_row(Val::NullText, "R8A-ASH"),
            ]))
            .await;
        assert!(refused.is_err(), "{}: a NULL key must be refused", db.name);
        // Whatever the caller does next, nothing may be saved: on SQLite the refused statement
        // has already rolled the transaction back, and a later write must not commit by itself.
        assert!(
            import.write(ri_batch(vec![good("W-300")])).await.is_err(),
            "{}: a write after a refused one must fail",
            db.name
        );
        assert!(
            import.commit(None).await.is_err(),
            "{}: the upload cannot be committed",
            db.name
        );
        assert_eq!(table_counts(&db).await, before, "{}", db.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_for_a_ward_not_held_is_refused_by_the_database_too() {
    // The checker refuses unknown wards before writing; this is the safety net under it. On
    // SQLite the foreign key is checked at COMMIT (deferred), on PostgreSQL at once.
    for db in databases().await {
        let mut keys = key();
        import_all_examples(&db, &mut keys).await;
        let before = table_counts(&db).await;
        let mut import = db.store.begin_import(&meta()).await.unwrap();
        let written = import
            .write(ri_batch(vec![
                ri_row(Val::Text("F-1".into()), "R8A-ASH"),
                ri_row(Val::Text("F-2".into()), "R8A-NOWHERE"),
            ]))
            .await;
        let outcome = match written {
            Ok(()) => import.commit(None).await.map(|_| ()),
            Err(e) => Err(e),
        };
        let err = outcome.expect_err("an unknown ward must not be stored");
        assert!(
            err.to_string().to_lowercase().contains("foreign key"),
            "{}: {err}",
            db.name
        );
        assert_eq!(table_counts(&db).await, before, "{}", db.name);
    }
}

/// Text the writer must carry unchanged: COPY's own escapes (tab, newline, carriage return,
/// backslash, a literal `\N`), CSV's (quotes, commas), an empty string, and UTF-8 beyond ASCII.
const AWKWARD: [&str; 8] = [
    "tab\there",
    "line\nbreak\r\nwindows",
    "back\\slash\\",
    "\\N",
    "\"quoted\", with comma",
    "",
    "Ŵard — ünïcode ✓ 🏥",
    "W-plain",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_value_comes_back_as_written_and_a_rewrite_updates() {
    for db in databases().await {
        let mut keys = key();
        import_all_examples(&db, &mut keys).await;
        let before = db.store.count("ri_interventions").await.unwrap();
        let rows = |end: Val| -> Vec<Vec<Val>> {
            AWKWARD
                .iter()
                .map(|id| {
                    let mut r = ri_row(Val::Text((*id).into()), "R8A-ASH");
                    r[6] = end.clone(); // incident_end: NULL, or a value
                    r[19] = Val::Int(1); // in_care_plan
                    r
                })
                .collect()
        };
        // Two batches of one table in one upload (the staging table is reused), then commit.
        let mut import = db.store.begin_import(&meta()).await.unwrap();
        let first = rows(Val::NullInt);
        import.write(ri_batch(first[..3].to_vec())).await.unwrap();
        import.write(ri_batch(first[3..].to_vec())).await.unwrap();
        let s = import.commit(None).await.unwrap();
        assert_eq!(
            (s.rows, s.inserted, s.updated),
            (8, 8, 0),
            "{}: all new",
            db.name
        );
        // The same keys again with a value where there was NULL: all updates, no duplicates.
        let mut import = db.store.begin_import(&meta()).await.unwrap();
        import.write(ri_batch(rows(Val::Int(42)))).await.unwrap();
        let again = import.commit(None).await.unwrap();
        assert_eq!(
            (again.rows, again.inserted, again.updated),
            (8, 0, 8),
            "{}: all updates",
            db.name
        );
        assert_eq!(
            db.store.count("ri_interventions").await.unwrap(),
            before + 8,
            "{}",
            db.name
        );
        let held = sqlx::query(
            "SELECT incident_id, incident_end, in_care_plan, police_involved, upload_id FROM ri_interventions WHERE trust_code = 'R8A' AND intervention_id = '1' AND upload_id >= $1 ORDER BY incident_id",
        )
        .bind(s.upload_id)
        .fetch_all(db.store.pool())
        .await
        .unwrap();
        let mut ids: Vec<String> = held.iter().map(|r| r.get::<String, _>(0)).collect();
        let mut want: Vec<String> = AWKWARD.iter().map(|s| s.to_string()).collect();
        ids.sort();
        want.sort();
        assert_eq!(ids, want, "{}: text comes back byte for byte", db.name);
        for r in &held {
            assert_eq!(r.get::<Option<i64>, _>(1), Some(42), "{}", db.name);
            assert_eq!(r.get::<Option<i64>, _>(2), Some(1), "{}", db.name);
            assert_eq!(
                r.get::<Option<i64>, _>(3),
                None,
                "{}: NULL stays NULL",
                db.name
            );
            assert_eq!(r.get::<i64, _>(4), again.upload_id, "{}", db.name);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolled_back_upload_leaves_nothing_and_the_next_one_writes() {
    for db in databases().await {
        let mut keys = key();
        import_all_examples(&db, &mut keys).await;
        let before = table_counts(&db).await;
        let mut import = db.store.begin_import(&meta()).await.unwrap();
        import
            .write(ri_batch(vec![ri_row(Val::Text("R-1".into()), "R8A-ASH")]))
            .await
            .unwrap();
        let s = import.rollback().await.unwrap();
        assert_eq!(
            (s.rows, s.inserted, s.committed),
            (1, 1, false),
            "{}",
            db.name
        );
        assert_eq!(table_counts(&db).await, before, "{}", db.name);
        // The staging table went with the rolled-back transaction; the next upload makes its own.
        let mut import = db.store.begin_import(&meta()).await.unwrap();
        import
            .write(ri_batch(vec![ri_row(Val::Text("R-1".into()), "R8A-ASH")]))
            .await
            .unwrap();
        let s = import.commit(None).await.unwrap();
        assert_eq!((s.rows, s.inserted), (1, 1), "{}", db.name);
    }
}

/// `(table, column)` for every column PostgreSQL's schema declares NOT NULL.
fn postgres_not_null_columns() -> Vec<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../store/migrations/postgres");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let sql = std::fs::read_to_string(&f).unwrap();
        let mut table: Option<String> = None;
        for line in sql.lines() {
            let line = line.trim();
            if let Some(rest) = line.strip_prefix("CREATE TABLE ") {
                table = rest.split_whitespace().next().map(str::to_string);
            } else if line.starts_with(')') {
                table = None;
            } else if let Some(t) = &table
                && line.contains("NOT NULL")
                // Table constraints name no column of their own (`CHECK (x IS NOT NULL)`).
                && !["PRIMARY KEY", "CHECK", "CONSTRAINT", "UNIQUE", "FOREIGN KEY"]
                    .iter()
                    .any(|k| line.starts_with(k))
            {
                let column = line.split_whitespace().next().unwrap().to_string();
                out.push((t.clone(), column));
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_holds_a_value_wherever_postgres_requires_one() {
    let required = postgres_not_null_columns();
    assert!(
        required.len() > 80,
        "the PostgreSQL schema was read: {} columns",
        required.len()
    );
    for db in databases().await {
        let mut keys = key();
        import_all_examples(&db, &mut keys).await;
        // Every kind imported twice: the second time every row goes through the update path.
        import_all_examples(&db, &mut keys).await;
        let pool = db.store.pool();
        let mut with_rows = std::collections::BTreeSet::new();
        for (table, column) in &required {
            let rows: i64 = sqlx::query(&format!("SELECT COUNT(*) FROM {table}"))
                .fetch_one(pool)
                .await
                .unwrap()
                .get(0);
            let nulls: i64 = sqlx::query(&format!(
                "SELECT COUNT(*) FROM {table} WHERE {column} IS NULL"
            ))
            .fetch_one(pool)
            .await
            .unwrap_or_else(|e| panic!("{}: {table}.{column}: {e}", db.name))
            .get(0);
            assert_eq!(nulls, 0, "{}: {table}.{column} holds NULL", db.name);
            if rows > 0 {
                with_rows.insert(table.as_str());
            }
        }
        for t in uploaded_tables() {
            assert!(with_rows.contains(t), "{}: {t} held rows to check", db.name);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_database_from_before_migration_5_keeps_its_rows() {
    use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
    use std::borrow::Cow;
    let dir = std::env::temp_dir().join(format!("mhsip-migrate-5-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("old.db");

    // The schema as it was before 0005, with rows in it.
    let mut old = sqlx::migrate!("../store/migrations/sqlite");
    old.migrations = Cow::Owned(
        old.migrations
            .iter()
            .filter(|m| m.version < 5)
            .cloned()
            .collect(),
    );
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(
            SqliteConnectOptions::new()
                .filename(&file)
                .create_if_missing(true),
        )
        .await
        .unwrap();
    old.run(&pool).await.unwrap();
    for sql in [
        "INSERT INTO organisations (code, name, level, parent_code) VALUES ('Y98','R','region',NULL),('Q98','I','icb','Y98'),('R8A','T','trust','Q98'),('R8A01','S','site','R8A')",
        "INSERT INTO wards (code, name, site_code, trust_code, ward_type, sex_mix) VALUES ('R8A-ASH','Ash Ward','R8A01','R8A','adult_acute','mixed')",
        "INSERT INTO ward_beds VALUES ('R8A-ASH', 19000, 20)",
        "INSERT INTO bed_days VALUES ('R8A-ASH', 19734, 1, 19723, 19730, 18.0, 1.0, NULL)",
        "INSERT INTO patients VALUES ('p1', 1990, 'F', 'A', 'White', 'neither', NULL)",
        "INSERT INTO ri_interventions VALUES ('R8A','OLD-1','1','p1','R8A-ASH',100,135,'10',1,1,'01',101,113,19734,19723,19730,0,0,0,NULL,NULL,NULL)",
        "INSERT INTO incidents VALUES ('R8A','INC-1','self_harm','p1','R8A-ASH',100,19734,19723,19730,'low',NULL,0,NULL,NULL,NULL,NULL,NULL,NULL)",
    ] {
        sqlx::query(sql).execute(&pool).await.unwrap();
    }
    pool.close().await;

    let store = store::Store::open(&format!("sqlite://{}", file.display()))
        .await
        .expect("the database migrates");
    for (table, n) in [
        ("organisations", 4),
        ("wards", 1),
        ("ward_beds", 1),
        ("bed_days", 1),
        ("patients", 1),
        ("ri_interventions", 1),
        ("incidents", 1),
    ] {
        assert_eq!(store.count(table).await.unwrap(), n, "{table}");
    }
    let row = sqlx::query(
        "SELECT patient, ward_code, end_min, type_code FROM ri_interventions WHERE incident_id = 'OLD-1'",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(row.get::<String, _>(0), "p1");
    assert_eq!(row.get::<String, _>(1), "R8A-ASH");
    assert_eq!(row.get::<i64, _>(2), 113);
    assert_eq!(row.get::<String, _>(3), "01");
    // The indexes the measures read were made again, and the foreign keys now wait for COMMIT.
    let schema: Vec<(String, String)> = sqlx::query_as(
        "SELECT name, COALESCE(sql, '') FROM sqlite_master WHERE tbl_name = 'ri_interventions'",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert!(schema.iter().any(|(n, _)| n == "ri_ward_day"), "{schema:?}");
    assert!(
        schema.iter().any(
            |(n, sql)| n == "ri_interventions" && sql.contains("DEFERRABLE INITIALLY DEFERRED")
        ),
        "{schema:?}"
    );

    // And the migrated database takes uploads as before.
    let db = TestDb {
        name: "sqlite (migrated)",
        store,
        dir: dir.clone(),
    };
    let mut keys = key();
    import_all_examples(&db, &mut keys).await;
    assert_eq!(db.store.count("ri_interventions").await.unwrap(), 9);
    db.store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}
