//! Dates as trusts write them (ISO or UK dd/mm/yyyy), reporting periods (month, week), and
//! the portable numbers the database stores (days and minutes since 1970-01-01), so that date
//! arithmetic is plain integer arithmetic on both SQLite and PostgreSQL.

use std::fmt;
use time::{Date, Month, PrimitiveDateTime, Time};

pub const EPOCH: Date = time::macros::date!(1970 - 01 - 01);

/// Parse `2024-03-01`, `01/03/2024` or `1/3/2024` (UK order: day first).
pub fn parse_date(s: &str) -> Result<Date, String> {
    let t = s.trim();
    let bad = || format!("'{t}' is not a date; expected YYYY-MM-DD or DD/MM/YYYY");
    let (y, m, d) = if t.len() == 10 && t.as_bytes()[4] == b'-' && t.as_bytes()[7] == b'-' {
        (
            num(&t[0..4]).ok_or_else(bad)?,
            num(&t[5..7]).ok_or_else(bad)?,
            num(&t[8..10]).ok_or_else(bad)?,
        )
    } else if t.contains('/') {
        let parts: Vec<&str> = t.split('/').collect();
        if parts.len() != 3
            || parts[2].len() != 4
            || parts[0].is_empty()
            || parts[0].len() > 2
            || parts[1].is_empty()
            || parts[1].len() > 2
        {
            return Err(bad());
        }
        (
            num(parts[2]).ok_or_else(bad)?,
            num(parts[1]).ok_or_else(bad)?,
            num(parts[0]).ok_or_else(bad)?,
        )
    } else {
        return Err(bad());
    };
    let month = Month::try_from(u8::try_from(m).map_err(|_| bad())?).map_err(|_| bad())?;
    Date::from_calendar_date(y as i32, month, u8::try_from(d).map_err(|_| bad())?)
        .map_err(|_| bad())
}

fn num(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Parse a time of day: `14:05` or `14:05:30` (fractions of a second ignored).
pub fn parse_time(s: &str) -> Result<Time, String> {
    let t = s.trim().trim_end_matches('Z');
    let bad = || format!("'{t}' is not a time; expected HH:MM or HH:MM:SS");
    let mut parts = t.split(':');
    let h = parts.next().and_then(num).ok_or_else(bad)?;
    let m = parts.next().and_then(num).ok_or_else(bad)?;
    let sec = match parts.next() {
        Some(x) => num(x.split('.').next().unwrap_or("")).ok_or_else(bad)?,
        None => 0,
    };
    if parts.next().is_some() || h > 23 || m > 59 || sec > 59 {
        return Err(bad());
    }
    Time::from_hms(h as u8, m as u8, sec as u8).map_err(|_| bad())
}

/// Parse a date and time: `2024-03-01T14:05`, `2024-03-01 14:05:30`, `01/03/2024 14:05`.
pub fn parse_datetime(s: &str) -> Result<PrimitiveDateTime, String> {
    let t = s.trim();
    let (date_part, time_part) = match t.find(['T', ' ']) {
        Some(i) => (&t[..i], t[i + 1..].trim()),
        None => {
            // An impossible date is that first (13th months are typos to fix, not a time to add).
            parse_date(t)?;
            return Err(format!(
                "'{t}' has no time; expected a date and time such as 2024-03-01 14:05"
            ));
        }
    };
    let date = parse_date(date_part).map_err(|_| {
        format!("'{t}' is not a date and time; expected YYYY-MM-DD HH:MM or DD/MM/YYYY HH:MM")
    })?;
    let time = parse_time(time_part)
        .map_err(|_| format!("'{t}' has an invalid time; expected HH:MM or HH:MM:SS"))?;
    Ok(PrimitiveDateTime::new(date, time))
}

/// Days since 1970-01-01.
pub fn day_number(d: Date) -> i32 {
    (d - EPOCH).whole_days() as i32
}

pub fn date_from_day(n: i32) -> Date {
    EPOCH + time::Duration::days(i64::from(n))
}

/// Minutes since 1970-01-01 00:00.
pub fn minute_number(dt: PrimitiveDateTime) -> i64 {
    (dt - PrimitiveDateTime::new(EPOCH, Time::MIDNIGHT)).whole_minutes()
}

pub fn iso(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

pub fn iso_datetime(dt: PrimitiveDateTime) -> String {
    format!("{} {:02}:{:02}", iso(dt.date()), dt.hour(), dt.minute())
}

/// Reporting periods.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PeriodKind {
    Month,
    /// Weeks start on Monday (ISO 8601).
    Week,
}

impl PeriodKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PeriodKind::Month => "month",
            PeriodKind::Week => "week",
        }
    }

    pub fn parse(s: &str) -> Option<PeriodKind> {
        match s.trim().to_ascii_lowercase().as_str() {
            "month" | "monthly" | "m" => Some(PeriodKind::Month),
            "week" | "weekly" | "w" => Some(PeriodKind::Week),
            _ => None,
        }
    }

    /// The first day of the period that holds `d`.
    pub fn start_of(self, d: Date) -> Date {
        match self {
            PeriodKind::Month => d.replace_day(1).unwrap_or(d),
            PeriodKind::Week => {
                d - time::Duration::days(i64::from(d.weekday().number_days_from_monday()))
            }
        }
    }

    /// The first day of the next period.
    pub fn next_start(self, start: Date) -> Date {
        match self {
            PeriodKind::Month => {
                let (y, m) = if start.month() == Month::December {
                    (start.year() + 1, Month::January)
                } else {
                    (start.year(), start.month().next())
                };
                Date::from_calendar_date(y, m, 1).unwrap_or(start)
            }
            PeriodKind::Week => start + time::Duration::days(7),
        }
    }

    /// All period starts from the period holding `from` to the one holding `to`, inclusive.
    pub fn starts_between(self, from: Date, to: Date) -> Vec<Date> {
        let mut out = Vec::new();
        let mut p = self.start_of(from);
        while p <= to && out.len() < 10_000 {
            out.push(p);
            p = self.next_start(p);
        }
        out
    }

    /// A label for people: "Mar 2024" or "w/c 4 Mar 2024".
    pub fn label(self, start: Date) -> String {
        let m = &MONTHS[usize::from(u8::from(start.month())) - 1];
        match self {
            PeriodKind::Month => format!("{m} {}", start.year()),
            PeriodKind::Week => format!("w/c {} {m} {}", start.day(), start.year()),
        }
    }
}

