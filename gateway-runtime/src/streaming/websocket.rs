//! WebSocket mode: one text frame per message each way.
//!
//! Conventions (documented in docs/streaming.md):
//! - every text or binary frame from the client is one JSON request
//!   message, merged over the path and query values;
//! - an empty frame ends the client's request stream (half-close) while
//!   responses keep coming: a Close frame cannot do that, as RFC 6455 lets
//!   no data follow a Close, so a Close (or a dropped connection) ends the
//!   exchange and cancels the call;
//! - the server ends with close 1000 after the last response; a gRPC error
//!   sends a final text frame with the error body, then close 1011; a
//!   malformed frame gets an error frame and close 1007; a frame over the
//!   size limit closes with 1009;
//! - a frame that breaks RFC 6455 closes with 1002 (unmasked, reserved
//!   opcode, bad fragmentation…) or 1007 (a text frame that is not UTF-8),
//!   the Close frame sent before the connection is dropped;
//! - past the `Grpc-Timeout` deadline the call ends as failed with
//!   DEADLINE_EXCEEDED (error frame, close 1011);
//! - the server pings on an interval and drops a peer that stays silent for
//!   the ping interval plus the pong timeout, to the moment.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use bytes::Bytes;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;

use super::config::{WebSocketClose, WebSocketConfig};
use super::source::{Render, ResponseSource, Typed};
use super::{MergeFn, RequestStream, WriteFn};
use crate::deadline::{self, Deadline};
use crate::error::GatewayError;
use crate::gateway::Gateway;
use crate::json::{JsonReader, JsonWriter};
use crate::telemetry::{EndReason, Left, Received, StreamStats, StreamTracker};

/// Close codes (RFC 6455 §7.4.1).
pub(crate) mod close {
    /// Normal closure.
    pub(crate) const NORMAL: u16 = 1000;
    /// Going away (the peer stopped answering pings).
    pub(crate) const GOING_AWAY: u16 = 1001;
    /// Protocol error: a frame RFC 6455 does not allow.
    pub(crate) const PROTOCOL: u16 = 1002;
    /// Invalid frame payload data (not a JSON message).
    pub(crate) const INVALID_PAYLOAD: u16 = 1007;
    /// Message too big.
    pub(crate) const TOO_BIG: u16 = 1009;
    /// Internal error: the gRPC call failed.
    pub(crate) const INTERNAL: u16 = 1011;
}

/// How many request messages may wait for the gRPC call to take them; the
/// socket is not read while the queue is full (backpressure).
const REQUEST_QUEUE: usize = 16;

type Sink = SplitSink<WebSocket, Message>;
type Source = SplitStream<WebSocket>;

/// Everything the upgraded connection needs.
pub(crate) struct Session<Req> {
    pub(crate) gateway: Gateway,
    pub(crate) base: Req,
    pub(crate) merge: MergeFn<Req>,
    pub(crate) metadata: tonic::metadata::MetadataMap,
    /// The HTTP request's extensions, for every call of the connection.
    pub(crate) extensions: http::Extensions,
    /// The stream's span, metrics and end reason.
    pub(crate) tracker: StreamTracker,
    pub(crate) timeout: Option<Duration>,
    /// The `Grpc-Timeout` deadline, from the handshake's arrival.
    pub(crate) deadline: Deadline,
}

impl<Req> Session<Req> {
    fn config(&self) -> WebSocketConfig {
        self.gateway
            .streaming()
            .websocket
            .clone()
            .unwrap_or_default()
    }

    pub(crate) fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request =
            tonic::Request::from_parts(self.metadata.clone(), self.extensions.clone(), message);
        if let Some(timeout) = self.timeout {
            request.set_timeout(timeout);
        }
        request
    }
}

/// A task that is aborted when this guard is dropped, so that no reader is
/// left behind when the connection's main task ends.
struct Reader<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for Reader<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl<T> Reader<T> {
    /// Waits for the reader to end; an aborted or panicked reader counts as
    /// the client being gone.
    async fn end(&mut self) -> Option<T> {
        (&mut self.0).await.ok()
    }
}

/// What runs on an upgraded connection. Boxed, so that the task axum
/// spawns for it is compiled once, not once per binding.
pub(crate) type OnUpgrade =
    Box<dyn FnOnce(WebSocket) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

