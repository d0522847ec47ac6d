//! Every route under every role (the authorization matrix), on the example region, on SQLite and
//! (when MHSIP_TEST_POSTGRES_URL is set) PostgreSQL; plus sign-in, CSRF, rate limits, disclosure
//! control, uploads and the audit log as users meet them.

#[path = "../../ingest/tests/common/mod.rs"]
mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::databases;
use http_body_util::BodyExt;
use tower::ServiceExt;

#[path = "support/app.rs"]
mod app;

use app::{App, Resp};

const ROLES: [&str; 7] = [
    "admin",
    "viewer",
    "lead",
    "ward",
    "uploader",
    "estates",
    "anonymous",
];

/// (method and path, expected status for admin, viewer, trust lead R8A, ward user R8A-ASH,
/// uploader R8A, estates R8A, nobody signed in). 303 is a redirect: to the login page for nobody, to the
/// user's own page otherwise.
#[rustfmt::skip]
fn matrix() -> Vec<(&'static str, [u16; 7])> {
    vec![
        ("GET /", [200, 200, 200, 303, 303, 303, 303]),
        ("GET /org/Y98", [200, 200, 200, 403, 403, 403, 303]),
        ("GET /org/R8A", [200, 200, 200, 403, 403, 403, 303]),
        ("GET /org/R8B", [200, 200, 200, 403, 403, 403, 303]),
        ("GET /org/R8A-ASH", [200, 200, 200, 200, 403, 403, 303]),
        ("GET /org/R8A-BIRCH", [200, 200, 200, 403, 403, 403, 303]),
        ("GET /org/R8B-CEDAR", [200, 200, 200, 403, 403, 403, 303]),
        ("GET /org/NOPE", [404, 404, 404, 404, 404, 404, 303]),
        ("GET /chart/R8A-ASH/ri_rate", [200, 200, 200, 200, 403, 403, 303]),
        ("GET /chart/R8A-ASH/ri_rate?period=week", [200, 200, 200, 200, 403, 403, 303]),
        ("GET /chart/R8B-CEDAR/ri_rate", [200, 200, 200, 403, 403, 403, 303]),
        ("GET /reports/ward/R8A-ASH", [200, 200, 200, 200, 403, 403, 303]),
        ("GET /reports/ward/R8A-ASH/pdf", [200, 200, 200, 200, 403, 403, 303]),
        ("GET /reports/ward/R8A-BIRCH", [200, 200, 200, 403, 403, 403, 303]),
        ("GET /reports/ward/R8B-CEDAR/pdf", [200, 200, 200, 403, 403, 403, 303]),
        ("GET /reports/board/R8A", [200, 200, 200, 403, 403, 403, 303]),
        ("GET /reports/board/R8A/pdf", [200, 200, 200, 403, 403, 403, 303]),
        ("GET /reports/board/R8B", [200, 200, 200, 403, 403, 403, 303]),
        ("GET /reports/board/R8A-ASH", [400, 400, 400, 400, 403, 403, 303]),
        ("GET /reports/ward/R8A-ASH?month=2024-13", [400, 400, 400, 400, 403, 403, 303]),
        ("GET /reports/ward/NOPE", [404, 404, 404, 404, 404, 404, 303]),
        ("GET /chart/R8A/pct_leave_on_time", [200, 200, 200, 403, 403, 403, 303]),
        ("GET /chart/Y98/days_between_self_harm", [200, 200, 200, 403, 403, 403, 303]),
        ("GET /chart/R8A-ASH/no_such_measure", [404, 404, 404, 404, 403, 403, 303]),
        ("GET /chart/R8A-ASH/ri_rate/download/csv", [200, 200, 200, 200, 403, 403, 303]),
        ("GET /chart/R8A-ASH/ri_rate/download/xlsx", [200, 200, 200, 200, 403, 403, 303]),
        ("GET /chart/R8B-CEDAR/ri_rate/download/svg", [200, 200, 200, 403, 403, 403, 303]),
        ("GET /chart/R8A-ASH/ri_rate/download/pdf", [400, 400, 400, 400, 403, 403, 303]),
        ("GET /inequalities", [200, 200, 200, 200, 403, 403, 303]),
        ("GET /inequalities?org=R8B", [200, 200, 200, 403, 403, 403, 303]),
        ("GET /completeness", [200, 200, 200, 200, 200, 403, 303]),
        ("GET /completeness?org=R8B", [200, 200, 200, 403, 403, 403, 303]),
        ("GET /uploads", [200, 403, 200, 403, 200, 403, 303]),
        ("GET /measures", [200, 200, 200, 200, 200, 200, 303]),
        ("GET /admin", [200, 403, 403, 403, 403, 403, 303]),
        ("GET /admin/audit", [200, 403, 403, 403, 403, 403, 303]),
        ("GET /api/openapi.json", [200, 200, 200, 200, 200, 200, 200]),
        ("GET /api/measures", [200, 200, 200, 200, 200, 200, 401]),
        ("GET /api/summary", [200, 200, 200, 200, 200, 200, 401]),
        ("GET /api/summary/R8A", [200, 200, 200, 403, 403, 403, 401]),
        ("GET /api/series/R8A-ASH/ri_prone_rate", [200, 200, 200, 200, 403, 403, 401]),
        ("GET /api/series/R8B-CEDAR/ri_prone_rate", [200, 200, 200, 403, 403, 403, 401]),
        ("GET /api/uploads", [200, 403, 200, 403, 200, 403, 401]),
        ("GET /api/nothing-here", [404, 404, 404, 404, 404, 404, 404]),
        ("POST /chart/R8A-ASH/ri_rate/annotations", [303, 403, 303, 303, 403, 403, 303]),
        ("POST /chart/R8B-CEDAR/ri_rate/annotations", [303, 403, 403, 403, 403, 403, 303]),
        // Quality improvement (issue 11): project 1 is Ash Ward's (made before the matrix runs).
        ("GET /qi", [200, 200, 200, 200, 200, 200, 303]),
        ("GET /qi/new", [200, 403, 200, 200, 403, 403, 303]),
        ("GET /qi/1", [200, 200, 200, 200, 403, 403, 303]),
        ("GET /qi/999999", [404, 404, 404, 404, 404, 404, 303]),
        ("POST /qi/new", [303, 403, 303, 303, 403, 403, 303]),
        ("POST /qi/1/details", [303, 403, 303, 303, 403, 403, 303]),
        ("POST /qi/1/status", [303, 403, 303, 303, 403, 403, 303]),
        ("POST /qi/1/team", [303, 403, 303, 303, 403, 403, 303]),
        ("POST /qi/1/aim", [303, 403, 303, 303, 403, 403, 303]),
        ("POST /qi/1/measures", [400, 403, 400, 400, 403, 403, 303]),
        ("POST /qi/1/values", [400, 403, 400, 400, 403, 403, 303]),
        ("POST /qi/1/diagram", [303, 403, 303, 303, 403, 403, 303]),
        ("POST /qi/1/cycles", [400, 403, 400, 400, 403, 403, 303]),
        ("POST /qi/1/cycles/c9", [404, 403, 404, 404, 403, 403, 303]),
        ("POST /qi/1/score", [303, 403, 303, 303, 403, 403, 303]),
        ("POST /qi/1/spread", [400, 403, 400, 400, 403, 403, 303]),
        ("POST /qi/999999/score", [404, 404, 404, 404, 404, 404, 303]),
        ("GET /api/qi/projects", [200, 200, 200, 200, 200, 200, 401]),
        ("GET /api/qi/projects/1", [200, 200, 200, 200, 403, 403, 401]),
        ("GET /api/qi/projects/999999", [404, 404, 404, 404, 404, 404, 401]),
        ("POST /admin/users", [200, 403, 403, 403, 403, 403, 303]),
        ("POST /admin/users/viewer/disabled", [303, 403, 403, 403, 403, 403, 303]),
        ("POST /admin/users/uploader/grant", [200, 403, 403, 403, 403, 403, 303]),
        ("POST /uploads/confirm", [400, 403, 403, 403, 400, 403, 303]),
        ("GET /admin/audit?user=admin&action=login&org=R8A&from=2020-01-01&to=2099-12-31", [200, 403, 403, 403, 403, 403, 303]),
        ("GET /admin/audit/download", [200, 403, 403, 403, 403, 403, 303]),
        ("GET /account/tokens", [200, 200, 200, 200, 200, 200, 303]),
        ("POST /account/tokens", [200, 200, 200, 200, 200, 200, 303]),
        ("POST /account/tokens/999999/revoke", [404, 404, 404, 404, 404, 404, 303]),
        // The attention test (issue 15): /test needs no account (a code is its credential);
        // the clinic is for the trust's clinicians only (crates/web/tests/cpt.rs has them).
        ("GET /test", [200, 200, 200, 200, 200, 200, 200]),
        ("POST /test", [400, 400, 400, 400, 400, 400, 400]),
        ("POST /test/schedule", [400, 400, 400, 400, 400, 400, 400]),
        ("GET /clinic", [403, 403, 403, 403, 403, 403, 303]),
        ("POST /clinic/codes", [403, 403, 403, 403, 403, 403, 303]),
        ("POST /clinic/codes/1/reissue", [403, 403, 403, 403, 403, 403, 303]),
        ("GET /clinic/tests/1", [403, 403, 403, 403, 403, 403, 303]),
        ("GET /clinic/tests/1/log.csv", [403, 403, 403, 403, 403, 403, 303]),
        ("GET /clinic/tests/1/report.pdf", [403, 403, 403, 403, 403, 403, 303]),
        ("POST /clinic/tests/1/notes", [403, 403, 403, 403, 403, 403, 303]),
        // FREED (issue 14): R8A-FREED names no ward (its trust's leads only), R8B-FREED names
        // R8B-CEDAR; the programme and other trusts see counts, never patients' rows.
        ("GET /freed", [200, 200, 200, 200, 200, 200, 303]),
        ("GET /freed/R8A-FREED", [200, 200, 200, 403, 403, 403, 303]),
        ("GET /freed/R8B-FREED", [200, 200, 200, 403, 403, 403, 303]),
        ("GET /freed/NOPE", [404, 404, 404, 404, 404, 404, 303]),
        ("GET /freed/R8A-FREED/queue", [200, 403, 200, 403, 403, 403, 303]),
        ("GET /freed/R8B-FREED/queue", [200, 403, 403, 403, 403, 403, 303]),
        ("GET /freed/R8A-FREED/referral", [200, 403, 200, 403, 403, 403, 303]),
        ("GET /freed/R8A-FREED/referral?ref=FR-2024-0001", [200, 403, 200, 403, 403, 403, 303]),
        ("POST /freed/R8A-FREED/referral", [400, 403, 400, 403, 403, 403, 303]),
        ("POST /freed/R8B-FREED/referral", [400, 403, 403, 403, 403, 403, 303]),
        ("GET /api/freed/services", [200, 200, 200, 200, 200, 200, 401]),
        ("GET /api/freed/R8A-FREED/clocks", [200, 200, 200, 403, 403, 403, 401]),
        ("GET /api/freed/R8B-FREED/clocks", [200, 200, 200, 403, 403, 403, 401]),
        // Ligature registers (issue 13), planted before the matrix runs (`plant_ligature`):
        // R8A-ASH's (audit 1, signed; audit 3, ward's draft; photo 1; action 1) and R8B-CEDAR's
        // (audit 2, signed; photo 2). A register is seen in full by its ward, its trust's leads
        // and programme admins; everyone else who sees figures gets its counts on /ligature
        // only. Photos never leave the ward's trust, not even to a programme admin. The posts
        // are bad input (400) where the role may change the register, so nothing changes.
        ("GET /ligature", [200, 200, 200, 200, 200, 303, 303]),
        // The registers' measures on the ordinary chart pages and API (issue 13).
        ("GET /chart/R8A-ASH/ligature_open_high", [200, 200, 200, 200, 403, 403, 303]),
        ("GET /chart/R8B-CEDAR/ligature_open_high", [200, 200, 200, 403, 403, 403, 303]),
        ("GET /api/series/R8A/ligature_actions_overdue", [200, 200, 200, 403, 403, 403, 401]),
        // The Patient Safety Network (issue 12).
        ("GET /network", [200, 200, 200, 200, 403, 403, 303]),
        ("GET /network/ideas", [200, 200, 200, 200, 403, 403, 303]),
        ("GET /network/funnel?measure=ri_rate&level=ward", [200, 200, 200, 200, 403, 403, 303]),
        ("GET /network/funnel?measure=ri_rate&level=trust", [200, 200, 200, 200, 403, 403, 303]),
        ("GET /network/stories", [200, 200, 200, 200, 403, 403, 303]),
        ("GET /network/admin", [200, 403, 403, 403, 403, 403, 303]),
        // Beyond inpatient care (issue 12 item 4): the page (a ward's user sees no breakdown),
        // a breakdown of another trust (the trust's and the programme's, under control for
        // others), an unknown organisation; the measures' charts, downloads and API.
        ("GET /network/beyond", [200, 200, 200, 200, 403, 403, 303]),
        ("GET /network/beyond?org=R8B&by=sex", [200, 200, 200, 403, 403, 403, 303]),
        ("GET /network/beyond?org=NOPE", [404, 404, 404, 404, 403, 403, 303]),
        ("GET /network/funnel?measure=ri_rate&level=ward&peer_group=999999", [400, 400, 400, 400, 403, 403, 303]),
        ("GET /chart/R8B/acute_self_harm", [200, 200, 200, 403, 403, 403, 303]),
        ("GET /chart/R8B/acute_self_harm_ed/download/csv", [200, 200, 200, 403, 403, 403, 303]),
        ("GET /chart/R8A/staff_self_harm", [200, 200, 200, 403, 403, 403, 303]),
        ("GET /chart/R8A/staff_self_harm_rate/download/xlsx", [200, 200, 200, 403, 403, 403, 303]),
        ("GET /api/series/R8B/staff_suicides", [200, 200, 200, 403, 403, 403, 401]),
        ("GET /api/network/funnel?measure=staff_self_harm_rate&level=trust", [200, 200, 200, 200, 403, 403, 401]),
        ("GET /api/network/ideas", [200, 200, 200, 200, 403, 403, 401]),
        ("GET /api/network/funnel?measure=ri_rate&level=trust", [200, 200, 200, 200, 403, 403, 401]),
        // FREED's service charts and who is reached (issue 14), the ADHD pathway (issue 15).
        ("GET /freed/R8A-FREED/measures", [200, 200, 200, 403, 403, 403, 303]),
        ("GET /freed/R8A-FREED/inequalities", [200, 200, 200, 403, 403, 403, 303]),
        // Who FREED reaches across a trust's services, an ICB's and the region's.
        ("GET /freed/org/R8A/inequalities", [200, 200, 200, 403, 403, 403, 303]),
        ("GET /freed/org/R8B/inequalities?by=sex", [200, 200, 200, 403, 403, 403, 303]),
        ("GET /freed/org/Y98/inequalities?by=imd_decile", [200, 200, 200, 403, 403, 403, 303]),
        ("GET /freed/org/R8A/inequalities?by=nope", [400, 400, 400, 403, 403, 403, 303]),
        ("GET /freed/org/R8A-ASH/inequalities", [404, 404, 404, 404, 403, 403, 303]),
        ("GET /freed/org/NOPE/inequalities", [404, 404, 404, 404, 404, 404, 303]),
        ("GET /api/freed/R8A-FREED/inequalities", [200, 200, 200, 403, 403, 403, 401]),
        ("GET /api/freed/org/R8B/inequalities?by=age_band", [200, 200, 200, 403, 403, 403, 401]),
        ("GET /api/freed/org/Y98/inequalities", [200, 200, 200, 403, 403, 403, 401]),
        ("GET /adhd", [200, 200, 200, 200, 200, 200, 303]),
        ("GET /ligature/ward/R8A-ASH", [200, 403, 200, 200, 403, 403, 303]),
        ("GET /ligature/ward/R8A-ASH?as_of=2024-02-30", [400, 403, 400, 400, 403, 403, 303]),
        ("GET /ligature/ward/R8B-CEDAR", [200, 403, 403, 403, 403, 403, 303]),
        ("GET /ligature/ward/NOPE", [404, 404, 404, 404, 404, 404, 303]),
        ("GET /ligature/ward/R8A-ASH/points/ASH-001", [200, 403, 200, 200, 403, 403, 303]),
        ("GET /ligature/ward/R8A-ASH/points/NOPE", [404, 403, 404, 404, 403, 403, 303]),
        ("GET /ligature/ward/R8B-CEDAR/points/CED-01", [200, 403, 403, 403, 403, 403, 303]),
        // An area's page (its points and, to the ward's own trust, the incidents there).
        ("GET /ligature/ward/R8A-ASH/areas/BED-01", [200, 403, 200, 200, 403, 403, 303]),
        ("GET /ligature/ward/R8A-ASH/areas/NOPE", [404, 403, 404, 404, 403, 403, 303]),
        ("GET /ligature/ward/R8B-CEDAR/areas/BED-02", [200, 403, 403, 403, 403, 403, 303]),
        ("GET /ligature/photos/1", [403, 403, 200, 200, 403, 403, 303]),
        ("GET /ligature/photos/2", [403, 403, 403, 403, 403, 403, 303]),
        ("GET /ligature/photos/999999", [404, 404, 404, 404, 404, 404, 303]),
        ("GET /ligature/audits/3", [200, 403, 200, 200, 403, 403, 303]),
        ("GET /ligature/audits/3?area=LOUNGE", [200, 403, 200, 200, 403, 403, 303]),
        ("GET /ligature/audits/1", [303, 403, 303, 303, 403, 403, 303]),
        ("GET /ligature/audits/2", [303, 403, 403, 403, 403, 403, 303]),
        ("GET /ligature/audits/999999", [404, 404, 404, 404, 404, 404, 303]),
        ("GET /ligature/trust/R8A", [200, 403, 200, 403, 403, 403, 303]),
        ("GET /ligature/trust/R8B", [200, 403, 403, 403, 403, 403, 303]),
        ("GET /ligature/trust/NOPE", [404, 404, 404, 404, 404, 404, 303]),
        ("POST /ligature/ward/R8A-ASH/audits", [400, 403, 400, 400, 403, 403, 303]),
        ("POST /ligature/ward/R8B-CEDAR/audits", [400, 403, 403, 403, 403, 403, 303]),
        ("POST /ligature/ward/NOPE/audits", [404, 404, 404, 404, 404, 404, 303]),
        ("POST /ligature/ward/R8A-ASH/import", [400, 403, 400, 400, 403, 403, 303]),
        ("POST /ligature/ward/R8B-CEDAR/import", [400, 403, 403, 403, 403, 403, 303]),
        ("POST /ligature/ward/R8A-ASH/mappings", [400, 403, 400, 400, 403, 403, 303]),
        ("POST /ligature/ward/R8A-ASH/actions", [400, 403, 400, 400, 403, 403, 303]),
        ("POST /ligature/ward/R8B-CEDAR/actions", [400, 403, 403, 403, 403, 403, 303]),
        ("POST /ligature/actions/1", [400, 403, 400, 400, 403, 400, 303]),
        ("POST /ligature/actions/999999", [404, 404, 404, 404, 404, 404, 303]),
        ("POST /ligature/ward/R8A-ASH/points/ASH-001/photos", [400, 403, 400, 400, 403, 403, 303]),
        ("POST /ligature/ward/R8B-CEDAR/points/CED-01/photos", [400, 403, 403, 403, 403, 403, 303]),
        ("POST /ligature/audits/3/area", [400, 403, 400, 400, 403, 403, 303]),
        ("POST /ligature/audits/3/points", [400, 403, 400, 400, 403, 403, 303]),
        ("POST /ligature/audits/3/areas", [400, 403, 400, 400, 403, 403, 303]),
        ("POST /ligature/audits/3/signoff", [403, 403, 403, 400, 403, 403, 303]),
        ("POST /ligature/audits/1/discard", [400, 403, 400, 400, 403, 403, 303]),
        ("POST /ligature/audits/2/discard", [400, 403, 403, 403, 403, 403, 303]),
        ("POST /ligature/audits/999999/discard", [404, 404, 404, 404, 404, 404, 303]),
        ("POST /ligature/trust/R8A/settings", [400, 403, 400, 403, 403, 403, 303]),
        ("POST /ligature/trust/R8B/settings", [400, 403, 403, 403, 403, 403, 303]),
        ("GET /api/ligature/wards", [200, 200, 200, 200, 200, 200, 401]),
        ("GET /api/ligature/wards/R8A-ASH", [200, 403, 200, 200, 403, 403, 401]),
        ("GET /api/ligature/wards/R8B-CEDAR", [200, 403, 403, 403, 403, 403, 401]),
        ("GET /api/ligature/wards/NOPE", [404, 404, 404, 404, 404, 404, 401]),
        ("GET /api/ligature/wards/R8A-ASH/points/ASH-001", [200, 403, 200, 200, 403, 403, 401]),
        ("GET /api/ligature/wards/R8A-ASH/points/NOPE", [404, 403, 404, 404, 403, 403, 401]),
        ("GET /api/ligature/wards/R8B-CEDAR/points/CED-01", [200, 403, 403, 403, 403, 403, 401]),
        ("GET /api/ligature/trusts/R8A/escalations", [200, 403, 200, 403, 403, 403, 401]),
        ("GET /api/ligature/trusts/R8B/escalations", [200, 403, 403, 403, 403, 403, 401]),
        // The estates page (issue 13): the trust's estates staff and leads, programme admins;
        // /ligature/estates is the user's own trust's (a programme admin has none).
        ("GET /ligature/estates", [403, 403, 303, 403, 403, 303, 303]),
        ("GET /ligature/estates/R8A", [200, 403, 200, 403, 403, 200, 303]),
        ("GET /ligature/estates/R8B", [200, 403, 403, 403, 403, 403, 303]),
        ("GET /ligature/estates/NOPE", [404, 404, 404, 404, 404, 404, 303]),
        ("GET /api/ligature/trusts/R8A/actions", [200, 403, 200, 403, 403, 200, 401]),
        ("GET /api/ligature/trusts/R8B/actions", [200, 403, 403, 403, 403, 403, 401]),
    ]
}

