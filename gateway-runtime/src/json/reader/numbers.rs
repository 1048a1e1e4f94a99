//! JSON numbers: the RFC 8259 token, and the proto3 rules for integers
//! (exact: `1e2` and `1.0` are integers, `1.5` is not) and floats (numbers
//! or strings, `"NaN"`, `"Infinity"`).

use std::borrow::Cow;

use super::{JsonReader, show};
use crate::decimal::magnitude;
use crate::json::error::JsonError;

/// Length of the JSON number at the start of `b`, or the offset of the first bad byte.
/// A number must not be followed by a digit, letter or `.`.
pub(super) fn number_len(b: &[u8]) -> Result<usize, usize> {
    let digit = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    let mut i = 0;
    if b.first() == Some(&b'-') {
        i = 1;
    }
    match b.get(i) {
        Some(b'0') => {
            i += 1;
            if digit(i) {
                return Err(i);
            }
        }
        Some(b'1'..=b'9') => {
            i += 1;
            while digit(i) {
                i += 1;
            }
        }
        _ => return Err(i),
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if !digit(i) {
            return Err(i);
        }
        while digit(i) {
            i += 1;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !digit(i) {
            return Err(i);
        }
        while digit(i) {
            i += 1;
        }
    }
    if b.get(i)
        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'.')
    {
        return Err(i);
    }
    Ok(i)
}

/// A plain integer token at the start of `b` (`-?(0|[1-9][0-9]*)`, at most 18 digits,
/// not followed by a letter, digit or `.`): its value and length. `None` for anything
/// else (fractions, exponents, long or malformed numbers), which the general path reads
/// (and reports) as before: for the tokens accepted here, [`number_len`] and
/// [`int_from_token`] give the same length and value.
#[inline]
pub(super) fn plain_int(b: &[u8]) -> Option<(i128, usize)> {
    let neg = b.first() == Some(&b'-');
    let mut i = usize::from(neg);
    let first = *b.get(i)?;
    if !first.is_ascii_digit() {
        return None;
    }
    let mut mag = u64::from(first - b'0');
    i += 1;
    if first != b'0' {
        // Up to 18 digits: no overflow; a 19th is left for the check below.
        let end = b.len().min(i + 17);
        while i < end && b[i].is_ascii_digit() {
            mag = mag * 10 + u64::from(b[i] - b'0');
            i += 1;
        }
    }
    if b.get(i)
        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'.')
    {
        return None;
    }
    let v = i128::from(mag);
    Some((if neg { -v } else { v }, i))
}

/// Why a JSON number is not an acceptable integer.
pub(super) enum IntError {
    NotIntegral,
    Overflow,
}

/// Exact conversion of a valid JSON number token to sign and magnitude (`1e2`, `1.0` are
/// integers; `1.5` is not).
pub(super) fn int_from_token(tok: &[u8]) -> Result<(bool, u64), IntError> {
    let (neg, rest) = match tok.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, tok),
    };
    let int_end = rest
        .iter()
        .position(|&c| c == b'.' || c == b'e' || c == b'E')
        .unwrap_or(rest.len());
    let int = &rest[..int_end];
    if int_end == rest.len() {
        // fast path: plain integer
        let acc = magnitude(int.iter().copied()).ok_or(IntError::Overflow)?;
        return Ok((neg, acc));
    }
    let mut after = &rest[int_end..];
    let mut frac: &[u8] = &[];
    if after.first() == Some(&b'.') {
        let end = after[1..]
            .iter()
            .position(|&c| c == b'e' || c == b'E')
            .map_or(after.len(), |p| p + 1);
        frac = &after[1..end];
        after = &after[end..];
    }
    let mut exp: i64 = 0;
    if !after.is_empty() {
        // [eE][+-]?digits
        let mut e = &after[1..];
        let mut eneg = false;
        if let Some((&s, r)) = e.split_first()
            && (s == b'+' || s == b'-')
        {
            eneg = s == b'-';
            e = r;
        }
        // The exponent saturates rather than overflowing: past 20 digits of
        // value the number is out of range whatever it is exactly.
        for &d in e {
            exp = exp.saturating_mul(10).saturating_add((d - b'0') as i64);
        }
        if eneg {
            exp = -exp;
        }
    }
    let digits = || int.iter().chain(frac.iter());
    let total = int.len() + frac.len();
    let lead = digits().take_while(|&&c| c == b'0').count();
    if lead == total {
        return Ok((neg, 0));
    }
    let trail = digits().rev().take_while(|&&c| c == b'0').count();
    let sig = total - lead - trail;
    let exp = exp
        .saturating_sub(frac.len() as i64)
        .saturating_add(trail as i64);
    if exp < 0 {
        return Err(IntError::NotIntegral);
    }
    if (sig as i64).saturating_add(exp) > 20 {
        return Err(IntError::Overflow);
    }
    let mut acc = magnitude(digits().skip(lead).take(sig).copied()).ok_or(IntError::Overflow)?;
    for _ in 0..exp {
        acc = acc.checked_mul(10).ok_or(IntError::Overflow)?;
    }
    Ok((neg, acc))
}

/// A number read from JSON: the token and whether it came from a string.
struct NumText<'a> {
    text: Cow<'a, str>,
    quoted: bool,
    start: usize,
}