/// Performs the upgrade handshake and runs `run` on the socket.
pub(crate) async fn upgrade(
    parts: &mut http::request::Parts,
    config: &WebSocketConfig,
    run: OnUpgrade,
) -> Result<Response, GatewayError> {
    let mut upgrade = WebSocketUpgrade::from_request_parts(parts, &())
        .await
        .map_err(|e| GatewayError::Internal(format!("WebSocket upgrade failed: {e}")))?;
    if let Some(echo) = parts.extensions.get::<crate::browser_auth::EchoProtocol>() {
        upgrade = upgrade.protocols([echo.0.clone()]);
    }
    Ok(upgrade
        .max_message_size(config.max_message_size)
        .max_frame_size(config.max_frame_size)
        .read_buffer_size(config.read_buffer_size)
        .on_upgrade(run))
}

/// What the client did.
enum ClientEvent {
    /// A request message (frame bytes, not yet parsed).
    Data(Bytes),
    /// An empty frame: no more requests.
    HalfClose,
    /// Close frame, error or end of connection.
    Gone,
    /// A frame over the size limit.
    TooBig,
    /// A frame that breaks the protocol: close with this code and reason.
    Protocol(u16, &'static str),
}

/// What a read error means: the peer gone, or a protocol violation to
/// answer with a Close frame before dropping the connection.
fn read_error(error: axum::Error) -> ClientEvent {
    use tungstenite::error::{CapacityError, ProtocolError};
    let Ok(error) = error.into_inner().downcast::<tungstenite::Error>() else {
        return ClientEvent::Gone;
    };
    match *error {
        tungstenite::Error::Capacity(CapacityError::MessageTooLong { .. }) => ClientEvent::TooBig,
        tungstenite::Error::Capacity(_) => ClientEvent::Protocol(close::TOO_BIG, "frame too large"),
        tungstenite::Error::Utf8(_) => {
            ClientEvent::Protocol(close::INVALID_PAYLOAD, "text frame is not valid UTF-8")
        }
        tungstenite::Error::Protocol(e) => match e {
            // The peer dropped the connection: nobody to tell.
            ProtocolError::ResetWithoutClosingHandshake => ClientEvent::Gone,
            ProtocolError::UnmaskedFrameFromClient => {
                ClientEvent::Protocol(close::PROTOCOL, "client frames must be masked")
            }
            ProtocolError::UnknownDataFrameType(_)
            | ProtocolError::UnknownControlFrameType(_)
            | ProtocolError::InvalidOpcode(_) => {
                ClientEvent::Protocol(close::PROTOCOL, "reserved opcode")
            }
            ProtocolError::NonZeroReservedBits => {
                ClientEvent::Protocol(close::PROTOCOL, "reserved bits set")
            }
            _ => ClientEvent::Protocol(close::PROTOCOL, "protocol error"),
        },
        _ => ClientEvent::Gone,
    }
}

/// Reads the next meaningful client event, noting liveness.
async fn next_event(source: &mut Source, seen: &Liveness) -> ClientEvent {
    loop {
        let Some(frame) = source.next().await else {
            return ClientEvent::Gone;
        };
        seen.touch();
        match frame {
            Ok(Message::Text(text)) if text.is_empty() => return ClientEvent::HalfClose,
            Ok(Message::Binary(bytes)) if bytes.is_empty() => return ClientEvent::HalfClose,
            Ok(Message::Text(text)) => return ClientEvent::Data(Bytes::from(text)),
            Ok(Message::Binary(bytes)) => return ClientEvent::Data(bytes),
            Ok(Message::Ping(_) | Message::Pong(_)) => continue,
            Ok(Message::Close(_)) => return ClientEvent::Gone,
            Err(e) => return read_error(e),
        }
    }
}

/// Time of the last frame from the peer, for the ping timeout.
struct Liveness {
    start: tokio::time::Instant,
    last: AtomicU64,
}

impl Liveness {
    fn new() -> Self {
        Liveness {
            start: tokio::time::Instant::now(),
            last: AtomicU64::new(0),
        }
    }

    fn touch(&self) {
        let now = self.start.elapsed().as_millis() as u64;
        self.last.store(now, Ordering::Relaxed);
    }

