//! The JSON API: the measure catalogue, summaries, series with their SPC analysis, and upload
//! history, under the same sign-in and authorization as the pages. Described by an OpenAPI
//! document at /api/openapi.json.

use crate::AppState;
use crate::access;
use crate::auth::CurrentUser;
use crate::error::{ApiError, AppError};
use crate::pages::chart_page::{ChartQuery, draw, prepare};
use crate::pages::overview::{Filters, summary_rows};
use crate::pages::summary::{self, SummaryRow};
use crate::pages::uploads::history_scope;
use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use domain::OrgLevel;
use serde_json::{Value, json};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi))
        .route("/measures", get(measures))
        .route("/summary", get(region_summary))
        .route("/summary/{org}", get(org_summary))
        .route("/series/{org}/{measure}", get(series))
        .route("/uploads", get(uploads))
        .route("/qi/projects", get(crate::pages::qi::api_list))
        .route("/qi/projects/{id}", get(crate::pages::qi::api_project))
        .route("/freed/services", get(crate::pages::freed::api_services))
        .route(
            "/freed/{service}/clocks",
            get(crate::pages::freed::api_clocks),
        )
        .merge(crate::pages::freed::inequalities::api_routes())
        .merge(crate::pages::ligature::api_routes())
        .merge(crate::pages::network::api_routes())
        .fallback(|| async { ApiError(AppError::NotFound) })
}

async fn measures(_user: CurrentUser) -> Json<Value> {
    // The ward safety catalogue, then FREED's (issue 14).
    let all: Vec<_> = domain::measures::catalogue()
        .into_iter()
        .chain(domain::measures::ligature_catalogue())
        .chain(domain::measures::beyond_inpatient_catalogue())
        .chain(domain::measures::freed_catalogue())
        .collect();
    Json(json!({ "measures": all }))
}

async fn region_summary(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(f): Query<Filters>,
) -> Result<Json<Value>, ApiError> {
    let (objective, period) = summary::filters(f.objective.as_deref(), f.period.as_deref())?;
    let snap = state.cache.current(&state.store).await?;
    let rows = summary_rows(&state, &snap, &user, objective, period).await?;
    Ok(Json(json!({ "period": period.as_str(), "rows": rows })))
}

/// One organisation's rows; for a trust, its wards' rows too.
async fn org_summary(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(org): Path<String>,
    Query(f): Query<Filters>,
) -> Result<Json<Value>, ApiError> {
    let (objective, period) = summary::filters(f.objective.as_deref(), f.period.as_deref())?;
    let snap = state.cache.current(&state.store).await?;
    let viewing = access::view(&user, &snap.orgs, &org)?;
    let measures = summary::measures_of(objective);
    let scope = crate::pages::org::series_key(&viewing.org, period, None).scope;
    let level = viewing.org.level;
    let mut rows: Vec<SummaryRow> = summary::rows_for(
        &state,
        &snap,
        std::slice::from_ref(&viewing),
        level,
        scope,
        &measures,
        period,
    )
    .await?;
    if level == OrgLevel::Trust {
        let wards = summary::visible_wards(&user, &snap, &viewing.org.code);
        rows.extend(
            summary::rows_for(
                &state,
                &snap,
                &wards,
                OrgLevel::Ward,
                Some((OrgLevel::Trust, viewing.org.code.clone())),
                &measures,
                period,
            )
            .await?,
        );
    }
    Ok(Json(
        json!({ "org": viewing.org.code, "period": period.as_str(), "rows": rows }),
    ))
}

async fn series(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((org, measure)): Path<(String, String)>,
    Query(q): Query<ChartQuery>,
) -> Result<Json<Value>, ApiError> {
    let p = prepare(&state, &user, &org, &measure, &q).await?;
    let c = draw(&p, &q)?;
    let s = &c.analysis.summary;
    Ok(Json(json!({
        "org": p.viewing.org.code,
        "measure": p.measure.id,
        "measure_version": p.measure.version,
        "period": p.period.as_str(),
        "chart": p.measure.chart.to_string(),
        "disclosure_controlled": p.viewing.policy().is_some(),
        "withheld": c.withheld.then_some(crate::chart::WITHHELD),
        "target": c.settings.target,
        "variation": s.variation.map(|v| v.as_str()),
        "assurance": s.assurance.as_str(),
        "segments": s.segments,
        "points": c.rows,
    })))
}

