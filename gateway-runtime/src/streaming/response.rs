//! The response side of server and bidi streaming in SSE and chunked mode:
//! the upstream gRPC stream, the wait for its first message, and the
//! streaming HTTP body.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::response::Response;
use bytes::Bytes;
use futures_util::Stream;
use http::{HeaderName, HeaderValue, StatusCode, header};
use http_body::Frame;

use super::config::SseConfig;
use super::request::RequestErrors;
use super::source::{Render, ResponseSource, Typed};
use super::stall::{LastFrame, Timed, watched_body};
use super::{FieldFn, Mode, WriteFn};
use crate::deadline::{self, Deadline};
use crate::error::GatewayError;
use crate::gateway::Gateway;
use crate::json::JsonWriter;
use crate::metadata;
use crate::sse::SseEvent;
use crate::telemetry::{EndReason, Left, StreamTracker};

/// One thing that happened upstream.
pub(crate) enum Item {
    /// A response message, held by the upstream until the next item.
    Message,
    /// The stream ended normally, with these trailers.
    End(Option<tonic::metadata::MetadataMap>),
    /// The call failed (upstream status, or a malformed request value).
    Error(GatewayError),
}

/// The gRPC response stream plus the request side's error slot.
///
/// Polled by hand rather than through `select!`: an SSE event is a few
/// thousand instructions, and the futures and branches a `select!` builds
/// per poll were a tenth of them (docs/benchmarks.md).
///
/// `repr(C)`, in the order a message reads the fields: see [`BodyState`].
#[repr(C)]
pub(crate) struct Upstream {
    phase: Phase,
    /// What ends the stream early: the first malformed request value and
    /// the deadline. `None` when there is neither, the common case.
    interrupt: Option<Interrupt>,
    errors: Option<RequestErrors>,
    deadline: Deadline,
}

/// Where the upstream stream is.
enum Phase {
    /// Messages come; the last one is held by the source.
    Messages(Box<dyn ResponseSource>),
    /// The messages ended; the source's trailers come.
    Trailers(Box<dyn ResponseSource>),
    /// An `End` or `Error` was returned.
    Done,
}

type Interrupt = Pin<Box<dyn Future<Output = GatewayError> + Send>>;

