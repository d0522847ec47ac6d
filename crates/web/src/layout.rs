//! The frame every page shares: title, the signed-in user, and the navigation their role allows.

use crate::auth::CurrentUser;
use domain::access::Role;

/// One option of a select (a filter, a kind of upload, a role...).
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

impl Choice {
    pub fn new(value: impl Into<String>, label: impl Into<String>, selected: bool) -> Choice {
        Choice {
            value: value.into(),
            label: label.into(),
            selected,
        }
    }
}

pub struct NavLink {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

pub struct Layout {
    pub title: String,
    pub user: Option<String>,
    pub role: Option<&'static str>,
    pub nav: Vec<NavLink>,
}

impl Layout {
    /// A page for a signed-in user; `section` marks the current navigation item.
    pub fn new(title: impl Into<String>, user: &CurrentUser, section: &str) -> Layout {
        let g = &user.grant;
        let mut items: Vec<(&'static str, &'static str)> = Vec::new();
        match g.role {
            Role::ProgrammeAdmin | Role::ProgrammeViewer | Role::TrustLead => {
                items.push(("/", "Overview"))
            }
            Role::WardUser => items.push(("/", "My ward")),
            Role::Uploader => {}
            // A clinician sees attention tests and none of the safety figures.
            Role::Clinician => items.push(("/clinic", "Attention tests")),
            // Estates staff: their trust's ligature actions, nothing else.
            Role::Estates => items.push(("/ligature/estates", "Ligature actions")),
        }
        if !matches!(g.role, Role::Uploader | Role::Clinician | Role::Estates) {
            items.push(("/inequalities", "Inequalities"));
        }
        if !matches!(g.role, Role::Clinician | Role::Estates) {
            items.push(("/completeness", "Data completeness"));
        }
        if matches!(
            g.role,
            Role::ProgrammeAdmin | Role::Uploader | Role::TrustLead
        ) {
            items.push(("/uploads", "Uploads"));
        }
        if !matches!(g.role, Role::Clinician | Role::Estates) {
            items.push(("/measures", "Measures"));
        }
        if g.role == Role::ProgrammeAdmin {
            items.push(("/admin", "Administration"));
        }
        // Quality improvement projects: for everyone who sees some organisation's figures.
        if matches!(
            g.role,
            Role::ProgrammeAdmin | Role::ProgrammeViewer | Role::TrustLead | Role::WardUser
        ) {
            items.push(("/qi", "Quality improvement"));
        }
        // FREED eating-disorder services (issue 14): for everyone who may see some organisation's
        // figures (what of each service is decided by `domain::access` on the service's page).
        if matches!(
            g.role,
            Role::ProgrammeAdmin | Role::ProgrammeViewer | Role::TrustLead | Role::WardUser
        ) {
            items.push(("/freed", "FREED"));
        }
        // Ligature point registers (issue 13): what of each ward is `ligature::access`'s.
        if matches!(
            g.role,
            Role::ProgrammeAdmin | Role::ProgrammeViewer | Role::TrustLead | Role::WardUser
        ) {
            items.push(("/ligature", "Ligature"));
        }
        // The ADHD assessment pathway (issue 15): what of each service is decided on its page.
        if matches!(
            g.role,
            Role::ProgrammeAdmin | Role::ProgrammeViewer | Role::TrustLead | Role::Clinician
        ) {
            items.push(("/adhd", "ADHD pathway"));
        }
        Layout {
            title: title.into(),
            user: Some(user.name.clone()),
            role: Some(g.role.label()),
            nav: items
                .into_iter()
                .map(|(href, label)| NavLink {
                    href,
                    label,
                    current: href == section,
                })
                .collect(),
        }
    }

    /// A page with nobody signed in (login, errors).
    pub fn bare(title: impl Into<String>) -> Layout {
        Layout {
            title: title.into(),
            user: None,
            role: None,
            nav: Vec::new(),
        }
    }
}
