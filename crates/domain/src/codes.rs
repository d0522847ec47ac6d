//! National codes (MHSDS, LFPSE, NHS Data Dictionary) as enums that hold only valid values.
//! Each parses its code or its plain label, case-insensitively, and says what it expected.

/// Declares a code list: variants with their code and label, parse by either, groups.
macro_rules! code_list {
    ($(#[$m:meta])* $name:ident, $what:literal { $($variant:ident = $code:literal, $label:literal;)+ }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }

            /// Parse a code (`"01"`, `"1"`) or a label, ignoring case and spaces around it.
            pub fn parse(s: &str) -> Result<$name, String> {
                let t = s.trim();
                // Codes first, without allocating: this runs for every row of an upload.
                if let Some(v) = Self::ALL.iter().find(|v| t.eq_ignore_ascii_case(v.code())) {
                    return Ok(*v);
                }
                if !t.is_empty() && t.len() <= 3 && t.bytes().all(|b| b.is_ascii_digit()) {
                    let n = t.parse::<u32>().ok();
                    if let Some(v) = Self::ALL.iter().find(|v| v.code().bytes().all(|b| b.is_ascii_digit()) && v.code().parse::<u32>().ok() == n) {
                        return Ok(*v);
                    }
                }
                let norm = |x: &str| x.trim().to_ascii_lowercase().replace(['_', '-'], " ");
                let tn = norm(t);
                if let Some(v) = Self::ALL.iter().find(|v| tn == norm(v.label())) {
                    return Ok(*v);
                }
                let codes: Vec<&str> = Self::ALL.iter().map(|v| v.code()).collect();
                Err(format!("'{}' is not a known {}; expected one of {}", t.chars().take(40).collect::<String>(), $what, codes.join(", ")))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.label())
            }
        }
    };
}

code_list!(
    /// MHSDS restrictive intervention type (v5/v6), including the retired 02 and 03.
    InterventionType, "restrictive intervention type" {
        PhysicalProne = "01", "Physical restraint - prone";
        PhysicalRetired = "02", "Physical restraint - other (retired code)";
        ChemicalRetired = "03", "Chemical restraint (retired code)";
        Mechanical = "04", "Mechanical restraint";
        Seclusion = "05", "Seclusion";
        Segregation = "06", "Segregation";
        PhysicalStanding = "07", "Physical restraint - standing";
        RestrictiveEscort = "08", "Physical restraint - restrictive escort";
        PhysicalSupine = "09", "Physical restraint - supine";
        PhysicalSide = "10", "Physical restraint - side";
        PhysicalSeated = "11", "Physical restraint - seated";
        PhysicalKneeling = "12", "Physical restraint - kneeling";
        PhysicalOther = "13", "Physical restraint - other";
        ChemicalRapidTranquillisation = "14", "Chemical restraint - injection (rapid tranquillisation)";
        ChemicalInjection = "15", "Chemical restraint - injection (not rapid tranquillisation)";
        ChemicalOral = "16", "Chemical restraint - oral";
        ChemicalOther = "17", "Chemical restraint - other";
    }
);

/// The groups used by the published measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InterventionGroup {
    Physical,
    Chemical,
    Mechanical,
    Seclusion,
    Segregation,
}

impl InterventionGroup {
    pub fn as_str(self) -> &'static str {
        match self {
            InterventionGroup::Physical => "physical",
            InterventionGroup::Chemical => "chemical",
            InterventionGroup::Mechanical => "mechanical",
            InterventionGroup::Seclusion => "seclusion",
            InterventionGroup::Segregation => "segregation",
        }
    }
}

impl InterventionType {
    pub fn group(self) -> InterventionGroup {
        use InterventionType::*;
        match self {
            PhysicalProne | PhysicalRetired | PhysicalStanding | RestrictiveEscort
            | PhysicalSupine | PhysicalSide | PhysicalSeated | PhysicalKneeling | PhysicalOther => {
                InterventionGroup::Physical
            }
            ChemicalRetired
            | ChemicalRapidTranquillisation
            | ChemicalInjection
            | ChemicalOral
            | ChemicalOther => InterventionGroup::Chemical,
            Mechanical => InterventionGroup::Mechanical,
            Seclusion => InterventionGroup::Seclusion,
            Segregation => InterventionGroup::Segregation,
        }
    }

