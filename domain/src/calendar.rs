//! Business-hours calendars (*horas úteis*).
//!
//! A calendar has a time zone, working weekdays, the business ranges of a normal day and
//! holidays (whole or partial days). Instants are stored in UTC; the calendar's zone
//! defines which local day an instant belongs to.
//!
//! Each local range `[start, end)` of a day is mapped to a UTC interval through its two
//! boundaries: a boundary in a DST gap maps to the first valid instant after the gap, and an
//! ambiguous boundary (DST overlap) maps to its earliest instant. That mapping is monotonic,
//! so the UTC intervals of consecutive ranges and days never overlap and stay ordered, and
//! every operation here is defined on them. All loops advance a day at a time and consume
//! whole intervals, so the cost is per day crossed.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::ControlFlow;

use chrono::{
    DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc, Weekday,
};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

const MINUTES_PER_DAY: u16 = 24 * 60;

/// Search horizon, in years, for an opening or a deadline.
pub const HORIZON_YEARS: u32 = 100;

/// Search horizon in local days; a calendar always has working time, but holidays and DST
/// gaps could in theory hide it, so loops are bounded.
const HORIZON_DAYS: u32 = HORIZON_YEARS * 36525 / 100;

/// Errors building or using a [`BusinessCalendar`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error(
        "invalid time range {}-{}: the start must be before the end, and the end at most 24:00",
        fmt_minute(*start),
        fmt_minute(*end)
    )]
    InvalidRange { start: u16, end: u16 },
    #[error(
        "invalid time of day {0:?}: expected HH:MM from 00:00 to 23:59 (24:00 allowed as an end)"
    )]
    InvalidTime(String),
    #[error("time ranges {first} and {second} overlap")]
    OverlappingRanges { first: DayRange, second: DayRange },
    #[error("the calendar has no working time: it needs at least one working weekday and one business range")]
    NoWorkingTime,
    #[error("holiday {0} is listed more than once")]
    DuplicateHoliday(NaiveDate),
    #[error("holiday {date}: {reason}")]
    InvalidHoliday {
        date: NaiveDate,
        reason: Box<CalendarError>,
    },
    #[error("no business time could be reached within {HORIZON_YEARS} years")]
    HorizonExceeded,
}

/// A half-open range of local time within one day, in minutes from midnight: `[start, end)`.
///
/// `end` may be 1440 (24:00). Invariant: `start < end <= 1440`.
/// JSON form: `{"start":"07:00","end":"19:00"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "DayRangeRepr", into = "DayRangeRepr")]
pub struct DayRange {
    start: u16,
    end: u16,
}

/// Wire form of [`DayRange`].
#[derive(Serialize, Deserialize)]
struct DayRangeRepr {
    start: String,
    end: String,
}

impl TryFrom<DayRangeRepr> for DayRange {
    type Error = CalendarError;

    fn try_from(repr: DayRangeRepr) -> Result<Self, Self::Error> {
        DayRange::parse(&repr.start, &repr.end)
    }
}

impl From<DayRange> for DayRangeRepr {
    fn from(range: DayRange) -> Self {
        DayRangeRepr {
            start: range.start_str(),
            end: range.end_str(),
        }
    }
}

impl DayRange {
    pub fn new(start_minute: u16, end_minute: u16) -> Result<Self, CalendarError> {
        if start_minute < end_minute && end_minute <= MINUTES_PER_DAY {
            Ok(DayRange {
                start: start_minute,
                end: end_minute,
            })
        } else {
            Err(CalendarError::InvalidRange {
                start: start_minute,
                end: end_minute,
            })
        }
    }

    /// Parses `"HH:MM"` boundaries, e.g. `DayRange::parse("07:00", "19:00")`.
    pub fn parse(start: &str, end: &str) -> Result<Self, CalendarError> {
        DayRange::new(parse_minute(start)?, parse_minute(end)?)
    }

    pub fn start_minute(&self) -> u16 {
        self.start
    }

    pub fn end_minute(&self) -> u16 {
        self.end
    }

    pub fn minutes(&self) -> u32 {
        u32::from(self.end - self.start)
    }

    pub fn start_str(&self) -> String {
        fmt_minute(self.start)
    }

    pub fn end_str(&self) -> String {
        fmt_minute(self.end)
    }

    /// Whether a minute of the day falls in `[start, end)`.
    pub fn contains_minute(&self, minute: u16) -> bool {
        self.start <= minute && minute < self.end
    }
}

impl fmt::Display for DayRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.start_str(), self.end_str())
    }
}

fn fmt_minute(minute: u16) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

/// `"HH:MM"` (hour may have one digit) to minutes from midnight; `"24:00"` gives 1440.
fn parse_minute(s: &str) -> Result<u16, CalendarError> {
    let invalid = || CalendarError::InvalidTime(s.to_owned());
    let (h, m) = s.split_once(':').ok_or_else(invalid)?;
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    if !digits(h) || h.len() > 2 || !digits(m) || m.len() != 2 {
        return Err(invalid());
    }
    let (h, m): (u16, u16) = (
        h.parse().map_err(|_| invalid())?,
        m.parse().map_err(|_| invalid())?,
    );
    match (h, m) {
        (24, 0) => Ok(MINUTES_PER_DAY),
        (0..=23, 0..=59) => Ok(h * 60 + m),
        _ => Err(invalid()),
    }
}

