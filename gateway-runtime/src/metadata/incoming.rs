//! HTTP request headers into gRPC metadata: the default rules or a matcher,
//! `-bin` values decoded, reserved keys refused.

use std::net::SocketAddr;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use http::header::{AUTHORIZATION, HOST, HeaderName, HeaderValue};
use tonic::metadata::{
    AsciiMetadataKey, AsciiMetadataValue, BinaryMetadataKey, BinaryMetadataValue, MetadataMap,
};

use super::*;

/// Whether `key` is a valid gRPC metadata key (`[0-9a-z_.-]+`).
pub(super) fn is_valid_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'z' | b'_' | b'.' | b'-'))
}

/// Whether `value` is a valid ASCII metadata value (printable ASCII and space).
///
/// Eight bytes at a time: in a word `x`, a byte below 0x20 leaves its top
/// bit set in `(x - 0x20 per byte) & !x` (a borrow into the next byte only
/// follows such a byte), and a byte from 0x7f up has its top bit set in
/// `x | (x + 1 per byte)` (a carry only follows a byte 0xff).
pub(super) fn is_valid_ascii_value(value: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const TOPS: u64 = u64::from_ne_bytes([0x80; 8]);
    let mut words = value.chunks_exact(8);
    for word in &mut words {
        let x = u64::from_le_bytes(word.try_into().expect("eight bytes"));
        let below_space = x.wrapping_sub(ONES * 0x20) & !x;
        let above_tilde = x | x.wrapping_add(ONES);
        if (below_space | above_tilde) & TOPS != 0 {
            return false;
        }
    }
    words
        .remainder()
        .iter()
        .all(|&b| (0x20..=0x7e).contains(&b))
}

/// A `-bin` header value as bytes: the value without surrounding white
/// space (HTTP's optional white space), decoded by the one base64 rule.
pub(super) fn decode_base64(value: &[u8]) -> Option<Vec<u8>> {
    crate::base64_rule::decode(value.trim_ascii())
}

