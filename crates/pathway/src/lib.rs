//! # pathway: the FREED early-intervention eating-disorder pathway, as rules
//!
//! Referrals to an eating disorder service and their events ([`referral`]), FREED eligibility
//! with its reasons ([`eligibility`]), the waiting-time clocks and the order of a service's
//! waiting list ([`clock`]), the duration of untreated eating disorder ([`dued`]), the waiting
//! list as a queue with NHSRwaitinglist's formulas ([`queue`]) and the monthly and weekly
//! figures the measures need ([`aggregate`]). Every rule is stated in `docs/freed.md`.
//!
//! Pure: no I/O, no clock (every question is asked "as of" a time the caller gives), no
//! database; it never knows patients' identifiers, only the service's reference for a
//! referral. Every function is total: any input gives an answer or a [`PathwayError`], never a
//! panic.

pub mod aggregate;
pub mod clock;
pub mod dued;
pub mod eligibility;
pub mod error;
pub mod queue;
pub mod referral;

pub use clock::{
    Clock, ClockState, ClockStatus, Waiting, clock_state, clock_states, service_waiting_list,
    waiting_list,
};
pub use dued::{Dued, NoDued, dued};
pub use eligibility::{Eligibility, eligibility};
pub use error::PathwayError;
pub use referral::{
    Attendance, Contact, ContactKind, DiagnosisGroup, Discharge, DischargeReason, FirstEpisode,
    Onset, OnsetPrecision, Pause, PauseReason, Priority, Referral, ReferralSource,
};

#[cfg(test)]
pub(crate) mod testutil {
    use crate::referral::*;
    use time::{Duration, PrimitiveDateTime};

    /// A valid, FREED-eligible routine referral of a 20-year-old, onset 180 days before.
    pub fn referral(received: PrimitiveDateTime) -> Referral {
        Referral {
            id: "R1".into(),
            service: "SVC".into(),
            received,
            source: ReferralSource::SelfReferral,
            age_at_referral: Some(20),
            first_episode: FirstEpisode::Yes,
            onset: Onset::Day(received.date() - Duration::days(180)),
            diagnosis: DiagnosisGroup::AnorexiaNervosa,
            priority: Priority::Routine,
            contacts: Vec::new(),
            pauses: Vec::new(),
            discharges: Vec::new(),
        }
    }
}
