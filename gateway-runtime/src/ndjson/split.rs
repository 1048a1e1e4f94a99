//! Splitting a request body into JSON values as their last byte arrives.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

#[cfg(test)]
use bytes::Bytes;
#[cfg(test)]
use futures_util::Stream;
use http_body::Body as _;

/// The UTF-8 byte order mark, which some clients put in front of a body.
pub(super) const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Why a byte stream could not be split into JSON values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SplitError {
    /// A single value is longer than `limit` bytes.
    TooLarge {
        /// The configured largest value, in bytes.
        limit: usize,
    },
    /// The input ended inside a value; `offset` is the length of the whole stream, where
    /// more input was expected.
    Truncated {
        /// Byte offset in the whole stream.
        offset: usize,
    },
    /// A byte that cannot appear where it is: a closing bracket that does not match, or a
    /// `,`, `:`, `]` or `}` between values.
    Unexpected {
        /// Byte offset in the whole stream.
        offset: usize,
        /// The offending byte.
        byte: u8,
    },
}

impl fmt::Display for SplitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SplitError::TooLarge { limit } => {
                write!(f, "a JSON value in the stream is larger than {limit} bytes")
            }
            SplitError::Truncated { offset } => {
                write!(f, "the stream ends inside a JSON value (at byte {offset})")
            }
            SplitError::Unexpected { offset, byte } => {
                write!(f, "unexpected ")?;
                if byte.is_ascii_graphic() {
                    write!(f, "'{}'", char::from(*byte))?;
                } else {
                    write!(f, "byte 0x{byte:02x}")?;
                }
                write!(f, " at byte {offset} of the JSON stream")
            }
        }
    }
}

impl std::error::Error for SplitError {}

/// What the scanner is in the middle of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Between values: whitespace is skipped, the next byte starts a value.
    Between,
    /// Inside a bare number or literal (`true`, `false`, `null`).
    Scalar,
    /// Inside an object, an array or a top-level string (`depth`, `objects`, `deep` and
    /// `in_string` say where).
    Nested,
}

/// Splits a byte stream into complete top-level JSON values (not validating them beyond
/// structure; the JSON reader validates later).
///
/// Only brackets, strings and escapes are tracked: enough to know where a value ends.
/// The scan position is kept across [`push`](Self::push)es, so every byte is looked at a
/// bounded number of times however the input is chunked (O(n) overall).
///
/// The scan jumps from one byte that matters to the next (quotes and brackets outside
/// strings, quotes and backslashes inside them, eight bytes at a time in long strings),
/// and the size limit is checked once per run rather than per byte. Values are handed
/// out as slices of the buffer (with their text while the buffer is valid UTF-8), which
/// is compacted only when more input is pushed. An object can also be read in place
/// ([`object_ahead`](Self::object_ahead), [`commit`](Self::commit)) without being scanned
/// here first.
///
/// After an error, every further call returns the same error: the position in the stream
/// is lost, so nothing after it can be trusted.
#[derive(Debug)]
pub(super) struct JsonValueSplitter {
    max_value: usize,
    /// Buffered input; `buf[..start]` has been handed out (or skipped) already.
    pub(super) buf: Buffer,
    /// Index in `buf` of the first byte not consumed; a value in progress starts here.
    start: usize,
    /// Stream offset of `buf[0]`, for error offsets.
    base: usize,
    /// Index in `buf` of the first byte not yet scanned (`start <= pos <= buf.len()`).
    pos: usize,
    mode: Mode,
    /// Open containers of the value in progress.
    depth: usize,
    /// Bit `k` is set when the container at depth `k + 1` (of the first 64) is an object.
    objects: u64,
    /// Closing brackets expected for the containers below the first 64, innermost last.
    deep: Vec<u8>,
    in_string: bool,
    escaped: bool,
    /// Whether the start of the stream has been checked for a byte order mark.
    bom_checked: bool,
    error: Option<SplitError>,
    /// Bytes examined, to prove linear work in tests.
    #[cfg(test)]
    pub(super) examined: usize,
}

/// Where a scan stopped: a value at `buf[start..end]`, or nothing complete yet.
type Found = Option<(usize, usize)>;

