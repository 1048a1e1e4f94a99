//! The JSON pull reader: its state (position, path, depths) and its errors.
//!
//! The reading itself, by concept: tokens and nesting (`lex.rs`), strings and
//! escapes (`strings.rs`), numbers and the proto3 integer and float rules
//! (`numbers.rs`), objects, arrays, maps, enums and skipping (`values.rs`).

mod lex;
mod numbers;
mod strings;
#[cfg(test)]
mod tests;
mod values;

use std::borrow::Cow;

use super::JsonOptions;
use super::error::{JsonError, JsonErrorKind};
pub(in crate::json) use strings::find_special;
use strings::scan_string;

pub(crate) use values::MapKey;
pub use values::parse_map_key;

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
    /// `input` as text when it is valid UTF-8 as a whole (checked once, up front): strings
    /// and numbers are then sliced out of it instead of being checked one by one. When it
    /// is not, each string is checked where it is read, and reports its own error.
    text: Option<&'a str>,
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
    /// owns the entries above the length it found (and the text above the length of
    /// `seen_text` it found).
    seen_keys: Vec<SeenKey>,
    /// The field forms of known keys that are not a plain slice of the input (keys with
    /// escapes or underscores), back to back.
    seen_text: String,
}

/// Where the field form (see `values::push_field_form`) of a known key is: `input[from..to]`
/// (a key without escapes or underscores: the key as written), or `seen_text[from..to]`.
#[derive(Clone, Copy, Debug)]
struct SeenKey {
    from: usize,
    to: usize,
    in_seen_text: bool,
}

/// Shows a value in an error message (quoted when it was a string; truncated when long).
/// A reader's lists, kept between the messages of a request stream so that
/// each message does not allocate them again (`JsonReader::with_scratch`).
#[derive(Debug, Default)]
pub(crate) struct ReaderScratch {
    path: Vec<Seg>,
    seen_keys: Vec<SeenKey>,
    seen_text: String,
}

impl ReaderScratch {
    /// No lists yet.
    pub(crate) const EMPTY: ReaderScratch = ReaderScratch {
        path: Vec::new(),
        seen_keys: Vec::new(),
        seen_text: String::new(),
    };

    /// Whether the lists are small enough to keep for later: the lists of
    /// one deep or wide body should not stay allocated after it.
    pub(crate) fn worth_keeping(&self) -> bool {
        self.path.capacity() <= 32
            && self.seen_keys.capacity() <= 64
            && self.seen_text.capacity() <= 1024
    }
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

impl<'a> JsonReader<'a> {
    /// Creates a reader over `input`.
    pub fn new(input: &'a [u8], opts: &JsonOptions) -> Self {
        Self::with_lists(input, None, opts, ReaderScratch::default())
    }

    /// `text`: `input` as text, if the caller knows it (else it is checked here).
    #[inline]
    fn with_lists(
        input: &'a [u8],
        text: Option<&'a str>,
        opts: &JsonOptions,
        lists: ReaderScratch,
    ) -> Self {
        debug_assert!(text.is_none_or(|t| t.as_bytes() == input));
        JsonReader {
            input,
            text: text.or_else(|| std::str::from_utf8(input).ok()),
            pos: 0,
            opts: opts.clone(),
            depth: 0,
            path: lists.path,
            any_type_depth: 0,
            message_depth: 0,
            seen_keys: lists.seen_keys,
            seen_text: lists.seen_text,
        }
    }

    /// A reader over `input` using the lists of `scratch`; give them back
    /// with [`into_scratch`](Self::into_scratch). `text` is `input` as text, if the caller
    /// knows it (else it is checked here).
    #[inline]
    pub(crate) fn with_scratch(
        input: &'a [u8],
        text: Option<&'a str>,
        opts: &JsonOptions,
        scratch: &mut ReaderScratch,
    ) -> Self {
        Self::with_lists(input, text, opts, std::mem::take(scratch))
    }

    /// Puts the reader's lists, emptied, back into `scratch`.
    #[inline]
    pub(crate) fn into_scratch(mut self, scratch: &mut ReaderScratch) {
        // All plain data: emptying them is setting their lengths.
        self.path.clear();
        self.seen_keys.clear();
        self.seen_text.clear();
        *scratch = ReaderScratch {
            path: self.path,
            seen_keys: self.seen_keys,
            seen_text: self.seen_text,
        };
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
                    if let Ok((k, _)) = scan_string(self.input, self.text, at) {
                        out.push_str(&k);
                    }
                }
                Seg::MapKey(at) => {
                    out.push('[');
                    if let Ok((k, _)) = scan_string(self.input, self.text, at) {
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
}
