//! HTTP headers ↔ gRPC metadata, with the rules of grpc-gateway.
//!
//! # Incoming (HTTP request → gRPC request metadata)
//!
//! [`default_incoming_header_matcher`] maps `Grpc-Metadata-X` to the key `x`, the
//! "permanent" HTTP request headers (`Authorization`, `User-Agent`, …) to
//! `grpcgateway-<name>`, and the W3C trace context headers (`traceparent`, `tracestate`)
//! to themselves, so that a trace goes on through the gRPC service; everything else is
//! dropped. [`incoming_metadata`] then also:
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
//!   the upstream HTTP/2 request or be overwritten by tonic anyway. The deadline travels via
//!   [`request_timeout`] instead.
//!
//! # Outgoing (gRPC response metadata → HTTP response headers)
//!
//! Header metadata `k` becomes `grpc-metadata-k`, trailer metadata `grpc-trailer-k`
//! ([`default_outgoing_header_matcher`], [`default_outgoing_trailer_matcher`]). Keys of the
//! gRPC protocol and hop-by-hop headers are never copied; binary values are written in
//! standard padded base64.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use http::header::{AUTHORIZATION, HOST, HeaderName, HeaderValue, TE};
use tonic::metadata::{
    AsciiMetadataKey, AsciiMetadataValue, BinaryMetadataKey, BinaryMetadataValue, KeyAndValueRef,
    MetadataMap,
};

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
fn default_incoming() -> &'static IncomingHeaderMatcher {
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
const METADATA_PREFIX: &str = "grpc-metadata-";
/// Prefix of response trailers carrying trailer metadata.
const TRAILER_PREFIX: &str = "grpc-trailer-";
/// Prefix of the "permanent" HTTP headers forwarded as metadata.
const GATEWAY_PREFIX: &str = "grpcgateway-";

/// The HTTP request headers grpc-gateway forwards as `grpcgateway-<name>` (sorted, lowercase).
const PERMANENT_HEADERS: &[&str] = &[
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

/// `grpcgateway-<name>` for each of [`PERMANENT_HEADERS`], same order, so
/// the default rules build metadata names without allocating.
const PERMANENT_KEYS: &[&str] = &[
    "grpcgateway-accept",
    "grpcgateway-accept-charset",
    "grpcgateway-accept-language",
    "grpcgateway-accept-ranges",
    "grpcgateway-authorization",
    "grpcgateway-cache-control",
    "grpcgateway-content-type",
    "grpcgateway-cookie",
    "grpcgateway-date",
    "grpcgateway-expect",
    "grpcgateway-from",
    "grpcgateway-host",
    "grpcgateway-if-match",
    "grpcgateway-if-modified-since",
    "grpcgateway-if-none-match",
    "grpcgateway-if-schedule-tag-match",
    "grpcgateway-if-unmodified-since",
    "grpcgateway-max-forwards",
    "grpcgateway-origin",
    "grpcgateway-pragma",
    "grpcgateway-referer",
    "grpcgateway-user-agent",
    "grpcgateway-via",
    "grpcgateway-warning",
];

/// Keys never sent as request metadata: connection-level headers, and headers owned by the
/// gRPC protocol that tonic sets itself.
const RESERVED_INCOMING: &[&str] = &[
    "connection",
    "content-length",
    "content-type",
    "grpc-accept-encoding",
    "grpc-encoding",
    "grpc-message",
    "grpc-message-type",
    "grpc-status",
    "grpc-status-details-bin",
    "grpc-timeout",
    "host",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Metadata keys never copied into HTTP responses.
const RESERVED_OUTGOING: &[&str] = &[
    "connection",
    "content-type",
    "date",
    "grpc-accept-encoding",
    "grpc-encoding",
    "grpc-message",
    "grpc-status",
    "grpc-status-details-bin",
    "grpc-timeout",
    "te",
    "trailer",
    "transfer-encoding",
];

/// W3C trace context headers, forwarded under their own names.
const TRACE_CONTEXT: &[&str] = &["traceparent", "tracestate"];

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
    if PERMANENT_HEADERS.binary_search(&lower.as_str()).is_ok() {
        return Some(format!("{GATEWAY_PREFIX}{lower}"));
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

/// Whether `key` is a valid gRPC metadata key (`[0-9a-z_.-]+`).
fn is_valid_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'z' | b'_' | b'.' | b'-'))
}

