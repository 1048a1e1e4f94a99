//! HTTP headers ↔ gRPC metadata, with the rules of grpc-gateway.
//!
//! # Incoming (HTTP request → gRPC request metadata)
//!
//! [`default_incoming_header_matcher`] maps `Grpc-Metadata-X` to the key `x`, the
//! "permanent" HTTP request headers (`Authorization`, `User-Agent`, …) to
//! `grpcgateway-<name>`, and the W3C trace context headers (`traceparent`, `tracestate`)
//! to themselves, so that a trace goes on through the gRPC service; everything else is
//! dropped. The gateway then also:
//!
//! * forwards `Authorization` as plain `authorization` too;
//! * sets `x-forwarded-host` to the client's `X-Forwarded-Host`, else the `Host` header,
//!   else the URI authority;
//! * sets `x-forwarded-for` to the client's value with `, <remote ip>` appended, or to the
//!   remote ip alone; without a remote address the client's value is forwarded unchanged;
//! * decodes values of `-bin` keys from base64 (standard or URL-safe, padded or not) into
//!   binary metadata, skipping values that are not base64;
//! * skips keys that are not valid gRPC keys (`[0-9a-z_.-]`), values that are not printable
//!   ASCII, and keys that belong to the connection or to the gRPC protocol itself
//!   (`connection`, `te`, `content-type`, `grpc-timeout`, …): forwarding those would corrupt
//!   the upstream HTTP/2 request or be overwritten by tonic anyway. `Grpc-Timeout` becomes
//!   the call's deadline instead.
//!
//! # Outgoing (gRPC response metadata → HTTP response headers)
//!
//! Header metadata `k` becomes `grpc-metadata-k`, trailer metadata `grpc-trailer-k`
//! ([`default_outgoing_header_matcher`], [`default_outgoing_trailer_matcher`]). Keys of the
//! gRPC protocol and hop-by-hop headers are never copied; binary values are written in
//! standard padded base64.

mod incoming;
mod outgoing;
#[cfg(test)]
mod tests;
mod timeout;

use std::fmt;
use std::sync::Arc;

#[cfg(test)]
pub(crate) use incoming::incoming_metadata;
pub(crate) use incoming::{TONIC_ADDS, incoming_metadata_with_room};
pub(crate) use outgoing::{outgoing_headers, outgoing_trailers, wants_trailers};
pub(crate) use timeout::{GRPC_TIMEOUT, parse_grpc_timeout, request_timeout};

/// Maps a lowercase HTTP header name to a metadata key; `None` drops the header.
pub type IncomingHeaderMatcher = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Maps a metadata key to a response header name; `None` drops the entry.
pub type OutgoingMatcher = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// The header mapping rules of a gateway.
#[derive(Clone)]
pub struct HeaderRules {
    /// HTTP request header → gRPC request metadata.
    pub incoming: IncomingHeaderMatcher,
    /// gRPC response header metadata → HTTP response header.
    pub outgoing_header: OutgoingMatcher,
    /// gRPC response trailer metadata → HTTP trailer.
    pub outgoing_trailer: OutgoingMatcher,
}

impl Default for HeaderRules {
    fn default() -> Self {
        HeaderRules {
            incoming: default_incoming().clone(),
            outgoing_header: Arc::new(default_outgoing_header_matcher),
            outgoing_trailer: Arc::new(default_outgoing_trailer_matcher),
        }
    }
}

/// The one `Arc` of the default incoming matcher: a gateway that keeps it
/// takes the allocation-free path of [`incoming_metadata`].
pub(super) fn default_incoming() -> &'static IncomingHeaderMatcher {
    static DEFAULT: std::sync::OnceLock<IncomingHeaderMatcher> = std::sync::OnceLock::new();
    DEFAULT.get_or_init(|| Arc::new(default_incoming_header_matcher))
}

impl fmt::Debug for HeaderRules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HeaderRules").finish_non_exhaustive()
    }
}

/// Prefix of HTTP headers carrying request metadata, and of response headers carrying
/// response header metadata.
pub(super) const METADATA_PREFIX: &str = "grpc-metadata-";
/// Prefix of response trailers carrying trailer metadata.
pub(super) const TRAILER_PREFIX: &str = "grpc-trailer-";
/// Prefix of the "permanent" HTTP headers forwarded as metadata.
#[cfg(test)]
pub(super) const GATEWAY_PREFIX: &str = "grpcgateway-";

/// The HTTP request headers grpc-gateway forwards as `grpcgateway-<name>`
/// (sorted, lowercase): the list `permanent_index` and `PERMANENT_KEYS` are
/// checked against.
#[cfg(test)]
pub(super) const PERMANENT_HEADERS: &[&str] = &[
    "accept",
    "accept-charset",
    "accept-language",
    "accept-ranges",
    "authorization",
    "cache-control",
    "content-type",
    "cookie",
    "date",
    "expect",
    "from",
    "host",
    "if-match",
    "if-modified-since",
    "if-none-match",
    "if-schedule-tag-match",
    "if-unmodified-since",
    "max-forwards",
    "origin",
    "pragma",
    "referer",
    "user-agent",
    "via",
    "warning",
];

