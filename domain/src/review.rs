//! The weekly operations review (SPEC §7): its period, its weeks and the arithmetic of its
//! figures. Pure: the caller passes `now` and the counts.
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

/// The review's time zone: days and weeks are São Paulo's.
pub const ZONE: Tz = chrono_tz::America::Sao_Paulo;

/// A period of whole days, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// Why a period was refused, by field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodError {
    pub field: &'static str,
    pub message: String,
}

/// Longest period a review covers (a year and a day: a leap year).
pub const MAX_DAYS: i64 = 367;

impl Period {
    /// The last full week, Monday to Sunday, before the São Paulo day of `now`.
    pub fn last_full_week(now: DateTime<Utc>) -> Period {
        let today = now.with_timezone(&ZONE).date_naive();
        let monday = today - Duration::days(today.weekday().num_days_from_monday().into());
        Period {
            from: monday - Duration::days(7),
            to: monday - Duration::days(1),
        }
    }

    /// `from`..=`to`, either defaulting to the last full week's; refused when inverted or longer
    /// than [`MAX_DAYS`].
    pub fn new(
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        now: DateTime<Utc>,
    ) -> Result<Period, PeriodError> {
        let week = Period::last_full_week(now);
        let p = match (from, to) {
            (None, None) => week,
            (Some(f), None) => Period {
                from: f,
                to: f + Duration::days(6),
            },
            (None, Some(t)) => Period {
                from: t - Duration::days(6),
                to: t,
            },
            (Some(f), Some(t)) => Period { from: f, to: t },
        };
        if p.to < p.from {
            return Err(PeriodError {
                field: "to",
                message: format!("`to` ({}) is before `from` ({})", p.to, p.from),
            });
        }
        if p.days() > MAX_DAYS {
            return Err(PeriodError {
                field: "to",
                message: format!("a review covers at most {MAX_DAYS} days"),
            });
        }
        Ok(p)
    }

    pub fn days(&self) -> i64 {
        (self.to - self.from).num_days() + 1
    }

    /// The instants `[start, end)` of the period in São Paulo.
    pub fn instants(&self) -> (DateTime<Utc>, DateTime<Utc>) {
        (midnight(self.from), midnight(self.to + Duration::days(1)))
    }

    /// The `n` weeks (seven days each) ending on `to`, oldest first: the trend's buckets.
    pub fn trailing_weeks(&self, n: u32) -> Vec<Period> {
        (0..n)
            .rev()
            .map(|k| {
                let to = self.to - Duration::days(7 * i64::from(k));
                Period {
                    from: to - Duration::days(6),
                    to,
                }
            })
            .collect()
    }
}

/// The first instant of `day` in São Paulo (the zone has had no DST since 2019; if a day ever
/// starts in a gap, its first valid instant).
pub fn midnight(day: NaiveDate) -> DateTime<Utc> {
    let naive = day.and_hms_opt(0, 0, 0).expect("midnight exists");
    match ZONE.from_local_datetime(&naive) {
        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => {
            t.with_timezone(&Utc)
        }
        chrono::LocalResult::None => ZONE
            .from_local_datetime(&(naive + Duration::hours(1)))
            .earliest()
            .expect("an hour later exists")
            .with_timezone(&Utc),
    }
}

/// `numerator / denominator`, None when nothing was counted (no figure rather than 0 or 1).
pub fn rate(numerator: i64, denominator: i64) -> Option<f64> {
    (denominator > 0).then(|| numerator as f64 / denominator as f64)
}

/// Mean of a total of seconds over `n` items, in hours; None when `n` is 0.
pub fn mean_hours(total_seconds: i64, n: i64) -> Option<f64> {
    (n > 0).then(|| total_seconds as f64 / n as f64 / 3600.0)
}

/// Rounded to `places` decimals (figures are shown, not computed on).
pub fn round(v: f64, places: i32) -> f64 {
    let m = 10f64.powi(places);
    (v * m).round() / m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn the_default_period_is_the_last_full_week_in_sao_paulo() {
        // Monday 2026-11-30 01:00 UTC is still Sunday 29 in São Paulo: the last full week
        // is 16–22, not 23–29.
        let now = Utc.with_ymd_and_hms(2026, 11, 30, 1, 0, 0).unwrap();
        assert_eq!(
            Period::last_full_week(now),
            Period {
                from: d(2026, 11, 16),
                to: d(2026, 11, 22)
            }
        );
        let now = Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).unwrap();
        assert_eq!(Period::last_full_week(now).from, d(2026, 11, 23));
        assert_eq!(Period::last_full_week(now).to, d(2026, 11, 29));
    }

    #[test]
    fn periods_are_checked_and_completed() {
        let now = Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).unwrap();
        let e = Period::new(Some(d(2026, 11, 10)), Some(d(2026, 11, 9)), now).unwrap_err();
        assert_eq!(e.field, "to");
        assert!(Period::new(Some(d(2025, 1, 1)), Some(d(2026, 11, 1)), now).is_err());
        let p = Period::new(Some(d(2026, 11, 1)), None, now).unwrap();
        assert_eq!(p.days(), 7);
        let (a, b) = p.instants();
        assert_eq!(a, Utc.with_ymd_and_hms(2026, 11, 1, 3, 0, 0).unwrap());
        assert_eq!(b, Utc.with_ymd_and_hms(2026, 11, 8, 3, 0, 0).unwrap());
    }

    #[test]
    fn trailing_weeks_end_on_the_period_end_oldest_first() {
        let p = Period {
            from: d(2026, 11, 23),
            to: d(2026, 11, 29),
        };
        let w = p.trailing_weeks(8);
        assert_eq!(w.len(), 8);
        assert_eq!(w[7], p);
        assert_eq!(w[0].from, d(2026, 10, 5));
        assert_eq!(w[0].to, d(2026, 10, 11));
    }

    #[test]
    fn rates_and_means_have_no_value_without_a_denominator() {
        assert_eq!(rate(1, 0), None);
        assert_eq!(rate(23, 25), Some(0.92));
        assert_eq!(mean_hours(7200, 2), Some(1.0));
        assert_eq!(mean_hours(0, 0), None);
        assert_eq!(round(2.0 / 3.0, 3), 0.667);
    }
}
