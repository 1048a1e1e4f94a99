//! JSON strings: scanning (borrowed when there is no escape), escapes and
//! surrogate pairs, and the string and `bytes` values.

use std::borrow::Cow;

use super::{JsonReader, show};
use crate::json::error::JsonError;

/// Bytes needing attention inside a string: `"`, `\` and control characters.
static STR_SPECIAL: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = true;
        i += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t
};

/// The index of the first byte at or after `from` that needs attention in a string (`"`,
/// `\\`, a control character), or `input.len()`: eight bytes at a time, then one by one.
/// The same bytes are the ones the writer escapes, so it scans with this too.
#[inline]
pub(in crate::json) fn find_special(input: &[u8], from: usize) -> usize {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    const SPACES: u64 = u64::from_ne_bytes([0x20; 8]);
    const QUOTES: u64 = u64::from_ne_bytes([b'"'; 8]);
    const BACKSLASHES: u64 = u64::from_ne_bytes([b'\\'; 8]);
    // The bytes of `x` below `n` (repeated in each byte) have their high bit set in the
    // result; bytes above the first such byte may be set too, so only the lowest set
    // one is used.
    let below = |x: u64, n: u64| x.wrapping_sub(n) & !x & HIGHS;
    let mut i = from;
    while let Some(word) = input.get(i..i.wrapping_add(8)) {
        let x = u64::from_le_bytes(word.try_into().expect("eight bytes"));
        let hits = below(x ^ QUOTES, ONES) | below(x ^ BACKSLASHES, ONES) | below(x, SPACES);
        if hits != 0 {
            return i + (hits.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < input.len() && !STR_SPECIAL[input[i] as usize] {
        i += 1;
    }
    i
}

/// A string-scan failure: (offset, message).
type ScanError = (usize, &'static str);

/// Reads the JSON string whose opening quote is at `quote`; returns it and the offset after
/// the closing quote. `text` is `input` as text, if it is valid UTF-8 as a whole.
pub(super) fn scan_string<'a>(
    input: &'a [u8],
    text: Option<&'a str>,
    quote: usize,
) -> Result<(Cow<'a, str>, usize), ScanError> {
    let start = quote.saturating_add(1);
    let mut i = find_special(input, start);
    match input.get(i) {
        Some(b'"') => return Ok((Cow::Borrowed(utf8(input, text, start, i)?), i + 1)),
        None => return Err((quote, "unterminated string")),
        _ => {}
    }
    let mut out = String::with_capacity(i - start + 16);
    let mut chunk = start;
    loop {
        // `i` is at a special byte (or the end)
        match input.get(i) {
            None => return Err((quote, "unterminated string")),
            Some(b'"') => {
                push_chunk(&mut out, input, text, chunk, i)?;
                return Ok((Cow::Owned(out), i + 1));
            }
            Some(b'\\') => {
                push_chunk(&mut out, input, text, chunk, i)?;
                let esc = i;
                let c = match input.get(i + 1) {
                    Some(b'"') => '"',
                    Some(b'\\') => '\\',
                    Some(b'/') => '/',
                    Some(b'b') => '\u{8}',
                    Some(b'f') => '\u{c}',
                    Some(b'n') => '\n',
                    Some(b'r') => '\r',
                    Some(b't') => '\t',
                    Some(b'u') => {
                        let hi = hex4(input, i + 2).ok_or((esc, "invalid \\u escape in string"))?;
                        i += 4;
                        if (0xD800..0xDC00).contains(&hi) {
                            if input.get(i + 2) != Some(&b'\\') || input.get(i + 3) != Some(&b'u') {
                                return Err((esc, "lone surrogate in string"));
                            }
                            let lo = hex4(input, i + 4)
                                .ok_or((i + 2, "invalid \\u escape in string"))?;
                            if !(0xDC00..0xE000).contains(&lo) {
                                return Err((esc, "lone surrogate in string"));
                            }
                            i += 6;
                            let cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                            char::from_u32(cp).ok_or((esc, "lone surrogate in string"))?
                        } else if (0xDC00..0xE000).contains(&hi) {
                            return Err((esc, "lone surrogate in string"));
                        } else {
                            char::from_u32(hi).ok_or((esc, "invalid \\u escape in string"))?
                        }
                    }
                    None => return Err((quote, "unterminated string")),
                    Some(_) => return Err((esc, "invalid escape sequence in string")),
                };
                out.push(c);
                i += 2;
                chunk = i;
            }
            Some(_) => return Err((i, "unescaped control character in string")),
        }
        i = find_special(input, i);
    }
}

/// `input[from..to]` as text: a slice of `text` when the whole input is valid UTF-8
/// (`from` and `to` are next to ASCII bytes, so on character boundaries), else checked.
#[inline]
pub(super) fn utf8<'a>(
    input: &'a [u8],
    text: Option<&'a str>,
    from: usize,
    to: usize,
) -> Result<&'a str, ScanError> {
    if let Some(s) = text.and_then(|t| t.get(from..to)) {
        return Ok(s);
    }
    std::str::from_utf8(&input[from..to])
        .map_err(|e| (from + e.valid_up_to(), "invalid UTF-8 in string"))
}

#[inline]
fn push_chunk(
    out: &mut String,
    input: &[u8],
    text: Option<&str>,
    from: usize,
    to: usize,
) -> Result<(), ScanError> {
    if from < to {
        out.push_str(utf8(input, text, from, to)?);
    }
    Ok(())
}

fn hex4(input: &[u8], at: usize) -> Option<u32> {
    let h = input.get(at..at + 4)?;
    let mut v = 0u32;
    for &c in h {
        v = v * 16 + u32::from(crate::path::hex_digit(c)?);
    }
    Some(v)
}

impl<'a> JsonReader<'a> {
    /// Reads a string (owned).
    pub fn read_string(&mut self) -> Result<String, JsonError> {
        self.read_str().map(Cow::into_owned)
    }

    /// Reads a string, borrowed from the input when it has no escapes.
    #[inline]
    pub fn read_str(&mut self) -> Result<Cow<'a, str>, JsonError> {
        match self.peek_value() {
            Some(b'"') => self.string(),
            _ => Err(self.mismatch("a string")),
        }
    }

    /// Reads a string and returns it with the offset of its opening quote.
    pub(crate) fn read_str_at(&mut self) -> Result<(usize, Cow<'a, str>), JsonError> {
        match self.peek_value() {
            Some(b'"') => {
                let at = self.pos;
                self.string().map(|s| (at, s))
            }
            _ => Err(self.mismatch("a string")),
        }
    }

    /// Reads `bytes`: a string in standard or URL-safe base64, padded or not.
    pub fn read_bytes(&mut self) -> Result<Vec<u8>, JsonError> {
        let (at, s) = self.read_str_at()?;
        crate::base64_rule::decode(s.as_bytes()).ok_or_else(|| {
            self.invalid(
                at,
                format!("expected base64 bytes, found {}", show(&s, true)),
            )
        })
    }
}