/// Whether `value` is a valid ASCII metadata value (printable ASCII and space).
fn is_valid_ascii_value(value: &[u8]) -> bool {
    value.iter().all(|&b| (0x20..=0x7e).contains(&b))
}

/// A `-bin` header value as bytes: the value without surrounding white
/// space (HTTP's optional white space), decoded by the one base64 rule.
fn decode_base64(value: &[u8]) -> Option<Vec<u8>> {
    crate::base64_rule::decode(value.trim_ascii())
}

/// Appends one metadata entry, validating key and value; invalid entries are skipped.
fn append(md: &mut MetadataMap, key: &str, value: &[u8]) {
    if !is_valid_key(key) || RESERVED_INCOMING.contains(&key) {
        return;
    }
    if key.ends_with("-bin") {
        let (Some(bytes), Ok(k)) = (
            decode_base64(value),
            BinaryMetadataKey::from_bytes(key.as_bytes()),
        ) else {
            return;
        };
        md.append_bin(k, BinaryMetadataValue::from_bytes(&bytes));
    } else {
        if !is_valid_ascii_value(value) {
            return;
        }
        if let (Ok(k), Ok(v)) = (
            AsciiMetadataKey::from_bytes(key.as_bytes()),
            AsciiMetadataValue::try_from(value),
        ) {
            md.append(k, v);
        }
    }
}

/// Sets (replacing) an ASCII metadata entry; invalid values are skipped.
fn set(md: &mut MetadataMap, key: &'static str, value: &str) {
    if !is_valid_ascii_value(value.as_bytes()) {
        return;
    }
    if let Ok(v) = AsciiMetadataValue::try_from(value) {
        md.insert(key, v);
    }
}

/// Joins all values of a header with `, ` (how HTTP combines repeated headers);
/// `None` when absent or not UTF-8.
fn joined(headers: &http::HeaderMap, name: &str) -> Option<String> {
    let mut out: Option<String> = None;
    for v in headers.get_all(name) {
        let s = v.to_str().ok()?;
        match &mut out {
            Some(o) => {
                o.push_str(", ");
                o.push_str(s);
            }
            None => out = Some(s.to_owned()),
        }
    }
    out
}

/// Builds the outgoing gRPC request metadata from the HTTP request (see the module docs).
pub fn incoming_metadata(
    parts: &http::request::Parts,
    remote_addr: Option<SocketAddr>,
    rules: &HeaderRules,
) -> MetadataMap {
    if Arc::ptr_eq(&rules.incoming, default_incoming()) {
        return default_rules_metadata(parts, remote_addr);
    }
    let mut md = {
        let mut md = MetadataMap::with_capacity(parts.headers.keys_len() + 2);
        for (name, value) in &parts.headers {
            let name = name.as_str();
            if let Some(key) = (rules.incoming)(name) {
                append(&mut md, &key.to_ascii_lowercase(), value.as_bytes());
            }
            if name == AUTHORIZATION.as_str() {
                append(&mut md, "authorization", value.as_bytes());
            }
        }
        md
    };

    let forwarded_host = joined(&parts.headers, "x-forwarded-host")
        .or_else(|| {
            parts
                .headers
                .get(HOST)
                .and_then(|h| h.to_str().ok())
                .map(str::to_owned)
        })
        .or_else(|| parts.uri.authority().map(|a| a.as_str().to_owned()));
    if let Some(host) = forwarded_host {
        set(&mut md, "x-forwarded-host", &host);
    }

    let client_forwarded_for = joined(&parts.headers, "x-forwarded-for");
    let forwarded_for = match (client_forwarded_for, remote_addr) {
        (Some(fwd), Some(addr)) => Some(format!("{fwd}, {}", addr.ip())),
        (None, Some(addr)) => Some(addr.ip().to_string()),
        (fwd, None) => fwd,
    };
    if let Some(fwd) = forwarded_for {
        set(&mut md, "x-forwarded-for", &fwd);
    }
    md
}

