//! NDJSON response lines: a value, the error line, the heartbeat.

use bytes::Bytes;

#[cfg(test)]
/// One NDJSON response line: the bytes followed by `\n`.
///
/// A CR or LF inside `json` would split the line, so each is written as a space instead:
/// in valid JSON they can only be whitespace between tokens (inside strings they must be
/// escaped), so the value is unchanged. Compact JSON is copied as is.
pub(super) fn line(json: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(json.len() + 1);
    push_flat(&mut out, json);
    out.push(b'\n');
    Bytes::from(out)
}

/// The error line sent when a stream fails after its first line: exactly
/// `{"error":<status json>}\n` where `<status json>` is given (already rendered
/// `{"code":N,"message":"…","details":[…]}`). Line breaks in it are flattened as in
/// [`line()`].
pub(crate) fn error_line(status_json: &[u8]) -> Bytes {
    const OPEN: &[u8] = b"{\"error\":";
    let mut out = Vec::with_capacity(OPEN.len() + status_json.len() + 2);
    out.extend_from_slice(OPEN);
    push_flat(&mut out, status_json);
    out.extend_from_slice(b"}\n");
    Bytes::from(out)
}

/// An optional heartbeat: a blank line `"\n"` (NDJSON readers skip empty lines).
pub(crate) fn heartbeat() -> Bytes {
    Bytes::from_static(b"\n")
}

fn push_flat(out: &mut Vec<u8>, json: &[u8]) {
    if json.iter().any(|&b| b == b'\n' || b == b'\r') {
        out.extend(json.iter().map(|&b| match b {
            b'\n' | b'\r' => b' ',
            b => b,
        }));
    } else {
        out.extend_from_slice(json);
    }
}
