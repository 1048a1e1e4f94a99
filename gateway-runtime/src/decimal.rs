//! The one decimal-digit accumulation, shared by the two integer grammars the
//! gateway reads. They differ on purpose, each following its own spec:
//!
//! * JSON numbers (`json/reader/numbers.rs`), as Go's protojson: an RFC 8259
//!   number token (no leading zeros, no `+`), bare or inside a string, is an
//!   integer when its value is exactly integral: `1e2`, `1.0` and `-0` are
//!   fine, `1.5` is not.
//! * Text values (`text.rs`: path and query parameters, and JSON map keys,
//!   which are strings): `-?[0-9]+` only, as grpc-gateway's decimal parsing
//!   (leading zeros are fine, `007`); no fraction, no exponent.
//!
//! Both come down to a sign and the magnitude of a run of digits, which this
//! file computes; the caller checks the range of the field's type.

/// The value of `digits` (each one `b'0'..=b'9'`, which the caller's grammar
/// has checked), or `None` when it exceeds `u64::MAX`.
pub(crate) fn magnitude(digits: impl IntoIterator<Item = u8>) -> Option<u64> {
    digits.into_iter().try_fold(0u64, |acc, d| {
        debug_assert!(d.is_ascii_digit());
        acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}

#[cfg(test)]
mod tests {
    use super::magnitude;

    #[test]
    fn digits_to_u64_with_overflow() {
        assert_eq!(magnitude(*b""), Some(0));
        assert_eq!(magnitude(*b"007"), Some(7));
        assert_eq!(magnitude(*b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(magnitude(*b"18446744073709551616"), None);
        assert_eq!(magnitude(*b"99999999999999999999"), None);
        assert_eq!(magnitude(*b"000000000000000000000000000001"), Some(1));
    }
}
