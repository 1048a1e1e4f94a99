//! Typed gateway errors and the JSON error body.
//!
//! Every error becomes an HTTP response with the status of [`http_status_for`] and the body
//! of grpc-gateway, the JSON form of `google.rpc.Status`:
//! `{"code":5,"message":"Not Found","details":[]}` (always these three keys, in this order,
//! whatever [`JsonOptions`] say, so clients can rely on the shape).

use std::fmt;

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::StatusCode;
use http::header::{CONTENT_TYPE, HeaderValue, WWW_AUTHENTICATE};
use prost::Message as _;
use tonic::Code;

use crate::json::{JsonError, JsonOptions, JsonWriter};
use crate::metadata::{HeaderRules, outgoing_headers};

/// The protobuf message `google.rpc.Status`, as carried (encoded) in the
/// `grpc-status-details-bin` trailer and exposed by [`tonic::Status::details`].
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpcStatus {
    /// The gRPC status code.
    #[prost(int32, tag = "1")]
    pub code: i32,
    /// The developer-facing error message.
    #[prost(string, tag = "2")]
    pub message: String,
    /// Messages with error details (e.g. `google.rpc.BadRequest`).
    #[prost(message, repeated, tag = "3")]
    pub details: Vec<prost_types::Any>,
}

/// Builds a [`tonic::Status`] whose details bytes are the encoded `google.rpc.Status`
/// with `code`, `message` and `details` (what servers using rich errors send).
pub fn status_with_details(
    code: Code,
    message: impl Into<String>,
    details: Vec<prost_types::Any>,
) -> tonic::Status {
    let message = message.into();
    let encoded = RpcStatus {
        code: i32::from(code),
        message: message.clone(),
        details,
    }
    .encode_to_vec();
    tonic::Status::with_details(code, message, Bytes::from(encoded))
}

/// An error of a gateway handler.
#[derive(Debug)]
#[non_exhaustive]
pub enum GatewayError {
    /// No route matches the path (404, `NOT_FOUND`).
    NotFound,
    /// The path matches but not the method (405, `UNIMPLEMENTED`).
    MethodNotAllowed,
    /// A path variable cannot be converted to its field (400, `INVALID_ARGUMENT`).
    InvalidPathParameter {
        /// The parameter (field path).
        name: String,
        /// What is wrong.
        message: String,
    },
    /// A query parameter cannot be converted to its field (400, `INVALID_ARGUMENT`).
    InvalidQueryParameter {
        /// The parameter name as sent.
        name: String,
        /// What is wrong.
        message: String,
    },
    /// The request body is not valid JSON for the request message (400, `INVALID_ARGUMENT`).
    InvalidBody(JsonError),
    /// The request body exceeds the configured limit (413, `RESOURCE_EXHAUSTED`).
    BodyTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The request body could not be read (400, `INVALID_ARGUMENT`).
    BodyRead(String),
    /// The request body sent nothing for this long while it was read (408,
    /// `DEADLINE_EXCEEDED`); see [`crate::serve::ServeConfig::body_timeout`].
    BodyStalled {
        /// How long it sent nothing.
        after: std::time::Duration,
    },
    /// The client accepted no data of a streaming response for this long (the stream
    /// ends, `RESOURCE_EXHAUSTED`); see [`crate::streaming::StreamingConfig::stall_timeout`].
    SlowConsumer {
        /// How long it accepted nothing.
        after: std::time::Duration,
    },
    /// The client asked for a streaming mode the endpoint does not offer (501,
    /// `UNIMPLEMENTED`).
    StreamingModeUnavailable {
        /// `"SSE"`, `"WebSocket"` or `"chunked transfer"`.
        mode: &'static str,
        /// Why, e.g. `"disabled in the gateway configuration"`.
        reason: String,
    },
    /// A request header has a value the gateway cannot use, e.g. a malformed `Grpc-Timeout`
    /// (400, `INVALID_ARGUMENT`).
    InvalidHeader {
        /// The header name.
        name: String,
        /// What is wrong.
        message: String,
    },
    /// A WebSocket handshake that cannot be accepted: a missing or malformed
    /// `Sec-WebSocket-Key`, a method other than GET, an extended CONNECT whose `:protocol`
    /// is not `websocket` (400, `INVALID_ARGUMENT`); a `Sec-WebSocket-Version` other than 13
    /// (426 with `Sec-WebSocket-Version: 13`, RFC 6455 §4.4).
    InvalidWebSocketHandshake {
        /// What is wrong.
        reason: String,
        /// Whether the version was wrong (426 rather than 400).
        unsupported_version: bool,
    },
    /// A WebSocket handshake from an origin that is not allowed (403, `PERMISSION_DENIED`).
    OriginNotAllowed {
        /// The `Origin` header sent.
        origin: String,
    },
    /// The upstream gRPC call failed: HTTP status from [`http_status_for`], message and
    /// details from the status.
    Upstream(tonic::Status),
    /// A bug or an unexpected condition in the gateway (500, `INTERNAL`).
    Internal(String),
    /// The gateway is draining for shutdown and takes no new stream (503,
    /// `UNAVAILABLE`); see [`crate::Drain`].
    ShuttingDown,
}