/// The default rules on the hot path: header values are shared, not copied
/// (`HeaderValue` clones are reference counts), and the names of permanent
/// headers come from a static table. Same result as going through
/// [`default_incoming_header_matcher`] and [`append`].
fn default_rules_metadata(
    parts: &http::request::Parts,
    remote_addr: Option<SocketAddr>,
) -> MetadataMap {
    let headers = &parts.headers;
    let mut out = http::HeaderMap::with_capacity(headers.keys_len() + 2);
    for (name, value) in headers {
        let name = name.as_str();
        if let Some(key) = name.strip_prefix(METADATA_PREFIX) {
            if !is_valid_key(key) || RESERVED_INCOMING.contains(&key) {
                continue;
            }
            if key.ends_with("-bin") {
                // Metadata maps keep binary values base64-encoded: check the
                // client's encoding and store the standard, padded form.
                if let (Some(bytes), Ok(k)) = (
                    decode_base64(value.as_bytes()),
                    HeaderName::from_bytes(key.as_bytes()),
                ) && let Ok(v) = HeaderValue::from_str(&STANDARD.encode(bytes))
                {
                    out.append(k, v);
                }
                continue;
            }
            if is_valid_ascii_value(value.as_bytes())
                && let Ok(k) = HeaderName::from_bytes(key.as_bytes())
            {
                out.append(k, value.clone());
            }
            continue;
        }
        if TRACE_CONTEXT.contains(&name) {
            if is_valid_ascii_value(value.as_bytes()) {
                let key = if name == TRACE_CONTEXT[0] {
                    HeaderName::from_static("traceparent")
                } else {
                    HeaderName::from_static("tracestate")
                };
                out.append(key, value.clone());
            }
            continue;
        }
        if let Ok(i) = PERMANENT_HEADERS.binary_search(&name) {
            if !is_valid_ascii_value(value.as_bytes()) {
                continue;
            }
            out.append(HeaderName::from_static(PERMANENT_KEYS[i]), value.clone());
            if name == AUTHORIZATION.as_str() {
                out.append(AUTHORIZATION, value.clone());
            }
        }
    }
    // The forwarded headers, also without copying where the request has
    // the value already.
    const FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
    const FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
    let mut hosts = headers.get_all(&FORWARDED_HOST).iter();
    let host = match (hosts.next(), hosts.next()) {
        (Some(one), None) => Some(one.clone()),
        (Some(_), Some(_)) => {
            joined(headers, "x-forwarded-host").and_then(|h| HeaderValue::try_from(h).ok())
        }
        (None, _) => headers.get(HOST).cloned().or_else(|| {
            parts
                .uri
                .authority()
                .and_then(|a| HeaderValue::from_str(a.as_str()).ok())
        }),
    };
    if let Some(host) = host.filter(|h| is_valid_ascii_value(h.as_bytes())) {
        out.insert(FORWARDED_HOST, host);
    }
    let forwarded_for = match (joined(headers, "x-forwarded-for"), remote_addr) {
        (Some(fwd), Some(addr)) => Some(format!("{fwd}, {}", addr.ip())),
        (None, Some(addr)) => Some(addr.ip().to_string()),
        (fwd, None) => fwd,
    };
    if let Some(fwd) = forwarded_for.filter(|f| is_valid_ascii_value(f.as_bytes()))
        && let Ok(value) = HeaderValue::try_from(fwd)
    {
        out.insert(FORWARDED_FOR, value);
    }
    MetadataMap::from_headers(out)
}