impl fmt::Display for PeriodKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::{date, datetime};

    #[test]
    fn a_date_without_its_time_says_so_and_an_impossible_one_says_that_first() {
        assert_eq!(
            parse_datetime("2024-01-06").unwrap_err(),
            "'2024-01-06' has no time; expected a date and time such as 2024-03-01 14:05"
        );
        assert_eq!(
            parse_datetime("2024-13-06").unwrap_err(),
            "'2024-13-06' is not a date; expected YYYY-MM-DD or DD/MM/YYYY"
        );
    }

    #[test]
    fn uk_and_iso_dates() {
        assert_eq!(parse_date("2024-03-01").unwrap(), date!(2024 - 03 - 01));
        assert_eq!(parse_date("01/03/2024").unwrap(), date!(2024 - 03 - 01));
        assert_eq!(parse_date("1/3/2024").unwrap(), date!(2024 - 03 - 01));
        assert!(parse_date("2024-02-30").is_err());
        assert!(parse_date("03/01/24").is_err());
        assert_eq!(
            parse_datetime("01/03/2024 14:05").unwrap(),
            datetime!(2024 - 03 - 01 14:05)
        );
        assert_eq!(
            parse_datetime("2024-03-01T14:05:30").unwrap(),
            datetime!(2024 - 03 - 01 14:05:30)
        );
        assert!(parse_datetime("2024-03-01").is_err());
        assert!(parse_datetime("2024-03-01 25:00").is_err());
    }

    #[test]
    fn periods_start_on_the_first_and_on_monday() {
        assert_eq!(
            PeriodKind::Month.start_of(date!(2024 - 03 - 17)),
            date!(2024 - 03 - 01)
        );
        assert_eq!(
            PeriodKind::Week.start_of(date!(2024 - 03 - 17)),
            date!(2024 - 03 - 11)
        );
        assert_eq!(
            PeriodKind::Month.next_start(date!(2024 - 12 - 01)),
            date!(2025 - 01 - 01)
        );
        assert_eq!(
            PeriodKind::Month
                .starts_between(date!(2024 - 01 - 15), date!(2024 - 03 - 01))
                .len(),
            3
        );
        assert_eq!(
            PeriodKind::Week.label(date!(2024 - 03 - 11)),
            "w/c 11 Mar 2024"
        );
    }

    proptest! {
        #[test]
        fn day_numbers_round_trip(n in -30_000i32..60_000) {
            prop_assert_eq!(day_number(date_from_day(n)), n);
        }

        #[test]
        fn parsers_never_panic(s in "\\PC{0,24}") {
            let _ = parse_date(&s);
            let _ = parse_datetime(&s);
        }
    }
}
