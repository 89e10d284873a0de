//! The `until` filter value, validated exactly the way the Docker daemon's `GetTimestamp` reads it.
//!
//! The daemon accepts a Go duration (relative to its own clock), a date or date-time in one of a
//! few RFC 3339-like layouts (zoned, or in the daemon's local zone), or a Unix `seconds[.fraction]`
//! timestamp. Checking it here makes a typo fail before any host is contacted; the raw text is
//! kept and sent verbatim, so the daemon sees exactly what the user wrote.

use std::fmt;

use jiff::{SignedDuration, Timestamp, civil::DateTime, tz::Offset};

/// What every generic rejection tells the user to write instead.
const EXPECTED: &str = "expected a Go duration like 10m or 1h30m, a Unix timestamp, \
                        or a date like 2006-01-02 or 2006-01-02T15:04:05 (RFC3339)";

/// A validated `until` value, kept as the user wrote it plus what it means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Until {
    raw: String,
    kind: UntilKind,
}

/// The meaning of an `until` value, as the daemon will interpret it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UntilKind {
    /// A Go duration, subtracted from the daemon's clock. Negative values lie in the future
    /// (`-1h` = one hour from now). Go's `time.Duration` is a signed 64-bit nanosecond count;
    /// [`SignedDuration`] holds every such value exactly. (Daemons up to 28.x truncate the
    /// resulting cutoff to whole seconds; 29.x keeps nanoseconds.)
    Duration(SignedDuration),
    /// An instant: a date or date-time with an explicit zone (`Z` or `±hh:mm`), or a Unix timestamp.
    Instant(Timestamp),
    /// A date or date-time without a zone: the daemon reads it in its own local zone (a fixed
    /// offset equal to the daemon's current offset).
    LocalDateTime(DateTime),
}

impl Until {
    /// Parses `value` with the daemon's rules (moby `api/types/time` `GetTimestamp`, 29.x
    /// `timestamp.Parse`):
    ///
    /// 1. anything but `"0"` that Go's `time.ParseDuration` accepts is a duration (`1h30m`,
    ///    `1.5h`, `-1h`, `300ms`; units `ns us µs μs ms s m h`, no `d`/`w`, no spaces);
    /// 2. otherwise a layout is chosen from the text: "zoned" if it contains `Z`, `z` or `+`, or
    ///    exactly three `-`; a `.` selects the nanosecond layouts, a `T` selects a layout by its
    ///    number of `:` (hour, hour:minute, or full time), anything else is a plain date;
    /// 3. if that layout does not fit and the value contains `-`, it is an error; otherwise it
    ///    must be a Unix timestamp `seconds[.fraction]` (`"0"` is the epoch).
    ///
    /// Two points are stricter than the daemon and follow docker's documentation instead: a Unix
    /// timestamp takes no leading `+` and at most nine fraction digits. Instants outside jiff's
    /// range (about years -9999 to 9999) are rejected as out of range.
    pub fn parse(value: &str) -> Result<Until, UntilError> {
        match classify(value) {
            Ok(kind) => Ok(Until {
                raw: value.to_string(),
                kind,
            }),
            Err(failure) => Err(explain(value, failure)),
        }
    }

    /// The value exactly as written: this is what is sent to the daemon.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// What the value means.
    pub fn kind(&self) -> &UntilKind {
        &self.kind
    }

    /// Whether the value is a duration relative to the daemon's clock (the only form the build
    /// cache accepts on older daemons).
    pub fn is_duration(&self) -> bool {
        matches!(self.kind, UntilKind::Duration(_))
    }
}

impl fmt::Display for Until {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

/// Why an `until` value was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UntilError {
    /// The value is empty.
    #[error("invalid until value \"\": the value is empty; {expected}", expected = EXPECTED)]
    Empty,
    /// A duration with a `d` or `w` unit, which Go does not have.
    #[error("invalid until value {value:?}: docker accepts no d/w units: use {suggestion}")]
    DayOrWeekUnit { value: String, suggestion: String },
    /// Whitespace inside the value.
    #[error("invalid until value {value:?}: spaces are not allowed: write {suggestion}")]
    Whitespace { value: String, suggestion: String },
    /// A duration with upper-case units (`1H`).
    #[error("invalid until value {value:?}: Go duration units are lower-case: write {suggestion}")]
    UpperCaseUnit { value: String, suggestion: String },
    /// `-5` and the like: the daemon reads a leading `-` as a broken date.
    #[error(
        "invalid until value {value:?}: Unix timestamps cannot be negative; \
         for a cutoff in the future use a negative duration such as -1h"
    )]
    NegativeTimestamp { value: String },
    /// The value was read as a date in `layout` and does not fit it.
    #[error("invalid until value {value:?}: {problem} (read with layout {layout})")]
    Date {
        value: String,
        layout: &'static str,
        problem: DateProblem,
    },
    /// A Unix timestamp with more than nine fraction digits.
    #[error(
        "invalid until value {value:?}: a Unix timestamp takes at most 9 fraction digits \
         (nanoseconds), e.g. 1700000000.123456789"
    )]
    FractionTooLong { value: String },
    /// A well-formed instant that lies outside the representable range.
    #[error("invalid until value {value:?}: the instant is out of range (years -9999 to 9999)")]
    OutOfRange { value: String },
    /// Nothing matched.
    #[error("invalid until value {value:?}: {expected}", expected = EXPECTED)]
    Unrecognized { value: String },
}