fn form_for(path: &str) -> &'static str {
    if path.starts_with("/qi/") {
        qi_form_for(path)
    } else if path.starts_with("/ligature/") {
        ligature_form_for(path)
    } else if path.ends_with("/annotations") {
        "date=2024-02-01&text=Safety+huddles&period=month"
    } else if path.ends_with("/disabled") {
        "disabled=no"
    } else if path.ends_with("/grant") {
        "role=uploader&trust=R8A"
    } else if path == "/account/tokens" {
        "label=matrix&days=7"
    } else if path == "/admin/users" {
        "name=new.user&password=a+long+enough+password&role=programme_viewer"
    } else {
        "token=not-a-token"
    }
}

/// The forms the QI rows of the matrix post: accepted (303) where the row says so, refused
/// whole (400) where it is bad input, for those who may change the project.
fn qi_form_for(path: &str) -> &'static str {
    match path.rsplit('/').next().unwrap_or("") {
        "new" => "org=R8A-ASH&title=Matrix+project",
        "details" => "title=Matrix+project&charter=Checked+by+every+role",
        "status" => "status=active",
        "team" => "user=viewer&role=member",
        "aim" => "measure=catalogue%3Ari_rate&baseline=20&target=10&target_date=2099-12-31",
        "measures" => "kind=catalogue&measure=ri_rate&role=sideways",
        "values" => "measure=huddles&month=2024-01&value=not+a+number",
        "diagram" => "edit=add_primary&text=Checked+by+every+role",
        "cycles" => {
            "change_idea=none&question=x&prediction_measure=catalogue%3Ari_rate&prediction_direction=decrease"
        }
        "score" => "score=2.0&reason=matrix",
        "spread" => "ward=NOPE&change_idea=x&adopted=2024-01-01&evidence=ri_rate",
        _ => "",
    }
}