impl<'a> JsonReader<'a> {
    /// Reads a number, or a string holding a JSON number (for integers and floats).
    fn num_text(&mut self, expected: &str) -> Result<NumText<'a>, JsonError> {
        match self.peek_value() {
            Some(b'-' | b'0'..=b'9') => {
                let start = self.pos;
                let tok = self.number()?;
                Ok(NumText {
                    text: Cow::Borrowed(tok),
                    quoted: false,
                    start,
                })
            }
            Some(b'"') => {
                let start = self.pos;
                let text = self.string()?;
                Ok(NumText {
                    text,
                    quoted: true,
                    start,
                })
            }
            _ => Err(self.mismatch(expected)),
        }
    }

    fn read_int(
        &mut self,
        ty: &'static str,
        article: &'static str,
    ) -> Result<(bool, u64, NumText<'a>), JsonError> {
        let n = self.num_text(article)?;
        let valid = !n.quoted || number_len(n.text.as_bytes()) == Ok(n.text.len());
        if !valid {
            return Err(self.invalid(
                n.start,
                format!("expected {article}, found {}", show(&n.text, true)),
            ));
        }
        match int_from_token(n.text.as_bytes()) {
            Ok((neg, mag)) => Ok((neg, mag, n)),
            Err(IntError::NotIntegral) => Err(self.invalid(
                n.start,
                format!("expected {article}, found {}", show(&n.text, n.quoted)),
            )),
            Err(IntError::Overflow) => Err(self.out_of_range(ty, &n)),
        }
    }

    /// [`read_int`](Self::read_int), range-checked into `T`.
    #[inline]
    fn read_int_as<T: TryFrom<i128>>(
        &mut self,
        ty: &'static str,
        article: &'static str,
    ) -> Result<T, JsonError> {
        // The common case, a plain number in range, without the token's text.
        self.skip_ws();
        if let Some((v, len)) = plain_int(&self.input[self.pos..])
            && let Ok(v) = T::try_from(v)
        {
            self.pos += len;
            return Ok(v);
        }
        self.read_int_as_slow(ty, article)
    }

    /// [`read_int_as`](Self::read_int_as) for every token (and the errors).
    #[cold]
    #[inline(never)]
    pub(super) fn read_int_as_slow<T: TryFrom<i128>>(
        &mut self,
        ty: &'static str,
        article: &'static str,
    ) -> Result<T, JsonError> {
        let (neg, mag, n) = self.read_int(ty, article)?;
        let v = if neg { -(mag as i128) } else { mag as i128 };
        T::try_from(v).map_err(|_| self.out_of_range(ty, &n))
    }

    fn out_of_range(&self, ty: &str, n: &NumText<'_>) -> JsonError {
        self.invalid(
            n.start,
            format!("{ty} value out of range: {}", show(&n.text, n.quoted)),
        )
    }

    /// Reads an `int32`: a number or a string holding one; `1e2` is accepted (integral),
    /// `1.5` is not; range checked.
    pub fn read_i32(&mut self) -> Result<i32, JsonError> {
        self.read_int_as("int32", "an int32")
    }

    /// Reads a `uint32` (see [`read_i32`](Self::read_i32)).
    pub fn read_u32(&mut self) -> Result<u32, JsonError> {
        self.read_int_as("uint32", "a uint32")
    }

    /// Reads an `int64`: usually a string (`"-9223372036854775808"`), or a number; exact
    /// (never goes through `f64`).
    pub fn read_i64(&mut self) -> Result<i64, JsonError> {
        self.read_int_as("int64", "an int64")
    }

    /// Reads a `uint64` (see [`read_i64`](Self::read_i64)).
    pub fn read_u64(&mut self) -> Result<u64, JsonError> {
        self.read_int_as("uint64", "a uint64")
    }

    fn float_text(
        &mut self,
        article: &'static str,
    ) -> Result<(Option<f64>, NumText<'a>), JsonError> {
        let n = self.num_text(article)?;
        if n.quoted {
            match &*n.text {
                "NaN" => return Ok((Some(f64::NAN), n)),
                "Infinity" => return Ok((Some(f64::INFINITY), n)),
                "-Infinity" => return Ok((Some(f64::NEG_INFINITY), n)),
                t if number_len(t.as_bytes()) == Ok(t.len()) => {}
                t => {
                    return Err(self.invalid(
                        n.start,
                        format!("expected {article}, found {}", show(t, true)),
                    ));
                }
            }
        }
        Ok((None, n))
    }

    /// Reads a `double`: a number, or a string holding a number, `"NaN"`, `"Infinity"` or
    /// `"-Infinity"`. Numbers beyond the `f64` range are an error.
    pub fn read_f64(&mut self) -> Result<f64, JsonError> {
        let (special, n) = self.float_text("a double")?;
        if let Some(v) = special {
            return Ok(v);
        }
        match n.text.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(v),
            _ => Err(self.out_of_range("double", &n)),
        }
    }

    /// Reads a `float` (see [`read_f64`](Self::read_f64)); numbers beyond the `f32` range are
    /// an error.
    pub fn read_f32(&mut self) -> Result<f32, JsonError> {
        let (special, n) = self.float_text("a float")?;
        if let Some(v) = special {
            return Ok(v as f32);
        }
        match n.text.parse::<f32>() {
            Ok(v) if v.is_finite() => Ok(v),
            _ => Err(self.out_of_range("float", &n)),
        }
    }
}