    /// When the peer was last heard from.
    fn last_seen(&self) -> tokio::time::Instant {
        self.start + Duration::from_millis(self.last.load(Ordering::Relaxed))
    }
}

/// Pings on the configured interval; resolves when the peer has been silent
/// for interval + timeout. The silence is checked at the moment it would
/// run out, not only at ping ticks.
async fn keep_alive(
    sink: &tokio::sync::Mutex<Sink>,
    gateway: &Gateway,
    config: &WebSocketConfig,
    seen: &Liveness,
) {
    let Some(period) = config.ping_interval.filter(|p| !p.is_zero()) else {
        return std::future::pending().await;
    };
    let allowed = period + config.pong_timeout;
    let mut next_ping = tokio::time::Instant::now() + period;
    loop {
        let drop_at = seen.last_seen() + allowed;
        tokio::time::sleep_until(next_ping.min(drop_at)).await;
        let now = tokio::time::Instant::now();
        if now >= seen.last_seen() + allowed {
            return;
        }
        if now >= next_ping {
            next_ping = now + period;
            if !matches!(
                send_frame(sink, gateway, Message::Ping(Bytes::new())).await,
                Ok(true)
            ) {
                return;
            }
        }
    }
}

/// Ends the connection for an error.
async fn close_with(
    sink: &tokio::sync::Mutex<Sink>,
    gateway: &Gateway,
    config: &WebSocketConfig,
    error: GatewayError,
    code: u16,
) {
    let close = match &config.error_handler {
        Some(handler) => handler(&error),
        None => WebSocketClose {
            frame: String::from_utf8(error.to_json(gateway.json_options())).ok(),
            code,
            reason: error.message(),
        },
    };
    if let Some(frame) = close.frame
        && !matches!(
            send_frame(sink, gateway, Message::text(frame)).await,
            Ok(true)
        )
    {
        return;
    }
    let _ = send_frame(sink, gateway, close_frame(close.code, &close.reason)).await;
}

/// Sends one frame: `Ok(false)` when the client is gone,
/// [`GatewayError::SlowConsumer`] when it accepted nothing for the stall
/// timeout (then nothing more is worth sending: the connection is dropped).
async fn send_frame(
    sink: &tokio::sync::Mutex<Sink>,
    gateway: &Gateway,
    message: Message,
) -> Result<bool, GatewayError> {
    let send = async { sink.lock().await.send(message).await.is_ok() };
    match gateway.streaming().stall_timeout.filter(|s| !s.is_zero()) {
        None => Ok(send.await),
        Some(after) => tokio::time::timeout(after, send)
            .await
            .map_err(|_| GatewayError::SlowConsumer { after }),
    }
}

fn close_frame(code: u16, reason: &str) -> Message {
    // Control frames carry at most 125 bytes: 2 for the code, 123 of text.
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    Message::Close(Some(CloseFrame {
        code,
        reason: reason[..end].into(),
    }))
}

/// Sends one response message, which `write` writes (before the returned
/// future is first polled); counted as sent once the frame is flushed.
fn send_message<'a>(
    sink: &'a tokio::sync::Mutex<Sink>,
    gateway: &'a Gateway,
    write: &dyn Fn(&mut JsonWriter),
    stats: &'a StreamStats,
) -> impl Future<Output = Result<bool, GatewayError>> + Send + 'a {
    let left = Left::now();
    let frame = crate::json::json_frame(gateway.json_options(), b"", write, b"");
    // The writer writes UTF-8 only: the check never fails.
    let text = Utf8Bytes::try_from(frame).unwrap_or_default();
    async move {
        let bytes = text.len();
        let sent = send_frame(sink, gateway, Message::Text(text)).await;
        if let Ok(true) = sent {
            stats.sent(bytes, left);
        }
        sent
    }
}

/// What the request reader needs to turn frames into request messages.
#[derive(Clone)]
struct Parser<Req> {
    gateway: Gateway,
    base: Req,
    merge: MergeFn<Req>,
    max_message_size: usize,
    received: Received,
}

impl<Req: Clone> Parser<Req> {
    fn of(session: &Session<Req>) -> Self {
        Parser {
            gateway: session.gateway.clone(),
            base: session.base.clone(),
            merge: session.merge,
            max_message_size: session.config().max_message_size,
            received: session.tracker.received(),
        }
    }

    fn parse(&self, bytes: &[u8]) -> Result<Req, GatewayError> {
        let mut message = self.base.clone();
        let mut reader = JsonReader::new(bytes, self.gateway.json_options());
        (self.merge)(&mut message, &mut reader)
            .and_then(|()| reader.finish())
            .map_err(GatewayError::InvalidBody)?;
        self.received.message(bytes.len());
        Ok(message)
    }
}