/// The ligature forms the matrix posts: each refused whole (400) for those who may change the
/// register (a date in the future, an unknown area or tier, an action due before it was raised, a
/// file that is not a spreadsheet or an image), so the matrix changes nothing.
fn ligature_form_for(path: &str) -> &'static str {
    match path.rsplit('/').next().unwrap_or("") {
        "audits" => "date=2099-01-01",
        "mappings" => "definition=not+json",
        "actions" => "point=ASH-001&description=Refit&owner=Estates&due=2020-01-01&reference=WO-1",
        "area" => "area=NOPE",
        "points" => "area=BED-01&reference=",
        "areas" => "code=EN-01&name=En-suite&tier=4",
        "settings" => "escalation_days=-3&audit_interval_days=180",
        // /ligature/actions/{id}
        _ if path.starts_with("/ligature/actions/") => "status=nonsense&closed=&due=&reference=",
        _ => "",
    }
}

/// The ligature posts that take a file (multipart): a file that is neither a spreadsheet of
/// audit rows nor an image.
fn ligature_multipart(path: &str) -> bool {
    path.starts_with("/ligature/") && (path.ends_with("/import") || path.ends_with("/photos"))
}

/// A multipart post as a browser sends it (`file` holds `bytes`), with a session cookie, a
/// bearer token, or neither.
async fn post_file_as(app: &App, path: &str, cookie: Option<&str>, token: Option<&str>) -> Resp {
    let boundary = "XyZmhsipMatrix";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"mapping\"\r\n\r\n\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.jpg\"\r\nContent-Type: image/jpeg\r\n\r\nnot a picture, nor a sheet\r\n--{boundary}--\r\n"
    );
    let mut b = Request::post(path)
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .header("sec-fetch-site", "same-origin");
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, c);
    }
    if let Some(t) = token {
        b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    app.send(b.body(Body::from(body)).unwrap()).await
}

/// A small JPEG with an EXIF block (as crates/web/tests/ligature.rs makes it).
fn jpeg() -> Vec<u8> {
    let mut v = vec![0xFF, 0xD8];
    let exif = b"Exif\0\0GPSLatitude 51.5074 N";
    v.extend_from_slice(&[0xFF, 0xE1]);
    v.extend_from_slice(&((exif.len() + 2) as u16).to_be_bytes());
    v.extend_from_slice(exif);
    v.extend_from_slice(&[0xFF, 0xDB, 0x00, 0x04, 0x00, 0x01]);
    v.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x02, 0x12, 0x34, 0xFF, 0xD9]);
    v
}

const LIGATURE_HEADER: &str = "WardCode,AuditDate,Assessor,AreaCode,AreaName,Tier,PointRef,Finding,Location,Description,PointType,HeightBand,Likelihood,Consequence,Controls,ResidualLikelihood,ResidualConsequence,ReviewDate";

