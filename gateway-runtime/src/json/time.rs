//! String forms of `google.protobuf.Timestamp` (RFC 3339) and `google.protobuf.Duration`
//! (`"1.5s"`), without a date-time dependency.

use prost_types::{Duration, Timestamp};

#[cfg(test)]
use super::error::{JsonError, JsonErrorKind};
use super::reader::show;

/// Seconds of 0001-01-01T00:00:00Z, the smallest valid Timestamp.
pub(crate) const TIMESTAMP_MIN_SECONDS: i64 = -62_135_596_800;
/// Seconds of 9999-12-31T23:59:59Z, the largest valid Timestamp (with up to 999999999 nanos).
pub(crate) const TIMESTAMP_MAX_SECONDS: i64 = 253_402_300_799;
/// Largest absolute value of `Duration::seconds` (10000 years).
pub(crate) const DURATION_MAX_SECONDS: i64 = 315_576_000_000;

const NANOS_PER_SECOND: i64 = 1_000_000_000;

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Date of a day number since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn push_padded(out: &mut Vec<u8>, v: u64, width: usize) {
    let mut b = itoa::Buffer::new();
    let s = b.format(v);
    for _ in s.len()..width {
        out.push(b'0');
    }
    out.extend_from_slice(s.as_bytes());
}

/// `.500`, `.000001`, `.000000001` style: 0, 3, 6 or 9 digits.
fn push_fraction(out: &mut Vec<u8>, nanos: u64) {
    if nanos == 0 {
        return;
    }
    out.push(b'.');
    if nanos.is_multiple_of(1_000_000) {
        push_padded(out, nanos / 1_000_000, 3);
    } else if nanos.is_multiple_of(1_000) {
        push_padded(out, nanos / 1_000, 6);
    } else {
        push_padded(out, nanos, 9);
    }
}

#[cfg(test)]
fn ascii_string(v: Vec<u8>) -> String {
    v.into_iter().map(char::from).collect()
}

/// Writes a Timestamp in RFC 3339 form (`Z`, 0/3/6/9 fraction digits) without range checks:
/// nanos are normalized, and years outside 1..=9999 are written with more digits or a sign
/// (which the reader rejects). Used by the infallible writer.
pub(crate) fn write_timestamp(out: &mut Vec<u8>, seconds: i64, nanos: i32) {
    let nanos = nanos as i64;
    let secs = seconds.saturating_add(nanos.div_euclid(NANOS_PER_SECOND));
    let nanos = nanos.rem_euclid(NANOS_PER_SECOND) as u64;
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400) as u64;
    let (y, m, d) = civil_from_days(days);
    if y < 0 {
        out.push(b'-');
    }
    push_padded(out, y.unsigned_abs(), 4);
    out.push(b'-');
    push_padded(out, m as u64, 2);
    out.push(b'-');
    push_padded(out, d as u64, 2);
    out.push(b'T');
    push_padded(out, sod / 3600, 2);
    out.push(b':');
    push_padded(out, sod / 60 % 60, 2);
    out.push(b':');
    push_padded(out, sod % 60, 2);
    push_fraction(out, nanos);
    out.push(b'Z');
}

#[cfg(test)]
fn timestamp_range_error(ts: &Timestamp) -> Option<&'static str> {
    if !(0..NANOS_PER_SECOND).contains(&(ts.nanos as i64)) {
        Some("nanos out of range 0..=999999999")
    } else if !(TIMESTAMP_MIN_SECONDS..=TIMESTAMP_MAX_SECONDS).contains(&ts.seconds) {
        Some("out of range 0001-01-01T00:00:00Z..=9999-12-31T23:59:59.999999999Z")
    } else {
        None
    }
}

#[cfg(test)]
/// Formats a Timestamp as RFC 3339 in UTC (`2024-02-29T12:00:00.500Z`; 0, 3, 6 or 9 fraction
/// digits). Errors outside 0001-01-01T00:00:00Z..=9999-12-31T23:59:59.999999999Z or when
/// `nanos` is not in `0..=999999999`.
pub(crate) fn format_timestamp(ts: &Timestamp) -> Result<String, JsonError> {
    if let Some(reason) = timestamp_range_error(ts) {
        return Err(JsonError::new(
            JsonErrorKind::InvalidValue,
            format!(
                "invalid google.protobuf.Timestamp (seconds {}, nanos {}): {reason}",
                ts.seconds, ts.nanos
            ),
        ));
    }
    let mut out = Vec::with_capacity(30);
    write_timestamp(&mut out, ts.seconds, ts.nanos);
    Ok(ascii_string(out))
}