/// Why the request reader stopped.
enum ReaderEnd<Req> {
    /// The client went away: cancel everything.
    Gone,
    /// A bad frame: report and close with this code. The request sender, if
    /// still open, is handed back so the request stream does not end first.
    Failed(GatewayError, u16, Option<mpsc::Sender<Req>>),
    /// A frame that breaks the protocol: only a Close frame is sent.
    Protocol(u16, &'static str),
}

/// Reads request frames into `tx` until the client half-closes, then keeps
/// reading (for liveness and Close) without sending; never returns on a
/// clean half-close. Runs in its own task, so that the socket is polled
/// when it has data, not each time a response is written.
async fn read_requests<Req: Clone>(
    mut source: Source,
    parser: Parser<Req>,
    tx: mpsc::Sender<Req>,
    seen: Arc<Liveness>,
    stats: StreamStats,
) -> ReaderEnd<Req> {
    let mut tx = Some(tx);
    loop {
        // Wait for room first: while the call is not taking messages, the
        // socket is not read and TCP pushes back on the client.
        let permit = match &tx {
            Some(tx) => tx.clone().reserve_owned().await.ok(),
            None => None,
        };
        match next_event(&mut source, &seen).await {
            ClientEvent::Data(bytes) => {
                if permit.is_none() {
                    continue;
                }
                match parser.parse(&bytes) {
                    Ok(message) => {
                        if let Some(permit) = permit {
                            permit.send(message);
                        }
                    }
                    // The sender goes along: the request stream stays open
                    // until the connection task has acted on the failure,
                    // or the call could end normally first.
                    Err(e) => return ReaderEnd::Failed(e, close::INVALID_PAYLOAD, tx),
                }
            }
            ClientEvent::HalfClose => tx = None,
            ClientEvent::Gone => {
                // Noted here, before the request sender is dropped: the end
                // of the requests may end the call, whose completion must
                // not count as the reason.
                stats.end(EndReason::ClientGone);
                return ReaderEnd::Gone;
            }
            ClientEvent::Protocol(code, reason) => return ReaderEnd::Protocol(code, reason),
            ClientEvent::TooBig => {
                let limit = parser.max_message_size;
                return ReaderEnd::Failed(GatewayError::BodyTooLarge { limit }, close::TOO_BIG, tx);
            }
        }
    }
}

fn receiver_stream<Req: Send + 'static>(rx: mpsc::Receiver<Req>) -> RequestStream<Req> {
    RequestStream::new(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|m| (m, rx))
    }))
}

/// The response stream of a call, with its message type erased.
type Responses = Result<Box<dyn ResponseSource>, tonic::Status>;

/// A streaming call's response as [`Responses`], written by `write`.
fn responses<M: Send + 'static>(
    response: Result<tonic::Response<super::ResponseStream<M>>, tonic::Status>,
    write: WriteFn<M>,
) -> Responses {
    response.map(|r| Typed::boxed(r.into_inner(), Render::Json(write, |_, _| None)))
}

/// Streams the responses to the socket; the result says how the
/// connection ends.
async fn write_responses(
    sink: &tokio::sync::Mutex<Sink>,
    gateway: &Gateway,
    response: Responses,
    stats: &StreamStats,
) -> Result<(), GatewayError> {
    let mut source = response.map_err(GatewayError::Upstream)?;
    loop {
        match std::future::poll_fn(|cx| source.poll_message(cx)).await {
            Ok(true) => {
                let send = send_message(sink, gateway, &|w| source.write(w), stats);
                let sent = send.await?;
                source.release();
                if !sent {
                    stats.end(EndReason::ClientGone);
                    return Ok(());
                }
            }
            Ok(false) => return Ok(()),
            Err(status) => return Err(GatewayError::Upstream(status)),
        }
    }
}

async fn finish(
    sink: &tokio::sync::Mutex<Sink>,
    gateway: &Gateway,
    config: &WebSocketConfig,
    result: Result<(), GatewayError>,
    stats: &StreamStats,
) {
    match result {
        Ok(()) => {
            stats.grpc_code(tonic::Code::Ok);
            stats.end(EndReason::Completed);
            let _ = send_frame(sink, gateway, close_frame(close::NORMAL, "")).await;
        }
        // Nothing leaves: the connection is just dropped.
        Err(GatewayError::SlowConsumer { .. }) => stats.end(EndReason::SlowConsumer),
        Err(error) => {
            stats.grpc_code(error.code());
            stats.end(EndReason::GrpcError);
            close_with(sink, gateway, config, error, close::INTERNAL).await
        }
    }
}