impl Upstream {
    pub(crate) fn new(
        source: Box<dyn ResponseSource>,
        errors: Option<RequestErrors>,
        deadline: Deadline,
    ) -> Self {
        let interrupt = (errors.is_some() || deadline.is_set()).then(|| {
            let errors = errors.clone();
            Box::pin(async move {
                let request_error = async {
                    match &errors {
                        Some(errors) => errors.wait().await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    biased;
                    error = request_error => error,
                    // Past the deadline the stream ends as a failed call;
                    // dropping it cancels the gRPC call.
                    () = deadline.expired() => GatewayError::Upstream(deadline::exceeded()),
                }
            }) as Interrupt
        });
        Upstream {
            phase: Phase::Messages(source),
            interrupt,
            errors,
            deadline,
        }
    }

    /// The next item; after `End` or `Error`, always `End(None)`.
    pub(crate) async fn next(&mut self) -> Item {
        std::future::poll_fn(|cx| self.poll_next(cx)).await
    }

    /// Polls for the next item: the interrupt first, then the stream.
    #[inline]
    pub(crate) fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Item> {
        let item = loop {
            if matches!(self.phase, Phase::Done) {
                return Poll::Ready(Item::End(None));
            }
            if let Some(interrupt) = &mut self.interrupt
                && let Poll::Ready(error) = interrupt.as_mut().poll(cx)
            {
                break Item::Error(error);
            }
            match &mut self.phase {
                Phase::Messages(source) => match ready!(source.poll_message(cx)) {
                    // A message is never held back by a request error:
                    // the client gets what came before it.
                    Ok(true) => return Poll::Ready(Item::Message),
                    Ok(false) => {
                        if let Phase::Messages(source) =
                            std::mem::replace(&mut self.phase, Phase::Done)
                        {
                            self.phase = Phase::Trailers(source);
                        }
                    }
                    Err(status) => {
                        break Item::Error(GatewayError::Upstream(self.deadline.status_of(status)));
                    }
                },
                Phase::Trailers(source) => break Item::End(ready!(source.poll_trailers(cx))),
                Phase::Done => unreachable!("checked above"),
            }
        };
        // A request error that ended the request stream may show up upstream
        // as a normal end: report the cause.
        let item = match item {
            Item::End(_) | Item::Error(GatewayError::Upstream(_)) => {
                match self.errors.as_ref().and_then(RequestErrors::take) {
                    Some(error) => Item::Error(error),
                    None => item,
                }
            }
            item => item,
        };
        self.phase = Phase::Done;
        self.interrupt = None;
        Poll::Ready(item)
    }

    /// The source while messages come.
    fn source(&self) -> Option<&dyn ResponseSource> {
        match &self.phase {
            Phase::Messages(source) => Some(&**source),
            _ => None,
        }
    }

    /// Writes the message of the last [`Item::Message`] as JSON.
    pub(crate) fn write(&self, w: &mut JsonWriter) {
        if let Some(source) = self.source() {
            source.write(w);
        }
    }

    /// The message of the last [`Item::Message`] as JSON bytes.
    fn json(&self, gateway: &Gateway) -> Vec<u8> {
        let mut w = JsonWriter::new(gateway.json_options());
        self.write(&mut w);
        w.into_bytes()
    }

    /// A field of the message of the last [`Item::Message`], as text.
    fn field(&self, name: &str) -> Option<String> {
        self.source()?.field(name)
    }

    /// Drops the message of the last [`Item::Message`] once it is written
    /// (see [`ResponseSource::release`]).
    pub(crate) fn release(&mut self) {
        if let Phase::Messages(source) = &mut self.phase {
            source.release();
        }
    }

    /// Takes the message of the last [`Item::Message`] apart (`HttpBody`).
    pub(crate) fn take_raw(&mut self) -> crate::http_body::RawBody {
        match &mut self.phase {
            Phase::Messages(source) => source.take_raw(),
            _ => crate::http_body::RawBody::default(),
        }
    }
}

/// Streams the response messages of `response` to the client in SSE or
/// chunked mode, until `deadline`; `errors` fails the stream on a malformed request value
/// (bidi). Any error before the first byte is a normal HTTP error.
async fn respond(
    gateway: &Gateway,
    mode: Mode,
    parts: &http::request::Parts,
    response: tonic::Response<Box<dyn ResponseSource>>,
    errors: Option<RequestErrors>,
    deadline: Deadline,
) -> Response {
    let (response_metadata, source, _) = response.into_parts();
    let upstream = Upstream::new(source, errors, deadline);
    match stream_body(mode, &parts.headers, &response_metadata, upstream, gateway).await {
        Ok(response) => response,
        Err(e) => gateway.fail(parts, e),
    }
}

/// A streaming call whose response's message type is erased.
pub(crate) type ErasedCall = std::pin::Pin<
    Box<
        dyn std::future::Future<
                Output = Result<tonic::Response<Box<dyn ResponseSource>>, tonic::Status>,
            > + Send,
    >,
>;

/// Waits for the call (within the deadline, and, for a request stream,
/// failing on its first malformed value: `errors`), then streams its
/// responses in SSE or chunked mode. Compiled once for all bindings.
pub(crate) async fn call_and_respond(
    gateway: &Gateway,
    mode: Mode,
    parts: &http::request::Parts,
    deadline: Deadline,
    call: ErasedCall,
    errors: Option<RequestErrors>,
) -> Response {
    let result = match &errors {
        None => deadline.run(call).await,
        Some(errors) => tokio::select! {
            biased;
            error = errors.wait() => return gateway.fail(parts, error),
            result = deadline.run(call) => result,
        },
    };
    let response = match result {
        Ok(response) => response,
        Err(status) => {
            let error = errors.as_ref().and_then(RequestErrors::take);
            return gateway.fail(parts, error.unwrap_or(GatewayError::Upstream(status)));
        }
    };
    respond(gateway, mode, parts, response, errors, deadline).await
}

/// The response of a streaming call with its message type erased (see
/// [`ResponseSource`]): `write` and `field` write its messages.
pub(crate) fn erased<M: Send + 'static>(
    response: tonic::Response<super::ResponseStream<M>>,
    write: WriteFn<M>,
    field: FieldFn<M>,
) -> tonic::Response<Box<dyn ResponseSource>> {
    response.map(|stream| Typed::boxed(stream, Render::Json(write, field)))
}

