//! Committee meetings and maintenance windows (SPEC §3.4): weekly rules in a local time
//! zone, per-occurrence changes, the submission cut-off, booking and conflicts.
use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc,
    Weekday,
};
use chrono_tz::Tz;
use std::collections::BTreeMap;

string_enum!(
    /// A meeting occurrence: `scheduled` until it is closed (by hand or by its end timer).
    MeetingStatus {
        Scheduled => "scheduled",
        Closed => "closed",
    }
);

string_enum!(
    /// A window flex: `pending` until every CM member approves (`approved`) or one rejects.
    FlexStatus {
        Pending => "pending",
        Approved => "approved",
        Rejected => "rejected",
    }
);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("`{field}` must be a time HH:MM, got `{value}`")]
    BadTime { field: &'static str, value: String },
    #[error("`{field}` must be between {min} and {max} minutes")]
    BadDuration {
        field: &'static str,
        min: u32,
        max: u32,
    },
    #[error("`{0}` is not a weekday (monday..sunday)")]
    BadWeekday(String),
    #[error("the cut-off must not be after the meeting starts")]
    CutoffAfterStart,
}

pub fn parse_weekday(s: &str) -> Result<Weekday, ScheduleError> {
    s.parse::<Weekday>()
        .map_err(|_| ScheduleError::BadWeekday(s.to_string()))
}

pub fn weekday_name(w: Weekday) -> &'static str {
    match w {
        Weekday::Mon => "monday",
        Weekday::Tue => "tuesday",
        Weekday::Wed => "wednesday",
        Weekday::Thu => "thursday",
        Weekday::Fri => "friday",
        Weekday::Sat => "saturday",
        Weekday::Sun => "sunday",
    }
}

pub fn parse_time(field: &'static str, s: &str) -> Result<NaiveTime, ScheduleError> {
    NaiveTime::parse_from_str(s, "%H:%M").map_err(|_| ScheduleError::BadTime {
        field,
        value: s.to_string(),
    })
}

/// A weekly recurring slot: a weekday, a local start time and a duration (at most a week).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeeklySlot {
    weekday: Weekday,
    start: NaiveTime,
    duration: Duration,
}

impl WeeklySlot {
    pub fn new(
        weekday: Weekday,
        start: NaiveTime,
        duration_minutes: u32,
    ) -> Result<Self, ScheduleError> {
        if duration_minutes == 0 || duration_minutes > 7 * 24 * 60 {
            return Err(ScheduleError::BadDuration {
                field: "duration_minutes",
                min: 1,
                max: 7 * 24 * 60,
            });
        }
        Ok(WeeklySlot {
            weekday,
            start,
            duration: Duration::minutes(duration_minutes as i64),
        })
    }
    pub fn weekday(&self) -> Weekday {
        self.weekday
    }
    pub fn start(&self) -> NaiveTime {
        self.start
    }
    pub fn duration(&self) -> Duration {
        self.duration
    }
}

/// The calendar policy in force: meetings of the CM, their cut-off, and the weekly window.
/// Defaults (SPEC §3.4): Tuesday 14:00–16:00, cut-off 10:00 that day; Thursday 00:00–06:00.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarPolicy {
    tz: Tz,
    meeting: WeeklySlot,
    cutoff: NaiveTime,
    window: WeeklySlot,
}

impl CalendarPolicy {
    pub fn new(
        tz: Tz,
        meeting: WeeklySlot,
        cutoff: NaiveTime,
        window: WeeklySlot,
    ) -> Result<Self, ScheduleError> {
        if cutoff > meeting.start {
            return Err(ScheduleError::CutoffAfterStart);
        }
        Ok(CalendarPolicy {
            tz,
            meeting,
            cutoff,
            window,
        })
    }

    pub fn default_brazil() -> Self {
        let t = |h| NaiveTime::from_hms_opt(h, 0, 0).unwrap();
        CalendarPolicy {
            tz: chrono_tz::America::Sao_Paulo,
            meeting: WeeklySlot::new(Weekday::Tue, t(14), 120).unwrap(),
            cutoff: t(10),
            window: WeeklySlot::new(Weekday::Thu, t(0), 360).unwrap(),
        }
    }