/// Ends the connection because the gateway is draining: close 1001.
async fn shut_down(sink: &tokio::sync::Mutex<Sink>, gateway: &Gateway, stats: &StreamStats) {
    stats.end(EndReason::Shutdown);
    let frame = close_frame(close::GOING_AWAY, "server shutting down");
    let _ = send_frame(sink, gateway, frame).await;
}

/// Server streaming: the first frame is the request (merged over path and
/// query values; an empty frame keeps them as they are), then one text
/// frame per response.
pub(crate) async fn server_stream<C, Req, Resp, Fut>(
    socket: WebSocket,
    session: Session<Req>,
    client: C,
    call: impl FnOnce(C, tonic::Request<Req>) -> Fut + Send + 'static,
    write: WriteFn<Resp>,
) where
    C: Send + 'static,
    Req: Clone + Send + 'static,
    Resp: Send + 'static,
    Fut: Future<Output = Result<tonic::Response<super::ResponseStream<Resp>>, tonic::Status>>
        + Send
        + 'static,
{
    let config = session.config();
    let stats = session.tracker.stats();
    let (sink, mut source) = socket.split();
    let sink = tokio::sync::Mutex::new(sink);
    let seen = Arc::new(Liveness::new());
    let first = tokio::select! {
        event = next_event(&mut source, &seen) => event,
        () = session.gateway.draining() => return shut_down(&sink, &session.gateway, &stats).await,
    };
    let message = match first {
        ClientEvent::Data(bytes) => match Parser::of(&session).parse(&bytes) {
            Ok(message) => message,
            Err(e) => {
                stats.end(EndReason::GrpcError);
                return close_with(&sink, &session.gateway, &config, e, close::INVALID_PAYLOAD)
                    .await;
            }
        },
        ClientEvent::HalfClose => session.base.clone(),
        ClientEvent::Gone => return,
        ClientEvent::Protocol(code, reason) => {
            let _ = send_frame(&sink, &session.gateway, close_frame(code, reason)).await;
            return;
        }
        ClientEvent::TooBig => {
            let error = GatewayError::BodyTooLarge {
                limit: config.max_message_size,
            };
            stats.end(EndReason::GrpcError);
            return close_with(&sink, &session.gateway, &config, error, close::TOO_BIG).await;
        }
    };
    let request = session.request(message);
    let call: Pin<Box<dyn Future<Output = Responses> + Send>> =
        Box::pin(async move { responses(call(client, request).await, write) });
    serve_stream(session.head(), sink, source, seen, call).await
}

/// What [`Session`] holds beside the request message.
pub(crate) struct SessionHead<'a> {
    gateway: &'a Gateway,
    config: WebSocketConfig,
    stats: StreamStats,
    deadline: Deadline,
}

impl<Req> Session<Req> {
    fn head(&self) -> SessionHead<'_> {
        SessionHead {
            gateway: &self.gateway,
            config: self.config(),
            stats: self.tracker.stats(),
            deadline: self.deadline,
        }
    }
}

/// The rest of [`server_stream`] once the call is started: compiled once.
async fn serve_stream(
    head: SessionHead<'_>,
    sink: tokio::sync::Mutex<Sink>,
    source: Source,
    seen: Arc<Liveness>,
    call: Pin<Box<dyn Future<Output = Responses> + Send>>,
) {
    let SessionHead {
        gateway,
        config,
        stats,
        deadline,
    } = head;
    let mut watcher = Reader(tokio::spawn(watch_client(source, seen.clone())));
    let outcome = tokio::select! {
        result = async { write_responses(&sink, gateway, call.await, &stats).await } => Some(result),
        () = deadline.expired() => Some(Err(GatewayError::Upstream(deadline::exceeded()))),
        end = watcher.end() => match end.flatten() {
            Some((code, reason)) => {
                let _ = send_frame(&sink, gateway, close_frame(code, reason)).await;
                return;
            }
            None => None,
        },
        () = keep_alive(&sink, gateway, &config, &seen) => {
            stats.end(EndReason::IdleTimeout);
            None
        }
        () = gateway.draining() => return shut_down(&sink, gateway, &stats).await,
    };
    match outcome {
        Some(result) => finish(&sink, gateway, &config, result, &stats).await,
        None => {
            // Gone or silent: a Going Away close is a courtesy; the call is
            // cancelled as its future is dropped.
            let _ = send_frame(&sink, gateway, close_frame(close::GOING_AWAY, "")).await;
        }
    }
}

