//! Tests of the header and metadata rules.

use super::*;
use std::sync::Arc;
use std::time::Duration;

use http::header::{HeaderValue, TE};
use tonic::metadata::{AsciiMetadataKey, BinaryMetadataValue, KeyAndValueRef, MetadataMap};

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
            KeyAndValueRef::Ascii(k, v) => (k.as_str().to_owned(), v.to_str().unwrap().to_owned()),
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
fn permanent_lookup_agrees_with_the_list() {
    assert_eq!(PERMANENT_KEYS.len(), PERMANENT_HEADERS.len());
    for (i, name) in PERMANENT_HEADERS.iter().enumerate() {
        assert_eq!(permanent_index(name), Some(i), "{name}");
        assert_eq!(
            PERMANENT_KEYS[i].as_str(),
            format!("{GATEWAY_PREFIX}{name}")
        );
    }
    for other in [
        "",
        "accepts",
        "accep",
        "x-forwarded-for",
        "hosts",
        "Host",
        "te",
    ] {
        assert_eq!(permanent_index(other), None, "{other}");
    }
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

    // The remote address alone; a new address after another (each worker
    // thread keeps the last one's value) is not answered with the old one.
    // A client value that is not text is dropped, the address kept; the
    // general path agrees.
    let general = HeaderRules {
        incoming: Arc::new(default_incoming_header_matcher),
        ..HeaderRules::default()
    };
    let binary: &[u8] = b"\xff1.1.1.1";
    for (headers, addr, want) in [
        (&[][..], "10.0.0.7:1", "10.0.0.7"),
        (&[][..], "10.0.0.7:2", "10.0.0.7"),
        (&[][..], "10.0.0.8:1", "10.0.0.8"),
        (&[][..], "[::1]:1", "::1"),
        (&[("x-forwarded-for", binary)][..], "10.0.0.9:1", "10.0.0.9"),
    ] {
        let parts = request(headers);
        for rules in [&HeaderRules::default(), &general] {
            let md = incoming_metadata(&parts, Some(addr.parse().unwrap()), rules);
            assert_eq!(md.get("x-forwarded-for").unwrap().to_str().unwrap(), want);
        }
    }

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
        incoming::decode_base64(b" AQID/w== ").unwrap(),
        vec![1, 2, 3, 255]
    );
    assert!(incoming::decode_base64(b"A").is_none());
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

#[test]
fn ascii_value_check_word_at_a_time_matches_bytewise() {
    let bytewise = |v: &[u8]| v.iter().all(|&b| (0x20..=0x7e).contains(&b));
    // Every byte value at every position of values that span whole words
    // and a remainder, among valid neighbours of both edges.
    for len in [1usize, 7, 8, 9, 16, 17, 23] {
        for fill in [b' ', b'~', b'a'] {
            for at in 0..len {
                for b in 0..=255u8 {
                    let mut v = vec![fill; len];
                    v[at] = b;
                    assert_eq!(incoming::is_valid_ascii_value(&v), bytewise(&v), "{v:?}");
                }
            }
        }
    }
    // Two invalid bytes in one word (a borrow or carry next to another).
    for (a, b) in [(0x00, 0x7f), (0xff, 0x7e), (0x1f, 0x20), (0xff, 0xff)] {
        let mut v = vec![b'a'; 8];
        v[3] = a;
        v[4] = b;
        assert_eq!(incoming::is_valid_ascii_value(&v), bytewise(&v));
    }
    assert!(incoming::is_valid_ascii_value(b""));
}
