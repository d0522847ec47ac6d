//! PostgreSQL's writer alone: the same million restrictive-intervention rows written through
//! `store::Import` in batches of 20,000 rows, as `ingest` sends them (COPY into a staging
//! table, then one upsert per 200,000 rows), and, for comparison, the multi-row INSERT that
//! imports used before (500 rows per statement, bound through sqlx's `Any` driver). Each on a fresh database: the
//! first upload (all rows new, then COMMIT) and the same rows again (all updates).
//!
//! `MHSIP_BENCH_POSTGRES_URL=postgres://... cargo bench -p store --bench statement_journal --
//! postgres [ROWS]` (or `MHSIP_TEST_POSTGRES_URL`, as `scripts/postgres-for-tests.sh` prints).

use rusqlite::types::Value;
use sqlx::{Connection, PgConnection};
use std::time::Instant;
use store::{Batch, INTERVENTION_COLUMNS, INTERVENTION_KEY, Store, UploadMeta, Val};

type Error = Box<dyn std::error::Error>;

/// Rows per batch, as `ingest` hands them to the writer.
const BATCH_ROWS: usize = 20_000;
/// Rows per statement of the multi-row INSERT used before.
const INSERT_ROWS: usize = 500;

pub fn main(n: usize, data: &[Value]) -> Result<(), Error> {
    let url = std::env::var("MHSIP_BENCH_POSTGRES_URL")
        .or_else(|_| std::env::var("MHSIP_TEST_POSTGRES_URL"))
        .map_err(|_| "set MHSIP_BENCH_POSTGRES_URL (or MHSIP_TEST_POSTGRES_URL) to a server")?;
    // The rows as the import hands them over: the intervention's columns (the upload's id
    // follows, added by the writer).
    let width = INTERVENTION_COLUMNS.len();
    let vals: Vec<Val> = data
        .chunks_exact(width + 1)
        .flat_map(|row| row[..width].iter().map(to_val))
        .collect();
    let rt = tokio::runtime::Runtime::new()?;
    println!("PostgreSQL writer alone, {n} rows:");
    for round in 1..=2 {
        println!("round {round}");
        for (name, copy) in [
            (
                "COPY into a staging table, one upsert per 200,000 rows (now)",
                true,
            ),
            (
                "multi-row INSERT ... ON CONFLICT, 500 rows per statement (before)",
                false,
            ),
        ] {
            let (first, again) = rt.block_on(run(&url, copy, &vals))?;
            println!(
                "  {name:<68} first upload {first:.2} s ({:.0} rows/s), same rows again {again:.2} s ({:.0} rows/s)",
                n as f64 / first,
                n as f64 / again
            );
        }
    }
    Ok(())
}

fn to_val(v: &Value) -> Val {
    match v {
        Value::Integer(i) => Val::Int(*i),
        Value::Real(f) => Val::Real(*f),
        Value::Text(s) => Val::Text(s.clone()),
        _ => Val::NullInt,
    }
}

/// A fresh database on the server, with the schema, the wards and their organisations.
async fn fresh(url: &str) -> Result<(Store, String, String), Error> {
    let db = format!("mhsip_bench_{}", std::process::id());
    let mut admin = PgConnection::connect(url).await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
        .execute(&mut admin)
        .await?;
    sqlx::query(&format!("CREATE DATABASE {db}"))
        .execute(&mut admin)
        .await?;
    admin.close().await?;
    let base = url.rsplit_once('/').map_or(url, |(b, _)| b);
    let store = Store::open(&format!("{base}/{db}")).await?;
    let mut orgs = vec![
        org("Y00", "Region", None),
        org("QA0", "Icb", Some("Y00")),
        org("R80", "Trust", Some("QA0")),
    ];
    let mut wards = Vec::new();
    for s in 0..6 {
        orgs.push(org(&format!("R80S{s}"), "Site", Some("R80")));
        for w in 0..10 {
            wards.extend([
                Val::Text(format!("B{s}W{w}")),
                Val::Text(format!("Ward {w}")),
                Val::Text(format!("R80S{s}")),
                Val::Static("R80"),
                Val::Static("QA0"),
                Val::Static("Y00"),
                Val::Static("acute"),
                Val::Static("mixed"),
            ]);
        }
    }
    let mut import = store.begin_import(&meta("organisations")).await?;
    import
        .write(Batch {
            table: "organisations",
            cols: &["code", "name", "level", "parent_code"],
            key: &["code"],
            tracked: true,
            vals: orgs.into_iter().flatten().collect(),
            mode: Default::default(),
        })
        .await?;
    import
        .write(Batch {
            table: "wards",
            cols: &[
                "code",
                "name",
                "site_code",
                "trust_code",
                "icb_code",
                "region_code",
                "ward_type",
                "sex_mix",
            ],
            key: &["code"],
            tracked: true,
            vals: wards,
            mode: Default::default(),
        })
        .await?;
    import.commit(None).await?;
    Ok((store, base.to_string(), db))
}