/// Reads and discards frames until the client goes away (`None`) or breaks
/// the protocol (the close code and reason to send).
async fn watch_client(mut source: Source, seen: Arc<Liveness>) -> Option<(u16, &'static str)> {
    loop {
        match next_event(&mut source, &seen).await {
            ClientEvent::Gone => return None,
            ClientEvent::Protocol(code, reason) => return Some((code, reason)),
            _ => {}
        }
    }
}

/// Client streaming: each frame is a request; an empty frame ends the
/// requests; the one response is a text frame, then close 1000.
pub(crate) async fn client_stream<C, Req, Resp, Fut>(
    socket: WebSocket,
    session: Session<Req>,
    client: C,
    call: impl FnOnce(C, tonic::Request<RequestStream<Req>>) -> Fut + Send + 'static,
    write: WriteFn<Resp>,
) where
    C: Send + 'static,
    Req: Clone + Send + 'static,
    Resp: Send + Sync + 'static,
    Fut: Future<Output = Result<tonic::Response<Resp>, tonic::Status>> + Send + 'static,
{
    let gateway = session.gateway.clone();
    with_request_frames(socket, session, |request, sink, stats| async move {
        let response = call(client, request)
            .await
            .map_err(GatewayError::Upstream)?;
        let send = send_message(&sink, &gateway, &|w| write(response.get_ref(), w), &stats);
        if !send.await? {
            stats.end(EndReason::ClientGone);
        }
        Ok(())
    })
    .await
}

/// Bidi streaming: requests and responses flow independently; an empty
/// frame half-closes the requests; close 1000 after the last response.
pub(crate) async fn bidi_stream<C, Req, Resp, Fut>(
    socket: WebSocket,
    session: Session<Req>,
    client: C,
    call: impl FnOnce(C, tonic::Request<RequestStream<Req>>) -> Fut + Send + 'static,
    write: WriteFn<Resp>,
) where
    C: Send + 'static,
    Req: Clone + Send + 'static,
    Resp: Send + 'static,
    Fut: Future<Output = Result<tonic::Response<super::ResponseStream<Resp>>, tonic::Status>>
        + Send
        + 'static,
{
    let gateway = session.gateway.clone();
    with_request_frames(socket, session, |request, sink, stats| async move {
        write_responses(
            &sink,
            &gateway,
            responses(call(client, request).await, write),
            &stats,
        )
        .await
    })
    .await
}

/// The request-streaming side of client and bidi streaming: frames are
/// read in their own task into the request stream `answer` calls with,
/// while `answer` writes the responses; then the connection is closed as
/// the first of these ends: a failed frame, the answer, or the keep-alive.
async fn with_request_frames<Req, F, Fut>(socket: WebSocket, session: Session<Req>, answer: F)
where
    Req: Clone + Send + 'static,
    F: FnOnce(
        tonic::Request<RequestStream<Req>>,
        Arc<tokio::sync::Mutex<Sink>>,
        StreamStats,
    ) -> Fut,
    Fut: Future<Output = Result<(), GatewayError>> + Send + 'static,
{
    let (tx, rx) = mpsc::channel(REQUEST_QUEUE);
    let request = session.request(receiver_stream(rx));
    request_frames_into(socket, session, tx, move |sink, stats| {
        answer(request, sink, stats)
    })
    .await
}

/// The request queue of a bidi call started before the upgrade.
pub(crate) fn request_queue<Req: Send + 'static>() -> (mpsc::Sender<Req>, RequestStream<Req>) {
    let (tx, rx) = mpsc::channel(REQUEST_QUEUE);
    (tx, receiver_stream(rx))
}

