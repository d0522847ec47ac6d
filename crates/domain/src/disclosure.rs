//! Disclosure control (DOMAIN.md section 7), applied at the output layer whenever a result
//! leaves the organisation it describes. Inside a user's own organisation figures are exact.
//!
//! The rule follows NHS Digital's MHSDS publications: counts under 5 are shown as `*`, other
//! counts are rounded to the nearest 5; a proportion is suppressed when its numerator or
//! denominator is under 5; a rate is suppressed when its bed days are under 100, and (our
//! addition) when its count is under 5, since an exact rate with a published denominator would
//! give the small count away. Zero counts are treated as small: "under 5" includes 0.

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Policy {
    pub min_count: u64,
    pub round_to: u64,
    pub min_bed_days: f64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            min_count: 5,
            round_to: 5,
            min_bed_days: 100.0,
        }
    }
}

/// A figure as it may be shown: the value, or `*` for suppressed.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Shown<T> {
    Value(T),
    Suppressed,
}

impl<T: Copy> Shown<T> {
    pub fn value(self) -> Option<T> {
        match self {
            Shown::Value(v) => Some(v),
            Shown::Suppressed => None,
        }
    }

    pub fn is_suppressed(self) -> bool {
        matches!(self, Shown::Suppressed)
    }
}

impl<T: std::fmt::Display> std::fmt::Display for Shown<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Shown::Value(v) => v.fmt(f),
            Shown::Suppressed => f.write_str("*"),
        }
    }
}

impl Policy {
    pub fn count(&self, n: u64) -> Shown<u64> {
        if n < self.min_count {
            Shown::Suppressed
        } else {
            let r = self.round_to.max(1);
            Shown::Value((n + r / 2) / r * r)
        }
    }

    pub fn proportion_allowed(&self, numerator: u64, denominator: u64) -> bool {
        numerator >= self.min_count && denominator >= self.min_count
    }

    pub fn rate_allowed(&self, count: u64, bed_days: f64) -> bool {
        bed_days >= self.min_bed_days && count >= self.min_count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_counts_are_starred_and_others_rounded_to_five() {
        let p = Policy::default();
        assert_eq!(p.count(0), Shown::Suppressed);
        assert_eq!(p.count(4), Shown::Suppressed);
        assert_eq!(p.count(5), Shown::Value(5));
        assert_eq!(p.count(7), Shown::Value(5));
        assert_eq!(p.count(8), Shown::Value(10));
        assert_eq!(p.count(1234), Shown::Value(1235));
        assert_eq!(p.count(3).to_string(), "*");
    }

    #[test]
    fn proportions_and_rates() {
        let p = Policy::default();
        assert!(!p.proportion_allowed(4, 100));
        assert!(!p.proportion_allowed(4, 4));
        assert!(p.proportion_allowed(5, 5));
        assert!(!p.rate_allowed(20, 99.0));
        assert!(p.rate_allowed(20, 100.0));
        assert!(!p.rate_allowed(3, 5000.0));
    }
}