/// `grpcgateway-<name>` for each of `PERMANENT_HEADERS`, same order, made
/// at compile time: the default rules neither allocate nor parse these names.
pub(super) static PERMANENT_KEYS: [http::HeaderName; 24] = [
    http::HeaderName::from_static("grpcgateway-accept"),
    http::HeaderName::from_static("grpcgateway-accept-charset"),
    http::HeaderName::from_static("grpcgateway-accept-language"),
    http::HeaderName::from_static("grpcgateway-accept-ranges"),
    http::HeaderName::from_static("grpcgateway-authorization"),
    http::HeaderName::from_static("grpcgateway-cache-control"),
    http::HeaderName::from_static("grpcgateway-content-type"),
    http::HeaderName::from_static("grpcgateway-cookie"),
    http::HeaderName::from_static("grpcgateway-date"),
    http::HeaderName::from_static("grpcgateway-expect"),
    http::HeaderName::from_static("grpcgateway-from"),
    http::HeaderName::from_static("grpcgateway-host"),
    http::HeaderName::from_static("grpcgateway-if-match"),
    http::HeaderName::from_static("grpcgateway-if-modified-since"),
    http::HeaderName::from_static("grpcgateway-if-none-match"),
    http::HeaderName::from_static("grpcgateway-if-schedule-tag-match"),
    http::HeaderName::from_static("grpcgateway-if-unmodified-since"),
    http::HeaderName::from_static("grpcgateway-max-forwards"),
    http::HeaderName::from_static("grpcgateway-origin"),
    http::HeaderName::from_static("grpcgateway-pragma"),
    http::HeaderName::from_static("grpcgateway-referer"),
    http::HeaderName::from_static("grpcgateway-user-agent"),
    http::HeaderName::from_static("grpcgateway-via"),
    http::HeaderName::from_static("grpcgateway-warning"),
];

/// The index in `PERMANENT_HEADERS` of a lowercase header name: a match
/// on the name (its length first), not a binary search of string compares.
pub(super) fn permanent_index(name: &str) -> Option<usize> {
    Some(match name {
        "accept" => 0,
        "accept-charset" => 1,
        "accept-language" => 2,
        "accept-ranges" => 3,
        "authorization" => 4,
        "cache-control" => 5,
        "content-type" => 6,
        "cookie" => 7,
        "date" => 8,
        "expect" => 9,
        "from" => 10,
        "host" => 11,
        "if-match" => 12,
        "if-modified-since" => 13,
        "if-none-match" => 14,
        "if-schedule-tag-match" => 15,
        "if-unmodified-since" => 16,
        "max-forwards" => 17,
        "origin" => 18,
        "pragma" => 19,
        "referer" => 20,
        "user-agent" => 21,
        "via" => 22,
        "warning" => 23,
        _ => return None,
    })
}

/// Keys never sent as request metadata: connection-level headers, and headers owned by the
/// gRPC protocol that tonic sets itself.
pub(super) fn reserved_incoming(key: &str) -> bool {
    // A match (on the length first), not a scan of string compares.
    matches!(
        key,
        "connection"
            | "content-length"
            | "content-type"
            | "grpc-accept-encoding"
            | "grpc-encoding"
            | "grpc-message"
            | "grpc-message-type"
            | "grpc-status"
            | "grpc-status-details-bin"
            | "grpc-timeout"
            | "host"
            | "keep-alive"
            | "proxy-connection"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
    )
}

/// Metadata keys never copied into HTTP responses.
pub(super) fn reserved_outgoing(key: &str) -> bool {
    // A match (on the length first), not a scan of string compares.
    matches!(
        key,
        "connection"
            | "content-type"
            | "date"
            | "grpc-accept-encoding"
            | "grpc-encoding"
            | "grpc-message"
            | "grpc-status"
            | "grpc-status-details-bin"
            | "grpc-timeout"
            | "te"
            | "trailer"
            | "transfer-encoding"
    )
}

/// W3C trace context headers, forwarded under their own names.
pub(super) const TRACE_CONTEXT: &[&str] = &["traceparent", "tracestate"];

/// The default incoming rule: `grpc-metadata-x` → `x`; permanent HTTP headers →
/// `grpcgateway-<name>`; `traceparent` and `tracestate` as they are; anything else
/// dropped. Case-insensitive.
pub fn default_incoming_header_matcher(name: &str) -> Option<String> {
    let lower = name.to_ascii_lowercase();
    if let Some(key) = lower.strip_prefix(METADATA_PREFIX) {
        return (!key.is_empty()).then(|| key.to_owned());
    }
    if TRACE_CONTEXT.contains(&lower.as_str()) {
        return Some(lower);
    }
    if let Some(i) = permanent_index(&lower) {
        return Some(PERMANENT_KEYS[i].as_str().to_owned());
    }
    None
}

/// The default outgoing header rule: `key` → `grpc-metadata-<key>`.
pub fn default_outgoing_header_matcher(key: &str) -> Option<String> {
    Some(format!("{METADATA_PREFIX}{key}"))
}

/// The default outgoing trailer rule: `key` → `grpc-trailer-<key>`.
pub fn default_outgoing_trailer_matcher(key: &str) -> Option<String> {
    Some(format!("{TRAILER_PREFIX}{key}"))
}