    pub fn tz(&self) -> Tz {
        self.tz
    }
    pub fn meeting(&self) -> WeeklySlot {
        self.meeting
    }
    pub fn cutoff(&self) -> NaiveTime {
        self.cutoff
    }
    pub fn window(&self) -> WeeklySlot {
        self.window
    }

    /// Meeting occurrences overlapping [from, until), each flagged when it falls on a holiday
    /// so the change manager can reschedule it in advance.
    pub fn meetings(
        &self,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
        is_holiday: impl Fn(NaiveDate) -> bool,
    ) -> Vec<MeetingOccurrence> {
        occurrences(self.tz, self.meeting, from, until)
            .into_iter()
            .map(|o| MeetingOccurrence {
                cutoff_at: cutoff_for(self.tz, self.cutoff, o.starts_at),
                on_holiday: is_holiday(o.original_date),
                occurrence: o,
            })
            .collect()
    }

    /// Window occurrences overlapping [from, until).
    pub fn windows(&self, from: DateTime<Utc>, until: DateTime<Utc>) -> Vec<Occurrence> {
        occurrences(self.tz, self.window, from, until)
    }
}

/// One occurrence of a weekly slot, identified by the local date it was generated for
/// (stays its identity when the occurrence is moved).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Occurrence {
    pub original_date: NaiveDate,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MeetingOccurrence {
    pub occurrence: Occurrence,
    pub cutoff_at: DateTime<Utc>,
    pub on_holiday: bool,
}

/// Local date and time to UTC; a time in a DST gap moves to the first valid instant after it.
pub fn local_to_utc(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(a, _) => a.with_timezone(&Utc),
        LocalResult::None => {
            let mut probe = local;
            loop {
                probe += Duration::minutes(15);
                if let Some(t) = tz.from_local_datetime(&probe).earliest() {
                    return t.with_timezone(&Utc);
                }
            }
        }
    }
}

/// Occurrences of `slot` overlapping [from, until). Cost per week in the range.
pub fn occurrences(
    tz: Tz,
    slot: WeeklySlot,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Vec<Occurrence> {
    let mut out = Vec::new();
    if until <= from {
        return out;
    }
    // Start a week early: an occurrence that began before `from` may still be running.
    let first_local = from.with_timezone(&tz).date_naive() - Duration::days(7);
    let offset = (slot.weekday.num_days_from_monday() as i64
        - first_local.weekday().num_days_from_monday() as i64)
        .rem_euclid(7);
    let mut date = first_local + Duration::days(offset);
    loop {
        let starts_at = local_to_utc(tz, date.and_time(slot.start));
        if starts_at >= until {
            break;
        }
        let ends_at = starts_at + slot.duration;
        if ends_at > from {
            out.push(Occurrence {
                original_date: date,
                starts_at,
                ends_at,
            });
        }
        date += Duration::days(7);
    }
    out
}

/// The cut-off of a meeting starting at `starts_at`: that local day at `cutoff`, never after
/// the start (a meeting moved to the morning closes its agenda when it starts).
pub fn cutoff_for(tz: Tz, cutoff: NaiveTime, starts_at: DateTime<Utc>) -> DateTime<Utc> {
    let day = starts_at.with_timezone(&tz).date_naive();
    local_to_utc(tz, day.and_time(cutoff)).min(starts_at)
}

/// A meeting the agenda can be booked on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgendaSlot<Id> {
    pub id: Id,
    pub cutoff_at: DateTime<Utc>,
}

