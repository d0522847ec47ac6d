//! The disclosure walk: every page, download and API route that shows figures about an
//! organisation, for every identity that sees another organisation under disclosure control
//! (a programme viewer; a trust lead looking at another trust, the ICB and the region), on a
//! generated region whose monthly counts run from 0 to about 15, so every rule is met often.
//! What comes back is parsed, and the test fails if any figure reveals a count from 1 to 4,
//! directly or by difference:
//!
//! - every count shown is `*` or a multiple of 5, and so is every count that a shown rate or
//!   percentage gives back with its denominator (so every difference between figures, a trust
//!   less its wards or a total less the other groups, is a multiple of 5 too);
//! - a suppressed figure takes everything derived from it (rates, intervals, ratios);
//! - medians are shown only over 5 or more events; event-level charts show no event;
//! - in a breakdown, the suppressed groups never hold 1 to 4 events between them;
//! - another trust's uploads are not listed;
//! - the ward and board reports pass the summaries' check; FREED waiting lists of a controlled
//!   trust show only counts that pass it, and no referral;
//! - a controlled ward's ligature register shows only its counts (open, high, extreme,
//!   escalated points: `*` or multiples of 5) on `/ligature` and in the API; its register, its
//!   points, its trust's escalation list and its photos are refused.
//!
//! Runs on SQLite and, when MHSIP_TEST_POSTGRES_URL is set, PostgreSQL.

#[path = "../../ingest/tests/common/mod.rs"]
mod common;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{TestDb, databases, import_bytes, key};
use domain::access::{Grant, Role};
use domain::measures::{
    Measure, Stratifier, beyond_inpatient_catalogue, catalogue, freed_catalogue, ligature_catalogue,
};
use http_body_util::BodyExt;
use ingest::formats::Kind;
use serde_json::Value;
use std::fmt::Write;
use tower::ServiceExt;

const PASSWORD: &str = "correct horse battery";

/// A small deterministic generator (the test must not depend on a random seed).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

/// A valid test-range NHS number (999 000 0000 to 999 999 9999) from a serial.
fn nhs_number(serial: u64) -> String {
    (serial..)
        .map(|s| format!("999{:06}", s % 1_000_000))
        .find_map(|nine| {
            let sum: u32 = nine
                .bytes()
                .zip((2..=10).rev())
                .map(|(b, w)| u32::from(b - b'0') * w)
                .sum();
            match 11 - sum % 11 {
                11 => Some(format!("{nine}0")),
                10 => None,
                c => Some(format!("{nine}{c}")),
            }
        })
        .unwrap()
}

const WARDS: [&str; 3] = ["R8A-ASH", "R8A-BIRCH", "R8B-CEDAR"];
const ETHNIC: [&str; 6] = ["A", "A", "A", "M", "N", "H"];

