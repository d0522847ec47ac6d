//! Identifiers that can only hold valid values: NHS numbers, ODS codes, ward codes.

use std::fmt;
use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum IdError {
    #[error(
        "NHS number must have 10 digits (spaces or hyphens between digits are ignored); found {0} digits"
    )]
    NhsLength(usize),
    #[error(
        "NHS number holds '{ch}' at character {position}; expected 10 digits (spaces or hyphens between digits are ignored)"
    )]
    NhsCharacter { ch: char, position: usize },
    #[error(
        "NHS number fails its modulus 11 check digit; expected a valid NHS number such as 943 476 5919"
    )]
    NhsCheckDigit,
    #[error("ODS code '{code}' is not a valid {what}; expected {expected}")]
    Ods {
        code: String,
        what: &'static str,
        expected: &'static str,
    },
    #[error("ward code '{0}' is not valid; expected 1 to 20 letters, digits, '-' or '_'")]
    Ward(String),
}

/// A 10-digit NHS number that passed its modulus 11 check. It exists only on the way in:
/// ingest turns it into a pseudonym and it is never stored or logged. `Debug` hides it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct NhsNumber([u8; 10]);

impl NhsNumber {
    /// Accepts `9434765919`, `943 476 5919` and `943-476-5919`: spaces and hyphens between
    /// the digits are ignored, whatever the grouping (the check digit guards the number).
    pub fn parse(s: &str) -> Result<NhsNumber, IdError> {
        let mut digits = [0u8; 10];
        let mut n = 0usize;
        for (i, c) in s.trim().chars().enumerate() {
            match c {
                '0'..='9' => {
                    if n < 10 {
                        digits[n] = c as u8 - b'0';
                    }
                    n += 1;
                }
                ' ' | '-' => {}
                _ => {
                    return Err(IdError::NhsCharacter {
                        ch: c,
                        position: i + 1,
                    });
                }
            }
        }
        if n != 10 {
            return Err(IdError::NhsLength(n));
        }
        let sum: u32 = digits[..9]
            .iter()
            .enumerate()
            .map(|(i, d)| u32::from(*d) * (10 - i as u32))
            .sum();
        let check = match 11 - (sum % 11) {
            11 => 0,
            10 => return Err(IdError::NhsCheckDigit),
            c => c as u8,
        };
        if check != digits[9] {
            return Err(IdError::NhsCheckDigit);
        }
        Ok(NhsNumber(digits))
    }

    /// The ten digits, for keyed hashing only.
    pub fn digits(&self) -> [u8; 10] {
        let mut out = [0u8; 10];
        for (o, d) in out.iter_mut().zip(self.0) {
            *o = b'0' + d;
        }
        out
    }

    /// Build a valid number from the nine leading digits by computing the check digit;
    /// `None` when those digits have no valid check digit. For synthetic test data.
    pub fn from_nine(first_nine: u32) -> Option<NhsNumber> {
        let s = format!("{first_nine:09}");
        (0..10).find_map(|c| NhsNumber::parse(&format!("{s}{c}")).ok())
    }
}

impl fmt::Debug for NhsNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NhsNumber(<redacted>)")
    }
}

/// Which kind of organisation an ODS code names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrgLevel {
    Region,
    Icb,
    Trust,
    Site,
    Ward,
}

impl OrgLevel {
    pub const ALL: [OrgLevel; 5] = [
        OrgLevel::Region,
        OrgLevel::Icb,
        OrgLevel::Trust,
        OrgLevel::Site,
        OrgLevel::Ward,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrgLevel::Region => "region",
            OrgLevel::Icb => "icb",
            OrgLevel::Trust => "trust",
            OrgLevel::Site => "site",
            OrgLevel::Ward => "ward",
        }
    }

    pub fn parse(s: &str) -> Option<OrgLevel> {
        let l = s.trim().to_ascii_lowercase();
        OrgLevel::ALL
            .into_iter()
            .find(|k| k.as_str() == l)
            .or(match l.as_str() {
                "nhs trust" => Some(OrgLevel::Trust),
                "nhs england region" => Some(OrgLevel::Region),
                "integrated care board" => Some(OrgLevel::Icb),
                _ => None,
            })
    }

    pub fn label(self) -> &'static str {
        match self {
            OrgLevel::Region => "Region",
            OrgLevel::Icb => "Integrated care board",
            OrgLevel::Trust => "Trust",
            OrgLevel::Site => "Site",
            OrgLevel::Ward => "Ward",
        }
    }
}

/// An ODS code checked against the shape of its level: trust `R` + 2, site trust + 2,
/// ICB `Q` + 2, region `Y` + 2 (DOMAIN.md section 1).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OdsCode(String);