impl JsonValueSplitter {
    /// `max_value`: largest single value in bytes; a longer one is an error (so memory
    /// stays bounded).
    pub(super) fn new(max_value: usize) -> Self {
        JsonValueSplitter {
            max_value,
            buf: Buffer::Text(String::new()),
            start: 0,
            base: 0,
            pos: 0,
            mode: Mode::Between,
            depth: 0,
            objects: 0,
            deep: Vec::new(),
            in_string: false,
            escaped: false,
            bom_checked: false,
            error: None,
            #[cfg(test)]
            examined: 0,
        }
    }

    /// Appends input. Nothing is scanned until [`next_value`](Self::next_value) is called.
    pub(super) fn push(&mut self, chunk: &[u8]) {
        // Input after an error is never looked at; don't let it pile up.
        if self.error.is_some() {
            return;
        }
        // Drop what has been handed out: only a value in progress (and unscanned
        // whitespace) is kept, moved to the front.
        if self.start > 0 {
            self.buf.drop_front(self.start);
            self.base = self.base.saturating_add(self.start);
            self.pos -= self.start;
            self.start = 0;
        }
        self.buf.append(chunk);
    }

    /// When the next value is an object whose first byte is buffered (between values,
    /// nothing else pending, the buffer valid text): the buffered text from that byte on,
    /// for a reader to read the object in place. The caller then either
    /// [`commit`](Self::commit)s the object's length, or asks for the value the usual way
    /// (which scans it from its start, as if this had not been called).
    #[inline]
    pub(super) fn object_ahead(&mut self) -> Option<&str> {
        if self.mode != Mode::Between || !self.bom_checked || self.error.is_some() {
            return None;
        }
        let Buffer::Text(text) = &self.buf else {
            return None;
        };
        let buf = text.as_bytes();
        let mut i = self.start;
        while i < buf.len() && is_ws(buf[i]) {
            i += 1;
        }
        if buf.get(i) != Some(&b'{') {
            return None;
        }
        self.count(i - self.start);
        self.start = i;
        self.pos = i;
        let Buffer::Text(text) = &self.buf else {
            unreachable!("checked above")
        };
        text.get(i..)
    }

    /// Hands out the `len` bytes after [`object_ahead`](Self::object_ahead) as a value:
    /// an object read in place, which (being valid JSON) ends where the scan would have
    /// ended it. `len` must not exceed the limit.
    #[inline]
    pub(super) fn commit(&mut self, len: usize) {
        debug_assert!(len <= self.max_value && self.start + len <= self.buf.len());
        self.count(len);
        self.start += len;
        self.pos = self.start;
    }

    /// The text of `buf[from..to]`, if it is kept.
    #[inline]
    pub(super) fn text_of(&self, from: usize, to: usize) -> Option<&str> {
        match &self.buf {
            Buffer::Text(text) => text.get(from..to),
            Buffer::Bytes(_) => None,
        }
    }

    /// The next complete value, if one is buffered; leading whitespace between values is
    /// skipped. (The body stream asks for [`value_range`](Self::value_range) instead.)
    #[cfg(test)]
    pub(super) fn next_value(&mut self) -> Result<Option<&[u8]>, SplitError> {
        let found = self.scan(false)?;
        Ok(found.map(|(from, to)| &self.buf.bytes()[from..to]))
    }

    /// At end of input: the last value (a bare number/true/false/null at EOF is complete),
    /// or an error if a value is cut off.
    ///
    /// If several values are still buffered, each call returns the next one; call until it
    /// returns `Ok(None)` to drain them all.
    #[cfg(test)]
    pub(super) fn finish(&mut self) -> Result<Option<&[u8]>, SplitError> {
        let found = self.finish_range()?;
        Ok(found.map(|(from, to)| &self.buf.bytes()[from..to]))
    }

    /// [`next_value`](Self::next_value) or, `at_eof`, [`finish`](Self::finish), as a
    /// range of `buf`.
    pub(super) fn value_range(&mut self, at_eof: bool) -> Result<Found, SplitError> {
        if at_eof {
            self.finish_range()
        } else {
            self.scan(false)
        }
    }