/// The example region's organisations and wards, with 24 months of patients, stays, bed days,
/// restrictive interventions and self-harm incidents made up at rates that give monthly
/// counts from 0 to about 15 on each ward.
async fn generated_region(db: &TestDb) {
    let mut keys = key();
    let examples = |name: &str| std::fs::read(common::example(name)).unwrap();
    let mut files: Vec<(Kind, String)> = Vec::new();
    let mut rng = Lcg(20261202);
    let (mut patients, mut stays) = (
        String::from("NHSNumber,PersonBirthDate,Gender,EthnicCategory,LDAutismFlag\n"),
        String::from("WardStayId,NHSNumber,WardCode,StartDateWardStay,EndDateWardStay\n"),
    );
    let mut on_ward: Vec<Vec<String>> = vec![Vec::new(); WARDS.len()];
    for i in 0..90u64 {
        let nhs = nhs_number(1000 + i * 7);
        let ward = (i % 3) as usize;
        let ethnic = ETHNIC[rng.below(ETHNIC.len() as u64) as usize];
        let _ = writeln!(
            patients,
            "{nhs},{}-03-0{},{},{ethnic},{}",
            1960 + rng.below(40),
            1 + rng.below(8),
            1 + rng.below(2),
            if rng.below(6) == 0 { "Y" } else { "N" }
        );
        let _ = writeln!(stays, "S{i},{nhs},{},2023-01-01,", WARDS[ward]);
        on_ward[ward].push(nhs);
    }
    let mut bed_days = String::from("WardCode,Month,OccupiedBedDays,LeaveBedDays\n");
    let mut ri = String::from(
        "RestrictiveIntIncID,RestrictiveIntTypeID,NHSNumber,WardCode,StartDateRestrictiveIntInc,StartTimeRestrictiveIntInc,EndDateRestrictiveIntInc,EndTimeRestrictiveIntInc,RestrictiveIntReason,PostIncidentReviewPatient,PostIncidentReviewStaff,RestrictiveIntType,StartDateRestrictiveIntType,StartTimeRestrictiveIntType,EndDateRestrictiveIntType,EndTimeRestrictiveIntType,PatientInjury,StaffInjury,OtherPersonInjury\n",
    );
    let mut incidents = String::from(
        "IncidentID,IncidentKind,NHSNumber,WardCode,IncidentDate,IncidentTime,PhysicalHarm,PsychologicalHarm,OnLeave,SexualSafetyCategory,PerpetratorType,VictimType,PoliceInformed,SafeguardingReferral\n",
    );
    let mut serial = 0;
    for (w, ward) in WARDS.iter().enumerate() {
        for year in [2023, 2024] {
            for month in 1..=12 {
                let _ = writeln!(
                    bed_days,
                    "{ward},{year}-{month:02},{},{}",
                    400 + rng.below(200),
                    rng.below(30)
                );
                for _ in 0..rng.below(16) {
                    serial += 1;
                    let patient = &on_ward[w][rng.below(on_ward[w].len() as u64) as usize];
                    let day = 1 + rng.below(28);
                    let (start, minutes) = (8 + rng.below(10), 5 + rng.below(50));
                    let kind = ["01", "09", "14", "05"][rng.below(4) as usize];
                    let review = if rng.below(3) == 0 { "N" } else { "Y" };
                    let _ = writeln!(
                        ri,
                        "RI-{serial},1,{patient},{ward},{year}-{month:02}-{day:02},{start:02}:00,{year}-{month:02}-{day:02},{start:02}:59,10,{review},Y,{kind},{year}-{month:02}-{day:02},{start:02}:00,{year}-{month:02}-{day:02},{start:02}:{minutes:02},N,N,N"
                    );
                }
                for _ in 0..rng.below(10) {
                    serial += 1;
                    let patient = &on_ward[w][rng.below(on_ward[w].len() as u64) as usize];
                    let day = 1 + rng.below(28);
                    let harm = ["none", "low", "moderate"][rng.below(3) as usize];
                    let leave = if rng.below(5) == 0 { "Y" } else { "N" };
                    let _ = writeln!(
                        incidents,
                        "DX-{serial},self_harm,{patient},{ward},{year}-{month:02}-{day:02},12:00,{harm},low,{leave},,,,N,N"
                    );
                }
            }
        }
    }
    files.push((Kind::Patients, patients));
    files.push((Kind::WardStays, stays));
    files.push((Kind::BedDays, bed_days));
    files.push((Kind::RestrictiveInterventions, ri));
    files.push((Kind::Incidents, incidents));
    // Beyond inpatient care (issue 12): each trust's patients' self-harm in acute settings and
    // its staff's monthly counts (R8A with its headcount), 0 to 9 a month, so that the counts
    // run from 1 to 4 and past 5. A generator of their own, so the others' files stay as they
    // were.
    let mut rng2 = Lcg(20261203);
    let mut acute = String::from(
        "IncidentID,OrgCode,NHSNumber,IncidentDate,IncidentTime,Setting,PhysicalHarm\n",
    );
    let mut staff = String::from("OrgCode,Month,StaffSelfHarm,StaffSuicides,StaffHeadcount\n");
    for (t, trust) in ["R8A", "R8B"].iter().enumerate() {
        for year in [2023, 2024] {
            for month in 1..=12u64 {
                let pool = &on_ward[(t + month as usize) % 3];
                for i in 0..rng2.below(10) {
                    let patient = &pool[rng2.below(pool.len() as u64) as usize];
                    let setting =
                        ["emergency_department", "acute_ward", "other"][rng2.below(3) as usize];
                    let _ = writeln!(
                        acute,
                        "AC-{trust}-{year}-{month}-{i},{trust},{patient},{year}-{month:02}-{:02},,{setting},low",
                        1 + rng2.below(28)
                    );
                }
                let headcount = if t == 0 {
                    (3000 + rng2.below(500)).to_string()
                } else {
                    String::new()
                };
                let _ = writeln!(
                    staff,
                    "{trust},{year}-{month:02},{},{},{headcount}",
                    rng2.below(10),
                    rng2.below(3)
                );
            }
        }
    }
    files.push((Kind::AcuteSelfHarm, acute));
    files.push((Kind::StaffHarm, staff));
    for kind in [Kind::Organisations, Kind::Wards] {
        let name = format!("{}.csv", kind.as_str());
        let r = import_bytes(db, &mut keys, kind, &name, &examples(&name), false).await;
        assert!(r.ok(), "{name}: {:?}", r.error_lines());
    }
    for (kind, text) in files {
        let name = format!("generated-{}.csv", kind.as_str());
        let r = import_bytes(db, &mut keys, kind, &name, text.as_bytes(), false).await;
        assert!(r.ok(), "{name}: {:?}", r.error_lines());
    }
    // FREED: the example services, referrals and contacts, and up to 30 more referrals a
    // service still waiting, so that the counts on the waiting lists run past 5.
    for kind in [
        Kind::FreedServices,
        Kind::FreedReferrals,
        Kind::FreedContacts,
        Kind::FreedPauses,
        Kind::FreedDischarges,
    ] {
        let name = format!("{}.csv", kind.as_str());
        let r = import_bytes(db, &mut keys, kind, &name, &examples(&name), false).await;
        assert!(r.ok(), "{name}: {:?}", r.error_lines());
    }
    let mut referrals = String::from(
        "ServiceCode,ServiceRequestId,NHSNumber,ReferralRequestReceivedDate,ReferralRequestReceivedTime,SourceOfReferral,AgeServReferRecDate,FirstEpisode,OnsetDate,EDDiagnosisGroup,ClinRespPriorityType\n",
    );
    for (s, service) in ["R8A-FREED", "R8B-FREED"].iter().enumerate() {
        for i in 0..rng.below(31) {
            let _ = writeln!(
                referrals,
                "{service},GEN-{i},{},2024-03-0{},09:00,gp,{},Y,2023-11,AN,routine",
                nhs_number(50_000 + s as u64 * 1000 + i * 3),
                1 + rng.below(8),
                16 + rng.below(10)
            );
        }
    }
    let r = import_bytes(
        db,
        &mut keys,
        Kind::FreedReferrals,
        "generated-freed_referrals.csv",
        referrals.as_bytes(),
        false,
    )
    .await;
    assert!(r.ok(), "generated FREED referrals: {:?}", r.error_lines());
    ligature_registers(db).await;
}

const LIGATURE_HEADER: &str = "WardCode,AuditDate,Assessor,AreaCode,AreaName,Tier,PointRef,Finding,Location,Description,PointType,HeightBand,Likelihood,Consequence,Controls,ResidualLikelihood,ResidualConsequence,ReviewDate";

