//! Quality improvement on the charts (issue 11), the pure part: the record of a project (aim,
//! team, family of measures, driver diagram, PDSA cycles, spread), its validation and edits,
//! the IHI progress score suggested from the record and the SPC of its measures, and the driver
//! diagram drawn as SVG with a text version. No I/O, no clock (today is an argument), no
//! database, no web: the callers store, authorise and audit.

pub mod dates;
mod diagram;
mod error;
pub mod model;
pub mod programme;
pub mod progress;
pub mod validate;

pub use diagram::{driver_diagram_html, driver_diagram_svg, driver_diagram_text, xml_escape};
pub use error::{Problems, QiError};
pub use model::{
    Act, Aim, ChangeIdea, Cycle, Decision, Do, DriverDiagram, Expected, FamilyMeasure, MeasureRef,
    MeasureRole, OrgLevel, Organisation, Plan, Prediction, Primary, Project, Secondary, Spread,
    Status, TeamMember, TeamRole,
};
pub use progress::{
    Evidence, MeasureSeries, NextStep, RULES, Rule, Score, SetScore, SpreadSeries, Suggestion,
    set_score, suggest,
};
pub use validate::{
    DiagramEdit, Ramp, apply_edit, link_next, parse_value, ramps, validate_aim, validate_cycle,
    validate_cycles, validate_diagram, validate_project,
};
