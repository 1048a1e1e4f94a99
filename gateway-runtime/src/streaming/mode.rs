//! Which streaming mode a request asks for, and whether the binding and the
//! gateway allow it.

use http::header;

use super::config::OriginPolicy;
use crate::error::GatewayError;
use crate::gateway::Gateway;

/// A streaming mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Server-Sent Events (`Accept: text/event-stream`).
    Sse,
    /// WebSocket (an upgrade request).
    WebSocket,
    /// Chunked transfer, NDJSON (everything else).
    Chunked,
}

/// Facts about a streaming binding fixed at generation time: for each mode,
/// `Ok(())` when the binding can serve it, or why not.
#[derive(Debug)]
pub struct StreamBinding {
    /// SSE availability.
    pub sse: Result<(), &'static str>,
    /// WebSocket availability.
    pub websocket: Result<(), &'static str>,
    /// Chunked availability.
    pub chunked: Result<(), &'static str>,
    /// Whether request messages are read from the body (NDJSON) in chunked
    /// mode; otherwise the one request message comes from path and query.
    pub body_stream: bool,
    /// Whether a server-streaming binding reads its request from the body.
    pub reads_body: bool,
    /// Route template and gRPC method, for tracing and metrics.
    pub rpc: crate::telemetry::RpcName,
}

/// Whether the request is a WebSocket upgrade: a `Connection` header that
/// contains the `upgrade` token anywhere in its list (Firefox sends
/// `keep-alive, Upgrade`), case-insensitive, and `Upgrade: websocket`.
pub(crate) fn is_websocket_upgrade(headers: &http::HeaderMap) -> bool {
    // `Upgrade` first: most requests have none, and one lookup says so,
    // where `Connection` (often `keep-alive`) would be split and compared.
    has_token(headers, header::UPGRADE, "websocket")
        && has_token(headers, header::CONNECTION, "upgrade")
}

/// Whether the request opens a WebSocket: an HTTP/1.1 upgrade
/// ([`is_websocket_upgrade`]) or an HTTP/2 extended CONNECT with
/// `:protocol websocket` (RFC 8441), which browsers use on HTTP/2
/// connections to servers that allow it (`axum::serve` does).
pub(crate) fn is_websocket_request(parts: &http::request::Parts) -> bool {
    if parts.method == http::Method::CONNECT {
        return parts
            .extensions
            .get::<hyper::ext::Protocol>()
            .is_some_and(|p| p.as_str().eq_ignore_ascii_case("websocket"));
    }
    is_websocket_upgrade(&parts.headers)
}

fn has_token(headers: &http::HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

/// Whether `Accept` lists `text/event-stream` (anywhere in the list, any
/// case, with parameters), unless its `q` is 0.
pub(crate) fn accepts_event_stream(headers: &http::HeaderMap) -> bool {
    let accept = headers.get_all(header::ACCEPT);
    // Most `Accept` values name no event stream at all: a scan for the
    // subtype after each `/` says so without splitting the list.
    if !accept.iter().any(|v| names_event_stream(v.as_bytes())) {
        return false;
    }
    accept
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';');
            let media = parts.next().unwrap_or("").trim();
            media.eq_ignore_ascii_case("text/event-stream")
                && !parts.any(|p| {
                    let p = p.trim();
                    p.strip_prefix("q=")
                        .or_else(|| p.strip_prefix("Q="))
                        .and_then(|q| q.trim().parse::<f32>().ok())
                        .is_some_and(|q| q == 0.0)
                })
        })
}

/// Whether a `/` in `value` is followed by `event-stream` (any case): a
/// quick test that [`accepts_event_stream`] can only pass where it holds.
fn names_event_stream(value: &[u8]) -> bool {
    const SUBTYPE: &[u8] = b"event-stream";
    value.iter().enumerate().any(|(i, &b)| {
        b == b'/'
            && value
                .get(i + 1..i + 1 + SUBTYPE.len())
                .is_some_and(|s| s.eq_ignore_ascii_case(SUBTYPE))
    })
}

