//! The programme's measures as named, versioned definitions: what is counted, over what,
//! which way is better, and how it is charted. The store computes them; pages explain them
//! with `description`.

use crate::codes::{AcuteSetting, InterventionGroup, InterventionType, SexualSafetyCategory};
use serde::Serialize;
use spc::{ChartKind, Direction};

/// The programme's three ward safety objectives, and the FREED eating-disorder programme
/// (issue 14), whose measures are computed from referrals rather than ward records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Objective {
    RestrictivePractice,
    SelfHarmAwol,
    SexualSafety,
    Freed,
}

impl Objective {
    /// The ward safety objectives (what ward, trust and region pages list); FREED's measures
    /// are in [`freed_catalogue`] and on the FREED pages.
    pub const ALL: [Objective; 3] = [
        Objective::RestrictivePractice,
        Objective::SelfHarmAwol,
        Objective::SexualSafety,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Objective::RestrictivePractice => "restrictive_practice",
            Objective::SelfHarmAwol => "self_harm_awol",
            Objective::SexualSafety => "sexual_safety",
            Objective::Freed => "freed",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Objective::RestrictivePractice => "Restrictive practice",
            Objective::SelfHarmAwol => "Self-harm, AWOL and leave",
            Objective::SexualSafety => "Sexual safety",
            Objective::Freed => "FREED early intervention for eating disorders",
        }
    }

    pub fn parse(s: &str) -> Option<Objective> {
        Objective::ALL
            .into_iter()
            .chain([Objective::Freed])
            .find(|o| o.as_str() == s.trim())
    }
}

/// The FREED clocks a percentage meeting is charted for (docs/freed.md, "The clocks").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FreedClock {
    /// Engagement call within 48 hours.
    Engagement,
    /// Assessment within 2 weeks.
    Assessment,
    /// Treatment within 4 weeks.
    Treatment,
    /// The children's standard (under 19s): treatment within 1 week urgent, 4 weeks routine.
    Children,
}

/// Which restrictive interventions count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InterventionFilter {
    All,
    Group(InterventionGroup),
    Type(InterventionType),
}

