//! Values with structure: objects (unknown and duplicate keys), arrays, maps
//! and their keys, `null`, skipping; and the values read by name (`bool`,
//! enums) or through a message.

use std::borrow::Cow;

use super::{JsonReader, SeenKey, Seg, show};
use crate::json::JsonMessage;
use crate::json::error::{JsonError, JsonErrorKind};

/// The name two object keys of the same field share: a key as it is, or for a
/// proto name (`foo_bar`) the lowerCamelCase JSON name protoc derives from it
/// (`fooBar`: underscores dropped, each letter after one upper-cased). protoc
/// rejects two fields of one message with the same JSON name, so equal forms
/// mean the same field. Computed once per key, so that the duplicate check
/// compares strings instead of converting every pair; appended to `out`.
fn push_field_form(out: &mut String, key: &str) {
    let mut upper = false;
    for c in key.chars() {
        if c == '_' {
            upper = true;
        } else {
            out.push(if upper { c.to_ascii_uppercase() } else { c });
            upper = false;
        }
    }
}

/// Whether a key is its own field form (no underscore to convert).
#[inline]
fn is_own_form(key: &str) -> bool {
    // A plain loop: keys are short, and `contains` calls out to `memchr`.
    !key.bytes().any(|b| b == b'_')
}

/// Whether two object keys name the same field (see [`push_field_form`]).
#[cfg(test)]
pub(super) fn same_field(a: &str, b: &str) -> bool {
    let form = |k: &str| {
        let mut out = String::new();
        push_field_form(&mut out, k);
        out
    };
    form(a) == form(b)
}

impl<'a> JsonReader<'a> {
    /// Reads an object, calling `f(reader, key)` for each key.
    ///
    /// `f` must consume the value and return `Ok(true)`, or return `Ok(false)` without
    /// consuming it for an unknown key; the value is then skipped, or an
    /// `unknown field` error is returned when [`JsonOptions::ignore_unknown_fields`] is false.
    /// `null` instead of an object is accepted as "nothing". Errors returned by `f` without a
    /// location get the position of the value and the current path.
    pub fn object(
        &mut self,
        mut f: impl FnMut(&mut Self, &str) -> Result<bool, JsonError>,
    ) -> Result<(), JsonError> {
        self.object_checked(&mut f, true)
    }

    /// [`object`](Self::object) without the duplicate-field check: for a first look at an
    /// `Any`, whose keys belong to the message inside, checked when that is read.
    pub(crate) fn object_unchecked(
        &mut self,
        mut f: impl FnMut(&mut Self, &str) -> Result<bool, JsonError>,
    ) -> Result<(), JsonError> {
        self.object_checked(&mut f, false)
    }

    /// The object loop, compiled once: every message's `merge_json` calls
    /// it, and as a generic it was compiled again for each of them (a
    /// cost users pay on every build; the virtual call per key is a few
    /// instructions).
    fn object_checked(
        &mut self,
        f: &mut dyn FnMut(&mut Self, &str) -> Result<bool, JsonError>,
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
        let text_from = self.seen_text.len();
        // The first known key is remembered only when a second one comes: an object of
        // one field has nothing to compare it with.
        let mut first: Option<(usize, Cow<'a, str>)> = None;
        let mut known_keys = 0usize;
        // A bit per remembered field form (see `form_bit`): a key whose bit
        // is clear cannot be a duplicate, and skips the comparisons.
        let mut bits = 0u64;
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
            if !known {
                if self.opts.ignore_unknown_fields {
                    self.skip_value()?;
                } else {
                    let msg = format!("unknown field \"{}\"", self.path());
                    return Err(self.error_at(JsonErrorKind::UnknownField, key_pos, msg));
                }
            } else if check_duplicates {
                // As Go's protojson: a field given twice (under either of its names)
                // is an error, not "last one wins".
                known_keys += 1;
                if known_keys == 1 {
                    first = Some((key_pos, key));
                } else {
                    if let Some((at, k)) = first.take() {
                        let entry = self.field_form_of(at, &k, matches!(k, Cow::Borrowed(_)));
                        bits |= form_bit(self.form(entry));
                        self.remember(entry);
                    }
                    let entry = self.field_form_of(key_pos, &key, matches!(key, Cow::Borrowed(_)));
                    let form = self.form(entry);
                    let bit = form_bit(form);
                    if bits & bit != 0
                        && self.seen_keys[seen_from..]
                            .iter()
                            .any(|&seen| self.form(seen) == form)
                    {
                        let msg = format!("duplicate field {}", show(&key, true));
                        return Err(self.invalid(key_pos, msg));
                    }
                    bits |= bit;
                    self.remember(entry);
                }
            }
            if self.after_member("expected ',' or '}' after an object member")? {
                break;
            }
        }
        if known_keys > 1 {
            self.seen_keys.truncate(seen_from);
            self.seen_text.truncate(text_from);
        }
        self.leave_message();
        self.leave();
        Ok(())
    }

    /// Where the field form of the key read at `key_pos` is: the key itself in the input,
    /// or (escapes, underscores) its form written to the end of `seen_text`.
    fn field_form_of(&mut self, key_pos: usize, key: &str, borrowed: bool) -> SeenKey {
        match key {
            // A borrowed key is the input's bytes after the quote.
            k if borrowed && is_own_form(k) => SeenKey {
                from: key_pos + 1,
                to: key_pos + 1 + k.len(),
                in_seen_text: false,
            },
            _ => {
                let from = self.seen_text.len();
                push_field_form(&mut self.seen_text, key);
                SeenKey {
                    from,
                    to: self.seen_text.len(),
                    in_seen_text: true,
                }
            }
        }
    }

    /// The text of a remembered field form.
    #[inline]
    fn form(&self, key: SeenKey) -> &[u8] {
        if key.in_seen_text {
            &self.seen_text.as_bytes()[key.from..key.to]
        } else {
            &self.input[key.from..key.to]
        }
    }

    fn remember(&mut self, key: SeenKey) {
        if self.seen_keys.capacity() == 0 {
            // Room for a usual message's keys, not grown 4 → 8 → 16.
            self.seen_keys.reserve(16);
        }
        self.seen_keys.push(key);
    }

    /// Reads an array, calling `f` for each element (which `f` must consume);
    /// `null` counts as an empty array.
    pub fn array(
        &mut self,
        mut f: impl FnMut(&mut Self) -> Result<(), JsonError>,
    ) -> Result<(), JsonError> {
        self.array_dyn(&mut f)
    }

    /// The array loop, compiled once (see [`object_checked`](Self::object_checked)).
    fn array_dyn(
        &mut self,
        f: &mut dyn FnMut(&mut Self) -> Result<(), JsonError>,
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
        self.map_dyn(&mut f)
    }

    /// The map loop, compiled once (see [`object_checked`](Self::object_checked)).
    fn map_dyn(
        &mut self,
        f: &mut dyn FnMut(&mut Self, &str) -> Result<(), JsonError>,
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

/// One of 64 bits for a field form, from its length and its first and last
/// bytes: equal forms get the same bit, most different ones of a message
/// another.
#[inline]
fn form_bit(form: &[u8]) -> u64 {
    let (first, last) = match form {
        [] => (0, 0),
        [first, .., last] => (*first, *last),
        [only] => (*only, *only),
    };
    let mixed = form.len() ^ (usize::from(first) << 1) ^ (usize::from(last) * 5);
    1u64 << (mixed % 64)
}