fn digits(b: &[u8], from: usize, len: usize) -> Option<i64> {
    let d = b.get(from..from + len)?;
    let mut v = 0i64;
    for &c in d {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (c - b'0') as i64;
    }
    Some(v)
}

/// The fractional seconds after the `.` at `*i` (1 to 9 digits) as
/// nanoseconds; `*i` moves past them. `form` is the error without digits.
fn fraction(b: &[u8], i: &mut usize, form: &'static str) -> Result<i64, &'static str> {
    *i += 1;
    let start = *i;
    while b.get(*i).is_some_and(u8::is_ascii_digit) {
        *i += 1;
    }
    let n = *i - start;
    if n == 0 {
        return Err(form);
    }
    if n > 9 {
        return Err("more than 9 fractional second digits");
    }
    Ok(digits(b, start, n).ok_or(form)? * 10i64.pow(9 - n as u32))
}

const TS_FORM: &str = "expected the RFC 3339 form 1972-01-01T10:00:20.021Z";

/// Parses RFC 3339; returns the reason on failure.
pub(crate) fn timestamp_from_str(s: &str) -> Result<Timestamp, &'static str> {
    let b = s.as_bytes();
    let sep = |i: usize, c: u8| b.get(i) == Some(&c);
    let (Some(year), Some(month), Some(day), Some(hour), Some(min), Some(sec)) = (
        digits(b, 0, 4),
        digits(b, 5, 2),
        digits(b, 8, 2),
        digits(b, 11, 2),
        digits(b, 14, 2),
        digits(b, 17, 2),
    ) else {
        return Err(TS_FORM);
    };
    if !(sep(4, b'-') && sep(7, b'-') && sep(10, b'T') && sep(13, b':') && sep(16, b':')) {
        return Err(TS_FORM);
    }
    let mut i = 19;
    let mut nanos = 0i64;
    if sep(i, b'.') {
        nanos = fraction(b, &mut i, TS_FORM)?;
    }
    let offset = match b.get(i) {
        Some(b'Z') => {
            i += 1;
            0
        }
        Some(&c @ (b'+' | b'-')) => {
            let (Some(oh), Some(om)) = (digits(b, i + 1, 2), digits(b, i + 4, 2)) else {
                return Err(TS_FORM);
            };
            if !sep(i + 3, b':') {
                return Err(TS_FORM);
            }
            if oh > 23 || om > 59 {
                return Err("time zone offset out of range");
            }
            i += 6;
            let off = oh * 3600 + om * 60;
            if c == b'-' { -off } else { off }
        }
        _ => return Err(TS_FORM),
    };
    if i != b.len() {
        return Err(TS_FORM);
    }
    if !(1..=12).contains(&month) {
        return Err("month out of range");
    }
    if day < 1 || day > days_in_month(year, month) {
        return Err("day out of range");
    }
    if hour > 23 {
        return Err("hour out of range");
    }
    if min > 59 {
        return Err("minute out of range");
    }
    if sec > 59 {
        return Err("second out of range");
    }
    let seconds =
        days_from_civil(year, month, day) * 86_400 + hour * 3600 + min * 60 + sec - offset;
    if !(TIMESTAMP_MIN_SECONDS..=TIMESTAMP_MAX_SECONDS).contains(&seconds) {
        return Err("out of range 0001-01-01T00:00:00Z..=9999-12-31T23:59:59.999999999Z");
    }
    Ok(Timestamp {
        seconds,
        nanos: nanos as i32,
    })
}

#[cfg(test)]
/// Parses an RFC 3339 timestamp (`1972-01-01T10:00:20.021Z`, `2024-02-29T13:00:00+01:00`):
/// up to 9 fraction digits; offsets `Z`, `+HH:MM`, `-HH:MM` (converted to UTC); the result
/// must lie in 0001-01-01T00:00:00Z..=9999-12-31T23:59:59.999999999Z.
pub(crate) fn parse_timestamp(s: &str) -> Result<Timestamp, JsonError> {
    timestamp_from_str(s)
        .map_err(|reason| JsonError::new(JsonErrorKind::InvalidValue, timestamp_message(s, reason)))
}

pub(crate) fn timestamp_message(s: &str, reason: &str) -> String {
    format!(
        "invalid google.protobuf.Timestamp {}: {reason}",
        show(s, true)
    )
}

pub(crate) fn duration_message(s: &str, reason: &str) -> String {
    format!(
        "invalid google.protobuf.Duration {}: {reason}",
        show(s, true)
    )
}

