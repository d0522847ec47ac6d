//! The register's vocabulary: CQC tiers, kinds of point, height bands, the 5x5 NHS risk
//! matrix and its bands, controls, areas and a point's recorded state. Every type parses from
//! the words trusts write and has one stored code (`code`), so the store, the pages and the
//! importer agree.

use crate::error::Problem;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The CQC / Mental Health Forum tier of a patient-accessible area (November 2023).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Tier {
    /// 1: high supervision (e.g. a lounge in sight of the nurses' station).
    One = 1,
    /// 2: open areas with little supervision (corridors, quiet rooms, gardens).
    Two = 2,
    /// 3: where a patient is alone for long periods (bedrooms, en-suites, bathrooms).
    Three = 3,
}

impl Tier {
    pub const ALL: [Tier; 3] = [Tier::One, Tier::Two, Tier::Three];

    pub fn number(self) -> u8 {
        self as u8
    }

    pub fn label(self) -> &'static str {
        match self {
            Tier::One => "Tier 1: high supervision",
            Tier::Two => "Tier 2: open, little supervision",
            Tier::Three => "Tier 3: patients alone for long periods",
        }
    }

    /// `1`, `2`, `3`, `tier 2`, `T3` (case and spaces ignored).
    pub fn parse(s: &str) -> Result<Tier, Problem> {
        let t: String = s
            .trim()
            .to_ascii_lowercase()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let t = t
            .strip_prefix("tier")
            .or_else(|| t.strip_prefix('t'))
            .unwrap_or(&t);
        match t {
            "1" => Ok(Tier::One),
            "2" => Ok(Tier::Two),
            "3" => Ok(Tier::Three),
            _ => Err(Problem::new(
                "tier",
                "a CQC tier: 1, 2 or 3",
                format!("'{}'", s.trim()),
            )),
        }
    }

    pub fn from_number(n: i64) -> Result<Tier, Problem> {
        Tier::parse(&n.to_string())
    }

    /// Tier 2 and 3 areas: anchor points there should be removed where possible, and a point
    /// there can be escalated.
    pub fn unsupervised(self) -> bool {
        self != Tier::One
    }
}

/// What a point is (the list).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum PointType {
    Door,
    Window,
    Rail,
    Sanitary,
    Bed,
    Wardrobe,
    Pipe,
    Other,
}

impl PointType {
    pub const ALL: [PointType; 8] = [
        PointType::Door,
        PointType::Window,
        PointType::Rail,
        PointType::Sanitary,
        PointType::Bed,
        PointType::Wardrobe,
        PointType::Pipe,
        PointType::Other,
    ];

    pub fn code(self) -> &'static str {
        match self {
            PointType::Door => "door",
            PointType::Window => "window",
            PointType::Rail => "rail",
            PointType::Sanitary => "sanitary",
            PointType::Bed => "bed",
            PointType::Wardrobe => "wardrobe",
            PointType::Pipe => "pipe",
            PointType::Other => "other",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            PointType::Door => "Door and its furniture",
            PointType::Window => "Window",
            PointType::Rail => "Curtain or shower rail",
            PointType::Sanitary => "Taps and sanitary ware",
            PointType::Bed => "Bed",
            PointType::Wardrobe => "Wardrobe",
            PointType::Pipe => "Pipe",
            PointType::Other => "Other",
        }
    }

    /// The code, the label, or a common word for it (`door closer`, `shower rail`, `tap`).
    pub fn parse(s: &str) -> Result<PointType, Problem> {
        let t = s.trim().to_ascii_lowercase();
        if let Some(p) = PointType::ALL
            .into_iter()
            .find(|p| p.code() == t || p.label().to_ascii_lowercase() == t)
        {
            return Ok(p);
        }
        let has = |w: &str| t.split(|c: char| !c.is_alphanumeric()).any(|x| x == w);
        let found = if has("door") || has("hinge") || has("handle") || has("closer") {
            Some(PointType::Door)
        } else if has("window") {
            Some(PointType::Window)
        } else if has("rail") || has("curtain") {
            Some(PointType::Rail)
        } else if has("tap") || has("taps") || has("sink") || has("toilet") || has("basin") {
            Some(PointType::Sanitary)
        } else if has("bed") {
            Some(PointType::Bed)
        } else if has("wardrobe") {
            Some(PointType::Wardrobe)
        } else if has("pipe") || has("pipework") {
            Some(PointType::Pipe)
        } else {
            None
        };
        found.ok_or_else(|| {
            Problem::new(
                "type",
                "door, window, rail, sanitary, bed, wardrobe, pipe or other",
                format!("'{}'", s.trim()),
            )
        })
    }
}