impl InterventionFilter {
    pub fn matches(self, t: InterventionType) -> bool {
        match self {
            InterventionFilter::All => true,
            InterventionFilter::Group(g) => t.group() == g,
            InterventionFilter::Type(x) => t == x,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SelfHarmFilter {
    All,
    ModerateOrWorse,
    OnLeave,
}

/// What is counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Numerator {
    Interventions(InterventionFilter),
    /// Distinct patients with at least one restrictive intervention.
    PeopleRestricted,
    /// Restrictive intervention incidents with a post-incident review held with the patient.
    IncidentsReviewedWithPatient,
    /// Median minutes of physical restraint (a statistic, not a count).
    MedianRestraintMinutes,
    SelfHarm(SelfHarmFilter),
    /// Days since the previous self-harm incident, one value per incident (G chart).
    DaysBetweenSelfHarm,
    Awol,
    /// Leave periods whose patient came back no more than 10 minutes after the agreed time.
    LeaveReturnedOnTime,
    SexualSafety(Option<SexualSafetyCategory>),
    /// Survey answers "yes" to "Do you feel sexually safe on this ward?".
    FeltSexuallySafe,
    /// FREED: clocks met, among those decided in the period.
    FreedClockMet(FreedClock),
    /// FREED: median days from referral to first treatment (a statistic).
    FreedMedianDaysToTreatment,
    /// FREED: median DUED in days, onset to first treatment (a statistic).
    FreedMedianDued,
    /// FREED: treated patients whose onset is known to the day.
    FreedPreciseOnset,
    /// FREED: eligible referrals that started treatment within the follow-up window.
    FreedStartedTreatment,
    /// FREED: referrals on the waiting list at the end of the period.
    FreedWaiting,
    /// Ligature register: open points with a high or extreme residual risk at the period's end.
    LigatureOpenHigh,
    /// Ligature register: the median age in days of those points (a statistic).
    LigatureMedianHighAge,
    /// Ligature register: audits done in the period within the trust's interval of the last.
    LigatureAuditsOnTime,
    /// Ligature register: actions open and past their due date at the period's end.
    LigatureActionsOverdue,
    /// Self-harm incidents among acute trusts' patients, in one setting or in all (issue 12).
    AcuteSelfHarm(Option<AcuteSetting>),
    /// Staff who self-harmed in the month, as the trust counted them (an aggregate).
    StaffSelfHarm,
    /// Staff who died by suicide in the month, as the trust counted them (an aggregate).
    StaffSuicides,
}

/// What it is counted over.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Denominator {
    OccupiedBedDays,
    /// Occupied bed days less days on leave (MHS25): the denominator for AWOL.
    BedDaysLessLeave,
    /// Distinct patients with a ward stay in the period.
    Inpatients,
    RestrictiveIncidents,
    /// Leave periods that ended (the patient returned) in the period.
    LeavePeriodsEnded,
    SurveyAnswers,
    /// FREED: clocks decided (met or breached) in the period.
    FreedClocksDecided(FreedClock),
    /// FREED: referrals whose first attended treatment was in the period.
    FreedTreated,
    /// FREED: eligible referrals received in the period and followed up long enough.
    FreedEligibleFollowedUp,
    /// Ligature register: audits done in the period.
    LigatureAudits,
    /// Ligature register: actions open at the period's end.
    LigatureActionsOpen,
    /// The trust's staff headcount in the month, where it gave one.
    StaffHeadcount,
    /// A count or statistic on its own.
    None,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Measure {
    pub id: &'static str,
    pub version: u32,
    pub title: &'static str,
    /// What the measure means, in plain English, for ward managers and boards.
    pub description: &'static str,
    pub objective: Objective,
    #[serde(skip)]
    pub numerator: Numerator,
    #[serde(skip)]
    pub denominator: Denominator,
    pub multiplier: f64,
    #[serde(serialize_with = "ser_display")]
    pub direction: Direction,
    #[serde(serialize_with = "ser_display")]
    pub chart: ChartKind,
    pub target: Option<f64>,
    /// Unit shown after values: "per 1,000 OBD", "%", "minutes"...
    pub unit: &'static str,
    /// The related national (MHSDS) measure, if any.
    pub national: Option<&'static str>,
}

fn ser_display<S: serde::Serializer, T: std::fmt::Display>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

impl Measure {
    /// A value as people read it: percentages with one decimal, rates with two, days, minutes
    /// and people whole.
    pub fn format_value(&self, v: f64) -> String {
        if self.is_proportion() {
            format!("{v:.1}%")
        } else if self.unit == "days" && self.chart != ChartKind::G {
            format!("{v:.1}")
        } else if self.chart == ChartKind::G
            || self.unit.starts_with("minutes")
            || self.unit.starts_with("people")
            || (self.is_beyond_inpatient() && self.chart == ChartKind::C)
        {
            format!("{v:.0}")
        } else {
            format!("{v:.2}")
        }
    }

    /// Whether this is a rate or proportion whose denominator matters for disclosure.
    pub fn is_rate(&self) -> bool {
        matches!(
            self.denominator,
            Denominator::OccupiedBedDays
                | Denominator::BedDaysLessLeave
                | Denominator::StaffHeadcount
        )
    }

    pub fn is_proportion(&self) -> bool {
        matches!(
            self.denominator,
            Denominator::Inpatients
                | Denominator::RestrictiveIncidents
                | Denominator::LeavePeriodsEnded
                | Denominator::SurveyAnswers
                | Denominator::FreedClocksDecided(_)
                | Denominator::FreedTreated
                | Denominator::FreedEligibleFollowedUp
                | Denominator::LigatureAudits
                | Denominator::LigatureActionsOpen
        )
    }

    /// Whether one point is a statistic (a median) of some events rather than a count.
    pub fn is_statistic(&self) -> bool {
        matches!(
            self.numerator,
            Numerator::MedianRestraintMinutes
                | Numerator::FreedMedianDaysToTreatment
                | Numerator::FreedMedianDued
                | Numerator::LigatureMedianHighAge
        )
    }

    /// Whether it is one of the ligature register's measures (computed from the registers).
    pub fn is_ligature(&self) -> bool {
        matches!(
            self.numerator,
            Numerator::LigatureOpenHigh
                | Numerator::LigatureMedianHighAge
                | Numerator::LigatureAuditsOnTime
                | Numerator::LigatureActionsOverdue
        )
    }

    /// Whether it is one of the FREED programme's measures (computed from referrals).
    pub fn is_freed(&self) -> bool {
        self.objective == Objective::Freed
    }

    /// Whether it is one of the network's measures beyond inpatient mental health (issue 12,
    /// item 4): acute trusts' patients' self-harm and staff self-harm and suicide.
    pub fn is_beyond_inpatient(&self) -> bool {
        matches!(
            self.numerator,
            Numerator::AcuteSelfHarm(_) | Numerator::StaffSelfHarm | Numerator::StaffSuicides
        )
    }
    /// Whether it counts staff (aggregates only: no breakdown by person is possible).
    pub fn is_staff(&self) -> bool {
        matches!(
            self.numerator,
            Numerator::StaffSelfHarm | Numerator::StaffSuicides
        )
    }
    /// Whether it is computed from the ward safety uploads (stays, restrictive interventions,
    /// incidents) by `store::compute_measures`; the other programmes' measures come from their
    /// own records (`web::series_sources`).
    pub fn from_ward_uploads(&self) -> bool {
        !self.is_freed() && !self.is_ligature() && !self.is_beyond_inpatient()
    }

    /// Whether its points describe single events (one point per incident: G and T charts),
    /// which disclosure control never lets leave the organisation.
    pub fn is_event_level(&self) -> bool {
        matches!(self.chart, ChartKind::G | ChartKind::T)
    }

    /// The kind of figure one point of this measure is, with the counts behind it, for
    /// disclosure control (`crate::disclosure`). `numerator` is the count (or, for a
    /// statistic, the statistic itself); for a statistic `denominator` is the number of events.
    pub fn figure(
        &self,
        value: f64,
        numerator: f64,
        denominator: Option<f64>,
    ) -> crate::disclosure::Figure {
        use crate::disclosure::Figure;
        let count = |x: f64| x.round().max(0.0) as u64;
        if self.is_event_level() {
            Figure::EventLevel
        } else if self.is_statistic() {
            Figure::Statistic {
                value,
                events: count(denominator.unwrap_or(0.0)),
            }
        } else if self.is_rate() {
            Figure::Rate {
                events: count(numerator),
                exposure: denominator.unwrap_or(0.0),
                per: self.multiplier,
            }
        } else if self.is_proportion() {
            Figure::Proportion {
                numerator: count(numerator),
                denominator: count(denominator.unwrap_or(0.0)),
                per: self.multiplier,
            }
        } else {
            Figure::Count(count(numerator))
        }
    }

    /// A charted value as it may be shown across organisations: `None` when disclosure control
    /// suppresses it, otherwise the value computed from the published (rounded) counts.
    pub fn disclosed_value(
        &self,
        policy: &crate::disclosure::Policy,
        value: Option<f64>,
        numerator: f64,
        denominator: Option<f64>,
    ) -> Option<f64> {
        let v = value?;
        policy
            .publish(self.figure(v, numerator, denominator))
            .map(|p| p.value)
    }

    /// How the measure is charted: its chart kind, direction and target, MDC rules.
    pub fn spc_settings(&self) -> spc::Settings {
        spc::Settings {
            chart: self.chart,
            direction: self.direction,
            target: self.target,
            // A chart drawn from counts and denominators (P) shows them on the measure's scale.
            multiplier: if self.chart.needs_denominator() {
                self.multiplier
            } else {
                1.0
            },
            ..spc::Settings::default()
        }
    }

    /// How its breakdown by patient characteristics is expressed: a rate or percentage keeps its
    /// own scale; a plain count (people restricted) becomes a rate per 1,000 occupied bed days
    /// of each group, since groups differ in size.
    pub fn breakdown_scale(&self) -> (f64, &'static str) {
        if self.is_rate() || self.is_proportion() {
            (self.multiplier, self.unit)
        } else {
            (PER_1000, OBD)
        }
    }

    /// Whether it can be broken down by patient characteristics (it counts patients' events).
    pub fn stratifiable(&self) -> bool {
        matches!(
            self.numerator,
            Numerator::Interventions(_)
                | Numerator::PeopleRestricted
                | Numerator::SelfHarm(_)
                | Numerator::Awol
        )
    }
}

const PER_1000: f64 = 1000.0;
const OBD: &str = "per 1,000 occupied bed days";

fn rate(
    id: &'static str,
    title: &'static str,
    description: &'static str,
    objective: Objective,
    numerator: Numerator,
) -> Measure {
    Measure {
        id,
        version: 1,
        title,
        description,
        objective,
        numerator,
        denominator: Denominator::OccupiedBedDays,
        multiplier: PER_1000,
        direction: Direction::Decrease,
        chart: ChartKind::Xmr,
        target: None,
        unit: OBD,
        national: None,
    }
}

/// Every measure the programme reports, in catalogue order.
pub fn catalogue() -> Vec<Measure> {
    use InterventionFilter as F;
    use Numerator as N;
    use Objective::*;
    vec![
        Measure {
            national: Some("MHS96"),
            ..rate(
                "ri_rate",
                "Restrictive interventions per 1,000 occupied bed days",
                "Every restrictive intervention (physical, chemical and mechanical restraint, seclusion and segregation) for every 1,000 nights patients spent on the ward. Lower is better.",
                RestrictivePractice,
                N::Interventions(F::All),
            )
        },
        rate(
            "ri_physical_rate",
            "Physical restraint per 1,000 occupied bed days",
            "Physical restraints of any position (prone, supine, side, seated, kneeling, standing, restrictive escort, other) for every 1,000 occupied bed days.",
            RestrictivePractice,
            N::Interventions(F::Group(InterventionGroup::Physical)),
        ),
        rate(
            "ri_prone_rate",
            "Prone restraint per 1,000 occupied bed days",
            "Face-down (prone) physical restraint, which carries the highest risk of harm, for every 1,000 occupied bed days. The programme aims to end it.",
            RestrictivePractice,
            N::Interventions(F::Type(InterventionType::PhysicalProne)),
        ),
        rate(
            "ri_chemical_rate",
            "Chemical restraint per 1,000 occupied bed days",
            "Medication given to control behaviour (by injection, orally or otherwise), for every 1,000 occupied bed days.",
            RestrictivePractice,
            N::Interventions(F::Group(InterventionGroup::Chemical)),
        ),
        rate(
            "ri_rapid_tranq_rate",
            "Rapid tranquillisation per 1,000 occupied bed days",
            "Injections given as rapid tranquillisation (MHSDS code 14), for every 1,000 occupied bed days.",
            RestrictivePractice,
            N::Interventions(F::Type(InterventionType::ChemicalRapidTranquillisation)),
        ),
        rate(
            "ri_mechanical_rate",
            "Mechanical restraint per 1,000 occupied bed days",
            "Use of a device (such as handcuffs or belts) to restrict movement, for every 1,000 occupied bed days.",
            RestrictivePractice,
            N::Interventions(F::Group(InterventionGroup::Mechanical)),
        ),
        rate(
            "ri_seclusion_rate",
            "Seclusion per 1,000 occupied bed days",
            "Episodes of seclusion (a patient kept apart in a room they cannot leave), for every 1,000 occupied bed days.",
            RestrictivePractice,
            N::Interventions(F::Group(InterventionGroup::Seclusion)),
        ),
        rate(
            "ri_segregation_rate",
            "Long-term segregation per 1,000 occupied bed days",
            "Episodes of long-term segregation, for every 1,000 occupied bed days.",
            RestrictivePractice,
            N::Interventions(F::Group(InterventionGroup::Segregation)),
        ),
        Measure {
            id: "people_restricted",
            version: 1,
            title: "People subject to restrictive interventions",
            description: "The number of different patients who had at least one restrictive intervention in the period.",
            objective: RestrictivePractice,
            numerator: N::PeopleRestricted,
            denominator: Denominator::None,
            multiplier: 1.0,
            direction: Direction::Decrease,
            chart: ChartKind::C,
            target: None,
            unit: "people",
            national: Some("MHS76"),
        },
        Measure {
            id: "pct_inpatients_restricted",
            version: 1,
            title: "% of inpatients subject to restrictive interventions",
            description: "Of all the patients who spent time on the ward in the period, the percentage who had at least one restrictive intervention.",
            objective: RestrictivePractice,
            numerator: N::PeopleRestricted,
            denominator: Denominator::Inpatients,
            multiplier: 100.0,
            direction: Direction::Decrease,
            chart: ChartKind::Xmr,
            target: None,
            unit: "%",
            national: Some("MHS97"),
        },
        Measure {
            id: "median_restraint_minutes",
            version: 1,
            title: "Median minutes of physical restraint",
            description: "The middle length, in minutes, of the physical restraints that started in the period: half were shorter, half longer.",
            objective: RestrictivePractice,
            numerator: N::MedianRestraintMinutes,
            denominator: Denominator::None,
            multiplier: 1.0,
            direction: Direction::Decrease,
            chart: ChartKind::Xmr,
            target: None,
            unit: "minutes",
            national: Some("MHS98a"),
        },
        Measure {
            id: "pct_incidents_reviewed_with_patient",
            version: 1,
            title: "% of restrictive incidents with a post-incident review with the patient",
            description: "Of the incidents in which a patient was restricted, the percentage where staff reviewed what happened with the patient afterwards. Higher is better.",
            objective: RestrictivePractice,
            numerator: N::IncidentsReviewedWithPatient,
            denominator: Denominator::RestrictiveIncidents,
            multiplier: 100.0,
            direction: Direction::Increase,
            chart: ChartKind::Xmr,
            target: Some(90.0),
            unit: "%",
            national: None,
        },
        rate(
            "self_harm_rate",
            "Self-harm incidents per 1,000 occupied bed days",
            "Every recorded self-harm incident, on the ward or on leave, for every 1,000 occupied bed days.",
            SelfHarmAwol,
            N::SelfHarm(SelfHarmFilter::All),
        ),
        rate(
            "self_harm_moderate_rate",
            "Self-harm with moderate or worse harm per 1,000 occupied bed days",
            "Self-harm incidents graded moderate, severe or fatal physical harm, for every 1,000 occupied bed days.",
            SelfHarmAwol,
            N::SelfHarm(SelfHarmFilter::ModerateOrWorse),
        ),
        rate(
            "self_harm_on_leave_rate",
            "Self-harm on leave per 1,000 occupied bed days",
            "Self-harm incidents while the patient was on agreed leave from the ward, for every 1,000 occupied bed days.",
            SelfHarmAwol,
            N::SelfHarm(SelfHarmFilter::OnLeave),
        ),
        Measure {
            denominator: Denominator::BedDaysLessLeave,
            unit: "per 1,000 bed days (less leave)",
            national: Some("MHS31 / MHS25"),
            ..rate(
                "awol_rate",
                "AWOL episodes per 1,000 occupied bed days (less leave)",
                "Episodes of absence without leave that started in the period, for every 1,000 bed days spent on the ward (days on leave are left out, as in MHSDS).",
                SelfHarmAwol,
                N::Awol,
            )
        },
        Measure {
            id: "pct_leave_on_time",
            version: 1,
            title: "% of leave periods returned on time",
            description: "Of the leave periods that ended in the period, the percentage where the patient returned no more than 10 minutes after the agreed time. Higher is better.",
            objective: SelfHarmAwol,
            numerator: N::LeaveReturnedOnTime,
            denominator: Denominator::LeavePeriodsEnded,
            multiplier: 100.0,
            direction: Direction::Increase,
            chart: ChartKind::Xmr,
            target: Some(95.0),
            unit: "%",
            national: None,
        },
        Measure {
            id: "days_between_self_harm",
            version: 1,
            title: "Days between self-harm incidents",
            description: "For each self-harm incident, the days since the one before it (a G chart). Rare events are easier to see this way: longer gaps are better.",
            objective: SelfHarmAwol,
            numerator: N::DaysBetweenSelfHarm,
            denominator: Denominator::None,
            multiplier: 1.0,
            direction: Direction::Increase,
            chart: ChartKind::G,
            target: None,
            unit: "days",
            national: None,
        },
        rate(
            "sexual_safety_rate",
            "Sexual safety incidents per 1,000 occupied bed days",
            "Every sexual safety incident (assault, verbal or non-verbal harassment, online sexual activity), for every 1,000 occupied bed days.",
            SexualSafety,
            N::SexualSafety(None),
        ),
        rate(
            "sexual_assault_rate",
            "Sexual assaults per 1,000 occupied bed days",
            "Sexual assaults, including rape and touching without consent, for every 1,000 occupied bed days.",
            SexualSafety,
            N::SexualSafety(Some(SexualSafetyCategory::Assault)),
        ),
        rate(
            "sexual_harassment_verbal_rate",
            "Verbal sexual harassment per 1,000 occupied bed days",
            "Incidents of verbal sexual harassment, for every 1,000 occupied bed days.",
            SexualSafety,
            N::SexualSafety(Some(SexualSafetyCategory::VerbalHarassment)),
        ),
        rate(
            "sexual_harassment_nonverbal_rate",
            "Non-verbal sexual harassment per 1,000 occupied bed days",
            "Incidents of non-verbal sexual harassment (including exposure), for every 1,000 occupied bed days.",
            SexualSafety,
            N::SexualSafety(Some(SexualSafetyCategory::NonVerbalHarassment)),
        ),
        rate(
            "sexual_online_rate",
            "Online sexual activity incidents per 1,000 occupied bed days",
            "Incidents of online sexual activity, for every 1,000 occupied bed days.",
            SexualSafety,
            N::SexualSafety(Some(SexualSafetyCategory::Online)),
        ),
        Measure {
            id: "pct_feel_sexually_safe",
            version: 1,
            title: "% of patients who feel sexually safe",
            description: "Of the patients who answered the ward survey question \"Do you feel sexually safe on this ward?\", the percentage who said yes. Higher is better.",
            objective: SexualSafety,
            numerator: N::FeltSexuallySafe,
            denominator: Denominator::SurveyAnswers,
            multiplier: 100.0,
            direction: Direction::Increase,
            chart: ChartKind::Xmr,
            target: Some(90.0),
            unit: "%",
            national: None,
        },
    ]
}

/// A measure by id: the ward safety catalogue, then FREED's, then the ligature register's,
/// then the network's beyond inpatient mental health.
pub fn find(id: &str) -> Option<Measure> {
    catalogue()
        .into_iter()
        .chain(freed_catalogue())
        .chain(ligature_catalogue())
        .chain(beyond_inpatient_catalogue())
        .find(|m| m.id == id)
}

/// The network's measures beyond inpatient mental health (issue 12, item 4), charted per
/// trust, ICB and region: self-harm among acute trusts' patients (all settings and each
/// setting, from the `acute_self_harm` upload), and self-harm and suicide among every trust's
/// staff (from the monthly aggregate counts of the `staff_harm` upload). Staff figures are
/// aggregates: they cannot be broken down by any characteristic of a person.
pub fn beyond_inpatient_catalogue() -> Vec<Measure> {
    use Numerator as N;
    let count = |id, title, description, numerator, unit| Measure {
        id,
        version: 1,
        title,
        description,
        objective: Objective::SelfHarmAwol,
        numerator,
        denominator: Denominator::None,
        multiplier: 1.0,
        direction: Direction::Decrease,
        chart: ChartKind::C,
        target: None,
        unit,
        national: None,
    };
    vec![
        count(
            "acute_self_harm",
            "Self-harm incidents among acute trusts' patients",
            "Self-harm incidents among the patients of an acute trust in the period, in every setting (emergency department, acute ward, other), as the trust's risk system recorded them. Lower is better.",
            N::AcuteSelfHarm(None),
            "incidents",
        ),
        count(
            "acute_self_harm_ed",
            "Self-harm incidents in emergency departments",
            "Self-harm incidents among an acute trust's patients in its emergency departments in the period. Lower is better.",
            N::AcuteSelfHarm(Some(AcuteSetting::EmergencyDepartment)),
            "incidents",
        ),
        count(
            "acute_self_harm_ward",
            "Self-harm incidents on acute wards",
            "Self-harm incidents among an acute trust's patients on its (non-mental-health) wards in the period. Lower is better.",
            N::AcuteSelfHarm(Some(AcuteSetting::AcuteWard)),
            "incidents",
        ),
        count(
            "acute_self_harm_other",
            "Self-harm incidents in other acute settings",
            "Self-harm incidents among an acute trust's patients in its other settings (outpatients, grounds, transport) in the period. Lower is better.",
            N::AcuteSelfHarm(Some(AcuteSetting::Other)),
            "incidents",
        ),
        count(
            "staff_self_harm",
            "Staff self-harm per month",
            "The number of the trust's staff known to have self-harmed in the month, as the trust counted them: an aggregate count, never a person, so there is no breakdown by group. Shown only under disclosure control outside the trust. Months the trust did not report are gaps. Lower is better.",
            N::StaffSelfHarm,
            "staff",
        ),
        count(
            "staff_suicides",
            "Staff suicides per month",
            "The number of the trust's staff who died by suicide in the month, as the trust counted them: an aggregate count, never a person, so there is no breakdown by group. Shown only under disclosure control outside the trust. Months the trust did not report are gaps. Lower is better.",
            N::StaffSuicides,
            "staff",
        ),
        Measure {
            denominator: Denominator::StaffHeadcount,
            multiplier: 1000.0,
            chart: ChartKind::Xmr,
            ..count(
                "staff_self_harm_rate",
                "Staff self-harm per 1,000 staff",
                "Staff known to have self-harmed in the month for every 1,000 staff, in the months the trust gave its staff headcount (an aggregate rate, never a person; no breakdown by group). Lower is better.",
                N::StaffSelfHarm,
                "per 1,000 staff",
            )
        },
    ]
}

/// The ligature register's measures (issue 13), charted per ward, site, trust and region from
/// every ward's register as it stood at each period's end; the rules are in docs/ligature.md
/// ("Measures"). Part of the suicide and self-harm objective.
pub fn ligature_catalogue() -> Vec<Measure> {
    use Numerator as N;
    let m = |id, title, description, numerator, denominator, multiplier, chart, unit| Measure {
        id,
        version: 1,
        title,
        description,
        objective: Objective::SelfHarmAwol,
        numerator,
        denominator,
        multiplier,
        direction: Direction::Decrease,
        chart,
        target: None,
        unit,
        national: None,
    };
    vec![
        m(
            "ligature_open_high",
            "Open high and extreme ligature points",
            "Ligature points still present at the end of the period whose risk after controls is high or extreme on the 5x5 NHS matrix (a score of 8 or more), from the ward's register as its signed-off audits left it. Lower is better.",
            N::LigatureOpenHigh,
            Denominator::None,
            1.0,
            ChartKind::Xmr,
            "points",
        ),
        m(
            "ligature_median_high_age",
            "Median age of open high-risk ligature points",
            "Of the open high and extreme points at the end of the period, the median number of days since each was first recorded: how long known serious risks have been left. Lower is better.",
            N::LigatureMedianHighAge,
            Denominator::None,
            1.0,
            ChartKind::Xmr,
            "days",
        ),
        Measure {
            direction: Direction::Increase,
            ..m(
                "ligature_audits_on_time",
                "% of ligature audits done on time",
                "Of the ligature audits signed off in the period, the percentage done within the trust's audit interval of the ward's previous audit (a ward's first audit counts as on time). Periods with no audit are gaps. Higher is better.",
                N::LigatureAuditsOnTime,
                Denominator::LigatureAudits,
                100.0,
                ChartKind::P,
                "%",
            )
        },
        m(
            "ligature_actions_overdue",
            "% of ligature actions overdue",
            "Of the actions on ligature points still open at the end of the period, the percentage past their due date (estates work orders and capital bids included). Lower is better.",
            N::LigatureActionsOverdue,
            Denominator::LigatureActionsOpen,
            100.0,
            ChartKind::P,
            "%",
        ),
    ]
}

fn freed_pct(
    id: &'static str,
    title: &'static str,
    description: &'static str,
    numerator: Numerator,
    denominator: Denominator,
    target: Option<f64>,
) -> Measure {
    Measure {
        id,
        version: 1,
        title,
        description,
        objective: Objective::Freed,
        numerator,
        denominator,
        multiplier: 100.0,
        direction: Direction::Increase,
        chart: ChartKind::P,
        target,
        unit: "%",
        national: None,
    }
}

/// The FREED programme's measures (issue 14), charted per service, trust and region; the
/// rules behind each are in docs/freed.md ("Monthly and weekly figures").
pub fn freed_catalogue() -> Vec<Measure> {
    use FreedClock as C;
    use Numerator as N;
    let stat = |id, title, description, numerator, unit| Measure {
        id,
        version: 1,
        title,
        description,
        objective: Objective::Freed,
        numerator,
        denominator: Denominator::None,
        multiplier: 1.0,
        direction: Direction::Decrease,
        chart: ChartKind::Xmr,
        target: None,
        unit,
        national: None,
    };
    vec![
        freed_pct(
            "freed_engagement_48h",
            "% of FREED engagement calls within 48 hours",
            "Of the referrals whose 48-hour engagement clock was decided in the period (met by an attended call, assessment or treatment, or breached when 48 hours passed), the percentage met. Higher is better.",
            N::FreedClockMet(C::Engagement),
            Denominator::FreedClocksDecided(C::Engagement),
            None,
        ),
        freed_pct(
            "freed_assessment_2w",
            "% of FREED assessments within 2 weeks",
            "Of the referrals whose 2-week assessment clock was decided in the period (met by an attended assessment or treatment, or breached when the 2 weeks, plus any pause, passed), the percentage met. Higher is better.",
            N::FreedClockMet(C::Assessment),
            Denominator::FreedClocksDecided(C::Assessment),
            None,
        ),
        freed_pct(
            "freed_treatment_4w",
            "% of FREED treatments started within 4 weeks",
            "Of the referrals whose 4-week treatment clock was decided in the period (met by an attended first treatment, or breached when the 4 weeks, plus any pause, passed), the percentage met. Higher is better.",
            N::FreedClockMet(C::Treatment),
            Denominator::FreedClocksDecided(C::Treatment),
            None,
        ),
        freed_pct(
            "freed_children_standard",
            "% of under-19s starting treatment within the children's standard",
            "The children's eating disorder access and waiting time standard: of the under-19s whose clock was decided in the period, the percentage who started treatment within 1 week (urgent) or 4 weeks (routine) of the referral being received. The standard is 95%.",
            N::FreedClockMet(C::Children),
            Denominator::FreedClocksDecided(C::Children),
            Some(95.0),
        ),
        stat(
            "freed_median_days_to_treatment",
            "Median days from referral to treatment",
            "For the referrals whose first attended treatment was in the period, the middle number of calendar days from the referral being received to that treatment. Lower is better.",
            N::FreedMedianDaysToTreatment,
            "days",
        ),
        stat(
            "freed_median_dued",
            "Median duration of untreated eating disorder (DUED), days",
            "For the patients whose first attended treatment was in the period and whose onset is known, the middle number of days from the onset of the illness to that treatment (an onset known to the month counts from the 15th, to the year from 1 July). Lower is better.",
            N::FreedMedianDued,
            "days",
        ),
        freed_pct(
            "freed_precise_onset",
            "% of treated patients with an onset known to the day",
            "Of the patients whose first attended treatment was in the period, the percentage whose onset is recorded to the day: how much the DUED can be trusted. Higher is better.",
            N::FreedPreciseOnset,
            Denominator::FreedTreated,
            None,
        ),
        freed_pct(
            "freed_uptake",
            "% of eligible referrals who start treatment (uptake)",
            "Of the FREED-eligible referrals received in the period, the percentage who started treatment within 12 weeks; referrals received less than 12 weeks ago are not yet counted. FREED's own result to beat is 97.8%. Higher is better.",
            N::FreedStartedTreatment,
            Denominator::FreedEligibleFollowedUp,
            None,
        ),
        Measure {
            chart: ChartKind::Xmr,
            ..stat(
                "freed_waiting_list",
                "People on the FREED waiting list",
                "The referrals waiting at the end of the period (open, received, and with a FREED or children's clock still running): the size of the queue. Lower is better when demand is steady.",
                N::FreedWaiting,
                "people",
            )
        },
    ]
}

/// Characteristics a measure can be broken down by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stratifier {
    EthnicGroup,
    AgeBand,
    Sex,
    LdAutism,
}

impl Stratifier {
    pub const ALL: [Stratifier; 4] = [
        Stratifier::EthnicGroup,
        Stratifier::AgeBand,
        Stratifier::Sex,
        Stratifier::LdAutism,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Stratifier::EthnicGroup => "ethnic_group",
            Stratifier::AgeBand => "age_band",
            Stratifier::Sex => "sex",
            Stratifier::LdAutism => "ld_autism",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Stratifier::EthnicGroup => "Ethnic group",
            Stratifier::AgeBand => "Age band",
            Stratifier::Sex => "Sex",
            Stratifier::LdAutism => "Learning disability or autism",
        }
    }