impl GatewayError {
    /// The gRPC code of the error.
    pub fn code(&self) -> Code {
        match self {
            GatewayError::NotFound => Code::NotFound,
            GatewayError::MethodNotAllowed => Code::Unimplemented,
            GatewayError::InvalidPathParameter { .. }
            | GatewayError::InvalidQueryParameter { .. }
            | GatewayError::InvalidBody(_)
            | GatewayError::BodyRead(_)
            | GatewayError::InvalidHeader { .. }
            | GatewayError::InvalidWebSocketHandshake { .. } => Code::InvalidArgument,
            GatewayError::BodyTooLarge { .. } | GatewayError::SlowConsumer { .. } => {
                Code::ResourceExhausted
            }
            GatewayError::BodyStalled { .. } => Code::DeadlineExceeded,
            GatewayError::StreamingModeUnavailable { .. } => Code::Unimplemented,
            GatewayError::OriginNotAllowed { .. } => Code::PermissionDenied,
            GatewayError::Upstream(status) => status.code(),
            GatewayError::Internal(_) => Code::Internal,
            GatewayError::ShuttingDown => Code::Unavailable,
        }
    }

    /// The HTTP status of the response. Mostly [`http_status_for`] of [`code`](Self::code),
    /// except where HTTP has a more precise status than the gRPC code (404 vs 501 for routing,
    /// 405, 413).
    pub fn http_status(&self) -> StatusCode {
        match self {
            GatewayError::NotFound => StatusCode::NOT_FOUND,
            GatewayError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            GatewayError::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            GatewayError::BodyStalled { .. } => StatusCode::REQUEST_TIMEOUT,
            GatewayError::InvalidWebSocketHandshake {
                unsupported_version: true,
                ..
            } => StatusCode::UPGRADE_REQUIRED,
            other => http_status_for(other.code()),
        }
    }

    /// The message of the error body.
    pub fn message(&self) -> String {
        match self {
            GatewayError::NotFound => "Not Found".to_owned(),
            GatewayError::MethodNotAllowed => "Method Not Allowed".to_owned(),
            GatewayError::InvalidPathParameter { name, message } => {
                format!("invalid path parameter \"{name}\": {message}")
            }
            GatewayError::InvalidQueryParameter { name, message } => {
                format!("invalid query parameter \"{name}\": {message}")
            }
            GatewayError::InvalidBody(e) => format!("invalid request body: {e}"),
            GatewayError::BodyTooLarge { limit } => {
                format!("request body is larger than the limit of {limit} bytes")
            }
            GatewayError::BodyRead(e) => format!("cannot read request body: {e}"),
            GatewayError::BodyStalled { after } => {
                format!("the request body sent nothing for {after:?}")
            }
            GatewayError::SlowConsumer { after } => {
                format!("slow consumer: the client accepted no data for {after:?}")
            }
            GatewayError::StreamingModeUnavailable { mode, reason } => {
                format!("{mode} streaming is not available for this endpoint: {reason}")
            }
            GatewayError::InvalidHeader { name, message } => {
                format!("invalid header \"{name}\": {message}")
            }
            GatewayError::InvalidWebSocketHandshake { reason, .. } => {
                format!("invalid WebSocket handshake: {reason}")
            }
            GatewayError::OriginNotAllowed { origin } => {
                format!("WebSocket origin \"{origin}\" is not allowed")
            }
            GatewayError::Upstream(status) => status.message().to_owned(),
            GatewayError::Internal(message) => message.clone(),
            GatewayError::ShuttingDown => "the server is shutting down".to_owned(),
        }
    }