/// Writes a Duration (`-1.500s`) without range checks: seconds and nanos are combined, so
/// mismatched signs or nanos beyond a second are normalized. Used by the infallible writer.
pub(crate) fn write_duration(out: &mut Vec<u8>, seconds: i64, nanos: i32) {
    let total = seconds as i128 * NANOS_PER_SECOND as i128 + nanos as i128;
    if total < 0 {
        out.push(b'-');
    }
    let abs = total.unsigned_abs();
    let secs = abs / NANOS_PER_SECOND as u128;
    let nanos = (abs % NANOS_PER_SECOND as u128) as u64;
    out.extend_from_slice(itoa::Buffer::new().format(secs).as_bytes());
    push_fraction(out, nanos);
    out.push(b's');
}

#[cfg(test)]
/// Formats a Duration as `"1.5s"` style text: `1s`, `1.500s`, `0.000001s`, `-0.500s`
/// (0, 3, 6 or 9 fraction digits). Errors when seconds exceed ±315576000000, nanos exceed
/// ±999999999, or seconds and nanos have different signs.
pub(crate) fn format_duration(d: &Duration) -> Result<String, JsonError> {
    let reason = if d.seconds.unsigned_abs() > DURATION_MAX_SECONDS as u64 {
        Some("seconds out of range ±315576000000")
    } else if d.nanos.unsigned_abs() >= NANOS_PER_SECOND as u32 {
        Some("nanos out of range ±999999999")
    } else if (d.seconds > 0 && d.nanos < 0) || (d.seconds < 0 && d.nanos > 0) {
        Some("seconds and nanos have different signs")
    } else {
        None
    };
    if let Some(reason) = reason {
        return Err(JsonError::new(
            JsonErrorKind::InvalidValue,
            format!(
                "invalid google.protobuf.Duration (seconds {}, nanos {}): {reason}",
                d.seconds, d.nanos
            ),
        ));
    }
    let mut out = Vec::with_capacity(24);
    write_duration(&mut out, d.seconds, d.nanos);
    Ok(ascii_string(out))
}

const DURATION_FORM: &str = "expected the form \"-1.5s\"";

/// Parses `-?digits(.digits{1,9})?s`; returns the reason on failure.
pub(crate) fn duration_from_str(s: &str) -> Result<Duration, &'static str> {
    let b = s.as_bytes();
    let mut i = 0;
    let neg = b.first() == Some(&b'-');
    if neg {
        i = 1;
    }
    let mut secs: u64 = 0;
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            while let Some(&c) = b.get(i).filter(|c| c.is_ascii_digit()) {
                secs = secs.saturating_mul(10).saturating_add((c - b'0') as u64);
                i += 1;
            }
        }
        _ => return Err(DURATION_FORM),
    }
    let mut nanos: i64 = 0;
    if b.get(i) == Some(&b'.') {
        nanos = fraction(b, &mut i, DURATION_FORM)?;
    }
    if b.get(i) != Some(&b's') || i + 1 != b.len() {
        return Err(DURATION_FORM);
    }
    if secs > DURATION_MAX_SECONDS as u64 {
        return Err("out of range ±315576000000s");
    }
    let (secs, nanos) = (secs as i64, nanos as i32);
    Ok(if neg {
        Duration {
            seconds: -secs,
            nanos: -nanos,
        }
    } else {
        Duration {
            seconds: secs,
            nanos,
        }
    })
}