/// How high a point is. An anchor point at any height can be used (DOMAIN.md), so every band is
/// a risk; the band says how it can be used and what fitting replaces it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum HeightBand {
    /// Below 1.2 m (reachable sitting or lying: beds, taps, low pipes).
    Low,
    /// 1.2 m to 2 m (door handles and hinges, window fittings, wardrobes).
    Middle,
    /// Above 2 m (door tops, rails, ceiling fittings).
    High,
}

impl HeightBand {
    pub const ALL: [HeightBand; 3] = [HeightBand::Low, HeightBand::Middle, HeightBand::High];

    pub fn code(self) -> &'static str {
        match self {
            HeightBand::Low => "low",
            HeightBand::Middle => "middle",
            HeightBand::High => "high",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            HeightBand::Low => "Below 1.2 m",
            HeightBand::Middle => "1.2 m to 2 m",
            HeightBand::High => "Above 2 m",
        }
    }

    pub fn parse(s: &str) -> Result<HeightBand, Problem> {
        let t = s.trim().to_ascii_lowercase();
        HeightBand::ALL
            .into_iter()
            .find(|h| h.code() == t || h.label().to_ascii_lowercase() == t)
            .or(match t.as_str() {
                "medium" | "mid" => Some(HeightBand::Middle),
                "floor" | "below 1.2m" | "<1.2m" => Some(HeightBand::Low),
                "above 2m" | ">2m" | "ceiling" => Some(HeightBand::High),
                _ => None,
            })
            .ok_or_else(|| {
                Problem::new(
                    "height",
                    "low (below 1.2 m), middle (1.2 m to 2 m) or high (above 2 m)",
                    format!("'{}'", s.trim()),
                )
            })
    }
}

/// One cell of the 5x5 NHS risk matrix: likelihood 1-5 times consequence 1-5.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Risk {
    likelihood: u8,
    consequence: u8,
}

impl Risk {
    /// A risk from its two ratings, each 1 to 5.
    pub fn new(likelihood: i64, consequence: i64) -> Result<Risk, Problem> {
        let rating = |field: &str, v: i64| {
            if (1..=5).contains(&v) {
                Ok(v as u8)
            } else {
                Err(Problem::new(field, "a rating from 1 to 5", v))
            }
        };
        Ok(Risk {
            likelihood: rating("likelihood", likelihood)?,
            consequence: rating("consequence", consequence)?,
        })
    }

    /// A rating as typed (`4`), for the importer and the forms.
    pub fn parse(likelihood: &str, consequence: &str) -> Result<Risk, Problem> {
        let num = |field: &str, s: &str| {
            s.trim()
                .parse::<i64>()
                .map_err(|_| Problem::new(field, "a rating from 1 to 5", format!("'{}'", s.trim())))
        };
        Risk::new(
            num("likelihood", likelihood)?,
            num("consequence", consequence)?,
        )
    }

    /// A cell of the matrix from ratings brought into 1 to 5 (for forms' defaults).
    pub fn clamped(likelihood: u8, consequence: u8) -> Risk {
        Risk {
            likelihood: likelihood.clamp(1, 5),
            consequence: consequence.clamp(1, 5),
        }
    }

    pub fn likelihood(self) -> u8 {
        self.likelihood
    }

    pub fn consequence(self) -> u8 {
        self.consequence
    }

