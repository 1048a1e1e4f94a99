//! What every streaming driver does first: pick the mode, bind the request
//! message from path, query (and body), and, for WebSocket, upgrade.

use std::future::Future;

use axum::body::Body;
use axum::extract::Request;
use axum::extract::ws::WebSocket;
use axum::response::Response;
use bytes::Bytes;
use http::request::Parts;

use super::mode::{Mode, StreamBinding, select_mode};
use super::websocket::{self, Session};
use super::{MergeFn, WriteFn};
use crate::bind::BindContext;
use crate::deadline::Deadline;
use crate::error::GatewayError;
use crate::gateway::Gateway;
use crate::metadata;
use crate::path::Captures;
use crate::router::RouteFuture;
use crate::telemetry::StreamTracker;
use crate::unary::grpc_request;

/// A request ready to be served in its mode.
pub(crate) struct Prepared<Req> {
    pub(crate) parts: Parts,
    /// The body, still unread (empty when the binding read it already).
    pub(crate) body: Body,
    pub(crate) mode: Mode,
    /// The request message bound from path, query and (server streaming)
    /// body: the message itself, or the base every streamed request is
    /// merged over.
    pub(crate) message: Req,
    /// The call's `Grpc-Timeout` deadline, counted from the request's arrival.
    pub(crate) deadline: Deadline,
    /// Whether a browser token (query or subprotocol) came with it.
    pub(crate) browser_token: bool,
}

/// What the WebSocket side of a streaming binding gets: the prepared
/// request and the binding's typed parts. That side is a function the
/// generated handler passes in (`None` when the binding does not serve
/// WebSocket), so that it is compiled only for bindings that use it.
pub struct WebSocketCall<C, Req, Call, Resp> {
    pub(crate) gateway: Gateway,
    pub(crate) client: C,
    pub(crate) prepared: Prepared<Req>,
    pub(crate) merge: MergeFn<Req>,
    pub(crate) call: Call,
    pub(crate) write: WriteFn<Resp>,
}

/// The WebSocket side of a streaming binding (`server_websocket` and the
/// others), as the generated handler passes it.
pub type WebSocketSide<C, Req, Call, Resp> = fn(WebSocketCall<C, Req, Call, Resp>) -> RouteFuture;

impl<C, Req, Call, Resp> WebSocketCall<C, Req, Call, Resp> {
    /// Runs the binding's WebSocket side, if it has one (a binding without
    /// one never gets here: the mode is refused first).
    pub(crate) async fn run(
        websocket: Option<fn(Self) -> RouteFuture>,
        gateway: &Gateway,
        client: C,
        prepared: Prepared<Req>,
        merge: MergeFn<Req>,
        call: Call,
        write: WriteFn<Resp>,
    ) -> Response {
        let Some(websocket) = websocket else {
            let error = GatewayError::Internal("the binding does not serve WebSocket".into());
            return gateway.fail(&prepared.parts, error);
        };
        websocket(WebSocketCall {
            gateway: gateway.clone(),
            client,
            prepared,
            merge,
            call,
            write,
        })
        .await
    }
}

/// Picks the mode and binds the message; `read_body` reads the body into
/// the message (server streaming; never for WebSocket). Errors come back
/// as the response to send.
///
/// Not an `async fn`: the checks of the head are made here, at once, so
/// that the future keeps only their result and, for a binding that reads
/// the body, the read; an `async fn` would keep the request beside them
/// for its whole life, and every stream's future would carry it.
pub(crate) fn prepare<'a, Req: Default + Send + 'a>(
    gateway: &'a Gateway,
    request: Request,
    captures: &'a Captures,
    binding: &StreamBinding,
    bind: impl FnOnce(&BindContext<'_>, &mut Req) -> Result<(), GatewayError> + Send + 'a,
    read_body: bool,
) -> impl Future<Output = Result<Prepared<Req>, Response>> + Send + 'a {
    let head = check_head(gateway, request, binding, read_body);
    async move {
        let Head {
            parts,
            body,
            mode,
            deadline,
            browser_token,
        } = head?;
        let (bytes, body) = if read_body && mode != Mode::WebSocket {
            (
                read_request_body(gateway, &parts, body).await?,
                Body::empty(),
            )
        } else {
            (Bytes::new(), body)
        };
        let mut message = Req::default();
        let mut bind = Some(bind);
        let mut bind = |cx: &BindContext<'_>| match bind.take() {
            Some(bind) => bind(cx, &mut message),
            None => Ok(()),
        };
        if let Err(e) = bind_message(gateway, &parts, captures, &bytes, &mut bind) {
            return Err(gateway.fail(&parts, e));
        }
        Ok(Prepared {
            parts,
            body,
            mode,
            message,
            deadline,
            browser_token,
        })
    }
}