fn org(code: &str, level: &'static str, parent: Option<&str>) -> [Val; 4] {
    [
        Val::text(code),
        Val::text(code),
        Val::Static(level),
        Val::text_opt(parent.map(str::to_string)),
    ]
}

fn meta(kind: &str) -> UploadMeta {
    UploadMeta {
        kind: kind.into(),
        file_name: "bench.csv".into(),
        sha256: "0".repeat(64),
        uploaded_by: "bench".into(),
        trust_code: None,
        mapping: None,
    }
}

/// Both uploads on a fresh database; the database is dropped afterwards.
async fn run(url: &str, copy: bool, vals: &[Val]) -> Result<(f64, f64), Error> {
    let (store, _, db) = fresh(url).await?;
    let mut times = [0.0; 2];
    for t in &mut times {
        let start = Instant::now();
        if copy {
            upload_through_import(&store, vals).await?;
        } else {
            upload_with_multi_row_insert(&store, vals).await?;
        }
        *t = start.elapsed().as_secs_f64();
    }
    let rows = store.count("ri_interventions").await?;
    assert_eq!(rows as usize, vals.len() / INTERVENTION_COLUMNS.len());
    store.close().await;
    let mut admin = PgConnection::connect(url).await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
        .execute(&mut admin)
        .await?;
    Ok((times[0], times[1]))
}

/// What an import does now: `store::Import`, batches of 20,000 rows, commit (with its counts).
async fn upload_through_import(store: &Store, vals: &[Val]) -> Result<(), Error> {
    let width = INTERVENTION_COLUMNS.len();
    let mut import = store
        .begin_import(&meta("restrictive_interventions"))
        .await?;
    for chunk in vals.chunks(width * BATCH_ROWS) {
        import
            .write(Batch {
                table: "ri_interventions",
                cols: &INTERVENTION_COLUMNS,
                key: &INTERVENTION_KEY,
                tracked: true,
                vals: chunk.to_vec(),
                mode: Default::default(),
            })
            .await?;
    }
    import.commit(None).await?;
    Ok(())
}

/// What an import did before: a pooled `Any` transaction, `INSERT ... VALUES (...) x 500 ON
/// CONFLICT DO UPDATE`, each value bound as a parameter (the rows counted before and after,
/// as the import does).
async fn upload_with_multi_row_insert(store: &Store, vals: &[Val]) -> Result<(), Error> {
    let cols: Vec<&str> = INTERVENTION_COLUMNS
        .iter()
        .copied()
        .chain(["upload_id"])
        .collect();
    let width = INTERVENTION_COLUMNS.len();
    let set: Vec<String> = cols[INTERVENTION_KEY.len()..]
        .iter()
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    let statement = |rows: usize| {
        let mut n = 0;
        let values: Vec<String> = (0..rows)
            .map(|_| {
                let row: Vec<String> = (0..cols.len())
                    .map(|_| {
                        n += 1;
                        format!("${n}")
                    })
                    .collect();
                format!("({})", row.join(","))
            })
            .collect();
        format!(
            "INSERT INTO ri_interventions ({}) VALUES {} ON CONFLICT ({}) DO UPDATE SET {}",
            cols.join(", "),
            values.join(","),
            INTERVENTION_KEY.join(", "),
            set.join(", ")
        )
    };
    let full = statement(INSERT_ROWS);
    let mut tx = store.pool().begin().await?;
    let _: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM ri_interventions")
        .fetch_one(&mut *tx)
        .await?;
    for chunk in vals.chunks(width * INSERT_ROWS) {
        let rows = chunk.len() / width;
        let sql = if rows == INSERT_ROWS {
            full.clone()
        } else {
            statement(rows)
        };
        let mut q = sqlx::query(&sql);
        for row in chunk.chunks_exact(width) {
            for v in row.iter().cloned().chain([Val::Int(1)]) {
                q = match v {
                    Val::Int(i) => q.bind(i),
                    Val::Real(f) => q.bind(f),
                    Val::Text(s) => q.bind(s),
                    Val::Static(s) => q.bind(s),
                    Val::Shared(s) => q.bind(s.to_string()),
                    Val::NullInt => q.bind(None::<i64>),
                    Val::NullReal => q.bind(None::<f64>),
                    Val::NullText => q.bind(None::<String>),
                };
            }
        }
        q.execute(&mut *tx).await?;
    }
    let _: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM ri_interventions")
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}
