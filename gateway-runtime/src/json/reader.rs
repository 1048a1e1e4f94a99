//! The JSON pull reader.

use std::borrow::Cow;

use super::error::{JsonError, JsonErrorKind};
use super::{JsonMessage, JsonOptions};

/// Maximum nesting depth of objects and arrays accepted by [`JsonReader`].
pub(crate) const MAX_DEPTH: usize = 100;

/// Maximum nesting of protobuf messages below the request message accepted by
/// [`JsonReader`]: prost's (and Go's, and C++'s) decoders refuse deeper messages, so a
/// deeper request would fail in the service instead of here. Counted the way the decoder
/// counts: every message level (`Struct`, map entry, `Value`, `ListValue` included).
pub(crate) const MAX_MESSAGE_DEPTH: usize = 100;

/// One level of the JSON path kept for error messages.
#[derive(Clone, Copy, Debug)]
enum Seg {
    /// Object member; offset of the key's opening quote (`usize::MAX` before the first key).
    Key(usize),
    /// Map entry; offset of the key's opening quote.
    MapKey(usize),
    /// Array element index.
    Index(usize),
}

/// A pull parser of (strict, RFC 8259) JSON over a byte slice, with the proto3 JSON
/// conversions of scalar values.
///
/// Every `read_*` method skips leading whitespace and consumes exactly one value.
/// After an error the reader's state is unspecified; drop it.
///
/// By the proto3 JSON mapping, `null` as the value of a field means "field not set":
/// generated code checks [`try_null`](Self::try_null) before reading a field value
/// (except for `google.protobuf.Value` fields, where `null` is a value). `object`, `array`
/// and `map` accept `null` themselves; the scalar `read_*` methods do not.
#[derive(Debug)]
pub struct JsonReader<'a> {
    input: &'a [u8],
    pos: usize,
    opts: JsonOptions,
    depth: usize,
    path: Vec<Seg>,
    /// Depth of an object whose `"@type"` key is skipped (reading the fields of an `Any`);
    /// 0 = none.
    any_type_depth: usize,
    /// Protobuf message levels entered, the message being read included (the top-level
    /// message is 1).
    message_depth: usize,
    /// Known keys of the objects being read, for duplicate detection; each `object` call
    /// owns the entries above the length it found.
    seen_keys: Vec<Cow<'a, str>>,
}

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