    pub fn parse(s: &str) -> Option<Stratifier> {
        Stratifier::ALL.into_iter().find(|x| x.as_str() == s.trim())
    }

    /// The reference group for rate ratios: White for ethnicity (as NHS publications do);
    /// otherwise the caller picks the group with the most exposure.
    pub fn fixed_reference(self) -> Option<&'static str> {
        match self {
            Stratifier::EthnicGroup => Some("White"),
            Stratifier::LdAutism => Some("No"),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_unique_and_every_measure_is_explained() {
        let all = catalogue();
        let ids: HashSet<&str> = all.iter().map(|m| m.id).collect();
        assert_eq!(ids.len(), all.len());
        assert!(all.len() >= 20);
        for m in &all {
            assert!(m.description.len() > 40, "{}", m.id);
            assert!(m.version >= 1);
        }
        for o in Objective::ALL {
            assert!(all.iter().any(|m| m.objective == o));
        }
        let freed = freed_catalogue();
        for m in &freed {
            assert!(m.is_freed() && m.description.len() > 40, "{}", m.id);
            assert!(!ids.contains(m.id), "{} is in both catalogues", m.id);
            assert_eq!(find(m.id).as_ref(), Some(m));
        }
        assert!(all.iter().all(|m| !m.is_freed()));
        assert_eq!(Objective::parse("freed"), Some(Objective::Freed));
    }

    #[test]
    fn the_measures_beyond_inpatient_care_come_from_their_own_uploads() {
        let ward: HashSet<&str> = catalogue()
            .iter()
            .chain(freed_catalogue().iter())
            .chain(ligature_catalogue().iter())
            .map(|m| m.id)
            .collect();
        let beyond = beyond_inpatient_catalogue();
        for m in &beyond {
            assert!(!ward.contains(m.id), "{}", m.id);
            assert!(
                m.is_beyond_inpatient() && !m.from_ward_uploads(),
                "{}",
                m.id
            );
            assert!(!m.stratifiable(), "{}", m.id);
            assert_eq!(find(m.id).as_ref(), Some(m));
        }
        // Staff counts are counts (suppressed 1-4 outside the trust); the rate per 1,000 staff
        // is a rate whose events are the staff counted.
        use crate::disclosure::Figure;
        let staff = find("staff_suicides").unwrap();
        assert!(staff.is_staff());
        assert_eq!(staff.figure(2.0, 2.0, None), Figure::Count(2));
        let rate = find("staff_self_harm_rate").unwrap();
        assert_eq!(
            rate.figure(1.5, 3.0, Some(2000.0)),
            Figure::Rate {
                events: 3,
                exposure: 2000.0,
                per: 1000.0
            }
        );
        assert_eq!(find("acute_self_harm").unwrap().format_value(3.0), "3");
    }

    #[test]
    fn prone_filter_counts_only_prone() {
        let f = InterventionFilter::Type(InterventionType::PhysicalProne);
        assert!(f.matches(InterventionType::PhysicalProne));
        assert!(!f.matches(InterventionType::PhysicalSupine));
        assert!(
            InterventionFilter::Group(InterventionGroup::Physical)
                .matches(InterventionType::PhysicalSupine)
        );
    }
}