/// The registers the matrix's ligature rows name, made through the pages as their users would:
/// R8A-ASH's spreadsheet (audit 1), R8B-CEDAR's (audit 2), a photo of each ward's point (1 and
/// 2), an action on ASH-001 (1) and a draft audit of R8A-ASH started by its ward user (3).
async fn plant_ligature(app: &App) {
    let ward = app.login("ward").await;
    let lead_b = app.login("lead_b").await;
    let ash = format!(
        "{LIGATURE_HEADER}\nR8A-ASH,2024-01-10,J. Smith,BED-01,Bedroom 1,3,ASH-001,,Above the en-suite door,Door closer arm,door,high,4,5,staff vigilance,3,5,2024-07-10\nR8A-ASH,2024-01-10,J. Smith,LOUNGE,Lounge,1,ASH-002,,Corner,Radiator pipe,pipe,low,2,5,observation,2,4,2024-07-10\n"
    );
    let cedar = format!(
        "{LIGATURE_HEADER}\nR8B-CEDAR,2024-02-01,K. Jones,BED-02,Bedroom 2,3,CED-01,,Window,Curtain rail,rail,high,4,5,observation,3,4,2024-08-01\n"
    );
    for (path, cookie, name, sheet) in [
        ("/ligature/ward/R8A-ASH/import", &ward, "ash.csv", &ash),
        (
            "/ligature/ward/R8B-CEDAR/import",
            &lead_b,
            "cedar.csv",
            &cedar,
        ),
    ] {
        let r = app
            .post_multipart(path, cookie, &[("mapping", "")], name, sheet.as_bytes())
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}: {}", r.body);
    }
    for (path, cookie) in [
        ("/ligature/ward/R8A-ASH/points/ASH-001/photos", &ward),
        ("/ligature/ward/R8B-CEDAR/points/CED-01/photos", &lead_b),
    ] {
        let r = app
            .post_multipart(path, cookie, &[], "p.jpg", &jpeg())
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}: {}", r.body);
    }
    let due = (time::OffsetDateTime::now_utc().date() + time::Duration::days(30)).to_string();
    let r = app
        .post_form(
            "/ligature/ward/R8A-ASH/actions",
            Some(&ward),
            &format!("point=ASH-001&description=Refit&owner=Estates&due={due}&reference=WO-1"),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = app
        .post_form("/ligature/ward/R8A-ASH/audits", Some(&ward), "date=")
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        r.location, "/ligature/audits/3",
        "the matrix's ligature rows name draft audit 3"
    );
    let photos: Vec<i64> = [
        app.store.ligature_photos("R8A-ASH", None).await.unwrap(),
        app.store.ligature_photos("R8B-CEDAR", None).await.unwrap(),
    ]
    .iter()
    .flatten()
    .map(|p| p.id)
    .collect();
    assert_eq!(
        photos,
        [1, 2],
        "the matrix's ligature rows name photos 1 and 2"
    );
    let actions = app.store.ligature_actions("R8A-ASH").await.unwrap();
    assert_eq!(actions.len(), 1);
    assert_eq!(actions[0].id, 1, "the matrix's ligature rows name action 1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_under_every_role() {
    for db in databases().await {
        let app = App::new(db).await;
        let ash = qi::Organisation {
            level: qi::OrgLevel::Ward,
            code: "R8A-ASH".into(),
        };
        let qi_id = app
            .store
            .qi_create(&qi::Project::new("Matrix project", ash), "ward")
            .await
            .unwrap();
        assert_eq!(qi_id, 1, "the matrix's QI rows name project 1");
        plant_ligature(&app).await;
        // Estates staff of R8A (issue 13): its registers' actions only.
        let estates =
            domain::access::Grant::new(domain::access::Role::Estates, Some("R8A".into()), None)
                .unwrap();
        app.store
            .create_user("estates", app::PASSWORD, &estates)
            .await
            .unwrap();
        let fingerprint = app.store.ligature_fingerprint().await.unwrap();
        let mut cookies = Vec::new();
        for role in ROLES {
            cookies.push(if role == "anonymous" {
                None
            } else {
                Some(app.login(role).await)
            });
        }
        let mut wrong = Vec::new();
        for (route, expected) in matrix() {
            let (method, path) = route.split_once(' ').unwrap();
            for (i, role) in ROLES.iter().enumerate() {
                let r = match method {
                    "GET" => app.get(path, cookies[i].as_deref()).await,
                    _ if ligature_multipart(path) => {
                        post_file_as(&app, path, cookies[i].as_deref(), None).await
                    }
                    _ => {
                        app.post_form(path, cookies[i].as_deref(), form_for(path))
                            .await
                    }
                };
                if r.status.as_u16() != expected[i] {
                    wrong.push(format!(
                        "{route} as {role}: {} (expected {}) {}",
                        r.status.as_u16(),
                        expected[i],
                        r.body.chars().take(200).collect::<String>()
                    ));
                }
                if r.status == StatusCode::SEE_OTHER && *role == "anonymous" {
                    assert!(
                        r.location.starts_with("/login?next="),
                        "{route}: {}",
                        r.location
                    );
                }
            }
        }
        // The same matrix with each role's API token and no cookie (nobody: a made-up token).
        // On /api/* a token reads exactly what its owner may; pages and form posts never take
        // a token, so there every token counts as nobody signed in.
        let mut tokens = Vec::new();
        for (i, role) in ROLES.iter().enumerate() {
            tokens.push(match &cookies[i] {
                Some(c) => app.make_token(c, role).await,
                None => format!("mhsip_{}", "0".repeat(64)),
            });
        }
        for (route, expected) in matrix() {
            let (method, path) = route.split_once(' ').unwrap();
            let api = path.starts_with("/api/");
            for (i, role) in ROLES.iter().enumerate() {
                let r = match method {
                    "GET" => app.get_bearer(path, &tokens[i]).await,
                    _ if ligature_multipart(path) => {
                        post_file_as(&app, path, None, Some(&tokens[i])).await
                    }
                    _ => app.post_bearer(path, &tokens[i], form_for(path)).await,
                };
                let want = if api { expected[i] } else { expected[6] };
                if r.status.as_u16() != want {
                    wrong.push(format!(
                        "{route} with {role}'s token: {} (expected {want}) {}",
                        r.status.as_u16(),
                        r.body.chars().take(200).collect::<String>()
                    ));
                }
                assert!(
                    r.cookie.is_none(),
                    "{route}: a token request starts no session"
                );
            }
        }
        assert!(wrong.is_empty(), "{}: {wrong:#?}", app.db_name);
        // Every ligature post of the matrix was refused whole: the registers are as planted.
        assert_eq!(
            app.store.ligature_fingerprint().await.unwrap(),
            fingerprint,
            "{}: a ligature post of the matrix changed a register",
            app.db_name
        );
    }
}