/// Streams `upstream` to the client in SSE or chunked mode.
///
/// The headers wait for the first item (at most `first_message_wait`): an
/// error before anything was sent is a normal HTTP error response.
async fn stream_body(
    mode: Mode,
    request_headers: &http::HeaderMap,
    response_metadata: &tonic::metadata::MetadataMap,
    mut upstream: Upstream,
    gateway: &Gateway,
) -> Result<Response, GatewayError> {
    let wait = gateway.streaming().first_message_wait;
    // The first message mostly comes with the call's response headers: it
    // is polled for once before a timer (and a clock reading) is made.
    let first = {
        let mut next = std::pin::pin!(upstream.next());
        match std::future::poll_fn(|cx| Poll::Ready(next.as_mut().poll(cx))).await {
            Poll::Ready(item) => Ok(item),
            Poll::Pending => tokio::time::timeout(wait, next).await,
        }
    };
    let first = match first {
        Ok(Item::Error(error)) => return Err(error),
        Ok(item) => Some(item),
        Err(_) => None,
    };
    let tracker = StreamTracker::new(
        tracing::Span::current(),
        mode,
        gateway.drain().map(crate::Drain::stream),
    );
    let (stats, end) = (tracker.stats(), tracker.end_cell());
    let stall = gateway.streaming().stall_timeout;
    let mut response = match mode {
        Mode::Sse => {
            let body = sse_body(upstream, first, gateway.clone(), tracker);
            let last: LastFrame = |gateway, e| sse_error(gateway, e).map(|event| event.to_bytes());
            let last = (gateway.clone(), last);
            let mut r = Response::new(watched_body(body, stall, last, stats, end));
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/event-stream"),
            );
            r
        }
        _ => {
            let trailers = metadata::wants_trailers(request_headers);
            let body = ndjson_body(upstream, first, gateway.clone(), trailers, tracker);
            let last = (gateway.clone(), ndjson_error as LastFrame);
            let mut r = Response::new(watched_body(body, stall, last, stats, end));
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/x-ndjson"),
            );
            if trailers {
                announce_trailers(gateway, r.headers_mut());
            }
            r
        }
    };
    *response.status_mut() = StatusCode::OK;
    metadata::outgoing_headers(
        response_metadata,
        gateway.header_rules(),
        response.headers_mut(),
    );
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    // nginx buffers proxied responses unless told not to. A constant name:
    // a `&str` is checked and hashed into a `HeaderName` on every stream.
    const X_ACCEL_BUFFERING: HeaderName = HeaderName::from_static("x-accel-buffering");
    headers.insert(X_ACCEL_BUFFERING, HeaderValue::from_static("no"));
    gateway.hook_response(response_metadata, &mut response);
    Ok(response)
}

/// Announces the configured trailer fields (`Trailer: a, b`), which
/// HTTP/1.1 needs before it may send them.
fn announce_trailers(gateway: &Gateway, headers: &mut http::HeaderMap) {
    let declared = &gateway.streaming().chunked.declared_trailers;
    let matcher = &gateway.header_rules().outgoing_trailer;
    let names: Vec<String> = declared.iter().filter_map(|key| matcher(key)).collect();
    if names.is_empty() {
        return;
    }
    if let Ok(value) = HeaderValue::from_str(&names.join(", ")) {
        headers.insert(header::TRAILER, value);
    }
}

/// A heartbeat after `period` of silence. A message only notes when it
/// came; the timer is armed the first time the body waits, and when it
/// fires while messages came meanwhile, it is re-armed for the rest of the
/// silence. So a busy stream touches the timer once per period, not once
/// per message, and a stream that never waits never arms one.
#[repr(C)]
struct Heartbeat {
    period: Option<Duration>,
    /// When the silence began: the last message, heartbeat, or the start.
    quiet_since: tokio::time::Instant,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
    /// When the timer fires and whom it wakes, as of its last poll.
    armed: Option<Armed>,
}

