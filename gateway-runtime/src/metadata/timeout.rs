//! `Grpc-Timeout`: its grammar and the deadline it sets.

use std::time::Duration;

/// Parses a `Grpc-Timeout` header value: 1 to 8 ASCII digits followed by one unit, `H`
/// (hours), `M` (minutes), `S` (seconds), `m` (milliseconds), `u` (microseconds) or `n`
/// (nanoseconds). Anything else is `None`.
pub(crate) fn parse_grpc_timeout(value: &str) -> Option<Duration> {
    let (digits, unit) = value.split_at_checked(value.len().checked_sub(1)?)?;
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // At most 8 digits: fits in u64 and the multiplications below cannot overflow.
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n * 3600),
        "M" => Duration::from_secs(n * 60),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

/// `grpc-timeout`, made at compile time: a lookup by `&str` parses and
/// checks the name on every request.
pub(crate) const GRPC_TIMEOUT: http::HeaderName = http::HeaderName::from_static("grpc-timeout");

/// The request's `Grpc-Timeout` header, parsed (`None` when absent or invalid).
pub(crate) fn request_timeout(headers: &http::HeaderMap) -> Option<Duration> {
    headers
        .get(GRPC_TIMEOUT)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_grpc_timeout(v.trim()))
}