/// [`Prepared`] without its message.
struct Head {
    parts: Parts,
    body: Body,
    mode: Mode,
    deadline: Deadline,
    browser_token: bool,
}

/// What [`prepare`] checks before any await: drain, browser token, mode,
/// deadline. Compiled once, not once per message type. The error is the
/// response to send (smaller than the head it stands for).
#[allow(clippy::result_large_err)]
fn check_head(
    gateway: &Gateway,
    request: Request,
    binding: &StreamBinding,
    read_body: bool,
) -> Result<Head, Response> {
    let (mut parts, body) = request.into_parts();
    if gateway.is_draining() {
        return Err(gateway.fail(&parts, GatewayError::ShuttingDown));
    }
    // Browser auth reads and rewrites the token headers only, never those
    // that make a request a WebSocket one: this holds for the mode too.
    let websocket = super::mode::is_websocket_request(&parts);
    let browser_token =
        match crate::browser_auth::apply(gateway.browser_auth(), &mut parts, websocket) {
            Ok(found) => found,
            Err(e) => return Err(gateway.fail(&parts, e)),
        };
    let mode = match select_mode(&parts, websocket, binding, gateway) {
        Ok(mode) => mode,
        Err(e) => return Err(gateway.fail(&parts, e)),
    };
    let deadline = match Deadline::of(&parts.headers) {
        Ok(deadline) => deadline,
        Err(e) => return Err(gateway.fail(&parts, e)),
    };
    if !read_body && mode == Mode::Chunked {
        // The body (if the binding streams it) is a stream of request
        // messages, idle as long as the client has nothing to say.
        crate::serve::BodyTimeoutExempt::apply(&parts);
    }
    Ok(Head {
        parts,
        body,
        mode,
        deadline,
        browser_token,
    })
}

/// The whole body of a binding that reads it; compiled once.
async fn read_request_body(
    gateway: &Gateway,
    parts: &Parts,
    body: Body,
) -> Result<Bytes, Response> {
    crate::body::read_body_with_headers(&parts.headers, body, gateway.body_limit())
        .await
        .map_err(|e| gateway.fail(parts, e))
}

/// Binds the message from path, query and body (`bind` holds the message,
/// so this is compiled once, not once per message type).
fn bind_message(
    gateway: &Gateway,
    parts: &Parts,
    captures: &Captures,
    bytes: &Bytes,
    bind: &mut (dyn FnMut(&BindContext<'_>) -> Result<(), GatewayError> + Send),
) -> Result<(), GatewayError> {
    let cx = BindContext::new(captures, parts.uri.query().unwrap_or(""), bytes, gateway)
        .with_content_type(crate::http_body::request_content_type(&parts.headers));
    bind(&cx)
}

/// Upgrades to WebSocket and hands the socket and session to `run`.
pub(crate) async fn upgrade<Req, F, Fut>(
    gateway: &Gateway,
    prepared: Prepared<Req>,
    merge: MergeFn<Req>,
    run: F,
) -> Response
where
    F: FnOnce(WebSocket, Session<Req>) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
    Req: Send + 'static,
{
    let (parts, session) = session(gateway, prepared, merge);
    upgrade_session(gateway, parts, session, run).await
}

/// The WebSocket session of a prepared request (its metadata, extensions,
/// span), before the upgrade.
pub(crate) fn session<Req>(
    gateway: &Gateway,
    prepared: Prepared<Req>,
    merge: MergeFn<Req>,
) -> (Parts, Session<Req>) {
    let Prepared {
        parts,
        message,
        deadline,
        ..
    } = prepared;
    let (metadata, extensions, ()) = grpc_request(&parts, gateway, ()).into_parts();
    let session = Session {
        gateway: gateway.clone(),
        base: message,
        merge,
        metadata,
        extensions,
        tracker: StreamTracker::new(
            tracing::Span::current(),
            Mode::WebSocket,
            gateway.drain().map(crate::Drain::stream),
        ),
        timeout: metadata::request_timeout(&parts.headers),
        deadline,
    };
    (parts, session)
}

/// Upgrades to WebSocket and hands the socket and `session` to `run`.
pub(crate) async fn upgrade_session<Req, F, Fut>(
    gateway: &Gateway,
    mut parts: Parts,
    session: Session<Req>,
    run: F,
) -> Response
where
    F: FnOnce(WebSocket, Session<Req>) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
    Req: Send + 'static,
{
    let config = gateway.streaming().websocket.clone().unwrap_or_default();
    let span = session.tracker.span().clone();
    let run: websocket::OnUpgrade = Box::new(move |socket| {
        Box::pin(tracing::Instrument::instrument(run(socket, session), span))
    });
    match websocket::upgrade(&mut parts, &config, run).await {
        Ok(response) => response,
        Err(e) => gateway.fail(&parts, e),
    }
}