/// Picks the mode of a request and checks that it is available: 501 naming
/// the mode when it is not, 403 for a refused WebSocket origin.
/// `websocket`: what [`is_websocket_request`] says of `parts`.
pub(crate) fn select_mode(
    parts: &http::request::Parts,
    websocket: bool,
    binding: &StreamBinding,
    gateway: &Gateway,
) -> Result<Mode, GatewayError> {
    let headers = &parts.headers;
    let unavailable = |mode: &'static str, reason: &str| GatewayError::StreamingModeUnavailable {
        mode,
        reason: reason.to_string(),
    };
    if parts.method == http::Method::CONNECT && !websocket {
        // An extended CONNECT for another protocol (or a plain CONNECT) is
        // not a request for a stream.
        let reason = match parts.extensions.get::<hyper::ext::Protocol>() {
            Some(p) => format!(
                "extended CONNECT for protocol {:?}; only \"websocket\" is supported",
                p.as_str()
            ),
            None => "CONNECT without the :protocol pseudo-header".to_owned(),
        };
        return Err(GatewayError::InvalidWebSocketHandshake {
            reason,
            unsupported_version: false,
        });
    }
    if websocket {
        binding.websocket.map_err(|r| unavailable("WebSocket", r))?;
        let Some(config) = &gateway.streaming().websocket else {
            return Err(unavailable(
                "WebSocket",
                "WebSocket is not enabled in the gateway settings",
            ));
        };
        check_origin(&config.origin, headers)?;
        check_handshake(parts)?;
        return Ok(Mode::WebSocket);
    }
    if accepts_event_stream(headers) {
        binding.sse.map_err(|r| unavailable("SSE", r))?;
        return Ok(Mode::Sse);
    }
    binding
        .chunked
        .map_err(|r| unavailable("chunked transfer", r))?;
    Ok(Mode::Chunked)
}

/// The gRPC request of a streaming call; in SSE mode it also carries the
/// client's `Last-Event-ID` header as `last-event-id` metadata, so that a
/// service can resume where a reconnecting `EventSource` left off.
///
/// The request's extensions move into the gRPC request: past this point
/// the parts serve only the error response.
pub(crate) fn sse_request<M>(
    mode: Mode,
    parts: &mut http::request::Parts,
    gateway: &Gateway,
    binding: &StreamBinding,
    message: M,
) -> tonic::Request<M> {
    sse_request_head(mode, parts, gateway, binding).map(|()| message)
}

/// [`sse_request`] without its message: compiled once.
fn sse_request_head(
    mode: Mode,
    parts: &mut http::request::Parts,
    gateway: &Gateway,
    binding: &StreamBinding,
) -> tonic::Request<()> {
    let mut request = crate::unary::grpc_request_moving(parts, gateway, ());
    if mode == Mode::Sse
        && let Some(value) = parts
            .headers
            .get("last-event-id")
            .and_then(|v| tonic::metadata::MetadataValue::try_from(v.as_bytes()).ok())
    {
        crate::telemetry::sse_reconnect(&binding.rpc);
        request.metadata_mut().insert("last-event-id", value);
    }
    request
}

/// Checks what RFC 6455 §4.2.1 (HTTP/1.1) and RFC 8441 §5 (HTTP/2) ask of
/// an opening handshake beyond the upgrade itself: GET, version 13 (else
/// 426 naming it), and over HTTP/1.1 a key of 16 bytes in base64.
pub(crate) fn check_handshake(parts: &http::request::Parts) -> Result<(), GatewayError> {
    let bad = |reason: &str, unsupported_version: bool| GatewayError::InvalidWebSocketHandshake {
        reason: reason.to_owned(),
        unsupported_version,
    };
    let h2 = parts.method == http::Method::CONNECT;
    if !h2 && parts.method != http::Method::GET {
        return Err(bad("the upgrade request must use GET", false));
    }
    match parts.headers.get(header::SEC_WEBSOCKET_VERSION) {
        None => return Err(bad("missing Sec-WebSocket-Version header", true)),
        Some(v) if v.as_bytes().trim_ascii() != b"13" => {
            return Err(bad("Sec-WebSocket-Version must be 13", true));
        }
        Some(_) => {}
    }
    if !h2 {
        use base64::Engine as _;
        let key = parts.headers.get(header::SEC_WEBSOCKET_KEY);
        let Some(key) = key else {
            return Err(bad("missing Sec-WebSocket-Key header", false));
        };
        let decoded = base64::engine::general_purpose::STANDARD.decode(key.as_bytes().trim_ascii());
        if decoded.map_or(true, |k| k.len() != 16) {
            return Err(bad("Sec-WebSocket-Key must be 16 bytes in base64", false));
        }
    }
    Ok(())
}

