//! The measure catalogue: each definition in plain words, grouped by objective.

use crate::auth::CurrentUser;
use crate::layout::Layout;
use askama::Template;
use askama_web::WebTemplate;
use domain::measures::{Measure, Objective, catalogue, freed_catalogue, ligature_catalogue};

pub struct Group {
    pub label: &'static str,
    pub measures: Vec<MeasureView>,
}

pub struct MeasureView {
    pub m: Measure,
    pub chart: String,
    pub direction: &'static str,
    pub target: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "catalogue.html")]
pub struct CataloguePage {
    layout: Layout,
    groups: Vec<Group>,
}

pub async fn page(user: CurrentUser) -> CataloguePage {
    // The ward safety measures (the ligature register's among them, under self-harm), then
    // FREED's.
    let all: Vec<Measure> = catalogue()
        .into_iter()
        .chain(ligature_catalogue())
        .chain(domain::measures::beyond_inpatient_catalogue())
        .chain(freed_catalogue())
        .collect();
    CataloguePage {
        layout: Layout::new("Measures", &user, "/measures"),
        groups: Objective::ALL
            .iter()
            .chain(&[Objective::Freed])
            .map(|o| Group {
                label: o.label(),
                measures: all
                    .iter()
                    .filter(|m| m.objective == *o)
                    .map(|m| MeasureView {
                        chart: m.chart.to_string(),
                        direction: match m.direction {
                            spc::Direction::Increase => "higher is better",
                            spc::Direction::Decrease => "lower is better",
                            _ => "neither direction is better",
                        },
                        target: m.target.map(|t| m.format_value(t)).unwrap_or_default(),
                        m: m.clone(),
                    })
                    .collect(),
            })
            .collect(),
    }
}
