//! Who may see what (least privilege by role and organisation). Pure rules, so that every page,
//! download and API route asks the same question and the authorization matrix can be tested
//! without a server.
//!
//! | role | their organisation | other organisations |
//! |---|---|---|
//! | programme admin | everything | everything |
//! | programme viewer | — | disclosure-controlled figures |
//! | trust lead | full detail for their trust, its sites and wards | disclosure-controlled figures |
//! | ward user | full detail for their ward; may annotate its charts | nothing |
//! | uploader | their trust's uploads and upload history | nothing |
//! | clinician | their trust's attention tests (issue 15); no safety figures | nothing |
//! | estates | the actions of their trust's ligature registers (issue 13); no figures | nothing |
//!
//! A clinician works with individual children's attention tests (`Grant::can_see_attention_tests`)
//! and needs none of the safety programme's figures: like an uploader, they see no organisation's
//! figures (`Detail::None` everywhere), which is less than a ward user of their trust sees. No
//! other role sees attention tests, not even a programme admin (they are clinical records of
//! children, seen on a need-to-know basis; the audit log records every look at one).
//!
//! Estates staff (issue 13) fit the anti-ligature hardware and raise the work orders and capital
//! bids: they see and update the actions of their trust's wards' ligature registers
//! (`Grant::works_on_ligature_actions_of`: status, due date, work order or bid reference) and
//! nothing else, no figure, no patient, no register beyond its actions, no other trust.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    ProgrammeAdmin,
    ProgrammeViewer,
    TrustLead,
    WardUser,
    Uploader,
    /// A clinician of a children's service (issue 15): their trust's attention tests only.
    Clinician,
    /// Estates staff of a trust (issue 13): its ligature registers' actions only.
    Estates,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::ProgrammeAdmin,
        Role::ProgrammeViewer,
        Role::TrustLead,
        Role::WardUser,
        Role::Uploader,
        Role::Clinician,
        Role::Estates,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::ProgrammeAdmin => "programme_admin",
            Role::ProgrammeViewer => "programme_viewer",
            Role::TrustLead => "trust_lead",
            Role::WardUser => "ward_user",
            Role::Uploader => "uploader",
            Role::Clinician => "clinician",
            Role::Estates => "estates",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::ProgrammeAdmin => "Programme admin",
            Role::ProgrammeViewer => "Programme viewer",
            Role::TrustLead => "Trust lead",
            Role::WardUser => "Ward user",
            Role::Uploader => "Uploader",
            Role::Clinician => "Clinician",
            Role::Estates => "Estates",
        }
    }

    pub fn parse(s: &str) -> Result<Role, String> {
        let t = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        Role::ALL.into_iter().find(|r| r.as_str() == t).ok_or_else(|| {
            format!("unknown role '{s}'; expected programme_admin, programme_viewer, trust_lead, ward_user, uploader, clinician or estates")
        })
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// A user's role and the organisation it is bound to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub role: Role,
    /// The trust of a trust lead, uploader or clinician (and of a ward user's ward).
    pub trust: Option<String>,
    /// The ward of a ward user.
    pub ward: Option<String>,
}

/// Where something sits in the organisation tree (codes from the ward up).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Place {
    pub ward: Option<String>,
    pub trust: Option<String>,
}

/// How much of a place's data a user may see.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Detail {
    None,
    /// Figures only, with disclosure control; no record-level data.
    DisclosureControlled,
    /// Everything, including exact small numbers and record-level data.
    Full,
}

impl Grant {
    /// Check that the grant names the organisation its role needs.
    pub fn new(role: Role, trust: Option<String>, ward: Option<String>) -> Result<Grant, String> {
        let norm = |s: Option<String>| {
            s.map(|x| x.trim().to_ascii_uppercase())
                .filter(|x| !x.is_empty())
        };
        let (trust, ward) = (norm(trust), norm(ward));
        match role {
            Role::ProgrammeAdmin | Role::ProgrammeViewer => Ok(Grant {
                role,
                trust: None,
                ward: None,
            }),
            Role::TrustLead | Role::Uploader | Role::Clinician | Role::Estates
                if trust.is_none() =>
            {
                Err(format!(
                    "a {} needs a trust (e.g. R9A)",
                    role.label().to_lowercase()
                ))
            }
            Role::TrustLead | Role::Uploader | Role::Clinician | Role::Estates => Ok(Grant {
                role,
                trust,
                ward: None,
            }),
            Role::WardUser if ward.is_none() || trust.is_none() => {
                Err("a ward user needs a ward and its trust".into())
            }
            Role::WardUser => Ok(Grant { role, trust, ward }),
        }
    }

