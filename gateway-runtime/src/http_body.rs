//! `google.api.HttpBody`: a message that is an HTTP body of any content
//! type (HTML, CSV, a file), passed through without JSON.
//!
//! A method returning `HttpBody` answers with the message's `content_type`
//! and `data`; a server stream of `HttpBody` sends each message's `data` as
//! it arrives, with the first message's content type
//! ([`server_streaming_raw`](crate::streaming::server_streaming_raw)). A
//! request that is (or whose `body` field is) an `HttpBody` receives the raw
//! request body and its `Content-Type`
//! ([`BindContext::raw_body`](crate::bind::BindContext::raw_body)); a
//! client stream of `HttpBody` receives the body in bounded pieces
//! ([`client_streaming_raw`](crate::streaming::client_streaming_raw)).
//!
//! The prost type is the user's (generated for `google.api`), so the
//! generated code takes it apart and puts it together with closures.

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use http::{HeaderValue, StatusCode, header};

use crate::gateway::Gateway;
use crate::metadata;

/// The two parts of an `HttpBody` that make an HTTP body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawBody {
    /// The `Content-Type`; `application/octet-stream` when empty or not a
    /// valid header value.
    pub content_type: String,
    /// The bytes.
    pub data: Bytes,
}

/// The content type sent when a message names none.
const FALLBACK: &str = "application/octet-stream";

/// The `Content-Type` header value of a message's content type.
pub(crate) fn content_type_header(content_type: &str) -> HeaderValue {
    if content_type.is_empty() {
        return HeaderValue::from_static(FALLBACK);
    }
    HeaderValue::from_str(content_type).unwrap_or(HeaderValue::from_static(FALLBACK))
}

/// The request's `Content-Type`, empty when absent or not text.
pub(crate) fn request_content_type(headers: &http::HeaderMap) -> &str {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// A 200 response carrying a raw body and the response metadata as headers.
pub(crate) fn raw_response(
    body: RawBody,
    metadata: &tonic::metadata::MetadataMap,
    gateway: &Gateway,
) -> Response {
    let mut response = Response::new(Body::from(body.data));
    *response.status_mut() = StatusCode::OK;
    metadata::outgoing_headers(metadata, gateway.header_rules(), response.headers_mut());
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        content_type_header(&body.content_type),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types() {
        assert_eq!(content_type_header("text/csv"), "text/csv");
        assert_eq!(content_type_header(""), FALLBACK);
        assert_eq!(content_type_header("bad\nvalue"), FALLBACK);
    }
}
