//! Periods of a series: ISO dates or integers, their order, their labels, and the missing
//! periods between them.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Period {
    /// Days since 1970-01-01.
    Date(i32),
    Int(i64),
}

/// The largest integer period, in magnitude: 18 digits. Within it every difference and step
/// between two periods fits in an `i64`, so the cadence and the missing periods never overflow.
pub const MAX_INT_PERIOD: i64 = 999_999_999_999_999_999;

impl Period {
    /// Parse `2024-03-01`, `2024-03` (the first of the month) or an integer such as `202403`
    /// (at most 18 digits, see [`MAX_INT_PERIOD`]).
    pub fn parse(s: &str) -> Result<Period, String> {
        let t = s.trim();
        if let Some(d) = parse_iso_date(t) {
            return Ok(Period::Date(d));
        }
        if t.contains('-') && !t.starts_with('-') {
            return Err(format!(
                "period '{t}' is not a valid date; expected an ISO date such as 2024-03-01"
            ));
        }
        let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
        let whole_number = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
        match t.parse::<i64>() {
            Ok(i) if (-MAX_INT_PERIOD..=MAX_INT_PERIOD).contains(&i) => Ok(Period::Int(i)),
            _ if whole_number => Err(format!(
                "period '{}' is out of range; expected an integer of at most 18 digits, from -{MAX_INT_PERIOD} to {MAX_INT_PERIOD}",
                shorten(t)
            )),
            _ => Err(format!(
                "period '{}' is neither a date nor an integer; expected an ISO date such as 2024-03-01 or an integer such as 202403",
                shorten(t)
            )),
        }
    }

    pub fn kind_name(self) -> &'static str {
        match self {
            Period::Date(_) => "a date",
            Period::Int(_) => "an integer",
        }
    }

    /// Append the period as text without allocating (the hot path of large outputs).
    pub fn write_to(self, out: &mut Vec<u8>) {
        match self {
            Period::Date(d) => {
                let (y, m, day) = civil_from_days(d);
                if (0..=9999).contains(&y) {
                    let y = y as u32;
                    let digits = [
                        b'0' + (y / 1000) as u8,
                        b'0' + (y / 100 % 10) as u8,
                        b'0' + (y / 10 % 10) as u8,
                        b'0' + (y % 10) as u8,
                        b'-',
                        b'0' + (m / 10) as u8,
                        b'0' + (m % 10) as u8,
                        b'-',
                        b'0' + (day / 10) as u8,
                        b'0' + (day % 10) as u8,
                    ];
                    out.extend_from_slice(&digits);
                } else {
                    out.extend_from_slice(self.to_string().as_bytes());
                }
            }
            Period::Int(i) => {
                let mut b = itoa::Buffer::new();
                out.extend_from_slice(b.format(i).as_bytes());
            }
        }
    }

    pub fn same_kind(self, other: Period) -> bool {
        matches!(
            (self, other),
            (Period::Date(_), Period::Date(_)) | (Period::Int(_), Period::Int(_))
        )
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Period::Date(d) => {
                let (y, m, day) = civil_from_days(*d);
                write!(f, "{y:04}-{m:02}-{day:02}")
            }
            Period::Int(i) => write!(f, "{i}"),
        }
    }
}

fn shorten(s: &str) -> String {
    if s.chars().count() > 40 {
        format!("{}…", s.chars().take(40).collect::<String>())
    } else {
        s.to_string()
    }
}

fn parse_iso_date(s: &str) -> Option<i32> {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| -> Option<i32> {
        let part = b.get(r)?;
        if part.iter().all(u8::is_ascii_digit) {
            std::str::from_utf8(part).ok()?.parse().ok()
        } else {
            None
        }
    };
    let (y, m, d) = match b.len() {
        10 if b[4] == b'-' && b[7] == b'-' => (digits(0..4)?, digits(5..7)?, digits(8..10)?),
        7 if b[4] == b'-' => (digits(0..4)?, digits(5..7)?, 1),
        _ => return None,
    };
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m as u32) as i32 {
        return None;
    }
    Some(days_from_civil(y, m as u32, d as u32))
}