/// Where a date-like value stops fitting its layout (Go's `time.Parse` errors, reworded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DateProblem {
    /// The text at `found` is not what the layout needs next.
    Expected { what: &'static str, found: String },
    /// The layout is complete but text remains.
    ExtraText(String),
    /// A field parsed but its value is impossible ("month", "day", "hour", ...).
    OutOfRange(&'static str),
}

impl fmt::Display for DateProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DateProblem::Expected { what, found } if found.is_empty() => {
                write!(f, "expected {what}, but the value ends there")
            }
            DateProblem::Expected { what, found } => write!(f, "expected {what} at {found:?}"),
            DateProblem::ExtraText(rest) => write!(f, "unexpected text {rest:?} at the end"),
            DateProblem::OutOfRange(field) => write!(f, "{field} out of range"),
        }
    }
}

/// Internal reason for a rejection, before hints are added.
enum Failure {
    Date {
        layout: &'static str,
        problem: DateProblem,
    },
    FractionTooLong,
    OutOfRange,
    Unrecognized,
}

/// The daemon's decision procedure, step by step.
fn classify(value: &str) -> Result<UntilKind, Failure> {
    if value != "0"
        && let Some(nanos) = parse_go_duration(value, GO_UNITS)
    {
        return Ok(UntilKind::Duration(SignedDuration::from_nanos(nanos)));
    }
    let layout = choose_layout(value);
    match parse_layout(layout, value.as_bytes()) {
        Ok(fields) => return fields.into_kind().ok_or(Failure::OutOfRange),
        Err(problem) if value.contains('-') => {
            return Err(Failure::Date {
                layout: layout.name,
                problem,
            });
        }
        Err(_) => {}
    }
    parse_unix(value).map(UntilKind::Instant)
}

/// Turns a failure into the most helpful error for what the user probably meant.
fn explain(value: &str, failure: Failure) -> UntilError {
    let owned = || value.to_string();
    if value.is_empty() {
        return UntilError::Empty;
    }
    if value.chars().any(char::is_whitespace)
        && let Some(suggestion) = whitespace_suggestion(value)
    {
        return UntilError::Whitespace {
            value: owned(),
            suggestion,
        };
    }
    if let Some(suggestion) = day_week_suggestion(value) {
        return UntilError::DayOrWeekUnit {
            value: owned(),
            suggestion,
        };
    }
    let lower = value.to_lowercase();
    if lower != value && parse_go_duration(&lower, GO_UNITS).is_some() {
        return UntilError::UpperCaseUnit {
            value: owned(),
            suggestion: lower,
        };
    }
    if let Some(unsigned) = value.strip_prefix('-')
        && parse_unix(unsigned).is_ok()
    {
        return UntilError::NegativeTimestamp { value: owned() };
    }
    match failure {
        // A date error only reads well when the value looks like a date at all.
        Failure::Date { layout, problem } if value.starts_with(|c: char| c.is_ascii_digit()) => {
            UntilError::Date {
                value: owned(),
                layout,
                problem,
            }
        }
        Failure::FractionTooLong => UntilError::FractionTooLong { value: owned() },
        Failure::OutOfRange => UntilError::OutOfRange { value: owned() },
        Failure::Date { .. } | Failure::Unrecognized => UntilError::Unrecognized { value: owned() },
    }
}

/// `2020-01-01 10:00` → `2020-01-01T10:00`; `1h 30m` → `1h30m`; `7 d` → `168h`.
fn whitespace_suggestion(value: &str) -> Option<String> {
    let words: Vec<&str> = value.split_whitespace().collect();
    if let [date, time] = words.as_slice() {
        let joined = format!("{date}T{time}");
        if Until::parse(&joined).is_ok_and(|u| !u.is_duration()) {
            return Some(joined);
        }
    }
    let joined = words.concat();
    match Until::parse(&joined) {
        Ok(until) if until.is_duration() => Some(joined),
        Err(UntilError::DayOrWeekUnit { suggestion, .. }) => Some(suggestion),
        _ => None,
    }
}

/// `7d` → `168h`, `1w` → `168h`, `1d12h` → `36h`: the same span in units Go knows.
fn day_week_suggestion(value: &str) -> Option<String> {
    let lower = value.to_lowercase();
    if !lower.contains(['d', 'w']) {
        return None;
    }
    parse_go_duration(&lower, GO_UNITS_WITH_DAYS).map(format_duration)
}

/// A compact Go duration string: `168h`, `1h30m`, `-2h0.5s`, `0s`.
fn format_duration(nanos: i64) -> String {
    const SECOND: u64 = 1_000_000_000;
    let mut out = String::new();
    if nanos < 0 {
        out.push('-');
    }
    let n = nanos.unsigned_abs();
    let (hours, minutes) = (n / (3600 * SECOND), n / (60 * SECOND) % 60);
    let (seconds, sub) = (n / SECOND % 60, n % SECOND);
    if hours > 0 {
        out.push_str(&format!("{hours}h"));
    }
    if minutes > 0 {
        out.push_str(&format!("{minutes}m"));
    }
    if sub > 0 {
        let fraction = format!("{sub:09}");
        out.push_str(&format!("{seconds}.{}s", fraction.trim_end_matches('0')));
    } else if seconds > 0 || n == 0 {
        out.push_str(&format!("{seconds}s"));
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Go's time.ParseDuration
// ---------------------------------------------------------------------------------------------

/// Unit names and their length in nanoseconds.
type UnitTable = &'static [(&'static str, u64)];

/// Go's `unitMap`.
const GO_UNITS: UnitTable = &[
    ("ns", 1),
    ("us", 1_000),
    ("µs", 1_000), // U+00B5 micro sign
    ("μs", 1_000), // U+03BC Greek mu
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
];

