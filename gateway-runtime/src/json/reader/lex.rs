//! Tokens and nesting: whitespace, literals, punctuation between members and
//! elements, and the depth limit with the path kept for errors.

use std::borrow::Cow;

use super::numbers::number_len;
use super::strings::{find_special, scan_string};
use super::{JsonReader, MAX_DEPTH, Seg};
use crate::json::error::{JsonError, JsonErrorKind};

impl<'a> JsonReader<'a> {
    #[inline]
    pub(super) fn skip_ws(&mut self) {
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

    pub(super) fn literal(&mut self, lit: &'static [u8]) -> Result<(), JsonError> {
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
    pub(super) fn string(&mut self) -> Result<Cow<'a, str>, JsonError> {
        // The common case inline: no escape, the input's text known (what `scan_string`
        // returns for it too).
        let start = self.pos + 1;
        let end = find_special(self.input, start);
        if self.input.get(end) == Some(&b'"')
            && let Some(s) = self.text.and_then(|t| t.get(start..end))
        {
            self.pos = end + 1;
            return Ok(Cow::Borrowed(s));
        }
        match scan_string(self.input, self.text, self.pos) {
            Ok((s, end)) => {
                self.pos = end;
                Ok(s)
            }
            Err((at, msg)) => Err(self.syntax(at, msg)),
        }
    }

    /// Scans the number at `self.pos`.
    #[inline]
    pub(super) fn number(&mut self) -> Result<&'a str, JsonError> {
        let start = self.pos;
        match number_len(&self.input[start..]) {
            Ok(len) => {
                self.pos += len;
                // ASCII by construction
                super::strings::utf8(self.input, self.text, start, start + len)
                    .map_err(|_| self.syntax(start, "invalid number"))
            }
            Err(off) => Err(self.syntax(start + off, "invalid number")),
        }
    }

    pub(super) fn enter(&mut self, seg: Seg) -> Result<(), JsonError> {
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
    pub(super) fn leave(&mut self) {
        self.depth -= 1;
        self.path.pop();
    }

    #[inline]
    pub(super) fn set_seg(&mut self, seg: Seg) {
        if let Some(top) = self.path.last_mut() {
            *top = seg;
        }
    }

    /// After a member: `,` (then a key must follow) or `}`; returns true at the end.
    pub(super) fn after_member(&mut self, what: &'static str) -> Result<bool, JsonError> {
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

    pub(super) fn colon(&mut self) -> Result<(), JsonError> {
        self.skip_ws();
        if self.input.get(self.pos) != Some(&b':') {
            return Err(self.syntax(self.pos, "expected ':' after an object key"));
        }
        self.pos += 1;
        self.skip_ws();
        Ok(())
    }

    /// After `{` and whitespace: true when the object is empty (`}` consumed).
    pub(super) fn object_start(&mut self) -> Result<bool, JsonError> {
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
    pub(super) fn after_element(&mut self) -> Result<bool, JsonError> {
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
}
