//! Server-Sent Events framing (`text/event-stream`): pure encoding, no I/O.
//!
//! The wire form follows the WHATWG HTML "event stream" format. Every field is written as
//! `name: value\n` (a single space after the colon, which parsers strip, so values that
//! start with a space keep it) and an event ends with a blank line.

use std::time::Duration;

use bytes::Bytes;

/// One SSE event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseEvent {
    /// The `id:` field; browsers send it back as `Last-Event-ID` on reconnect.
    pub id: Option<String>,
    /// The `event:` field; without it the browser dispatches a `message` event.
    pub event: Option<String>,
    /// The `retry:` field: the reconnection delay the browser should use.
    pub retry: Option<Duration>,
    /// The payload; may span several lines (each becomes its own `data:` line).
    pub data: String,
}

impl SseEvent {
    /// An event with only a payload.
    pub fn data(data: impl Into<String>) -> Self {
        SseEvent {
            data: data.into(),
            ..SseEvent::default()
        }
    }

    /// Sets the `id:` field.
    pub fn with_id(self, id: impl Into<String>) -> Self {
        SseEvent {
            id: Some(id.into()),
            ..self
        }
    }

    /// Sets the `event:` field.
    pub fn with_event(self, e: impl Into<String>) -> Self {
        SseEvent {
            event: Some(e.into()),
            ..self
        }
    }

    /// Sets the `retry:` field.
    pub fn with_retry(self, d: Duration) -> Self {
        SseEvent {
            retry: Some(d),
            ..self
        }
    }

    /// The default end-of-stream event of the Go gateway: exactly
    /// `"id: EOS\nevent: EOS\ndata: \n\n"`.
    pub fn end_of_stream() -> Self {
        SseEvent::data("").with_id("EOS").with_event("EOS")
    }

    /// Appends the wire form to `out`.
    ///
    /// Field order is `id`, `event`, `retry`, `data`. CR and LF cannot be represented in
    /// `id` or `event` (they would end the field and let the value inject other fields),
    /// so they are dropped; NUL is dropped from `id` too, because browsers ignore an id
    /// that contains one. Multi-line data is split on `\r\n`, `\n` and `\r` into one
    /// `data:` line each, which the browser joins back with `\n`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.reserve(self.encoded_len_hint());
        if let Some(id) = &self.id {
            field(out, b"id", id, |b| matches!(b, b'\r' | b'\n' | 0));
        }
        if let Some(event) = &self.event {
            field(out, b"event", event, |b| matches!(b, b'\r' | b'\n'));
        }
        if let Some(retry) = self.retry {
            push_retry(out, retry);
        }
        let data = self.data.as_bytes();
        let mut start = 0;
        let mut i = 0;
        while i < data.len() {
            match data[i] {
                b'\n' => {
                    data_line(out, &data[start..i]);
                    i += 1;
                    start = i;
                }
                b'\r' => {
                    data_line(out, &data[start..i]);
                    // `\r\n` is one line ending, not two.
                    i += if data.get(i + 1) == Some(&b'\n') {
                        2
                    } else {
                        1
                    };
                    start = i;
                }
                _ => i += 1,
            }
        }
        // The text after the last line ending is a line too, even when empty: that is what
        // makes empty data (and data ending in a newline) survive the round trip.
        data_line(out, &data[start..]);
        out.push(b'\n');
    }

    /// The wire form as one buffer.
    pub fn to_bytes(&self) -> Bytes {
        let mut out = Vec::with_capacity(self.encoded_len_hint());
        self.encode(&mut out);
        Bytes::from(out)
    }

    /// Close to the encoded length for single-line events, so one allocation usually does.
    fn encoded_len_hint(&self) -> usize {
        let opt = |s: &Option<String>| s.as_ref().map_or(0, |s| s.len() + 8);
        opt(&self.id) + opt(&self.event) + self.retry.map_or(0, |_| 16) + self.data.len() + 8
    }
}

/// Writes `name: value\n`, leaving out the bytes `drop` rejects.
fn field(out: &mut Vec<u8>, name: &[u8], value: &str, drop: impl Fn(u8) -> bool) {
    out.extend_from_slice(name);
    out.extend_from_slice(b": ");
    // All dropped bytes are ASCII, so what remains is still valid UTF-8.
    out.extend(value.bytes().filter(|&b| !drop(b)));
    out.push(b'\n');
}

fn data_line(out: &mut Vec<u8>, line: &[u8]) {
    out.extend_from_slice(b"data: ");
    out.extend_from_slice(line);
    out.push(b'\n');
}

fn push_retry(out: &mut Vec<u8>, retry: Duration) {
    out.extend_from_slice(b"retry: ");
    // The field is an integer of milliseconds; sub-millisecond parts cannot be expressed.
    out.extend_from_slice(itoa::Buffer::new().format(retry.as_millis()).as_bytes());
    out.push(b'\n');
}

/// A heartbeat comment: exactly `": keep-alive\n\n"` (comment lines are ignored by
/// `EventSource`, but the traffic keeps proxies from closing an idle connection).
pub(crate) fn heartbeat() -> Bytes {
    Bytes::from_static(b": keep-alive\n\n")
}