/// Personal API tokens: shown once, stored hashed, read the API as their owner is now, never
/// pages or changes; revoked, expired, made-up and disabled owners' tokens get 401; every
/// creation, use, refusal and revocation is audited without the token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_tokens_read_as_their_owner_until_revoked_or_expired() {
    for db in databases().await {
        let app = App::new(db).await;
        let admin = app.login("admin").await;
        let viewer = app.login("viewer").await;
        let ward = app.login("ward").await;
        let token = app.make_token(&viewer, "weekly+R+report").await;
        assert!(token.starts_with("mhsip_") && token.len() == 70, "{token}");
        // The page that shows it is not to be kept by a browser or proxy...
        let req = Request::post("/account/tokens")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("sec-fetch-site", "same-origin")
            .header(header::COOKIE, &viewer)
            .body(Body::from("label=cache+check&days=7"))
            .unwrap();
        let raw = app.router.clone().oneshot(req).await.unwrap();
        assert_eq!(raw.headers()[header::CACHE_CONTROL], "no-store");
        // ...and it is shown once: the list names it by its first characters only.
        let page = app.get("/account/tokens", Some(&viewer)).await.body;
        assert!(!page.contains(&token));
        assert!(page.contains(&token[..14]), "{page}");
        assert!(page.contains("weekly R report"));
        // Read with the viewer's grant: the summary yes, upload history no (as for the cookie).
        let r = app.get_bearer("/api/summary", &token).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(
            app.get_bearer("/api/uploads", &token).await.status,
            StatusCode::FORBIDDEN
        );
        let r = app
            .get_bearer("/api/series/R8B-CEDAR/ri_rate", &token)
            .await;
        assert!(
            r.body.contains("\"disclosure_controlled\":true"),
            "{}",
            r.body
        );
        // A ward user's token cannot read another ward, as the ward user cannot.
        let ward_token = app.make_token(&ward, "ward").await;
        assert_eq!(
            app.get_bearer("/api/series/R8A-ASH/ri_rate", &ward_token)
                .await
                .status,
            StatusCode::OK
        );
        assert_eq!(
            app.get_bearer("/api/series/R8B-CEDAR/ri_rate", &ward_token)
                .await
                .status,
            StatusCode::FORBIDDEN
        );
        // Never on pages, never for a change, even an admin's token.
        let admin_token = app.make_token(&admin, "admin").await;
        let r = app.get_bearer("/admin", &admin_token).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert!(r.location.starts_with("/login"));
        let r = app
            .post_bearer(
                "/admin/users",
                &admin_token,
                "name=via.token&password=a+long+enough+password&role=programme_admin",
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert!(
            !app.get("/admin", Some(&admin))
                .await
                .body
                .contains("via.token")
        );
        // Made-up, malformed and other schemes: 401 with a Bearer challenge.
        for bad in [
            format!("Bearer mhsip_{}", "f".repeat(64)),
            "Bearer".to_string(),
            "Basic dmlld2VyOmNvcnJlY3QgaG9yc2UgYmF0dGVyeQ==".to_string(),
            format!("Bearer {}x", token),
        ] {
            let req = Request::get("/api/summary")
                .header(header::AUTHORIZATION, bad.as_str())
                .body(Body::empty())
                .unwrap();
            let raw = app.router.clone().oneshot(req).await.unwrap();
            assert_eq!(raw.status(), StatusCode::UNAUTHORIZED, "{bad}");
            assert!(raw.headers().get(header::WWW_AUTHENTICATE).is_some());
        }
        // The owner's role is read at each request: a viewer made a ward user loses the region.
        let r = app
            .post_form(
                "/admin/users/viewer/grant",
                Some(&admin),
                "role=ward_user&ward=R8A-ASH",
            )
            .await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(
            app.get_bearer("/api/summary/R8B", &token).await.status,
            StatusCode::FORBIDDEN
        );
        // Disabling the owner stops the token at once; enabling them starts it again.
        app.post_form("/admin/users/viewer/disabled", Some(&admin), "disabled=yes")
            .await;
        assert_eq!(
            app.get_bearer("/api/measures", &token).await.status,
            StatusCode::UNAUTHORIZED
        );
        app.post_form("/admin/users/viewer/disabled", Some(&admin), "disabled=no")
            .await;
        assert_eq!(
            app.get_bearer("/api/measures", &token).await.status,
            StatusCode::OK
        );
        // Expired: 401.
        let expiring = app.make_token(&admin, "expiring").await;
        assert_eq!(
            app.get_bearer("/api/measures", &expiring).await.status,
            StatusCode::OK
        );
        sqlx::query("UPDATE api_tokens SET expires_at = $1 WHERE label = 'expiring'")
            .bind(time::OffsetDateTime::now_utc().unix_timestamp() - 1)
            .execute(app.store.pool())
            .await
            .unwrap();
        let r = app.get_bearer("/api/measures", &expiring).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert!(r.body.contains("expired"), "{}", r.body);
        assert!(
            app.get("/account/tokens", Some(&admin))
                .await
                .body
                .contains("Expired")
        );
        // Revoked on the page: 401. Only its owner can revoke it.
        let id: (i64,) =
            sqlx::query_as("SELECT id FROM api_tokens WHERE label = 'weekly R report'")
                .fetch_one(app.store.pool())
                .await
                .unwrap();
        let path = format!("/account/tokens/{}/revoke", id.0);
        assert_eq!(
            app.post_form(&path, Some(&ward), "").await.status,
            StatusCode::NOT_FOUND
        );
        let r = app.post_form(&path, Some(&viewer), "").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(r.location, "/account/tokens");
        assert_eq!(
            app.get_bearer("/api/measures", &token).await.status,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            app.post_form(&path, Some(&viewer), "").await.status,
            StatusCode::NOT_FOUND,
            "a revoked token cannot be revoked again"
        );
        // A token lasts at most 90 days.
        let r = app
            .post_form("/account/tokens", Some(&viewer), "label=forever&days=3650")
            .await;
        assert!(r.body.contains("at most 90 days"), "{}", r.body);
        assert!(!r.body.contains("readonly value=\"mhsip_"));
        // Audited, by token id; the token's text is kept nowhere, only its SHA-256.
        let cedar = app
            .get(
                "/admin/audit?user=viewer&action=token_used&org=R8B-CEDAR",
                Some(&admin),
            )
            .await
            .body;
        assert!(
            cedar.contains("1 entry matches"),
            "filed under R8B-CEDAR: {cedar}"
        );
        let log = app.get("/admin/audit?user=viewer", Some(&admin)).await.body;
        for action in [
            "token created",
            "token used",
            "token refused",
            "token revoked",
        ] {
            assert!(
                log.contains(&format!("<td>{action}</td>")),
                "{action}: {log}"
            );
        }
        let rows: Vec<(String, String, Option<String>)> =
            sqlx::query_as("SELECT user_name, target, detail FROM audit_log")
                .fetch_all(app.store.pool())
                .await
                .unwrap();
        for secret in [&token, &ward_token, &admin_token, &expiring] {
            assert!(
                !rows.iter().any(|(u, t, d)| u.contains(&secret[6..])
                    || t.contains(&secret[6..])
                    || d.as_deref().is_some_and(|d| d.contains(&secret[6..]))),
                "a token in the audit log"
            );
        }
        let hashes: Vec<(String,)> = sqlx::query_as("SELECT token_hash FROM api_tokens")
            .fetch_all(app.store.pool())
            .await
            .unwrap();
        assert!(
            hashes
                .iter()
                .all(|h| h.0.len() == 64 && !h.0.contains(&token[6..]))
        );
    }
}

/// Sessions end after `session_hours` without activity (activity moves the stored expiry on)
/// and `session_absolute_hours` after sign-in whatever the activity.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_end_after_inactivity_and_at_an_absolute_limit() {
    for db in databases().await {
        let app = App::new(db).await;
        let pool = app.store.pool().clone();
        let now = || time::OffsetDateTime::now_utc().unix_timestamp();
        let id_of = |cookie: &str| cookie.split_once('=').unwrap().1.to_string();
        let stored = |id: String| {
            let pool = pool.clone();
            async move {
                let (data, expires): (String, i64) =
                    sqlx::query_as("SELECT data, expires_at FROM sessions WHERE id = $1")
                        .bind(id)
                        .fetch_one(&pool)
                        .await
                        .unwrap();
                (
                    serde_json::from_str::<serde_json::Value>(&data).unwrap(),
                    expires,
                )
            }
        };
        let set = |id: String, data: serde_json::Value, expires: i64| {
            let pool = pool.clone();
            async move {
                sqlx::query("UPDATE sessions SET data = $1, expires_at = $2 WHERE id = $3")
                    .bind(data.to_string())
                    .bind(expires)
                    .bind(id)
                    .execute(&pool)
                    .await
                    .unwrap();
            }
        };
        // 8 hours from sign-in, by default.
        let viewer = app.login("viewer").await;
        let (data, expires) = stored(id_of(&viewer)).await;
        assert!((expires - (now() + 8 * 3600)).abs() < 60, "{expires}");
        assert!(
            data["signed_in_at"].is_i64() && data["seen_at"].is_i64(),
            "{data}"
        );
        // Inactive past its expiry: signed out.
        set(id_of(&viewer), data.clone(), now() - 1).await;
        let r = app.get("/measures", Some(&viewer)).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert!(r.location.starts_with("/login"));
        // Activity moves the expiry on (at most once a minute), and sends the cookie again.
        let viewer = app.login("viewer").await;
        let (mut data, _) = stored(id_of(&viewer)).await;
        data["seen_at"] = serde_json::json!(now() - 120);
        set(id_of(&viewer), data, now() + 100).await;
        let r = app.get("/measures", Some(&viewer)).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.cookie.is_some(), "the cookie's lifetime is renewed too");
        let (data, expires) = stored(id_of(&viewer)).await;
        assert!(
            expires > now() + 8 * 3600 - 60,
            "expiry moved on: {expires}"
        );
        let r = app.get("/measures", Some(&viewer)).await;
        assert!(r.cookie.is_none(), "no write on every request");
        assert_eq!(stored(id_of(&viewer)).await.1, expires);
        // Near the absolute limit the expiry is never moved past it...
        let mut near = data.clone();
        near["signed_in_at"] = serde_json::json!(now() - 11 * 3600);
        near["seen_at"] = serde_json::json!(now() - 120);
        set(id_of(&viewer), near, now() + 100).await;
        assert_eq!(
            app.get("/measures", Some(&viewer)).await.status,
            StatusCode::OK
        );
        let (_, capped) = stored(id_of(&viewer)).await;
        assert!(
            (capped - (now() + 3600)).abs() < 60,
            "capped at 12 hours: {capped}"
        );
        // ...and past it the session ends, however active.
        let mut old = data.clone();
        old["signed_in_at"] = serde_json::json!(now() - 12 * 3600 - 1);
        old["seen_at"] = serde_json::json!(now());
        set(id_of(&viewer), old, now() + 3600).await;
        let r = app.get("/measures", Some(&viewer)).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert!(r.location.starts_with("/login"));
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM sessions WHERE id = $1")
            .bind(id_of(&viewer))
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(n, 0, "the ended session is deleted");
        let admin = app.login("admin").await;
        let log = app
            .get("/admin/audit?action=session_ended", Some(&admin))
            .await
            .body;
        assert!(log.contains("time limit after sign-in"), "{log}");
    }
}

/// The rows of an audit log page: (id is not shown) when, who, action, target.
fn audit_rows(page: &str) -> Vec<String> {
    page.split("<tbody class=\"nhsuk-table__body\">")
        .nth(1)
        .unwrap_or("")
        .split("</tbody>")
        .next()
        .unwrap_or("")
        .split("<tr>")
        .skip(1)
        .map(|r| r.to_string())
        .collect()
}