/// A ligature register for each ward, imported as the trusts' spreadsheets through
/// `ingest::ligature::import_audit` (two audits, the second removing each ward's first point),
/// sized so that its counts run from 1 to 4 and past 5: 8, 4 and 13 points found, so 7, 3 and
/// 12 open; a point in a tier 2 or 3 area at a high or extreme residual risk held by staff
/// vigilance alone is escalated. A photo of each ward's second point.
async fn ligature_registers(db: &TestDb) {
    for (ward, trust, points) in [
        ("R8A-ASH", "R8A", 8),
        ("R8A-BIRCH", "R8A", 4),
        ("R8B-CEDAR", "R8B", 13),
    ] {
        for (i, date) in ["2024-01-10", "2024-07-10"].iter().enumerate() {
            let mut csv = format!("{LIGATURE_HEADER}\n");
            for p in 0..points {
                let finding = match (i, p) {
                    (0, _) => "new",
                    (_, 0) => "removed",
                    _ => "present",
                };
                let tier = [3, 3, 2, 1][p % 4];
                let (rl, rc) = [(3, 5), (2, 4), (1, 3)][p % 3];
                let controls = if p % 2 == 0 {
                    "staff_vigilance"
                } else {
                    "observation"
                };
                let _ = writeln!(
                    csv,
                    "{ward},{date},Assessor,AREA-{},Area {},{tier},P-{p:02},{finding},Spot {p},Fitting {p},door,high,4,5,{controls},{rl},{rc},2024-07-10",
                    p % 4,
                    p % 4
                );
            }
            let name = format!("ligature-{ward}-{date}.csv");
            let up = ingest::ligature::AuditUpload {
                file: &name,
                bytes: csv.as_bytes(),
                mapping: &ingest::mapping::Compiled::default(),
                uploaded_by: "test",
                only_trust: None,
                now: 0,
                dry_run: false,
            };
            let r = ingest::ligature::import_audit(&db.store, &up)
                .await
                .unwrap();
            assert!(r.is_ok(), "{name}: {:?}", r.err());
        }
        let jpeg = [
            0xFF, 0xD8, 0xFF, 0xDB, 0x00, 0x04, 0x00, 0x01, 0xFF, 0xDA, 0x00, 0x02, 0x12, 0x34,
            0xFF, 0xD9,
        ];
        let (kind, clean) =
            ligature::photo::clean(&jpeg, ligature::photo::MAX_PHOTO_BYTES).unwrap();
        db.store
            .add_ligature_photo(
                ward,
                trust,
                "P-01",
                None,
                kind.content_type(),
                &clean,
                "test",
                0,
            )
            .await
            .unwrap();
    }
}

struct App {
    router: Router,
    store: store::Store,
}

impl App {
    async fn new(db: TestDb) -> App {
        generated_region(&db).await;
        for (name, role, trust) in [
            ("viewer", Role::ProgrammeViewer, None),
            ("lead", Role::TrustLead, Some("R8A")),
            ("admin", Role::ProgrammeAdmin, None),
        ] {
            let g = Grant::new(role, trust.map(Into::into), None).unwrap();
            db.store.create_user(name, PASSWORD, &g).await.unwrap();
        }
        let config = web::Config {
            data_dir: db.dir.clone(),
            ..web::Config::default()
        };
        let state = web::AppState::new(db.store.clone(), key(), config)
            .await
            .unwrap();
        App {
            router: web::router(state),
            store: db.store,
        }
    }

    async fn send(&self, req: Request<Body>) -> (StatusCode, Option<String>, String) {
        let r = self.router.clone().oneshot(req).await.unwrap();
        let status = r.status();
        let cookie = r
            .headers()
            .get(header::SET_COOKIE)
            .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string());
        let bytes = r.into_body().collect().await.unwrap().to_bytes();
        (status, cookie, String::from_utf8_lossy(&bytes).into_owned())
    }

    async fn get(&self, path: &str, cookie: &str) -> String {
        let req = Request::get(path)
            .header(header::COOKIE, cookie)
            .body(Body::empty())
            .unwrap();
        let (status, _, body) = self.send(req).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        body
    }

    /// The status of a GET, whatever it is.
    async fn status(&self, path: &str, cookie: &str) -> StatusCode {
        let req = Request::get(path)
            .header(header::COOKIE, cookie)
            .body(Body::empty())
            .unwrap();
        self.send(req).await.0
    }

    async fn login(&self, name: &str) -> String {
        let req = Request::post("/login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("sec-fetch-site", "same-origin")
            .body(Body::from(format!(
                "username={name}&password=correct+horse+battery&next=/"
            )))
            .unwrap();
        let (status, cookie, body) = self.send(req).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
        cookie.unwrap()
    }
}

/// Problems found, with where they were found.
#[derive(Default)]
struct Findings(Vec<String>);

impl Findings {
    fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if !ok && self.0.len() < 40 {
            self.0.push(what());
        }
    }
}

fn is_multiple_of_five(x: f64) -> bool {
    let r = (x / 5.0).round() * 5.0;
    (x - r).abs() < 0.5
}

/// A shown count: `*`, empty, or a multiple of 5.
fn shown_count_ok(cell: &str) -> bool {
    match cell.trim() {
        "" | "*" => true,
        c => c.parse::<f64>().is_ok_and(is_multiple_of_five),
    }
}

