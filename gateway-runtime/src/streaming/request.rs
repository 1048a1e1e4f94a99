//! The request side of client and bidi streaming: NDJSON values from the
//! body (or one message from path and query) as a stream of request
//! messages, with errors reported to the response side.

use std::pin::Pin;
use std::sync::{Arc, Mutex};

use std::task::{Context, Poll, ready};

use futures_util::Stream;
use tokio::sync::Notify;

use super::MergeFn;
use crate::error::GatewayError;
use crate::gateway::Gateway;
use crate::json::{JsonOptions, JsonReader, ReaderScratch};
use crate::ndjson::{BodyValueError, BodyValues, SplitError, body_values};
use crate::telemetry::Received;

/// The request stream handed to a tonic client-streaming or bidi call.
///
/// A named type rather than a bare `Pin<Box<dyn Stream>>`: with the bare
/// trait object, rustc cannot prove the futures of tonic's
/// `impl IntoStreamingRequest` methods `Send` ("higher-ranked lifetime
/// error").
pub struct RequestStream<M>(Pin<Box<dyn Stream<Item = M> + Send + 'static>>);

impl<M> RequestStream<M> {
    /// Wraps a stream of request messages.
    pub fn new(stream: impl Stream<Item = M> + Send + 'static) -> Self {
        RequestStream(Box::pin(stream))
    }
}

impl<M> Stream for RequestStream<M> {
    type Item = M;

    fn poll_next(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<M>> {
        self.0.as_mut().poll_next(cx)
    }
}

impl<M> std::fmt::Debug for RequestStream<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RequestStream")
    }
}

/// Where the request stream reports a malformed value: the request stream
/// itself can only end (tonic request streams carry no errors), so the
/// response side waits on this as well and fails the call with it.
#[derive(Clone, Default)]
pub(crate) struct RequestErrors {
    inner: Arc<(Mutex<Option<GatewayError>>, Notify)>,
}

impl RequestErrors {
    /// Records the first error and wakes the waiter.
    pub(crate) fn report(&self, error: GatewayError) {
        let mut slot = self.inner.0.lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_none() {
            *slot = Some(error);
        }
        drop(slot);
        self.inner.1.notify_one();
    }

    /// The recorded error, if any.
    pub(crate) fn take(&self) -> Option<GatewayError> {
        self.inner
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }

    /// Waits for an error.
    pub(crate) async fn wait(&self) -> GatewayError {
        loop {
            if let Some(error) = self.take() {
                return error;
            }
            self.inner.1.notified().await;
        }
    }
}

/// The request messages of a call: the NDJSON values of the body when
/// `from_body`, else the one message `base` (path and query values).
pub(crate) fn request_stream<M: Clone + Send + 'static>(
    gateway: &Gateway,
    from_body: bool,
    body: axum::body::Body,
    base: M,
    merge: MergeFn<M>,
    errors: &RequestErrors,
) -> RequestStream<M> {
    if from_body {
        body_requests(
            body,
            base,
            merge,
            gateway.json_options().clone(),
            gateway.body_limit(),
            errors.clone(),
        )
    } else {
        RequestStream::new(futures_util::stream::once(async move { base }))
    }
}

/// Request messages from an NDJSON body: each complete JSON value is merged
/// over a copy of `base` (the path and query values) and sent at once; the
/// body is read only as fast as the call consumes messages.
fn body_requests<M>(
    body: axum::body::Body,
    base: M,
    merge: MergeFn<M>,
    options: JsonOptions,
    max_value: usize,
    errors: RequestErrors,
) -> RequestStream<M>
where
    M: Clone + Send + 'static,
{
    RequestStream::new(BodyRequests {
        values: body_values(body, max_value),
        base,
        merge,
        options,
        errors,
        // The request's span: the stream is polled by tonic, outside it.
        received: Received::new(tracing::Span::current(), super::Mode::Chunked),
        scratch: ReaderScratch::default(),
        in_place: InPlace::default(),
        done: false,
    })
}

