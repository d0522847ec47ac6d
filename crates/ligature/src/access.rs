//! Who may do what with a register, asked of `domain::access::Grant` (never decided by hiding a
//! link): seeing a ward's register needs full detail of the ward (its trust's leads, the ward's
//! own users, programme admins); editing it (audits, actions, photos) needs full detail and a
//! role that works on wards (ward user, trust lead, programme admin). Everyone else sees at most
//! counts through disclosure control, as for every figure. Estates staff of the ward's trust see
//! and update its actions only (`can_update_actions`).

use domain::access::{Detail, Grant, Place, Role};

/// How much of a ward's register `grant` may see.
pub fn detail(grant: &Grant, ward: &str, trust: &str) -> Detail {
    grant.detail(&place(ward, trust))
}

pub fn place(ward: &str, trust: &str) -> Place {
    Place {
        ward: Some(ward.to_string()),
        trust: Some(trust.to_string()),
    }
}

/// Whether `grant` may record audits, actions and photos on the ward's register.
pub fn can_edit(grant: &Grant, ward: &str, trust: &str) -> bool {
    matches!(
        grant.role,
        Role::WardUser | Role::TrustLead | Role::ProgrammeAdmin
    ) && detail(grant, ward, trust) == Detail::Full
}

/// Whether `grant` may see and update the actions of the ward's register (status, due date,
/// work order or capital bid reference): its editors, and the estates staff of the ward's trust,
/// who see the actions and nothing else of the register.
pub fn can_update_actions(grant: &Grant, ward: &str, trust: &str) -> bool {
    can_edit(grant, ward, trust) || grant.works_on_ligature_actions_of(trust)
}

/// Whether `grant` sees the list of every action of `trust`'s registers (the estates page):
/// the trust's estates staff and leads, and programme admins.
pub fn can_see_trust_actions(grant: &Grant, trust: &str) -> bool {
    grant.works_on_ligature_actions_of(trust) || can_see_escalations(grant, trust)
}

/// Whether `grant` sees the escalation list of `trust` (its leads and programme admins).
pub fn can_see_escalations(grant: &Grant, trust: &str) -> bool {
    match grant.role {
        Role::ProgrammeAdmin => true,
        Role::TrustLead => grant.trust.as_deref() == Some(trust),
        _ => false,
    }
}

/// Whether `grant` may see the photos of a ward's points: full detail of the ward and bound to
/// the ward's own trust (photos never leave the trust, not even to programme admins).
pub fn can_see_photos(grant: &Grant, ward: &str, trust: &str) -> bool {
    grant.trust.as_deref() == Some(trust) && detail(grant, ward, trust) == Detail::Full
}

/// Whether `grant` sees the self-harm incidents recorded at the ward's areas and points (issue
/// 13, item 4): users of the ward's own trust who see the ward in full (its ward users and its
/// trust's leads); never anyone outside the trust, not even a programme admin.
pub fn can_see_incidents(grant: &Grant, ward: &str, trust: &str) -> bool {
    grant.trust.as_deref() == Some(trust) && detail(grant, ward, trust) == Detail::Full
}

/// Whether `grant` sees the incidents of all of `trust`'s wards, and the ones flagged at points
/// the register called controlled: the trust's own leads.
pub fn can_see_trust_incidents(grant: &Grant, trust: &str) -> bool {
    grant.trust.as_deref() == Some(trust)
        && grant.detail(&Place {
            ward: None,
            trust: Some(trust.to_string()),
        }) == Detail::Full
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_matrix() {
        let g = |r, t: Option<&str>, w: Option<&str>| {
            Grant::new(r, t.map(Into::into), w.map(Into::into)).unwrap()
        };
        let ward = g(Role::WardUser, Some("R9A"), Some("R9A-ASH"));
        assert!(can_edit(&ward, "R9A-ASH", "R9A"));
        assert!(!can_edit(&ward, "R9A-BIR", "R9A"));
        let lead = g(Role::TrustLead, Some("R9A"), None);
        assert!(can_edit(&lead, "R9A-BIR", "R9A"));
        assert!(!can_edit(&lead, "RXT-OAK", "RXT"));
        assert!(can_see_escalations(&lead, "R9A"));
        assert!(!can_see_escalations(&lead, "RXT"));
        assert!(!can_see_escalations(&ward, "R9A"));
        let viewer = g(Role::ProgrammeViewer, None, None);
        assert!(!can_edit(&viewer, "R9A-ASH", "R9A"));
        assert_eq!(
            detail(&viewer, "R9A-ASH", "R9A"),
            Detail::DisclosureControlled
        );
        let up = g(Role::Uploader, Some("R9A"), None);
        assert!(!can_edit(&up, "R9A-ASH", "R9A"));
        let admin = g(Role::ProgrammeAdmin, None, None);
        assert!(can_edit(&admin, "R9A-ASH", "R9A"));
        assert!(can_see_escalations(&admin, "RXT"));
        assert!(!can_see_photos(&admin, "R9A-ASH", "R9A"));
        assert!(can_see_photos(&ward, "R9A-ASH", "R9A"));
        assert!(can_see_photos(&lead, "R9A-BIR", "R9A"));
        assert!(!can_see_photos(&lead, "RXT-OAK", "RXT"));
        assert!(!can_see_photos(&up, "R9A-ASH", "R9A"));
        // Estates staff: their trust's actions only, never the register, photos or escalations.
        let est = g(Role::Estates, Some("R9A"), None);
        assert!(can_update_actions(&est, "R9A-ASH", "R9A"));
        assert!(!can_update_actions(&est, "RXT-OAK", "RXT"));
        assert!(can_see_trust_actions(&est, "R9A") && !can_see_trust_actions(&est, "RXT"));
        assert!(!can_edit(&est, "R9A-ASH", "R9A"));
        assert_eq!(detail(&est, "R9A-ASH", "R9A"), Detail::None);
        assert!(!can_see_photos(&est, "R9A-ASH", "R9A"));
        assert!(!can_see_escalations(&est, "R9A"));
        assert!(can_update_actions(&ward, "R9A-ASH", "R9A"));
        assert!(!can_update_actions(&ward, "R9A-BIR", "R9A"));
        assert!(!can_update_actions(&up, "R9A-ASH", "R9A"));
        assert!(!can_update_actions(&viewer, "R9A-ASH", "R9A"));
        assert!(can_see_trust_actions(&lead, "R9A") && !can_see_trust_actions(&ward, "R9A"));
        // Incidents at places: the ward's own trust only, never a programme admin.
        assert!(can_see_incidents(&ward, "R9A-ASH", "R9A"));
        assert!(!can_see_incidents(&ward, "R9A-BIR", "R9A"));
        assert!(can_see_incidents(&lead, "R9A-BIR", "R9A"));
        assert!(!can_see_incidents(&lead, "RXT-OAK", "RXT"));
        assert!(!can_see_incidents(&admin, "R9A-ASH", "R9A"));
        assert!(!can_see_incidents(&viewer, "R9A-ASH", "R9A"));
        assert!(!can_see_incidents(&est, "R9A-ASH", "R9A"));
        assert!(can_see_trust_incidents(&lead, "R9A") && !can_see_trust_incidents(&lead, "RXT"));
        assert!(!can_see_trust_incidents(&admin, "R9A") && !can_see_trust_incidents(&ward, "R9A"));
        assert!(!can_see_trust_incidents(&est, "R9A"));
    }
}