/// Go's units plus days and weeks: only used to suggest a fix for `7d` / `1w`.
const GO_UNITS_WITH_DAYS: UnitTable = &[
    ("ns", 1),
    ("us", 1_000),
    ("µs", 1_000),
    ("μs", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
    ("d", 86_400_000_000_000),
    ("w", 604_800_000_000_000),
];

/// A port of Go's `time.ParseDuration`: `[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+`, or a signed `0`.
/// Returns the duration in nanoseconds, or `None` where Go returns an error.
fn parse_go_duration(value: &str, units: UnitTable) -> Option<i64> {
    const LIMIT: u64 = 1 << 63;
    let mut s = value.as_bytes();
    let mut negative = false;
    if let Some((&sign, rest)) = s.split_first()
        && (sign == b'-' || sign == b'+')
    {
        negative = sign == b'-';
        s = rest;
    }
    if s == b"0" {
        return Some(0);
    }
    if s.is_empty() {
        return None;
    }
    let mut total: u64 = 0;
    while let Some(&first) = s.first() {
        if !(first == b'.' || first.is_ascii_digit()) {
            return None;
        }
        let before = s.len();
        let (whole, rest) = leading_int(s)?;
        s = rest;
        let pre = before != s.len();

        let (mut fraction, mut scale, mut post) = (0u64, 1f64, false);
        if let Some(rest) = s.strip_prefix(b".") {
            let (f, sc, rest_after) = leading_fraction(rest);
            post = rest.len() != rest_after.len();
            (fraction, scale, s) = (f, sc, rest_after);
        }
        if !pre && !post {
            return None; // no digits, e.g. ".s"
        }

        let unit_len = s
            .iter()
            .position(|&c| c == b'.' || c.is_ascii_digit())
            .unwrap_or(s.len());
        if unit_len == 0 {
            return None; // missing unit
        }
        let (unit_name, rest) = s.split_at(unit_len);
        s = rest;
        let unit = units
            .iter()
            .find(|(name, _)| name.as_bytes() == unit_name)
            .map(|&(_, nanos)| nanos)?;

        if whole > LIMIT / unit {
            return None;
        }
        let mut v = whole * unit;
        if fraction > 0 {
            // Go: v += uint64(float64(f) * (float64(unit) / scale)), truncating.
            v = v.checked_add((fraction as f64 * (unit as f64 / scale)) as u64)?;
            if v > LIMIT {
                return None;
            }
        }
        total = total.checked_add(v)?;
        if total > LIMIT {
            return None;
        }
    }
    if negative {
        i64::try_from(-i128::from(total)).ok()
    } else {
        i64::try_from(total).ok()
    }
}

/// Go's `leadingInt`: the leading `[0-9]*`, `None` on overflow past 2^63.
fn leading_int(s: &[u8]) -> Option<(u64, &[u8])> {
    let digits = s.iter().take_while(|c| c.is_ascii_digit()).count();
    let mut x: u64 = 0;
    for &c in &s[..digits] {
        if x > (1 << 63) / 10 {
            return None;
        }
        x = x * 10 + u64::from(c - b'0');
        if x > 1 << 63 {
            return None;
        }
    }
    Some((x, &s[digits..]))
}

/// Go's `leadingFraction`: the leading `[0-9]*` as value and scale; stops gaining precision
/// (but keeps consuming digits) on overflow.
fn leading_fraction(s: &[u8]) -> (u64, f64, &[u8]) {
    let digits = s.iter().take_while(|c| c.is_ascii_digit()).count();
    let (mut x, mut scale, mut overflow) = (0u64, 1f64, false);
    for &c in &s[..digits] {
        if overflow {
            continue;
        }
        if x > ((1 << 63) - 1) / 10 {
            overflow = true;
            continue;
        }
        let y = x * 10 + u64::from(c - b'0');
        if y > 1 << 63 {
            overflow = true;
            continue;
        }
        x = y;
        scale *= 10.0;
    }
    (x, scale, &s[digits..])
}

// ---------------------------------------------------------------------------------------------
// The date layouts and a port of the parts of Go's time.Parse they use
// ---------------------------------------------------------------------------------------------

/// One element of a Go layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunk {
    /// A literal byte (`-`, `T`, `:`).
    Lit(u8),
    /// `2006`: exactly four digits.
    Year,
    /// `01`: two digits, 1-12.
    Month,
    /// `02`: two digits (validated against the month at the end).
    Day,
    /// `15`: one or two digits, 0-23 (Go accepts a single-digit hour here).
    Hour,
    /// `04`: two digits, 0-59.
    Minute,
    /// `05`: two digits, 0-59; may be followed by `.digits` / `,digits` even without a fraction
    /// in the layout.
    Second,
    /// `.999999999`: optional `.`/`,` and any number of digits (truncated to nanoseconds).
    Fraction,
    /// `Z07:00`: `Z`, or `±hh:mm`.
    Zone,
}

/// A Go layout: its name (as in Go) and its chunks.
struct Layout {
    name: &'static str,
    chunks: &'static [Chunk],
}

use Chunk::{Day, Fraction, Hour, Lit, Minute, Month, Second, Year, Zone};

const DATE: [Chunk; 5] = [Year, Lit(b'-'), Month, Lit(b'-'), Day];

const fn date_then<const N: usize, const M: usize>(tail: [Chunk; N]) -> [Chunk; M] {
    let mut out = [Lit(b'?'); M];
    let mut i = 0;
    while i < DATE.len() {
        out[i] = DATE[i];
        i += 1;
    }
    let mut j = 0;
    while j < N {
        out[i + j] = tail[j];
        j += 1;
    }
    out
}