    fn finish_range(&mut self) -> Result<Found, SplitError> {
        if let Some(found) = self.scan(true)? {
            return Ok(Some(found));
        }
        match self.mode {
            Mode::Between => Ok(None),
            // A scalar has no closing byte: the end of input ends it.
            Mode::Scalar => Ok(Some(self.take(self.buf.len()))),
            Mode::Nested => Err(self.fail(SplitError::Truncated {
                offset: self.base.saturating_add(self.buf.len()),
            })),
        }
    }

    #[inline]
    fn scan(&mut self, at_eof: bool) -> Result<Found, SplitError> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        if !self.bom_checked && !self.check_bom(at_eof) {
            return Ok(None);
        }
        if self.mode == Mode::Between && !self.start_value()? {
            return Ok(None);
        }
        match self.mode {
            Mode::Scalar => self.scan_scalar(),
            _ => self.scan_nested(),
        }
    }

    /// Skips a byte order mark at the start of the stream; false while the buffered
    /// bytes might still be the start of one.
    #[cold]
    fn check_bom(&mut self, at_eof: bool) -> bool {
        let rest = &self.buf.bytes()[self.start..];
        if rest.starts_with(BOM) {
            self.start += BOM.len();
            self.pos = self.start;
        } else if !at_eof && BOM.starts_with(rest) {
            // Maybe the first bytes of a BOM; wait for the rest (or for the end).
            return false;
        }
        self.bom_checked = true;
        true
    }

    /// Between values: skips whitespace and starts the value at the next byte; false if
    /// there is none yet.
    #[inline]
    fn start_value(&mut self) -> Result<bool, SplitError> {
        let buf = self.buf.bytes();
        let mut i = self.start;
        while i < buf.len() && is_ws(buf[i]) {
            i += 1;
        }
        let first = buf.get(i).copied();
        self.count(i - self.start + usize::from(first.is_some()));
        self.start = i;
        self.pos = i;
        let Some(first) = first else {
            return Ok(false);
        };
        match first {
            b'{' | b'[' => {
                self.mode = Mode::Nested;
                self.depth = 1;
                self.objects = u64::from(first == b'{');
            }
            b'"' => {
                self.mode = Mode::Nested;
                self.in_string = true;
            }
            b',' | b':' | b'}' | b']' => {
                return Err(self.fail(SplitError::Unexpected {
                    offset: self.base.saturating_add(i),
                    byte: first,
                }));
            }
            _ => self.mode = Mode::Scalar,
        }
        if self.max_value == 0 {
            return Err(self.too_large());
        }
        self.pos = i + 1;
        Ok(true)
    }

    /// The end of the bytes of the value in progress that fit the limit (a value's
    /// bytes at indices `0..max_value` may be scanned).
    #[inline]
    fn limit(&self) -> usize {
        self.start
            .saturating_add(self.max_value)
            .min(self.buf.len())
    }

    /// Inside a bare scalar: it ends before whitespace or a structural byte.
    fn scan_scalar(&mut self) -> Result<Found, SplitError> {
        let limit = self.limit();
        let buf = self.buf.bytes();
        let mut i = self.pos;
        while i < limit && !ENDS_SCALAR[usize::from(buf[i])] {
            i += 1;
        }
        // The delimiter is not part of the scalar; it is looked at again as the
        // start of what follows.
        let next = buf.get(i).copied();
        self.count(i - self.pos + usize::from(next.is_some()));
        self.pos = i;
        if next.is_some_and(|b| ENDS_SCALAR[usize::from(b)]) {
            Ok(Some(self.take(i)))
        } else if next.is_some() {
            // A byte past the limit that does not end the scalar.
            Err(self.too_large())
        } else {
            Ok(None)
        }
    }

    /// Inside an object, an array or a string: jumps from one byte that matters to the
    /// next until the value closes or the input (or the limit) is reached. The state is
    /// kept in locals while scanning and stored when the scan stops.
    fn scan_nested(&mut self) -> Result<Found, SplitError> {
        let limit = self.limit();
        let buf = &self.buf.bytes()[..limit];
        let deep = &mut self.deep;
        let (mut depth, mut objects) = (self.depth, self.objects);
        let (mut in_string, mut escaped) = (self.in_string, self.escaped);
        let mut i = self.pos;
        let closed = loop {
            if in_string {
                if escaped {
                    if i >= buf.len() {
                        break false;
                    }
                    escaped = false;
                    i += 1;
                }
                i = find_in_string(buf, i);
                let Some(&b) = buf.get(i) else {
                    break false;
                };
                i += 1;
                if b == b'\\' {
                    escaped = true;
                } else {
                    in_string = false;
                    if depth == 0 {
                        break true;
                    }
                }
            } else {
                while i < buf.len() && !MATTERS[usize::from(buf[i])] {
                    i += 1;
                }
                let Some(&b) = buf.get(i) else {
                    break false;
                };
                i += 1;
                match b {
                    b'"' => in_string = true,
                    b'{' | b'[' => {
                        if depth < 64 {
                            let bit = 1u64 << depth;
                            objects = if b == b'{' {
                                objects | bit
                            } else {
                                objects & !bit
                            };
                        } else {
                            deep.push(closer(b));
                        }
                        depth += 1;
                    }
                    _ => {
                        // `}` or `]`: it must close the innermost container.
                        let expected = match depth {
                            0 => None,
                            1..=64 => Some(if objects >> (depth - 1) & 1 == 1 {
                                b'}'
                            } else {
                                b']'
                            }),
                            _ => deep.pop(),
                        };
                        if expected != Some(b) {
                            let offset = self.base.saturating_add(i - 1);
                            return Err(self.fail(SplitError::Unexpected { offset, byte: b }));
                        }
                        depth -= 1;
                        if depth == 0 {
                            break true;
                        }
                    }
                }
            }
        };
        self.count(i - self.pos);
        self.pos = i;
        (self.depth, self.objects) = (depth, objects);
        (self.in_string, self.escaped) = (in_string, escaped);
        if closed {
            Ok(Some(self.take(i)))
        } else if limit < self.buf.len() {
            // The value goes on past the limit.
            Err(self.too_large())
        } else {
            Ok(None)
        }
    }

    #[cold]
    fn too_large(&mut self) -> SplitError {
        self.fail(SplitError::TooLarge {
            limit: self.max_value,
        })
    }

    /// Ends the value in progress at `end` (an index of `buf`) and resets to between
    /// values; returns its range.
    #[inline]
    fn take(&mut self, end: usize) -> (usize, usize) {
        let from = self.start;
        self.start = end;
        self.pos = end;
        self.mode = Mode::Between;
        self.depth = 0;
        self.deep.clear();
        self.in_string = false;
        self.escaped = false;
        (from, end)
    }

    /// Records a terminal error and frees the buffer, which can no longer be used.
    #[cold]
    fn fail(&mut self, error: SplitError) -> SplitError {
        self.buf = Buffer::Bytes(Vec::new());
        self.start = 0;
        self.pos = 0;
        self.deep = Vec::new();
        self.error = Some(error.clone());
        error
    }

    #[cfg(test)]
    fn count(&mut self, n: usize) {
        self.examined += n;
    }

    #[cfg(not(test))]
    #[inline(always)]
    fn count(&mut self, _n: usize) {}
}