    /// Duration band as MHSDS publishes it: minutes for physical, chemical and mechanical
    /// restraint; hours to months for seclusion and segregation.
    pub fn duration_band(self, minutes: i64) -> &'static str {
        match self.group() {
            InterventionGroup::Seclusion | InterventionGroup::Segregation => match minutes {
                m if m <= 24 * 60 => "0-24 hours",
                m if m <= 72 * 60 => "24-72 hours",
                m if m <= 7 * 24 * 60 => "72 hours-7 days",
                m if m <= 14 * 24 * 60 => "1-2 weeks",
                m if m <= 28 * 24 * 60 => "2-4 weeks",
                m if m <= 91 * 24 * 60 => "1-3 months",
                _ => "3 months+",
            },
            _ => match minutes {
                m if m <= 10 => "0-10 minutes",
                m if m <= 30 => "11-30 minutes",
                m if m <= 60 => "31-60 minutes",
                _ => "60+ minutes",
            },
        }
    }
}

code_list!(
    /// MHSDS restrictive intervention reason.
    InterventionReason, "restrictive intervention reason" {
        ViolenceToOthers = "10", "Prevent violence to others";
        SeriousSelfHarm = "11", "Prevent serious intentional self-harm";
        AccidentalSelfInjury = "12", "Prevent serious accidental self-injury";
        AdministerTreatment = "13", "Lawfully administer medicines or other treatment";
        PersonalCare = "14", "Facilitate personal care";
        NasogastricFeeding = "15", "Facilitate nasogastric feeding";
        OverActivity = "16", "Prevent extreme and prolonged over-activity";
        DangerousBehaviour = "17", "Prevent otherwise dangerous behaviour";
        Search = "18", "Search of clothing or property";
        Absconding = "19", "Prevent absconding from lawful custody";
        Other = "98", "Other";
        NotKnown = "99", "Not known";
    }
);

code_list!(
    /// LFPSE physical harm level.
    Harm, "harm level" {
        None = "none", "No harm";
        Low = "low", "Low harm";
        Moderate = "moderate", "Moderate harm";
        Severe = "severe", "Severe harm";
        Fatal = "fatal", "Fatal";
    }
);

impl Harm {
    pub fn moderate_or_worse(self) -> bool {
        matches!(self, Harm::Moderate | Harm::Severe | Harm::Fatal)
    }
}

code_list!(
    /// LFPSE psychological harm level.
    PsychologicalHarm, "psychological harm level" {
        None = "none", "No psychological harm";
        Low = "low", "Low psychological harm";
        Moderate = "moderate", "Moderate psychological harm";
        Severe = "severe", "Severe psychological harm";
    }
);

code_list!(
    /// What kind of patient safety incident a record is.
    IncidentKind, "incident kind" {
        SelfHarm = "self_harm", "Self-harm";
        SexualSafety = "sexual_safety", "Sexual safety";
        Other = "other", "Other patient safety incident";
    }
);

code_list!(
    /// How a self-harm incident was done (issue 13, item 4), as far as the ligature register
    /// needs it: a ligature tied to an anchor point (a fixed point it can be tied to, at any
    /// height: DOMAIN.md, CQC and Mental Health Forum, November 2023) or without one
    /// (non-suspension), and the other methods the national reviews group self-harm by (NCISH,
    /// the ICD-10 X60-X84 groups, LFPSE's free text): self-poisoning, cutting, and so on.
    SelfHarmMethod, "self-harm method" {
        LigatureAnchor = "ligature_anchor", "Ligature with an anchor point";
        LigatureNoAnchor = "ligature_no_anchor", "Ligature without an anchor point";
        SelfPoisoning = "self_poisoning", "Self-poisoning";
        Cutting = "cutting", "Cutting or stabbing";
        Swallowing = "swallowing", "Swallowing or inserting objects";
        Hitting = "hitting", "Head banging or hitting";
        Burning = "burning", "Burning";
        Jumping = "jumping", "Jumping from a height";
        Suffocation = "suffocation", "Suffocation without a ligature";
        Other = "other", "Other method";
        Unknown = "unknown", "Not known";
    }
);