pub fn days_in_month(y: i32, m: u32) -> u32 {
    time::Month::try_from(m as u8).map_or(0, |month| u32::from(time::util::days_in_month(month, y)))
}

/// Days since 1970-01-01 of a valid calendar date (callers check validity first; an invalid
/// one counts as the epoch rather than panicking).
pub fn days_from_civil(y: i32, m: u32, d: u32) -> i32 {
    time::Month::try_from(m as u8)
        .ok()
        .and_then(|month| time::Date::from_calendar_date(y, month, d as u8).ok())
        .map_or(0, domain::dates::day_number)
}

/// Year, month and day of a day number.
pub fn civil_from_days(z: i32) -> (i32, u32, u32) {
    let d = domain::dates::date_from_day(z);
    (d.year(), u32::from(u8::from(d.month())), u32::from(d.day()))
}

/// How a series steps from one period to the next, so that missing periods can be shown.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Cadence {
    /// Same day of every month (e.g. the 1st).
    Monthly,
    /// A fixed number of days (1 daily, 7 weekly).
    Days(i32),
    Integers(i64),
    /// Irregular: no periods are inserted.
    Irregular,
}

/// Detect the cadence of sorted, distinct periods.
pub fn cadence(periods: &[Period]) -> Cadence {
    if periods.len() < 2 {
        return Cadence::Irregular;
    }
    match periods[0] {
        Period::Date(_) => {
            let days: Vec<i32> = periods
                .iter()
                .map(|p| if let Period::Date(d) = p { *d } else { 0 })
                .collect();
            let day_of_month = |d: i32| civil_from_days(d).2;
            let dom = day_of_month(days[0]);
            if dom <= 28 && days.iter().all(|d| day_of_month(*d) == dom) {
                return Cadence::Monthly;
            }
            let step = days.windows(2).map(|w| w[1] - w[0]).min().unwrap_or(0);
            if (step == 1 || step == 7) && days.windows(2).all(|w| (w[1] - w[0]) % step == 0) {
                Cadence::Days(step)
            } else {
                Cadence::Irregular
            }
        }
        Period::Int(_) => {
            let ints: Vec<i64> = periods
                .iter()
                .map(|p| if let Period::Int(i) = p { *i } else { 0 })
                .collect();
            // Checked: parsing keeps periods within 18 digits, but a difference that did not
            // fit would only make the series irregular, never wrap or panic.
            let Some(steps) = ints
                .windows(2)
                .map(|w| w[1].checked_sub(w[0]))
                .collect::<Option<Vec<i64>>>()
            else {
                return Cadence::Irregular;
            };
            let step = steps.iter().copied().min().unwrap_or(0);
            if step > 0 && steps.iter().all(|d| d % step == 0) {
                Cadence::Integers(step)
            } else {
                Cadence::Irregular
            }
        }
    }
}