const RFC3339_NANO: Layout = Layout {
    name: "2006-01-02T15:04:05.999999999Z07:00",
    chunks: &date_then::<8, 13>([
        Lit(b'T'),
        Hour,
        Lit(b':'),
        Minute,
        Lit(b':'),
        Second,
        Fraction,
        Zone,
    ]),
};
const RFC3339_NANO_LOCAL: Layout = Layout {
    name: "2006-01-02T15:04:05.999999999",
    chunks: &date_then::<7, 12>([
        Lit(b'T'),
        Hour,
        Lit(b':'),
        Minute,
        Lit(b':'),
        Second,
        Fraction,
    ]),
};
const RFC3339: Layout = Layout {
    name: "2006-01-02T15:04:05Z07:00",
    chunks: &date_then::<7, 12>([Lit(b'T'), Hour, Lit(b':'), Minute, Lit(b':'), Second, Zone]),
};
const RFC3339_LOCAL: Layout = Layout {
    name: "2006-01-02T15:04:05",
    chunks: &date_then::<6, 11>([Lit(b'T'), Hour, Lit(b':'), Minute, Lit(b':'), Second]),
};
const HOUR_MINUTE_ZONED: Layout = Layout {
    name: "2006-01-02T15:04Z07:00",
    chunks: &date_then::<5, 10>([Lit(b'T'), Hour, Lit(b':'), Minute, Zone]),
};
const HOUR_MINUTE_LOCAL: Layout = Layout {
    name: "2006-01-02T15:04",
    chunks: &date_then::<4, 9>([Lit(b'T'), Hour, Lit(b':'), Minute]),
};
const HOUR_ZONED: Layout = Layout {
    name: "2006-01-02T15Z07:00",
    chunks: &date_then::<3, 8>([Lit(b'T'), Hour, Zone]),
};
const HOUR_LOCAL: Layout = Layout {
    name: "2006-01-02T15",
    chunks: &date_then::<2, 7>([Lit(b'T'), Hour]),
};
const DATE_WITH_ZONE: Layout = Layout {
    name: "2006-01-02Z07:00",
    chunks: &date_then::<1, 6>([Zone]),
};
const DATE_LOCAL: Layout = Layout {
    name: "2006-01-02",
    chunks: &DATE,
};

/// `GetTimestamp`'s layout choice, literally.
fn choose_layout(value: &str) -> &'static Layout {
    let zoned = value.contains(['Z', 'z', '+']) || value.matches('-').count() == 3;
    if value.contains('.') {
        return if zoned {
            &RFC3339_NANO
        } else {
            &RFC3339_NANO_LOCAL
        };
    }
    if value.contains('T') {
        let mut colons = value.matches(':').count();
        // A ±hh:mm offset brings one colon of its own.
        if zoned && !value.contains(['Z', 'z']) && colons > 0 {
            colons -= 1;
        }
        return match (zoned, colons) {
            (false, 0) => &HOUR_LOCAL,
            (false, 1) => &HOUR_MINUTE_LOCAL,
            (false, _) => &RFC3339_LOCAL,
            (true, 0) => &HOUR_ZONED,
            (true, 1) => &HOUR_MINUTE_ZONED,
            (true, _) => &RFC3339,
        };
    }
    if zoned { &DATE_WITH_ZONE } else { &DATE_LOCAL }
}

/// The fields read from a layout.
struct Fields {
    year: i16,
    month: i8,
    day: i8,
    hour: i8,
    minute: i8,
    second: i8,
    nanos: i32,
    /// Seconds east of UTC; `None` for local layouts.
    offset: Option<i32>,
}

impl Fields {
    /// `None` when the instant is outside jiff's range.
    fn into_kind(self) -> Option<UntilKind> {
        // Every field but the day was range-checked while parsing, and the day in parse_layout.
        let dt = DateTime::new(
            self.year,
            self.month,
            self.day,
            self.hour,
            self.minute,
            self.second,
            self.nanos,
        )
        .ok()?;
        match self.offset {
            None => Some(UntilKind::LocalDateTime(dt)),
            Some(seconds) => {
                let offset = Offset::from_seconds(seconds).ok()?;
                offset.to_timestamp(dt).ok().map(UntilKind::Instant)
            }
        }
    }
}

/// Go's `getnum`: two digits, or one digit when `fixed` is false.
fn getnum(s: &[u8], fixed: bool) -> Option<(u8, &[u8])> {
    match s {
        [a, b, rest @ ..] if a.is_ascii_digit() && b.is_ascii_digit() => {
            Some(((a - b'0') * 10 + (b - b'0'), rest))
        }
        [a, rest @ ..] if a.is_ascii_digit() && !fixed => Some((a - b'0', rest)),
        _ => None,
    }
}

/// Go's `parseNanoseconds` for a run of digits: at most nine are used, the rest is ignored.
fn nanos_from_digits(digits: &[u8]) -> i32 {
    let mut nanos: i32 = 0;
    for i in 0..9 {
        let d = digits.get(i).map_or(0, |c| i32::from(c - b'0'));
        nanos = nanos * 10 + d;
    }
    nanos
}

/// The number of leading ASCII digits.
fn digit_run(s: &[u8]) -> usize {
    s.iter().take_while(|c| c.is_ascii_digit()).count()
}

/// A `.digits` or `,digits` fraction at the start of `s`: returns (nanos, rest).
fn fraction_at(s: &[u8]) -> Option<(i32, &[u8])> {
    match s {
        [sep, rest @ ..] if (*sep == b'.' || *sep == b',') && digit_run(rest) > 0 => {
            let n = digit_run(rest);
            Some((nanos_from_digits(&rest[..n]), &rest[n..]))
        }
        _ => None,
    }
}