/// The stream of [`body_requests`], written by hand: a value costs a copy
/// of `base` and the merge, nothing per message for the stream itself (the
/// value is read where the splitter found it, in the body's buffer).
struct BodyRequests<M> {
    values: BodyValues,
    base: M,
    merge: MergeFn<M>,
    options: JsonOptions,
    errors: RequestErrors,
    received: Received,
    /// The JSON reader's lists, reused from message to message.
    scratch: ReaderScratch,
    in_place: InPlace,
    done: bool,
}

/// Whether to read the next object in place (see [`BodyRequests::read_in_place`]).
///
/// An attempt that fails (an object not complete in the buffer yet, or not valid) costs
/// a partial read and an error that is thrown away. That happens about once per chunk
/// of the body when objects are small and chunks large; a client whose chunks end inside
/// most objects would pay it for nearly every message. So every message earns one
/// credit and a failed attempt costs eight: attempts are only made with credit left,
/// which bounds the failures to about one in eight messages.
#[derive(Debug, Clone, Copy)]
struct InPlace {
    credit: i32,
}

impl Default for InPlace {
    fn default() -> Self {
        InPlace {
            credit: InPlace::MAX,
        }
    }
}

impl InPlace {
    const MAX: i32 = 16;
    const FAILURE: i32 = 8;

    #[inline]
    fn worth_trying(self) -> bool {
        self.credit >= 0
    }

    #[inline]
    fn earn(&mut self) {
        self.credit = (self.credit + 1).min(InPlace::MAX);
    }

    fn failed(&mut self) {
        self.credit -= InPlace::FAILURE;
    }
}

// No field is ever pinned (the message is only cloned and moved out), so
// the stream moves freely whatever `M` is.
impl<M> Unpin for BodyRequests<M> {}

impl<M: Clone> Stream for BodyRequests<M> {
    type Item = M;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<M>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        if this.in_place.worth_trying()
            && let Some(message) = this.read_in_place()
        {
            this.in_place.earn();
            return Poll::Ready(Some(message));
        }
        let error = match ready!(this.values.poll_value(cx)) {
            None => {
                this.done = true;
                return Poll::Ready(None);
            }
            Some(Ok((bytes, text))) => {
                let mut message = this.base.clone();
                let mut reader =
                    JsonReader::with_scratch(bytes, text, &this.options, &mut this.scratch);
                let merged = (this.merge)(&mut message, &mut reader).and_then(|()| reader.finish());
                reader.into_scratch(&mut this.scratch);
                match merged {
                    Ok(()) => {
                        this.received.message(bytes.len());
                        this.in_place.earn();
                        return Poll::Ready(Some(message));
                    }
                    Err(e) => GatewayError::InvalidBody(e),
                }
            }
            Some(Err(BodyValueError::Split(SplitError::TooLarge { limit }))) => {
                GatewayError::BodyTooLarge { limit }
            }
            Some(Err(BodyValueError::Split(e))) => {
                GatewayError::InvalidBody(crate::json::JsonError::custom(e.to_string()))
            }
            Some(Err(BodyValueError::Read(e))) => GatewayError::BodyRead(e),
        };
        this.errors.report(error);
        this.done = true;
        Poll::Ready(None)
    }
}