/// The meeting an RDM ready at `ready_at` goes to: the first whose cut-off it meets, strictly
/// (ready 09:59 → this Tuesday; 10:00 → next week). Meetings in any order.
pub fn agenda_meeting<Id: Copy>(
    ready_at: DateTime<Utc>,
    meetings: &[AgendaSlot<Id>],
) -> Option<Id> {
    meetings
        .iter()
        .filter(|m| ready_at < m.cutoff_at)
        .min_by_key(|m| m.cutoff_at)
        .map(|m| m.id)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FitError {
    #[error("the window is over")]
    WindowOver,
    #[error("the planned start is in the past")]
    StartInPast,
    #[error("the planned start is outside the window")]
    StartOutsideWindow,
    #[error("the change needs {needed_minutes} minutes (duration plus rollback) but only {available_minutes} are left in the window after its start")]
    TooLong {
        needed_minutes: i64,
        available_minutes: i64,
    },
}

/// An RDM fits a window only if its estimated duration plus rollback time fits in what is
/// left of the window after its start.
pub fn check_fit(
    window_start: DateTime<Utc>,
    window_end: DateTime<Utc>,
    planned_start: DateTime<Utc>,
    duration: Duration,
    rollback: Duration,
) -> Result<(), FitError> {
    if planned_start < window_start || planned_start >= window_end {
        return Err(FitError::StartOutsideWindow);
    }
    let needed = duration + rollback;
    let available = window_end - planned_start;
    if needed > available {
        return Err(FitError::TooLong {
            needed_minutes: needed.num_minutes(),
            available_minutes: available.num_minutes(),
        });
    }
    Ok(())
}

/// A booked change may start at `now` only inside its window, from its planned start on,
/// with enough of the window left for the change and its rollback.
pub fn may_start_in_window(
    window_start: DateTime<Utc>,
    window_end: DateTime<Utc>,
    planned_start: DateTime<Utc>,
    duration: Duration,
    rollback: Duration,
    now: DateTime<Utc>,
) -> bool {
    now >= planned_start && check_fit(window_start, window_end, now, duration, rollback).is_ok()
}

impl FitError {
    pub fn code(self) -> &'static str {
        match self {
            FitError::WindowOver | FitError::StartInPast => "past",
            FitError::StartOutsideWindow => "outside_window",
            FitError::TooLong { .. } => "window_too_short",
        }
    }
}

/// Books a change into a window at `now`: it starts at `planned` (or as early as it can: the
/// window's start, or now if the window is running) and must fit in what is left after it.
pub fn book(
    window_start: DateTime<Utc>,
    window_end: DateTime<Utc>,
    planned: Option<DateTime<Utc>>,
    duration: Duration,
    rollback: Duration,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, FitError> {
    if window_end <= now {
        return Err(FitError::WindowOver);
    }
    let start = match planned {
        Some(p) if p < now => return Err(FitError::StartInPast),
        Some(p) => p,
        None => window_start.max(now),
    };
    check_fit(window_start, window_end, start, duration, rollback)?;
    Ok(start)
}

/// Two RDMs touching the same configuration item in one window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict<Item, Rdm> {
    pub item: Item,
    pub rdms: Vec<Rdm>,
}

/// Every configuration item booked by more than one RDM in the same window.
pub fn find_conflicts<Item: Ord + Copy, Rdm: Ord + Copy>(
    bookings: &[(Rdm, Vec<Item>)],
) -> Vec<Conflict<Item, Rdm>> {
    let mut by_item: BTreeMap<Item, Vec<Rdm>> = BTreeMap::new();
    for (rdm, items) in bookings {
        for item in items {
            let rdms = by_item.entry(*item).or_default();
            if !rdms.contains(rdm) {
                rdms.push(*rdm);
            }
        }
    }
    by_item
        .into_iter()
        .filter(|(_, rdms)| rdms.len() > 1)
        .map(|(item, mut rdms)| {
            rdms.sort();
            Conflict { item, rdms }
        })
        .collect()
}

/// The longest a moved meeting or a flexed window may last.
pub const MAX_OCCURRENCE_HOURS: i64 = 24;

/// Why one occurrence (a meeting or a window) cannot be moved as asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MoveError {
    #[error("the meeting is closed")]
    Closed,
    #[error("the meeting has already started")]
    Started,
    #[error("the window is over")]
    Over,
    #[error("the new start must be in the future")]
    StartInPast,
    #[error("must be after starts_at")]
    EndBeforeStart,
    #[error("an occurrence lasts at most {MAX_OCCURRENCE_HOURS} hours")]
    TooLong,
    #[error("the moved occurrence must end in the future")]
    EndInPast,
    #[error("an occurrence can be moved at most {MAX_MOVE_AHEAD_DAYS} days ahead")]
    TooFar,
}

/// How far ahead a meeting or window may be moved: a move, not a new policy.
pub const MAX_MOVE_AHEAD_DAYS: i64 = 366;