    /// The error as a gRPC status (for error frames of streams). An upstream status is
    /// returned whole (details and metadata included).
    pub fn to_status(&self) -> tonic::Status {
        match self {
            GatewayError::Upstream(status) => status.clone(),
            other => tonic::Status::new(other.code(), other.message()),
        }
    }

    /// The JSON error body: `{"code":N,"message":"…","details":[…]}` in this key order, no
    /// spaces. Details come from the upstream status's details bytes (an encoded
    /// `google.rpc.Status`), each `Any` written as proto3 JSON; details bytes that do
    /// not decode give `"details":[]` (the code and message are still worth sending).
    pub fn to_json(&self, opts: &JsonOptions) -> Vec<u8> {
        let mut w = JsonWriter::new(opts);
        w.begin_object();
        w.key("code", "code");
        w.i32(i32::from(self.code()));
        w.key("message", "message");
        w.string(&self.message());
        w.key("details", "details");
        w.begin_array();
        if let GatewayError::Upstream(status) = self
            && !status.details().is_empty()
            && let Ok(rpc) = RpcStatus::decode(status.details())
        {
            for any in &rpc.details {
                w.element();
                w.message(any);
            }
        }
        w.end_array();
        w.end_object();
        w.into_bytes()
    }

    /// A full response: status, `content-type: application/json`, the [`to_json`](Self::to_json)
    /// body; for `UNAUTHENTICATED` also `www-authenticate` with the message (skipped when the
    /// message is not a valid header value); for upstream errors also the status's metadata
    /// as headers through `rules` (`grpc-metadata-<key>` with the default rules).
    pub fn into_response_with(self, opts: &JsonOptions, rules: &HeaderRules) -> Response {
        let mut response = Response::new(Body::from(self.to_json(opts)));
        *response.status_mut() = self.http_status();
        let headers = response.headers_mut();
        // Metadata first, so that a custom matcher cannot replace the headers set below.
        if let GatewayError::Upstream(status) = &self {
            outgoing_headers(status.metadata(), rules, headers);
        }
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let GatewayError::InvalidWebSocketHandshake {
            unsupported_version: true,
            ..
        } = &self
        {
            headers.insert("sec-websocket-version", HeaderValue::from_static("13"));
        }
        if self.code() == Code::Unauthenticated {
            match HeaderValue::from_str(&self.message()) {
                Ok(v) => {
                    headers.insert(WWW_AUTHENTICATE, v);
                }
                Err(_) => {
                    headers.remove(WWW_AUTHENTICATE);
                }
            }
        }
        response
    }
}

/// The response with default [`JsonOptions`] and [`HeaderRules`].
impl IntoResponse for GatewayError {
    fn into_response(self) -> Response {
        self.into_response_with(&JsonOptions::default(), &HeaderRules::default())
    }
}

impl From<tonic::Status> for GatewayError {
    fn from(status: tonic::Status) -> Self {
        GatewayError::Upstream(status)
    }
}

impl From<JsonError> for GatewayError {
    fn from(e: JsonError) -> Self {
        GatewayError::InvalidBody(e)
    }
}

impl fmt::Display for GatewayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // The code matters when reading logs of upstream failures.
            GatewayError::Upstream(status) => {
                write!(
                    f,
                    "upstream error {:?}: {}",
                    status.code(),
                    status.message()
                )
            }
            other => f.write_str(&other.message()),
        }
    }
}

impl std::error::Error for GatewayError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            GatewayError::InvalidBody(e) => Some(e),
            GatewayError::Upstream(s) => Some(s),
            _ => None,
        }
    }
}

