//! Authorization at the point of data access: every handler that shows an organisation's figures
//! goes through `view`, which looks the organisation up and asks `domain::access` how much of it
//! the user may see. An id edited in a URL therefore gets a 403 or a 404, never the data.

use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::orgs::{Directory, Org};
use domain::access::{Detail, Role};
use domain::disclosure::Policy;

/// An organisation the user may see, and how much of it.
#[derive(Clone)]
pub struct Viewing {
    pub org: Org,
    pub detail: Detail,
}

impl Viewing {
    /// Disclosure control to apply, if the figures leave the user's own organisation.
    pub fn policy(&self) -> Option<Policy> {
        (self.detail != Detail::Full).then(Policy::default)
    }
}

pub fn view(user: &CurrentUser, orgs: &Directory, code: &str) -> Result<Viewing, AppError> {
    let code = code.trim().to_ascii_uppercase();
    let org = orgs.get(&code).ok_or(AppError::NotFound)?;
    let detail = user.grant.detail(&orgs.place(org));
    if detail == Detail::None {
        return Err(AppError::Forbidden(format!(
            "Your account ({}) cannot see {}'s figures.",
            user.grant.role.label().to_lowercase(),
            org.name
        )));
    }
    Ok(Viewing {
        org: org.clone(),
        detail,
    })
}

/// The organisation a user lands on: the region for the programme and trust leads, their ward
/// for a ward user, nothing for an uploader.
pub fn home(user: &CurrentUser) -> Option<&str> {
    match user.grant.role {
        Role::WardUser => user.grant.ward.as_deref(),
        _ => None,
    }
}

/// The organisation a page without an `org` starts at: the user's trust or ward, or the region.
fn default_org(user: &CurrentUser, orgs: &Directory) -> Option<String> {
    match user.grant.role {
        Role::TrustLead | Role::Uploader => user.grant.trust.clone(),
        Role::WardUser => user.grant.ward.clone(),
        _ => orgs.region().map(|r| r.code.clone()),
    }
}

/// The organisation a page was asked for (`?org=`), or the user's starting point.
pub fn requested_org(
    user: &CurrentUser,
    orgs: &Directory,
    requested: Option<&str>,
) -> Result<String, AppError> {
    requested
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_ascii_uppercase)
        .or_else(|| default_org(user, orgs))
        .ok_or(AppError::NotFound)
}

pub fn require_admin(user: &CurrentUser) -> Result<(), AppError> {
    if user.grant.role == Role::ProgrammeAdmin {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "Only a programme administrator can do this.".into(),
        ))
    }
}