    /// 1 to 25.
    pub fn score(self) -> u8 {
        self.likelihood * self.consequence
    }
}

/// The bands of the NHS risk matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Band {
    Low,
    Moderate,
    High,
    Extreme,
}

impl Band {
    pub const ALL: [Band; 4] = [Band::Low, Band::Moderate, Band::High, Band::Extreme];

    pub fn code(self) -> &'static str {
        match self {
            Band::Low => "low",
            Band::Moderate => "moderate",
            Band::High => "high",
            Band::Extreme => "extreme",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Band::Low => "Low",
            Band::Moderate => "Moderate",
            Band::High => "High",
            Band::Extreme => "Extreme",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }

    /// High or extreme.
    pub fn is_high(self) -> bool {
        self >= Band::High
    }
}

impl fmt::Display for Band {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Where the bands start on the score. The default is the NHS matrix as DOMAIN.md gives it:
/// 1-3 low, 4-6 moderate, 8-12 high, 15-25 extreme ("check per trust": a trust may set its own,
/// in increasing order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Banding {
    pub moderate_from: u8,
    pub high_from: u8,
    pub extreme_from: u8,
}

impl Default for Banding {
    fn default() -> Banding {
        Banding {
            moderate_from: 4,
            high_from: 8,
            extreme_from: 15,
        }
    }
}

impl Banding {
    pub fn new(moderate_from: u8, high_from: u8, extreme_from: u8) -> Result<Banding, Problem> {
        if !(2..=25).contains(&moderate_from)
            || moderate_from >= high_from
            || high_from >= extreme_from
            || extreme_from > 25
        {
            return Err(Problem::new(
                "banding",
                "band starts in increasing order between 2 and 25 (e.g. 4, 8, 15)",
                format!("{moderate_from}, {high_from}, {extreme_from}"),
            ));
        }
        Ok(Banding {
            moderate_from,
            high_from,
            extreme_from,
        })
    }

    pub fn band_of_score(self, score: u8) -> Band {
        if score >= self.extreme_from {
            Band::Extreme
        } else if score >= self.high_from {
            Band::High
        } else if score >= self.moderate_from {
            Band::Moderate
        } else {
            Band::Low
        }
    }

    pub fn band(self, r: Risk) -> Band {
        self.band_of_score(r.score())
    }
}

/// A control on a point. Removing a point is not a control on it: it is the audit finding
/// `Finding::Removed`, which closes the point.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ControlKind {
    /// Replaced with an anti-ligature fitting.
    AntiLigature,
    /// A planned level of observation.
    Observation,
    /// Restricted or locked access to the area or fitting.
    RestrictedAccess,
    /// "Staff to be more vigilant": on its own, the control the CQC warned about.
    StaffVigilance,
}

impl ControlKind {
    pub const ALL: [ControlKind; 4] = [
        ControlKind::AntiLigature,
        ControlKind::Observation,
        ControlKind::RestrictedAccess,
        ControlKind::StaffVigilance,
    ];