/// Bidi streaming whose call was started before the upgrade (to answer an
/// early failure, such as a refused token, with an HTTP status): frames go
/// to `tx`, the responses come from `response`.
pub(crate) async fn bidi_stream_started<Req, Resp>(
    socket: WebSocket,
    session: Session<Req>,
    tx: mpsc::Sender<Req>,
    response: impl Future<Output = Result<tonic::Response<super::ResponseStream<Resp>>, tonic::Status>>
    + Send
    + 'static,
    write: WriteFn<Resp>,
) where
    Req: Clone + Send + 'static,
    Resp: Send + 'static,
{
    let gateway = session.gateway.clone();
    request_frames_into(socket, session, tx, |sink, stats| async move {
        write_responses(&sink, &gateway, responses(response.await, write), &stats).await
    })
    .await
}

/// [`with_request_frames`] with the request queue made by the caller.
async fn request_frames_into<Req, F, Fut>(
    socket: WebSocket,
    session: Session<Req>,
    tx: mpsc::Sender<Req>,
    answer: F,
) where
    Req: Clone + Send + 'static,
    F: FnOnce(Arc<tokio::sync::Mutex<Sink>>, StreamStats) -> Fut,
    Fut: Future<Output = Result<(), GatewayError>> + Send + 'static,
{
    let (sink, source) = socket.split();
    let sink = Arc::new(tokio::sync::Mutex::new(sink));
    let seen = Arc::new(Liveness::new());
    let stats = session.tracker.stats();
    let mut reader = Reader(tokio::spawn(read_requests(
        source,
        Parser::of(&session),
        tx,
        seen.clone(),
        stats.clone(),
    )));
    // The reader's end without its message type; a failed frame's request
    // sender goes along, so that the request stream stays open until the
    // connection has acted on the failure.
    let reader: Pin<Box<dyn Future<Output = Option<ReaderOutcome>> + Send>> =
        Box::pin(async move {
            reader.end().await.map(|end| match end {
                ReaderEnd::Gone => (ReaderStop::Gone, None),
                ReaderEnd::Failed(error, code, requests) => (
                    ReaderStop::Failed(error, code),
                    requests.map(|r| Box::new(r) as Box<dyn Send>),
                ),
                ReaderEnd::Protocol(code, reason) => (ReaderStop::Protocol(code, reason), None),
            })
        });
    let answer: Pin<Box<dyn Future<Output = Result<(), GatewayError>> + Send>> =
        Box::pin(answer(sink.clone(), stats.clone()));
    serve_frames(session.head(), sink, seen, reader, answer).await
}

/// [`ReaderEnd`] without its message type: why the request reader
/// stopped, and the request sender it kept open.
type ReaderOutcome = (ReaderStop, Option<Box<dyn Send>>);

/// Why the request reader stopped (see [`ReaderEnd`]).
enum ReaderStop {
    Gone,
    Failed(GatewayError, u16),
    Protocol(u16, &'static str),
}

/// The rest of [`request_frames_into`]: compiled once.
async fn serve_frames(
    head: SessionHead<'_>,
    sink: Arc<tokio::sync::Mutex<Sink>>,
    seen: Arc<Liveness>,
    reader: Pin<Box<dyn Future<Output = Option<ReaderOutcome>> + Send>>,
    answer: Pin<Box<dyn Future<Output = Result<(), GatewayError>> + Send>>,
) {
    let SessionHead {
        gateway,
        config,
        stats,
        deadline,
    } = head;
    tokio::select! {
        // The reader first: a failed frame wins over a call that its end of
        // requests let finish.
        biased;
        end = reader => match end {
            Some((ReaderStop::Failed(error, code), _requests)) => {
                stats.grpc_code(error.code());
                stats.end(EndReason::GrpcError);
                close_with(&sink, gateway, &config, error, code).await
            }
            Some((ReaderStop::Protocol(code, reason), _)) => {
                let _ = send_frame(&sink, gateway, close_frame(code, reason)).await;
            }
            Some((ReaderStop::Gone, _)) | None => {}
        },
        result = answer => finish(&sink, gateway, &config, result, &stats).await,
        () = deadline.expired() => {
            let error = GatewayError::Upstream(deadline::exceeded());
            finish(&sink, gateway, &config, Err(error), &stats).await
        }
        () = gateway.draining() => shut_down(&sink, gateway, &stats).await,
        () = keep_alive(&sink, gateway, &config, &seen) => {
            stats.end(EndReason::IdleTimeout);
            let _ = send_frame(&sink, gateway, close_frame(close::GOING_AWAY, "ping timeout")).await;
        }
    }
}