fn expected(what: &'static str, found: &[u8]) -> DateProblem {
    DateProblem::Expected {
        what,
        found: String::from_utf8_lossy(found).into_owned(),
    }
}

/// A port of Go's `time.parse` restricted to the chunks above, with Go's leniencies (a
/// single-digit hour, a fraction after the seconds of a layout without one, `,` as a decimal
/// separator, zone offsets up to 24:60).
fn parse_layout(layout: &Layout, value: &[u8]) -> Result<Fields, DateProblem> {
    let mut fields = Fields {
        year: 0,
        month: 1,
        day: 1,
        hour: 0,
        minute: 0,
        second: 0,
        nanos: 0,
        offset: None,
    };
    let mut rest = value;
    for (i, chunk) in layout.chunks.iter().enumerate() {
        match *chunk {
            Lit(c) => {
                rest = match rest.split_first() {
                    Some((&got, tail)) if got == c => tail,
                    _ => {
                        let what = match c {
                            b'-' => "'-'",
                            b'T' => "'T'",
                            _ => "':'",
                        };
                        return Err(expected(what, rest));
                    }
                };
            }
            Year => {
                let Some(digits) = rest.get(..4).filter(|d| d.iter().all(u8::is_ascii_digit))
                else {
                    return Err(expected("a 4-digit year", rest));
                };
                fields.year = digits
                    .iter()
                    .fold(0i16, |acc, d| acc * 10 + i16::from(d - b'0'));
                rest = &rest[4..];
            }
            Month => {
                let (m, tail) =
                    getnum(rest, true).ok_or_else(|| expected("a 2-digit month", rest))?;
                if !(1..=12).contains(&m) {
                    return Err(DateProblem::OutOfRange("month"));
                }
                (fields.month, rest) = (m as i8, tail);
            }
            Day => {
                let (d, tail) =
                    getnum(rest, true).ok_or_else(|| expected("a 2-digit day", rest))?;
                (fields.day, rest) = (d as i8, tail);
            }
            Hour => {
                let (h, tail) = getnum(rest, false).ok_or_else(|| expected("an hour", rest))?;
                if h >= 24 {
                    return Err(DateProblem::OutOfRange("hour"));
                }
                (fields.hour, rest) = (h as i8, tail);
            }
            Minute => {
                let (m, tail) =
                    getnum(rest, true).ok_or_else(|| expected("2-digit minutes", rest))?;
                if m >= 60 {
                    return Err(DateProblem::OutOfRange("minute"));
                }
                (fields.minute, rest) = (m as i8, tail);
            }
            Second => {
                let (s, tail) =
                    getnum(rest, true).ok_or_else(|| expected("2-digit seconds", rest))?;
                if s >= 60 {
                    return Err(DateProblem::OutOfRange("second"));
                }
                (fields.second, rest) = (s as i8, tail);
                // Go reads a fraction here when the layout has none of its own.
                if layout.chunks.get(i + 1) != Some(&Fraction)
                    && let Some((nanos, tail)) = fraction_at(rest)
                {
                    (fields.nanos, rest) = (nanos, tail);
                }
            }
            Fraction => {
                // Optional: Go treats a missing fraction as zero.
                if let Some((nanos, tail)) = fraction_at(rest) {
                    (fields.nanos, rest) = (nanos, tail);
                }
            }
            Zone => {
                if let Some(tail) = rest.strip_prefix(b"Z") {
                    (fields.offset, rest) = (Some(0), tail);
                    continue;
                }
                let offset_problem = || expected("Z or a ±hh:mm offset", rest);
                let (Some(&sign), Some(hh), Some(b':'), Some(mm)) =
                    (rest.first(), rest.get(1..3), rest.get(3), rest.get(4..6))
                else {
                    return Err(offset_problem());
                };
                let (Some((hours, _)), Some((minutes, _))) = (getnum(hh, true), getnum(mm, true))
                else {
                    return Err(offset_problem());
                };
                if hours > 24 {
                    return Err(DateProblem::OutOfRange("time zone offset hour"));
                }
                if minutes > 60 {
                    return Err(DateProblem::OutOfRange("time zone offset minute"));
                }
                let seconds = (i32::from(hours) * 60 + i32::from(minutes)) * 60;
                fields.offset = Some(match sign {
                    b'+' => seconds,
                    b'-' => -seconds,
                    _ => return Err(offset_problem()),
                });
                rest = &rest[6..];
            }
        }
    }
    if !rest.is_empty() {
        return Err(DateProblem::ExtraText(
            String::from_utf8_lossy(rest).into_owned(),
        ));
    }
    // Go validates the day against the month last.
    if jiff::civil::Date::new(fields.year, fields.month, fields.day).is_err() {
        return Err(DateProblem::OutOfRange("day"));
    }
    Ok(fields)
}