/// One row of a chart's data table (CSV download, API points): the checks every row passes.
fn check_row(
    found: &mut Findings,
    place: &str,
    m: &Measure,
    numerator: &str,
    denominator: &str,
    value: Option<f64>,
) {
    let statistic = m.is_statistic();
    if statistic {
        // The denominator is the number of restraints the median is the middle of.
        found.check(shown_count_ok(denominator), || {
            format!("{place}: median over {denominator} events")
        });
        let events_shown = denominator.parse::<f64>().is_ok_and(|n| n >= 5.0);
        found.check(value.is_none() || events_shown, || {
            format!("{place}: a median shown over {denominator} events")
        });
        found.check(numerator == "*" || events_shown, || {
            format!("{place}: median {numerator} shown over {denominator} events")
        });
        return;
    }
    found.check(shown_count_ok(numerator), || {
        format!("{place}: numerator {numerator}")
    });
    if m.is_proportion() {
        found.check(shown_count_ok(denominator), || {
            format!("{place}: denominator {denominator}")
        });
    }
    if let Some(v) = value {
        found.check(numerator != "*", || {
            format!("{place}: value {v} beside a suppressed count")
        });
        // What the value gives back with its denominator is a shown count too.
        if let (true, Ok(d)) = (m.is_rate() || m.is_proportion(), denominator.parse::<f64>()) {
            let implied = v * d / m.multiplier;
            // Bed days are shown rounded to 5: allow for that in the count they give back.
            let slack = if m.is_rate() {
                v * 2.5 / m.multiplier
            } else {
                0.0
            };
            let r = (implied / 5.0).round() * 5.0;
            found.check(r >= 5.0 && (implied - r).abs() < 0.5 + slack, || {
                format!("{place}: value {v} over {d} gives back a count of {implied:.2}")
            });
        }
    }
}

fn csv_rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

/// The organisations each identity sees under disclosure control.
fn controlled(identity: &str) -> &'static [&'static str] {
    match identity {
        "viewer" => &[
            "Y98",
            "Q98",
            "R8A",
            "R8B",
            "R8A-ASH",
            "R8A-BIRCH",
            "R8B-CEDAR",
        ],
        _ => &["Y98", "Q98", "R8B", "R8B-CEDAR"],
    }
}

async fn walk_charts(app: &App, found: &mut Findings, identity: &str, cookie: &str) {
    for org in controlled(identity) {
        // FREED's measures too (a trust's and the region's count their services' referrals),
        // and the ligature registers' (open high-risk points are counts like any other).
        for m in catalogue()
            .into_iter()
            .chain(freed_catalogue())
            .chain(ligature_catalogue())
            .chain(beyond_inpatient_catalogue())
        {
            for period in ["month", "week"] {
                let place = format!("{identity} {org} {} {period}", m.id);
                let csv = app
                    .get(
                        &format!("/chart/{org}/{}/download/csv?period={period}", m.id),
                        cookie,
                    )
                    .await;
                let rows = csv_rows(&csv);
                if m.is_event_level() {
                    found.check(rows.is_empty(), || {
                        format!("{place}: {} event-level rows", rows.len())
                    });
                }
                for r in &rows {
                    check_row(
                        found,
                        &format!("{place} csv {}", r[0]),
                        &m,
                        &r[1],
                        &r[2],
                        r[3].parse().ok(),
                    );
                }
                let api: Value = serde_json::from_str(
                    &app.get(
                        &format!("/api/series/{org}/{}?period={period}", m.id),
                        cookie,
                    )
                    .await,
                )
                .unwrap();
                found.check(api["disclosure_controlled"] == true, || {
                    format!("{place}: API not marked disclosure-controlled")
                });
                let points = api["points"].as_array().cloned().unwrap_or_default();
                found.check(points.len() == rows.len(), || {
                    format!("{place}: API and download disagree")
                });
                for p in &points {
                    check_row(
                        found,
                        &format!("{place} api {}", p["period"]),
                        &m,
                        p["numerator"].as_str().unwrap_or(""),
                        p["denominator"].as_str().unwrap_or(""),
                        p["value"].as_f64(),
                    );
                }
                if period == "month" {
                    let page = app.get(&format!("/chart/{org}/{}", m.id), cookie).await;
                    if m.is_event_level() {
                        found.check(!page.contains("aria-labelledby=\"spc-title"), || {
                            format!("{place}: event-level chart drawn")
                        });
                    }
                    found.check(!page.contains("generated-"), || {
                        format!("{place}: the page lists another trust's uploads")
                    });
                }
            }
        }
    }
}

/// The summaries (overview and organisation pages read the same rows): every latest value,
/// with the denominator of its period, gives back a multiple of 5.
async fn walk_summaries(app: &App, found: &mut Findings, identity: &str, cookie: &str) {
    let exact = exact_series(app).await;
    let mut paths = vec!["/api/summary".to_string()];
    for org in controlled(identity) {
        paths.push(format!("/api/summary/{org}"));
    }
    for path in paths {
        let v: Value = serde_json::from_str(&app.get(&path, cookie).await).unwrap();
        for row in v["rows"].as_array().unwrap() {
            if row["disclosure_controlled"] != true {
                continue;
            }
            let (org, id) = (
                row["org"].as_str().unwrap(),
                row["measure"].as_str().unwrap(),
            );
            let m = domain::measures::find(id).unwrap();
            let place = format!("{identity} {path} {org} {id}");
            if m.is_event_level() {
                found.check(row["latest_value"].is_null(), || {
                    format!("{place}: event-level latest value shown")
                });
                continue;
            }
            let Some(v) = row["latest_value"].as_f64() else {
                continue;
            };
            let label = row["latest_period"].as_str().unwrap_or("");
            check_latest(found, &place, &exact, org, &m, label, v);
        }
    }
    for org in controlled(identity) {
        let page = app.get(&format!("/org/{org}"), cookie).await;
        found.check(!page.contains("generated-"), || {
            format!("{identity} /org/{org}: lists uploads")
        });
    }
    app.get("/", cookie).await;
}