/// Sorts ranges and rejects overlaps (touching ranges are fine).
fn normalize_ranges(mut ranges: Vec<DayRange>) -> Result<Vec<DayRange>, CalendarError> {
    ranges.sort_unstable();
    for pair in ranges.windows(2) {
        if pair[1].start < pair[0].end {
            return Err(CalendarError::OverlappingRanges {
                first: pair[0],
                second: pair[1],
            });
        }
    }
    Ok(ranges)
}

/// A holiday on a local date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holiday {
    pub date: NaiveDate,
    pub name: String,
    /// Empty: closed the whole day. Otherwise the business ranges that day replaces the
    /// normal ones with (a partial day, e.g. Ash Wednesday opening at 12:00).
    #[serde(default)]
    pub open: Vec<DayRange>,
}

impl Holiday {
    /// Whether the holiday takes the minutes `[start, end)` of its day: a whole-day holiday
    /// takes every minute, a partial one those outside its business ranges.
    pub fn takes(&self, start_minute: u16, end_minute: u16) -> bool {
        !self
            .open
            .iter()
            .any(|r| r.start <= start_minute && end_minute <= r.end)
    }
}

impl Holiday {
    /// A holiday closed the whole day.
    pub fn closed(date: NaiveDate, name: impl Into<String>) -> Self {
        Holiday {
            date,
            name: name.into(),
            open: Vec::new(),
        }
    }

    /// A partial holiday open only during `open`.
    pub fn partial(date: NaiveDate, name: impl Into<String>, open: Vec<DayRange>) -> Self {
        Holiday {
            date,
            name: name.into(),
            open,
        }
    }
}

/// A business-hours calendar. Build with [`BusinessCalendar::new`] or
/// [`BusinessCalendar::default_brazil`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessCalendar {
    tz: Tz,
    /// Indexed by `Weekday::num_days_from_monday`.
    working: [bool; 7],
    /// Sorted, non-overlapping, non-empty.
    day: Vec<DayRange>,
    /// Each holiday's `open` is sorted and non-overlapping.
    holidays: BTreeMap<NaiveDate, Holiday>,
}

impl BusinessCalendar {
    /// Validates the calendar: day ranges are sorted here and must not overlap, there must be
    /// at least one working weekday and one business range, holiday ranges must be valid and
    /// each date listed once.
    pub fn new(
        tz: Tz,
        working_days: &[Weekday],
        day: Vec<DayRange>,
        holidays: Vec<Holiday>,
    ) -> Result<Self, CalendarError> {
        let mut working = [false; 7];
        for wd in working_days {
            working[wd.num_days_from_monday() as usize] = true;
        }
        let day = normalize_ranges(day)?;
        if day.is_empty() || !working.contains(&true) {
            return Err(CalendarError::NoWorkingTime);
        }
        BusinessCalendar {
            tz,
            working,
            day,
            holidays: BTreeMap::new(),
        }
        .with_holidays(holidays)
    }

    /// America/Sao_Paulo, Monday–Friday, 07:00–19:00, no holidays.
    pub fn default_brazil() -> Self {
        BusinessCalendar {
            tz: chrono_tz::America::Sao_Paulo,
            working: [true, true, true, true, true, false, false],
            day: vec![DayRange {
                start: 7 * 60,
                end: 19 * 60,
            }],
            holidays: BTreeMap::new(),
        }
    }

    /// Replaces the holidays of the calendar.
    pub fn with_holidays(mut self, holidays: Vec<Holiday>) -> Result<Self, CalendarError> {
        let mut map = BTreeMap::new();
        for mut holiday in holidays {
            let date = holiday.date;
            holiday.open =
                normalize_ranges(holiday.open).map_err(|e| CalendarError::InvalidHoliday {
                    date,
                    reason: Box::new(e),
                })?;
            if map.insert(date, holiday).is_some() {
                return Err(CalendarError::DuplicateHoliday(date));
            }
        }
        self.holidays = map;
        Ok(self)
    }

    pub fn tz(&self) -> Tz {
        self.tz
    }

    /// Working weekdays, Monday first.
    pub fn working_days(&self) -> Vec<Weekday> {
        let mut wd = Weekday::Mon;
        let mut days = Vec::new();
        for &on in &self.working {
            if on {
                days.push(wd);
            }
            wd = wd.succ();
        }
        days
    }

    /// Business ranges of a normal working day, sorted.
    pub fn day_ranges(&self) -> &[DayRange] {
        &self.day
    }