/// The period after `p` at this cadence; `None` past the last representable period.
pub fn next(p: Period, c: Cadence) -> Option<Period> {
    match (p, c) {
        (Period::Date(d), Cadence::Monthly) => {
            let (y, m, day) = civil_from_days(d);
            let (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
            let month = time::Month::try_from(m as u8).ok()?;
            let date = time::Date::from_calendar_date(y, month, day as u8).ok()?;
            Some(Period::Date(domain::dates::day_number(date)))
        }
        (Period::Date(d), Cadence::Days(s)) => d.checked_add(s).map(Period::Date),
        (Period::Int(i), Cadence::Integers(s)) => i.checked_add(s).map(Period::Int),
        _ => None,
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A label for a chart axis: "Apr 2016" for monthly series, "2 Jan 2020" otherwise.
pub fn axis_label(p: Period, c: Cadence) -> String {
    match p {
        Period::Date(d) => {
            let (y, m, day) = civil_from_days(d);
            let month = MONTHS[(m - 1) as usize];
            if c == Cadence::Monthly {
                format!("{month} {y}")
            } else {
                format!("{day} {month} {y}")
            }
        }
        Period::Int(i) => i.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_dates_months_and_integers() {
        assert_eq!(
            Period::parse("2024-03-01").unwrap().to_string(),
            "2024-03-01"
        );
        assert_eq!(Period::parse("2024-03").unwrap().to_string(), "2024-03-01");
        let mut b = Vec::new();
        Period::parse("0999-12-31").unwrap().write_to(&mut b);
        assert_eq!(b, b"0999-12-31");
        assert_eq!(Period::parse("202403").unwrap(), Period::Int(202_403));
        assert!(Period::parse("2024-02-30").is_err());
        assert!(Period::parse("March").is_err());
    }

    #[test]
    fn monthly_cadence_steps_by_month() {
        let p: Vec<Period> = ["2023-11-01", "2023-12-01", "2024-02-01"]
            .iter()
            .map(|s| Period::parse(s).unwrap())
            .collect();
        let c = cadence(&p);
        assert_eq!(c, Cadence::Monthly);
        assert_eq!(next(p[1], c).unwrap().to_string(), "2024-01-01");
        assert_eq!(axis_label(p[0], c), "Nov 2023");
    }

    proptest! {
        #[test]
        fn civil_round_trip(days in -800_000i32..800_000) {
            let (y, m, d) = civil_from_days(days);
            prop_assert_eq!(days_from_civil(y, m, d), days);
        }

        #[test]
        fn any_text_parses_or_errors_without_panic(s in "\\PC{0,20}") {
            let _ = Period::parse(&s);
        }

        /// Any integers at all, near the limits of i64 or not: parsing accepts them within
        /// 18 digits or refuses them, and the cadence and the next period never overflow.
        #[test]
        fn no_integer_period_panics(ints in prop::collection::vec(edge_i64(), 1..8)) {
            let mut periods: Vec<Period> = ints
                .iter()
                .filter_map(|i| Period::parse(&i.to_string()).ok())
                .collect();
            for i in &ints {
                let ok = Period::parse(&i.to_string()).is_ok();
                prop_assert_eq!(ok, i.unsigned_abs() <= MAX_INT_PERIOD as u64);
            }
            periods.sort();
            periods.dedup();
            // Unchecked too: the arithmetic itself must hold for any i64.
            let raw: Vec<Period> = {
                let mut r: Vec<Period> = ints.iter().map(|i| Period::Int(*i)).collect();
                r.sort();
                r.dedup();
                r
            };
            for ps in [&periods, &raw] {
                let c = cadence(ps);
                for p in ps.iter() {
                    let _ = next(*p, c);
                }
            }
        }
    }

    /// Mostly values near 0, ±MAX_INT_PERIOD and the limits of i64.
    fn edge_i64() -> impl Strategy<Value = i64> {
        prop_oneof![
            any::<i64>(),
            (-3i64..=3),
            (-3i64..=3).prop_map(|d| MAX_INT_PERIOD + d),
            (-3i64..=3).prop_map(|d| -MAX_INT_PERIOD + d),
            (0i64..=3).prop_map(|d| i64::MAX - d),
            (0i64..=3).prop_map(|d| i64::MIN + d),
        ]
    }

    #[test]
    fn integers_beyond_18_digits_are_refused_and_say_so() {
        assert_eq!(
            Period::parse("999999999999999999"),
            Ok(Period::Int(MAX_INT_PERIOD))
        );
        assert_eq!(
            Period::parse("-999999999999999999"),
            Ok(Period::Int(-MAX_INT_PERIOD))
        );
        for t in [
            "1000000000000000000",
            "-9223372036854775808",
            "99999999999999999999",
        ] {
            let e = Period::parse(t).unwrap_err();
            assert!(
                e.contains("is out of range; expected an integer of at most 18 digits"),
                "{e}"
            );
        }
        let months = [
            Period::parse("9999-11-01").unwrap(),
            Period::parse("9999-12-01").unwrap(),
        ];
        assert_eq!(next(months[1], cadence(&months)), None);
    }
}