/// Every organisation's monthly series, exact (what an administrator sees).
async fn exact_series(app: &App) -> Vec<store::measures::MeasureSeries> {
    let (from, to) = (
        time::macros::date!(2023 - 01 - 01),
        time::macros::date!(2024 - 12 - 31),
    );
    let mut out = Vec::new();
    for level in [
        domain::OrgLevel::Region,
        domain::OrgLevel::Icb,
        domain::OrgLevel::Trust,
        domain::OrgLevel::Ward,
    ] {
        let q = store::measures::Query {
            level,
            period: domain::dates::PeriodKind::Month,
            from,
            to,
            scope: None,
        };
        out.extend(app.store.compute_measures(&q, &catalogue()).await.unwrap());
    }
    out
}

/// The cells of each table row of an HTML page (text between `<td>`/`<th>` tags).
fn html_rows(page: &str) -> Vec<Vec<String>> {
    page.split("<tr")
        .skip(1)
        .map(|tr| {
            let tr = tr.split("</tr>").next().unwrap_or("");
            tr.split("<t")
                .skip(1)
                .filter(|c| c.starts_with('d') || c.starts_with('h'))
                .map(|c| {
                    let inner = c.split_once('>').map_or("", |x| x.1);
                    let inner = inner.split("</t").next().unwrap_or("");
                    // Drop tags inside the cell.
                    let mut text = String::new();
                    let mut in_tag = false;
                    for ch in inner.chars() {
                        match ch {
                            '<' => in_tag = true,
                            '>' => in_tag = false,
                            c if !in_tag => text.push(c),
                            _ => {}
                        }
                    }
                    text.trim().to_string()
                })
                .collect()
        })
        .collect()
}

/// A latest value shown for `org`'s `m` in the period labelled `label`: with the exact
/// denominator of that period it must give back a multiple of 5 (and a median must be over 5 or
/// more events).
fn check_latest(
    found: &mut Findings,
    place: &str,
    exact: &[store::measures::MeasureSeries],
    org: &str,
    m: &Measure,
    label: &str,
    v: f64,
) {
    let point = exact
        .iter()
        .find(|s| s.org == org && s.measure == m.id)
        .and_then(|s| {
            s.points
                .iter()
                .find(|p| domain::dates::PeriodKind::Month.label(p.period) == label)
        });
    let Some(p) = point else { return };
    if m.id == "median_restraint_minutes" {
        found.check(p.denominator.unwrap_or(0.0) >= 5.0, || {
            format!("{place}: median over {:?} events", p.denominator)
        });
    } else if m.is_rate() || m.is_proportion() {
        let d = if m.is_proportion() {
            (p.denominator.unwrap_or(0.0) / 5.0).round() * 5.0
        } else {
            p.denominator.unwrap_or(0.0)
        };
        let implied = v * d / m.multiplier;
        // The report rounds to the shown decimals: allow for it.
        let slack = d / m.multiplier * 0.05;
        let near_five = ((implied / 5.0).round() * 5.0 - implied).abs() <= slack.max(1e-6);
        found.check(
            (is_multiple_of_five(implied) || near_five) && implied >= 4.5 - slack,
            || format!("{place}: latest {v} gives back {implied:.2}"),
        );
    } else {
        found.check(is_multiple_of_five(v) && v >= 5.0, || {
            format!("{place}: latest count {v}")
        });
    }
}

/// The ward and board reports (page and PDF) of every organisation seen under control: each
/// latest value in their tables passes the same check as the summaries, event-level measures
/// show no value, and the PDF is made.
async fn walk_reports(app: &App, found: &mut Findings, identity: &str, cookie: &str) {
    let exact = exact_series(app).await;
    let orgs = app.store.organisations().await.unwrap();
    let mut values_checked = 0;
    for org in controlled(identity) {
        let Some(o) = orgs.iter().find(|o| o.code == *org) else {
            continue;
        };
        let kind = match o.level.as_str() {
            "ward" => "ward",
            "trust" => "board",
            _ => continue,
        };
        for month in ["", "?month=2024-06"] {
            let path = format!("/reports/{kind}/{org}{month}");
            let page = app.get(&path, cookie).await;
            found.check(page.contains("disclosure-controlled for you"), || {
                format!("{identity} {path}: no disclosure notice")
            });
            for row in html_rows(&page) {
                let Some(m) = catalogue()
                    .into_iter()
                    .find(|m| Some(&m.title.to_string()) == row.first())
                else {
                    continue;
                };
                let latest = row.get(1).map(String::as_str).unwrap_or("");
                let place = format!("{identity} {path} {}", m.id);
                if m.is_event_level() {
                    found.check(latest == "not shown", || {
                        format!("{place}: event-level latest value {latest}")
                    });
                    continue;
                }
                let Some((value, label)) = latest.split_once(" (") else {
                    continue;
                };
                let label = label.trim_end_matches(')');
                let Ok(v) = value.trim_end_matches('%').parse::<f64>() else {
                    continue;
                };
                check_latest(found, &place, &exact, org, &m, label, v);
                values_checked += 1;
            }
            let pdf = app
                .get(&format!("/reports/{kind}/{org}/pdf{month}"), cookie)
                .await;
            found.check(pdf.starts_with("%PDF-"), || format!("{path}: no PDF"));
        }
    }
    // The walk must have read the tables, or it proves nothing.
    found.check(values_checked >= 20, || {
        format!("{identity}: only {values_checked} report values checked")
    });
}