impl MoveError {
    /// The input field at fault; `None` when the occurrence's own state forbids the move.
    pub fn field(self) -> Option<&'static str> {
        match self {
            MoveError::Closed | MoveError::Started | MoveError::Over => None,
            MoveError::StartInPast | MoveError::TooFar => Some("starts_at"),
            MoveError::EndBeforeStart | MoveError::TooLong | MoveError::EndInPast => {
                Some("ends_at")
            }
        }
    }

    /// Stable code for clients.
    pub fn code(self) -> &'static str {
        match self {
            MoveError::Closed => "meeting_closed",
            MoveError::Started => "meeting_started",
            MoveError::Over => "window_over",
            MoveError::StartInPast | MoveError::EndInPast => "past",
            MoveError::EndBeforeStart | MoveError::TooLong | MoveError::TooFar => "range",
        }
    }
}

fn check_span(
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), MoveError> {
    if starts_at > now + Duration::days(MAX_MOVE_AHEAD_DAYS) {
        return Err(MoveError::TooFar);
    }
    if ends_at <= starts_at {
        return Err(MoveError::EndBeforeStart);
    }
    if ends_at - starts_at > Duration::hours(MAX_OCCURRENCE_HOURS) {
        return Err(MoveError::TooLong);
    }
    Ok(())
}

/// A meeting can be moved in advance only: still open, not started, to a future time.
pub fn check_meeting_move(
    open: bool,
    current_start: DateTime<Utc>,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), MoveError> {
    if !open {
        return Err(MoveError::Closed);
    }
    if current_start <= now {
        return Err(MoveError::Started);
    }
    if starts_at <= now {
        return Err(MoveError::StartInPast);
    }
    check_span(starts_at, ends_at, now)
}

/// A window occurrence can be flexed (moved or extended) until it is over, to a span that
/// still ends in the future.
pub fn check_window_flex(
    current_end: DateTime<Utc>,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), MoveError> {
    if current_end <= now {
        return Err(MoveError::Over);
    }
    check_span(starts_at, ends_at, now)?;
    if ends_at <= now {
        return Err(MoveError::EndInPast);
    }
    Ok(())
}

/// A holiday meeting still to be moved (SPEC §3.4: rescheduled in advance).
pub fn needs_reschedule(on_holiday: bool, rescheduled: bool, open: bool) -> bool {
    on_holiday && !rescheduled && open
}

