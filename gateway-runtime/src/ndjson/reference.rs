//! The splitter as it was before its fast paths (one byte at a time, every
//! value split off a `BytesMut`): the reference the randomized tests compare
//! the fast one against, cut for cut and error for error.

use bytes::{Buf as _, Bytes, BytesMut};

use super::split::{BOM, SplitError};

/// What the scanner is in the middle of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Between values: whitespace is skipped, the next byte starts a value.
    Between,
    /// Inside a bare number or literal (`true`, `false`, `null`).
    Scalar,
    /// Inside an object, an array or a top-level string (`stack` and `in_string` say where).
    Nested,
}

/// Splits a byte stream into complete top-level JSON values (not validating them beyond
/// structure; the JSON reader validates later).
///
/// Only brackets, strings and escapes are tracked: enough to know where a value ends.
/// The scan position is kept across [`push`](Self::push)es, so every byte is looked at a
/// bounded number of times however the input is chunked (O(n) overall).
///
/// After an error, every further call returns the same error: the position in the stream
/// is lost, so nothing after it can be trusted.
#[derive(Debug)]
pub(super) struct ReferenceSplitter {
    max_value: usize,
    /// Unconsumed input; a value in progress always starts at `buf[0]`.
    buf: BytesMut,
    /// Stream offset of `buf[0]`, for error offsets.
    base: usize,
    /// Bytes of `buf` already scanned as part of the value in progress.
    pos: usize,
    mode: Mode,
    /// Closing brackets still expected, innermost last.
    stack: Vec<u8>,
    in_string: bool,
    escaped: bool,
    /// Whether the start of the stream has been checked for a byte order mark.
    bom_checked: bool,
    error: Option<SplitError>,
}

impl ReferenceSplitter {
    /// `max_value`: largest single value in bytes; a longer one is an error (so memory
    /// stays bounded).
    pub(super) fn new(max_value: usize) -> Self {
        ReferenceSplitter {
            max_value,
            buf: BytesMut::new(),
            base: 0,
            pos: 0,
            mode: Mode::Between,
            stack: Vec::new(),
            in_string: false,
            escaped: false,
            bom_checked: false,
            error: None,
        }
    }

    /// Appends input. Nothing is scanned until [`next_value`](Self::next_value) is called.
    pub(super) fn push(&mut self, chunk: &[u8]) {
        // Input after an error is never looked at; don't let it pile up.
        if self.error.is_none() {
            self.buf.extend_from_slice(chunk);
        }
    }

    /// The next complete value, if one is buffered; leading whitespace between values is
    /// skipped.
    pub(super) fn next_value(&mut self) -> Result<Option<Bytes>, SplitError> {
        self.scan(false)
    }

    /// At end of input: the last value (a bare number/true/false/null at EOF is complete),
    /// or an error if a value is cut off.
    ///
    /// If several values are still buffered, each call returns the next one; call until it
    /// returns `Ok(None)` to drain them all.
    pub(super) fn finish(&mut self) -> Result<Option<Bytes>, SplitError> {
        if let Some(value) = self.scan(true)? {
            return Ok(Some(value));
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

    fn scan(&mut self, at_eof: bool) -> Result<Option<Bytes>, SplitError> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        if !self.bom_checked {
            if self.buf.starts_with(BOM) {
                self.consume(BOM.len());
            } else if !at_eof && BOM.starts_with(&self.buf) {
                // Maybe the first bytes of a BOM; wait for the rest (or for the end).
                return Ok(None);
            }
            self.bom_checked = true;
        }
        loop {
            match self.mode {
                Mode::Between => {
                    let skipped = self.buf.iter().take_while(|&&b| is_ws(b)).count();
                    self.consume(skipped);
                    let Some(&first) = self.buf.first() else {
                        return Ok(None);
                    };
                    match first {
                        b'{' | b'[' => {
                            self.mode = Mode::Nested;
                            self.stack.push(closer(first));
                        }
                        b'"' => {
                            self.mode = Mode::Nested;
                            self.in_string = true;
                        }
                        b',' | b':' | b'}' | b']' => {
                            return Err(self.fail(SplitError::Unexpected {
                                offset: self.base,
                                byte: first,
                            }));
                        }
                        _ => self.mode = Mode::Scalar,
                    }
                    self.include_byte(0)?;
                    self.pos = 1;
                }
                Mode::Scalar => {
                    while self.pos < self.buf.len() {
                        let b = self.buf[self.pos];
                        if is_ws(b) || is_structural(b) {
                            // The delimiter is not part of the scalar; it is looked at again
                            // as the start of what follows.
                            let end = self.pos;
                            return Ok(Some(self.take(end)));
                        }
                        self.include_byte(self.pos)?;
                        self.pos += 1;
                    }
                    return Ok(None);
                }
                Mode::Nested => {
                    while self.pos < self.buf.len() {
                        let i = self.pos;
                        let b = self.buf[i];
                        self.include_byte(i)?;
                        self.pos += 1;
                        let closed = if self.in_string {
                            if self.escaped {
                                self.escaped = false;
                                false
                            } else if b == b'\\' {
                                self.escaped = true;
                                false
                            } else if b == b'"' {
                                self.in_string = false;
                                self.stack.is_empty()
                            } else {
                                false
                            }
                        } else {
                            match b {
                                b'"' => {
                                    self.in_string = true;
                                    false
                                }
                                b'{' | b'[' => {
                                    self.stack.push(closer(b));
                                    false
                                }
                                b'}' | b']' => {
                                    if self.stack.pop() != Some(b) {
                                        return Err(self.fail(SplitError::Unexpected {
                                            offset: self.base.saturating_add(i),
                                            byte: b,
                                        }));
                                    }
                                    self.stack.is_empty()
                                }
                                _ => false,
                            }
                        };
                        if closed {
                            return Ok(Some(self.take(i + 1)));
                        }
                    }
                    return Ok(None);
                }
            }
        }
    }

    /// Checks that the byte at `index` of the value in progress still fits the limit.
    fn include_byte(&mut self, index: usize) -> Result<(), SplitError> {
        if index >= self.max_value {
            return Err(self.fail(SplitError::TooLarge {
                limit: self.max_value,
            }));
        }
        Ok(())
    }

    /// Hands out the first `len` buffered bytes as a value and resets to between values.
    fn take(&mut self, len: usize) -> Bytes {
        let value = self.buf.split_to(len).freeze();
        self.base = self.base.saturating_add(len);
        self.pos = 0;
        self.mode = Mode::Between;
        self.stack.clear();
        self.in_string = false;
        self.escaped = false;
        value
    }

    fn consume(&mut self, len: usize) {
        self.buf.advance(len);
        self.base = self.base.saturating_add(len);
    }

    /// Records a terminal error and frees the buffer, which can no longer be used.
    fn fail(&mut self, error: SplitError) -> SplitError {
        self.buf = BytesMut::new();
        self.stack = Vec::new();
        self.error = Some(error.clone());
        error
    }
}

fn closer(open: u8) -> u8 {
    if open == b'{' { b'}' } else { b']' }
}

/// JSON's whitespace: exactly these four bytes.
fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Bytes that end a bare scalar: the start of another value, or something that is only
/// valid inside a container (reported as unexpected by the next scan).
fn is_structural(b: u8) -> bool {
    matches!(b, b'{' | b'[' | b'"' | b'}' | b']' | b',' | b':')
}