/// The gRPC → HTTP status table of grpc-gateway.
pub fn http_status_for(code: Code) -> StatusCode {
    match code {
        Code::Ok => StatusCode::OK,
        // 499 "Client Closed Request" (nginx) has no constant in `http`.
        Code::Cancelled => StatusCode::from_u16(499).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        Code::Unknown => StatusCode::INTERNAL_SERVER_ERROR,
        Code::InvalidArgument => StatusCode::BAD_REQUEST,
        Code::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
        Code::NotFound => StatusCode::NOT_FOUND,
        Code::AlreadyExists => StatusCode::CONFLICT,
        Code::PermissionDenied => StatusCode::FORBIDDEN,
        Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
        // FailedPrecondition is 400 rather than 412: 412 is about HTTP preconditions
        // (If-Match), which is not what the RPC meant.
        Code::FailedPrecondition => StatusCode::BAD_REQUEST,
        Code::Aborted => StatusCode::CONFLICT,
        Code::OutOfRange => StatusCode::BAD_REQUEST,
        Code::Unimplemented => StatusCode::NOT_IMPLEMENTED,
        Code::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        Code::DataLoss => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::{JsonMessage, JsonReader};
    use http_body_util::BodyExt as _;
    use tonic::metadata::MetadataMap;

    fn body(e: &GatewayError) -> String {
        String::from_utf8(e.to_json(&JsonOptions::default())).unwrap()
    }

    #[test]
    fn status_table() {
        let table = [
            (Code::Ok, 200),
            (Code::Cancelled, 499),
            (Code::Unknown, 500),
            (Code::InvalidArgument, 400),
            (Code::DeadlineExceeded, 504),
            (Code::NotFound, 404),
            (Code::AlreadyExists, 409),
            (Code::PermissionDenied, 403),
            (Code::Unauthenticated, 401),
            (Code::ResourceExhausted, 429),
            (Code::FailedPrecondition, 400),
            (Code::Aborted, 409),
            (Code::OutOfRange, 400),
            (Code::Unimplemented, 501),
            (Code::Internal, 500),
            (Code::Unavailable, 503),
            (Code::DataLoss, 500),
        ];
        for (code, want) in table {
            assert_eq!(http_status_for(code).as_u16(), want, "{code:?}");
            let e = GatewayError::from(tonic::Status::new(code, "m"));
            assert_eq!(e.http_status().as_u16(), want, "{code:?}");
            assert_eq!(e.code(), code);
        }
    }

    #[test]
    fn gateway_errors() {
        let json_err =
            crate::json::from_slice::<prost_types::Duration>(b"{", &JsonOptions::default())
                .unwrap_err();
        let json_msg = json_err.to_string();
        let table: Vec<(GatewayError, u16, Code, String)> = vec![
            (
                GatewayError::NotFound,
                404,
                Code::NotFound,
                "Not Found".into(),
            ),
            (
                GatewayError::MethodNotAllowed,
                405,
                Code::Unimplemented,
                "Method Not Allowed".into(),
            ),
            (
                GatewayError::InvalidPathParameter {
                    name: "shelf.id".into(),
                    message: "invalid integer".into(),
                },
                400,
                Code::InvalidArgument,
                "invalid path parameter \"shelf.id\": invalid integer".into(),
            ),
            (
                GatewayError::InvalidQueryParameter {
                    name: "limit".into(),
                    message: "out of range".into(),
                },
                400,
                Code::InvalidArgument,
                "invalid query parameter \"limit\": out of range".into(),
            ),
            (
                GatewayError::InvalidBody(json_err),
                400,
                Code::InvalidArgument,
                format!("invalid request body: {json_msg}"),
            ),
            (
                GatewayError::BodyTooLarge { limit: 1024 },
                413,
                Code::ResourceExhausted,
                "request body is larger than the limit of 1024 bytes".into(),
            ),
            (
                GatewayError::BodyRead("reset".into()),
                400,
                Code::InvalidArgument,
                "cannot read request body: reset".into(),
            ),
            (
                GatewayError::StreamingModeUnavailable {
                    mode: "SSE",
                    reason: "disabled".into(),
                },
                501,
                Code::Unimplemented,
                "SSE streaming is not available for this endpoint: disabled".into(),
            ),
            (
                GatewayError::OriginNotAllowed {
                    origin: "https://evil.example".into(),
                },
                403,
                Code::PermissionDenied,
                "WebSocket origin \"https://evil.example\" is not allowed".into(),
            ),
            (
                GatewayError::Internal("boom".into()),
                500,
                Code::Internal,
                "boom".into(),
            ),
        ];
        for (e, status, code, message) in table {
            assert_eq!(e.http_status().as_u16(), status, "{e:?}");
            assert_eq!(e.code(), code, "{e:?}");
            assert_eq!(e.message(), message);
            assert_eq!(e.to_string(), message);
            let s = e.to_status();
            assert_eq!(s.code(), code);
            assert_eq!(s.message(), message);
        }
    }

    #[test]
    fn byte_exact_bodies() {
        assert_eq!(
            body(&GatewayError::NotFound),
            r#"{"code":5,"message":"Not Found","details":[]}"#
        );
        assert_eq!(
            body(&GatewayError::MethodNotAllowed),
            r#"{"code":12,"message":"Method Not Allowed","details":[]}"#
        );
        assert_eq!(
            body(&GatewayError::BodyTooLarge { limit: 10 }),
            r#"{"code":8,"message":"request body is larger than the limit of 10 bytes","details":[]}"#
        );
        // The shape does not depend on the options.
        let sparse = JsonOptions {
            emit_defaults: false,
            use_proto_names: true,
            ignore_unknown_fields: false,
        };
        let ok = GatewayError::from(tonic::Status::new(Code::Ok, ""));
        assert_eq!(
            String::from_utf8(ok.to_json(&sparse)).unwrap(),
            r#"{"code":0,"message":"","details":[]}"#
        );
    }

    #[test]
    fn message_escaping() {
        let e = GatewayError::Internal("say \"hi\"\nback\\slash\ttab\u{1}é€".into());
        assert_eq!(
            body(&e),
            r#"{"code":13,"message":"say \"hi\"\nback\\slash\ttab\u0001é€","details":[]}"#
        );
        let e = GatewayError::InvalidPathParameter {
            name: "a\"b".into(),
            message: "x".into(),
        };
        assert_eq!(
            body(&e),
            r#"{"code":3,"message":"invalid path parameter \"a\"b\": x","details":[]}"#
        );
    }

    /// A stand-in for `google.rpc.ErrorInfo`.
    #[derive(Clone, PartialEq, prost::Message)]
    struct ErrorInfo {
        #[prost(string, tag = "1")]
        reason: String,
        #[prost(string, tag = "2")]
        domain: String,
    }

    impl JsonMessage for ErrorInfo {
        const FULL_NAME: &'static str = "gateway.test.ErrorInfo";

        fn write_json(&self, w: &mut JsonWriter) {
            w.begin_object();
            if w.emit_defaults() || !self.reason.is_empty() {
                w.key("reason", "reason");
                w.string(&self.reason);
            }
            if w.emit_defaults() || !self.domain.is_empty() {
                w.key("domain", "domain");
                w.string(&self.domain);
            }
            w.end_object();
        }

        fn merge_json(&mut self, r: &mut JsonReader<'_>) -> Result<(), JsonError> {
            r.object(|r, key| {
                match key {
                    "reason" => self.reason = r.read_string()?,
                    "domain" => self.domain = r.read_string()?,
                    _ => return Ok(false),
                }
                Ok(true)
            })
        }
    }

    #[test]
    fn upstream_details() {
        crate::json::any::register::<ErrorInfo>();
        let info = crate::json::any::pack(&ErrorInfo {
            reason: "QUOTA".into(),
            domain: "example.com".into(),
        });
        let duration = crate::json::any::pack(&prost_types::Duration {
            seconds: 1,
            nanos: 500_000_000,
        });
        let unknown = prost_types::Any {
            type_url: "type.googleapis.com/unknown.Thing".into(),
            value: vec![1, 2, 3],
        };
        let status = status_with_details(
            Code::ResourceExhausted,
            "quota \"x\" exceeded",
            vec![info, duration, unknown],
        );
        let e = GatewayError::from(status);
        assert_eq!(e.http_status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(
            body(&e),
            concat!(
                r#"{"code":8,"message":"quota \"x\" exceeded","details":["#,
                r#"{"@type":"type.googleapis.com/gateway.test.ErrorInfo","reason":"QUOTA","domain":"example.com"},"#,
                r#"{"@type":"type.googleapis.com/google.protobuf.Duration","value":"1.500s"},"#,
                r#"{"@type":"type.googleapis.com/unknown.Thing","value":"AQID"}"#,
                "]}"
            )
        );
        // to_status keeps the details bytes.
        let again = GatewayError::from(e.to_status());
        assert_eq!(body(&again), body(&e));
    }

    #[test]
    fn undecodable_details() {
        let status = tonic::Status::with_details(
            Code::Internal,
            "bad",
            Bytes::from_static(&[0xff, 0xff, 0xff]),
        );
        assert_eq!(
            body(&GatewayError::from(status)),
            r#"{"code":13,"message":"bad","details":[]}"#
        );
        // Valid bytes without details.
        let status = status_with_details(Code::NotFound, "gone", vec![]);
        assert_eq!(
            body(&GatewayError::from(status)),
            r#"{"code":5,"message":"gone","details":[]}"#
        );
    }

    async fn collect(r: Response) -> (http::response::Parts, String) {
        let (parts, b) = r.into_parts();
        let bytes = b.collect().await.unwrap().to_bytes();
        (parts, String::from_utf8(bytes.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn responses() {
        let (parts, text) = collect(GatewayError::NotFound.into_response()).await;
        assert_eq!(parts.status, StatusCode::NOT_FOUND);
        assert_eq!(parts.headers[CONTENT_TYPE], "application/json");
        assert!(parts.headers.get(WWW_AUTHENTICATE).is_none());
        assert_eq!(text, r#"{"code":5,"message":"Not Found","details":[]}"#);

        let mut md = MetadataMap::new();
        md.insert("x-request-id", "r1".parse().unwrap());
        md.insert("content-type", "application/grpc".parse().unwrap());
        let status =
            tonic::Status::with_metadata(Code::Unauthenticated, "Bearer realm=\"api\"", md);
        let (parts, text) = collect(GatewayError::from(status).into_response()).await;
        assert_eq!(parts.status, StatusCode::UNAUTHORIZED);
        assert_eq!(parts.headers[CONTENT_TYPE], "application/json");
        assert_eq!(parts.headers[WWW_AUTHENTICATE], "Bearer realm=\"api\"");
        assert_eq!(parts.headers["grpc-metadata-x-request-id"], "r1");
        assert_eq!(
            text,
            r#"{"code":16,"message":"Bearer realm=\"api\"","details":[]}"#
        );

        // A message that cannot be a header value: no www-authenticate, no panic.
        let status = tonic::Status::unauthenticated("line\nbreak");
        let (parts, _) = collect(GatewayError::from(status).into_response()).await;
        assert_eq!(parts.status, StatusCode::UNAUTHORIZED);
        assert!(parts.headers.get(WWW_AUTHENTICATE).is_none());

        // A custom matcher mapping onto content-type cannot override it.
        let mut md = MetadataMap::new();
        md.insert("x", "text/html".parse().unwrap());
        let rules = HeaderRules {
            outgoing_header: std::sync::Arc::new(|_: &str| Some("content-type".to_owned())),
            ..HeaderRules::default()
        };
        let e = GatewayError::from(tonic::Status::with_metadata(Code::Internal, "m", md));
        let (parts, _) = collect(e.into_response_with(&JsonOptions::default(), &rules)).await;
        assert_eq!(
            parts
                .headers
                .get_all(CONTENT_TYPE)
                .iter()
                .collect::<Vec<_>>(),
            ["application/json"]
        );
    }

    #[test]
    fn display_and_source() {
        use std::error::Error as _;
        let e = GatewayError::from(tonic::Status::not_found("no shelf"));
        assert_eq!(e.to_string(), "upstream error NotFound: no shelf");
        assert!(e.source().is_some());
        assert!(GatewayError::NotFound.source().is_none());
        let e: GatewayError = crate::json::JsonError::custom("x").into();
        assert!(matches!(e, GatewayError::InvalidBody(_)));
        assert!(e.source().is_some());
    }
}