/// FREED: every service of a trust seen under control shows only counts (each `*`, 0 or a
/// multiple of 5), never a patient row, on its page, in the services list and in the API.
async fn walk_freed(app: &App, found: &mut Findings, identity: &str, cookie: &str) {
    const AS_OF: &str = "as_of=2024-03-20+12:00";
    let services: Value = serde_json::from_str(
        &app.get(&format!("/api/freed/services?{AS_OF}"), cookie)
            .await,
    )
    .unwrap();
    let mut checked = 0;
    for s in services["services"].as_array().cloned().unwrap_or_default() {
        let trust = s["trust"].as_str().unwrap_or("");
        if !controlled(identity).contains(&trust) {
            continue;
        }
        let code = s["code"].as_str().unwrap_or("");
        let place = format!("{identity} FREED {code}");
        found.check(s["disclosure_controlled"] == true, || {
            format!("{place}: not marked disclosure-controlled in the list")
        });
        let clocks: Value = serde_json::from_str(
            &app.get(&format!("/api/freed/{code}/clocks?{AS_OF}"), cookie)
                .await,
        )
        .unwrap();
        let mut counts = vec![
            s["waiting"].clone(),
            s["breaching"].clone(),
            clocks["waiting"].clone(),
            clocks["breaching"].clone(),
        ];
        counts.extend(
            clocks["breaching_by_clock"]
                .as_object()
                .map(|m| m.values().cloned().collect::<Vec<_>>())
                .unwrap_or_default(),
        );
        for c in counts {
            let text = c
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| c.to_string());
            found.check(shown_count_ok(&text), || format!("{place}: count {text}"));
            checked += 1;
        }
        found.check(clocks["referrals"] == serde_json::json!([]), || {
            format!("{place}: patient rows in the API")
        });
        let page = app.get(&format!("/freed/{code}?{AS_OF}"), cookie).await;
        found.check(!page.contains("GEN-") && !page.contains("FR-2024"), || {
            format!("{place}: a referral reference on the page")
        });
        // The service's own FREED charts (their downloads hold every point) and who is
        // reached (every count cell of every breakdown).
        for m in freed_catalogue() {
            for period in ["month", "week"] {
                let csv = app
                    .get(
                        &format!(
                            "/freed/{code}/measures/{}/download/csv?period={period}",
                            m.id
                        ),
                        cookie,
                    )
                    .await;
                for r in &csv_rows(&csv) {
                    check_row(
                        found,
                        &format!("{place} {} {period} {}", m.id, r[0]),
                        &m,
                        &r[1],
                        &r[2],
                        r[3].parse().ok(),
                    );
                    checked += 1;
                }
            }
        }
        for by in ["ethnic_group", "sex", "age_band", "imd_decile"] {
            let page = app
                .get(&format!("/freed/{code}/inequalities?by={by}"), cookie)
                .await;
            for cell in page.split("<td class=\"app-num\">").skip(1) {
                let text = cell.split('<').next().unwrap_or("");
                // Counts are whole numbers; shares and medians are shown with a decimal.
                let ok = text
                    .trim()
                    .parse::<f64>()
                    .map_or(true, |_| text.contains('.') || shown_count_ok(text));
                found.check(ok, || format!("{place} inequalities {by}: count {text}"));
            }
            for row in page.split("<tr>").skip(1) {
                found.check(!row.contains("FR-2024") && !row.contains("GEN-"), || {
                    format!("{place} inequalities {by}: a referral reference")
                });
            }
        }
    }
    // Who FREED reaches across every service of a trust, an ICB or the region: every count
    // cell of the page and every count of its JSON, for each breakdown.
    for org in controlled(identity)
        .iter()
        .filter(|o| ["Y98", "Q98", "R8A", "R8B"].contains(o))
    {
        for by in ["ethnic_group", "sex", "age_band", "imd_decile"] {
            let place = format!("{identity} FREED reach {org} {by}");
            let page = app
                .get(
                    &format!("/freed/org/{org}/inequalities?by={by}&{AS_OF}"),
                    cookie,
                )
                .await;
            found.check(page.contains("Disclosure control applies"), || {
                format!("{place}: not marked disclosure-controlled")
            });
            for cell in page.split("<td class=\"app-num\">").skip(1) {
                let text = cell.split('<').next().unwrap_or("");
                let ok = text
                    .trim()
                    .parse::<f64>()
                    .map_or(true, |_| text.contains('.') || shown_count_ok(text));
                found.check(ok, || format!("{place}: count {text}"));
                checked += 1;
            }
            found.check(!page.contains("FR-2024") && !page.contains("GEN-"), || {
                format!("{place}: a referral reference")
            });
            let json: Value = serde_json::from_str(
                &app.get(
                    &format!("/api/freed/org/{org}/inequalities?by={by}&{AS_OF}"),
                    cookie,
                )
                .await,
            )
            .unwrap();
            found.check(json["disclosure_controlled"] == true, || {
                format!("{place}: the API is not marked disclosure-controlled")
            });
            let mut counts: Vec<Value> = Vec::new();
            for r in json["referred"].as_array().cloned().unwrap_or_default() {
                counts.push(r["referrals"].clone());
            }
            for m in json["measures"].as_array().cloned().unwrap_or_default() {
                for r in m["rows"].as_array().cloned().unwrap_or_default() {
                    counts.push(r["numerator"].clone());
                    counts.push(r["denominator"].clone());
                }
            }
            for r in json["medians"].as_array().cloned().unwrap_or_default() {
                counts.push(r["treated"].clone());
            }
            found.check(!counts.is_empty(), || {
                format!("{place}: no counts in the API")
            });
            for c in counts {
                let text = c.as_str().map_or_else(|| c.to_string(), str::to_string);
                found.check(shown_count_ok(&text), || {
                    format!("{place}: API count {text}")
                });
                checked += 1;
            }
        }
    }
    found.check(checked >= 6, || {
        format!("{identity}: only {checked} FREED counts checked")
    });
}