impl<M: Clone> BodyRequests<M> {
    /// The next message read where its object lies in the body's buffer, without
    /// splitting it off first: `None` (and nothing consumed) unless the next value is an
    /// object whose first byte is buffered, and that reads without error as a message
    /// within the size limit.
    ///
    /// The same message as the usual way: a message's `merge_json` reads exactly one
    /// complete JSON value, so an object it read without error is valid JSON, and ends
    /// where the splitter would have ended it (which it then checks no further: an object
    /// has no delimiter after it to wait for). Anything else (the object not complete in
    /// the buffer yet, invalid, too large) is left to the usual way, which finds the
    /// same value boundaries and reports the same errors as without this attempt.
    fn read_in_place(&mut self) -> Option<M> {
        let text = self.values.object_ahead()?;
        let mut message = self.base.clone();
        let mut reader = JsonReader::with_scratch(
            text.as_bytes(),
            Some(text),
            &self.options,
            &mut self.scratch,
        );
        let merged = (self.merge)(&mut message, &mut reader);
        let len = reader.position();
        reader.into_scratch(&mut self.scratch);
        if merged.is_err() || len > self.values.max_value() {
            self.in_place.failed();
            return None;
        }
        self.values.commit(len);
        self.received.message(len);
        Some(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::{JsonError, JsonMessage, JsonWriter, fields};
    use bytes::Bytes;
    use futures_util::StreamExt;
    use std::convert::Infallible;

    /// A request message as generated code reads it: known and unknown keys, two names
    /// for one field, a nested message, a list, a `google.protobuf.Value`.
    #[derive(Clone, Debug, Default, PartialEq)]
    struct Msg {
        value: i32,
        my_name: String,
        child: Option<Box<Msg>>,
        tags: Vec<String>,
        any: Option<prost_types::Value>,
    }

    impl JsonMessage for Msg {
        const FULL_NAME: &'static str = "test.Msg";

        fn write_json(&self, w: &mut JsonWriter) {
            w.begin_object();
            w.end_object();
        }

        fn merge_json(&mut self, r: &mut JsonReader<'_>) -> Result<(), JsonError> {
            r.object(|r, key| {
                match key {
                    "value" => fields::read_plain(r, &mut self.value)?,
                    "myName" | "my_name" => fields::read_plain(r, &mut self.my_name)?,
                    "child" => fields::read_message::<Msg, _>(r, &mut self.child)?,
                    "tags" => r.array(|r| {
                        self.tags.push(r.read_string()?);
                        Ok(())
                    })?,
                    "any" => fields::read_message(r, &mut self.any)?,
                    _ => return Ok(false),
                }
                Ok(true)
            })
        }
    }

    use crate::test_rng::XorShift;

    /// The messages of `chunks` and the error reported, read in place when `in_place`.
    async fn read_all(
        chunks: &[Vec<u8>],
        max_value: usize,
        options: &JsonOptions,
        in_place: bool,
    ) -> (Vec<Msg>, Option<String>) {
        let items: Vec<Result<Bytes, Infallible>> =
            chunks.iter().map(|c| Ok(Bytes::from(c.clone()))).collect();
        let body = axum::body::Body::from_stream(futures_util::stream::iter(items));
        let errors = RequestErrors::default();
        let credit = if in_place { InPlace::MAX } else { i32::MIN / 2 };
        let stream = BodyRequests {
            values: body_values(body, max_value),
            base: Msg {
                value: 7,
                ..Msg::default()
            },
            merge: <Msg as JsonMessage>::merge_json,
            options: options.clone(),
            errors: errors.clone(),
            received: Received::new(tracing::Span::none(), super::super::Mode::Chunked),
            scratch: ReaderScratch::default(),
            in_place: InPlace { credit },
            done: false,
        };
        let messages = stream.collect().await;
        (messages, errors.take().map(|e| format!("{e:?} / {e}")))
    }

    /// Object-shaped NDJSON, valid and not: duplicate keys, unknown fields, bad values,
    /// truncated and stray brackets, whitespace and non-ASCII, split into random chunks.
    fn gen_body(r: &mut XorShift) -> Vec<u8> {
        let members: [&str; 22] = [
            "\"value\":1",
            "\"value\": -2147483648",
            "\"value\":2147483648",
            "\"value\":1.5",
            "\"value\":\"3\"",
            "\"value\":null",
            "\"myName\":\"a\\u00e9\\\"}\"",
            "\"my_name\":\"\u{e9}t\u{e9}\"",
            "\"child\":{\"value\":4,\"child\":{\"tags\":[\"x\"]}}",
            "\"child\":{\"value\":4,\"value\":5}",
            "\"tags\":[\"a\",\"b\"]",
            "\"tags\":[1]",
            "\"unknown\":{\"deep\":[1,{\"x\":null}]}",
            "\"any\":{\"k\":[true,null,\"s\",{\"n\":1e3}]}",
            "\"any\":[1,2",
            "\"value\" 1",
            "\"val\\ue\":9",
            "\"x\":tru",
            "\"x\":\"\u{1}\"",
            "\"x\":\"\\q\"",
            "\"y\":]",
            "\"z\":\"}\"",
        ];
        let mut body = Vec::new();
        for _ in 0..r.below(12) {
            match r.below(14) {
                0 => body.extend_from_slice(b"[1]"),
                1 => body.extend_from_slice(b"\"s\""),
                2 => body.extend_from_slice(b"null"),
                3 => body.extend_from_slice(b"{}}"),
                4 => body.extend_from_slice(b"{"),
                _ => {
                    body.push(b'{');
                    for i in 0..r.below(4) {
                        if i > 0 {
                            body.extend_from_slice(if r.below(8) == 0 { b" , " } else { b"," });
                        }
                        body.extend_from_slice(members[r.below(members.len())].as_bytes());
                    }
                    body.push(b'}');
                }
            }
            body.extend_from_slice([&b"\n"[..], b" ", b"", b"\r\n\t"][r.below(4)]);
        }
        body
    }

    fn chunk(r: &mut XorShift, body: &[u8]) -> Vec<Vec<u8>> {
        let most = [1, 5, 30, body.len().max(1)][r.below(4)];
        let mut chunks = Vec::new();
        let mut rest = body;
        while !rest.is_empty() {
            let (a, b) = rest.split_at(1 + r.below(rest.len().min(most)));
            chunks.push(a.to_vec());
            rest = b;
        }
        chunks
    }

    #[tokio::test]
    async fn objects_read_in_place_as_when_split_first() {
        let mut r = XorShift(0x2545_F491_4F6C_DD1D);
        let strict = JsonOptions {
            ignore_unknown_fields: false,
            ..JsonOptions::default()
        };
        let mut errors = 0;
        for round in 0..3000 {
            let body = gen_body(&mut r);
            let chunks = chunk(&mut r, &body);
            let max = if r.below(4) == 0 {
                r.below(60)
            } else {
                1 << 20
            };
            let options = if r.below(3) == 0 {
                strict.clone()
            } else {
                JsonOptions::default()
            };
            let want = read_all(&chunks, max, &options, false).await;
            let got = read_all(&chunks, max, &options, true).await;
            errors += usize::from(want.1.is_some());
            assert_eq!(
                got,
                want,
                "round {round}, max {max}: {:?}",
                chunks
                    .iter()
                    .map(|c| String::from_utf8_lossy(c).into_owned())
                    .collect::<Vec<_>>()
            );
        }
        assert!(errors > 300 && errors < 2900, "{errors}");
    }

    #[tokio::test]
    async fn failed_attempts_spend_credit() {
        // Every object cut by a chunk boundary: attempts stop failing for every message.
        let mut chunks = Vec::new();
        for i in 0..100 {
            chunks.push(format!("{{\"value\":{i}").into_bytes());
            chunks.push(b"}\n".to_vec());
        }
        let (messages, error) = read_all(&chunks, 1 << 20, &JsonOptions::default(), true).await;
        assert_eq!((messages.len(), error), (100, None));
        let mut credit = InPlace::default();
        let mut failures = 0;
        for _ in 0..100 {
            if credit.worth_trying() {
                credit.failed();
                failures += 1;
            }
            credit.earn();
        }
        assert!(failures <= 15, "{failures}");
    }
}
