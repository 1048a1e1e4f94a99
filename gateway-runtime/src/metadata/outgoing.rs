//! gRPC response metadata and trailers into HTTP headers and trailers.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use http::header::{HeaderName, HeaderValue, TE};
use tonic::metadata::{KeyAndValueRef, MetadataMap};

use super::*;

/// Copies metadata into `out` through `matcher`, skipping reserved keys and invalid names
/// or values.
pub(super) fn outgoing(
    metadata: &MetadataMap,
    matcher: &OutgoingMatcher,
    out: &mut http::HeaderMap,
) {
    for entry in metadata.iter() {
        let key = match &entry {
            KeyAndValueRef::Ascii(k, _) => k.as_str(),
            KeyAndValueRef::Binary(k, _) => k.as_str(),
        };
        if reserved_outgoing(key) {
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
pub(crate) fn outgoing_headers(
    metadata: &MetadataMap,
    rules: &HeaderRules,
    out: &mut http::HeaderMap,
) {
    outgoing(metadata, &rules.outgoing_header, out);
}

/// Response trailer metadata → trailer headers, through `rules.outgoing_trailer`.
pub(crate) fn outgoing_trailers(
    metadata: &MetadataMap,
    rules: &HeaderRules,
    out: &mut http::HeaderMap,
) {
    outgoing(metadata, &rules.outgoing_trailer, out);
}

/// Whether the client sent `TE: trailers` (a token of any `TE` header, case-insensitive,
/// parameters ignored).
pub(crate) fn wants_trailers(headers: &http::HeaderMap) -> bool {
    headers.get_all(TE).iter().any(|v| {
        v.to_str().is_ok_and(|s| {
            s.split(',').any(|token| {
                let token = token.split(';').next().unwrap_or("").trim();
                token.eq_ignore_ascii_case("trailers")
            })
        })
    })
}