/// Appends one metadata entry, validating key and value; invalid entries are skipped.
pub(super) fn append(md: &mut MetadataMap, key: &str, value: &[u8]) {
    if !is_valid_key(key) || reserved_incoming(key) {
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
pub(super) fn set(md: &mut MetadataMap, key: &'static str, value: &str) {
    if !is_valid_ascii_value(value.as_bytes()) {
        return;
    }
    if let Ok(v) = AsciiMetadataValue::try_from(value) {
        md.insert(key, v);
    }
}

/// Joins all values of a header with `, ` (how HTTP combines repeated headers);
/// `None` when absent or not UTF-8.
pub(super) fn joined(headers: &http::HeaderMap, name: &str) -> Option<String> {
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

/// Builds the outgoing gRPC request metadata from the HTTP request (see the module docs),
/// with room for the entries tonic adds to it on the way out.
#[cfg(test)]
pub(crate) fn incoming_metadata(
    parts: &http::request::Parts,
    remote_addr: Option<SocketAddr>,
    rules: &HeaderRules,
) -> MetadataMap {
    incoming_metadata_with_room(parts, remote_addr, rules, TONIC_ADDS)
}

/// The entries tonic adds to a request's metadata map when it sends it
/// (`te`, `content-type`, `user-agent`, `grpc-timeout`).
pub(crate) const TONIC_ADDS: usize = 4;

/// Builds the outgoing gRPC request metadata from the HTTP request (see the
/// module docs). `room`: entries the call adds to the map after this (see
/// [`TONIC_ADDS`]; none on a direct call), which the default rules' map
/// makes room for up front: a map that grows rehashes every entry, and a
/// map of a few more entries can be an allocation from a slower size class.
pub(crate) fn incoming_metadata_with_room(
    parts: &http::request::Parts,
    remote_addr: Option<SocketAddr>,
    rules: &HeaderRules,
    room: usize,
) -> MetadataMap {
    if Arc::ptr_eq(&rules.incoming, default_incoming()) {
        return default_rules_metadata(parts, remote_addr, room);
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
pub(super) fn default_rules_metadata(
    parts: &http::request::Parts,
    remote_addr: Option<SocketAddr>,
    room: usize,
) -> MetadataMap {
    let headers = &parts.headers;
    // Room for the two forwarded headers and for those the call adds to
    // the same map (`room`): a map that grows on the way out rehashes
    // every entry.
    let mut out = http::HeaderMap::with_capacity(headers.keys_len() + 2 + room);
    // What the forwarded headers need, noted on the way through rather
    // than looked up again (each lookup hashes the name).
    let mut host = None;
    let mut forwarded_hosts = (None, 0);
    let mut client_forwarded_for = false;
    for (name, value) in headers {
        let name = name.as_str();
        if let Some(key) = name.strip_prefix(METADATA_PREFIX) {
            if !is_valid_key(key) || reserved_incoming(key) {
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
        let key = match name {
            "traceparent" => HeaderName::from_static("traceparent"),
            "tracestate" => HeaderName::from_static("tracestate"),
            "x-forwarded-host" => {
                forwarded_hosts.0.get_or_insert(value);
                forwarded_hosts.1 += 1;
                continue;
            }
            "x-forwarded-for" => {
                client_forwarded_for = true;
                continue;
            }
            _ => match permanent_index(name) {
                Some(i) => {
                    if name == "host" {
                        host.get_or_insert(value);
                    }
                    PERMANENT_KEYS[i].clone()
                }
                None => continue,
            },
        };
        if !is_valid_ascii_value(value.as_bytes()) {
            continue;
        }
        out.append(key, value.clone());
        if name == AUTHORIZATION.as_str() {
            out.append(AUTHORIZATION, value.clone());
        }
    }
    // The forwarded headers, also without copying where the request has
    // the value already.
    const FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
    const FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
    let host = match forwarded_hosts {
        (Some(one), 1) => Some(one.clone()),
        (Some(_), _) => {
            joined(headers, "x-forwarded-host").and_then(|h| HeaderValue::try_from(h).ok())
        }
        (None, _) => host.cloned().or_else(|| {
            parts
                .uri
                .authority()
                .and_then(|a| HeaderValue::from_str(a.as_str()).ok())
        }),
    };
    if let Some(host) = host.filter(|h| is_valid_ascii_value(h.as_bytes())) {
        out.insert(FORWARDED_HOST, host);
    }
    // Formatted only when the client sent one; else the remote address's
    // value, cached (see `ip_value`).
    let client = match client_forwarded_for {
        true => joined(headers, "x-forwarded-for"),
        false => None,
    };
    let forwarded_for = match (client, remote_addr) {
        (Some(fwd), Some(addr)) => HeaderValue::try_from(format!("{fwd}, {}", addr.ip())).ok(),
        // An address's text is valid as it is.
        (None, Some(addr)) => {
            out.insert(FORWARDED_FOR, ip_value(addr.ip()));
            None
        }
        (fwd, None) => fwd.and_then(|f| HeaderValue::try_from(f).ok()),
    };
    if let Some(fwd) = forwarded_for.filter(|f| is_valid_ascii_value(f.as_bytes())) {
        out.insert(FORWARDED_FOR, fwd);
    }
    MetadataMap::from_headers(out)
}

/// The remote address as a header value. A client sends its requests over
/// one connection, so each worker thread keeps the last address's value:
/// a hit is a reference count, not formatting and an allocation.
fn ip_value(ip: std::net::IpAddr) -> HeaderValue {
    thread_local! {
        static LAST: std::cell::RefCell<Option<(std::net::IpAddr, HeaderValue)>> =
            const { std::cell::RefCell::new(None) };
    }
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        if let Some((cached, value)) = last.as_ref()
            && *cached == ip
        {
            return value.clone();
        }
        let value = HeaderValue::try_from(ip.to_string()).expect("an IP address is ASCII");
        *last = Some((ip, value.clone()));
        value
    })
}
