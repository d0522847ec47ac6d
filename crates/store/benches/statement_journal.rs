//! SQLite's writer alone, a million restrictive-intervention rows, under the schema and
//! statement forms compared when choosing migration 0005 (docs/data-platform.md, "Import
//! speed"). Each form is timed on a fresh database file: the first upload (all rows new, then
//! COMMIT) and the same rows again (all updates). No CSV, no checking: only binding and writing.
//!
//! `cargo bench -p store --bench statement_journal [-- ROWS] [-- alloc]`: with `alloc`, a second
//! thread allocates and frees memory all the while, as the import's checker does beside the
//! writer, to show what sharing a process costs the writer.
//!
//! `-- postgres [ROWS]`: PostgreSQL's writer instead (`postgres.rs`: COPY now, multi-row INSERT
//! before), on the server named by MHSIP_BENCH_POSTGRES_URL or MHSIP_TEST_POSTGRES_URL.

#[path = "statement_journal/postgres.rs"]
mod postgres;

use rusqlite::{Connection, params_from_iter, types::Value};
use std::time::Instant;

/// The columns as the import binds them: the intervention's, then the upload's id.
fn columns() -> Vec<&'static str> {
    store::INTERVENTION_COLUMNS
        .into_iter()
        .chain(["upload_id"])
        .collect()
}
const KEY: usize = store::INTERVENTION_KEY.len();
/// Columns that are never NULL (the rest are optional fields of the record).
const REQUIRED: [&str; 14] = [
    "patient",
    "ward_code",
    "incident_start",
    "reason",
    "review_patient",
    "review_staff",
    "type_code",
    "start_min",
    "day",
    "month_start",
    "week_start",
    "injury_patient",
    "injury_staff",
    "injury_other",
];
const ROWS_PER_STATEMENT: usize = 64;

/// How the table declares its constraints.
struct Schema {
    not_null_beyond_key: bool,
    deferred_foreign_key: bool,
    null_triggers: bool,
}

/// How rows are written.
#[derive(Clone, Copy)]
enum Write {
    /// `INSERT [OR ROLLBACK] ... ON CONFLICT (key) DO UPDATE SET ...`
    Upsert { or_rollback: bool },
    /// `INSERT OR ROLLBACK ... ON CONFLICT DO NOTHING`, then `UPDATE OR ROLLBACK` for the rows
    /// of any statement that skipped some.
    InsertThenUpdate,
}

fn create_table(s: &Schema) -> String {
    let mut cols = Vec::new();
    for (i, c) in columns().iter().enumerate() {
        let ty = if [
            "trust_code",
            "incident_id",
            "intervention_id",
            "patient",
            "ward_code",
            "reason",
            "type_code",
        ]
        .contains(c)
        {
            "TEXT"
        } else {
            "BIGINT"
        };
        let not_null = i < KEY || (s.not_null_beyond_key && REQUIRED.contains(c));
        let fk = if *c == "ward_code" {
            if s.deferred_foreign_key {
                " REFERENCES wards(code) DEFERRABLE INITIALLY DEFERRED"
            } else {
                " REFERENCES wards(code)"
            }
        } else {
            ""
        };
        cols.push(format!(
            "{c} {ty}{}{fk}",
            if not_null { " NOT NULL" } else { "" }
        ));
    }
    let mut sql = format!(
        "CREATE TABLE wards (code TEXT PRIMARY KEY);\n\
         CREATE TABLE ri_interventions ({}, PRIMARY KEY (trust_code, incident_id, intervention_id));\n\
         CREATE INDEX ri_ward_day ON ri_interventions (ward_code, day);\n",
        cols.join(", ")
    );
    if s.null_triggers {
        let cond: Vec<String> = REQUIRED
            .iter()
            .map(|c| format!("NEW.{c} IS NULL"))
            .collect();
        for event in ["INSERT", "UPDATE"] {
            sql += &format!(
                "CREATE TRIGGER ri_required_{event} BEFORE {event} ON ri_interventions WHEN {} \
                 BEGIN SELECT RAISE(ROLLBACK, 'a required value is missing'); END;\n",
                cond.join(" OR ")
            );
        }
    }
    sql
}

/// Deterministic rows shaped like `mhsip bench import`'s: incidents in date order, one or two
/// interventions each, 60 wards, 50,000 patients.
fn rows(n: usize) -> Vec<Value> {
    let mut state = 7u64;
    let mut next = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let mut v = Vec::with_capacity(n * columns().len());
    let (mut i, mut incident) = (0, 0);
    while i < n {
        incident += 1;
        let day = 18_628 + (i as i64 * 1800 / n as i64);
        let patient = format!("{:032x}", (next() % 50_000) * 7919);
        let ward = format!("B{}W{}", next() % 6, next() % 10);
        for j in 0..(1 + next() % 2) {
            if i == n {
                break;
            }
            let start = day * 1440 + 600;
            v.extend([
                Value::Text("R80".into()),
                Value::Text(format!("RI{incident:08}")),
                Value::Text(format!("{}", j + 1)),
                Value::Text(patient.clone()),
                Value::Text(ward.clone()),
                Value::Integer(start),
                Value::Integer(start + 50),
                Value::Text("10".into()),
                Value::Integer(1),
                Value::Integer(1),
                Value::Text("07".into()),
                Value::Integer(start + 5),
                Value::Integer(start + 20),
                Value::Integer(day),
                Value::Integer(day - day % 30),
                Value::Integer(day - day % 7),
                Value::Integer(0),
                Value::Integer(0),
                Value::Integer(0),
                Value::Null,
                Value::Null,
                Value::Integer(1),
            ]);
            i += 1;
        }
    }
    v
}

