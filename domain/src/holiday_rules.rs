//! Holidays as rules (SPEC §6): a fixed day every year, or a day relative to Easter
//! (Carnival, Ash Wednesday's half day, Good Friday, Corpus Christi), so no one types next
//! year's list. A calendar's rules are expanded into dated [`Holiday`]s for the years a
//! computation needs; one-off dates listed on the calendar win over a rule on the same day.
use crate::calendar::{DayRange, Holiday};
use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::ops::RangeInclusive;

/// Easter Sunday of a Gregorian year (the anonymous Gregorian algorithm of Meeus, Jones and
/// Butcher). None outside the years a `NaiveDate` holds.
pub fn easter_sunday(year: i32) -> Option<NaiveDate> {
    let a = year.rem_euclid(19);
    let b = year.div_euclid(100);
    let c = year.rem_euclid(100);
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15).rem_euclid(30);
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k).rem_euclid(7);
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, month as u32, day as u32)
}

/// When a rule falls in a year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RuleDate {
    /// The same month and day every year (a 29 February only in leap years).
    Fixed { month: u32, day: u32 },
    /// Days after Easter Sunday (negative: before; Good Friday is -2, Corpus Christi 60).
    Easter { offset_days: i32 },
}

/// A holiday every year (within `first_year..=last_year` when given).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HolidayRule {
    pub name: String,
    #[serde(flatten)]
    pub date: RuleDate,
    /// Empty: closed all day; otherwise the business ranges of a partial day.
    #[serde(default)]
    pub open: Vec<DayRange>,
    #[serde(default)]
    pub first_year: Option<i32>,
    #[serde(default)]
    pub last_year: Option<i32>,
}

/// Why a rule is not a rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("month {0} does not exist")]
    Month(u32),
    #[error("day {day} does not exist in month {month}")]
    Day { month: u32, day: u32 },
    #[error("an Easter offset must be within 200 days of Easter Sunday")]
    Offset,
    #[error("the first year comes after the last")]
    Years,
}

impl HolidayRule {
    /// Checks the rule once, so that expanding it never fails for a reason of its own.
    pub fn validate(&self) -> Result<(), RuleError> {
        match self.date {
            RuleDate::Fixed { month, day } => {
                if !(1..=12).contains(&month) {
                    return Err(RuleError::Month(month));
                }
                // 2024 is a leap year: every day that exists in some year exists in it.
                if NaiveDate::from_ymd_opt(2024, month, day).is_none() {
                    return Err(RuleError::Day { month, day });
                }
            }
            RuleDate::Easter { offset_days } => {
                if offset_days.abs() > 200 {
                    return Err(RuleError::Offset);
                }
            }
        }
        if let (Some(a), Some(b)) = (self.first_year, self.last_year) {
            if a > b {
                return Err(RuleError::Years);
            }
        }
        Ok(())
    }

    /// The rule's date in `year`, if it has one then.
    pub fn date_in(&self, year: i32) -> Option<NaiveDate> {
        if self.first_year.is_some_and(|y| year < y) || self.last_year.is_some_and(|y| year > y) {
            return None;
        }
        match self.date {
            RuleDate::Fixed { month, day } => NaiveDate::from_ymd_opt(year, month, day),
            RuleDate::Easter { offset_days } => {
                easter_sunday(year)?.checked_add_signed(Duration::days(offset_days.into()))
            }
        }
    }

    /// The holiday it makes in `year`.
    pub fn in_year(&self, year: i32) -> Option<Holiday> {
        self.date_in(year).map(|date| Holiday {
            date,
            name: self.name.clone(),
            open: self.open.clone(),
        })
    }
}

/// The holidays of `years`: every rule's date, then the one-off `dates` over them (a date
/// listed by hand replaces a rule's holiday on that day). Two rules on one day keep the first.
pub fn holidays_for(
    rules: &[HolidayRule],
    dates: Vec<Holiday>,
    years: RangeInclusive<i32>,
) -> Vec<Holiday> {
    let mut by_date: BTreeMap<NaiveDate, Holiday> = BTreeMap::new();
    for year in years {
        for rule in rules {
            if let Some(h) = rule.in_year(year) {
                by_date.entry(h.date).or_insert(h);
            }
        }
    }
    for h in dates {
        by_date.insert(h.date, h);
    }
    by_date.into_values().collect()
}