/// A string-scan failure: (offset, message).
type ScanError = (usize, &'static str);

/// Reads the JSON string whose opening quote is at `quote`; returns it and the offset after
/// the closing quote.
fn scan_string(input: &[u8], quote: usize) -> Result<(Cow<'_, str>, usize), ScanError> {
    let start = quote.saturating_add(1);
    let mut i = start;
    while i < input.len() && !STR_SPECIAL[input[i] as usize] {
        i += 1;
    }
    match input.get(i) {
        Some(b'"') => {
            let s = std::str::from_utf8(&input[start..i])
                .map_err(|e| (start + e.valid_up_to(), "invalid UTF-8 in string"))?;
            return Ok((Cow::Borrowed(s), i + 1));
        }
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
                push_chunk(&mut out, input, chunk, i)?;
                return Ok((Cow::Owned(out), i + 1));
            }
            Some(b'\\') => {
                push_chunk(&mut out, input, chunk, i)?;
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
        while i < input.len() && !STR_SPECIAL[input[i] as usize] {
            i += 1;
        }
    }
}

#[inline]
fn push_chunk(out: &mut String, input: &[u8], from: usize, to: usize) -> Result<(), ScanError> {
    if from < to {
        let s = std::str::from_utf8(&input[from..to])
            .map_err(|e| (from + e.valid_up_to(), "invalid UTF-8 in string"))?;
        out.push_str(s);
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

/// Length of the JSON number at the start of `b`, or the offset of the first bad byte.
/// A number must not be followed by a digit, letter or `.`.
pub(crate) fn number_len(b: &[u8]) -> Result<usize, usize> {
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

/// Why a JSON number is not an acceptable integer.
enum IntError {
    NotIntegral,
    Overflow,
}

/// Exact conversion of a valid JSON number token to sign and magnitude (`1e2`, `1.0` are
/// integers; `1.5` is not).
fn int_from_token(tok: &[u8]) -> Result<(bool, u64), IntError> {
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
        let mut acc: u64 = 0;
        for &d in int {
            acc = acc
                .checked_mul(10)
                .and_then(|a| a.checked_add((d - b'0') as u64))
                .ok_or(IntError::Overflow)?;
        }
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
    let mut acc: u64 = 0;
    for &d in digits().skip(lead).take(sig) {
        acc = acc
            .checked_mul(10)
            .and_then(|a| a.checked_add((d - b'0') as u64))
            .ok_or(IntError::Overflow)?;
    }
    for _ in 0..exp {
        acc = acc.checked_mul(10).ok_or(IntError::Overflow)?;
    }
    Ok((neg, acc))
}

/// Shows a value in an error message (quoted when it was a string; truncated when long).
/// Whether two object keys name the same field: equal, or one is the proto name
/// (`foo_bar`) whose lowerCamelCase JSON name is the other (`fooBar`).
fn same_field(a: &str, b: &str) -> bool {
    a == b || (a.contains('_') && camel_of(a, b)) || (b.contains('_') && camel_of(b, a))
}

/// Whether `camel` is the JSON name protoc derives from `snake`: underscores dropped,
/// each letter after one upper-cased.
fn camel_of(snake: &str, camel: &str) -> bool {
    let mut out = camel.chars();
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
            continue;
        }
        let want = if upper { c.to_ascii_uppercase() } else { c };
        upper = false;
        if out.next() != Some(want) {
            return false;
        }
    }
    out.next().is_none()
}

pub(crate) fn show(text: &str, quoted: bool) -> String {
    const MAX: usize = 40;
    let mut end = text.len().min(MAX);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let ell = if end < text.len() { "..." } else { "" };
    if quoted {
        format!("\"{}{ell}\"", &text[..end])
    } else {
        format!("{}{ell}", &text[..end])
    }
}

/// A number read from JSON: the token and whether it came from a string.
struct NumText<'a> {
    text: Cow<'a, str>,
    quoted: bool,
    start: usize,
}

impl<'a> JsonReader<'a> {
    /// Creates a reader over `input`.
    pub fn new(input: &'a [u8], opts: &JsonOptions) -> Self {
        JsonReader {
            input,
            pos: 0,
            opts: opts.clone(),
            depth: 0,
            path: Vec::new(),
            any_type_depth: 0,
            message_depth: 0,
            seen_keys: Vec::new(),
        }
    }

    /// Byte offset of the next unread byte.
    #[inline]
    pub fn position(&self) -> usize {
        self.pos
    }

    /// The options of this reader.
    #[inline]
    pub fn options(&self) -> &JsonOptions {
        &self.opts
    }

    pub(crate) fn set_position(&mut self, pos: usize) {
        self.pos = pos;
    }

    pub(crate) fn depth(&self) -> usize {
        self.depth
    }

    pub(crate) fn set_any_type_depth(&mut self, depth: usize) -> usize {
        std::mem::replace(&mut self.any_type_depth, depth)
    }

    /// Enters one protobuf message level (a message, a map entry); refuses nesting the
    /// protobuf decoder would refuse. Pair with [`leave_message`](Self::leave_message).
    pub(crate) fn enter_message(&mut self) -> Result<(), JsonError> {
        if self.message_depth > MAX_MESSAGE_DEPTH {
            return Err(self.error_at(
                JsonErrorKind::DepthLimit,
                self.pos,
                "exceeded the maximum protobuf message nesting depth of 100",
            ));
        }
        self.message_depth += 1;
        Ok(())
    }

    #[inline]
    pub(crate) fn leave_message(&mut self) {
        self.message_depth -= 1;
    }

    /// Sets the message level count (an `Any`'s content is decoded on its own, from 0);
    /// returns the previous one.
    pub(crate) fn set_message_depth(&mut self, depth: usize) -> usize {
        std::mem::replace(&mut self.message_depth, depth)
    }

    /// Called by the field readers: a field read from the top-level value (a `body` field
    /// binding) belongs to the request message, which has no JSON object of its own, so
    /// that message's level is counted here.
    #[inline]
    pub(crate) fn field_of_request(&mut self) {
        if self.depth == 0 && self.message_depth == 0 {
            self.message_depth = 1;
        }
    }

    // ----- errors -------------------------------------------------------------------------

    /// The JSON path of the value being read, e.g. `items[2].name`.
    pub fn path(&self) -> String {
        let mut out = String::new();
        for seg in &self.path {
            match *seg {
                Seg::Key(usize::MAX) | Seg::MapKey(usize::MAX) => {}
                Seg::Key(at) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    if let Ok((k, _)) = scan_string(self.input, at) {
                        out.push_str(&k);
                    }
                }
                Seg::MapKey(at) => {
                    out.push('[');
                    if let Ok((k, _)) = scan_string(self.input, at) {
                        out.push_str(&k);
                    }
                    out.push(']');
                }
                Seg::Index(i) => {
                    out.push('[');
                    out.push_str(itoa::Buffer::new().format(i));
                    out.push(']');
                }
            }
        }
        out
    }

    fn error_at(
        &self,
        kind: JsonErrorKind,
        offset: usize,
        msg: impl Into<Cow<'static, str>>,
    ) -> JsonError {
        JsonError::new(kind, msg).located(self.input, offset, Some(self.path()))
    }

    fn syntax(&self, offset: usize, msg: impl Into<Cow<'static, str>>) -> JsonError {
        self.error_at(JsonErrorKind::Syntax, offset, msg)
    }

    pub(crate) fn invalid(&self, offset: usize, msg: impl Into<Cow<'static, str>>) -> JsonError {
        self.error_at(JsonErrorKind::InvalidValue, offset, msg)
    }

    /// Creates a [`JsonErrorKind::Custom`] error at the current position, with the current path.
    pub fn error(&self, message: impl Into<String>) -> JsonError {
        self.locate(JsonError::custom(message), self.pos)
    }

    /// Adds position and path to an error that has none.
    pub(crate) fn locate(&self, e: JsonError, offset: usize) -> JsonError {
        if e.has_location() {
            e
        } else {
            e.located(self.input, offset, Some(self.path()))
        }
    }

    fn found(&self) -> &'static str {
        match self.input.get(self.pos) {
            None => "end of input",
            Some(b'"') => "string",
            Some(b'{') => "object",
            Some(b'[') => "array",
            Some(b't' | b'f') => "boolean",
            Some(b'n') => "null",
            Some(b'-' | b'0'..=b'9') => "number",
            Some(_) => "",
        }
    }

    fn unexpected(&self) -> JsonError {
        match self.input.get(self.pos) {
            None => self.syntax(self.pos, "unexpected end of input"),
            Some(&c) if c.is_ascii_graphic() => {
                self.syntax(self.pos, format!("unexpected character '{}'", c as char))
            }
            Some(&c) => self.syntax(self.pos, format!("unexpected byte 0x{c:02x}")),
        }
    }

    /// Error for a value of the wrong JSON type at the current position.
    fn mismatch(&self, expected: &str) -> JsonError {
        match self.found() {
            "" | "end of input" => self.unexpected(),
            found => self.invalid(self.pos, format!("expected {expected}, found {found}")),
        }
    }

    // ----- low level ----------------------------------------------------------------------

    #[inline]
    fn skip_ws(&mut self) {
        while let Some(&b) = self.input.get(self.pos) {
            if matches!(b, b' ' | b'\n' | b'\r' | b'\t') {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    /// Skips whitespace and returns the next byte without consuming it.
    #[inline]
    pub(crate) fn peek_value(&mut self) -> Option<u8> {
        self.skip_ws();
        self.input.get(self.pos).copied()
    }

    fn literal(&mut self, lit: &'static [u8]) -> Result<(), JsonError> {
        if self.input[self.pos..].starts_with(lit) {
            let end = self.pos + lit.len();
            if self
                .input
                .get(end)
                .is_some_and(|c| c.is_ascii_alphanumeric())
            {
                return Err(self.syntax(self.pos, "invalid literal"));
            }
            self.pos = end;
            Ok(())
        } else {
            Err(self.syntax(self.pos, "invalid literal"))
        }
    }

    /// Parses the string at `self.pos` (which must be a `"`).
    #[inline]
    fn string(&mut self) -> Result<Cow<'a, str>, JsonError> {
        match scan_string(self.input, self.pos) {
            Ok((s, end)) => {
                self.pos = end;
                Ok(s)
            }
            Err((at, msg)) => Err(self.syntax(at, msg)),
        }
    }

    /// Scans the number at `self.pos`.
    #[inline]
    fn number(&mut self) -> Result<&'a str, JsonError> {
        let start = self.pos;
        match number_len(&self.input[start..]) {
            Ok(len) => {
                self.pos += len;
                // ASCII by construction
                std::str::from_utf8(&self.input[start..start + len])
                    .map_err(|_| self.syntax(start, "invalid number"))
            }
            Err(off) => Err(self.syntax(start + off, "invalid number")),
        }
    }

    fn enter(&mut self, seg: Seg) -> Result<(), JsonError> {
        if self.depth >= MAX_DEPTH {
            return Err(self.error_at(
                JsonErrorKind::DepthLimit,
                self.pos,
                "exceeded the maximum nesting depth of 100",
            ));
        }
        self.depth += 1;
        self.path.push(seg);
        Ok(())
    }

    #[inline]
    fn leave(&mut self) {
        self.depth -= 1;
        self.path.pop();
    }

    #[inline]
    fn set_seg(&mut self, seg: Seg) {
        if let Some(top) = self.path.last_mut() {
            *top = seg;
        }
    }

    /// After a member: `,` (then a key must follow) or `}`; returns true at the end.
    fn after_member(&mut self, what: &'static str) -> Result<bool, JsonError> {
        self.skip_ws();
        match self.input.get(self.pos) {
            Some(b',') => {
                self.pos += 1;
                self.skip_ws();
                match self.input.get(self.pos) {
                    Some(b'"') => Ok(false),
                    Some(b'}') => Err(self.syntax(self.pos, "trailing comma in object")),
                    _ => Err(self.syntax(self.pos, "expected a string key after ','")),
                }
            }
            Some(b'}') => {
                self.pos += 1;
                Ok(true)
            }
            _ => Err(self.syntax(self.pos, what)),
        }
    }

    fn colon(&mut self) -> Result<(), JsonError> {
        self.skip_ws();
        if self.input.get(self.pos) != Some(&b':') {
            return Err(self.syntax(self.pos, "expected ':' after an object key"));
        }
        self.pos += 1;
        self.skip_ws();
        Ok(())
    }

    /// After `{` and whitespace: true when the object is empty (`}` consumed).
    fn object_start(&mut self) -> Result<bool, JsonError> {
        self.skip_ws();
        match self.input.get(self.pos) {
            Some(b'}') => {
                self.pos += 1;
                Ok(true)
            }
            Some(b'"') => Ok(false),
            _ => Err(self.syntax(self.pos, "expected a string key or '}'")),
        }
    }

    /// After an element: `,` or `]`; returns true at the end.
    fn after_element(&mut self) -> Result<bool, JsonError> {
        self.skip_ws();
        match self.input.get(self.pos) {
            Some(b',') => {
                self.pos += 1;
                self.skip_ws();
                if self.input.get(self.pos) == Some(&b']') {
                    return Err(self.syntax(self.pos, "trailing comma in array"));
                }
                Ok(false)
            }
            Some(b']') => {
                self.pos += 1;
                Ok(true)
            }
            _ => Err(self.syntax(self.pos, "expected ',' or ']' after an array element")),
        }
    }

    // ----- structure ----------------------------------------------------------------------

    /// Reads an object, calling `f(reader, key)` for each key.
    ///
    /// `f` must consume the value and return `Ok(true)`, or return `Ok(false)` without
    /// consuming it for an unknown key; the value is then skipped, or an
    /// `unknown field` error is returned when [`JsonOptions::ignore_unknown_fields`] is false.
    /// `null` instead of an object is accepted as "nothing". Errors returned by `f` without a
    /// location get the position of the value and the current path.
    pub fn object(
        &mut self,
        f: impl FnMut(&mut Self, &str) -> Result<bool, JsonError>,
    ) -> Result<(), JsonError> {
        self.object_checked(f, true)
    }

    /// [`object`](Self::object) without the duplicate-field check: for a first look at an
    /// `Any`, whose keys belong to the message inside, checked when that is read.
    pub(crate) fn object_unchecked(
        &mut self,
        f: impl FnMut(&mut Self, &str) -> Result<bool, JsonError>,
    ) -> Result<(), JsonError> {
        self.object_checked(f, false)
    }

    fn object_checked(
        &mut self,
        mut f: impl FnMut(&mut Self, &str) -> Result<bool, JsonError>,
        check_duplicates: bool,
    ) -> Result<(), JsonError> {
        match self.peek_value() {
            Some(b'{') => {}
            Some(b'n') => return self.literal(b"null"),
            _ => return Err(self.mismatch("an object")),
        }
        self.enter(Seg::Key(usize::MAX))?;
        self.enter_message()?;
        self.pos += 1;
        let skip_type = self.any_type_depth == self.depth;
        if self.object_start()? {
            self.leave_message();
            self.leave();
            return Ok(());
        }
        let seen_from = self.seen_keys.len();
        loop {
            let key_pos = self.pos;
            let key = self.string()?;
            self.set_seg(Seg::Key(key_pos));
            self.colon()?;
            let value_pos = self.pos;
            let known = if skip_type && key == "@type" {
                self.skip_value()?;
                true
            } else {
                match f(self, &key) {
                    Ok(known) => known,
                    Err(e) => return Err(self.locate(e, value_pos)),
                }
            };
            if known && check_duplicates {
                // As Go's protojson: a field given twice (under either of its names)
                // is an error, not "last one wins".
                if self.seen_keys[seen_from..]
                    .iter()
                    .any(|seen| same_field(seen, &key))
                {
                    let msg = format!("duplicate field {}", show(&key, true));
                    return Err(self.invalid(key_pos, msg));
                }
                self.seen_keys.push(key);
            }
            if !known {
                if self.opts.ignore_unknown_fields {
                    self.skip_value()?;
                } else {
                    let msg = format!("unknown field \"{}\"", self.path());
                    return Err(self.error_at(JsonErrorKind::UnknownField, key_pos, msg));
                }
            }
            if self.after_member("expected ',' or '}' after an object member")? {
                break;
            }
        }
        self.seen_keys.truncate(seen_from);
        self.leave_message();
        self.leave();
        Ok(())
    }

    /// Reads an array, calling `f` for each element (which `f` must consume);
    /// `null` counts as an empty array.
    pub fn array(
        &mut self,
        mut f: impl FnMut(&mut Self) -> Result<(), JsonError>,
    ) -> Result<(), JsonError> {
        match self.peek_value() {
            Some(b'[') => {}
            Some(b'n') => return self.literal(b"null"),
            _ => return Err(self.mismatch("an array")),
        }
        self.enter(Seg::Index(0))?;
        self.pos += 1;
        self.skip_ws();
        if self.input.get(self.pos) == Some(&b']') {
            self.pos += 1;
            self.leave();
            return Ok(());
        }
        let mut index = 0;
        loop {
            self.set_seg(Seg::Index(index));
            self.skip_ws();
            let value_pos = self.pos;
            if let Err(e) = f(self) {
                return Err(self.locate(e, value_pos));
            }
            if self.after_element()? {
                break;
            }
            index += 1;
        }
        self.leave();
        Ok(())
    }

    /// Reads an object as a protobuf map: `f(reader, key)` must consume the value
    /// (parse non-string keys with [`parse_map_key`]); `null` counts as an empty map.
    pub fn map(
        &mut self,
        mut f: impl FnMut(&mut Self, &str) -> Result<(), JsonError>,
    ) -> Result<(), JsonError> {
        match self.peek_value() {
            Some(b'{') => {}
            Some(b'n') => return self.literal(b"null"),
            _ => return Err(self.mismatch("an object")),
        }
        self.enter(Seg::MapKey(usize::MAX))?;
        self.pos += 1;
        if self.object_start()? {
            self.leave();
            return Ok(());
        }
        loop {
            let key_pos = self.pos;
            let key = self.string()?;
            self.set_seg(Seg::MapKey(key_pos));
            self.colon()?;
            let value_pos = self.pos;
            // Each entry is a message (key, value) to the protobuf decoder.
            self.enter_message()?;
            if let Err(e) = f(self, &key) {
                return Err(self.locate(e, value_pos));
            }
            self.leave_message();
            if self.after_member("expected ',' or '}' after a map entry")? {
                break;
            }
        }
        self.leave();
        Ok(())
    }

    /// If the next value is `null`, consumes it and returns true.
    #[inline]
    pub fn try_null(&mut self) -> Result<bool, JsonError> {
        if self.peek_value() == Some(b'n') {
            self.literal(b"null")?;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    /// Skips one complete value, validating it.
    pub fn skip_value(&mut self) -> Result<(), JsonError> {
        match self.peek_value() {
            Some(b'{') => {
                self.enter(Seg::Key(usize::MAX))?;
                self.pos += 1;
                if !self.object_start()? {
                    loop {
                        let key_pos = self.pos;
                        self.string()?;
                        self.set_seg(Seg::Key(key_pos));
                        self.colon()?;
                        self.skip_value()?;
                        if self.after_member("expected ',' or '}' after an object member")? {
                            break;
                        }
                    }
                }
                self.leave();
                Ok(())
            }
            Some(b'[') => {
                self.enter(Seg::Index(0))?;
                self.pos += 1;
                self.skip_ws();
                if self.input.get(self.pos) == Some(&b']') {
                    self.pos += 1;
                } else {
                    let mut index = 0;
                    loop {
                        self.set_seg(Seg::Index(index));
                        self.skip_value()?;
                        if self.after_element()? {
                            break;
                        }
                        index += 1;
                    }
                }
                self.leave();
                Ok(())
            }
            Some(b'"') => self.string().map(drop),
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            Some(b'-' | b'0'..=b'9') => self.number().map(drop),
            _ => Err(self.unexpected()),
        }
    }

    /// After the top-level value: only whitespace may follow.
    pub fn finish(&mut self) -> Result<(), JsonError> {
        self.skip_ws();
        if self.pos < self.input.len() {
            return Err(self.syntax(self.pos, "unexpected data after the top-level value"));
        }
        Ok(())
    }

    // ----- scalars ------------------------------------------------------------------------

    /// Reads `true` or `false`.
    pub fn read_bool(&mut self) -> Result<bool, JsonError> {
        match self.peek_value() {
            Some(b't') => self.literal(b"true").map(|_| true),
            Some(b'f') => self.literal(b"false").map(|_| false),
            _ => Err(self.mismatch("a boolean")),
        }
    }

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
    fn read_int_as<T: TryFrom<i128>>(
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

    /// Reads an enum: a string name (looked up with `from_name`) or an integer.
    /// An unknown name is an error naming the value.
    pub fn read_enum(&mut self, from_name: impl Fn(&str) -> Option<i32>) -> Result<i32, JsonError> {
        match self.peek_value() {
            Some(b'"') => {
                let at = self.pos;
                let name = self.string()?;
                from_name(&name).ok_or_else(|| {
                    self.invalid(at, format!("unknown enum value {}", show(&name, true)))
                })
            }
            Some(b'-' | b'0'..=b'9') => self.read_i32(),
            _ => Err(self.mismatch("an enum name or number")),
        }
    }

    /// Reads an enum as [`read_enum`](Self::read_enum) does, except that an
    /// unknown name is `None` when unknown fields are ignored (Go's
    /// `protojson` with `DiscardUnknown` drops such a value: the field stays
    /// as it was, a list element or map entry is left out).
    pub fn read_known_enum(
        &mut self,
        from_name: impl Fn(&str) -> Option<i32>,
    ) -> Result<Option<i32>, JsonError> {
        if self.peek_value() == Some(b'"') && self.opts.ignore_unknown_fields {
            let name = self.string()?;
            return Ok(from_name(&name));
        }
        self.read_enum(from_name).map(Some)
    }

    /// Reads a message (`m.merge_json(self)`).
    #[inline]
    pub fn read_message<T: JsonMessage>(&mut self, m: &mut T) -> Result<(), JsonError> {
        m.merge_json(self)
    }
}

/// A protobuf map key type; JSON map keys are always strings.
pub trait MapKey: Sized {
    /// Parses a JSON object key.
    fn parse_map_key(key: &str) -> Result<Self, JsonError>;
}

impl MapKey for String {
    fn parse_map_key(key: &str) -> Result<Self, JsonError> {
        Ok(key.to_owned())
    }
}

impl MapKey for bool {
    fn parse_map_key(key: &str) -> Result<Self, JsonError> {
        match key {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(bad_key(key, "a bool")),
        }
    }
}

fn bad_key(key: &str, expected: &str) -> JsonError {
    JsonError::new(
        JsonErrorKind::InvalidValue,
        format!("invalid map key {}: expected {expected}", show(key, true)),
    )
}

macro_rules! int_map_key {
    ($($t:ty => $what:literal),*) => {$(
        impl MapKey for $t {
            fn parse_map_key(key: &str) -> Result<Self, JsonError> {
                crate::text::parse_decimal(key)
                    .and_then(|(neg, mag)| {
                        let v = if neg { -(mag as i128) } else { mag as i128 };
                        <$t>::try_from(v).ok()
                    })
                    .ok_or_else(|| bad_key(key, $what))
            }
        }
    )*};
}
int_map_key!(i32 => "an int32", i64 => "an int64", u32 => "a uint32", u64 => "a uint64");

/// Parses a JSON map key (always a string) to the map's key type
/// (`String`, `bool` from `"true"`/`"false"`, or decimal `i32`, `i64`, `u32`, `u64`).
pub fn parse_map_key<K: MapKey>(key: &str) -> Result<K, JsonError> {
    K::parse_map_key(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> JsonOptions {
        JsonOptions::default()
    }

    fn rd(s: &str) -> JsonReader<'_> {
        JsonReader::new(s.as_bytes(), &DEFAULT)
    }

    static DEFAULT: JsonOptions = JsonOptions {
        emit_defaults: true,
        use_proto_names: false,
        ignore_unknown_fields: true,
    };

    /// Runs `f` on a fresh reader over `s`, then requires the end of input.
    fn read<T>(
        s: &str,
        f: impl FnOnce(&mut JsonReader<'_>) -> Result<T, JsonError>,
    ) -> Result<T, JsonError> {
        let mut r = rd(s);
        let v = f(&mut r)?;
        r.finish()?;
        Ok(v)
    }

    fn err_of<T: std::fmt::Debug>(
        s: &str,
        f: impl FnOnce(&mut JsonReader<'_>) -> Result<T, JsonError>,
    ) -> String {
        read(s, f).unwrap_err().to_string()
    }

    fn skip(s: &str) -> Result<(), JsonError> {
        read(s, |r| r.skip_value())
    }

    #[test]
    fn default_options() {
        assert_eq!(opts(), DEFAULT);
        let r = rd("");
        assert_eq!(r.options(), &DEFAULT);
        assert_eq!(r.position(), 0);
    }

    #[test]
    fn skip_accepts_valid_json() {
        for s in [
            "null",
            "true",
            "false",
            "0",
            "-0",
            "1",
            "-1.5e+10",
            "0.0",
            "1E5",
            "1e-0",
            "\"\"",
            "\"a\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\uD83D\\uDE00\"",
            "[]",
            "{}",
            " [ 1 , [ ] , { } ] ",
            "{\"a\":{\"b\":[null,{\"c\":\"d\"}]},\"a\":1}",
            "\"é😀\"",
            "\t\r\n 1 \t\r\n",
        ] {
            skip(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        }
    }

    #[test]
    fn skip_rejects_invalid_json() {
        let table: &[(&[u8], &str)] = &[
            (b"", "unexpected end of input at line 1 column 1"),
            (b"  ", "unexpected end of input at line 1 column 3"),
            (b"[1,]", "trailing comma in array at line 1 column 4"),
            (b"{\"a\":1,}", "trailing comma in object at line 1 column 8"),
            (
                b"[1 2]",
                "expected ',' or ']' after an array element at line 1 column 4",
            ),
            (
                b"[1",
                "expected ',' or ']' after an array element at line 1 column 3",
            ),
            (b"[,1]", "unexpected character ',' at line 1 column 2"),
            (b"{,}", "expected a string key or '}' at line 1 column 2"),
            (
                b"{\"a\" 1}",
                "expected ':' after an object key at line 1 column 6",
            ),
            (
                b"{\"a\":1 \"b\":2}",
                "expected ',' or '}' after an object member at line 1 column 8",
            ),
            (
                b"{\"a\":1,2}",
                "expected a string key after ',' at line 1 column 8",
            ),
            (b"{a:1}", "expected a string key or '}' at line 1 column 2"),
            (
                b"{'a':1}",
                "expected a string key or '}' at line 1 column 2",
            ),
            (b"'a'", "unexpected character ''' at line 1 column 1"),
            (
                b"\"a\x01\"",
                "unescaped control character in string at line 1 column 3",
            ),
            (
                b"\"a\nb\"",
                "unescaped control character in string at line 1 column 3",
            ),
            (
                b"\"\\x\"",
                "invalid escape sequence in string at line 1 column 2",
            ),
            (
                b"\"\\u12\"",
                "invalid \\u escape in string at line 1 column 2",
            ),
            (
                b"\"\\u12G4\"",
                "invalid \\u escape in string at line 1 column 2",
            ),
            (
                b"\"\\uD800\"",
                "lone surrogate in string at line 1 column 2",
            ),
            (
                b"\"\\uDC00\"",
                "lone surrogate in string at line 1 column 2",
            ),
            (
                b"\"\\uD800\\u0041\"",
                "lone surrogate in string at line 1 column 2",
            ),
            (
                b"\"\\uD800x\"",
                "lone surrogate in string at line 1 column 2",
            ),
            (b"\"a\xff\"", "invalid UTF-8 in string at line 1 column 3"),
            (b"\"\xc3\"", "invalid UTF-8 in string at line 1 column 2"),
            (
                b"\"\xed\xa0\x80\"",
                "invalid UTF-8 in string at line 1 column 2",
            ),
            (b"\"\\n\xff\"", "invalid UTF-8 in string at line 1 column 4"),
            (b"\"abc", "unterminated string at line 1 column 1"),
            (b"\"abc\\", "unterminated string at line 1 column 1"),
            (b"\"abc\\\"", "unterminated string at line 1 column 1"),
            (b"01", "invalid number at line 1 column 2"),
            (b"-01", "invalid number at line 1 column 3"),
            (b"+1", "unexpected character '+' at line 1 column 1"),
            (b".5", "unexpected character '.' at line 1 column 1"),
            (b"1.", "invalid number at line 1 column 3"),
            (b"1.e5", "invalid number at line 1 column 3"),
            (b"1e", "invalid number at line 1 column 3"),
            (b"1e+", "invalid number at line 1 column 4"),
            (b"-", "invalid number at line 1 column 2"),
            (b"1x", "invalid number at line 1 column 2"),
            (b"0x10", "invalid number at line 1 column 2"),
            (b"1.5.5", "invalid number at line 1 column 4"),
            (b"NaN", "unexpected character 'N' at line 1 column 1"),
            (b"Infinity", "unexpected character 'I' at line 1 column 1"),
            (b"-Infinity", "invalid number at line 1 column 2"),
            (b"tru", "invalid literal at line 1 column 1"),
            (b"nul", "invalid literal at line 1 column 1"),
            (b"nulll", "invalid literal at line 1 column 1"),
            (b"True", "unexpected character 'T' at line 1 column 1"),
            (
                b"1 2",
                "unexpected data after the top-level value at line 1 column 3",
            ),
            (
                b"{} x",
                "unexpected data after the top-level value at line 1 column 4",
            ),
            (b"\xef\xbb\xbf1", "unexpected byte 0xef at line 1 column 1"),
            (b"\x00", "unexpected byte 0x00 at line 1 column 1"),
            (
                b"[1]]",
                "unexpected data after the top-level value at line 1 column 4",
            ),
        ];
        for (input, want) in table {
            let mut r = JsonReader::new(input, &DEFAULT);
            let e = r.skip_value().and_then(|_| r.finish()).unwrap_err();
            assert_eq!(
                e.to_string(),
                *want,
                "input {:?}",
                String::from_utf8_lossy(input)
            );
            assert!(
                matches!(e.kind(), JsonErrorKind::Syntax),
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn depth_limit() {
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        skip(&ok).unwrap();
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        let e = skip(&deep).unwrap_err();
        assert_eq!(e.kind(), JsonErrorKind::DepthLimit);
        assert_eq!(
            e.to_string(),
            "exceeded the maximum nesting depth of 100 at line 1 column 101"
        );
        let objs = "{\"a\":".repeat(100_000);
        assert_eq!(skip(&objs).unwrap_err().kind(), JsonErrorKind::DepthLimit);
        let arrays = "[".repeat(100_000);
        assert_eq!(skip(&arrays).unwrap_err().kind(), JsonErrorKind::DepthLimit);
        // object()/array() share the same limit
        fn nest(r: &mut JsonReader<'_>) -> Result<(), JsonError> {
            r.array(nest)
        }
        assert_eq!(read(&ok, nest).map(|_| ()), Ok(()));
        assert_eq!(
            read(&deep, nest).unwrap_err().kind(),
            JsonErrorKind::DepthLimit
        );
    }

    #[derive(Debug, Default, PartialEq)]
    struct Item {
        id: i32,
        name: String,
        tags: Vec<String>,
    }

    fn item(r: &mut JsonReader<'_>) -> Result<Item, JsonError> {
        let mut it = Item::default();
        r.object(|r, key| {
            match key {
                "id" => it.id = r.read_i32()?,
                "name" => it.name = r.read_string()?,
                "tags" => r.array(|r| {
                    it.tags.push(r.read_string()?);
                    Ok(())
                })?,
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        Ok(it)
    }

    fn items(r: &mut JsonReader<'_>) -> Result<Vec<Item>, JsonError> {
        let mut out = Vec::new();
        r.object(|r, key| {
            if key != "items" {
                return Ok(false);
            }
            r.array(|r| {
                out.push(item(r)?);
                Ok(())
            })?;
            Ok(true)
        })?;
        Ok(out)
    }

    #[test]
    fn objects_and_arrays() {
        let got = read(
            r#" { "items" : [ {"id": 1, "name": "a", "tags": ["x", "y"]}, {"unknown": {"deep": [1, "x"]}, "id": "2"}, null ], "other": null } "#,
            items,
        )
        .unwrap();
        assert_eq!(
            got,
            vec![
                Item {
                    id: 1,
                    name: "a".into(),
                    tags: vec!["x".into(), "y".into()]
                },
                Item {
                    id: 2,
                    ..Item::default()
                },
                Item::default(),
            ]
        );
        assert_eq!(read("null", items).unwrap(), vec![]);
        assert_eq!(read("{\"items\": null}", items).unwrap(), vec![]);
        assert_eq!(read("{\"items\": []}", items).unwrap(), vec![]);
        // a field given twice is an error, as in Go's protojson; unknown keys are not
        // checked, and each object has its own keys
        assert_eq!(
            err_of(r#"{"id": 1, "id": 2}"#, item),
            "invalid value for field \"id\": duplicate field \"id\" at line 1 column 11"
        );
        assert_eq!(read(r#"{"x": 1, "x": 2, "id": 3}"#, item).unwrap().id, 3);
        assert_eq!(
            read(r#"{"items": [{"id": 1}, {"id": 2}]}"#, items)
                .unwrap()
                .len(),
            2
        );
        assert!(same_field("foo_bar", "fooBar") && same_field("fooBar", "foo_bar"));
        assert!(same_field("a_b_c", "aBC") && !same_field("foo_bar", "foobar"));
        assert!(!same_field("foo", "fooBar") && same_field("x", "x"));
        assert_eq!(
            err_of("[]", items),
            "invalid value: expected an object, found array at line 1 column 1"
        );
        assert_eq!(
            err_of("{\"items\": {}}", items),
            "invalid value for field \"items\": expected an array, found object at line 1 column 11"
        );
    }

    #[test]
    fn error_paths_and_positions() {
        let input = "{\"items\": [\n  {\"name\": \"a\"}, {\"name\": \"b\"},\n    {\"name\": 5}]}";
        let e = read(input, items).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid value for field \"items[2].name\": expected a string, found number at line 3 column 14"
        );
        assert_eq!(e.kind(), JsonErrorKind::InvalidValue);
        assert_eq!(e.path(), Some("items[2].name"));
        assert_eq!((e.line(), e.column()), (Some(3), Some(14)));
        assert_eq!(e.offset(), Some(input.find('5').unwrap()));
        assert_eq!(e.message(), "expected a string, found number");

        let e = read("{\"a\": 1, \"b\": 2 \"c\": 3}", |r| r.skip_value()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "expected ',' or '}' after an object member at line 1 column 17"
        );
        assert_eq!(e.path(), Some("b"));

        let e = read("{\"items\":[{\"tags\":[\"a\",7]}]}", items).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid value for field \"items[0].tags[1]\": expected a string, found number at line 1 column 24"
        );
        // escaped keys are decoded in the path
        let e = read("{\"it\\u0065ms\":[{\"id\":true}]}", |r| {
            r.object(|r, key| {
                assert_eq!(key, "items");
                r.array(|r| item(r).map(drop))?;
                Ok(true)
            })
        })
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid value for field \"items[0].id\": expected an int32, found boolean at line 1 column 22"
        );
    }

    #[test]
    fn unknown_fields() {
        let strict = JsonOptions {
            ignore_unknown_fields: false,
            ..JsonOptions::default()
        };
        let input = b"{\"items\":[{\"id\":1,\n\"nope\":[1,2]}]}";
        let mut r = JsonReader::new(input, &strict);
        let e = items(&mut r).unwrap_err();
        assert_eq!(e.kind(), JsonErrorKind::UnknownField);
        assert_eq!(
            e.to_string(),
            "unknown field \"items[0].nope\" at line 2 column 1"
        );
        let mut r = JsonReader::new(input, &DEFAULT);
        assert_eq!(items(&mut r).unwrap()[0].id, 1);
        // unknown values are still validated when skipped
        assert!(read("{\"nope\": [1,]}", item).is_err());
    }

    #[test]
    fn custom_errors_get_location_and_path() {
        let input = "{\"a\": {\"b\": 1,\n \"c\": 2}}";
        let e = read(input, |r| {
            r.object(|r, _| {
                r.object(|r, key| {
                    if key == "c" {
                        return Err(JsonError::custom("oneof field already set"));
                    }
                    r.read_i32().map(|_| true)
                })?;
                Ok(true)
            })
        })
        .unwrap_err();
        assert_eq!(e.kind(), JsonErrorKind::Custom);
        assert_eq!(
            e.to_string(),
            "invalid value for field \"a.c\": oneof field already set at line 2 column 7"
        );
        let e = read("[1, 2]", |r| {
            r.array(|r| {
                let v = r.read_i32()?;
                if v == 2 {
                    return Err(r.error("two"));
                }
                Ok(())
            })
        })
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid value for field \"[1]\": two at line 1 column 6"
        );
    }

    #[test]
    fn maps() {
        let mut m: Vec<(i64, bool)> = Vec::new();
        read(r#"{"-5": true, "7": false}"#, |r| {
            r.map(|r, k| {
                m.push((parse_map_key(k)?, r.read_bool()?));
                Ok(())
            })
        })
        .unwrap();
        assert_eq!(m, [(-5, true), (7, false)]);
        read("null", |r| r.map(|_, _| panic!("no entries"))).unwrap();
        read("{}", |r| r.map(|_, _| panic!("no entries"))).unwrap();
        assert!(parse_map_key::<bool>("true").unwrap());
        assert!(!parse_map_key::<bool>("false").unwrap());
        assert!(parse_map_key::<bool>("1").is_err());
        assert_eq!(parse_map_key::<String>("x y").unwrap(), "x y");
        assert_eq!(parse_map_key::<i32>("-2147483648").unwrap(), i32::MIN);
        assert!(parse_map_key::<i32>("2147483648").is_err());
        assert_eq!(parse_map_key::<u32>("4294967295").unwrap(), u32::MAX);
        assert!(parse_map_key::<u32>("-1").is_err());
        assert_eq!(
            parse_map_key::<u64>("18446744073709551615").unwrap(),
            u64::MAX
        );
        assert!(parse_map_key::<i64>("1.0").is_err());
        assert!(parse_map_key::<i64>("").is_err());
        let e = read(r#"{"labels": {"a": 1, "x": 2}}"#, |r| {
            r.object(|r, _| {
                r.map(|r, k| {
                    let _: u32 = r.read_u32()?;
                    parse_map_key::<i32>(k).map(drop)
                })?;
                Ok(true)
            })
        })
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid value for field \"labels[a]\": invalid map key \"a\": expected an int32 at line 1 column 18"
        );
        assert_eq!(
            err_of(r#"{"a": 1 "b": 2}"#, |r| r
                .map(|r, _| r.read_i32().map(drop))),
            "expected ',' or '}' after a map entry at line 1 column 9"
        );
        assert_eq!(
            err_of(r#"{"a": true}"#, |r| r.map(|r, _| r.read_i32().map(drop))),
            "invalid value for field \"[a]\": expected an int32, found boolean at line 1 column 7"
        );
    }

    #[test]
    fn null_handling() {
        let mut r = rd(" null ");
        assert!(r.try_null().unwrap());
        r.finish().unwrap();
        let mut r = rd(" 1");
        assert!(!r.try_null().unwrap());
        assert_eq!(r.position(), 1);
        assert!(rd("nul").try_null().is_err());
        assert_eq!(
            err_of("null", |r| r.read_i32()),
            "invalid value: expected an int32, found null at line 1 column 1"
        );
        assert_eq!(
            err_of("null", |r| r.read_string()),
            "invalid value: expected a string, found null at line 1 column 1"
        );
    }

    #[test]
    fn bools() {
        assert_eq!(read("true", |r| r.read_bool()), Ok(true));
        assert_eq!(read(" false ", |r| r.read_bool()), Ok(false));
        assert_eq!(
            err_of("\"true\"", |r| r.read_bool()),
            "invalid value: expected a boolean, found string at line 1 column 1"
        );
        assert_eq!(
            err_of("1", |r| r.read_bool()),
            "invalid value: expected a boolean, found number at line 1 column 1"
        );
        assert!(read("truex", |r| r.read_bool()).is_err());
    }

    #[test]
    fn int32_and_uint32() {
        let ok: &[(&str, i32)] = &[
            ("0", 0),
            ("-0", 0),
            ("1", 1),
            ("-2147483648", i32::MIN),
            ("2147483647", i32::MAX),
            ("\"-2147483648\"", i32::MIN),
            ("1e2", 100),
            ("\"1e2\"", 100),
            ("1.0", 1),
            ("1.50e1", 15),
            ("-1.5e1", -15),
            ("0.0001e4", 1),
            ("100e-2", 1),
            ("1E+2", 100),
            ("0e999999999999999999999", 0),
            ("\"\\u0031\"", 1),
            ("2147483647.000000000000000000000000", i32::MAX),
        ];
        for (s, want) in ok {
            assert_eq!(read(s, |r| r.read_i32()), Ok(*want), "{s}");
        }
        let errs: &[(&str, &str)] = &[
            (
                "1.5",
                "invalid value: expected an int32, found 1.5 at line 1 column 1",
            ),
            (
                "\"1.5\"",
                "invalid value: expected an int32, found \"1.5\" at line 1 column 1",
            ),
            (
                "1e-1",
                "invalid value: expected an int32, found 1e-1 at line 1 column 1",
            ),
            (
                "\"abc\"",
                "invalid value: expected an int32, found \"abc\" at line 1 column 1",
            ),
            (
                "\" 1\"",
                "invalid value: expected an int32, found \" 1\" at line 1 column 1",
            ),
            (
                "\"+1\"",
                "invalid value: expected an int32, found \"+1\" at line 1 column 1",
            ),
            (
                "\"01\"",
                "invalid value: expected an int32, found \"01\" at line 1 column 1",
            ),
            (
                "\"\"",
                "invalid value: expected an int32, found \"\" at line 1 column 1",
            ),
            (
                "2147483648",
                "invalid value: int32 value out of range: 2147483648 at line 1 column 1",
            ),
            (
                "-2147483649",
                "invalid value: int32 value out of range: -2147483649 at line 1 column 1",
            ),
            (
                "1e10",
                "invalid value: int32 value out of range: 1e10 at line 1 column 1",
            ),
            (
                "1e99999999999999999999",
                "invalid value: int32 value out of range: 1e99999999999999999999 at line 1 column 1",
            ),
            (
                "true",
                "invalid value: expected an int32, found boolean at line 1 column 1",
            ),
            (
                "[1]",
                "invalid value: expected an int32, found array at line 1 column 1",
            ),
            ("1.", "invalid number at line 1 column 3"),
            ("-", "invalid number at line 1 column 2"),
        ];
        for (s, want) in errs {
            assert_eq!(err_of(s, |r| r.read_i32()), *want, "{s}");
        }
        assert_eq!(read("4294967295", |r| r.read_u32()), Ok(u32::MAX));
        assert_eq!(read("\"4294967295\"", |r| r.read_u32()), Ok(u32::MAX));
        assert_eq!(read("-0", |r| r.read_u32()), Ok(0));
        assert_eq!(
            err_of("-1", |r| r.read_u32()),
            "invalid value: uint32 value out of range: -1 at line 1 column 1"
        );
        assert_eq!(
            err_of("4294967296", |r| r.read_u32()),
            "invalid value: uint32 value out of range: 4294967296 at line 1 column 1"
        );
    }

    #[test]
    fn int64_and_uint64_are_exact() {
        let ok: &[(&str, i64)] = &[
            ("\"-9223372036854775808\"", i64::MIN),
            ("\"9223372036854775807\"", i64::MAX),
            ("9223372036854775807", i64::MAX),
            ("-9223372036854775808", i64::MIN),
            ("\"9007199254740993\"", 9_007_199_254_740_993),
            ("9007199254740993", 9_007_199_254_740_993),
            ("\"1e18\"", 1_000_000_000_000_000_000),
            ("9.223372036854775807e18", i64::MAX),
        ];
        for (s, want) in ok {
            assert_eq!(read(s, |r| r.read_i64()), Ok(*want), "{s}");
        }
        assert_eq!(
            err_of("\"9223372036854775808\"", |r| r.read_i64()),
            "invalid value: int64 value out of range: \"9223372036854775808\" at line 1 column 1"
        );
        assert!(read("\"-9223372036854775809\"", |r| r.read_i64()).is_err());
        assert!(read("9.2233720368547758075e18", |r| r.read_i64()).is_err());
        assert_eq!(
            read("\"18446744073709551615\"", |r| r.read_u64()),
            Ok(u64::MAX)
        );
        assert_eq!(read("18446744073709551615", |r| r.read_u64()), Ok(u64::MAX));
        assert_eq!(
            err_of("18446744073709551616", |r| r.read_u64()),
            "invalid value: uint64 value out of range: 18446744073709551616 at line 1 column 1"
        );
        assert_eq!(
            err_of("\"-1\"", |r| r.read_u64()),
            "invalid value: uint64 value out of range: \"-1\" at line 1 column 1"
        );
        assert!(read("123456789012345678901234567890", |r| r.read_u64()).is_err());
        assert!(read("1e20", |r| r.read_u64()).is_err());
        assert_eq!(
            read("1e19", |r| r.read_u64()),
            Ok(10_000_000_000_000_000_000)
        );
    }

    #[test]
    fn floats() {
        let ok: &[(&str, f64)] = &[
            ("0", 0.0),
            ("1.5", 1.5),
            ("-1e-7", -1e-7),
            ("\"1.5\"", 1.5),
            ("\"Infinity\"", f64::INFINITY),
            ("\"-Infinity\"", f64::NEG_INFINITY),
            ("1.7976931348623157e308", f64::MAX),
            ("5e-324", 5e-324),
            ("1e-400", 0.0),
            ("123456789012345678901234567890", 1.2345678901234568e29),
        ];
        for (s, want) in ok {
            assert_eq!(read(s, |r| r.read_f64()), Ok(*want), "{s}");
        }
        assert!(read("\"NaN\"", |r| r.read_f64()).unwrap().is_nan());
        assert!(read("-0", |r| r.read_f64()).unwrap().is_sign_negative());
        let errs: &[(&str, &str)] = &[
            (
                "1e309",
                "invalid value: double value out of range: 1e309 at line 1 column 1",
            ),
            (
                "\"nan\"",
                "invalid value: expected a double, found \"nan\" at line 1 column 1",
            ),
            (
                "\"inf\"",
                "invalid value: expected a double, found \"inf\" at line 1 column 1",
            ),
            (
                "\"1.5 \"",
                "invalid value: expected a double, found \"1.5 \" at line 1 column 1",
            ),
            (
                "\".5\"",
                "invalid value: expected a double, found \".5\" at line 1 column 1",
            ),
            (
                "true",
                "invalid value: expected a double, found boolean at line 1 column 1",
            ),
            ("NaN", "unexpected character 'N' at line 1 column 1"),
        ];
        for (s, want) in errs {
            assert_eq!(err_of(s, |r| r.read_f64()), *want, "{s}");
        }
        assert_eq!(read("0.1", |r| r.read_f32()), Ok(0.1f32));
        assert_eq!(read("3.4028235e38", |r| r.read_f32()), Ok(f32::MAX));
        assert_eq!(
            read("\"-Infinity\"", |r| r.read_f32()),
            Ok(f32::NEG_INFINITY)
        );
        assert!(read("\"NaN\"", |r| r.read_f32()).unwrap().is_nan());
        assert_eq!(
            err_of("3.5e38", |r| r.read_f32()),
            "invalid value: float value out of range: 3.5e38 at line 1 column 1"
        );
        assert_eq!(
            err_of("[]", |r| r.read_f32()),
            "invalid value: expected a float, found array at line 1 column 1"
        );
    }

    #[test]
    fn strings() {
        let mut r = rd("\"plain é\"");
        assert!(matches!(r.read_str().unwrap(), Cow::Borrowed("plain é")));
        let mut r = rd("\"a\\nb\"");
        assert!(matches!(r.read_str().unwrap(), Cow::Owned(s) if s == "a\nb"));
        let table: &[(&str, &str)] = &[
            ("\"\"", ""),
            ("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\/\u{8}\u{c}\n\r\t"),
            ("\"\\u0000\\u001F\\u00e9\\u20AC\"", "\u{0}\u{1f}é€"),
            ("\"\\uD83D\\uDE00 \\ud83d\\ude00\"", "😀 😀"),
            ("\"x\\u0041y\\u0042\"", "xAyB"),
            ("\"<>&\u{7f}\u{2028}\"", "<>&\u{7f}\u{2028}"),
        ];
        for (s, want) in table {
            assert_eq!(read(s, |r| r.read_string()).as_deref(), Ok(*want), "{s}");
        }
        assert_eq!(
            err_of("5", |r| r.read_string()),
            "invalid value: expected a string, found number at line 1 column 1"
        );
        assert_eq!(
            err_of("{}", |r| r.read_str().map(|_| ())),
            "invalid value: expected a string, found object at line 1 column 1"
        );
    }

    #[test]
    fn bytes() {
        let table: &[(&str, &[u8])] = &[
            ("\"\"", b""),
            ("\"aGk=\"", b"hi"),
            ("\"aGk\"", b"hi"),
            ("\"+/8A\"", b"\xfb\xff\x00"),
            ("\"-_8A\"", b"\xfb\xff\x00"),
            ("\"-_8=\"", b"\xfb\xff"),
            ("\"-_8\"", b"\xfb\xff"),
            ("\"aGVsbG8=\"", b"hello"),
            ("\"aGVsbG9=\"", b"hello"),
        ];
        for (s, want) in table {
            assert_eq!(read(s, |r| r.read_bytes()).as_deref(), Ok(*want), "{s}");
        }
        assert_eq!(
            err_of("\"a\"", |r| r.read_bytes()),
            "invalid value: expected base64 bytes, found \"a\" at line 1 column 1"
        );
        assert!(read("\"a===\"", |r| r.read_bytes()).is_err());
        assert!(read("\"+_8A\"", |r| r.read_bytes()).is_err());
        assert!(read("\"aG k\"", |r| r.read_bytes()).is_err());
        assert!(read("[]", |r| r.read_bytes()).is_err());
    }

    #[test]
    fn enums() {
        let from_name = |s: &str| match s {
            "RED" => Some(1),
            "GREEN" => Some(2),
            _ => None,
        };
        assert_eq!(read("\"GREEN\"", |r| r.read_enum(from_name)), Ok(2));
        assert_eq!(read("1", |r| r.read_enum(from_name)), Ok(1));
        assert_eq!(read("42", |r| r.read_enum(from_name)), Ok(42));
        assert_eq!(read("-1", |r| r.read_enum(from_name)), Ok(-1));
        assert_eq!(
            err_of("{\"color\": \"BLUE\"}", |r| r
                .object(|r, _| r.read_enum(from_name).map(|_| true))),
            "invalid value for field \"color\": unknown enum value \"BLUE\" at line 1 column 11"
        );
        assert_eq!(
            err_of("true", |r| r.read_enum(from_name)),
            "invalid value: expected an enum name or number, found boolean at line 1 column 1"
        );
        assert!(read("1.5", |r| r.read_enum(from_name)).is_err());
        assert!(read("\"1\"", |r| r.read_enum(from_name)).is_err());
    }

    #[test]
    fn show_truncates() {
        assert_eq!(show("abc", true), "\"abc\"");
        assert_eq!(show("abc", false), "abc");
        let long = "é".repeat(30);
        assert_eq!(show(&long, false), format!("{}...", "é".repeat(20)));
    }

    #[test]
    fn exact_integer_conversion() {
        let ok: &[(&str, bool, u64)] = &[
            ("0", false, 0),
            ("-0.0e5", true, 0),
            ("12.3400e2", false, 1234),
            ("1234e-2", false, 12), // not integral → checked below
        ];
        for (s, neg, mag) in &ok[..3] {
            assert!(
                matches!(int_from_token(s.as_bytes()), Ok((n, m)) if n == *neg && m == *mag),
                "{s}"
            );
        }
        assert!(matches!(
            int_from_token(ok[3].0.as_bytes()),
            Err(IntError::NotIntegral)
        ));
        assert!(matches!(
            int_from_token(b"18446744073709551615"),
            Ok((false, u64::MAX))
        ));
        assert!(matches!(
            int_from_token(b"18446744073709551616"),
            Err(IntError::Overflow)
        ));
        assert!(matches!(
            int_from_token(b"1.8446744073709551615e19"),
            Ok((false, u64::MAX))
        ));
        assert!(matches!(
            int_from_token(b"1e-99999999999999999999"),
            Err(IntError::NotIntegral)
        ));
        assert!(matches!(
            int_from_token(b"0.00000000000000000000000000001e29"),
            Ok((false, 1))
        ));
    }
}