/// Parses a `Grpc-Timeout` header value: 1 to 8 ASCII digits followed by one unit, `H`
/// (hours), `M` (minutes), `S` (seconds), `m` (milliseconds), `u` (microseconds) or `n`
/// (nanoseconds). Anything else is `None`.
pub fn parse_grpc_timeout(value: &str) -> Option<Duration> {
    let (digits, unit) = value.split_at_checked(value.len().checked_sub(1)?)?;
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // At most 8 digits: fits in u64 and the multiplications below cannot overflow.
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n * 3600),
        "M" => Duration::from_secs(n * 60),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

/// The request's `Grpc-Timeout` header, parsed (`None` when absent or invalid).
pub fn request_timeout(headers: &http::HeaderMap) -> Option<Duration> {
    headers
        .get("grpc-timeout")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_grpc_timeout(v.trim()))
}

/// Copies metadata into `out` through `matcher`, skipping reserved keys and invalid names
/// or values.
fn outgoing(metadata: &MetadataMap, matcher: &OutgoingMatcher, out: &mut http::HeaderMap) {
    for entry in metadata.iter() {
        let key = match &entry {
            KeyAndValueRef::Ascii(k, _) => k.as_str(),
            KeyAndValueRef::Binary(k, _) => k.as_str(),
        };
        if RESERVED_OUTGOING.contains(&key) {
            continue;
        }
        let (key, value) = match entry {
            KeyAndValueRef::Ascii(k, v) => {
                let Ok(v) = HeaderValue::from_bytes(v.as_encoded_bytes()) else {
                    continue;
                };
                (k.as_str(), v)
            }
            KeyAndValueRef::Binary(k, v) => {
                // Re-encode: tonic keeps the wire form, which may lack padding.
                let Ok(bytes) = v.to_bytes() else { continue };
                let Ok(v) = HeaderValue::from_str(&STANDARD.encode(bytes)) else {
                    continue;
                };
                (k.as_str(), v)
            }
        };
        let Some(name) = matcher(key) else { continue };
        let Ok(name) = HeaderName::try_from(name) else {
            continue;
        };
        out.append(name, value);
    }
}

/// Response (header) metadata → response headers, through `rules.outgoing_header`.
pub fn outgoing_headers(metadata: &MetadataMap, rules: &HeaderRules, out: &mut http::HeaderMap) {
    outgoing(metadata, &rules.outgoing_header, out);
}

/// Response trailer metadata → trailer headers, through `rules.outgoing_trailer`.
pub fn outgoing_trailers(metadata: &MetadataMap, rules: &HeaderRules, out: &mut http::HeaderMap) {
    outgoing(metadata, &rules.outgoing_trailer, out);
}

/// Whether the client sent `TE: trailers` (a token of any `TE` header, case-insensitive,
/// parameters ignored).
pub fn wants_trailers(headers: &http::HeaderMap) -> bool {
    headers.get_all(TE).iter().any(|v| {
        v.to_str().is_ok_and(|s| {
            s.split(',').any(|token| {
                let token = token.split(';').next().unwrap_or("").trim();
                token.eq_ignore_ascii_case("trailers")
            })
        })
    })
}