/// Years a computation starting in `year` may reach: a few back (history), many ahead (the
/// longest deadline a calendar adds is decades).
pub fn years_around(year: i32) -> RangeInclusive<i32> {
    (year - 2)..=(year + 45)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Brazil's national holidays as the fixtures hold them.
    fn brazil_national() -> Vec<HolidayRule> {
        serde_json::from_str(include_str!("../../fixtures/holiday-rules-br.json")).unwrap()
    }

    fn fixed(name: &str, month: u32, day: u32) -> HolidayRule {
        HolidayRule {
            name: name.into(),
            date: RuleDate::Fixed { month, day },
            open: Vec::new(),
            first_year: None,
            last_year: None,
        }
    }

    fn easter(name: &str, offset_days: i32) -> HolidayRule {
        HolidayRule {
            name: name.into(),
            date: RuleDate::Easter { offset_days },
            open: Vec::new(),
            first_year: None,
            last_year: None,
        }
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn easter_matches_known_years() {
        for (y, m, day) in [
            (1961, 4, 2),
            (2000, 4, 23),
            (2008, 3, 23),
            (2019, 4, 21),
            (2024, 3, 31),
            (2025, 4, 20),
            (2026, 4, 5),
            (2027, 3, 28),
            (2028, 4, 16),
            (2038, 4, 25),
            (2285, 3, 22),
        ] {
            assert_eq!(easter_sunday(y), Some(d(y, m, day)), "{y}");
        }
    }

    /// The fixed 2026–2027 list the fixtures carried gives the same answers as the rules.
    #[test]
    fn rules_reproduce_the_2026_2027_fixture_list() {
        let listed: Vec<Holiday> =
            serde_json::from_str(include_str!("../../fixtures/holidays-br.json")).unwrap();
        let computed = holidays_for(&brazil_national(), Vec::new(), 2026..=2027);
        assert!(brazil_national().iter().all(|r| r.validate().is_ok()));
        assert_eq!(computed, listed);
    }

    #[test]
    fn carnival_2028_and_corpus_christi_follow_easter() {
        let hs = holidays_for(&brazil_national(), Vec::new(), 2028..=2028);
        let on = |date| hs.iter().find(|h| h.date == date).map(|h| h.name.as_str());
        assert_eq!(on(d(2028, 2, 28)), Some("Carnaval (segunda-feira)"));
        assert_eq!(on(d(2028, 2, 29)), Some("Carnaval (terça-feira)"));
        assert_eq!(on(d(2028, 4, 14)), Some("Sexta-feira Santa"));
        assert_eq!(on(d(2028, 6, 15)), Some("Corpus Christi"));
        let ash = hs.iter().find(|h| h.date == d(2028, 3, 1)).unwrap();
        assert_eq!(ash.open.len(), 1);
    }

    #[test]
    fn a_dated_holiday_replaces_a_rule_on_its_day_and_years_bound_rules() {
        let dated = Holiday::closed(d(2026, 12, 25), "Natal (ponto facultativo)");
        let hs = holidays_for(&brazil_national(), vec![dated.clone()], 2023..=2026);
        assert!(hs.contains(&dated));
        assert_eq!(hs.iter().filter(|h| h.date == d(2026, 12, 25)).count(), 1);
        assert!(!hs.iter().any(|h| h.date == d(2023, 11, 20)));
        assert!(hs.iter().any(|h| h.date == d(2024, 11, 20)));
    }

    #[test]
    fn bad_rules_are_refused() {
        assert_eq!(fixed("x", 13, 1).validate(), Err(RuleError::Month(13)));
        assert_eq!(
            fixed("x", 2, 30).validate(),
            Err(RuleError::Day { month: 2, day: 30 })
        );
        assert!(fixed("x", 2, 29).validate().is_ok());
        assert_eq!(fixed("x", 2, 29).date_in(2027), None);
        assert_eq!(easter("x", 400).validate(), Err(RuleError::Offset));
    }
}
