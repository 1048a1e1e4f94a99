//! A message's JSON as one `Bytes`: a unary response's body, or a stream's
//! frame with its framing (SSE, NDJSON, WebSocket).
//!
//! Written into a buffer kept per worker thread and copied out at its exact
//! size: a frame made from a fresh `Vec`, whose capacity is larger than its
//! length, costs two allocations (the buffer, and the shared header `Bytes`
//! adds when length and capacity differ), more when the buffer grows on the
//! way; the copy costs one allocation, and copying a message's JSON costs
//! less than an allocation's work.

use std::cell::Cell;

use bytes::Bytes;

use super::{JsonOptions, JsonWriter};

/// Larger buffers are not kept: one big message must not pin its size on
/// the thread.
const KEPT: usize = 64 * 1024;

thread_local! {
    static BUFFER: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// `prefix`, the JSON `write` writes, then `suffix`, as one frame. Not
/// generic: compiled once, whatever the message.
pub(crate) fn json_frame(
    opts: &JsonOptions,
    prefix: &[u8],
    write: &dyn Fn(&mut JsonWriter),
    suffix: &[u8],
) -> Bytes {
    let mut buffer = BUFFER.take();
    buffer.clear();
    buffer.extend_from_slice(prefix);
    let mut w = JsonWriter::appending(buffer, opts);
    write(&mut w);
    let mut buffer = w.into_bytes();
    buffer.extend_from_slice(suffix);
    // Exactly the length: a `Bytes` without the shared header.
    let frame = Bytes::copy_from_slice(&buffer);
    if buffer.capacity() <= KEPT {
        BUFFER.set(buffer);
    }
    frame
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_hold_prefix_json_suffix_and_nothing_of_the_one_before() {
        let opts = JsonOptions::default();
        let big = "x".repeat(KEPT + 10);
        let frame = json_frame(&opts, b"data: ", &|w| w.string(&big), b"\n\n");
        assert_eq!(frame.len(), 6 + big.len() + 2 + 2);
        assert!(frame.starts_with(b"data: \"x") && frame.ends_with(b"x\"\n\n"));
        // The big buffer was not kept; a small one is, and is cleared.
        assert_eq!(BUFFER.take().capacity(), 0);
        let frame = json_frame(&opts, b"", &|w| w.string("a"), b"\n");
        assert_eq!(&frame[..], b"\"a\"\n");
        let frame = json_frame(&opts, b"", &|w| w.i64(7), b"");
        assert_eq!(&frame[..], b"\"7\"");
        assert!(BUFFER.take().capacity() > 0);
    }
}