/// Decodes base64 the way [`incoming_metadata`] does (both alphabets, padding optional).
/// Exposed for gateways that read binary values from other places (e.g. WebSocket
/// subprotocol headers).
pub fn decode_binary_header(value: &[u8]) -> Option<Vec<u8>> {
    decode_base64(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(headers: &[(&str, &[u8])]) -> http::request::Parts {
        let mut b = http::Request::builder().uri("/v1/x");
        for (k, v) in headers {
            b = b.header(*k, HeaderValue::from_bytes(v).unwrap());
        }
        b.body(()).unwrap().into_parts().0
    }

    /// All ASCII entries as sorted (key, value) strings, binary ones as (key, bytes-debug).
    fn dump(md: &MetadataMap) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = md
            .iter()
            .map(|e| match e {
                KeyAndValueRef::Ascii(k, v) => {
                    (k.as_str().to_owned(), v.to_str().unwrap().to_owned())
                }
                KeyAndValueRef::Binary(k, v) => (
                    k.as_str().to_owned(),
                    format!("{:?}", v.to_bytes().unwrap()),
                ),
            })
            .collect();
        out.sort();
        out
    }

    fn s(list: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = list
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn trace_context_forwarded_by_default() {
        let parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let parts = request(&[
            ("traceparent", parent.as_bytes()),
            ("tracestate", b"congo=t61rcWkgMzE"),
            ("x-other", b"dropped"),
        ]);
        let want = s(&[("traceparent", parent), ("tracestate", "congo=t61rcWkgMzE")]);
        let traced = |md: MetadataMap| {
            let mut entries = dump(&md);
            entries.retain(|(k, _)| k.starts_with("trace"));
            entries
        };
        // The fast path of the default rules.
        let fast = incoming_metadata(&parts, None, &HeaderRules::default());
        assert_eq!(traced(fast.clone()), want);
        assert!(fast.get("x-other").is_none());
        // The general path (a matcher that is not the default `Arc`) agrees.
        let rules = HeaderRules {
            incoming: Arc::new(default_incoming_header_matcher),
            ..HeaderRules::default()
        };
        assert_eq!(traced(incoming_metadata(&parts, None, &rules)), want);
    }

    #[test]
    fn permanent_headers_sorted() {
        let mut sorted = PERMANENT_HEADERS.to_vec();
        sorted.sort_unstable();
        assert_eq!(sorted, PERMANENT_HEADERS);
    }

    #[test]
    fn default_incoming_matcher_table() {
        let table: &[(&str, Option<&str>)] = &[
            ("Grpc-Metadata-Foo", Some("foo")),
            ("grpc-metadata-foo-bar", Some("foo-bar")),
            ("GRPC-METADATA-X-BIN", Some("x-bin")),
            ("grpc-metadata-", None),
            ("Accept", Some("grpcgateway-accept")),
            ("accept-charset", Some("grpcgateway-accept-charset")),
            ("Accept-Language", Some("grpcgateway-accept-language")),
            ("Accept-Ranges", Some("grpcgateway-accept-ranges")),
            ("Authorization", Some("grpcgateway-authorization")),
            ("Cache-Control", Some("grpcgateway-cache-control")),
            ("Content-Type", Some("grpcgateway-content-type")),
            ("Cookie", Some("grpcgateway-cookie")),
            ("Date", Some("grpcgateway-date")),
            ("Expect", Some("grpcgateway-expect")),
            ("From", Some("grpcgateway-from")),
            ("Host", Some("grpcgateway-host")),
            ("If-Match", Some("grpcgateway-if-match")),
            ("If-Modified-Since", Some("grpcgateway-if-modified-since")),
            ("If-None-Match", Some("grpcgateway-if-none-match")),
            (
                "If-Schedule-Tag-Match",
                Some("grpcgateway-if-schedule-tag-match"),
            ),
            (
                "If-Unmodified-Since",
                Some("grpcgateway-if-unmodified-since"),
            ),
            ("Max-Forwards", Some("grpcgateway-max-forwards")),
            ("Origin", Some("grpcgateway-origin")),
            ("Pragma", Some("grpcgateway-pragma")),
            ("Referer", Some("grpcgateway-referer")),
            ("User-Agent", Some("grpcgateway-user-agent")),
            ("Via", Some("grpcgateway-via")),
            ("Warning", Some("grpcgateway-warning")),
            ("X-Custom", None),
            ("x-forwarded-for", None),
            ("Content-Length", None),
            ("Connection", None),
            ("te", None),
        ];
        for (name, want) in table {
            assert_eq!(
                default_incoming_header_matcher(name).as_deref(),
                *want,
                "{name}"
            );
        }
    }

    #[test]
    fn default_outgoing_matchers() {
        assert_eq!(
            default_outgoing_header_matcher("foo").as_deref(),
            Some("grpc-metadata-foo")
        );
        assert_eq!(
            default_outgoing_trailer_matcher("foo").as_deref(),
            Some("grpc-trailer-foo")
        );
        let rules = HeaderRules::default();
        assert_eq!(
            (rules.incoming)("Cookie").as_deref(),
            Some("grpcgateway-cookie")
        );
        assert_eq!(format!("{rules:?}"), "HeaderRules { .. }");
    }

    #[test]
    fn incoming_default_rules() {
        let parts = request(&[
            ("grpc-metadata-foo", b"bar"),
            ("grpc-metadata-foo", b"baz"),
            ("authorization", b"Bearer t"),
            ("user-agent", b"curl/8"),
            ("host", b"example.com:8080"),
            ("x-custom", b"dropped"),
            ("content-length", b"3"),
            ("content-type", b"application/json"),
            ("connection", b"keep-alive"),
        ]);
        let md = incoming_metadata(
            &parts,
            Some("10.0.0.7:5555".parse().unwrap()),
            &HeaderRules::default(),
        );
        assert_eq!(
            dump(&md),
            s(&[
                ("foo", "bar"),
                ("foo", "baz"),
                ("authorization", "Bearer t"),
                ("grpcgateway-authorization", "Bearer t"),
                ("grpcgateway-user-agent", "curl/8"),
                ("grpcgateway-host", "example.com:8080"),
                ("grpcgateway-content-type", "application/json"),
                ("x-forwarded-host", "example.com:8080"),
                ("x-forwarded-for", "10.0.0.7"),
            ])
        );
    }

    #[test]
    fn forwarded_headers() {
        // The client's own values win (host) or are extended (for).
        let parts = request(&[
            ("host", b"inner"),
            ("x-forwarded-host", b"outer.example"),
            ("x-forwarded-for", b"1.1.1.1"),
            ("x-forwarded-for", b"2.2.2.2"),
        ]);
        let md = incoming_metadata(
            &parts,
            Some("[::1]:80".parse().unwrap()),
            &HeaderRules::default(),
        );
        assert_eq!(
            md.get("x-forwarded-host").unwrap().to_str().unwrap(),
            "outer.example"
        );
        assert_eq!(
            md.get("x-forwarded-for").unwrap().to_str().unwrap(),
            "1.1.1.1, 2.2.2.2, ::1"
        );

        // No remote address: the client's value is forwarded as is.
        let md = incoming_metadata(&parts, None, &HeaderRules::default());
        assert_eq!(
            md.get("x-forwarded-for").unwrap().to_str().unwrap(),
            "1.1.1.1, 2.2.2.2"
        );

        // Nothing known: no entries.
        let md = incoming_metadata(&request(&[]), None, &HeaderRules::default());
        assert!(md.is_empty());

        // No Host header: the URI authority (HTTP/2 :authority).
        let parts = http::Request::builder()
            .uri("https://api.example:8443/v1/x")
            .body(())
            .unwrap()
            .into_parts()
            .0;
        let md = incoming_metadata(&parts, None, &HeaderRules::default());
        assert_eq!(
            md.get("x-forwarded-host").unwrap().to_str().unwrap(),
            "api.example:8443"
        );
    }

    #[test]
    fn binary_metadata() {
        let parts = request(&[
            ("grpc-metadata-a-bin", b"AQID/w=="), // standard, padded
            ("grpc-metadata-b-bin", b"AQID/w"),   // standard, unpadded
            ("grpc-metadata-c-bin", b"AQID_w=="), // URL-safe, padded
            ("grpc-metadata-d-bin", b"AQID_w"),   // URL-safe, unpadded
            ("grpc-metadata-e-bin", b"!!!"),      // invalid: skipped
            ("grpc-metadata-f-bin", b""),         // empty value: empty bytes
        ]);
        let md = incoming_metadata(&parts, None, &HeaderRules::default());
        for key in ["a-bin", "b-bin", "c-bin", "d-bin"] {
            let v = md.get_bin(key).unwrap().to_bytes().unwrap();
            assert_eq!(&v[..], &[1, 2, 3, 255], "{key}");
        }
        assert!(md.get_bin("e-bin").is_none());
        assert_eq!(&md.get_bin("f-bin").unwrap().to_bytes().unwrap()[..], b"");
        assert_eq!(
            decode_binary_header(b" AQID/w== ").unwrap(),
            vec![1, 2, 3, 255]
        );
        assert!(decode_binary_header(b"A").is_none());
    }

    #[test]
    fn invalid_and_reserved_incoming() {
        let parts = request(&[
            ("grpc-metadata-latin", b"caf\xe9"),    // not ASCII: skipped
            ("grpc-metadata-tab", b"a\tb"),         // control character: skipped
            ("grpc-metadata-ok", b"fine value"),    // space is fine
            ("grpc-metadata-te", b"trailers"),      // reserved
            ("grpc-metadata-connection", b"close"), // reserved
            ("grpc-metadata-grpc-timeout", b"1S"),  // reserved
            ("grpc-metadata-content-type", b"x/y"), // reserved
            ("grpc-metadata-host", b"h"),           // reserved as a plain key
            ("grpc-metadata-transfer-encoding", b"chunked"),
            ("grpc-metadata-upgrade", b"websocket"),
            ("grpc-metadata-keep-alive", b"5"),
            ("grpc-metadata-trailer", b"x"),
            ("grpc-metadata-content-length", b"1"),
        ]);
        let md = incoming_metadata(&parts, None, &HeaderRules::default());
        assert_eq!(dump(&md), s(&[("ok", "fine value")]));
    }

    #[test]
    fn custom_incoming_matcher() {
        let rules = HeaderRules {
            incoming: Arc::new(|name: &str| match name {
                "x-tenant" => Some("Tenant".to_owned()), // lowercased
                "x-bad" => Some("bad key!".to_owned()),  // invalid key: skipped
                "x-sig" => Some("sig-bin".to_owned()),
                "x-host" => Some("host".to_owned()), // reserved: skipped
                _ => None,
            }),
            ..HeaderRules::default()
        };
        let parts = request(&[
            ("x-tenant", b"t1"),
            ("x-bad", b"v"),
            ("x-sig", b"AAE="),
            ("x-host", b"h"),
            ("authorization", b"Basic x"),
            ("grpc-metadata-foo", b"dropped by the custom matcher"),
        ]);
        let md = incoming_metadata(&parts, None, &rules);
        assert_eq!(
            dump(&md),
            s(&[
                ("tenant", "t1"),
                ("sig-bin", "b\"\\0\\x01\""),
                ("authorization", "Basic x"),
            ])
        );
    }

    #[test]
    fn timeouts() {
        let table: &[(&str, Option<Duration>)] = &[
            ("10S", Some(Duration::from_secs(10))),
            ("500m", Some(Duration::from_millis(500))),
            ("1H", Some(Duration::from_secs(3600))),
            ("2M", Some(Duration::from_secs(120))),
            ("100n", Some(Duration::from_nanos(100))),
            ("7u", Some(Duration::from_micros(7))),
            ("0S", Some(Duration::ZERO)),
            ("99999999H", Some(Duration::from_secs(99_999_999 * 3600))),
            ("12345678S", Some(Duration::from_secs(12_345_678))),
            ("123456789S", None),
            ("5x", None),
            ("5s", None),
            ("", None),
            ("S", None),
            ("5", None),
            ("-5S", None),
            ("+5S", None),
            (" 5S", None),
            ("1.5S", None),
            ("5SS", None),
            ("٣S", None),
            ("5€", None),
        ];
        for (v, want) in table {
            assert_eq!(parse_grpc_timeout(v), *want, "{v:?}");
        }
        let mut h = http::HeaderMap::new();
        assert_eq!(request_timeout(&h), None);
        h.insert("grpc-timeout", HeaderValue::from_static("250m"));
        assert_eq!(request_timeout(&h), Some(Duration::from_millis(250)));
        h.insert("grpc-timeout", HeaderValue::from_static("bogus"));
        assert_eq!(request_timeout(&h), None);
    }

    #[test]
    fn outgoing_default_rules() {
        let mut md = MetadataMap::new();
        md.append("x-id", "42".parse().unwrap());
        md.append("x-id", "43".parse().unwrap());
        md.append_bin("blob-bin", BinaryMetadataValue::from_bytes(&[1, 2, 3, 4]));
        for reserved in [
            "content-type",
            "grpc-status",
            "grpc-message",
            "grpc-encoding",
            "grpc-accept-encoding",
            "grpc-timeout",
            "date",
            "te",
            "trailer",
            "transfer-encoding",
            "connection",
        ] {
            md.insert(
                AsciiMetadataKey::from_bytes(reserved.as_bytes()).unwrap(),
                "x".parse().unwrap(),
            );
        }
        md.insert_bin(
            "grpc-status-details-bin",
            BinaryMetadataValue::from_bytes(b"x"),
        );

        let rules = HeaderRules::default();
        let mut out = http::HeaderMap::new();
        outgoing_headers(&md, &rules, &mut out);
        let mut got: Vec<(String, String)> = out
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_owned()))
            .collect();
        got.sort();
        assert_eq!(
            got,
            s(&[
                ("grpc-metadata-x-id", "42"),
                ("grpc-metadata-x-id", "43"),
                // Standard base64 with padding (tonic stores it unpadded).
                ("grpc-metadata-blob-bin", "AQIDBA=="),
            ])
        );

        let mut out = http::HeaderMap::new();
        outgoing_trailers(&md, &rules, &mut out);
        let mut names: Vec<String> = out.keys().map(|k| k.to_string()).collect();
        names.sort();
        assert_eq!(names, ["grpc-trailer-blob-bin", "grpc-trailer-x-id"]);
    }

    #[test]
    fn outgoing_invalid_skipped() {
        let mut md = MetadataMap::new();
        md.insert("a", "1".parse().unwrap());
        md.insert("b", "2".parse().unwrap());
        md.insert("c", "3".parse().unwrap());
        // A binary value that is not base64 on the wire (as a broken peer may send).
        let mut raw = http::HeaderMap::new();
        raw.insert("d-bin", HeaderValue::from_static("!!"));
        md = {
            let mut h = md.into_headers();
            h.extend(raw);
            MetadataMap::from_headers(h)
        };
        let rules = HeaderRules {
            outgoing_header: Arc::new(|k: &str| match k {
                "a" => Some("bad name".to_owned()),
                "b" => None,
                other => Some(format!("x-{other}")),
            }),
            ..HeaderRules::default()
        };
        let mut out = http::HeaderMap::new();
        outgoing_headers(&md, &rules, &mut out);
        let names: Vec<String> = out.keys().map(|k| k.to_string()).collect();
        assert_eq!(names, ["x-c"]);
    }

    #[test]
    fn te_trailers() {
        let table: &[(&[&str], bool)] = &[
            (&[], false),
            (&["trailers"], true),
            (&["Trailers"], true),
            (&["gzip, trailers"], true),
            (&["trailers;q=1, gzip"], true),
            (&["gzip", " TRAILERS "], true),
            (&["gzip"], false),
            (&["trailer"], false),
            (&["trailers-x"], false),
            (&["x-trailers"], false),
        ];
        for (values, want) in table {
            let mut h = http::HeaderMap::new();
            for v in *values {
                h.append(TE, HeaderValue::from_str(v).unwrap());
            }
            assert_eq!(wants_trailers(&h), *want, "{values:?}");
        }
    }
}