/// The buffered input: text while it is all valid UTF-8 (values are then lent with their
/// text, so that the JSON reader does not check it again), else bytes.
#[derive(Debug)]
pub(super) enum Buffer {
    Text(String),
    Bytes(Vec<u8>),
}

impl Buffer {
    /// Back to text (checking the whole buffer) only after a push that kept at most this
    /// many bytes: no byte is checked more than a bounded number of times.
    const REBUILD: usize = 4096;

    #[inline]
    pub(super) fn bytes(&self) -> &[u8] {
        match self {
            Buffer::Text(text) => text.as_bytes(),
            Buffer::Bytes(bytes) => bytes,
        }
    }

    #[inline]
    pub(super) fn len(&self) -> usize {
        self.bytes().len()
    }

    #[cfg(test)]
    pub(super) fn capacity(&self) -> usize {
        match self {
            Buffer::Text(text) => text.capacity(),
            Buffer::Bytes(bytes) => bytes.capacity(),
        }
    }

    /// The bytes, as bytes from now on.
    fn make_bytes(&mut self) -> &mut Vec<u8> {
        if let Buffer::Text(text) = self {
            *self = Buffer::Bytes(std::mem::take(text).into_bytes());
        }
        match self {
            Buffer::Bytes(bytes) => bytes,
            Buffer::Text(_) => unreachable!("made bytes"),
        }
    }