/// Unix `seconds[.fraction]`: digits only, at most nine fraction digits.
fn parse_unix(value: &str) -> Result<Timestamp, Failure> {
    let (seconds, fraction) = match value.split_once('.') {
        Some((s, f)) => (s, Some(f)),
        None => (value, None),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    if !all_digits(seconds) {
        return Err(Failure::Unrecognized);
    }
    let seconds: i64 = seconds.parse().map_err(|_| Failure::Unrecognized)?;
    let nanos = match fraction {
        None => 0,
        Some(f) if !all_digits(f) => return Err(Failure::Unrecognized),
        Some(f) if f.len() > 9 => return Err(Failure::FractionTooLong),
        Some(f) => nanos_from_digits(f.as_bytes()),
    };
    Timestamp::new(seconds, nanos).map_err(|_| Failure::OutOfRange)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn kind(value: &str) -> UntilKind {
        match Until::parse(value) {
            Ok(until) => *until.kind(),
            Err(err) => panic!("{value:?} should parse: {err}"),
        }
    }

    fn err(value: &str) -> UntilError {
        match Until::parse(value) {
            Ok(until) => panic!("{value:?} should be rejected, got {:?}", until.kind()),
            Err(err) => err,
        }
    }

    fn dur(secs: i64, nanos: i32) -> UntilKind {
        UntilKind::Duration(SignedDuration::new(secs, nanos))
    }

    fn instant(rfc3339: &str) -> UntilKind {
        UntilKind::Instant(rfc3339.parse().expect("test timestamp"))
    }

    fn local(y: i16, mo: i8, d: i8, h: i8, mi: i8, s: i8, ns: i32) -> UntilKind {
        UntilKind::LocalDateTime(date(y, mo, d).at(h, mi, s, ns))
    }

    #[test]
    fn until_accepts_go_durations() {
        assert_eq!(kind("1h30m"), dur(5400, 0));
        assert_eq!(kind("1.5h"), dur(5400, 0));
        assert_eq!(kind("300ms"), dur(0, 300_000_000));
        assert_eq!(kind("240h"), dur(864_000, 0));
        assert_eq!(kind("10m"), dur(600, 0));
        assert_eq!(kind("24h"), dur(86_400, 0));
        assert_eq!(kind("+5m"), dur(300, 0));
        assert_eq!(kind("2h45m30.5s"), dur(9930, 500_000_000));
    }

    #[test]
    fn until_negative_duration_lies_in_the_future() {
        assert_eq!(kind("-1h"), dur(-3600, 0));
        assert_eq!(kind("-1.5h"), dur(-5400, 0));
    }

    #[test]
    fn until_accepts_every_go_unit() {
        assert_eq!(kind("1ns"), dur(0, 1));
        assert_eq!(kind("1us"), dur(0, 1_000));
        assert_eq!(kind("1µs"), dur(0, 1_000));
        assert_eq!(kind("1μs"), dur(0, 1_000));
        assert_eq!(kind("1ms"), dur(0, 1_000_000));
        assert_eq!(kind("1s"), dur(1, 0));
        assert_eq!(kind("1m"), dur(60, 0));
        assert_eq!(kind("1h"), dur(3600, 0));
    }

    #[test]
    fn until_accepts_go_duration_oddities() {
        // All accepted by Go's ParseDuration.
        assert_eq!(kind(".5s"), dur(0, 500_000_000));
        assert_eq!(kind("5.s"), dur(5, 0));
        assert_eq!(kind("1h1h"), dur(7200, 0));
        assert_eq!(kind("0s"), dur(0, 0));
        assert_eq!(kind("-0"), dur(0, 0));
        assert_eq!(kind("+0"), dur(0, 0));
    }

    #[test]
    fn until_duration_range_is_go_int64_nanoseconds() {
        assert_eq!(
            kind("9223372036854775807ns"),
            UntilKind::Duration(SignedDuration::from_nanos(i64::MAX))
        );
        assert_eq!(
            kind("-9223372036854775808ns"),
            UntilKind::Duration(SignedDuration::from_nanos(i64::MIN))
        );
        assert_eq!(kind("2562047h"), dur(2_562_047 * 3600, 0));
        assert!(matches!(
            err("9223372036854775808ns"),
            UntilError::Unrecognized { .. }
        ));
        assert!(matches!(err("2562048h"), UntilError::Unrecognized { .. }));
    }

    #[test]
    fn until_zero_is_the_epoch_not_a_duration() {
        let until = Until::parse("0").expect("0 is valid");
        assert_eq!(*until.kind(), UntilKind::Instant(Timestamp::UNIX_EPOCH));
        assert!(!until.is_duration());
    }

    #[test]
    fn until_rejects_day_suffix() {
        let e = err("7d");
        assert_eq!(
            e,
            UntilError::DayOrWeekUnit {
                value: "7d".into(),
                suggestion: "168h".into()
            }
        );
        assert_eq!(
            e.to_string(),
            "invalid until value \"7d\": docker accepts no d/w units: use 168h"
        );
    }

    #[test]
    fn until_rejects_week_suffix_with_hour_suggestion() {
        assert!(err("1w").to_string().ends_with("use 168h"));
        assert!(err("1d12h").to_string().ends_with("use 36h"));
        assert!(err("1.5d").to_string().ends_with("use 36h"));
        assert!(err("-2d").to_string().ends_with("use -48h"));
        assert!(err("1d30m").to_string().ends_with("use 24h30m"));
    }

    #[test]
    fn until_rejects_spaces_with_joined_suggestion() {
        let e = err("1h 30m");
        assert_eq!(
            e.to_string(),
            "invalid until value \"1h 30m\": spaces are not allowed: write 1h30m"
        );
        assert!(
            err("2020-01-01 10:00:00")
                .to_string()
                .ends_with("write 2020-01-01T10:00:00")
        );
        assert!(err("7 d").to_string().ends_with("write 168h"));
        assert!(err(" 24h").to_string().ends_with("write 24h"));
    }

    #[test]
    fn until_rejects_banana_with_expected_forms() {
        assert_eq!(
            err("banana").to_string(),
            "invalid until value \"banana\": expected a Go duration like 10m or 1h30m, \
             a Unix timestamp, or a date like 2006-01-02 or 2006-01-02T15:04:05 (RFC3339)"
        );
        assert!(matches!(err("abc"), UntilError::Unrecognized { .. }));
        assert!(matches!(err("1h30"), UntilError::Unrecognized { .. }));
        assert!(matches!(err("1y"), UntilError::Unrecognized { .. }));
    }

    #[test]
    fn until_rejects_empty_string() {
        assert_eq!(err(""), UntilError::Empty);
        assert!(err("").to_string().contains("the value is empty"));
    }

    #[test]
    fn until_rejects_negative_unix_timestamp() {
        assert_eq!(
            err("-5"),
            UntilError::NegativeTimestamp { value: "-5".into() }
        );
        assert!(err("-5").to_string().contains("use a negative duration"));
    }

    #[test]
    fn until_rejects_upper_case_units() {
        assert_eq!(
            err("1H30M").to_string(),
            "invalid until value \"1H30M\": Go duration units are lower-case: write 1h30m"
        );
    }

    #[test]
    fn until_rejects_month_13() {
        let e = err("2020-13-01");
        assert_eq!(
            e,
            UntilError::Date {
                value: "2020-13-01".into(),
                layout: "2006-01-02",
                problem: DateProblem::OutOfRange("month"),
            }
        );
        assert_eq!(
            e.to_string(),
            "invalid until value \"2020-13-01\": month out of range (read with layout 2006-01-02)"
        );
    }

    #[test]
    fn until_rejects_impossible_dates_and_times() {
        let problem = |v: &str| match err(v) {
            UntilError::Date { problem, .. } => problem,
            other => panic!("{v:?}: expected a date error, got {other:?}"),
        };
        assert_eq!(problem("2021-02-29"), DateProblem::OutOfRange("day"));
        assert_eq!(problem("2020-04-31"), DateProblem::OutOfRange("day"));
        assert_eq!(problem("2020-01-00"), DateProblem::OutOfRange("day"));
        assert_eq!(problem("2020-01-01T24"), DateProblem::OutOfRange("hour"));
        assert_eq!(
            problem("2020-01-01T10:60"),
            DateProblem::OutOfRange("minute")
        );
        assert_eq!(
            problem("2020-01-01T10:00:60"),
            DateProblem::OutOfRange("second")
        );
        assert_eq!(
            problem("2020-01-01T10:00:00+25:00"),
            DateProblem::OutOfRange("time zone offset hour")
        );
    }

    #[test]
    fn until_rejects_malformed_dates() {
        let problem = |v: &str| match err(v) {
            UntilError::Date { problem, .. } => problem,
            other => panic!("{v:?}: expected a date error, got {other:?}"),
        };
        assert_eq!(
            problem("2020-1-01"),
            DateProblem::Expected {
                what: "a 2-digit month",
                found: "1-01".into()
            }
        );
        assert_eq!(problem("2020-01-01x"), DateProblem::ExtraText("x".into()));
        // Lower-case z makes the value "zoned" but Go only accepts upper-case Z.
        assert!(matches!(
            problem("2020-01-01T10:00:00z"),
            DateProblem::Expected { .. }
        ));
        // Offsets need a colon.
        assert!(matches!(
            problem("2020-01-01T10:00:00+0200"),
            DateProblem::Expected { .. }
        ));
        // Go counts the colons, discounts one for the offset, and picks 2006-01-02T15:04Z07:00.
        assert_eq!(
            err("2020-01-01T10:00:00+0200").to_string(),
            "invalid until value \"2020-01-01T10:00:00+0200\": expected Z or a ±hh:mm offset \
             at \":00+0200\" (read with layout 2006-01-02T15:04Z07:00)"
        );
        // A time-less 'T'.
        assert!(matches!(
            problem("2020-01-01T"),
            DateProblem::Expected {
                what: "an hour",
                ..
            }
        ));
    }

    #[test]
    fn until_accepts_unix_timestamps() {
        assert_eq!(kind("1700000000"), instant("2023-11-14T22:13:20Z"));
        assert_eq!(
            kind("1700000000.5"),
            UntilKind::Instant(Timestamp::new(1_700_000_000, 500_000_000).expect("valid"))
        );
        assert_eq!(
            kind("1700000000.123456789"),
            UntilKind::Instant(Timestamp::new(1_700_000_000, 123_456_789).expect("valid"))
        );
        assert_eq!(
            kind("1700000000.000000001"),
            UntilKind::Instant(Timestamp::new(1_700_000_000, 1).expect("valid"))
        );
        // Digits only: a date without dashes is a Unix timestamp too, as on the daemon.
        assert_eq!(
            kind("20200101"),
            UntilKind::Instant(Timestamp::new(20_200_101, 0).expect("valid"))
        );
    }

    #[test]
    fn until_rejects_malformed_unix_timestamps() {
        assert_eq!(
            err("1700000000.1234567891"),
            UntilError::FractionTooLong {
                value: "1700000000.1234567891".into()
            }
        );
        assert!(matches!(
            err("1700000000."),
            UntilError::Unrecognized { .. }
        ));
        assert!(matches!(err(".5"), UntilError::Unrecognized { .. }));
        assert!(matches!(err("1.2.3"), UntilError::Unrecognized { .. }));
        assert!(matches!(err("+5"), UntilError::Unrecognized { .. }));
        assert!(matches!(
            err("99999999999999999999"),
            UntilError::Unrecognized { .. }
        ));
        assert!(matches!(err("253402300800"), UntilError::OutOfRange { .. }));
    }

    #[test]
    fn until_accepts_local_dates_and_times() {
        assert_eq!(kind("2020-01-01"), local(2020, 1, 1, 0, 0, 0, 0));
        assert_eq!(kind("2020-01-01T10"), local(2020, 1, 1, 10, 0, 0, 0));
        assert_eq!(kind("2020-01-01T10:30"), local(2020, 1, 1, 10, 30, 0, 0));
        assert_eq!(kind("2020-01-01T10:00"), local(2020, 1, 1, 10, 0, 0, 0));
        assert_eq!(kind("2020-01-01T10:00:05"), local(2020, 1, 1, 10, 0, 5, 0));
        assert_eq!(
            kind("2020-01-01T10:00:00.5"),
            local(2020, 1, 1, 10, 0, 0, 500_000_000)
        );
        assert_eq!(
            kind("2017-01-04T00:00:00.999999999"),
            local(2017, 1, 4, 0, 0, 0, 999_999_999)
        );
        assert_eq!(kind("2024-02-29"), local(2024, 2, 29, 0, 0, 0, 0));
    }

    #[test]
    fn until_accepts_zoned_date_times() {
        assert_eq!(
            kind("2020-01-01T10:00:00Z"),
            instant("2020-01-01T10:00:00Z")
        );
        assert_eq!(
            kind("2020-01-01T10:00:00+02:00"),
            instant("2020-01-01T08:00:00Z")
        );
        assert_eq!(
            kind("2020-01-01T10:00:00-05:00"),
            instant("2020-01-01T15:00:00Z")
        );
        assert_eq!(
            kind("2020-01-01T10:00:00.5Z"),
            instant("2020-01-01T10:00:00.5Z")
        );
        assert_eq!(
            kind("2020-01-01T10:00:00.123456789+01:00"),
            instant("2020-01-01T09:00:00.123456789Z")
        );
        assert_eq!(kind("2020-01-01T10:30Z"), instant("2020-01-01T10:30:00Z"));
        assert_eq!(
            kind("2020-01-01T10:30+02:00"),
            instant("2020-01-01T08:30:00Z")
        );
        assert_eq!(kind("2020-01-01T10Z"), instant("2020-01-01T10:00:00Z"));
        assert_eq!(kind("2020-01-01T10+02:00"), instant("2020-01-01T08:00:00Z"));
    }

    #[test]
    fn until_accepts_zoned_dates() {
        // Layout 2006-01-02Z07:00: 'Z' (or an offset) right after the date.
        assert_eq!(kind("2020-01-01Z"), instant("2020-01-01T00:00:00Z"));
        assert_eq!(kind("2020-01-01+02:00"), instant("2019-12-31T22:00:00Z"));
        // Exactly three '-' also means "zoned".
        assert_eq!(kind("2020-01-01-05:00"), instant("2020-01-01T05:00:00Z"));
    }

    #[test]
    fn until_follows_go_parse_leniencies() {
        // Go's time.Parse accepts a one-digit hour for "15".
        assert_eq!(kind("2020-01-01T9:00:00Z"), instant("2020-01-01T09:00:00Z"));
        // A comma fraction after seconds, even in a layout without one.
        assert_eq!(
            kind("2020-01-01T10:00:00,5"),
            local(2020, 1, 1, 10, 0, 0, 500_000_000)
        );
        // Fractions longer than nanoseconds are truncated.
        assert_eq!(
            kind("2020-01-01T10:00:00.1234567899Z"),
            instant("2020-01-01T10:00:00.123456789Z")
        );
        // Offsets up to 24:00 are accepted.
        assert_eq!(
            kind("2020-01-01T10:00:00+24:00"),
            instant("2019-12-31T10:00:00Z")
        );
    }

    #[test]
    fn until_keeps_raw_value_for_the_daemon() {
        for raw in [
            "1h30m",
            "2020-01-01T10:00:00+02:00",
            "1700000000.5",
            "0",
            "-1h",
        ] {
            let until = Until::parse(raw).expect("valid");
            assert_eq!(until.as_str(), raw);
            assert_eq!(until.to_string(), raw);
        }
    }

    #[test]
    fn until_is_duration_only_for_durations() {
        assert!(Until::parse("240h").expect("valid").is_duration());
        assert!(Until::parse("-1h").expect("valid").is_duration());
        assert!(!Until::parse("2020-01-01").expect("valid").is_duration());
        assert!(!Until::parse("1700000000").expect("valid").is_duration());
        assert!(
            !Until::parse("2020-01-01T10:00:00Z")
                .expect("valid")
                .is_duration()
        );
    }

    #[test]
    fn until_layout_choice_matches_get_timestamp() {
        let name = |v: &str| choose_layout(v).name;
        assert_eq!(name("2020-01-01"), "2006-01-02");
        assert_eq!(name("2020-01-01Z"), "2006-01-02Z07:00");
        assert_eq!(name("2020-01-01-05:00"), "2006-01-02Z07:00");
        assert_eq!(name("2020-01-01T10"), "2006-01-02T15");
        assert_eq!(name("2020-01-01T10:00"), "2006-01-02T15:04");
        assert_eq!(name("2020-01-01T10:00:00"), "2006-01-02T15:04:05");
        assert_eq!(name("2020-01-01T10Z"), "2006-01-02T15Z07:00");
        assert_eq!(name("2020-01-01T10+02:00"), "2006-01-02T15Z07:00");
        assert_eq!(name("2020-01-01T10:00+02:00"), "2006-01-02T15:04Z07:00");
        assert_eq!(
            name("2020-01-01T10:00:00+02:00"),
            "2006-01-02T15:04:05Z07:00"
        );
        assert_eq!(
            name("2020-01-01T10:00:00.5"),
            "2006-01-02T15:04:05.999999999"
        );
        assert_eq!(
            name("2020-01-01T10:00:00.5Z"),
            "2006-01-02T15:04:05.999999999Z07:00"
        );
    }
}