/// Applies the origin policy; requests without `Origin` pass.
pub(crate) fn check_origin(
    policy: &OriginPolicy,
    headers: &http::HeaderMap,
) -> Result<(), GatewayError> {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin.to_str().unwrap_or("");
    let refused = || GatewayError::OriginNotAllowed {
        origin: origin.to_string(),
    };
    let same_origin = || {
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
        let origin_host = origin
            .split_once("://")
            .map(|(_, rest)| rest.trim_end_matches('/'));
        matches!((host, origin_host), (Some(h), Some(o)) if h.eq_ignore_ascii_case(o))
    };
    let allowed = match policy {
        OriginPolicy::Any => true,
        OriginPolicy::SameOrigin => same_origin(),
        OriginPolicy::Allow(list) => {
            same_origin() || list.iter().any(|o| o.eq_ignore_ascii_case(origin))
        }
        OriginPolicy::Custom(f) => f(origin, headers),
    };
    if allowed { Ok(()) } else { Err(refused()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> http::HeaderMap {
        let mut h = http::HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    #[test]
    fn upgrade_detection() {
        assert!(is_websocket_upgrade(&headers(&[
            ("connection", "Upgrade"),
            ("upgrade", "websocket")
        ])));
        assert!(is_websocket_upgrade(&headers(&[
            ("connection", "keep-alive, Upgrade"),
            ("upgrade", "WebSocket")
        ])));
        assert!(is_websocket_upgrade(&headers(&[
            ("connection", "keep-alive"),
            ("connection", "UPGRADE"),
            ("upgrade", "websocket")
        ])));
        assert!(!is_websocket_upgrade(&headers(&[
            ("connection", "keep-alive"),
            ("upgrade", "websocket")
        ])));
        assert!(!is_websocket_upgrade(&headers(&[(
            "connection",
            "upgrade"
        )])));
        assert!(!is_websocket_upgrade(&headers(&[
            ("connection", "upgrades"),
            ("upgrade", "websocket")
        ])));
    }

    #[test]
    fn http2_websocket_detection() {
        let parts = |method: http::Method, protocol: Option<&'static str>| {
            let mut builder = http::Request::builder().method(method).uri("/x");
            if let Some(p) = protocol {
                builder = builder.extension(hyper::ext::Protocol::from_static(p));
            }
            builder.body(()).unwrap().into_parts().0
        };
        assert!(is_websocket_request(&parts(
            http::Method::CONNECT,
            Some("websocket")
        )));
        assert!(!is_websocket_request(&parts(http::Method::CONNECT, None)));
        assert!(!is_websocket_request(&parts(
            http::Method::CONNECT,
            Some("webtransport")
        )));
        // The protocol pseudo-header means nothing on other methods.
        assert!(!is_websocket_request(&parts(
            http::Method::GET,
            Some("websocket")
        )));
    }

    #[test]
    fn event_stream_detection() {
        assert!(accepts_event_stream(&headers(&[(
            "accept",
            "text/event-stream"
        )])));
        assert!(accepts_event_stream(&headers(&[(
            "accept",
            "application/json, TEXT/Event-Stream;charset=utf-8"
        )])));
        assert!(accepts_event_stream(&headers(&[
            ("accept", "text/html"),
            ("accept", "text/event-stream")
        ])));
        assert!(!accepts_event_stream(&headers(&[(
            "accept",
            "text/event-stream;q=0"
        )])));
        assert!(!accepts_event_stream(&headers(&[("accept", "*/*")])));
        // The quick test before the parse looks at the subtype only.
        assert!(!accepts_event_stream(&headers(&[(
            "accept",
            "text/event-streams, text/event"
        )])));
        assert!(!accepts_event_stream(&headers(&[(
            "accept",
            "application/event-stream-x"
        )])));
        assert!(accepts_event_stream(&headers(&[
            ("accept", "application/json"),
            ("accept", "text/Event-Stream;q=0.5")
        ])));
        assert!(!names_event_stream(b"text/event-strea"));
        assert!(names_event_stream(b"a/b, text/EVENT-stream"));
        assert!(!accepts_event_stream(&headers(&[])));
    }

    #[test]
    fn origins() {
        let same = headers(&[
            ("host", "api.example.com:8080"),
            ("origin", "https://api.example.com:8080"),
        ]);
        let cross = headers(&[
            ("host", "api.example.com"),
            ("origin", "https://evil.example"),
        ]);
        let none = headers(&[("host", "api.example.com")]);
        assert!(check_origin(&OriginPolicy::SameOrigin, &same).is_ok());
        assert!(check_origin(&OriginPolicy::SameOrigin, &none).is_ok());
        assert!(check_origin(&OriginPolicy::SameOrigin, &cross).is_err());
        assert!(
            check_origin(
                &OriginPolicy::Allow(vec!["https://evil.example".into()]),
                &cross
            )
            .is_ok()
        );
        assert!(check_origin(&OriginPolicy::Any, &cross).is_ok());
        let null = headers(&[("host", "a"), ("origin", "null")]);
        assert!(check_origin(&OriginPolicy::SameOrigin, &null).is_err());
    }
}