impl SelfHarmMethod {
    /// A ligature, with or without an anchor point.
    pub fn is_ligature(self) -> bool {
        matches!(
            self,
            SelfHarmMethod::LigatureAnchor | SelfHarmMethod::LigatureNoAnchor
        )
    }
}

code_list!(
    /// Where a self-harm incident among an acute trust's patients happened (issue 12, item 4).
    AcuteSetting, "acute setting" {
        EmergencyDepartment = "emergency_department", "Emergency department";
        AcuteWard = "acute_ward", "Acute ward";
        Other = "other", "Other acute setting";
    }
);

code_list!(
    /// The kind of a trust: the programme's mental health trusts, and acute trusts that join
    /// the network (issue 12, item 4).
    OrgType, "kind of trust" {
        MentalHealth = "mental_health", "Mental health trust";
        Acute = "acute", "Acute trust";
    }
);

code_list!(
    /// Sexual safety incident category (DOMAIN.md section 4).
    SexualSafetyCategory, "sexual safety category" {
        Assault = "assault", "Sexual assault";
        VerbalHarassment = "verbal", "Sexual harassment - verbal";
        NonVerbalHarassment = "non_verbal", "Sexual harassment - non-verbal";
        Online = "online", "Online sexual activity";
    }
);

code_list!(
    /// Who a perpetrator or victim was.
    PersonType, "person type" {
        Patient = "patient", "Patient";
        Staff = "staff", "Staff";
        Visitor = "visitor", "Visitor";
        Other = "other", "Other";
    }
);

code_list!(
    /// NHS ethnic category (NHS Data Dictionary), with Z not stated and 99 not known.
    EthnicCategory, "ethnic category" {
        WhiteBritish = "A", "White - British";
        WhiteIrish = "B", "White - Irish";
        WhiteOther = "C", "White - Any other White background";
        MixedWhiteBlackCaribbean = "D", "Mixed - White and Black Caribbean";
        MixedWhiteBlackAfrican = "E", "Mixed - White and Black African";
        MixedWhiteAsian = "F", "Mixed - White and Asian";
        MixedOther = "G", "Mixed - Any other mixed background";
        Indian = "H", "Asian or Asian British - Indian";
        Pakistani = "J", "Asian or Asian British - Pakistani";
        Bangladeshi = "K", "Asian or Asian British - Bangladeshi";
        AsianOther = "L", "Asian or Asian British - Any other Asian background";
        Caribbean = "M", "Black or Black British - Caribbean";
        African = "N", "Black or Black British - African";
        BlackOther = "P", "Black or Black British - Any other Black background";
        Chinese = "R", "Other ethnic groups - Chinese";
        OtherEthnic = "S", "Other ethnic groups - Any other ethnic group";
        NotStated = "Z", "Not stated";
        NotKnown = "99", "Not known";
    }
);

impl EthnicCategory {
    /// The broad group used for inequality comparisons.
    pub fn group(self) -> &'static str {
        use EthnicCategory::*;
        match self {
            WhiteBritish | WhiteIrish | WhiteOther => "White",
            MixedWhiteBlackCaribbean | MixedWhiteBlackAfrican | MixedWhiteAsian | MixedOther => {
                "Mixed"
            }
            Indian | Pakistani | Bangladeshi | AsianOther => "Asian or Asian British",
            Caribbean | African | BlackOther => "Black or Black British",
            Chinese | OtherEthnic => "Other ethnic group",
            NotStated => "Not stated",
            NotKnown => "Not known",
        }
    }
}

code_list!(
    /// Person stated gender (NHS Data Dictionary).
    Sex, "gender code" {
        Male = "1", "Male";
        Female = "2", "Female";
        Indeterminate = "9", "Indeterminate";
        NotKnown = "X", "Not known";
    }
);

impl Sex {
    /// Also accept the letters exports often use.
    pub fn parse_lenient(s: &str) -> Result<Sex, String> {
        match s.trim().to_ascii_uppercase().as_str() {
            "M" => Ok(Sex::Male),
            "F" => Ok(Sex::Female),
            "" | "U" | "UNKNOWN" => Ok(Sex::NotKnown),
            _ => Sex::parse(s),
        }
    }
}

