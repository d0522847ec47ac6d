//! The pages, one module per page family. Each handler: who is asking (`CurrentUser`), what may
//! they see (`access::view`), the numbers (cached through `cache`), then a template.

pub mod adhd;
pub mod admin;
pub mod catalogue;
pub mod chart_page;
pub mod clinic;
mod clinic_pdf;
pub mod completeness;
pub mod freed;
pub mod inequalities;
pub mod ligature;
pub mod ligature_measures;
pub mod network;
pub mod org;
pub mod overview;
pub mod qi;
pub mod reports;
pub mod summary;
pub mod test;
pub mod tokens;
pub mod uploads;

use crate::AppState;
use axum::Router;
use axum::routing::{get, post};

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(ligature::routes())
        .merge(network::routes())
        .route("/", get(overview::page))
        .route("/org/{code}", get(org::page))
        .route("/chart/{org}/{measure}", get(chart_page::page))
        .route(
            "/chart/{org}/{measure}/download/{format}",
            get(chart_page::download),
        )
        .route(
            "/chart/{org}/{measure}/annotations",
            post(chart_page::annotate),
        )
        .route("/reports/ward/{code}", get(reports::ward_page))
        .route("/reports/ward/{code}/pdf", get(reports::ward_pdf))
        .route("/reports/board/{code}", get(reports::board_page))
        .route("/reports/board/{code}/pdf", get(reports::board_pdf))
        .route("/inequalities", get(inequalities::page))
        .route("/completeness", get(completeness::page))
        .route("/uploads", get(uploads::page).post(uploads::check))
        .route("/uploads/confirm", post(uploads::confirm))
        .route("/measures", get(catalogue::page))
        .route("/admin", get(admin::page))
        .route("/admin/users", post(admin::create_user))
        .route("/admin/users/{name}/disabled", post(admin::set_disabled))
        .route("/admin/users/{name}/grant", post(admin::set_grant))
        .route("/admin/audit", get(admin::audit))
        .route("/admin/audit/download", get(admin::audit_download))
        .route("/account/tokens", get(tokens::page).post(tokens::create))
        .route("/account/tokens/{id}/revoke", post(tokens::revoke))
        // The attention test (issue 15): the family's pages, then the clinician's.
        .route("/test", get(test::start_page).post(test::enter_code))
        .route(
            "/test/schedule",
            post(test::schedule).layer(test::body_limit()),
        )
        .route(
            "/test/practice",
            post(test::practice).layer(test::body_limit()),
        )
        .route("/test/result", post(test::result).layer(test::body_limit()))
        .route("/clinic", get(clinic::page))
        .route("/clinic/codes", post(clinic::issue_code))
        .route("/clinic/codes/{id}/reissue", post(clinic::reissue))
        .route("/clinic/codes/{id}/withdraw", post(clinic::withdraw))
        .route("/clinic/tests/{id}", get(clinic::report))
        .route("/clinic/tests/{id}/notes", post(clinic::notes))
        .route("/clinic/tests/{id}/log.csv", get(clinic::log_csv))
        .route("/clinic/tests/{id}/report.pdf", get(clinic::report_pdf))
        // The ADHD assessment pathway's measures (issue 15 item 8).
        .route("/adhd", get(adhd::index))
        .route("/adhd/upload", post(adhd::upload))
        .route("/adhd/{service}", get(adhd::service))
        .route("/qi", get(qi::list))
        .route("/qi/new", get(qi::new_form).post(qi::create))
        .route("/qi/{id}", get(qi::page))
        .route("/qi/{id}/details", post(qi::details))
        .route("/qi/{id}/status", post(qi::status))
        .route("/qi/{id}/team", post(qi::team))
        .route("/qi/{id}/aim", post(qi::aim))
        .route("/qi/{id}/measures", post(qi::add_measure))
        .route("/qi/{id}/values", post(qi::value))
        .route("/qi/{id}/values/file", post(qi::values_file))
        .route("/qi/{id}/diagram", post(qi::diagram))
        .route("/qi/{id}/cycles", post(qi::add_cycle))
        .route("/qi/{id}/cycles/{cycle}", post(qi::update_cycle))
        .route("/qi/{id}/score", post(qi::score))
        .route("/qi/{id}/spread", post(qi::spread))
        // FREED (issue 14): services, waiting lists, queues, referrals typed in by hand.
        .route("/freed", get(freed::index))
        .route("/freed/{service}", get(freed::service))
        .route("/freed/{service}/queue", get(freed::queue))
        .route("/freed/{service}/measures", get(freed::measures::page))
        .route(
            "/freed/{service}/inequalities",
            get(freed::inequalities::page),
        )
        .route(
            "/freed/org/{org}/inequalities",
            get(freed::inequalities::org_page),
        )
        .route(
            "/freed/{service}/measures/{measure}",
            get(freed::measures::chart_page),
        )
        .route(
            "/freed/{service}/measures/{measure}/download/{format}",
            get(freed::measures::download),
        )
        .route(
            "/freed/{service}/referral",
            get(freed::referral_form).post(freed::save_referral),
        )
}