impl OdsCode {
    pub fn parse(s: &str, level: OrgLevel) -> Result<OdsCode, IdError> {
        let code = s.trim().to_ascii_uppercase();
        let alnum = code.chars().all(|c| c.is_ascii_alphanumeric());
        let (ok, what, expected) = match level {
            OrgLevel::Trust => (
                code.len() == 3 && code.starts_with('R'),
                "trust code",
                "3 characters starting with R, e.g. RW4",
            ),
            OrgLevel::Site => (
                code.len() == 5 && code.starts_with('R'),
                "site code",
                "5 characters: the trust code and 2 more, e.g. RW401",
            ),
            OrgLevel::Icb => (
                code.len() == 3 && code.starts_with('Q'),
                "ICB code",
                "3 characters starting with Q, e.g. QYG",
            ),
            OrgLevel::Region => (
                code.len() == 3 && code.starts_with('Y'),
                "region code",
                "Y and 2 characters, e.g. Y62",
            ),
            OrgLevel::Ward => (false, "ODS code", "a ward code, not an ODS code"),
        };
        if ok && alnum {
            Ok(OdsCode(code))
        } else {
            Err(IdError::Ods {
                code: s.trim().to_string(),
                what,
                expected,
            })
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The trust a site belongs to (its first three characters).
    pub fn trust_of_site(&self) -> &str {
        &self.0[..3.min(self.0.len())]
    }
}

impl fmt::Display for OdsCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A ward's local code, unique within the deployment.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WardCode(std::sync::Arc<str>);

impl WardCode {
    pub fn parse(s: &str) -> Result<WardCode, IdError> {
        let t = s.trim();
        if (1..=20).contains(&t.len())
            && t.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            Ok(WardCode(t.to_ascii_uppercase().into()))
        } else {
            Err(IdError::Ward(t.chars().take(30).collect()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The code as shared text (cheap to copy onto many records).
    pub fn shared(&self) -> std::sync::Arc<str> {
        self.0.clone()
    }
}

impl fmt::Display for WardCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_documented_example_is_valid_in_every_spelling() {
        for s in ["9434765919", "943 476 5919", "943-476-5919"] {
            assert!(NhsNumber::parse(s).is_ok(), "{s}");
        }
        assert_eq!(NhsNumber::parse("9434765918"), Err(IdError::NhsCheckDigit));
        assert_eq!(NhsNumber::parse("94347659"), Err(IdError::NhsLength(8)));
        assert_eq!(
            NhsNumber::parse("999000001A"),
            Err(IdError::NhsCharacter {
                ch: 'A',
                position: 10
            })
        );
        assert!(NhsNumber::parse("99 900 000 18").is_ok());
        assert!(format!("{:?}", NhsNumber::parse("9434765919").unwrap()).contains("redacted"));
    }

    #[test]
    fn a_remainder_of_ten_is_never_valid() {
        // 000000001: sum = 2, 11 - 2 = 9 → valid with 9; find one whose check would be 10.
        let ten = (0..1000u32).find(|n| {
            let s = format!("{n:09}");
            let sum: u32 = s
                .bytes()
                .enumerate()
                .map(|(i, b)| u32::from(b - b'0') * (10 - i as u32))
                .sum();
            11 - sum % 11 == 10
        });
        let n = ten.unwrap();
        for c in 0..10 {
            assert!(NhsNumber::parse(&format!("{n:09}{c}")).is_err());
        }
        assert!(NhsNumber::from_nine(n).is_none());
    }

    #[test]
    fn ods_codes_follow_their_level() {
        assert!(OdsCode::parse("rw4", OrgLevel::Trust).is_ok());
        assert!(OdsCode::parse("RW401", OrgLevel::Site).is_ok());
        assert!(OdsCode::parse("QYG", OrgLevel::Icb).is_ok());
        assert!(OdsCode::parse("Y62", OrgLevel::Region).is_ok());
        assert!(OdsCode::parse("QW4", OrgLevel::Trust).is_err());
        assert!(OdsCode::parse("RW4", OrgLevel::Site).is_err());
    }

    proptest! {
        #[test]
        fn exactly_one_check_digit_or_none_completes_nine_digits(n in 0u32..1_000_000_000) {
            let valid = (0..10).filter(|c| NhsNumber::parse(&format!("{n:09}{c}")).is_ok()).count();
            prop_assert!(valid <= 1);
            prop_assert_eq!(valid == 1, NhsNumber::from_nine(n).is_some());
        }

        #[test]
        fn parsing_any_text_never_panics(s in "\\PC{0,30}") {
            let _ = NhsNumber::parse(&s);
            let _ = WardCode::parse(&s);
            let _ = OdsCode::parse(&s, OrgLevel::Trust);
        }
    }
}