    pub fn code(self) -> &'static str {
        match self {
            ControlKind::AntiLigature => "anti_ligature",
            ControlKind::Observation => "observation",
            ControlKind::RestrictedAccess => "restricted_access",
            ControlKind::StaffVigilance => "staff_vigilance",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ControlKind::AntiLigature => "Replaced with an anti-ligature fitting",
            ControlKind::Observation => "Observation",
            ControlKind::RestrictedAccess => "Restricted access",
            ControlKind::StaffVigilance => "Staff vigilance",
        }
    }

    pub fn parse(s: &str) -> Result<ControlKind, Problem> {
        let t = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        ControlKind::ALL
            .into_iter()
            .find(|c| c.code() == t || c.label().to_ascii_lowercase().replace(['-', ' '], "_") == t)
            .or(match t.as_str() {
                "anti_ligature_fitting" | "replaced" | "antiligature" => {
                    Some(ControlKind::AntiLigature)
                }
                "observations" | "obs" => Some(ControlKind::Observation),
                "locked" | "locked_access" | "restricted" => Some(ControlKind::RestrictedAccess),
                "vigilance" | "staff_to_be_vigilant" | "staff_to_be_more_vigilant" => {
                    Some(ControlKind::StaffVigilance)
                }
                _ => None,
            })
            .ok_or_else(|| {
                Problem::new(
                    "controls",
                    "anti_ligature, observation, restricted_access or staff_vigilance",
                    format!("'{}'", s.trim()),
                )
            })
    }

    /// A list as typed (`observation; staff vigilance`, commas, semicolons or `|`), sorted and
    /// without repeats; empty for none.
    pub fn parse_list(s: &str) -> Result<Vec<ControlKind>, Problem> {
        let mut out = Vec::new();
        for part in s.split([',', ';', '|', '+']) {
            if part.trim().is_empty() || part.trim().eq_ignore_ascii_case("none") {
                continue;
            }
            out.push(ControlKind::parse(part)?);
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// The stored form: codes joined by commas.
    pub fn join(list: &[ControlKind]) -> String {
        list.iter().map(|c| c.code()).collect::<Vec<_>>().join(",")
    }
}

/// Whether a point's controls come down to staff vigilance alone: nothing but vigilance, or
/// nothing at all (a point with no control is no better controlled than one left to vigilance).
pub fn vigilance_only(controls: &[ControlKind]) -> bool {
    controls.iter().all(|c| *c == ControlKind::StaffVigilance)
}

/// A room or space a patient can reach, on one ward.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Area {
    /// The ward's own short code for it (`BED-03`), unique on the ward.
    pub code: String,
    pub name: String,
    pub tier: Tier,
}

/// Longest code or reference kept.
pub const MAX_CODE: usize = 40;
/// Longest text kept (a location, a description, a note).
pub const MAX_TEXT: usize = 500;

/// A code or reference: 1 to 40 letters, digits, `-`, `_`, `.` or `/`, upper-cased.
pub fn code(field: &str, s: &str) -> Result<String, Problem> {
    let t = s.trim();
    if t.is_empty()
        || t.chars().count() > MAX_CODE
        || !t
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
    {
        return Err(Problem::new(
            field,
            "1 to 40 letters, digits, '-', '_', '.' or '/'",
            format!("'{t}'"),
        ));
    }
    Ok(t.to_ascii_uppercase())
}

/// A text field: trimmed, 1 to 500 characters (or 0 when `optional`), no control characters.
pub fn text(field: &str, s: &str, optional: bool) -> Result<String, Problem> {
    let t = s.trim();
    if (!optional && t.is_empty())
        || t.chars().count() > MAX_TEXT
        || t.chars().any(|c| c.is_control() && c != '\n')
    {
        return Err(Problem::new(
            field,
            if optional {
                "up to 500 characters without control characters"
            } else {
                "1 to 500 characters without control characters"
            },
            format!("{} characters", t.chars().count()),
        ));
    }
    Ok(t.to_string())
}

impl Area {
    pub fn new(code_text: &str, name: &str, tier: Tier) -> Result<Area, Problem> {
        Ok(Area {
            code: code("area", code_text)?,
            name: text("area_name", name, false)?,
            tier,
        })
    }
}

/// What an audit records of a point that is there: where it is, what it is, its risk before and
/// after controls, its controls and when it is next to be reviewed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PointState {
    /// The area's code on the point's ward.
    pub area: String,
    pub location: String,
    pub description: String,
    pub kind: PointType,
    pub height: HeightBand,
    /// Before controls.
    pub inherent: Risk,
    /// After controls (the residual risk).
    pub residual: Risk,
    /// Sorted, without repeats.
    pub controls: Vec<ControlKind>,
    pub review_due: time::Date,
}