/// The link of a pagination item ("next" or "previous"), if the page has one.
fn page_link(page: &str, which: &str) -> Option<String> {
    page.split(&format!(
        "nhsuk-pagination-item--{which}\"><a class=\"nhsuk-pagination__link\" href=\""
    ))
    .nth(1)
    .and_then(|s| s.split('"').next())
    .map(|s| {
        s.replace("&amp;", "&")
            .replace("&#38;", "&")
            .replace("&#x3d;", "=")
            .replace("&#61;", "=")
    })
}

/// The audit log is filtered by user, action, organisation and date, paged through with
/// links that need no JavaScript, and downloaded as CSV (itself audited).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_log_filters_pages_and_downloads() {
    for db in databases().await {
        let app = App::new(db).await;
        let admin = app.login("admin").await;
        for i in 0..150 {
            app.store
                .audit(
                    "lead",
                    "download",
                    "R8A-ASH",
                    Some(&format!("ri_rate as csv {i}")),
                )
                .await
                .unwrap();
        }
        for i in 0..60 {
            app.store
                .audit(
                    "viewer",
                    "download",
                    "R8B-CEDAR",
                    Some(&format!("ri_rate as svg {i}")),
                )
                .await
                .unwrap();
        }
        app.store
            .audit("lead", "login_failed", "=HYPERLINK(\"http://evil\")", None)
            .await
            .unwrap();
        // Paging through one user's downloads: 100, then 50, then back.
        let first = app
            .get("/admin/audit?user=lead&action=download", Some(&admin))
            .await
            .body;
        assert!(first.contains("150 entries match"), "{first}");
        let rows = audit_rows(&first);
        assert_eq!(rows.len(), 100);
        assert!(
            rows.iter()
                .all(|r| r.contains("<td>lead</td>") && r.contains("<td>download</td>"))
        );
        assert!(rows[0].contains("csv 149"), "newest first: {}", rows[0]);
        assert!(page_link(&first, "previous").is_none());
        let next = page_link(&first, "next").expect("a next page");
        assert!(
            next.contains("user=lead") && next.contains("action=download"),
            "{next}"
        );
        let second = app.get(&next, Some(&admin)).await.body;
        let rows2 = audit_rows(&second);
        assert_eq!(rows2.len(), 50, "{next}");
        assert!(rows2[49].contains("csv 0<"), "{}", rows2[49]);
        assert!(page_link(&second, "next").is_none());
        let back = page_link(&second, "previous").expect("a previous page");
        assert_eq!(audit_rows(&app.get(&back, Some(&admin)).await.body), rows);
        // By organisation: a trust includes its wards; another trust's entries are not there.
        let r8a = app
            .get("/admin/audit?org=r8a&action=download", Some(&admin))
            .await
            .body;
        assert!(r8a.contains("150 entries match"), "{r8a}");
        let cedar = app
            .get("/admin/audit?org=R8B-CEDAR", Some(&admin))
            .await
            .body;
        assert!(cedar.contains("60 entries match"), "{cedar}");
        // By date (UTC days, inclusive).
        let today = domain::dates::iso(time::OffsetDateTime::now_utc().date());
        let tomorrow =
            domain::dates::iso(time::OffsetDateTime::now_utc().date().next_day().unwrap());
        let yesterday = domain::dates::iso(
            time::OffsetDateTime::now_utc()
                .date()
                .previous_day()
                .unwrap(),
        );
        let on = |from: &str, to: &str| {
            format!("/admin/audit?user=viewer&action=download&from={from}&to={to}")
        };
        assert!(
            app.get(&on(&today, &today), Some(&admin))
                .await
                .body
                .contains("60 entries match")
        );
        assert!(
            app.get(&on(&tomorrow, ""), Some(&admin))
                .await
                .body
                .contains("0 entries match")
        );
        assert!(
            app.get(&on("", &yesterday), Some(&admin))
                .await
                .body
                .contains("0 entries match")
        );
        let r = app.get("/admin/audit?from=31/02/2025x", Some(&admin)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        // The CSV holds everything the filter matches, and its download is audited.
        let req = Request::get("/admin/audit/download?user=lead")
            .header(header::COOKIE, &admin)
            .body(Body::empty())
            .unwrap();
        let raw = app.router.clone().oneshot(req).await.unwrap();
        assert_eq!(raw.status(), StatusCode::OK);
        assert!(
            raw.headers()[header::CONTENT_DISPOSITION]
                .to_str()
                .unwrap()
                .contains("audit-log.csv")
        );
        let csv = String::from_utf8(raw.into_body().collect().await.unwrap().to_bytes().to_vec())
            .unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "id,at,user,action,target,organisation,detail");
        assert_eq!(lines.len(), 1 + 151, "{csv}");
        assert!(
            lines[1].contains("'=HYPERLINK"),
            "never a formula: {}",
            lines[1]
        );
        assert!(
            lines[2].ends_with(",lead,download,R8A-ASH,R8A-ASH,ri_rate as csv 149"),
            "{}",
            lines[2]
        );
        let log = app
            .get("/admin/audit?action=download_audit_log", Some(&admin))
            .await
            .body;
        assert!(log.contains("user=lead (151 entries) as csv"), "{log}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn figures_about_other_organisations_are_disclosure_controlled() {
    for db in databases().await {
        let app = App::new(db).await;
        let admin = app.login("admin").await;
        let lead = app.login("lead").await;
        let csv = |r: Resp| r.body;
        // The example region's counts are all small: the admin sees them exactly...
        let exact = csv(app
            .get("/chart/R8B-CEDAR/ri_rate/download/csv", Some(&admin))
            .await);
        let second = exact.lines().nth(1).unwrap();
        assert!(!second.contains('*'), "{exact}");
        // ...a trust lead looking at another trust sees them starred, and no charted value.
        let starred = csv(app
            .get("/chart/R8B-CEDAR/ri_rate/download/csv", Some(&lead))
            .await);
        let row = starred.lines().nth(1).unwrap();
        assert!(row.contains(",*,"), "{starred}");
        assert!(row.contains("suppressed"), "{starred}");
        // ...but their own trust's ward exactly.
        let own = csv(app
            .get("/chart/R8A-ASH/ri_rate/download/csv", Some(&lead))
            .await);
        assert!(!own.lines().nth(1).unwrap().contains('*'), "{own}");
        let api = app.get("/api/series/R8B-CEDAR/ri_rate", Some(&lead)).await;
        assert!(
            api.body.contains("\"disclosure_controlled\":true"),
            "{}",
            api.body
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_sign_out_and_the_limits_on_attempts() {
    for db in databases().await {
        let app = App::new(db).await;
        // A wrong password says so, without saying which part was wrong.
        let r = app
            .post_form("/login", None, "username=admin&password=wrong&next=/")
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert!(r.body.contains("The username or password is not right."));
        // After five failures the account is locked for a while, even with the right password.
        for _ in 0..4 {
            app.post_form("/login", None, "username=admin&password=wrong&next=/")
                .await;
        }
        let r = app
            .post_form(
                "/login",
                None,
                "username=admin&password=correct+horse+battery&next=/",
            )
            .await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
        // Other accounts are not affected; login sends people on to a local page only.
        let r = app
            .post_form(
                "/login",
                None,
                "username=viewer&password=correct+horse+battery&next=https://evil.example/",
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(r.location, "/");
        let viewer = r.cookie.unwrap();
        // The session cookie is HttpOnly, SameSite=Strict and Secure.
        let raw = app
            .router
            .clone()
            .oneshot(
                Request::post("/login")
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(Body::from("username=lead&password=correct+horse+battery"))
                    .unwrap(),
            )
            .await
            .unwrap();
        let set = raw
            .headers()
            .get(header::SET_COOKIE)
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        for attr in ["HttpOnly", "SameSite=Strict", "Secure"] {
            assert!(set.contains(attr), "{set}");
        }
        assert_eq!(
            app.get("/measures", Some(&viewer)).await.status,
            StatusCode::OK
        );
        let r = app.post_form("/logout", Some(&viewer), "").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(
            app.get("/measures", Some(&viewer)).await.status,
            StatusCode::SEE_OTHER
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_site_form_posts_are_refused() {
    for db in databases().await {
        let app = App::new(db).await;
        let admin = app.login("admin").await;
        let req = Request::post("/admin/users")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, &admin)
            .header("sec-fetch-site", "cross-site")
            .body(Body::from(
                "name=intruder&password=a+long+enough+password&role=programme_admin",
            ))
            .unwrap();
        assert_eq!(app.send(req).await.status, StatusCode::FORBIDDEN);
        let req = Request::post("/admin/users")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, &admin)
            .header(header::HOST, "mhsip.example")
            .header(header::ORIGIN, "https://evil.example")
            .body(Body::from(
                "name=intruder&password=a+long+enough+password&role=programme_admin",
            ))
            .unwrap();
        assert_eq!(app.send(req).await.status, StatusCode::FORBIDDEN);
        let users = app.get("/admin", Some(&admin)).await.body;
        assert!(!users.contains("intruder"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_account_is_signed_out_at_once() {
    for db in databases().await {
        let app = App::new(db).await;
        let admin = app.login("admin").await;
        let viewer = app.login("viewer").await;
        assert_eq!(app.get("/", Some(&viewer)).await.status, StatusCode::OK);
        let r = app
            .post_form("/admin/users/viewer/disabled", Some(&admin), "disabled=yes")
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let r = app.get("/", Some(&viewer)).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert!(r.location.starts_with("/login"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_is_checked_then_confirmed_and_audited() {
    for db in databases().await {
        let store = db.store.clone();
        let app = App::new(db).await;
        let uploader = app.login("uploader").await;
        // Everything but the audit log, which records the checks themselves.
        let data = || async {
            let mut f = store.fingerprint().await.unwrap();
            f.retain(|(t, _)| t != "audit_log");
            f
        };
        let before = data().await;
        // A bad row: its file, line and column, and nothing imported.
        let good =
            std::fs::read_to_string(common::example("restrictive_interventions.csv")).unwrap();
        let bad = good.replacen("9990000018", "9990000019", 1);
        let r = app
            .post_file(
                &uploader,
                "restrictive_interventions",
                "datix.csv",
                bad.as_bytes(),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("Nothing was imported"), "{}", r.body);
        assert!(r.body.contains("datix.csv:2:10: NHSNumber"), "{}", r.body);
        assert_eq!(data().await, before);
        // Rows of another trust are refused for an uploader of R8A.
        let r = app
            .post_file(
                &uploader,
                "restrictive_interventions",
                "all.csv",
                good.as_bytes(),
            )
            .await;
        assert!(r.body.contains("you can upload only for R8A"), "{}", r.body);
        // R8A's own rows: a preview, then the import on confirmation.
        let own: String = good
            .lines()
            .enumerate()
            .filter(|(i, l)| *i == 0 || l.contains(",R8A-"))
            .map(|(_, l)| format!("{l}\n"))
            .collect();
        let r = app
            .post_file(
                &uploader,
                "restrictive_interventions",
                "own.csv",
                own.as_bytes(),
            )
            .await;
        assert!(r.body.contains("Check before importing"), "{}", r.body);
        assert_eq!(data().await, before, "a dry run changes nothing");
        let token = r.upload_token();
        let r = app
            .post_form(
                "/uploads/confirm",
                Some(&uploader),
                &format!("token={token}"),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("Imported"), "{}", r.body);
        // The same token cannot be used twice.
        let r = app
            .post_form(
                "/uploads/confirm",
                Some(&uploader),
                &format!("token={token}"),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        // The admin sees it all in the audit log: checks, the upload, downloads.
        let admin = app.login("admin").await;
        app.get("/chart/R8A-ASH/ri_rate/download/xlsx", Some(&admin))
            .await;
        let log = app.get("/admin/audit", Some(&admin)).await.body;
        for action in ["upload checked", "upload", "download", "login"] {
            assert!(
                log.contains(&format!("<td>{action}</td>")),
                "{action}: {log}"
            );
        }
        assert!(
            !log.contains("9990000018"),
            "no NHS number in the audit log"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_annotation_appears_on_the_chart_and_can_rebase_it() {
    for db in databases().await {
        let app = App::new(db).await;
        let ward = app.login("ward").await;
        let r = app
            .post_form(
                "/chart/R8A-ASH/ri_rate/annotations",
                Some(&ward),
                "date=01/02/2024&text=Started+safety+huddles&rebase=yes&period=month",
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let page = app.get(&r.location, Some(&ward)).await.body;
        assert!(
            page.contains("2024-02-01 Started safety huddles (rebased)"),
            "{page}"
        );
        assert!(page.contains("2 segments"), "{page}");
        let off = app
            .get("/chart/R8A-ASH/ri_rate?rebase=off", Some(&ward))
            .await
            .body;
        assert!(!off.contains("2 segments"));
        // An empty note is refused with a reason.
        let r = app
            .post_form(
                "/chart/R8A-ASH/ri_rate/annotations",
                Some(&ward),
                "date=2024-02-01&text=",
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.body.contains("an annotation needs a short text"));
    }
}

/// The chart page, its download and the API give the numbers `store::measures` computes for
/// that measure and ward (and not another measure's: they share one cached computation).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_gives_the_same_numbers_as_the_measures() {
    for db in databases().await {
        let store = db.store.clone();
        let app = App::new(db).await;
        let admin = app.login("admin").await;
        let (first, last) = store.data_range().await.unwrap().unwrap();
        for id in [
            "ri_rate",
            "ri_prone_rate",
            "pct_incidents_reviewed_with_patient",
            "self_harm_rate",
        ] {
            let m = domain::measures::find(id).unwrap();
            let q = store::measures::Query {
                level: domain::OrgLevel::Ward,
                period: domain::dates::PeriodKind::Month,
                from: domain::dates::date_from_day(first as i32),
                to: domain::dates::date_from_day(last as i32),
                scope: Some((domain::OrgLevel::Ward, "R8A-ASH".into())),
            };
            let series = store
                .compute_measures(&q, std::slice::from_ref(&m))
                .await
                .unwrap();
            let expected: Vec<String> = series[0]
                .points
                .iter()
                .map(|p| {
                    p.value
                        .map(|v| format!("{}", (v * 10_000.0).round() / 10_000.0))
                        .unwrap_or_default()
                })
                .collect();
            let csv = app
                .get(&format!("/chart/R8A-ASH/{id}/download/csv"), Some(&admin))
                .await
                .body;
            let values: Vec<String> = csv
                .lines()
                .skip(1)
                .map(|l| l.split(',').nth(3).unwrap().to_string())
                .collect();
            assert_eq!(values, expected, "{id}: {csv}");
            // The page says which uploads the numbers came from.
            let page = app
                .get(&format!("/chart/R8A-ASH/{id}"), Some(&admin))
                .await
                .body;
            assert!(
                page.contains("<code>restrictive_interventions.csv</code>"),
                "{page}"
            );
            let api = app
                .get(&format!("/api/series/R8A-ASH/{id}"), Some(&admin))
                .await
                .body;
            let json: serde_json::Value = serde_json::from_str(&api).unwrap();
            assert_eq!(json["measure"], id);
            let api_values: Vec<String> = json["points"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    p["value"]
                        .as_f64()
                        .map(|v| format!("{v}"))
                        .unwrap_or_default()
                })
                .collect();
            assert_eq!(api_values, expected, "{id}");
        }
    }
}

/// A changed role applies from the user's next request; an admin cannot change their own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_role_takes_effect_at_once() {
    for db in databases().await {
        let app = App::new(db).await;
        let admin = app.login("admin").await;
        let viewer = app.login("viewer").await;
        assert_eq!(
            app.get("/org/R8B", Some(&viewer)).await.status,
            StatusCode::OK
        );
        let r = app
            .post_form(
                "/admin/users/viewer/grant",
                Some(&admin),
                "role=ward_user&ward=R8A-ASH",
            )
            .await;
        assert!(r.body.contains("viewer is now a ward user"), "{}", r.body);
        assert_eq!(
            app.get("/org/R8B", Some(&viewer)).await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            app.get("/org/R8A-ASH", Some(&viewer)).await.status,
            StatusCode::OK
        );
        let r = app
            .post_form(
                "/admin/users/viewer/grant",
                Some(&admin),
                "role=trust_lead&trust=NOPE",
            )
            .await;
        assert!(r.body.contains("there is no trust NOPE"), "{}", r.body);
        let r = app
            .post_form(
                "/admin/users/admin/grant",
                Some(&admin),
                "role=programme_viewer",
            )
            .await;
        assert!(r.body.contains("You cannot change your own role"));
        let log = app.get("/admin/audit", Some(&admin)).await.body;
        assert!(log.contains("change role"));
    }
}

/// The sign-in page says how to sign in only on a demo database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sign_in_page_names_the_demo_logins_only_on_a_demo() {
    for db in databases().await {
        let store = db.store.clone();
        let app = App::new(db).await;
        assert!(
            !app.get("/login", None)
                .await
                .body
                .contains("This is the demo region")
        );
        store
            .set_meta(
                "demo_logins",
                "admin (programme admin); password demo-password",
            )
            .await
            .unwrap();
        let page = app.get("/login", None).await.body;
        assert!(page.contains("This is the demo region"), "{page}");
        assert!(page.contains("admin (programme admin); password demo-password"));
    }
}

/// The overview warns about trusts whose recent months look incomplete, before the matrix.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_overview_warns_about_incomplete_recent_data() {
    for db in databases().await {
        let store = db.store.clone();
        let app = App::new(db).await;
        let admin = app.login("admin").await;
        let page = app.get("/", Some(&admin)).await.body;
        // The example region's wards report every month they have bed days for.
        let (first, last) = store.data_range().await.unwrap().unwrap();
        let rows = store
            .completeness(
                domain::dates::date_from_day(first as i32),
                domain::dates::date_from_day(last as i32),
                None,
            )
            .await
            .unwrap();
        let flagged = rows
            .iter()
            .filter(|r| r.status != store::completeness::Status::Complete)
            .count();
        assert_eq!(
            page.contains("Check the data before comparing trusts"),
            flagged > 0,
            "{flagged} flagged ward-months"
        );
        // Remove a ward-month's bed days: the warning names the trust.
        delete_last_bed_days_of_ash(&store).await;
        // The next generation is computed in the background; wait for it.
        app.state.settled().await.unwrap();
        let page = app.get("/", Some(&admin)).await.body;
        assert!(
            page.contains("Check the data before comparing trusts"),
            "{page}"
        );
        assert!(page.contains("/completeness?org=R8A"));
    }
}

/// Delete one of R8A-ASH's bed-day rows, as an incomplete upload would leave it, and record an
/// upload (as the import would) so the cache notices the data changed.
async fn delete_last_bed_days_of_ash(store: &store::Store) {
    use sqlx::Executor;
    let pool = store.pool();
    pool.execute("DELETE FROM bed_days WHERE ward_code = 'R8A-ASH' AND day = (SELECT MAX(day) FROM bed_days WHERE ward_code = 'R8A-ASH')")
        .await
        .unwrap();
    pool.execute("INSERT INTO uploads (kind, file_name, sha256, uploaded_by, trust_code, uploaded_at, rows_total, rows_inserted, rows_updated, mapping) \
                  VALUES ('bed_days', 'fix.csv', '00', 'test', 'R8A', '2026-01-01T00:00:00Z', 0, 0, 0, NULL)")
        .await
        .unwrap();
}

/// The ward and board reports hold the numbers the summaries show (same month, same series,
/// same notes), come as PDF files, say when figures are disclosure-controlled, and refuse a
/// month they cannot read with a message naming it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reports_hold_the_numbers_of_the_pages_and_come_as_pdf() {
    for db in databases().await {
        let app = App::new(db).await;
        let ward = app.login("ward").await;
        let page = app.get("/reports/ward/R8A-ASH", Some(&ward)).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains("monthly safety report"));
        assert!(
            page.body
                .contains("/reports/ward/R8A-ASH/pdf?month=2024-03")
        );
        let api: serde_json::Value =
            serde_json::from_str(&app.get("/api/summary/R8A-ASH", Some(&ward)).await.body).unwrap();
        let mut compared = 0;
        for row in api["rows"].as_array().unwrap() {
            let (Some(value), Some(label)) =
                (row["latest_value"].as_f64(), row["latest_period"].as_str())
            else {
                continue;
            };
            let title = row["title"].as_str().unwrap();
            let cell = page
                .body
                .split("<tr class=\"nhsuk-table__row\">")
                .find(|tr| tr.contains(&format!(">{}</td>", html_escape(title))))
                .unwrap_or_else(|| panic!("{}: no row for {title}", app.db_name));
            let latest = cell
                .split("<td class=\"nhsuk-table__cell\">")
                .nth(2)
                .and_then(|c| c.split("</td>").next())
                .unwrap();
            assert!(latest.ends_with(&format!("({label})")), "{title}: {latest}");
            let shown: f64 = latest
                .split(' ')
                .next()
                .unwrap()
                .trim_end_matches('%')
                .parse()
                .unwrap();
            assert!(
                (shown - value).abs() < 0.051,
                "{title}: report {shown}, summary {value}"
            );
            compared += 1;
        }
        assert!(compared >= 5, "{compared} measures compared");

        let pdf = app
            .get("/reports/ward/R8A-ASH/pdf?month=2024-03", Some(&ward))
            .await;
        assert_eq!(pdf.status, StatusCode::OK);
        assert!(pdf.body.starts_with("%PDF-"));
        let audit = app.store.audit_log(20).await.unwrap();
        assert!(audit.iter().any(|a| a.action == "download_ward_report"));

        let lead = app.login("lead").await;
        let board = app.get("/reports/board/R8A", Some(&lead)).await;
        assert_eq!(board.status, StatusCode::OK);
        assert!(board.body.contains("Summary matrix"));
        assert!(!board.body.contains("disclosure-controlled for you"));
        let other = app.get("/reports/board/R8B", Some(&lead)).await;
        assert!(other.body.contains("disclosure-controlled for you"));
        let bad = app
            .get("/reports/ward/R8A-ASH?month=March", Some(&lead))
            .await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        assert!(
            bad.body.contains("expected a month as YYYY-MM"),
            "{}",
            bad.body
        );
    }
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// A ward's page says what arrived since the user last opened it: nothing on a first visit,
/// then the notes added to the ward's charts and the uploads for its trust, then nothing new.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ward_page_says_what_is_new_since_the_last_visit() {
    for db in databases().await {
        let app = App::new(db).await;
        let ward = app.login("ward").await;
        let first = app.get("/org/R8A-ASH", Some(&ward)).await.body;
        assert!(
            !first.contains("New since your last visit"),
            "{}",
            app.db_name
        );
        let r = app
            .post_form(
                "/chart/R8A-ASH/ri_rate/annotations",
                Some(&ward),
                "date=2024-02-01&text=Started+safety+huddles&period=month",
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let second = app.get("/org/R8A-ASH", Some(&ward)).await.body;
        assert!(second.contains("New since your last visit"), "{second}");
        assert!(
            second.contains("2024-02-01: Started safety huddles (ward)"),
            "{second}"
        );
        // Another user's first visit is their own.
        let lead = app.login("lead").await;
        let theirs = app.get("/org/R8A-ASH", Some(&lead)).await.body;
        assert!(!theirs.contains("New since your last visit"));
        // What arrived in the second of the last visit shows once more; a visit in a later
        // second moves the mark past it.
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        app.get("/org/R8A-ASH", Some(&ward)).await;
        let third = app.get("/org/R8A-ASH", Some(&ward)).await.body;
        assert!(third.contains("Nothing new"), "{third}");
    }
}

/// An upload bound to one trust is recomputed for that trust only (its series and parts spliced
/// into the ones across trusts, the region's and ICB's added up again from the parts after the
/// swap), and what is served then is exactly what a whole recomputation gives, at every level
/// (that the parts add up to what the store reads directly is
/// `ingest/tests/measures.rs::levels_above_a_trust_added_up_from_trusts_are_read_directly`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trust_s_upload_recomputed_alone_serves_the_same_figures_as_a_whole_recomputation() {
    for db in databases().await {
        let app = App::new(db).await;
        let admin = app.login("admin").await;
        let paths = [
            "/chart/R8A-ASH/ri_rate/download/csv",
            "/chart/R8A-BIRCH/pct_inpatients_restricted/download/csv",
            "/chart/R8A/median_restraint_minutes/download/csv",
            "/chart/R8A-ASH/days_between_self_harm/download/csv",
            "/chart/R8B-CEDAR/ri_rate/download/csv",
            "/chart/R8A/ri_rate/download/csv",
            "/chart/R8B/ri_rate/download/csv",
            "/chart/Q98/ri_rate/download/csv",
            "/chart/Y98/ri_rate/download/csv",
            "/api/summary/R8A",
            "/api/summary/Y98",
            "/completeness?org=R8A",
            "/completeness",
            // Added up from the trusts' parts: distinct inpatients, a median, weeks.
            "/chart/Y98/pct_inpatients_restricted/download/csv",
            "/chart/Q98/median_restraint_minutes/download/csv",
            "/chart/Y98/pct_inpatients_restricted/download/csv?period=week",
            "/chart/Q98/days_between_self_harm/download/csv",
        ];
        let before = read_all(&app, &admin, &paths).await;
        app.state.settled().await.unwrap();
        let before_settled = read_all(&app, &admin, &paths).await;
        // R8A's upload (bound to the trust): the cache recomputes what R8A's rows feed.
        delete_last_bed_days_of_ash(&app.state.store().clone()).await;
        app.state.settled().await.unwrap();
        let incremental = read_all(&app, &admin, &paths).await;
        assert_ne!(
            incremental[0], before_settled[0],
            "{}: the ward's figures moved",
            app.db_name
        );
        assert_eq!(
            incremental[4], before_settled[4],
            "{}: the other trust's ward is untouched",
            app.db_name
        );
        assert_ne!(
            incremental[8], before_settled[8],
            "{}: the region's figures moved with the ward's",
            app.db_name
        );
        assert_eq!(before.len(), incremental.len());
        // An upload not bound to a trust (a programme admin's) makes the cache recompute
        // everything: the figures must not move.
        use sqlx::Executor;
        app.state.store().pool()
            .execute("INSERT INTO uploads (kind, file_name, sha256, uploaded_by, trust_code, uploaded_at, rows_total, rows_inserted, rows_updated, mapping) \
                      VALUES ('bed_days', 'nothing.csv', '01', 'test', NULL, '2026-01-02T00:00:00Z', 0, 0, 0, NULL)")
            .await
            .unwrap();
        app.state.settled().await.unwrap();
        let whole = read_all(&app, &admin, &paths).await;
        for (p, (a, b)) in paths.iter().zip(incremental.iter().zip(&whole)) {
            assert_eq!(
                a, b,
                "{}: {p} differs from a whole recomputation",
                app.db_name
            );
        }
    }
}

/// Each path's body, read twice (a chart's first view may compute its one measure alone).
async fn read_all(app: &App, admin: &str, paths: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for p in paths {
        app.get(p, Some(admin)).await;
        let r = app.get(p, Some(admin)).await;
        assert_eq!(r.status, StatusCode::OK, "{}: {p}: {}", app.db_name, r.body);
        out.push(r.body);
    }
    out
}