    /// All holidays, by date.
    pub fn holidays(&self) -> impl Iterator<Item = &Holiday> + '_ {
        self.holidays.values()
    }

    pub fn holiday_on(&self, date: NaiveDate) -> Option<&Holiday> {
        self.holidays.get(&date)
    }

    /// The holiday that takes part of `[start, end)` in local time `tz`: a whole-day holiday
    /// on the start's date, or a partial one outside whose open hours the interval falls
    /// (an interval past midnight counts to the end of its first day).
    pub fn holiday_during(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        tz: Tz,
    ) -> Option<&Holiday> {
        let (s, e) = (start.with_timezone(&tz), end.with_timezone(&tz));
        let minute = |t: NaiveTime| (t.hour() * 60 + t.minute()) as u16;
        let end_minute = if e.date_naive() == s.date_naive() {
            minute(e.time())
        } else {
            MINUTES_PER_DAY
        };
        self.holiday_on(s.date_naive())
            .filter(|h| h.takes(minute(s.time()), end_minute))
    }

    /// Business ranges of a local date: none on a non-working weekday (a holiday can only
    /// reduce business time, never open a weekend), a holiday's own ranges, else the normal day.
    pub fn ranges_on(&self, date: NaiveDate) -> &[DayRange] {
        if !self.working[date.weekday().num_days_from_monday() as usize] {
            return &[];
        }
        match self.holidays.get(&date) {
            Some(holiday) => &holiday.open,
            None => &self.day,
        }
    }

    pub fn is_business_time(&self, at: DateTime<Utc>) -> bool {
        // Only the local day of `at` and the next one can hold an interval containing it
        // (the next one only around a DST overlap at midnight).
        self.scan(at, 2, |start, _| ControlFlow::Break(start <= at))
            .unwrap_or(false)
    }

    /// Next instant `>= at` that is business time (`at` itself if inside). `None` only if no
    /// business time exists within the search horizon.
    pub fn next_opening(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.scan(at, HORIZON_DAYS, |start, _| {
            ControlFlow::Break(start.max(at))
        })
    }

    /// Adds `amount` of business time to `from` (negative counts as zero; zero returns
    /// `from`). A start outside business time counts from the next opening, and a deadline
    /// that completes exactly at a closing time is that closing time.
    pub fn add_business_hours(
        &self,
        from: DateTime<Utc>,
        amount: Duration,
    ) -> Result<DateTime<Utc>, CalendarError> {
        if amount <= Duration::zero() {
            return Ok(from);
        }
        let mut remaining = amount;
        self.scan(from, HORIZON_DAYS, |start, end| {
            let start = start.max(from);
            let available = end - start;
            if remaining <= available {
                ControlFlow::Break(start + remaining)
            } else {
                remaining -= available;
                ControlFlow::Continue(())
            }
        })
        .ok_or(CalendarError::HorizonExceeded)
    }

    /// Business time in `[a, b)`; zero if `b <= a`.
    pub fn business_time_between(&self, a: DateTime<Utc>, b: DateTime<Utc>) -> Duration {
        if b <= a {
            return Duration::zero();
        }
        let first = self.local_date(a);
        // One day past b's local date covers a DST overlap at midnight.
        let days = (self.local_date(b) - first).num_days() + 2;
        let days = u32::try_from(days).unwrap_or(u32::MAX);
        let mut total = Duration::zero();
        self.scan(a, days, |start, end| {
            if start >= b {
                return ControlFlow::Break(());
            }
            total += end.min(b) - start.max(a);
            ControlFlow::Continue(())
        });
        total
    }

    fn local_date(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.tz).date_naive()
    }

    /// Visits, in order, the non-empty UTC intervals `[start, end)` of business time that
    /// end after `from`, over at most `max_days` local days starting with the day of `from`
    /// (earlier days cannot reach it: their intervals end by this day's midnight, which is
    /// `<= from`). Returns the first `Break` value, or `None` when the days run out.
    fn scan<T>(
        &self,
        from: DateTime<Utc>,
        max_days: u32,
        mut visit: impl FnMut(DateTime<Utc>, DateTime<Utc>) -> ControlFlow<T>,
    ) -> Option<T> {
        let mut date = self.local_date(from);
        for _ in 0..max_days {
            for range in self.ranges_on(date) {
                let start = self.boundary(date, range.start)?;
                let end = self.boundary(date, range.end)?;
                // start == end: the whole range fell into a DST gap.
                if end <= from || start >= end {
                    continue;
                }
                if let ControlFlow::Break(value) = visit(start, end) {
                    return Some(value);
                }
            }
            date = date.succ_opt()?;
        }
        None
    }

    /// The UTC instant of a local boundary (minute 1440 is the next midnight). `None` only at
    /// the edges of chrono's representable range.
    fn boundary(&self, date: NaiveDate, minute: u16) -> Option<DateTime<Utc>> {
        let local = if minute >= MINUTES_PER_DAY {
            date.succ_opt()?.and_time(NaiveTime::MIN)
        } else {
            date.and_hms_opt(u32::from(minute / 60), u32::from(minute % 60), 0)?
        };
        local_to_utc(self.tz, local)
    }
}

/// The earliest instant whose local time is `>= local`: the earliest mapping when `local` is
/// ambiguous, the end of the gap when it does not exist.
fn local_to_utc(tz: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    use chrono::TimeZone;
    match tz.from_local_datetime(&local).earliest() {
        Some(at) => Some(at.with_timezone(&Utc)),
        None => end_of_gap(tz, local),
    }
}