/// A timer registered to wake a task at a time. While that time is ahead
/// and the same task waits again, polling the timer would change nothing,
/// and would touch its entry (its own allocation, one more cold cache line
/// per message with thousands of open streams): a clock read instead.
struct Armed {
    at: tokio::time::Instant,
    waker: std::task::Waker,
}

impl Heartbeat {
    fn new(period: Option<Duration>) -> Self {
        let period = period.filter(|p| !p.is_zero());
        Heartbeat {
            period,
            // Without a period it is never read: no clock reading for it.
            quiet_since: match period {
                Some(_) => tokio::time::Instant::now(),
                None => unread_instant(),
            },
            sleep: None,
            armed: None,
        }
    }

    /// Ready when the stream has been silent for the period.
    fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some(period) = self.period else {
            return Poll::Pending;
        };
        if let Some(armed) = &self.armed
            && armed.waker.will_wake(cx.waker())
            && tokio::time::Instant::now() < armed.at
        {
            return Poll::Pending;
        }
        let first_due = self.quiet_since + period;
        let sleep = self
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(first_due)));
        loop {
            if sleep.as_mut().poll(cx).is_pending() {
                let at = sleep.deadline();
                match &mut self.armed {
                    Some(armed) if armed.waker.will_wake(cx.waker()) => armed.at = at,
                    armed => {
                        *armed = Some(Armed {
                            at,
                            waker: cx.waker().clone(),
                        })
                    }
                }
                return Poll::Pending;
            }
            let due = self.quiet_since + period;
            let now = tokio::time::Instant::now();
            if now >= due {
                self.quiet_since = now;
                sleep.as_mut().reset(now + period);
                return Poll::Ready(());
            }
            sleep.as_mut().reset(due);
        }
    }

    /// Notes a message: the silence starts again. Returns the clock
    /// reading it took, if any, for the message's metrics to share.
    fn reset(&mut self) -> Option<std::time::Instant> {
        self.period?;
        self.quiet_since = tokio::time::Instant::now();
        Some(self.quiet_since.into_std())
    }
}

/// An instant for a field that is not read: one clock reading per process.
fn unread_instant() -> tokio::time::Instant {
    static AT: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    tokio::time::Instant::from_std(*AT.get_or_init(std::time::Instant::now))
}

/// What SSE and chunked bodies share.
///
/// `repr(C)`, fields in the order a message reads them and the rarely read
/// ones last: with thousands of open streams each event finds its stream's
/// state cold in the cache, so the fields an event reads are kept within
/// as few cache lines as possible (docs/benchmarks.md).
#[repr(C)]
struct BodyState {
    upstream: Upstream,
    heartbeat: Heartbeat,
    gateway: Gateway,
    done: bool,
    /// Whether something waits to go before the upstream's next item: the
    /// first item (`pending`) or the SSE retry hint. Read per event instead
    /// of those slots, which lie in colder lines.
    queued: bool,
    /// The first item, when it came before the headers were sent.
    pending: Option<Item>,
    /// The wait for the gateway's drain, made the first time the body waits.
    draining: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
    tracker: StreamTracker,
}

/// What a streaming body writes next.
enum Next {
    /// An upstream item; for a message, when it came.
    Item(Item, Left),
    /// The heartbeat fired first.
    Heartbeat,
    /// The gateway is draining.
    Shutdown,
}

impl BodyState {
    fn new(
        upstream: Upstream,
        first: Option<Item>,
        gateway: Gateway,
        heartbeat: Option<Duration>,
        tracker: StreamTracker,
    ) -> Self {
        BodyState {
            upstream,
            queued: first.is_some(),
            pending: first,
            heartbeat: Heartbeat::new(heartbeat),
            draining: None,
            gateway,
            done: false,
            tracker,
        }
    }