async fn uploads(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Value>, ApiError> {
    let scope = history_scope(&user)?;
    let rows = state.store.uploads(scope.as_deref(), 500).await?;
    Ok(Json(json!({ "uploads": rows })))
}

/// The OpenAPI 3.1 description of this API.
async fn openapi() -> Json<Value> {
    let text = |d: &str| json!({ "type": "string", "description": d });
    let params = json!([
        { "name": "objective", "in": "query", "schema": { "type": "string", "enum": ["all", "restrictive_practice", "self_harm_awol", "sexual_safety"] } },
        { "name": "period", "in": "query", "schema": { "type": "string", "enum": ["month", "week"], "default": "month" } }
    ]);
    let err = json!({ "description": "Error", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } });
    let errors = json!({ "400": err, "401": err, "403": err, "404": err });
    let with_errors = |ok: Value| {
        let mut m = errors.as_object().cloned().unwrap_or_default();
        m.insert("200".into(), ok);
        Value::Object(m)
    };
    let ok = |schema: Value| json!({ "description": "OK", "content": { "application/json": { "schema": schema } } });
    let mut doc = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "MHSIP API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Measures, summaries, SPC series and uploads of the mental health safety improvement platform. Either send a personal API token (made at /account/tokens, shown once, with an expiry of at most 90 days) as `Authorization: Bearer mhsip_...`, or sign in with POST /login (form fields username, password) and send the session cookie. A token reads with its owner's role and organisation as they are at each request; it is accepted only by these GET routes, never by the pages or any change. A revoked, expired, unknown or malformed token, or one whose owner is disabled, gets 401. What each user sees follows their role and organisation; figures about other organisations are disclosure-controlled.\n\nExample: curl -H \"Authorization: Bearer $MHSIP_TOKEN\" https://mhsip.example/api/summary"
        },
        "components": {
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer", "description": "A personal API token from /account/tokens (mhsip_ followed by 64 hexadecimal characters)" },
                "session": { "type": "apiKey", "in": "cookie", "name": "mhsip_session", "description": "The session cookie set by POST /login" }
            },
            "schemas": {
                "Error": { "type": "object", "properties": { "error": text("What went wrong") }, "required": ["error"] },
                "SummaryRow": { "type": "object", "properties": {
                    "org": text("ODS or ward code"), "org_name": text("Name"), "measure": text("Measure id"),
                    "title": text("Measure title"), "unit": text("Unit"),
                    "latest_period": { "type": ["string", "null"] }, "latest_value": { "type": ["number", "null"] },
                    "variation": { "type": ["string", "null"], "enum": ["common_cause", "improvement_high", "improvement_low", "concern_high", "concern_low", "neutral_high", "neutral_low", null] },
                    "assurance": { "type": ["string", "null"], "enum": ["pass", "fail", "hit_or_miss", null] },
                    "target": { "type": ["number", "null"] }, "disclosure_controlled": { "type": "boolean" }
                } },
                "Point": { "type": "object", "properties": {
                    "period": text("Period label"), "numerator": text("Count (or * when suppressed)"), "denominator": text("Denominator"),
                    "value": { "type": ["number", "null"] }, "centre": { "type": ["number", "null"] },
                    "lower_limit": { "type": ["number", "null"] }, "upper_limit": { "type": ["number", "null"] },
                    "point_type": text("common_cause, improvement, concern, neutral_high, neutral_low, suppressed, or empty for a gap"),
                    "segment": { "type": "integer" }, "annotation": text("Notes on this point")
                } },
                "QiSuggestion": { "type": ["object", "null"], "description": "The score suggested from the record and the SPC of the measures (null when it could not be worked out; see suggestion_error)", "properties": {
                    "score": { "type": "number", "description": "0.5 to 5.0 in steps of 0.5" },
                    "rule": { "type": "object", "properties": { "score": { "type": "number" }, "name": { "type": "string" }, "text": { "type": "string" } } },
                    "evidence": { "type": "array", "items": { "type": "object", "properties": {
                        "kind": text("record, baseline, cycle_done, improvement, new_centre, target_met, sustained, balancing_clear or spread"),
                        "measure": { "type": ["object", "null"], "description": "{kind: catalogue|project, id}" },
                        "role": { "type": ["string", "null"], "enum": ["outcome", "process", "balancing", null] },
                        "since": { "type": ["string", "null"], "format": "date" },
                        "text": text("The evidence in a sentence")
                    } } },
                    "next": { "type": ["object", "null"], "properties": { "score": { "type": "number" }, "missing": { "type": "array", "items": { "type": "string" } } } }
                } },
                "QiSetScore": { "type": ["object", "null"], "properties": { "score": { "type": "number" }, "reason": { "type": "string" }, "user": { "type": "string" }, "at": text("UTC, YYYY-MM-DD HH:MM:SS") } },
                "QiProjectSummary": { "type": "object", "properties": {
                    "id": { "type": "integer" }, "title": { "type": "string" },
                    "organisation": { "type": "object", "properties": { "level": { "type": "string", "enum": ["ward", "site", "trust"] }, "code": { "type": "string" }, "name": { "type": "string" } } },
                    "status": { "type": "string", "enum": ["active", "paused", "completed", "stopped"] },
                    "aim": { "type": ["object", "null"], "description": "{measure: {kind, id}, baseline, target, target_date}" },
                    "cycles": { "type": "integer", "description": "Number of PDSA cycles" },
                    "suggested": { "$ref": "#/components/schemas/QiSuggestion" },
                    "suggestion_error": { "type": ["string", "null"] },
                    "set_score": { "$ref": "#/components/schemas/QiSetScore" }
                } },
                "QiProject": { "type": "object", "properties": {
                    "id": { "type": "integer" }, "organisation_name": { "type": "string" },
                    "created_by": { "type": "string" }, "created_at": { "type": "string" }, "updated_at": { "type": "string" },
                    "project": { "type": "object", "description": "The record as docs/qi.md describes it: title, organisation, charter, team, aim, status, measures, diagram, cycles (each with change_idea, question, prediction, plan, do, study, act, next), spread" },
                    "own_measures": { "type": "array", "items": { "type": "object", "properties": { "id": { "type": "string" }, "name": { "type": "string" }, "unit": { "type": "string" }, "direction": { "type": "string", "enum": ["increase", "decrease", "neutral"] }, "values": { "type": "array", "items": { "type": "object", "properties": { "month": { "type": "string", "format": "date" }, "value": { "type": "number" } } } } } } },
                    "status_history": { "type": "array", "items": { "type": "object", "properties": { "status": { "type": "string" }, "user": { "type": "string" }, "at": { "type": "string" } } } },
                    "suggested": { "$ref": "#/components/schemas/QiSuggestion" },
                    "suggestion_error": { "type": ["string", "null"] },
                    "set_score": { "$ref": "#/components/schemas/QiSetScore" },
                    "scores": { "type": "array", "items": { "$ref": "#/components/schemas/QiSetScore" }, "description": "Every score set by hand, newest first" },
                    "disclosure_controlled": { "type": "boolean" },
                    "can_edit": { "type": "boolean" }
                } }
            }
        },
        "security": [{ "bearer": [] }, { "session": [] }],
        "paths": {
            "/api/measures": { "get": { "summary": "The measure catalogue", "responses": with_errors(ok(json!({ "type": "object" }))) } },
            "/api/summary": { "get": { "summary": "Region overview: one row per trust (and the region) and measure", "parameters": params, "responses": with_errors(ok(json!({ "type": "object", "properties": { "period": { "type": "string" }, "rows": { "type": "array", "items": { "$ref": "#/components/schemas/SummaryRow" } } } }))) } },
            "/api/summary/{org}": { "get": { "summary": "One organisation's rows (a trust's with its wards')", "parameters": [
                { "name": "org", "in": "path", "required": true, "schema": { "type": "string" } },
                params[0], params[1]
            ], "responses": with_errors(ok(json!({ "type": "object", "properties": { "org": { "type": "string" }, "period": { "type": "string" }, "rows": { "type": "array", "items": { "$ref": "#/components/schemas/SummaryRow" } } } }))) } },
            "/api/series/{org}/{measure}": { "get": { "summary": "One measure for one organisation with its SPC analysis", "parameters": [
                { "name": "org", "in": "path", "required": true, "schema": { "type": "string" } },
                { "name": "measure", "in": "path", "required": true, "schema": { "type": "string" } },
                params[1],
                { "name": "rebase", "in": "query", "schema": { "type": "string", "enum": ["on", "off"] } },
                { "name": "at", "in": "query", "schema": { "type": "string", "format": "date" } },
                { "name": "target", "in": "query", "schema": { "type": "number" } }
            ], "responses": with_errors(ok(json!({ "type": "object", "properties": {
                "points": { "type": "array", "items": { "$ref": "#/components/schemas/Point" } },
                "disclosure_controlled": { "type": "boolean", "description": "The figures are about another organisation and pass disclosure control (docs/web.md, 'Who sees what')" },
                "withheld": { "type": ["string", "null"], "description": "Why the points are withheld: an event-level measure (days between incidents) is never shown under disclosure control" }
            } }))) } },
            "/api/uploads": { "get": { "summary": "Upload history (admins: all; uploaders and trust leads: their trust)", "responses": with_errors(ok(json!({ "type": "object" }))) } },
            "/api/qi/projects": { "get": { "summary": "Quality improvement projects the user may see, each with its suggested score (rule and evidence) and the score the team set (docs/qi.md)", "responses": with_errors(ok(json!({ "type": "object", "properties": {
                "projects": { "type": "array", "items": { "$ref": "#/components/schemas/QiProjectSummary" } }
            } }))) } },
            "/api/qi/projects/{id}": { "get": { "summary": "One quality improvement project: the whole record with its PDSA cycles, own measures and values, status history, suggested score and every score set by hand", "parameters": [
                { "name": "id", "in": "path", "required": true, "schema": { "type": "integer" } }
            ], "responses": with_errors(ok(json!({ "$ref": "#/components/schemas/QiProject" }))) } },
            "/api/network/ideas": { "get": { "summary": "The Patient Safety Network's change idea library: each idea with its category, the measures it aims to move and how many QI change ideas are linked to it (docs/network.md)", "responses": with_errors(ok(json!({ "type": "object", "properties": {
                "ideas": { "type": "array", "items": { "type": "object", "properties": { "id": { "type": "integer" }, "title": { "type": "string" }, "category": { "type": "string" }, "measures": { "type": "array", "items": { "type": "string" } }, "links": { "type": "integer" } } } }
            } }))) } },
            "/api/network/funnel": { "get": { "summary": "A funnel plot of a rate or proportion over the last 12 months across wards (optionally of one type, or a programme admin's peer group) or trusts (the staff self-harm rate per 1,000 staff among them): target, overdispersion (phi, tau2), and each unit's published value, denominator and band; other organisations' units unnamed and under disclosure control (docs/network.md)", "parameters": [
                { "name": "measure", "in": "query", "schema": { "type": "string", "default": "ri_rate" } },
                { "name": "level", "in": "query", "schema": { "type": "string", "enum": ["ward", "trust"] } },
                { "name": "ward_type", "in": "query", "schema": { "type": "string" } },
                { "name": "peer_group", "in": "query", "description": "A peer group set by the programme admin (its id): only its members are compared; an unknown group is refused (400)", "schema": { "type": "integer" } }
            ], "responses": with_errors(ok(json!({ "type": "object" }))) } },
            "/api/network/ideas/{id}": { "get": { "summary": "One change idea's evidence, per measure it aims to move: every site where it was tested (named, with its project, cycles and counts, only to a viewer with the site's full detail; otherwise unnamed, with ratios and intervals only and nothing from fewer than 5 events), the effect against limits frozen before the adoption, and the DerSimonian-Laird pooled estimate over the sites the viewer may see (docs/network.md)", "parameters": [
                { "name": "id", "in": "path", "required": true, "schema": { "type": "integer" } }
            ], "responses": with_errors(ok(json!({ "type": "object", "properties": {
                "id": { "type": "integer" }, "title": { "type": "string" }, "description": { "type": "string" }, "category": { "type": "string" },
                "measures": { "type": "array", "description": "Per measure: measure, title, ratio_name (rate ratio or risk ratio), sites (label; project_id, project_title and cycles for full detail only; adopted; note; effect: counts for full detail only, before and after centres, ratio [value, lower, upper], signal [kind, months after adoption], held, corrected, withheld) and pooled (k, ratio, lower, upper, tau2, heterogeneity: q, df, p_value, i2, h2, null with one site)", "items": { "type": "object" } }
            } }))) } }
        }
    });
    // FREED (issue 14).
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        paths.insert(
            "/api/freed/services".into(),
            freed_services_path(&text, &ok, &with_errors),
        );
        paths.insert(
            "/api/freed/{service}/clocks".into(),
            freed_clocks_path(&text, &ok, &with_errors),
        );
        for (path, item) in crate::pages::freed::inequalities::openapi_paths() {
            paths.insert(path, item);
        }
    }
    // The ligature point register (issue 13).
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in crate::pages::ligature::openapi_paths() {
            paths.insert(path, item);
        }
    }
    Json(doc)
}