async fn walk_inequalities(app: &App, found: &mut Findings, identity: &str, cookie: &str) {
    let (from, to) = (
        time::macros::date!(2024 - 01 - 01),
        time::macros::date!(2024 - 12 - 31),
    );
    for org in controlled(identity) {
        let o = app.store.organisations().await.unwrap();
        // Wards are not organisations of their own (they live in the wards table).
        let level = o
            .iter()
            .find(|x| x.code == *org)
            .and_then(|x| domain::OrgLevel::parse(&x.level))
            .unwrap_or(domain::OrgLevel::Ward);
        for m in catalogue().into_iter().filter(Measure::stratifiable) {
            let page = app
                .get(
                    &format!(
                        "/inequalities?measure={}&org={org}&from=2024-01-01&to=2024-12-31",
                        m.id
                    ),
                    cookie,
                )
                .await;
            // One table per characteristic, in Stratifier::ALL's order; group rows: group,
            // events, exposure, value, CI, ratio, ratio CI, notes.
            let tables: Vec<Vec<Vec<String>>> = page
                .split("<table")
                .skip(1)
                .map(|t| {
                    html_rows(t.split("</table>").next().unwrap_or(""))
                        .into_iter()
                        .filter(|r| r.len() == 8 && r[0] != "Group")
                        .collect()
                })
                .collect();
            found.check(tables.len() == Stratifier::ALL.len(), || {
                format!("{identity} {org} {}: {} tables", m.id, tables.len())
            });
            for (rows, by) in tables.iter().zip(Stratifier::ALL) {
                for r in rows {
                    let place = format!("{identity} {org} {} {}", m.id, r[0]);
                    found.check(shown_count_ok(&r[1]), || {
                        format!("{place}: events {}", r[1])
                    });
                    if m.is_proportion() {
                        found.check(shown_count_ok(&r[2]), || {
                            format!("{place}: people {}", r[2])
                        });
                    }
                    if r[1] == "*" {
                        let derived_hidden = ["–", "*", ""].contains(&r[3].as_str())
                            && r[4].is_empty()
                            && (r[5] == "–" || r[5] == "reference")
                            && r[6].is_empty();
                        found.check(derived_hidden, || {
                            format!("{place}: a suppressed count shows {r:?}")
                        });
                    }
                }
                // By difference: the suppressed groups never hold 1 to 4 events between them.
                let strata = app
                    .store
                    .stratified(&m, Some((level, org.to_string())), from, to, by)
                    .await
                    .unwrap();
                let hidden: f64 = strata
                    .iter()
                    .filter(|s| rows.iter().any(|r| r[0] == s.group && r[1] == "*"))
                    .map(|s| s.numerator)
                    .sum();
                found.check(hidden == 0.0 || hidden >= 5.0, || {
                    format!(
                        "{identity} {org} {} by {}: suppressed groups hold {hidden}",
                        m.id,
                        by.label()
                    )
                });
            }
        }
    }
}

/// The ligature registers: a ward seen under control shows only its counts, each `*` or a
/// multiple of 5, on `/ligature` (as of today and as of a day between its audits) and in
/// `/api/ligature/wards`, and no link to its register; its register, its points (page and API),
/// its trust's escalation list and its photos are refused. The walk must meet counts from 1 to
/// 4 (which an administrator sees exactly), or it proves nothing.
async fn walk_ligature(app: &App, found: &mut Findings, identity: &str, cookie: &str, admin: &str) {
    const COUNTS: [&str; 4] = ["open", "open_high", "open_extreme", "escalated"];
    let mut small_hidden = 0;
    for as_of in ["", "?as_of=2024-03-01"] {
        let exact: Value =
            serde_json::from_str(&app.get(&format!("/api/ligature/wards{as_of}"), admin).await)
                .unwrap();
        let api: Value = serde_json::from_str(
            &app.get(&format!("/api/ligature/wards{as_of}"), cookie)
                .await,
        )
        .unwrap();
        let page = app.get(&format!("/ligature{as_of}"), cookie).await;
        let rows = html_rows(&page);
        for ward in controlled(identity).iter().filter(|w| w.contains('-')) {
            let place = format!("{identity} /ligature{as_of} {ward}");
            let Some(e) = exact["wards"]
                .as_array()
                .and_then(|ws| ws.iter().find(|w| w["ward"] == *ward))
            else {
                found.check(false, || {
                    format!("{place}: no register (the walk proves nothing)")
                });
                continue;
            };
            let Some(a) = api["wards"]
                .as_array()
                .and_then(|ws| ws.iter().find(|w| w["ward"] == *ward))
            else {
                found.check(false, || format!("{place}: not listed in the API"));
                continue;
            };
            found.check(a["disclosure_controlled"] == true, || {
                format!("{place}: not marked disclosure-controlled")
            });
            for c in COUNTS {
                let shown = a[c]
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| a[c].to_string());
                found.check(shown_count_ok(&shown), || {
                    format!("{place} API {c}: {shown}")
                });
                let n: u64 = e[c].as_str().and_then(|x| x.parse().ok()).unwrap_or(0);
                if (1..=4).contains(&n) {
                    small_hidden += 1;
                }
            }
            // The page's row: ward, trust, open, high, extreme, escalated, last audit, next due.
            let row = rows
                .iter()
                .find(|r| r.first().is_some_and(|c| c.contains(&format!("({ward})"))));
            match row {
                Some(r) if r.len() >= 6 => {
                    for (c, cell) in COUNTS.iter().zip(&r[2..6]) {
                        found.check(shown_count_ok(cell), || format!("{place} page {c}: {cell}"));
                    }
                }
                _ => found.check(false, || format!("{place}: no row on the page")),
            }
            found.check(
                !page.contains(&format!("href=\"/ligature/ward/{ward}\"")),
                || format!("{place}: a link to the register"),
            );
        }
    }
    found.check(small_hidden >= 2, || {
        format!("{identity}: only {small_hidden} ligature counts from 1 to 4 met")
    });
    for ward in controlled(identity).iter().filter(|w| w.contains('-')) {
        let trust = ward.split('-').next().unwrap();
        let mut paths = vec![
            format!("/ligature/ward/{ward}"),
            format!("/ligature/ward/{ward}/points/P-01"),
            format!("/api/ligature/wards/{ward}"),
            format!("/api/ligature/wards/{ward}/points/P-01"),
        ];
        if controlled(identity).contains(&trust) {
            paths.push(format!("/ligature/trust/{trust}"));
            paths.push(format!("/api/ligature/trusts/{trust}/escalations"));
        }
        let photos = app.store.ligature_photos(ward, None).await.unwrap();
        found.check(!photos.is_empty(), || {
            format!("{identity} {ward}: no photo to ask for")
        });
        for p in photos {
            paths.push(format!("/ligature/photos/{}", p.id));
        }
        for path in paths {
            let status = app.status(&path, cookie).await;
            found.check(status == StatusCode::FORBIDDEN, || {
                format!("{identity} {path}: {status} (expected 403)")
            });
        }
    }
}