    /// What happened first: an upstream item, the heartbeat, the drain.
    /// Upstream first: a stream whose messages are ready never polls (so
    /// never arms) the heartbeat, nor waits on the drain.
    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Next> {
        if self.queued {
            self.queued = false;
            if let Some(item) = self.pending.take() {
                return Poll::Ready(self.seen(item, None));
            }
        }
        // A stream whose messages are always ready would never get to the
        // drain's wait below: check for it first (a read of a flag).
        let drain = self.gateway.drain();
        if drain.is_some_and(crate::Drain::is_draining) {
            return Poll::Ready(self.shut_down());
        }
        if let Poll::Ready(item) = self.upstream.poll_next(cx) {
            let now = self.heartbeat.reset();
            return Poll::Ready(self.seen(item, now));
        }
        if self.heartbeat.poll_tick(cx).is_ready() {
            return Poll::Ready(Next::Heartbeat);
        }
        if let Some(drain) = drain {
            let draining = self.draining.get_or_insert_with(|| {
                let drain = drain.clone();
                Box::pin(async move { drain.draining().await })
            });
            if draining.as_mut().poll(cx).is_ready() {
                return Poll::Ready(self.shut_down());
            }
        }
        Poll::Pending
    }

    /// Ends the stream for the drain.
    fn shut_down(&mut self) -> Next {
        self.done = true;
        self.tracker.end(EndReason::Shutdown);
        Next::Shutdown
    }

    /// Notes how an item ends the stream; `now` is a clock reading just
    /// taken, if there is one.
    #[inline]
    fn seen(&mut self, item: Item, now: Option<std::time::Instant>) -> Next {
        match &item {
            Item::Message => {}
            Item::End(_) => {
                crate::telemetry::grpc_code(self.tracker.span(), tonic::Code::Ok);
                self.tracker.end(EndReason::Completed);
            }
            Item::Error(error) => {
                crate::telemetry::grpc_code(self.tracker.span(), error.code());
                self.tracker.end(EndReason::GrpcError);
            }
        }
        Next::Item(item, Left::at(now))
    }
}

/// The SSE body: one event per upstream item, heartbeat and drain. Its
/// settings are read through the gateway, which every stream shares, rather
/// than held per stream: a per-stream copy is one more cache line to miss
/// per event when thousands of streams are open.
#[repr(C)]
struct SseBody {
    state: BodyState,
    /// The retry hint, sent first; looked at only while `state.queued`.
    preamble: Option<Bytes>,
}

impl Stream for SseBody {
    type Item = Timed;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Timed>> {
        let this = self.get_mut();
        if this.state.queued
            && let Some(preamble) = this.preamble.take()
        {
            this.state.queued = this.state.pending.is_some();
            return Poll::Ready(Some(Timed::other(Frame::data(preamble))));
        }
        if this.state.done {
            return Poll::Ready(None);
        }
        let next = ready!(this.state.poll_next(cx));
        Poll::Ready(sse_frame(&mut this.state, next))
    }
}

fn sse_body(
    upstream: Upstream,
    first: Option<Item>,
    gateway: Gateway,
    tracker: StreamTracker,
) -> SseBody {
    let config = &gateway.streaming().sse;
    let preamble = config.retry.map(crate::sse::retry_hint);
    let mut state = BodyState::new(upstream, first, gateway.clone(), config.heartbeat, tracker);
    state.queued |= preamble.is_some();
    SseBody { state, preamble }
}

/// The frame of `next` in SSE; `None` ends the body.
fn sse_frame(s: &mut BodyState, next: Next) -> Option<Timed> {
    if matches!(next, Next::Item(Item::End(_) | Item::Error(_), _)) {
        s.done = true;
    }
    let config = &s.gateway.streaming().sse;
    let mut since = None;
    let bytes = match next {
        Next::Heartbeat => crate::sse::heartbeat(),
        Next::Shutdown => config.shutdown_event.as_ref()?.to_bytes(),
        Next::Item(Item::Message, at) => {
            since = Some(at);
            let bytes = sse_message(s, config);
            s.upstream.release();
            bytes
        }
        Next::Item(Item::End(_), _) => config.end_of_stream.as_ref()?.to_bytes(),
        Next::Item(Item::Error(error), _) => sse_error(&s.gateway, &error)?.to_bytes(),
    };
    Some(Timed {
        frame: Frame::data(bytes),
        message: since,
    })
}