/// `retry: <ms>\n\n` alone, sent first when a retry hint is configured.
///
/// An event without `data` is not dispatched by the browser, but its `retry` field still
/// takes effect, so the hint does not show up as a spurious message.
pub(crate) fn retry_hint(retry: Duration) -> Bytes {
    let mut out = Vec::with_capacity(32);
    push_retry(&mut out, retry);
    out.push(b'\n');
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(e: &SseEvent) -> String {
        let bytes = e.to_bytes();
        let mut via_encode = Vec::new();
        e.encode(&mut via_encode);
        assert_eq!(bytes, via_encode, "to_bytes and encode disagree");
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[test]
    fn single_line_data() {
        assert_eq!(enc(&SseEvent::data("{\"a\":1}")), "data: {\"a\":1}\n\n");
    }

    #[test]
    fn empty_data_is_one_data_line() {
        assert_eq!(enc(&SseEvent::data("")), "data: \n\n");
        assert_eq!(enc(&SseEvent::default()), "data: \n\n");
    }

    #[test]
    fn all_fields_in_order() {
        let e = SseEvent::data("x")
            .with_retry(Duration::from_millis(1500))
            .with_event("update")
            .with_id("42");
        assert_eq!(enc(&e), "id: 42\nevent: update\nretry: 1500\ndata: x\n\n");
        assert_eq!(
            e,
            SseEvent {
                id: Some("42".into()),
                event: Some("update".into()),
                retry: Some(Duration::from_millis(1500)),
                data: "x".into(),
            }
        );
    }

    #[test]
    fn retry_is_whole_milliseconds() {
        let e = SseEvent::data("").with_retry(Duration::from_micros(2999));
        assert_eq!(enc(&e), "retry: 2\ndata: \n\n");
        let e = SseEvent::data("").with_retry(Duration::from_secs(3600));
        assert_eq!(enc(&e), "retry: 3600000\ndata: \n\n");
        let e = SseEvent::data("").with_retry(Duration::MAX);
        assert_eq!(enc(&e), "retry: 18446744073709551615999\ndata: \n\n");
    }

    #[test]
    fn end_of_stream() {
        assert_eq!(
            enc(&SseEvent::end_of_stream()),
            "id: EOS\nevent: EOS\ndata: \n\n"
        );
    }

    #[test]
    fn heartbeat_and_retry_hint() {
        assert_eq!(heartbeat(), Bytes::from_static(b": keep-alive\n\n"));
        assert_eq!(
            retry_hint(Duration::from_secs(5)),
            Bytes::from_static(b"retry: 5000\n\n")
        );
        assert_eq!(
            retry_hint(Duration::ZERO),
            Bytes::from_static(b"retry: 0\n\n")
        );
    }

    #[test]
    fn multiline_data_each_line_ending() {
        assert_eq!(enc(&SseEvent::data("a\nb")), "data: a\ndata: b\n\n");
        assert_eq!(enc(&SseEvent::data("a\r\nb")), "data: a\ndata: b\n\n");
        assert_eq!(enc(&SseEvent::data("a\rb")), "data: a\ndata: b\n\n");
        assert_eq!(
            enc(&SseEvent::data("a\nb\r\nc\rd")),
            "data: a\ndata: b\ndata: c\ndata: d\n\n"
        );
        // `\n\r` is two line endings (LF, then a lone CR), not one.
        assert_eq!(
            enc(&SseEvent::data("a\n\rb")),
            "data: a\ndata: \ndata: b\n\n"
        );
        assert_eq!(
            enc(&SseEvent::data("a\r\r\nb")),
            "data: a\ndata: \ndata: b\n\n"
        );
    }

    #[test]
    fn trailing_and_leading_newlines_in_data() {
        assert_eq!(enc(&SseEvent::data("a\n")), "data: a\ndata: \n\n");
        assert_eq!(enc(&SseEvent::data("a\r\n")), "data: a\ndata: \n\n");
        assert_eq!(enc(&SseEvent::data("a\r")), "data: a\ndata: \n\n");
        assert_eq!(enc(&SseEvent::data("\na")), "data: \ndata: a\n\n");
        assert_eq!(enc(&SseEvent::data("\n")), "data: \ndata: \n\n");
        assert_eq!(enc(&SseEvent::data("\r\n")), "data: \ndata: \n\n");
    }

    #[test]
    fn pretty_json_keeps_framing() {
        let json = "{\n  \"a\": 1,\n  \"b\": [\n    2\n  ]\n}";
        assert_eq!(
            enc(&SseEvent::data(json)),
            "data: {\ndata:   \"a\": 1,\ndata:   \"b\": [\ndata:     2\ndata:   ]\ndata: }\n\n"
        );
    }

    #[test]
    fn unicode_passes_through() {
        let e = SseEvent::data("héllo 🌍\n日本語")
            .with_id("ïd-✓")
            .with_event("ëvent");
        assert_eq!(
            enc(&e),
            "id: ïd-✓\nevent: ëvent\ndata: héllo 🌍\ndata: 日本語\n\n"
        );
        // U+2028/U+2029 and NEL are not SSE line endings.
        assert_eq!(
            enc(&SseEvent::data("a\u{2028}b\u{85}c")),
            "data: a\u{2028}b\u{85}c\n\n"
        );
    }

    #[test]
    fn id_and_event_cannot_break_framing() {
        let e = SseEvent::data("x")
            .with_id("1\r\ndata: injected\n\0\r")
            .with_event("a\nretry: 1\rb");
        assert_eq!(
            enc(&e),
            "id: 1data: injected\nevent: aretry: 1b\ndata: x\n\n"
        );
        // NUL is only meaningful in ids; an event name keeps it.
        let e = SseEvent::data("").with_event("a\0b");
        assert_eq!(enc(&e), "event: a\0b\ndata: \n\n");
        // Empty values are still written: an empty id resets the browser's last event id.
        let e = SseEvent::data("").with_id("").with_event("");
        assert_eq!(enc(&e), "id: \nevent: \ndata: \n\n");
    }

    #[test]
    fn encode_appends() {
        let mut out = b"prefix".to_vec();
        SseEvent::data("1").encode(&mut out);
        SseEvent::data("2").encode(&mut out);
        assert_eq!(out, b"prefixdata: 1\n\ndata: 2\n\n");
    }
}