    /// How much of `place`'s data this user may see. A place above a trust (ICB, region) is
    /// "other organisations" for everyone bound to a trust.
    pub fn detail(&self, place: &Place) -> Detail {
        let own_trust = self.trust.is_some() && place.trust == self.trust;
        match self.role {
            Role::ProgrammeAdmin => Detail::Full,
            Role::ProgrammeViewer => Detail::DisclosureControlled,
            Role::TrustLead if own_trust => Detail::Full,
            Role::TrustLead => Detail::DisclosureControlled,
            Role::WardUser if own_trust && place.ward.is_some() && place.ward == self.ward => {
                Detail::Full
            }
            Role::WardUser | Role::Uploader | Role::Clinician | Role::Estates => Detail::None,
        }
    }

    /// Whether this user may see, issue codes for and add notes to the attention tests of
    /// `trust`'s services: a clinician of that trust, and nobody else.
    pub fn can_see_attention_tests(&self, trust: &str) -> bool {
        self.role == Role::Clinician
            && self
                .trust
                .as_deref()
                .is_some_and(|t| t.eq_ignore_ascii_case(trust.trim()))
    }

    /// Whether this user is estates staff of `trust`, who see and update the actions of its
    /// wards' ligature registers and nothing else (`ligature::access` adds the register's
    /// editors, who may do that and more).
    pub fn works_on_ligature_actions_of(&self, trust: &str) -> bool {
        self.role == Role::Estates
            && self
                .trust
                .as_deref()
                .is_some_and(|t| t.eq_ignore_ascii_case(trust.trim()))
    }

    pub fn can_upload_for(&self, trust: &str) -> bool {
        match self.role {
            Role::ProgrammeAdmin => true,
            Role::Uploader => self.trust.as_deref() == Some(trust),
            _ => false,
        }
    }

    pub fn can_annotate(&self, place: &Place) -> bool {
        match self.role {
            Role::ProgrammeAdmin | Role::TrustLead => self.detail(place) == Detail::Full,
            Role::WardUser => self.detail(place) == Detail::Full,
            _ => false,
        }
    }