/// Binary search for the first instant whose local time reaches `local` (only for times in a
/// DST gap, which are rare). UTC offsets stay well within ±30 h, which bounds the search.
fn end_of_gap(tz: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    use chrono::TimeZone;
    const SPAN: i64 = 30 * 3600;
    let base = local.and_utc().timestamp();
    // Invariant: local(lo) < local <= local(hi).
    let (mut lo, mut hi) = (base - SPAN, base + SPAN);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        let at = DateTime::from_timestamp(mid, 0)?;
        if tz.from_utc_datetime(&at.naive_utc()).naive_local() >= local {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    DateTime::from_timestamp(hi, 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use chrono_tz::America::{New_York, Sao_Paulo};
    use proptest::prelude::*;
    use Weekday::*;

    const WEEKDAYS: [Weekday; 5] = [Mon, Tue, Wed, Thu, Fri];
    const ALL_DAYS: [Weekday; 7] = [Mon, Tue, Wed, Thu, Fri, Sat, Sun];

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    /// A local wall-clock time that exists exactly once in `tz`.
    fn at(tz: Tz, y: i32, m: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        tz.with_ymd_and_hms(y, m, d, h, mi, 0)
            .single()
            .unwrap()
            .with_timezone(&Utc)
    }

    fn sp(y: i32, m: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        at(Sao_Paulo, y, m, d, h, mi)
    }

    fn ny(y: i32, m: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        at(New_York, y, m, d, h, mi)
    }

    fn utc(y: i32, m: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, mi, 0).unwrap()
    }

    fn range(start: &str, end: &str) -> DayRange {
        DayRange::parse(start, end).unwrap()
    }

    fn hours(h: i64) -> Duration {
        Duration::hours(h)
    }

    /// Brazilian national holidays, 2026–2027 (same as fixtures/holidays-br.json).
    fn holidays_br() -> Vec<Holiday> {
        let mut list = Vec::new();
        for (y, carnival, good_friday, corpus) in [
            (2026, (2, 16), (4, 3), (6, 4)),
            (2027, (2, 8), (3, 26), (5, 27)),
        ] {
            let d = |(m, d): (u32, u32)| date(y, m, d);
            list.push(Holiday::closed(d((1, 1)), "Confraternização Universal"));
            list.push(Holiday::closed(d(carnival), "Carnaval (segunda-feira)"));
            let tuesday = d(carnival).succ_opt().unwrap();
            list.push(Holiday::closed(tuesday, "Carnaval (terça-feira)"));
            list.push(Holiday::partial(
                tuesday.succ_opt().unwrap(),
                "Quarta-feira de Cinzas",
                vec![range("12:00", "19:00")],
            ));
            list.push(Holiday::closed(d(good_friday), "Sexta-feira Santa"));
            list.push(Holiday::closed(d((4, 21)), "Tiradentes"));
            list.push(Holiday::closed(d((5, 1)), "Dia do Trabalho"));
            list.push(Holiday::closed(d(corpus), "Corpus Christi"));
            list.push(Holiday::closed(d((9, 7)), "Independência do Brasil"));
            list.push(Holiday::closed(d((10, 12)), "Nossa Senhora Aparecida"));
            list.push(Holiday::closed(d((11, 2)), "Finados"));
            list.push(Holiday::closed(d((11, 15)), "Proclamação da República"));
            list.push(Holiday::closed(
                d((11, 20)),
                "Dia Nacional de Zumbi e da Consciência Negra",
            ));
            list.push(Holiday::closed(d((12, 25)), "Natal"));
        }
        list
    }

    fn brazil() -> BusinessCalendar {
        BusinessCalendar::default_brazil()
            .with_holidays(holidays_br())
            .unwrap()
    }

    #[test]
    fn a_meeting_is_on_a_holiday_unless_inside_a_partial_holidays_open_hours() {
        let cal = brazil();
        let on = |s, e| cal.holiday_during(s, e, Sao_Paulo).map(|h| h.name.clone());
        assert_eq!(
            on(sp(2027, 2, 8, 14, 0), sp(2027, 2, 8, 16, 0)).as_deref(),
            Some("Carnaval (segunda-feira)")
        );
        // Ash Wednesday opens at 12:00: the morning is taken, the afternoon is not.
        assert!(on(sp(2027, 2, 10, 9, 0), sp(2027, 2, 10, 11, 0)).is_some());
        assert!(on(sp(2027, 2, 10, 14, 0), sp(2027, 2, 10, 16, 0)).is_none());
        assert!(on(sp(2027, 2, 10, 18, 0), sp(2027, 2, 10, 20, 0)).is_some());
        assert!(on(sp(2027, 2, 11, 14, 0), sp(2027, 2, 11, 16, 0)).is_none());
    }

    /// Gregorian Easter Sunday (anonymous Gregorian algorithm).
    fn easter(y: i32) -> NaiveDate {
        let (a, b, c) = (y % 19, y / 100, y % 100);
        let (d, e) = (b / 4, b % 4);
        let f = (b + 8) / 25;
        let g = (b - f + 1) / 3;
        let h = (19 * a + b - d - g + 15) % 30;
        let (i, k) = (c / 4, c % 4);
        let l = (32 + 2 * e + 2 * i - h - k) % 7;
        let m = (a + 11 * h + 22 * l) / 451;
        let n = h + l - 7 * m + 114;
        date(y, (n / 31) as u32, (n % 31 + 1) as u32)
    }

    #[test]
    fn movable_holidays_follow_easter() {
        assert_eq!(easter(2026), date(2026, 4, 5));
        assert_eq!(easter(2027), date(2027, 3, 28));
        let cal = brazil();
        for y in [2026, 2027] {
            let e = easter(y);
            for (offset, name) in [
                (-48, "Carnaval (segunda-feira)"),
                (-47, "Carnaval (terça-feira)"),
                (-46, "Quarta-feira de Cinzas"),
                (-2, "Sexta-feira Santa"),
                (60, "Corpus Christi"),
            ] {
                let holiday = cal.holiday_on(e + Duration::days(offset)).unwrap();
                assert_eq!(holiday.name, name);
            }
        }
    }

    #[test]
    fn add_business_hours_table() {
        let br = brazil();
        let split = BusinessCalendar::new(
            Sao_Paulo,
            &WEEKDAYS,
            vec![range("13:00", "18:00"), range("08:00", "12:00")],
            vec![],
        )
        .unwrap();
        // (name, calendar, from, minutes to add, expected deadline)
        type Case<'a> = (
            &'a str,
            &'a BusinessCalendar,
            DateTime<Utc>,
            i64,
            DateTime<Utc>,
        );
        #[rustfmt::skip]
        let cases: Vec<Case> = vec![
            ("spec: Monday 09:00 + 60h", &br, sp(2026, 11, 23, 9, 0), 60 * 60, sp(2026, 11, 30, 9, 0)),
            ("spec: Friday 18:00 + 60h", &br, sp(2026, 11, 27, 18, 0), 60 * 60, sp(2026, 12, 4, 18, 0)),
            ("before opening", &br, sp(2026, 11, 23, 5, 0), 60, sp(2026, 11, 23, 8, 0)),
            ("after closing", &br, sp(2026, 11, 23, 20, 0), 60, sp(2026, 11, 24, 8, 0)),
            ("Saturday", &br, sp(2026, 11, 28, 10, 0), 60, sp(2026, 11, 30, 8, 0)),
            ("on a holiday", &br, sp(2026, 11, 20, 10, 0), 60, sp(2026, 11, 23, 8, 0)),
            ("across a holiday", &br, sp(2026, 11, 19, 18, 0), 120, sp(2026, 11, 23, 8, 0)),
            ("exact closing", &br, sp(2026, 11, 23, 7, 0), 12 * 60, sp(2026, 11, 23, 19, 0)),
            ("from closing", &br, sp(2026, 11, 23, 19, 0), 60, sp(2026, 11, 24, 8, 0)),
            ("zero from closing", &br, sp(2026, 11, 23, 19, 0), 0, sp(2026, 11, 23, 19, 0)),
            ("zero outside hours", &br, sp(2026, 11, 28, 3, 0), 0, sp(2026, 11, 28, 3, 0)),
            ("negative is zero", &br, sp(2026, 11, 23, 10, 0), -60, sp(2026, 11, 23, 10, 0)),
            ("one minute", &br, sp(2026, 11, 23, 18, 59), 1, sp(2026, 11, 23, 19, 0)),
            ("carnival + ash wednesday", &br, sp(2026, 2, 13, 18, 0), 3 * 60, sp(2026, 2, 18, 14, 0)),
            ("within ash wednesday", &br, sp(2026, 2, 18, 8, 0), 7 * 60, sp(2026, 2, 18, 19, 0)),
            ("ash wednesday 2027", &br, sp(2027, 2, 5, 19, 0), 60, sp(2027, 2, 10, 13, 0)),
            ("year boundary", &br, sp(2026, 12, 31, 18, 0), 2 * 60, sp(2027, 1, 4, 8, 0)),
            ("christmas week", &br, sp(2026, 12, 24, 12, 0), 8 * 60, sp(2026, 12, 28, 8, 0)),
            ("split: into lunch", &split, sp(2026, 11, 23, 11, 0), 60, sp(2026, 11, 23, 12, 0)),
            ("split: across lunch", &split, sp(2026, 11, 23, 11, 0), 120, sp(2026, 11, 23, 14, 0)),
            ("split: from lunch", &split, sp(2026, 11, 23, 12, 30), 30, sp(2026, 11, 23, 13, 30)),
            ("split: overnight", &split, sp(2026, 11, 23, 17, 0), 120, sp(2026, 11, 24, 9, 0)),
            ("split: a full day", &split, sp(2026, 11, 23, 8, 0), 9 * 60, sp(2026, 11, 23, 18, 0)),
        ];
        for (name, cal, from, minutes, expected) in cases {
            let got = cal
                .add_business_hours(from, Duration::minutes(minutes))
                .unwrap();
            assert_eq!(got, expected, "{name}");
        }
    }

    #[test]
    fn business_time_between_table() {
        let br = brazil();
        #[rustfmt::skip]
        let cases = [
            ("same day", sp(2026, 11, 23, 9, 0), sp(2026, 11, 23, 11, 30), 150),
            ("over a weekend", sp(2026, 11, 27, 18, 0), sp(2026, 11, 30, 8, 0), 120),
            ("over a holiday", sp(2026, 11, 19, 18, 0), sp(2026, 11, 23, 8, 0), 120),
            ("a full week", sp(2026, 11, 23, 0, 0), sp(2026, 11, 30, 0, 0), 60 * 60),
            ("carnival week", sp(2026, 2, 16, 0, 0), sp(2026, 2, 23, 0, 0), 31 * 60),
            ("night only", sp(2026, 11, 23, 19, 0), sp(2026, 11, 24, 7, 0), 0),
            ("empty", sp(2026, 11, 23, 10, 0), sp(2026, 11, 23, 10, 0), 0),
            ("reversed", sp(2026, 11, 24, 10, 0), sp(2026, 11, 23, 10, 0), 0),
            ("year boundary", sp(2026, 12, 31, 18, 0), sp(2027, 1, 4, 8, 0), 120),
        ];
        for (name, a, b, minutes) in cases {
            assert_eq!(
                br.business_time_between(a, b),
                Duration::minutes(minutes),
                "{name}"
            );
        }
    }

    #[test]
    fn is_business_time_and_next_opening() {
        let br = brazil();
        assert!(br.is_business_time(sp(2026, 11, 23, 7, 0)));
        assert!(br.is_business_time(sp(2026, 11, 23, 18, 59)));
        assert!(!br.is_business_time(sp(2026, 11, 23, 19, 0)));
        assert!(!br.is_business_time(sp(2026, 11, 23, 6, 59)));
        assert!(!br.is_business_time(sp(2026, 11, 20, 10, 0)));
        assert!(!br.is_business_time(sp(2026, 2, 18, 11, 59)));
        assert!(br.is_business_time(sp(2026, 2, 18, 12, 0)));

        let inside = sp(2026, 11, 23, 10, 0);
        assert_eq!(br.next_opening(inside), Some(inside));
        assert_eq!(
            br.next_opening(sp(2026, 11, 23, 19, 0)),
            Some(sp(2026, 11, 24, 7, 0))
        );
        assert_eq!(
            br.next_opening(sp(2026, 11, 19, 20, 0)),
            Some(sp(2026, 11, 23, 7, 0))
        );
        assert_eq!(
            br.next_opening(sp(2026, 2, 13, 19, 0)),
            Some(sp(2026, 2, 18, 12, 0))
        );
    }

    #[test]
    fn calendar_accessors() {
        let br = brazil();
        assert_eq!(br.tz(), Sao_Paulo);
        assert_eq!(br.working_days(), WEEKDAYS.to_vec());
        assert_eq!(br.day_ranges(), &[range("07:00", "19:00")]);
        assert_eq!(br.holidays().count(), 28);
        assert_eq!(br.ranges_on(date(2026, 11, 28)), &[]); // Saturday
        assert_eq!(br.ranges_on(date(2026, 11, 20)), &[]); // holiday
        assert_eq!(br.ranges_on(date(2026, 2, 18)), &[range("12:00", "19:00")]);
        assert_eq!(br.ranges_on(date(2026, 11, 23)), &[range("07:00", "19:00")]);
        // A holiday on a weekend does not open it.
        let cal = BusinessCalendar::default_brazil()
            .with_holidays(vec![Holiday::partial(
                date(2026, 11, 28),
                "x",
                vec![range("08:00", "09:00")],
            )])
            .unwrap();
        assert_eq!(cal.ranges_on(date(2026, 11, 28)), &[]);
        // Working days are deduplicated and reported Monday first.
        let cal = BusinessCalendar::new(
            Sao_Paulo,
            &[Sun, Mon, Sun],
            vec![range("07:00", "19:00")],
            vec![],
        )
        .unwrap();
        assert_eq!(cal.working_days(), vec![Mon, Sun]);
    }

    #[test]
    fn day_range_parsing_and_repr() {
        let r = range("07:00", "19:00");
        assert_eq!(
            (r.start_minute(), r.end_minute(), r.minutes()),
            (420, 1140, 720)
        );
        assert_eq!(
            (r.start_str(), r.end_str()),
            ("07:00".into(), "19:00".into())
        );
        assert_eq!(r.to_string(), "07:00-19:00");
        let whole = range("0:00", "24:00");
        assert_eq!((whole.start_minute(), whole.end_minute()), (0, 1440));
        assert_eq!(whole.end_str(), "24:00");
        assert!(r.contains_minute(420) && !r.contains_minute(1140));

        let repr = DayRangeRepr::from(r);
        assert_eq!((repr.start.as_str(), repr.end.as_str()), ("07:00", "19:00"));
        assert_eq!(DayRange::try_from(repr), Ok(r));
        let bad = DayRangeRepr {
            start: "19:00".into(),
            end: "07:00".into(),
        };
        assert!(DayRange::try_from(bad).is_err());
    }

    #[test]
    fn validation_errors() {
        for bad in [
            "25:00", "24:01", "7:5", "07:60", "0700", "", "aa:bb", "-1:00", "123:00",
        ] {
            assert_eq!(
                DayRange::parse(bad, "19:00"),
                Err(CalendarError::InvalidTime(bad.into())),
                "{bad}"
            );
        }
        assert_eq!(
            DayRange::parse("24:00", "24:00"),
            Err(CalendarError::InvalidRange {
                start: 1440,
                end: 1440
            })
        );
        assert_eq!(
            DayRange::new(600, 600),
            Err(CalendarError::InvalidRange {
                start: 600,
                end: 600
            })
        );
        assert!(DayRange::new(700, 600).is_err());
        assert!(DayRange::new(0, 1441).is_err());
        assert!(DayRange::new(0, 1440).is_ok());

        let overlap = BusinessCalendar::new(
            Sao_Paulo,
            &WEEKDAYS,
            vec![range("11:00", "13:00"), range("08:00", "12:00")],
            vec![],
        );
        assert_eq!(
            overlap,
            Err(CalendarError::OverlappingRanges {
                first: range("08:00", "12:00"),
                second: range("11:00", "13:00"),
            })
        );
        // Touching ranges are not overlapping.
        assert!(BusinessCalendar::new(
            Sao_Paulo,
            &WEEKDAYS,
            vec![range("12:00", "13:00"), range("08:00", "12:00")],
            vec![],
        )
        .is_ok());
        assert_eq!(
            BusinessCalendar::new(Sao_Paulo, &[], vec![range("07:00", "19:00")], vec![]),
            Err(CalendarError::NoWorkingTime)
        );
        assert_eq!(
            BusinessCalendar::new(Sao_Paulo, &WEEKDAYS, vec![], vec![]),
            Err(CalendarError::NoWorkingTime)
        );
        let day = date(2026, 2, 18);
        let bad_holiday = BusinessCalendar::default_brazil().with_holidays(vec![Holiday::partial(
            day,
            "x",
            vec![range("12:00", "19:00"), range("18:00", "20:00")],
        )]);
        assert!(matches!(
            bad_holiday,
            Err(CalendarError::InvalidHoliday { date, .. }) if date == day
        ));
        assert_eq!(
            BusinessCalendar::default_brazil()
                .with_holidays(vec![Holiday::closed(day, "a"), Holiday::closed(day, "b")]),
            Err(CalendarError::DuplicateHoliday(day))
        );
        // Messages are readable.
        assert_eq!(
            CalendarError::InvalidRange { start: 1140, end: 420 }.to_string(),
            "invalid time range 19:00-07:00: the start must be before the end, and the end at most 24:00"
        );
        let nested = bad_holiday.unwrap_err().to_string();
        assert!(nested
            .starts_with("holiday 2026-02-18: time ranges 12:00-19:00 and 18:00-20:00 overlap"));
    }

    #[test]
    fn horizon_exceeded() {
        let br = brazil();
        let from = sp(2026, 1, 1, 0, 0);
        // More business time than 100 years hold (~36 500 days × 5/7 × 12 h).
        let amount = Duration::days(366 * 100);
        assert_eq!(
            br.add_business_hours(from, amount),
            Err(CalendarError::HorizonExceeded)
        );
        assert!(br.add_business_hours(from, Duration::days(365)).is_ok());
    }

    #[test]
    fn dst_new_york_business_week() {
        let cal = BusinessCalendar::new(New_York, &WEEKDAYS, vec![range("09:00", "17:00")], vec![])
            .unwrap();
        // Spring forward on Sunday 2026-03-08: Friday is EST (UTC-5), Monday EDT (UTC-4).
        let from = ny(2026, 3, 6, 16, 0);
        assert_eq!(from, utc(2026, 3, 6, 21, 0));
        let due = cal.add_business_hours(from, hours(2)).unwrap();
        assert_eq!(due, ny(2026, 3, 9, 10, 0));
        assert_eq!(due, utc(2026, 3, 9, 14, 0));
        // Fall back on Sunday 2026-11-01.
        let due = cal
            .add_business_hours(ny(2026, 10, 30, 16, 0), hours(2))
            .unwrap();
        assert_eq!(due, utc(2026, 11, 2, 15, 0));
    }

    #[test]
    fn dst_new_york_day_lengths() {
        let always =
            BusinessCalendar::new(New_York, &ALL_DAYS, vec![range("00:00", "24:00")], vec![])
                .unwrap();
        let spring = ny(2026, 3, 8, 0, 0);
        let spring_next = ny(2026, 3, 9, 0, 0);
        assert_eq!(always.business_time_between(spring, spring_next), hours(23));
        assert_eq!(
            always.add_business_hours(spring, hours(24)).unwrap(),
            ny(2026, 3, 9, 1, 0)
        );
        let fall = ny(2026, 11, 1, 0, 0);
        assert_eq!(
            always.business_time_between(fall, ny(2026, 11, 2, 0, 0)),
            hours(25)
        );
        assert!(always.is_business_time(utc(2026, 11, 1, 6, 30))); // 01:30 EST, second pass

        // A range starting in the gap (02:00–03:00 does not exist) starts at 03:00 EDT.
        let gap_start =
            BusinessCalendar::new(New_York, &ALL_DAYS, vec![range("02:30", "04:00")], vec![])
                .unwrap();
        assert_eq!(gap_start.next_opening(spring), Some(utc(2026, 3, 8, 7, 0)));
        assert_eq!(
            gap_start.business_time_between(spring, spring_next),
            hours(1)
        );
        // A range entirely inside the gap has no business time that day.
        let in_gap =
            BusinessCalendar::new(New_York, &ALL_DAYS, vec![range("02:00", "03:00")], vec![])
                .unwrap();
        assert_eq!(
            in_gap.business_time_between(spring, spring_next),
            Duration::zero()
        );
        assert_eq!(in_gap.next_opening(spring), Some(ny(2026, 3, 9, 2, 0)));
        assert!(!in_gap.is_business_time(utc(2026, 3, 8, 7, 0)));

        // Ambiguous boundaries map to their earliest instant: 01:00 EDT to 02:00 EST is 2 h.
        let overlap =
            BusinessCalendar::new(New_York, &ALL_DAYS, vec![range("01:00", "02:00")], vec![])
                .unwrap();
        assert_eq!(overlap.next_opening(fall), Some(utc(2026, 11, 1, 5, 0)));
        assert_eq!(
            overlap.business_time_between(fall, ny(2026, 11, 2, 0, 0)),
            hours(2)
        );
        assert_eq!(
            overlap.add_business_hours(fall, hours(2)).unwrap(),
            utc(2026, 11, 1, 7, 0)
        );
    }

    #[test]
    fn end_of_gap_is_the_transition() {
        let local = date(2026, 3, 8).and_hms_opt(2, 30, 0).unwrap();
        assert_eq!(local_to_utc(New_York, local), Some(utc(2026, 3, 8, 7, 0)));
        let local = date(2026, 11, 1).and_hms_opt(1, 30, 0).unwrap();
        assert_eq!(local_to_utc(New_York, local), Some(utc(2026, 11, 1, 5, 30)));
    }

    fn instant_2026_2027() -> impl Strategy<Value = DateTime<Utc>> {
        let lo = utc(2026, 1, 1, 0, 0).timestamp();
        let hi = utc(2028, 1, 1, 0, 0).timestamp();
        (lo..hi).prop_map(|s| DateTime::from_timestamp(s, 0).unwrap())
    }

    /// Up to 2000 hours, in whole minutes.
    fn amount() -> impl Strategy<Value = Duration> {
        (0i64..=2000 * 60).prop_map(Duration::minutes)
    }

    /// A small multi-range calendar in a DST zone, open on weekends too so that the
    /// transitions (Sundays) are exercised.
    fn new_york_odd() -> BusinessCalendar {
        BusinessCalendar::new(
            New_York,
            &[Mon, Tue, Wed, Sat, Sun],
            vec![
                range("00:30", "02:30"),
                range("09:00", "12:00"),
                range("13:00", "24:00"),
            ],
            vec![Holiday::partial(
                date(2026, 3, 8),
                "x",
                vec![range("01:00", "03:30")],
            )],
        )
        .unwrap()
    }

    fn config() -> ProptestConfig {
        ProptestConfig {
            cases: 300,
            // Keep failures from writing regression files into the source tree.
            failure_persistence: None,
            ..ProptestConfig::default()
        }
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn add_is_monotonic(x in instant_2026_2027(), a in amount(), b in amount()) {
            let (a, b) = (a.min(b), a.max(b));
            for cal in [brazil(), new_york_odd()] {
                prop_assert!(cal.add_business_hours(x, a)? <= cal.add_business_hours(x, b)?);
            }
        }

        #[test]
        fn add_is_additive(x in instant_2026_2027(), a in amount(), b in amount()) {
            for cal in [brazil(), new_york_odd()] {
                let stepwise = cal.add_business_hours(cal.add_business_hours(x, a)?, b)?;
                prop_assert_eq!(stepwise, cal.add_business_hours(x, a + b)?);
            }
        }

        #[test]
        fn add_spends_exactly_the_amount(x in instant_2026_2027(), a in amount()) {
            for cal in [brazil(), new_york_odd()] {
                let due = cal.add_business_hours(x, a)?;
                prop_assert_eq!(cal.business_time_between(x, due), a);
                if a > Duration::zero() {
                    // The deadline is inside business time or exactly at a closing.
                    let just_before = due - Duration::seconds(1);
                    prop_assert!(cal.is_business_time(just_before));
                }
            }
        }

        #[test]
        fn between_is_additive(x in instant_2026_2027(), y in instant_2026_2027(), z in instant_2026_2027()) {
            let mut v = [x, y, z];
            v.sort();
            let [x, y, z] = v;
            for cal in [brazil(), new_york_odd()] {
                prop_assert_eq!(
                    cal.business_time_between(x, y) + cal.business_time_between(y, z),
                    cal.business_time_between(x, z)
                );
            }
        }

        #[test]
        fn opening_agrees_with_business_time(x in instant_2026_2027()) {
            for cal in [brazil(), new_york_odd()] {
                let open = cal.next_opening(x).unwrap();
                prop_assert!(open >= x);
                prop_assert_eq!(cal.is_business_time(x), open == x);
                prop_assert!(cal.is_business_time(open));
                prop_assert_eq!(cal.business_time_between(x, open), Duration::zero());
                let second = Duration::seconds(1);
                prop_assert_eq!(cal.business_time_between(open, open + second), second);
            }
        }
    }
}