/// The SSE event of the message just received.
fn sse_message(s: &BodyState, config: &SseConfig) -> Bytes {
    if config.id_field.is_none() && config.event_field.is_none() {
        // The common case in one buffer: the JSON writer never writes a raw
        // line break, so the message is one `data:` line, written straight
        // after its prefix.
        return message_frame(s, b"data: ", b"\n\n");
    }
    let data = s.upstream.json(&s.gateway);
    let mut event = SseEvent::data(String::from_utf8(data).unwrap_or_default());
    if let Some(id) = config.id_field.as_deref().and_then(|f| s.upstream.field(f)) {
        event = event.with_id(id);
    }
    if let Some(name) = config
        .event_field
        .as_deref()
        .and_then(|f| s.upstream.field(f))
        .filter(|n| !n.is_empty())
    {
        event = event.with_event(name);
    }
    event.to_bytes()
}

/// The message of the last [`Item::Message`] as JSON between `prefix` and
/// `suffix`, in one frame.
fn message_frame(s: &BodyState, prefix: &[u8], suffix: &[u8]) -> Bytes {
    crate::json::json_frame(
        s.gateway.json_options(),
        prefix,
        &|w| s.upstream.write(w),
        suffix,
    )
}

/// The SSE event that ends a stream on an error (`event: failure` unless
/// the settings replace it).
fn sse_error(gateway: &Gateway, error: &GatewayError) -> Option<SseEvent> {
    match &gateway.streaming().sse.error_handler {
        Some(handler) => handler(error),
        None => Some(SseEvent {
            event: Some("failure".into()),
            data: String::from_utf8(error.to_json(gateway.json_options())).unwrap_or_default(),
            ..SseEvent::default()
        }),
    }
}

/// The NDJSON line that ends a stream on an error.
fn ndjson_error(gateway: &Gateway, error: &GatewayError) -> Option<Bytes> {
    match &gateway.streaming().chunked.error_handler {
        Some(handler) => handler(error),
        None => Some(crate::ndjson::error_line(
            &error.to_json(gateway.json_options()),
        )),
    }
}

/// The chunked (NDJSON) body: one line per upstream item, heartbeat,
/// drain and, when asked for, trailers.
struct NdjsonBody {
    state: BodyState,
    send_trailers: bool,
}

impl Stream for NdjsonBody {
    type Item = Timed;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Timed>> {
        let this = self.get_mut();
        if this.state.done {
            return Poll::Ready(None);
        }
        let next = ready!(this.state.poll_next(cx));
        Poll::Ready(ndjson_frame(&mut this.state, this.send_trailers, next))
    }
}

fn ndjson_body(
    upstream: Upstream,
    first: Option<Item>,
    gateway: Gateway,
    send_trailers: bool,
    tracker: StreamTracker,
) -> NdjsonBody {
    let heartbeat = gateway.streaming().chunked.heartbeat;
    NdjsonBody {
        state: BodyState::new(upstream, first, gateway, heartbeat, tracker),
        send_trailers,
    }
}

/// The frame of `next` in NDJSON; `None` ends the body.
fn ndjson_frame(s: &mut BodyState, send_trailers: bool, next: Next) -> Option<Timed> {
    let frame = match next {
        Next::Heartbeat => Frame::data(crate::ndjson::heartbeat()),
        // The body just ends: a client reading NDJSON reconnects.
        Next::Shutdown => return None,
        Next::Item(Item::Message, at) => {
            // The JSON writer never writes a raw line break: the message is
            // one line as it is.
            let line = message_frame(s, b"", b"\n");
            s.upstream.release();
            return Some(Timed {
                frame: Frame::data(line),
                message: Some(at),
            });
        }
        Next::Item(Item::End(trailers), _) => {
            s.done = true;
            let trailers = trailers.filter(|_| send_trailers)?;
            let mut map = http::HeaderMap::new();
            metadata::outgoing_trailers(&trailers, s.gateway.header_rules(), &mut map);
            if map.is_empty() {
                return None;
            }
            Frame::trailers(map)
        }
        Next::Item(Item::Error(error), _) => {
            s.done = true;
            Frame::data(ndjson_error(&s.gateway, &error)?)
        }
    };
    Some(Timed::other(frame))
}
