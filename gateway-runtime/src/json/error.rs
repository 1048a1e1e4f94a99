//! The error type of the JSON codec.

use std::borrow::Cow;
use std::fmt;

/// What went wrong while reading JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum JsonErrorKind {
    /// The input is not valid JSON (RFC 8259).
    Syntax,
    /// The input is valid JSON, but a value does not fit the type of its field.
    InvalidValue,
    /// An object key the message does not know, while unknown fields are rejected
    /// ([`JsonOptions::ignore_unknown_fields`](super::JsonOptions::ignore_unknown_fields) is false).
    UnknownField,
    /// The input nests objects and arrays deeper than 100 levels.
    DepthLimit,
    /// An error raised with [`JsonError::custom`], e.g. by generated code.
    Custom,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Location {
    offset: usize,
    line: usize,
    column: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Inner {
    kind: JsonErrorKind,
    message: Cow<'static, str>,
    location: Option<Location>,
    path: Option<String>,
}

/// An error of the JSON reader (or of a string conversion of a well-known type).
///
/// Errors raised while reading carry the byte offset, the 1-based line and column
/// (in characters) of the offending input, and the JSON path of the value being read
/// (e.g. `items[2].name`) when known.
///
/// `Display` gives one line such as
/// `invalid value for field "items[2].name": expected a string, found number at line 3 column 14`
/// or, for syntax errors, `expected ',' or '}' after an object member at line 1 column 17`.
#[derive(Clone, PartialEq, Eq)]
pub struct JsonError(Box<Inner>);

impl JsonError {
    /// Creates an error with a free-form message (kind [`JsonErrorKind::Custom`]).
    ///
    /// When returned from a callback of [`JsonReader::object`](super::JsonReader::object),
    /// [`array`](super::JsonReader::array) or [`map`](super::JsonReader::map), the reader adds
    /// the position and the path of the value being read.
    pub fn custom(message: impl Into<String>) -> Self {
        Self::new(JsonErrorKind::Custom, message.into())
    }

    pub(crate) fn new(kind: JsonErrorKind, message: impl Into<Cow<'static, str>>) -> Self {
        JsonError(Box::new(Inner {
            kind,
            message: message.into(),
            location: None,
            path: None,
        }))
    }

    /// Adds the location (computed from `input`) and the path.
    pub(crate) fn located(mut self, input: &[u8], offset: usize, path: Option<String>) -> Self {
        let offset = offset.min(input.len());
        let before = &input[..offset];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let column = before[line_start..]
            .iter()
            .filter(|&&b| b & 0xC0 != 0x80)
            .count()
            + 1;
        self.0.location = Some(Location {
            offset,
            line,
            column,
        });
        if self.0.path.is_none() {
            self.0.path = path.filter(|p| !p.is_empty());
        }
        self
    }

    pub(crate) fn has_location(&self) -> bool {
        self.0.location.is_some()
    }

    /// The kind of error.
    pub fn kind(&self) -> JsonErrorKind {
        self.0.kind
    }

    /// The message, without path and location.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The JSON path of the value being read, e.g. `items[2].name` (`None` at the top level
    /// or when unknown).
    pub fn path(&self) -> Option<&str> {
        self.0.path.as_deref()
    }

    /// Byte offset in the input where the error was detected.
    pub fn offset(&self) -> Option<usize> {
        self.0.location.map(|l| l.offset)
    }

    /// 1-based line of [`offset`](Self::offset).
    pub fn line(&self) -> Option<usize> {
        self.0.location.map(|l| l.line)
    }

    /// 1-based column (in characters) of [`offset`](Self::offset).
    pub fn column(&self) -> Option<usize> {
        self.0.location.map(|l| l.column)
    }
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &*self.0;
        match inner.kind {
            JsonErrorKind::InvalidValue | JsonErrorKind::Custom => match &inner.path {
                Some(path) => write!(f, "invalid value for field \"{path}\": {}", inner.message)?,
                None if inner.kind == JsonErrorKind::InvalidValue => {
                    write!(f, "invalid value: {}", inner.message)?
                }
                None => f.write_str(&inner.message)?,
            },
            _ => f.write_str(&inner.message)?,
        }
        if let Some(loc) = inner.location {
            write!(f, " at line {} column {}", loc.line, loc.column)?;
        }
        Ok(())
    }
}

impl fmt::Debug for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JsonError")
            .field("kind", &self.0.kind)
            .field("message", &self.0.message)
            .field("path", &self.0.path)
            .field("offset", &self.offset())
            .field("line", &self.line())
            .field("column", &self.column())
            .finish()
    }
}

impl std::error::Error for JsonError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_without_location() {
        let e = JsonError::custom("oneof field already set");
        assert_eq!(e.to_string(), "oneof field already set");
        assert_eq!(e.kind(), JsonErrorKind::Custom);
        assert_eq!(e.line(), None);
        assert_eq!(e.offset(), None);
        assert_eq!(e.path(), None);
    }

    #[test]
    fn location_lines_and_columns() {
        let input = "{\n  \"é\": x\n}".as_bytes();
        let off = input.iter().position(|&b| b == b'x').unwrap();
        let e = JsonError::new(JsonErrorKind::Syntax, "unexpected character 'x'").located(
            input,
            off,
            Some("é".into()),
        );
        assert_eq!(e.line(), Some(2));
        assert_eq!(e.column(), Some(8));
        assert_eq!(e.offset(), Some(off));
        assert_eq!(e.path(), Some("é"));
        assert_eq!(e.to_string(), "unexpected character 'x' at line 2 column 8");
        let e = JsonError::new(
            JsonErrorKind::InvalidValue,
            "expected a string, found number",
        )
        .located(input, off, Some("é".into()));
        assert_eq!(
            e.to_string(),
            "invalid value for field \"é\": expected a string, found number at line 2 column 8"
        );
        let e = JsonError::new(
            JsonErrorKind::InvalidValue,
            "expected a string, found number",
        )
        .located(input, 0, Some(String::new()));
        assert_eq!(e.path(), None);
        assert_eq!(
            e.to_string(),
            "invalid value: expected a string, found number at line 1 column 1"
        );
        // offsets past the end are clamped
        let e = JsonError::custom("x").located(b"ab", 10, None);
        assert_eq!(e.offset(), Some(2));
        assert_eq!(e.column(), Some(3));
    }
}