#[cfg(test)]
/// Parses a Duration in `"1.5s"` form: `-?digits(.digits{1,9})?s`, at most ±315576000000 s.
pub(crate) fn parse_duration(s: &str) -> Result<Duration, JsonError> {
    duration_from_str(s)
        .map_err(|reason| JsonError::new(JsonErrorKind::InvalidValue, duration_message(s, reason)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(seconds: i64, nanos: i32) -> Timestamp {
        Timestamp { seconds, nanos }
    }

    fn dur(seconds: i64, nanos: i32) -> Duration {
        Duration { seconds, nanos }
    }

    #[test]
    fn civil_round_trip_every_day_of_some_centuries() {
        // 1600-03-01 .. 2400-03-01 and around year 1 and 9999
        for days in (-135_140..=157_000)
            .chain(-719_200..=-718_000)
            .chain(2_932_000..=2_932_896)
        {
            let (y, m, d) = civil_from_days(days);
            assert!((1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m));
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(1, 1, 1) * 86_400, TIMESTAMP_MIN_SECONDS);
        assert_eq!(
            days_from_civil(9999, 12, 31) * 86_400 + 86_399,
            TIMESTAMP_MAX_SECONDS
        );
    }

    #[test]
    fn timestamp_format_table() {
        let table = [
            (ts(0, 0), "1970-01-01T00:00:00Z"),
            (ts(0, 500_000_000), "1970-01-01T00:00:00.500Z"),
            (ts(0, 1_000), "1970-01-01T00:00:00.000001Z"),
            (ts(0, 1), "1970-01-01T00:00:00.000000001Z"),
            (ts(0, 120_000), "1970-01-01T00:00:00.000120Z"),
            (ts(1_709_208_000, 500_000_000), "2024-02-29T12:00:00.500Z"),
            (ts(-1, 0), "1969-12-31T23:59:59Z"),
            (ts(-1, 999_999_999), "1969-12-31T23:59:59.999999999Z"),
            (ts(-14_182_940, 0), "1969-07-20T20:17:40Z"),
            (ts(951_782_400, 0), "2000-02-29T00:00:00Z"),
            (ts(TIMESTAMP_MIN_SECONDS, 0), "0001-01-01T00:00:00Z"),
            (
                ts(TIMESTAMP_MAX_SECONDS, 999_999_999),
                "9999-12-31T23:59:59.999999999Z",
            ),
        ];
        for (t, want) in table {
            assert_eq!(format_timestamp(&t).unwrap(), want);
            assert_eq!(parse_timestamp(want).unwrap(), t, "{want}");
        }
    }

    #[test]
    fn timestamp_format_errors_and_best_effort() {
        for t in [
            ts(TIMESTAMP_MIN_SECONDS - 1, 0),
            ts(TIMESTAMP_MAX_SECONDS + 1, 0),
            ts(0, -1),
            ts(0, 1_000_000_000),
        ] {
            assert!(format_timestamp(&t).is_err(), "{t:?}");
        }
        let e = format_timestamp(&ts(0, -1)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid value: invalid google.protobuf.Timestamp (seconds 0, nanos -1): nanos out of range 0..=999999999"
        );
        let mut out = Vec::new();
        write_timestamp(&mut out, 0, -1);
        assert_eq!(out, b"1969-12-31T23:59:59.999999999Z");
        out.clear();
        write_timestamp(&mut out, TIMESTAMP_MAX_SECONDS + 1, 0);
        assert_eq!(out, b"10000-01-01T00:00:00Z");
        out.clear();
        write_timestamp(&mut out, TIMESTAMP_MIN_SECONDS - 86_400 * 366, 0);
        assert_eq!(out, b"0000-01-01T00:00:00Z");
        out.clear();
        write_timestamp(&mut out, TIMESTAMP_MIN_SECONDS - 86_400 * 367, 0);
        assert_eq!(out, b"-0001-12-31T00:00:00Z");
        out.clear();
        write_timestamp(&mut out, i64::MIN, i32::MIN);
        write_timestamp(&mut out, i64::MAX, i32::MAX);
    }

    #[test]
    fn timestamp_parse_accepts() {
        let table = [
            ("1970-01-01T00:00:00.5Z", ts(0, 500_000_000)),
            ("1970-01-01T00:00:00.12345Z", ts(0, 123_450_000)),
            ("1970-01-01T00:00:00.123456789Z", ts(0, 123_456_789)),
            ("1970-01-01T01:00:00+01:00", ts(0, 0)),
            ("1969-12-31T19:00:00-05:00", ts(0, 0)),
            ("1970-01-01T00:00:00-00:00", ts(0, 0)),
            (
                "2024-02-29T13:30:00.5+01:30",
                ts(1_709_208_000, 500_000_000),
            ),
            (
                "0001-01-01T00:59:59+00:59",
                ts(TIMESTAMP_MIN_SECONDS + 59, 0),
            ),
        ];
        for (s, want) in table {
            assert_eq!(parse_timestamp(s).unwrap(), want, "{s}");
        }
    }

    #[test]
    fn timestamp_parse_rejects() {
        let table = [
            ("", TS_FORM),
            ("1970-01-01", TS_FORM),
            ("1970-01-01T00:00:00", TS_FORM),
            ("1970-01-01 00:00:00Z", TS_FORM),
            ("1970-01-01t00:00:00Z", TS_FORM),
            ("1970-01-01T00:00:00z", TS_FORM),
            ("1970-1-01T00:00:00Z", TS_FORM),
            ("+970-01-01T00:00:00Z", TS_FORM),
            ("1970-01-01T00:00:00.Z", TS_FORM),
            (
                "1970-01-01T00:00:00.1234567891Z",
                "more than 9 fractional second digits",
            ),
            ("1970-01-01T00:00:00+0100", TS_FORM),
            ("1970-01-01T00:00:00+24:00", "time zone offset out of range"),
            ("1970-01-01T00:00:00Zx", TS_FORM),
            ("1970-13-01T00:00:00Z", "month out of range"),
            ("1970-00-01T00:00:00Z", "month out of range"),
            ("2023-02-29T00:00:00Z", "day out of range"),
            ("1900-02-29T00:00:00Z", "day out of range"),
            ("1970-04-31T00:00:00Z", "day out of range"),
            ("1970-01-00T00:00:00Z", "day out of range"),
            ("1970-01-01T24:00:00Z", "hour out of range"),
            ("1970-01-01T00:60:00Z", "minute out of range"),
            ("1970-01-01T00:00:60Z", "second out of range"),
            (
                "0000-12-31T23:59:59Z",
                "out of range 0001-01-01T00:00:00Z..=9999-12-31T23:59:59.999999999Z",
            ),
            (
                "0001-01-01T00:00:00+00:01",
                "out of range 0001-01-01T00:00:00Z..=9999-12-31T23:59:59.999999999Z",
            ),
            (
                "9999-12-31T23:59:59-00:01",
                "out of range 0001-01-01T00:00:00Z..=9999-12-31T23:59:59.999999999Z",
            ),
            ("1970-01-01T00:00:00Zé", TS_FORM),
        ];
        for (s, want) in table {
            assert_eq!(timestamp_from_str(s), Err(want), "{s}");
        }
        assert_eq!(
            parse_timestamp("2024-02-30T00:00:00Z")
                .unwrap_err()
                .to_string(),
            "invalid value: invalid google.protobuf.Timestamp \"2024-02-30T00:00:00Z\": day out of range"
        );
        assert!(parse_timestamp("2024-02-29T00:00:00Z").is_ok());
    }

    #[test]
    fn duration_table() {
        let table = [
            (dur(0, 0), "0s"),
            (dur(1, 0), "1s"),
            (dur(-1, 0), "-1s"),
            (dur(1, 500_000_000), "1.500s"),
            (dur(0, 1_000), "0.000001s"),
            (dur(0, 1), "0.000000001s"),
            (dur(0, -500_000_000), "-0.500s"),
            (dur(-3, -100), "-3.000000100s"),
            (
                dur(DURATION_MAX_SECONDS, 999_999_999),
                "315576000000.999999999s",
            ),
            (
                dur(-DURATION_MAX_SECONDS, -999_999_999),
                "-315576000000.999999999s",
            ),
        ];
        for (d, want) in table {
            assert_eq!(format_duration(&d).unwrap(), want);
            assert_eq!(parse_duration(want).unwrap(), d, "{want}");
        }
    }

    #[test]
    fn duration_parse() {
        let ok = [
            ("1.5s", dur(1, 500_000_000)),
            ("-1.5s", dur(-1, -500_000_000)),
            ("0.1234s", dur(0, 123_400_000)),
            ("-0s", dur(0, 0)),
            ("100s", dur(100, 0)),
        ];
        for (s, want) in ok {
            assert_eq!(parse_duration(s).unwrap(), want, "{s}");
        }
        for s in [
            "",
            "s",
            "1",
            "1.s",
            ".5s",
            "01s",
            "+1s",
            "1.5",
            "1.5S",
            "1.5ss",
            " 1s",
            "1e3s",
            "--1s",
            "1.1234567891s",
            "315576000001s",
            "99999999999999999999999s",
            "1,5s",
        ] {
            assert!(duration_from_str(s).is_err(), "{s}");
        }
        assert_eq!(
            parse_duration("1.s").unwrap_err().to_string(),
            "invalid value: invalid google.protobuf.Duration \"1.s\": expected the form \"-1.5s\""
        );
    }

    #[test]
    fn duration_format_errors_and_best_effort() {
        for d in [
            dur(1, -1),
            dur(-1, 1),
            dur(0, 1_000_000_000),
            dur(0, -1_000_000_000),
            dur(DURATION_MAX_SECONDS + 1, 0),
            dur(i64::MIN, 0),
        ] {
            assert!(format_duration(&d).is_err(), "{d:?}");
        }
        let mut out = Vec::new();
        write_duration(&mut out, 1, -500_000_000);
        assert_eq!(out, b"0.500s");
        out.clear();
        write_duration(&mut out, i64::MIN, i32::MIN);
        assert_eq!(out, b"-9223372036854775810.147483648s");
    }
}