fn statement(write: Write, rows: usize) -> String {
    let cols = columns();
    let one = format!("({})", vec!["?"; cols.len()].join(","));
    let values = vec![one.as_str(); rows].join(",");
    let verb = match write {
        Write::Upsert { or_rollback: false } => "INSERT",
        _ => "INSERT OR ROLLBACK",
    };
    let mut sql = format!(
        "{verb} INTO ri_interventions ({}) VALUES {values}",
        columns().join(", ")
    );
    match write {
        Write::Upsert { .. } => {
            let set: Vec<String> = cols[KEY..]
                .iter()
                .map(|c| format!("{c} = excluded.{c}"))
                .collect();
            sql += &format!(
                " ON CONFLICT (trust_code, incident_id, intervention_id) DO UPDATE SET {}",
                set.join(", ")
            );
        }
        Write::InsertThenUpdate => sql += " ON CONFLICT DO NOTHING",
    }
    sql
}

fn write_all(c: &Connection, write: Write, data: &[Value]) -> rusqlite::Result<()> {
    let cols = columns();
    let width = cols.len();
    let mut full = c.prepare_cached(&statement(write, ROWS_PER_STATEMENT))?;
    let update = format!(
        "UPDATE OR ROLLBACK ri_interventions SET {} WHERE trust_code = ? AND incident_id = ? AND intervention_id = ?",
        cols[KEY..]
            .iter()
            .map(|c| format!("{c} = ?"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut chunks = data.chunks_exact(width * ROWS_PER_STATEMENT);
    for chunk in chunks.by_ref() {
        let changed = full.execute(params_from_iter(chunk.iter()))?;
        if matches!(write, Write::InsertThenUpdate) && changed < ROWS_PER_STATEMENT {
            let mut up = c.prepare_cached(&update)?;
            for row in chunk.chunks_exact(width) {
                up.execute(params_from_iter(row[KEY..].iter().chain(&row[..KEY])))?;
            }
        }
    }
    let mut single = c.prepare_cached(&statement(write, 1))?;
    for row in chunks.remainder().chunks_exact(width) {
        single.execute(params_from_iter(row.iter()))?;
    }
    Ok(())
}

fn time_upload(c: &Connection, write: Write, data: &[Value]) -> rusqlite::Result<f64> {
    let t = Instant::now();
    c.execute_batch("BEGIN IMMEDIATE")?;
    write_all(c, write, data)?;
    c.execute_batch("COMMIT")?;
    Ok(t.elapsed().as_secs_f64())
}

fn run(
    name: &str,
    schema: &Schema,
    write: Write,
    data: &[Value],
) -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("mhsip-statement-journal-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("bench.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let c = Connection::open(&path)?;
    c.execute_batch("PRAGMA journal_mode = WAL;")?;
    c.execute_batch(&create_table(schema))?;
    for t in 0..6 {
        for w in 0..10 {
            c.execute("INSERT INTO wards VALUES (?1)", [format!("B{t}W{w}")])?;
        }
    }
    // The import connection's settings (store::imports::begin_import).
    c.execute_batch(
        "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -1048576; \
         PRAGMA temp_store = MEMORY; PRAGMA wal_autocheckpoint = 0;",
    )?;
    let first = time_upload(&c, write, data)?;
    c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
    let again = time_upload(&c, write, data)?;
    println!("  {name:<78} first upload {first:.2} s, same rows again {again:.2} s");
    drop(c);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// What the import's checker does to memory while the writer writes: many small strings and a
/// few large buffers, made and dropped again.
fn allocate_and_free_forever() {
    loop {
        let small: Vec<String> = (0..400_000).map(|i| format!("{i:032}")).collect();
        let large = vec![1u64; 4_000_000];
        std::hint::black_box((&small, &large));
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let data = rows(n);
    if std::env::args().any(|a| a == "postgres") {
        return postgres::main(n, &data);
    }
    let beside_allocator = std::env::args().any(|a| a == "alloc");
    if beside_allocator {
        std::thread::spawn(allocate_and_free_forever);
    }
    println!(
        "SQLite writer{}, {n} rows, {ROWS_PER_STATEMENT} rows per statement:",
        if beside_allocator {
            " beside a thread that allocates and frees"
        } else {
            " alone"
        }
    );
    let before = Schema {
        not_null_beyond_key: true,
        deferred_foreign_key: false,
        null_triggers: false,
    };
    let all_not_null_deferred = Schema {
        not_null_beyond_key: true,
        deferred_foreign_key: true,
        null_triggers: false,
    };
    let now = Schema {
        not_null_beyond_key: false,
        deferred_foreign_key: true,
        null_triggers: false,
    };
    let triggers = Schema {
        not_null_beyond_key: false,
        deferred_foreign_key: true,
        null_triggers: true,
    };
    let variants = [
        (
            "upsert, NOT NULL everywhere, immediate foreign key (before 0005)",
            &before,
            Write::Upsert { or_rollback: false },
        ),
        (
            "INSERT OR ROLLBACK upsert, NOT NULL everywhere, deferred foreign key",
            &all_not_null_deferred,
            Write::Upsert { or_rollback: true },
        ),
        (
            "INSERT OR ROLLBACK upsert, NOT NULL on keys, deferred foreign key (0005)",
            &now,
            Write::Upsert { or_rollback: true },
        ),
        (
            "the same, NOT NULL by RAISE(ROLLBACK) triggers",
            &triggers,
            Write::Upsert { or_rollback: true },
        ),
        (
            "DO NOTHING, then UPDATE OR ROLLBACK, NOT NULL everywhere",
            &all_not_null_deferred,
            Write::InsertThenUpdate,
        ),
    ];
    for round in 1..=2 {
        println!("round {round}");
        for (name, schema, write) in &variants {
            run(name, schema, *write, &data)?;
        }
    }
    Ok(())
}