/// When RDMs left undecided by a meeting count as ready again: its end, or now if it was
/// closed late, so they never land on a meeting whose cut-off has passed.
pub fn carry_over_ready_at(meeting_end: DateTime<Utc>, now: DateTime<Utc>) -> DateTime<Utc> {
    meeting_end.max(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sp(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        local_to_utc(
            chrono_tz::America::Sao_Paulo,
            NaiveDate::from_ymd_opt(y, m, d)
                .unwrap()
                .and_hms_opt(h, min, 0)
                .unwrap(),
        )
    }

    #[test]
    fn default_meetings_are_tuesday_afternoons_with_a_ten_oclock_cutoff() {
        let p = CalendarPolicy::default_brazil();
        let ms = p.meetings(sp(2026, 11, 21, 0, 0), sp(2026, 12, 9, 0, 0), |_| false);
        let starts: Vec<_> = ms.iter().map(|m| m.occurrence.starts_at).collect();
        assert_eq!(
            starts,
            vec![
                sp(2026, 11, 24, 14, 0),
                sp(2026, 12, 1, 14, 0),
                sp(2026, 12, 8, 14, 0)
            ]
        );
        assert_eq!(ms[0].occurrence.ends_at, sp(2026, 11, 24, 16, 0));
        assert_eq!(ms[0].cutoff_at, sp(2026, 11, 24, 10, 0));
        assert_eq!(
            ms[0].occurrence.original_date,
            NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()
        );
        // Sao Paulo is UTC-3: 14:00 local is 17:00Z.
        assert_eq!(
            ms[0].occurrence.starts_at.to_rfc3339(),
            "2026-11-24T17:00:00+00:00"
        );
    }

    #[test]
    fn meetings_on_holidays_are_flagged() {
        let p = CalendarPolicy::default_brazil();
        let carnival = NaiveDate::from_ymd_opt(2027, 2, 9).unwrap();
        let ms = p.meetings(sp(2027, 2, 1, 0, 0), sp(2027, 2, 20, 0, 0), |d| {
            d == carnival
        });
        let flagged: Vec<_> = ms
            .iter()
            .filter(|m| m.on_holiday)
            .map(|m| m.occurrence.original_date)
            .collect();
        assert_eq!(flagged, vec![carnival]);
        assert_eq!(ms.len(), 3);
    }

    #[test]
    fn windows_are_thursday_early_mornings_and_running_ones_are_included() {
        let p = CalendarPolicy::default_brazil();
        let w = p.windows(sp(2026, 11, 26, 3, 0), sp(2026, 12, 4, 0, 0));
        assert_eq!(w.len(), 2);
        assert_eq!(
            (w[0].starts_at, w[0].ends_at),
            (sp(2026, 11, 26, 0, 0), sp(2026, 11, 26, 6, 0))
        );
        assert_eq!(w[1].starts_at, sp(2026, 12, 3, 0, 0));
    }

    #[test]
    fn the_cutoff_is_strict() {
        let p = CalendarPolicy::default_brazil();
        let ms = p.meetings(sp(2026, 11, 21, 0, 0), sp(2026, 12, 9, 0, 0), |_| false);
        let slots: Vec<_> = ms
            .iter()
            .map(|m| AgendaSlot {
                id: m.occurrence.original_date,
                cutoff_at: m.cutoff_at,
            })
            .collect();
        let d = |day| NaiveDate::from_ymd_opt(2026, if day >= 24 { 11 } else { 12 }, day).unwrap();
        assert_eq!(agenda_meeting(sp(2026, 11, 24, 9, 59), &slots), Some(d(24)));
        assert_eq!(agenda_meeting(sp(2026, 11, 24, 10, 0), &slots), Some(d(1)));
        assert_eq!(
            agenda_meeting(sp(2026, 11, 21, 12, 0), &slots),
            Some(NaiveDate::from_ymd_opt(2026, 11, 24).unwrap())
        );
        assert_eq!(agenda_meeting(sp(2026, 12, 8, 10, 0), &slots), None);
    }

    #[test]
    fn a_meeting_moved_to_the_morning_closes_its_agenda_at_its_start() {
        let tz = chrono_tz::America::Sao_Paulo;
        let start = sp(2026, 11, 25, 9, 0);
        assert_eq!(
            cutoff_for(tz, NaiveTime::from_hms_opt(10, 0, 0).unwrap(), start),
            start
        );
    }

    #[test]
    fn fit_needs_duration_plus_rollback_within_what_is_left() {
        let (ws, we) = (sp(2026, 11, 26, 0, 0), sp(2026, 11, 26, 6, 0));
        let m = Duration::minutes;
        assert_eq!(check_fit(ws, we, ws, m(300), m(60)), Ok(()));
        assert_eq!(
            check_fit(ws, we, ws, m(300), m(61)),
            Err(FitError::TooLong {
                needed_minutes: 361,
                available_minutes: 360
            })
        );
        assert_eq!(
            check_fit(ws, we, sp(2026, 11, 26, 2, 0), m(200), m(60)),
            Err(FitError::TooLong {
                needed_minutes: 260,
                available_minutes: 240
            })
        );
        assert_eq!(
            check_fit(ws, we, we, m(1), m(0)),
            Err(FitError::StartOutsideWindow)
        );
        assert_eq!(
            check_fit(ws, we, ws - m(1), m(1), m(0)),
            Err(FitError::StartOutsideWindow)
        );
    }

    #[test]
    fn conflicts_are_shared_items() {
        let bookings = vec![
            (1, vec![10, 11]),
            (2, vec![11, 12]),
            (3, vec![13]),
            (4, vec![11, 13]),
        ];
        let c = find_conflicts(&bookings);
        assert_eq!(
            c,
            vec![
                Conflict {
                    item: 11,
                    rdms: vec![1, 2, 4]
                },
                Conflict {
                    item: 13,
                    rdms: vec![3, 4]
                }
            ]
        );
        assert!(find_conflicts::<i32, i32>(&[(1, vec![1]), (2, vec![2])]).is_empty());
    }

    #[test]
    fn policy_refuses_a_cutoff_after_the_meeting() {
        let p = CalendarPolicy::default_brazil();
        let late = NaiveTime::from_hms_opt(15, 0, 0).unwrap();
        assert_eq!(
            CalendarPolicy::new(p.tz(), p.meeting(), late, p.window()),
            Err(ScheduleError::CutoffAfterStart)
        );
        assert!(WeeklySlot::new(Weekday::Mon, late, 0).is_err());
        assert!(parse_weekday("funday").is_err());
        assert_eq!(parse_weekday("tuesday").unwrap(), Weekday::Tue);
    }

    #[test]
    fn moving_occurrences() {
        let now = sp(2026, 11, 23, 9, 0);
        let tue = sp(2026, 11, 24, 14, 0);
        let h = Duration::hours;
        assert_eq!(
            check_meeting_move(true, tue, tue + h(24), tue + h(26), now),
            Ok(())
        );
        assert_eq!(
            check_meeting_move(false, tue, tue + h(24), tue + h(26), now),
            Err(MoveError::Closed)
        );
        assert_eq!(
            check_meeting_move(true, now, tue, tue + h(2), now),
            Err(MoveError::Started)
        );
        assert_eq!(
            check_meeting_move(true, tue, now, now + h(2), now),
            Err(MoveError::StartInPast)
        );
        assert_eq!(
            check_meeting_move(true, tue, tue, tue, now),
            Err(MoveError::EndBeforeStart)
        );
        assert_eq!(
            check_meeting_move(true, tue, tue, tue + h(25), now),
            Err(MoveError::TooLong)
        );
        assert_eq!(MoveError::TooLong.field(), Some("ends_at"));
        assert_eq!(MoveError::Started.field(), None);
        let thu = sp(2026, 11, 26, 0, 0);
        assert_eq!(check_window_flex(thu + h(6), thu, thu + h(8), now), Ok(()));
        assert_eq!(
            check_window_flex(now, thu, thu + h(8), now),
            Err(MoveError::Over)
        );
        assert_eq!(
            check_window_flex(thu + h(6), now - h(3), now - h(1), now),
            Err(MoveError::EndInPast)
        );
        assert!(needs_reschedule(true, false, true));
        assert!(!needs_reschedule(true, true, true));
        assert!(!needs_reschedule(true, false, false));
        assert_eq!(carry_over_ready_at(tue + h(2), now), tue + h(2));
        assert_eq!(carry_over_ready_at(now, tue + h(3)), tue + h(3));
    }

    #[test]
    fn starting_inside_the_window() {
        let (ws, we) = (sp(2026, 11, 26, 0, 0), sp(2026, 11, 26, 6, 0));
        let m = Duration::minutes;
        let ok = |now| may_start_in_window(ws, we, ws + m(60), m(120), m(60), now);
        assert!(!ok(ws), "before the planned start");
        assert!(ok(ws + m(60)));
        assert!(ok(ws + m(180)), "exactly enough left");
        assert!(!ok(ws + m(181)), "not enough left for the rollback");
        assert!(!ok(we));
    }

    #[test]
    fn booking_counts_from_now_in_a_running_window() {
        let (ws, we) = (sp(2026, 11, 26, 0, 0), sp(2026, 11, 26, 6, 0));
        let m = Duration::minutes;
        let before = sp(2026, 11, 25, 9, 0);
        assert_eq!(book(ws, we, None, m(300), m(60), before), Ok(ws));
        // At 05:00 only an hour is left, whatever the window's start says.
        let late = sp(2026, 11, 26, 5, 0);
        assert_eq!(
            book(ws, we, None, m(300), m(60), late),
            Err(FitError::TooLong {
                needed_minutes: 360,
                available_minutes: 60
            })
        );
        assert_eq!(book(ws, we, None, m(30), m(30), late), Ok(late));
        assert_eq!(
            book(ws, we, Some(ws), m(30), m(30), late),
            Err(FitError::StartInPast)
        );
        assert_eq!(
            book(ws, we, None, m(1), m(0), we),
            Err(FitError::WindowOver)
        );
    }
}