    /// Removes the first `n` bytes.
    fn drop_front(&mut self, n: usize) {
        match self {
            // (Always a boundary: values and whitespace end before an ASCII byte.)
            Buffer::Text(text) if text.is_char_boundary(n) => {
                text.drain(..n);
            }
            _ => {
                self.make_bytes().drain(..n);
            }
        }
    }

    /// Appends `chunk`: to the text if it is valid UTF-8, else to the bytes (a character
    /// split between chunks, or invalid input); bytes become text again when the whole
    /// buffer is valid after a push that kept little.
    fn append(&mut self, chunk: &[u8]) {
        match self {
            Buffer::Text(text) => match std::str::from_utf8(chunk) {
                Ok(chunk) => text.push_str(chunk),
                Err(_) => self.make_bytes().extend_from_slice(chunk),
            },
            Buffer::Bytes(bytes) => {
                let kept = bytes.len();
                bytes.extend_from_slice(chunk);
                if kept <= Buffer::REBUILD {
                    *self = match String::from_utf8(std::mem::take(bytes)) {
                        Ok(text) => Buffer::Text(text),
                        Err(e) => Buffer::Bytes(e.into_bytes()),
                    };
                }
            }
        }
    }
}

/// The index of the first `"` or `\` in `buf` at or after `from`, or `buf.len()`:
/// eight bytes at a time, then byte by byte.
#[inline]
fn find_in_string(buf: &[u8], from: usize) -> usize {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    const QUOTES: u64 = u64::from_ne_bytes([b'"'; 8]);
    const BACKSLASHES: u64 = u64::from_ne_bytes([b'\\'; 8]);
    // The bytes of `x` that are zero have their high bit set in the result (bytes above
    // the first zero may be set too; only the lowest set one is used).
    let zero_bytes = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    let mut i = from;
    while let Some(word) = buf.get(i..i + 8) {
        let x = u64::from_le_bytes(word.try_into().expect("eight bytes"));
        let hits = zero_bytes(x ^ QUOTES) | zero_bytes(x ^ BACKSLASHES);
        if hits != 0 {
            return i + (hits.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < buf.len() && buf[i] != b'"' && buf[i] != b'\\' {
        i += 1;
    }
    i
}

/// A table of the bytes in `set`.
const fn byte_table(set: &[u8]) -> [bool; 256] {
    let mut t = [false; 256];
    let mut i = 0;
    while i < set.len() {
        t[set[i] as usize] = true;
        i += 1;
    }
    t
}

/// Outside strings, inside a container: the bytes that change the nesting.
static MATTERS: [bool; 256] = byte_table(b"\"{[]}");

/// The bytes that end a bare scalar: whitespace, or a structural byte (the start of
/// another value, or something that is only valid inside a container, reported as
/// unexpected by the next scan).
static ENDS_SCALAR: [bool; 256] = byte_table(b" \t\r\n{[\"]},:");

fn closer(open: u8) -> u8 {
    if open == b'{' { b'}' } else { b']' }
}

/// JSON's whitespace: exactly these four bytes.
pub(super) fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Why [`body_values`] could not produce the next value.
#[derive(Debug)]
pub(crate) enum BodyValueError {
    /// The body is not a sequence of JSON values.
    Split(SplitError),
    /// Reading the body failed (connection reset, client gone, ...).
    Read(String),
}

impl fmt::Display for BodyValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BodyValueError::Split(e) => e.fmt(f),
            BodyValueError::Read(e) => write!(f, "reading the request body failed: {e}"),
        }
    }
}