/// The network's funnel plots (issue 12): every unit outside the viewer's full detail is
/// unnamed, and its value is suppressed or rests on a count rounded to 5.
async fn walk_network(app: &App, found: &mut Findings, identity: &str, cookie: &str) {
    let names: Vec<String> = app
        .store
        .wards()
        .await
        .unwrap()
        .into_iter()
        .map(|w| w.name)
        .collect();
    for m in domain::measures::catalogue()
        .iter()
        .chain(beyond_inpatient_catalogue().iter())
        .filter(|m| m.is_rate() || m.is_proportion())
    {
        for level in ["ward", "trust"] {
            let path = format!("/api/network/funnel?measure={}&level={level}", m.id);
            let body = app.get(&path, cookie).await;
            let Ok(v) = serde_json::from_str::<serde_json::Value>(&body) else {
                found.check(false, || format!("{identity} {path}: not JSON: {body}"));
                continue;
            };
            if m.id == "ri_rate" && level == "ward" {
                found.check(v["units"].as_array().is_some_and(|u| u.len() > 1), || {
                    format!("{identity} {path}: expected a unit per ward: {body}")
                });
            }
            for u in v["units"].as_array().into_iter().flatten() {
                if u["own"].as_bool() == Some(true) {
                    continue;
                }
                let label = u["label"].as_str().unwrap_or("");
                found.check(!names.iter().any(|n| label.contains(n.as_str())), || {
                    format!("{identity} {path}: another organisation's unit named: {label}")
                });
                if let (Some(value), Some(d)) = (u["value"].as_f64(), u["denominator"].as_f64()) {
                    let count = value * d / m.multiplier;
                    found.check(is_multiple_of_five(count) && count >= 5.0 - 1e-6, || {
                        format!(
                            "{identity} {path}: {label} shows {value} over {d}, a count of {count}"
                        )
                    });
                } else {
                    found.check(u["band"].is_null(), || {
                        format!("{identity} {path}: a suppressed unit's band: {u}")
                    });
                }
            }
        }
    }
}

/// `/network/beyond`'s breakdown of acute self-harm by group for every controlled trust, ICB
/// and region: each group's count is starred or a multiple of 5 from 5, and the starred groups
/// cannot be had by difference (the shown counts are never the exact total less one group).
async fn walk_beyond(app: &App, found: &mut Findings, identity: &str, cookie: &str) {
    for org in controlled(identity).iter().filter(|o| !o.contains('-')) {
        for by in ["age_band", "sex", "ethnic_group"] {
            let path = format!("/network/beyond?org={org}&by={by}");
            let page = app.get(&path, cookie).await;
            found.check(page.contains("Under disclosure control"), || {
                format!("{identity} {path}: no disclosure notice")
            });
            let rows: Vec<Vec<String>> = html_rows(&page)
                .into_iter()
                .filter(|r| r.len() == 3 && r[0] != "Group")
                .collect();
            found.check(!rows.is_empty(), || format!("{identity} {path}: no groups"));
            let starred = rows.iter().filter(|r| r[1] == "*").count();
            for r in &rows {
                found.check(shown_count_ok(&r[1]), || {
                    format!("{identity} {path}: {} shows {}", r[0], r[1])
                });
            }
            found.check(starred != 1, || {
                format!("{identity} {path}: one group starred alone (had by difference)")
            });
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_figure_about_another_organisation_reveals_a_count_from_1_to_4() {
    for db in databases().await {
        let name = db.name;
        let app = App::new(db).await;
        let mut found = Findings::default();
        let admin = app.login("admin").await;
        for identity in ["viewer", "lead"] {
            let cookie = app.login(identity).await;
            walk_ligature(&app, &mut found, identity, &cookie, &admin).await;
            walk_charts(&app, &mut found, identity, &cookie).await;
            walk_summaries(&app, &mut found, identity, &cookie).await;
            walk_inequalities(&app, &mut found, identity, &cookie).await;
            walk_reports(&app, &mut found, identity, &cookie).await;
            walk_freed(&app, &mut found, identity, &cookie).await;
            walk_network(&app, &mut found, identity, &cookie).await;
            walk_beyond(&app, &mut found, identity, &cookie).await;
        }
        assert!(found.0.is_empty(), "{name}:\n{}", found.0.join("\n"));
    }
}