impl PointState {
    /// The state's own problems (not those against a register): the residual risk cannot be
    /// above the risk before controls; controls are sorted and unique.
    pub fn problems(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        if self.residual.score() > self.inherent.score() {
            out.push(Problem::new(
                "residual",
                format!(
                    "a residual score no higher than the score before controls ({})",
                    self.inherent.score()
                ),
                self.residual.score(),
            ));
        }
        if self.location.trim().is_empty() {
            out.push(Problem::new("location", "where the point is", "nothing"));
        }
        if self.description.trim().is_empty() {
            out.push(Problem::new("description", "what the point is", "nothing"));
        }
        if self.controls.windows(2).any(|w| w[0] >= w[1]) {
            out.push(Problem::new(
                "controls",
                "each control once",
                ControlKind::join(&self.controls),
            ));
        }
        out
    }

    pub fn vigilance_only(&self) -> bool {
        vigilance_only(&self.controls)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn tiers_parse_and_refuse() {
        assert_eq!(Tier::parse("Tier 3"), Ok(Tier::Three));
        assert_eq!(Tier::parse(" t2 "), Ok(Tier::Two));
        let e = Tier::parse("4").unwrap_err();
        assert_eq!(e.field, "tier");
        assert_eq!(
            e.to_string(),
            "tier: expected a CQC tier: 1, 2 or 3, found '4'"
        );
    }

    #[test]
    fn a_likelihood_of_six_is_refused_naming_the_field() {
        let e = Risk::new(6, 3).unwrap_err();
        assert_eq!(
            e.to_string(),
            "likelihood: expected a rating from 1 to 5, found 6"
        );
        assert_eq!(Risk::parse("3", "x").unwrap_err().field, "consequence");
    }

    #[test]
    fn the_nhs_bands() {
        let b = Banding::default();
        let band = |l, c| b.band(Risk::new(l, c).unwrap());
        assert_eq!(band(1, 3), Band::Low);
        assert_eq!(band(2, 2), Band::Moderate);
        assert_eq!(band(2, 3), Band::Moderate);
        assert_eq!(band(2, 4), Band::High);
        assert_eq!(band(3, 4), Band::High);
        assert_eq!(band(3, 5), Band::Extreme);
        assert_eq!(band(5, 5), Band::Extreme);
        assert!(Banding::new(8, 4, 15).is_err());
    }

    #[test]
    fn words_trusts_write() {
        assert_eq!(PointType::parse("Door closer"), Ok(PointType::Door));
        assert_eq!(PointType::parse("shower rail"), Ok(PointType::Rail));
        assert_eq!(
            PointType::parse("Taps and sanitary ware"),
            Ok(PointType::Sanitary)
        );
        assert_eq!(
            ControlKind::parse_list("Staff vigilance; observation, staff vigilance"),
            Ok(vec![ControlKind::Observation, ControlKind::StaffVigilance])
        );
        assert_eq!(ControlKind::parse_list("none"), Ok(vec![]));
        assert!(ControlKind::parse("prayer").is_err());
        assert!(vigilance_only(&[ControlKind::StaffVigilance]));
        assert!(vigilance_only(&[]));
        assert!(!vigilance_only(&[
            ControlKind::StaffVigilance,
            ControlKind::Observation
        ]));
    }

    proptest! {
        #[test]
        fn band_is_monotone_in_the_score(a in 1u8..=25, b in 1u8..=25) {
            let bd = Banding::default();
            if a <= b {
                prop_assert!(bd.band_of_score(a) <= bd.band_of_score(b));
            }
        }

        #[test]
        fn every_cell_of_the_matrix_has_a_score_in_range(l in -3i64..9, c in -3i64..9) {
            match Risk::new(l, c) {
                Ok(r) => {
                    prop_assert!((1..=5).contains(&l) && (1..=5).contains(&c));
                    prop_assert_eq!(i64::from(r.score()), l * c);
                }
                Err(e) => prop_assert!(e.field == "likelihood" || e.field == "consequence"),
            }
        }

        #[test]
        fn parsers_never_panic(s in "\\PC{0,30}") {
            let _ = Tier::parse(&s);
            let _ = PointType::parse(&s);
            let _ = HeightBand::parse(&s);
            let _ = ControlKind::parse_list(&s);
            let _ = code("x", &s);
        }
    }
}