    pub fn can_administer(&self) -> bool {
        self.role == Role::ProgrammeAdmin
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place(ward: Option<&str>, trust: Option<&str>) -> Place {
        Place {
            ward: ward.map(Into::into),
            trust: trust.map(Into::into),
        }
    }

    /// The authorization matrix: every role against its own and other places.
    #[test]
    fn the_matrix() {
        let own_ward = place(Some("R9A-ASH"), Some("R9A"));
        let other_ward_same_trust = place(Some("R9A-ELM"), Some("R9A"));
        let own_trust = place(None, Some("R9A"));
        let other_trust = place(None, Some("R9B"));
        let region = place(None, None);
        let g = |r, t: Option<&str>, w: Option<&str>| {
            Grant::new(r, t.map(Into::into), w.map(Into::into)).unwrap()
        };
        let cases = [
            (
                g(Role::ProgrammeAdmin, None, None),
                [
                    Detail::Full,
                    Detail::Full,
                    Detail::Full,
                    Detail::Full,
                    Detail::Full,
                ],
            ),
            (
                g(Role::ProgrammeViewer, None, None),
                [Detail::DisclosureControlled; 5],
            ),
            (
                g(Role::TrustLead, Some("R9A"), None),
                [
                    Detail::Full,
                    Detail::Full,
                    Detail::Full,
                    Detail::DisclosureControlled,
                    Detail::DisclosureControlled,
                ],
            ),
            (
                g(Role::WardUser, Some("R9A"), Some("R9A-ASH")),
                [
                    Detail::Full,
                    Detail::None,
                    Detail::None,
                    Detail::None,
                    Detail::None,
                ],
            ),
            (g(Role::Uploader, Some("R9A"), None), [Detail::None; 5]),
            (g(Role::Clinician, Some("R9A"), None), [Detail::None; 5]),
            (g(Role::Estates, Some("R9A"), None), [Detail::None; 5]),
        ];
        for (grant, expected) in cases {
            let got: Vec<Detail> = [
                &own_ward,
                &other_ward_same_trust,
                &own_trust,
                &other_trust,
                &region,
            ]
            .iter()
            .map(|p| grant.detail(p))
            .collect();
            assert_eq!(got, expected, "{:?}", grant.role);
        }
    }

    #[test]
    fn uploads_annotations_and_administration() {
        let up = Grant::new(Role::Uploader, Some("r9a".into()), None).unwrap();
        assert!(up.can_upload_for("R9A") && !up.can_upload_for("R9B"));
        let ward = Grant::new(Role::WardUser, Some("R9A".into()), Some("R9A-ASH".into())).unwrap();
        assert!(ward.can_annotate(&place(Some("R9A-ASH"), Some("R9A"))));
        assert!(!ward.can_annotate(&place(Some("R9A-ELM"), Some("R9A"))));
        assert!(!ward.can_upload_for("R9A") && !ward.can_administer());
        assert!(Grant::new(Role::TrustLead, None, None).is_err());
        assert!(Grant::new(Role::WardUser, Some("R9A".into()), None).is_err());
        assert_eq!(Role::parse("Trust lead").unwrap(), Role::TrustLead);
    }

    /// Attention tests: a clinician of the trust and nobody else, whatever else they may see.
    #[test]
    fn attention_tests_only_for_the_trusts_clinicians() {
        let clin = Grant::new(Role::Clinician, Some("r9a".into()), None).unwrap();
        assert_eq!(Role::parse("clinician").unwrap(), Role::Clinician);
        assert!(clin.can_see_attention_tests("R9A"));
        assert!(clin.can_see_attention_tests("r9a"));
        assert!(!clin.can_see_attention_tests("R9B"));
        assert!(!clin.can_upload_for("R9A") && !clin.can_administer());
        assert!(!clin.can_annotate(&place(Some("R9A-ASH"), Some("R9A"))));
        assert!(Grant::new(Role::Clinician, None, None).is_err());
        for other in [
            Grant::new(Role::ProgrammeAdmin, None, None).unwrap(),
            Grant::new(Role::TrustLead, Some("R9A".into()), None).unwrap(),
            Grant::new(Role::WardUser, Some("R9A".into()), Some("R9A-ASH".into())).unwrap(),
            Grant::new(Role::Uploader, Some("R9A".into()), None).unwrap(),
        ] {
            assert!(!other.can_see_attention_tests("R9A"), "{:?}", other.role);
        }
    }

    /// Estates staff: their trust's ligature actions only; no figures, uploads or notes.
    #[test]
    fn estates_work_on_their_trusts_ligature_actions_only() {
        let est = Grant::new(Role::Estates, Some("r9a".into()), None).unwrap();
        assert_eq!(Role::parse("Estates").unwrap(), Role::Estates);
        assert_eq!(est.trust.as_deref(), Some("R9A"));
        assert!(est.works_on_ligature_actions_of("R9A"));
        assert!(est.works_on_ligature_actions_of("r9a"));
        assert!(!est.works_on_ligature_actions_of("R9B"));
        assert!(!est.can_upload_for("R9A") && !est.can_administer());
        assert!(!est.can_annotate(&place(Some("R9A-ASH"), Some("R9A"))));
        assert!(!est.can_see_attention_tests("R9A"));
        assert!(Grant::new(Role::Estates, None, None).is_err());
        for other in [
            Grant::new(Role::ProgrammeAdmin, None, None).unwrap(),
            Grant::new(Role::TrustLead, Some("R9A".into()), None).unwrap(),
            Grant::new(Role::WardUser, Some("R9A".into()), Some("R9A-ASH".into())).unwrap(),
            Grant::new(Role::Uploader, Some("R9A".into()), None).unwrap(),
        ] {
            assert!(
                !other.works_on_ligature_actions_of("R9A"),
                "{:?}",
                other.role
            );
        }
    }
}