/// The OpenAPI document's helpers, handed to the FREED paths below.
type TextFn<'a> = &'a dyn Fn(&str) -> Value;
type SchemaFn<'a> = &'a dyn Fn(Value) -> Value;

/// `/api/freed/services` in the OpenAPI document.
fn freed_services_path(text: TextFn, ok: SchemaFn, with_errors: SchemaFn) -> Value {
    let item = json!({ "type": "object", "properties": {
        "code": text("Service code"), "name": text("Service name"), "trust": text("ODS code of its trust"),
        "disclosure_controlled": { "type": "boolean" }, "waiting": text("Referrals waiting (a count, or * when suppressed)"), "breaching": text("Of those, breaching a clock")
    } });
    json!({ "get": { "summary": "FREED eating-disorder services the user may see, with referrals waiting and breaching a clock (disclosure-controlled outside the user's own trust: a count or \"*\")", "parameters": [
        { "name": "as_of", "in": "query", "schema": { "type": "string" }, "description": "UK wall-clock date and time, e.g. 2024-03-20 10:00 (default: now)" }
    ], "responses": with_errors(ok(json!({ "type": "object", "properties": { "as_of": { "type": "string" }, "services": { "type": "array", "items": item } } }))) } })
}

/// `/api/freed/{service}/clocks` in the OpenAPI document.
fn freed_clocks_path(text: TextFn, ok: SchemaFn, with_errors: SchemaFn) -> Value {
    let item = json!({ "type": "object", "properties": {
        "pseudonym": text("First 8 characters of the patient's pseudonym"), "reference": text("The service's reference"),
        "received": text("Received (UK time)"), "clock": text("Most urgent clock: freed_engagement_48h, freed_assessment_2w, freed_treatment_4w or children_treatment"),
        "breaching": { "type": "boolean" }, "minutes_left": { "type": "integer", "description": "Negative: the breach so far" },
        "deadline": text("When the clock breaches"), "eligibility": text("Eligible, Not eligible or Not known"),
        "reasons": { "type": "array", "items": { "type": "string" } }, "clocks": { "type": "array", "items": { "type": "object" } }
    } });
    let body = json!({ "type": "object", "properties": {
        "service": { "type": "string" }, "as_of": { "type": "string" }, "disclosure_controlled": { "type": "boolean" },
        "waiting": text("Referrals waiting"), "breaching": text("Breaching a clock"),
        "breaching_by_clock": { "type": "object", "description": "Each clock's code to the number of waiting referrals breaching it (text: a count, or * when suppressed)", "additionalProperties": { "type": "string" } },
        "referrals": { "type": "array", "items": item }
    } });
    json!({ "get": { "summary": "A service's waiting list: every open referral with a running clock, breaches first, by pseudonym prefix and the service's reference (never an NHS number); only for the service's own trust, audited. Disclosure-controlled viewers get the counts only.", "parameters": [
        { "name": "service", "in": "path", "required": true, "schema": { "type": "string" } },
        { "name": "as_of", "in": "query", "schema": { "type": "string" } }
    ], "responses": with_errors(ok(body)) } })
}