impl std::error::Error for BodyValueError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BodyValueError::Split(e) => Some(e),
            BodyValueError::Read(_) => None,
        }
    }
}

impl From<SplitError> for BodyValueError {
    fn from(e: SplitError) -> Self {
        BodyValueError::Split(e)
    }
}

/// Turns a request body into a stream of complete JSON values, reading more of the body
/// only when the consumer asks for the next value (backpressure: nothing is read ahead
/// beyond one chunk).
///
/// The body is not touched until the stream is first polled. The stream ends after the
/// last value or after the first error (which it yields once). Trailers are ignored.
pub(crate) fn body_values(body: axum::body::Body, max_value: usize) -> BodyValues {
    BodyValues {
        body,
        splitter: JsonValueSplitter::new(max_value),
        state: BodyState::Reading,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyState {
    Reading,
    /// The body has ended; what is left comes from the splitter's buffer.
    Draining,
    Done,
}

/// A value lent by [`BodyValues::poll_value`]: its bytes, and its text when the body is
/// valid UTF-8 so far.
pub(crate) type Value<'a> = (&'a [u8], Option<&'a str>);

/// The values of a request body (see [`body_values`]), polled with
/// [`poll_value`](Self::poll_value): each is lent out of the buffer, so a value costs
/// no allocation, reference count or copy of its own.
pub(crate) struct BodyValues {
    body: axum::body::Body,
    splitter: JsonValueSplitter,
    state: BodyState,
}

impl BodyValues {
    /// The largest value accepted, in bytes.
    pub(crate) fn max_value(&self) -> usize {
        self.splitter.max_value
    }

    /// The buffered text from the start of the next value, when it is an object already
    /// begun in the buffer, for reading in place; then [`commit`](Self::commit) its
    /// length, or ask [`poll_value`](Self::poll_value) for it as usual.
    #[inline]
    pub(crate) fn object_ahead(&mut self) -> Option<&str> {
        match self.state {
            BodyState::Done => None,
            _ => self.splitter.object_ahead(),
        }
    }

    /// Takes the object read in place as the next value (`len` bytes, at most
    /// [`max_value`](Self::max_value)).
    #[inline]
    pub(crate) fn commit(&mut self, len: usize) {
        self.splitter.commit(len);
    }

    /// The next value and its text (when the body is valid UTF-8 so far), valid until the
    /// next call; `None` after the last value or after the first error (which is
    /// returned once).
    pub(crate) fn poll_value(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Value<'_>, BodyValueError>>> {
        loop {
            let step = match self.state {
                BodyState::Done => return Poll::Ready(None),
                BodyState::Draining => self.splitter.value_range(true),
                BodyState::Reading => self.splitter.value_range(false),
            };
            match step {
                Ok(Some((from, to))) => {
                    let text = self.splitter.text_of(from, to);
                    return Poll::Ready(Some(Ok((&self.splitter.buf.bytes()[from..to], text))));
                }
                Err(e) => {
                    self.state = BodyState::Done;
                    return Poll::Ready(Some(Err(e.into())));
                }
                Ok(None) if self.state == BodyState::Draining => {
                    self.state = BodyState::Done;
                    return Poll::Ready(None);
                }
                Ok(None) => {}
            }
            // No complete value buffered: only now read one more frame.
            match Pin::new(&mut self.body).poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => self.state = BodyState::Draining,
                Poll::Ready(Some(Err(e))) => {
                    self.state = BodyState::Done;
                    return Poll::Ready(Some(Err(BodyValueError::Read(e.to_string()))));
                }
                Poll::Ready(Some(Ok(frame))) => {
                    if let Ok(data) = frame.into_data() {
                        self.splitter.push(&data);
                    }
                }
            }
        }
    }
}

/// The values as owned `Bytes`, for tests.
#[cfg(test)]
impl Stream for BodyValues {
    type Item = Result<Bytes, BodyValueError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut()
            .poll_value(cx)
            .map(|value| value.map(|value| value.map(|(bytes, _)| Bytes::copy_from_slice(bytes))))
    }
}