code_list!(
    /// Learning disability or autism, as recorded.
    LdAutism, "learning disability or autism flag" {
        Yes = "Y", "Yes";
        No = "N", "No";
        NotKnown = "U", "Not known";
    }
);

code_list!(
    /// Ward type (DOMAIN.md section 1).
    WardType, "ward type" {
        AdultAcute = "adult_acute", "Adult acute";
        Picu = "picu", "Psychiatric intensive care (PICU)";
        OlderAdult = "older_adult", "Older adult";
        LearningDisability = "learning_disability", "Learning disability";
        Camhs = "camhs", "CAMHS tier 4";
        EatingDisorders = "eating_disorders", "Eating disorders";
        LowSecure = "low_secure", "Low secure";
        MediumSecure = "medium_secure", "Medium secure";
        HighSecure = "high_secure", "High secure";
        Rehabilitation = "rehabilitation", "Rehabilitation";
    }
);

code_list!(
    /// Ward sex mix.
    SexMix, "ward sex mix" {
        Male = "male", "Male";
        Female = "female", "Female";
        Mixed = "mixed", "Mixed";
    }
);

/// Age bands used for inequality comparisons.
pub const AGE_BANDS: [&str; 7] = [
    "Under 18",
    "18 to 24",
    "25 to 34",
    "35 to 44",
    "45 to 54",
    "55 to 64",
    "65 and over",
];

pub fn age_band(age: i32) -> &'static str {
    match age {
        a if a < 18 => AGE_BANDS[0],
        a if a < 25 => AGE_BANDS[1],
        a if a < 35 => AGE_BANDS[2],
        a if a < 45 => AGE_BANDS[3],
        a if a < 55 => AGE_BANDS[4],
        a if a < 65 => AGE_BANDS[5],
        _ => AGE_BANDS[6],
    }
}

/// "Y"/"N" flags, as exports write them.
pub fn parse_yes_no(s: &str) -> Result<bool, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" | "true" | "1" => Ok(true),
        "n" | "no" | "false" | "0" => Ok(false),
        other => Err(format!("'{other}' is not yes or no; expected Y or N")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_labels_both_parse() {
        assert_eq!(
            InterventionType::parse("01").unwrap(),
            InterventionType::PhysicalProne
        );
        assert_eq!(
            InterventionType::parse("1").unwrap(),
            InterventionType::PhysicalProne
        );
        assert_eq!(
            InterventionType::parse("physical restraint - prone").unwrap(),
            InterventionType::PhysicalProne
        );
        assert_eq!(
            InterventionType::parse("02").unwrap().group(),
            InterventionGroup::Physical
        );
        assert_eq!(
            InterventionType::parse("03").unwrap().group(),
            InterventionGroup::Chemical
        );
        let e = InterventionType::parse("Prone restraint").unwrap_err();
        assert!(e.contains("expected one of 01, 02"), "{e}");
        assert_eq!(
            EthnicCategory::parse("n").unwrap().group(),
            "Black or Black British"
        );
        assert_eq!(
            EthnicCategory::parse("99").unwrap(),
            EthnicCategory::NotKnown
        );
        assert_eq!(Sex::parse_lenient("f").unwrap(), Sex::Female);
        assert!(Harm::parse("Moderate harm").unwrap().moderate_or_worse());
    }

    #[test]
    fn duration_bands_follow_mhsds() {
        assert_eq!(
            InterventionType::PhysicalProne.duration_band(10),
            "0-10 minutes"
        );
        assert_eq!(
            InterventionType::PhysicalProne.duration_band(11),
            "11-30 minutes"
        );
        assert_eq!(
            InterventionType::Seclusion.duration_band(25 * 60),
            "24-72 hours"
        );
        assert_eq!(
            InterventionType::Segregation.duration_band(200 * 24 * 60),
            "3 months+"
        );
    }

    #[test]
    fn age_bands() {
        assert_eq!(age_band(17), "Under 18");
        assert_eq!(age_band(18), "18 to 24");
        assert_eq!(age_band(70), "65 and over");
    }
}
