//! Dates: ISO 8601 text in JSON (`2024-03-01`) and calendar-month arithmetic.

use time::{Date, Month};

/// `date + months` calendar months, the day clamped to the month's length (31 Jan + 1 month =
/// 29 Feb in a leap year). `None` beyond the calendar's range.
pub fn add_months(date: Date, months: u32) -> Option<Date> {
    let index = i64::from(date.year()) * 12 + i64::from(u8::from(date.month())) - 1;
    let target = index.checked_add(i64::from(months))?;
    let year = i32::try_from(target.div_euclid(12)).ok()?;
    let month = Month::try_from(u8::try_from(target.rem_euclid(12) + 1).ok()?).ok()?;
    let mut day = date.day();
    while day > 28 {
        if let Ok(d) = Date::from_calendar_date(year, month, day) {
            return Some(d);
        }
        day -= 1;
    }
    Date::from_calendar_date(year, month, day).ok()
}

/// An ISO date as text: `2024-03-01`.
pub fn iso(date: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

fn parse_iso(text: &str) -> Option<Date> {
    let mut parts = text.trim().splitn(3, '-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let month = Month::try_from(m.parse::<u8>().ok()?).ok()?;
    Date::from_calendar_date(y.parse().ok()?, month, d.parse().ok()?).ok()
}

/// Parses a form's date field (`YYYY-MM-DD`).
pub fn parse_date(field: &str, text: &str) -> Result<Date, crate::QiError> {
    parse_iso(text).ok_or_else(|| {
        crate::QiError::new(field, "a date as YYYY-MM-DD, e.g. 2024-03-01", quote(text))
    })
}

pub(crate) fn quote(text: &str) -> String {
    let t: String = text.chars().take(60).collect();
    if text.chars().count() > 60 {
        format!("\"{t}…\"")
    } else {
        format!("\"{t}\"")
    }
}

/// `#[serde(with = "crate::dates::serde_iso")]` for a `Date`.
pub mod serde_iso {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};
    use time::Date;

    pub fn serialize<S: Serializer>(date: &Date, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::iso(*date))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        let text = String::deserialize(d)?;
        super::parse_iso(&text).ok_or_else(|| {
            D::Error::custom(format!("expected a date as YYYY-MM-DD, found {text:?}"))
        })
    }
}

/// `#[serde(with = "crate::dates::serde_iso_option")]` for an `Option<Date>`.
pub mod serde_iso_option {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};
    use time::Date;

    pub fn serialize<S: Serializer>(date: &Option<Date>, s: S) -> Result<S::Ok, S::Error> {
        match date {
            Some(d) => s.serialize_str(&super::iso(*d)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Date>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(t) if t.trim().is_empty() => Ok(None),
            Some(t) => super::parse_iso(&t).map(Some).ok_or_else(|| {
                D::Error::custom(format!("expected a date as YYYY-MM-DD, found {t:?}"))
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn months_clamp_to_the_end_of_the_month() {
        assert_eq!(
            add_months(date!(2024 - 01 - 31), 1),
            Some(date!(2024 - 02 - 29))
        );
        assert_eq!(
            add_months(date!(2023 - 08 - 31), 6),
            Some(date!(2024 - 02 - 29))
        );
        assert_eq!(
            add_months(date!(2023 - 09 - 15), 6),
            Some(date!(2024 - 03 - 15))
        );
        assert_eq!(
            add_months(date!(2024 - 03 - 01), 0),
            Some(date!(2024 - 03 - 01))
        );
        assert_eq!(add_months(Date::MAX, 6), None);
    }

    #[test]
    fn iso_text_round_trips() {
        let d = date!(2024 - 03 - 01);
        assert_eq!(iso(d), "2024-03-01");
        assert_eq!(parse_date("x", "2024-03-01"), Ok(d));
        let e = parse_date("do.start", "1/3/2024").unwrap_err();
        assert_eq!(e.field, "do.start");
        assert!(parse_date("x", "2024-02-30").is_err());
        assert!(parse_date("x", "2024-٠٣-01").is_err());
    }
}
