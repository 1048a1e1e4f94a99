//! Tests of body splitting and response lines.

use super::lines::line;
use super::reference::ReferenceSplitter;
use super::split::{BOM, Buffer, JsonValueSplitter, is_ws};
use super::*;
use axum::body::Body;
use bytes::Bytes;
use futures_util::{StreamExt, stream};
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;

const BIG: usize = 1 << 20;

/// Pushes `input` whole and drains it: the values, or the values before an error and
/// the error.
fn split_all(input: &[u8], max: usize) -> (Vec<Vec<u8>>, Option<SplitError>) {
    split_chunks(&[input], max)
}

fn split_chunks(chunks: &[&[u8]], max: usize) -> (Vec<Vec<u8>>, Option<SplitError>) {
    let mut s = JsonValueSplitter::new(max);
    let mut out = Vec::new();
    for chunk in chunks {
        s.push(chunk);
        loop {
            match s.next_value() {
                Ok(Some(v)) => out.push(v.to_vec()),
                Ok(None) => break,
                Err(e) => return (out, Some(e)),
            }
        }
    }
    loop {
        match s.finish() {
            Ok(Some(v)) => out.push(v.to_vec()),
            Ok(None) => return (out, None),
            Err(e) => return (out, Some(e)),
        }
    }
}

fn ok(input: &str) -> Vec<String> {
    let (values, err) = split_all(input.as_bytes(), BIG);
    assert_eq!(err, None, "input {input:?}");
    values
        .into_iter()
        .map(|v| String::from_utf8(v).unwrap())
        .collect()
}

fn err(input: &[u8]) -> (usize, SplitError) {
    let (values, err) = split_all(input, BIG);
    (values.len(), err.expect("an error"))
}

#[test]
fn single_values() {
    assert_eq!(ok("{}"), ["{}"]);
    assert_eq!(ok("[]"), ["[]"]);
    assert_eq!(ok("{\"a\":1}"), ["{\"a\":1}"]);
    assert_eq!(ok("[1,2,[3,{\"x\":[]}]]"), ["[1,2,[3,{\"x\":[]}]]"]);
    assert_eq!(ok("\"str\""), ["\"str\""]);
    assert_eq!(ok("42"), ["42"]);
    assert_eq!(ok("-1.5e+10"), ["-1.5e+10"]);
    assert_eq!(ok("true"), ["true"]);
    assert_eq!(ok(""), Vec::<String>::new());
    assert_eq!(ok(" \t\r\n "), Vec::<String>::new());
}

#[test]
fn nested() {
    let deep = format!("{}{}", "[{\"a\":".repeat(50), "1}]".repeat(50));
    assert_eq!(ok(&format!("{deep}\n{deep}")), [deep.clone(), deep]);
    assert_eq!(
        ok("{\"a\":{\"b\":{\"c\":[[[]]]}}}"),
        ["{\"a\":{\"b\":{\"c\":[[[]]]}}}"]
    );
}

#[test]
fn strings_hide_structure() {
    assert_eq!(
        ok(r#"{"a":"}"} {"b":"]["}"#),
        [r#"{"a":"}"}"#, r#"{"b":"]["}"#]
    );
    assert_eq!(ok(r#"{"a":"{{{"}"#), [r#"{"a":"{{{"}"#]);
    assert_eq!(ok(r#"{"a":"say \"hi\""}"#), [r#"{"a":"say \"hi\""}"#]);
    assert_eq!(ok(r#"{"a":"\\"}"#), [r#"{"a":"\\"}"#]);
    assert_eq!(ok(r#"{"a":"\\\"}"}"#), [r#"{"a":"\\\"}"}"#]);
    assert_eq!(ok(r#""a\"b" "c\\""#), [r#""a\"b""#, r#""c\\""#]);
    assert_eq!(ok(r#"["\u007b", "\n"]"#), [r#"["\u007b", "\n"]"#]);
    assert_eq!(
        ok("\"日本 🌍\"{\"é\":\"}\"}"),
        ["\"日本 🌍\"", "{\"é\":\"}\"}"]
    );
}

#[test]
fn backslash_at_chunk_end() {
    // The escape state must survive the chunk boundary.
    // An escaped quote split from its backslash does not end the string...
    let chunks: [&[u8]; 5] = [br#"{"a":"x\"#, br#""}"#, br#"" } {"b":"\"#, br"\", br#""}"#];
    let (v, e) = split_chunks(&chunks, BIG);
    assert_eq!(e, None);
    // ...and an escaped backslash split in two does not escape the quote after it.
    assert_eq!(v, [br#"{"a":"x\"}" }"#.to_vec(), br#"{"b":"\\"}"#.to_vec()]);
    // A string left open after a trailing backslash is cut off.
    let (v, e) = split_chunks(&[br#"["\"#, br#""]"#], BIG);
    assert_eq!((v.len(), e), (0, Some(SplitError::Truncated { offset: 5 })));
}

#[test]
fn scalars_end_at_whitespace_values_and_eof() {
    assert_eq!(ok("true false null"), ["true", "false", "null"]);
    assert_eq!(ok("1 2\n3\t4\r\n5"), ["1", "2", "3", "4", "5"]);
    assert_eq!(ok("12{\"a\":1}"), ["12", "{\"a\":1}"]);
    assert_eq!(ok("12[1]"), ["12", "[1]"]);
    assert_eq!(ok("12\"s\"null"), ["12", "\"s\"", "null"]);
    assert_eq!(ok("{}12"), ["{}", "12"]);
    assert_eq!(ok("\"s\"12"), ["\"s\"", "12"]);
}

#[test]
fn adjacent_and_whitespace_variations() {
    assert_eq!(ok("{}{}[]\"\"{}"), ["{}", "{}", "[]", "\"\"", "{}"]);
    assert_eq!(ok("\n\n{}\n\n\n{}\n"), ["{}", "{}"]);
    assert_eq!(ok("  {}\t\t{}\r\n{}  "), ["{}", "{}", "{}"]);
    // Whitespace inside a value is kept as is.
    assert_eq!(ok(" { \"a\" :\n 1 } "), ["{ \"a\" :\n 1 }"]);
}

#[test]
fn scalar_needs_eof_or_delimiter() {
    let mut s = JsonValueSplitter::new(BIG);
    s.push(b"12");
    assert_eq!(s.next_value(), Ok(None), "12 may continue");
    s.push(b"3 ");
    assert_eq!(s.next_value(), Ok(Some(&b"123"[..])));
    s.push(b"45");
    assert_eq!(s.next_value(), Ok(None));
    assert_eq!(s.finish(), Ok(Some(&b"45"[..])));
    assert_eq!(s.finish(), Ok(None));
}

#[test]
fn finish_drains_every_buffered_value() {
    let mut s = JsonValueSplitter::new(BIG);
    s.push(b"1 {} 2");
    assert_eq!(s.finish(), Ok(Some(&b"1"[..])));
    assert_eq!(s.finish(), Ok(Some(&b"{}"[..])));
    assert_eq!(s.finish(), Ok(Some(&b"2"[..])));
    assert_eq!(s.finish(), Ok(None));
}

#[test]
fn bom() {
    assert_eq!(ok("\u{FEFF}{}"), ["{}"]);
    assert_eq!(ok("\u{FEFF} 1 2"), ["1", "2"]);
    assert_eq!(ok("\u{FEFF}"), Vec::<String>::new());
    // Only at the very start.
    assert_eq!(ok("{} \u{FEFF}"), ["{}", "\u{FEFF}"]);
    // Split across pushes.
    let (v, e) = split_chunks(&[b"\xEF", b"\xBB", b"\xBF{}"], BIG);
    assert_eq!((v, e), (vec![b"{}".to_vec()], None));
    // A lone BOM prefix at EOF is just data (the JSON reader rejects it).
    let (v, e) = split_all(b"\xEF\xBB", BIG);
    assert_eq!((v, e), (vec![b"\xEF\xBB".to_vec()], None));
    // Offsets count the BOM's bytes.
    assert_eq!(
        err(b"\xEF\xBB\xBF ,"),
        (
            0,
            SplitError::Unexpected {
                offset: 4,
                byte: b','
            }
        )
    );
}

#[test]
fn errors_with_offsets() {
    use SplitError::*;
    assert_eq!(
        err(b","),
        (
            0,
            Unexpected {
                offset: 0,
                byte: b','
            }
        )
    );
    assert_eq!(
        err(b"{} , {}"),
        (
            1,
            Unexpected {
                offset: 3,
                byte: b','
            }
        )
    );
    assert_eq!(
        err(b"{}:"),
        (
            1,
            Unexpected {
                offset: 2,
                byte: b':'
            }
        )
    );
    assert_eq!(
        err(b"  }"),
        (
            0,
            Unexpected {
                offset: 2,
                byte: b'}'
            }
        )
    );
    assert_eq!(
        err(b"]"),
        (
            0,
            Unexpected {
                offset: 0,
                byte: b']'
            }
        )
    );
    assert_eq!(
        err(b"{]"),
        (
            0,
            Unexpected {
                offset: 1,
                byte: b']'
            }
        )
    );
    assert_eq!(
        err(b"[1,{\"a\":2]}"),
        (
            0,
            Unexpected {
                offset: 9,
                byte: b']'
            }
        )
    );
    assert_eq!(
        err(b"{}}"),
        (
            1,
            Unexpected {
                offset: 2,
                byte: b'}'
            }
        )
    );
    assert_eq!(
        err(b"[1,2],[3]"),
        (
            1,
            Unexpected {
                offset: 5,
                byte: b','
            }
        )
    );
    // A scalar followed by `,` is complete, then the comma is the error.
    assert_eq!(
        err(b"1,2"),
        (
            1,
            Unexpected {
                offset: 1,
                byte: b','
            }
        )
    );
    assert_eq!(
        err(b"null]"),
        (
            1,
            Unexpected {
                offset: 4,
                byte: b']'
            }
        )
    );
    assert_eq!(err(b"{"), (0, Truncated { offset: 1 }));
    assert_eq!(err(b"{} [1, {\"a\": "), (1, Truncated { offset: 13 }));
    assert_eq!(err(b"\"abc"), (0, Truncated { offset: 4 }));
    assert_eq!(err(b"\"abc\\\""), (0, Truncated { offset: 6 }));
    assert_eq!(err(b"{\"a\":\"}"), (0, Truncated { offset: 7 }));
}

#[test]
fn errors_are_sticky() {
    let mut s = JsonValueSplitter::new(BIG);
    s.push(b"{]} {}");
    let e = SplitError::Unexpected {
        offset: 1,
        byte: b']',
    };
    assert_eq!(s.next_value(), Err(e.clone()));
    s.push(b"{}");
    assert_eq!(s.next_value(), Err(e.clone()));
    assert_eq!(s.finish(), Err(e));
}

#[test]
fn too_large() {
    use SplitError::TooLarge;
    // Exactly at the limit: fine, for every kind of value.
    for v in ["{\"a\":1}", "[1,2,3]", "\"abcde\"", "1234567", "true"] {
        let (vals, e) = split_all(format!("{v} {v}").as_bytes(), v.len());
        assert_eq!((vals.len(), e), (2, None), "{v}");
        // Scalars at EOF too.
        let (vals, e) = split_all(v.as_bytes(), v.len());
        assert_eq!((vals.len(), e), (1, None), "{v}");
        // One over: an error, both mid-stream and at EOF.
        let (vals, e) = split_all(format!("{v} {v}").as_bytes(), v.len() - 1);
        assert_eq!(
            (vals.len(), e),
            (0, Some(TooLarge { limit: v.len() - 1 })),
            "{v}"
        );
        let (vals, e) = split_all(v.as_bytes(), v.len() - 1);
        assert_eq!(
            (vals.len(), e),
            (0, Some(TooLarge { limit: v.len() - 1 })),
            "{v}"
        );
    }
    // Surrounding whitespace does not count.
    let (vals, e) = split_all(b"   {}   {}   ", 2);
    assert_eq!((vals.len(), e), (2, None));
    // The error comes as soon as the limit is passed, before the value ends, so a
    // huge value is never buffered whole.
    let mut s = JsonValueSplitter::new(8);
    s.push(b"[1,2,3,4,");
    assert_eq!(s.next_value(), Err(TooLarge { limit: 8 }));
    assert_eq!(s.buf.len(), 0);
    let mut s = JsonValueSplitter::new(0);
    s.push(b"1");
    assert_eq!(s.next_value(), Err(TooLarge { limit: 0 }));
    let mut s = JsonValueSplitter::new(0);
    s.push(b"   ");
    assert_eq!(s.finish(), Ok(None));
}

#[test]
fn every_split_point() {
    let input: &[u8] = b"\xEF\xBB\xBF {\"a\":\"x}\\\"y\\\\\",\"b\":[1,{\"c\":null}]}\n[true,false]\"s\\\"{\"12 -3.5e2{}\r\n\"\xC3\xA9\"null\t[[],{}]{} 7";
    let want = split_all(input, BIG);
    assert_eq!(want.1, None);
    assert_eq!(want.0.len(), 11, "{:?}", want.0);
    for i in 0..=input.len() {
        let got = split_chunks(&[&input[..i], &input[i..]], BIG);
        assert_eq!(got, want, "split at {i}");
        for j in i..=input.len() {
            let got = split_chunks(&[&input[..i], &input[i..j], &input[j..]], BIG);
            assert_eq!(got, want, "split at {i} and {j}");
        }
    }
    // Byte by byte.
    let bytes: Vec<&[u8]> = input.chunks(1).collect();
    assert_eq!(split_chunks(&bytes, BIG), want);
}

#[test]
fn long_stream_in_small_chunks_is_linear() {
    let mut input = Vec::new();
    for i in 0..10_000 {
        input.extend_from_slice(format!("{{\"n\":{i},\"s\":\"a\\\"b\"}}\n{i} ").as_bytes());
    }
    let mut s = JsonValueSplitter::new(64);
    let mut count = 0;
    for chunk in input.chunks(7) {
        s.push(chunk);
        while let Some(v) = s.next_value().unwrap() {
            assert!(!v.is_empty());
            count += 1;
        }
    }
    while s.finish().unwrap().is_some() {
        count += 1;
    }
    assert_eq!(count, 20_000);
    // Each byte is examined once, plus once more for the delimiter that ends a scalar.
    assert!(
        s.examined <= input.len() + 10_000,
        "{} examined for {} bytes",
        s.examined,
        input.len()
    );
    // The buffer does not keep everything that went through it.
    assert!(s.buf.capacity() < 4096, "capacity {}", s.buf.capacity());
}

use crate::test_rng::XorShift;

/// A valid JSON value; returns whether it is a bare scalar (which needs whitespace
/// before another scalar).
fn gen_value(r: &mut XorShift, depth: usize, out: &mut Vec<u8>) -> bool {
    let kind = if depth > 4 { r.below(3) } else { r.below(5) };
    match kind {
        0 => {
            let scalars: [&[u8]; 7] = [b"0", b"-12.5e3", b"true", b"false", b"null", b"7", b"1E-9"];
            out.extend_from_slice(scalars[r.below(scalars.len())]);
            true
        }
        1 | 2 => {
            gen_string(r, out);
            false
        }
        3 => {
            out.push(b'[');
            for i in 0..r.below(4) {
                if i > 0 {
                    out.push(b',');
                }
                gen_ws(r, out);
                gen_value(r, depth + 1, out);
            }
            out.push(b']');
            false
        }
        _ => {
            out.push(b'{');
            for i in 0..r.below(4) {
                if i > 0 {
                    out.push(b',');
                }
                gen_string(r, out);
                out.push(b':');
                gen_ws(r, out);
                gen_value(r, depth + 1, out);
            }
            out.push(b'}');
            false
        }
    }
}

fn gen_string(r: &mut XorShift, out: &mut Vec<u8>) {
    let pieces: [&[u8]; 10] = [
        b"a",
        b"{",
        b"}",
        b"[",
        b"]",
        b"\\\"",
        b"\\\\",
        b"\\n",
        b"\xC3\xA9",
        b" ",
    ];
    out.push(b'"');
    for _ in 0..r.below(6) {
        out.extend_from_slice(pieces[r.below(pieces.len())]);
    }
    out.push(b'"');
}

fn gen_ws(r: &mut XorShift, out: &mut Vec<u8>) {
    for _ in 0..r.below(3) {
        out.push([b' ', b'\t', b'\r', b'\n'][r.below(4)]);
    }
}

fn random_chunks<'a>(r: &mut XorShift, input: &'a [u8]) -> Vec<&'a [u8]> {
    let mut chunks = Vec::new();
    let mut rest = input;
    while !rest.is_empty() {
        let n = 1 + r.below(rest.len().min(20));
        let (a, b) = rest.split_at(n);
        chunks.push(a);
        rest = b;
    }
    chunks
}

#[test]
fn random_valid_streams_round_trip() {
    let mut r = XorShift(0x9E37_79B9_7F4A_7C15);
    for _ in 0..500 {
        let mut input = Vec::new();
        let mut want = Vec::new();
        let mut prev_scalar = false;
        if r.below(4) == 0 {
            input.extend_from_slice(BOM);
        }
        for _ in 0..r.below(8) {
            let mut ws = Vec::new();
            gen_ws(&mut r, &mut ws);
            let mut v = Vec::new();
            let scalar = gen_value(&mut r, 0, &mut v);
            if prev_scalar && scalar && ws.is_empty() {
                ws.push(b'\n');
            }
            input.extend_from_slice(&ws);
            input.extend_from_slice(&v);
            want.push(v);
            prev_scalar = scalar;
        }
        gen_ws(&mut r, &mut input);
        let chunks = random_chunks(&mut r, &input);
        let got = split_chunks(&chunks, BIG);
        assert_eq!(
            got,
            (want, None),
            "input {:?}",
            String::from_utf8_lossy(&input)
        );
    }
}

#[test]
fn random_garbage_never_panics() {
    let mut r = XorShift(0xDEAD_BEEF_CAFE_F00D);
    let alphabet: &[u8] = b"{}[]\",:\\ \n\ta1\xEF\xBB\xBF\0";
    for _ in 0..3000 {
        let len = r.below(60);
        let input: Vec<u8> = (0..len)
            .map(|_| alphabet[r.below(alphabet.len())])
            .collect();
        let max = 1 + r.below(40);
        let chunks = random_chunks(&mut r, &input);
        let (values, e) = split_chunks(&chunks, max);
        let mut total = 0;
        for v in &values {
            assert!(!v.is_empty() && v.len() <= max);
            assert!(!is_ws(v[0]));
            total += v.len();
        }
        assert!(total <= input.len());
        if let Some(SplitError::Unexpected { offset, byte }) = e {
            assert_eq!(input.get(offset), Some(&byte), "{input:?}");
        }
        if let Some(SplitError::Truncated { offset }) = e {
            assert_eq!(offset, input.len());
        }
    }
}

#[test]
fn display() {
    assert_eq!(
        SplitError::TooLarge { limit: 10 }.to_string(),
        "a JSON value in the stream is larger than 10 bytes"
    );
    assert_eq!(
        SplitError::Truncated { offset: 3 }.to_string(),
        "the stream ends inside a JSON value (at byte 3)"
    );
    assert_eq!(
        SplitError::Unexpected {
            offset: 2,
            byte: b','
        }
        .to_string(),
        "unexpected ',' at byte 2 of the JSON stream"
    );
    assert_eq!(
        SplitError::Unexpected { offset: 0, byte: 0 }.to_string(),
        "unexpected byte 0x00 at byte 0 of the JSON stream"
    );
    assert_eq!(
        BodyValueError::Read("reset".into()).to_string(),
        "reading the request body failed: reset"
    );
    let e = BodyValueError::from(SplitError::Truncated { offset: 1 });
    assert_eq!(
        e.to_string(),
        "the stream ends inside a JSON value (at byte 1)"
    );
    assert!(std::error::Error::source(&e).is_some());
}

fn chunked(parts: &[&'static [u8]]) -> Body {
    let items: Vec<Result<Bytes, Infallible>> =
        parts.iter().map(|p| Ok(Bytes::from_static(p))).collect();
    Body::from_stream(stream::iter(items))
}

fn o(s: &str) -> Result<String, String> {
    Ok(s.to_owned())
}

fn er(s: &str) -> Result<String, String> {
    Err(s.to_owned())
}

async fn collect(body: Body, max: usize) -> Vec<Result<String, String>> {
    body_values(body, max)
        .map(|r| match r {
            Ok(v) => Ok(String::from_utf8(v.to_vec()).unwrap()),
            Err(e) => Err(e.to_string()),
        })
        .collect()
        .await
}

#[tokio::test]
async fn body_values_from_chunks() {
    let body = chunked(&[b"{\"a\":", b"1}\n{\"b\"", b":2}\n", b"", b"3", b"4"]);
    assert_eq!(
        collect(body, BIG).await,
        [o("{\"a\":1}"), o("{\"b\":2}"), o("34")]
    );
    assert_eq!(collect(Body::empty(), BIG).await, Vec::new());
    assert_eq!(
        collect(Body::from("1 2 3"), BIG).await,
        [o("1"), o("2"), o("3")]
    );
}

#[tokio::test]
async fn body_values_errors_end_the_stream() {
    let items: Vec<Result<Bytes, std::io::Error>> = vec![
        Ok(Bytes::from_static(b"{} [1")),
        Ok(Bytes::from_static(b"]\n{")),
        Err(std::io::Error::other("connection reset")),
        Ok(Bytes::from_static(b"}")),
    ];
    let got = collect(Body::from_stream(stream::iter(items)), BIG).await;
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(got[..2], [o("{}"), o("[1]")]);
    let Err(e) = &got[2] else { panic!("{got:?}") };
    assert!(e.contains("connection reset"), "{e}");

    let got = collect(chunked(&[b"{} {", b"}}", b"{}"]), BIG).await;
    assert_eq!(
        got,
        [
            o("{}"),
            o("{}"),
            er("unexpected '}' at byte 5 of the JSON stream")
        ]
    );
    let got = collect(chunked(&[b"[1, 2"]), BIG).await;
    assert_eq!(got, [er("the stream ends inside a JSON value (at byte 5)")]);
    let got = collect(chunked(&[b"[1, 2]", b"[1, 2, 3]"]), 6).await;
    assert_eq!(
        got,
        [
            o("[1, 2]"),
            er("a JSON value in the stream is larger than 6 bytes")
        ]
    );
}

#[tokio::test]
async fn body_values_reads_only_on_demand() {
    let polls = Arc::new(AtomicUsize::new(0));
    let mut parts: std::vec::IntoIter<&'static [u8]> =
        vec![&b"{\"a\":1} {\"b\""[..], b":2} 3", b" 4"].into_iter();
    let counter = polls.clone();
    let source = stream::poll_fn(move |_cx| {
        counter.fetch_add(1, Ordering::SeqCst);
        Poll::Ready(
            parts
                .next()
                .map(|p| Ok::<_, Infallible>(Bytes::from_static(p))),
        )
    });
    let mut values = body_values(Body::from_stream(source), BIG);
    tokio::task::yield_now().await;
    assert_eq!(polls.load(Ordering::SeqCst), 0, "polled before asked");

    let next = |v: Option<Result<Bytes, BodyValueError>>| v.unwrap().unwrap();
    assert_eq!(next(values.next().await), "{\"a\":1}");
    assert_eq!(polls.load(Ordering::SeqCst), 1, "read ahead");
    assert_eq!(next(values.next().await), "{\"b\":2}");
    assert_eq!(polls.load(Ordering::SeqCst), 2);
    // "3" is complete once " 4" arrives; "4" only at the end of the body.
    assert_eq!(next(values.next().await), "3");
    assert_eq!(polls.load(Ordering::SeqCst), 3);
    assert_eq!(next(values.next().await), "4");
    assert_eq!(polls.load(Ordering::SeqCst), 4);
    assert!(values.next().await.is_none());
    assert!(values.next().await.is_none());
    assert_eq!(polls.load(Ordering::SeqCst), 4, "polled after the end");
}

#[test]
fn body_values_is_send() {
    fn assert_send<T: Send + 'static>(_: &T) {}
    assert_send(&body_values(Body::empty(), 1));
}

#[test]
fn lines() {
    assert_eq!(line(b"{\"a\":1}"), Bytes::from_static(b"{\"a\":1}\n"));
    assert_eq!(line(b""), Bytes::from_static(b"\n"));
    // Pretty-printed JSON stays on one line.
    assert_eq!(
        line(b"{\n  \"a\": 1\r\n}"),
        Bytes::from_static(b"{   \"a\": 1  }\n")
    );
    assert_eq!(
        error_line(b"{\"code\":5,\"message\":\"not found\",\"details\":[]}"),
        Bytes::from_static(b"{\"error\":{\"code\":5,\"message\":\"not found\",\"details\":[]}}\n")
    );
    assert_eq!(heartbeat(), Bytes::from_static(b"\n"));
}

#[test]
fn lines_split_back_into_values() {
    let mut out = Vec::new();
    out.extend_from_slice(&line(b"{\"a\":1}"));
    out.extend_from_slice(&heartbeat());
    out.extend_from_slice(&line(b"[2]"));
    out.extend_from_slice(&error_line(b"{\"code\":2}"));
    let (v, e) = split_all(&out, BIG);
    assert_eq!(e, None);
    assert_eq!(
        v,
        [
            b"{\"a\":1}".to_vec(),
            b"[2]".to_vec(),
            b"{\"error\":{\"code\":2}}".to_vec()
        ]
    );
}

/// What a splitter produced, push by push: the values complete after each chunk, then
/// those drained at the end, then the error (with the push it came at).
type Events = (Vec<(usize, Vec<u8>)>, Option<(usize, SplitError)>);

fn events_fast(chunks: &[&[u8]], max: usize) -> Events {
    let mut s = JsonValueSplitter::new(max);
    let mut out = Vec::new();
    for (n, chunk) in chunks.iter().enumerate() {
        s.push(chunk);
        loop {
            match s.next_value() {
                Ok(Some(v)) => out.push((n, v.to_vec())),
                Ok(None) => break,
                Err(e) => return (out, Some((n, e))),
            }
        }
    }
    loop {
        match s.finish() {
            Ok(Some(v)) => out.push((chunks.len(), v.to_vec())),
            Ok(None) => return (out, None),
            Err(e) => return (out, Some((chunks.len(), e))),
        }
    }
}

fn events_reference(chunks: &[&[u8]], max: usize) -> Events {
    let mut s = ReferenceSplitter::new(max);
    let mut out = Vec::new();
    for (n, chunk) in chunks.iter().enumerate() {
        s.push(chunk);
        loop {
            match s.next_value() {
                Ok(Some(v)) => out.push((n, v.to_vec())),
                Ok(None) => break,
                Err(e) => return (out, Some((n, e))),
            }
        }
    }
    loop {
        match s.finish() {
            Ok(Some(v)) => out.push((chunks.len(), v.to_vec())),
            Ok(None) => return (out, None),
            Err(e) => return (out, Some((chunks.len(), e))),
        }
    }
}

/// Random chunk boundaries, from single bytes to the whole input.
fn any_chunks<'a>(r: &mut XorShift, input: &'a [u8]) -> Vec<&'a [u8]> {
    let most = match r.below(4) {
        0 => 1,
        1 => 8,
        2 => 40,
        _ => input.len().max(1),
    };
    let mut chunks = Vec::new();
    let mut rest = input;
    while !rest.is_empty() {
        let n = 1 + r.below(rest.len().min(most));
        let (a, b) = rest.split_at(n);
        chunks.push(a);
        rest = b;
    }
    if r.below(8) == 0 {
        // Empty pushes change nothing.
        chunks.insert(r.below(chunks.len() + 1), b"");
    }
    chunks
}

/// Input that is mostly JSON-shaped, with long strings (the eight-byte scan), escapes
/// at every alignment, stray brackets and separators, BOM bytes and control bytes.
fn gen_mixed(r: &mut XorShift, out: &mut Vec<u8>) {
    let pieces: [&[u8]; 24] = [
        b"{",
        b"}",
        b"[",
        b"]",
        b"\"",
        b"\\",
        b"\\\"",
        b"\\\\",
        b",",
        b":",
        b" ",
        b"\n",
        b"\r\n",
        b"a",
        b"abcdefghijklmno",
        b"12",
        b"true",
        b"\xEF\xBB\xBF",
        b"\0",
        b"\"abcdefgh\\\"ijklmnop\\\\\"",
        b"{\"value\":1}\n",
        b"[1,2,3,{\"x\":[]}]",
        b"\"\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\"",
        b"\"0123456789012345678901234567890\"",
    ];
    for _ in 0..r.below(40) {
        if r.below(3) == 0 {
            gen_value(r, 0, out);
            gen_ws(r, out);
        } else {
            out.extend_from_slice(pieces[r.below(pieces.len())]);
        }
    }
}

#[test]
fn fast_scan_cuts_where_the_reference_does() {
    let mut r = XorShift(0x0123_4567_89AB_CDEF);
    for round in 0..20_000 {
        let mut input = Vec::new();
        if r.below(6) == 0 {
            input.extend_from_slice(&BOM[..1 + r.below(3)]);
        }
        gen_mixed(&mut r, &mut input);
        let max = match r.below(4) {
            0 => r.below(8),
            1 => r.below(64),
            2 => r.below(input.len() + 2),
            _ => BIG,
        };
        let chunks = any_chunks(&mut r, &input);
        assert_eq!(
            events_fast(&chunks, max),
            events_reference(&chunks, max),
            "round {round}, max {max}, chunks {:?}",
            chunks
                .iter()
                .map(|c| String::from_utf8_lossy(c))
                .collect::<Vec<_>>()
        );
    }
}

#[test]
fn fast_scan_matches_the_reference_on_valid_streams() {
    let mut r = XorShift(0x5555_AAAA_1234_4321);
    for _ in 0..3000 {
        let mut input = Vec::new();
        for _ in 0..r.below(10) {
            gen_value(&mut r, 0, &mut input);
            input.push(b'\n');
        }
        let max = if r.below(2) == 0 { BIG } else { r.below(80) };
        let chunks = any_chunks(&mut r, &input);
        assert_eq!(
            events_fast(&chunks, max),
            events_reference(&chunks, max),
            "{:?}",
            String::from_utf8_lossy(&input)
        );
    }
}

#[test]
fn long_strings_at_every_alignment() {
    // A quote or backslash at each position of the eight-byte words, with and without
    // the limit cutting through the string.
    for pad in 0..20 {
        for at in 0..20 {
            for special in [&b"\\\""[..], b"\\\\", b"\\n"] {
                let mut v = vec![b' '; pad];
                v.extend_from_slice(b"[\"");
                v.extend(std::iter::repeat_n(b'x', at));
                v.extend_from_slice(special);
                v.extend(std::iter::repeat_n(b'y', 20 - at));
                v.extend_from_slice(b"\"]\n7 ");
                for max in [BIG, pad + 2 + at, 20, 26, 27, 28] {
                    let chunks: [&[u8]; 1] = [&v];
                    assert_eq!(
                        events_fast(&chunks, max),
                        events_reference(&chunks, max),
                        "{:?} max {max}",
                        String::from_utf8_lossy(&v)
                    );
                }
            }
        }
    }
}

#[test]
fn deep_nesting_past_the_bit_stack() {
    // Containers beyond the 64 kept in bits are kept in a list; closing brackets must
    // match at every depth, and a wrong one is found where the reference finds it.
    let mut r = XorShift(0x7777_1111_2222_3333);
    for _ in 0..2000 {
        let depth = 1 + r.below(150);
        let opens: Vec<u8> = (0..depth)
            .map(|_| if r.below(2) == 0 { b'{' } else { b'[' })
            .collect();
        let mut input = opens.clone();
        if r.below(2) == 0 {
            input.extend_from_slice(b"\"a]}\\\"\"");
        }
        for (n, &open) in opens.iter().enumerate().rev() {
            let mut close = if open == b'{' { b'}' } else { b']' };
            if r.below(200) == 0 {
                close = if close == b'}' { b']' } else { b'}' };
            }
            input.push(close);
            if n % 7 == 0 && r.below(4) == 0 {
                input.extend_from_slice(b" [1,{}] ");
            }
        }
        input.extend_from_slice(b"\n{}\n");
        let max = if r.below(4) == 0 {
            r.below(input.len() + 2)
        } else {
            BIG
        };
        let chunks = any_chunks(&mut r, &input);
        assert_eq!(
            events_fast(&chunks, max),
            events_reference(&chunks, max),
            "{:?}",
            String::from_utf8_lossy(&input)
        );
    }
}

#[test]
fn text_is_kept_with_the_bytes() {
    // The text lent with a value is exactly its bytes; it is there whenever the buffer
    // holds valid UTF-8 (characters split between chunks and invalid bytes included).
    let mut r = XorShift(0x3141_5926_5358_9793);
    let mut with_text = 0;
    for _ in 0..5000 {
        let mut input = Vec::new();
        gen_mixed(&mut r, &mut input);
        if r.below(5) == 0 {
            let at = r.below(input.len() + 1);
            input.insert(at, [0xFF, 0xC3, 0x80][r.below(3)]);
        }
        let chunks = any_chunks(&mut r, &input);
        let mut s = JsonValueSplitter::new(BIG);
        let mut check = |s: &mut JsonValueSplitter, at_eof: bool| {
            while let Ok(Some((from, to))) = s.value_range(at_eof) {
                let bytes = &s.buf.bytes()[from..to];
                match s.text_of(from, to) {
                    Some(text) => {
                        assert_eq!(text.as_bytes(), bytes);
                        with_text += 1;
                    }
                    None => assert!(std::str::from_utf8(s.buf.bytes()).is_err()),
                }
            }
        };
        for chunk in &chunks {
            s.push(chunk);
            check(&mut s, false);
        }
        check(&mut s, true);
    }
    assert!(with_text > 10_000, "{with_text}");
}

#[test]
fn text_comes_back_after_a_split_character() {
    let mut s = JsonValueSplitter::new(BIG);
    // A character split between chunks: the buffer is bytes until the push that
    // completes it (which kept little).
    s.push(b"{\"a\":\"\xC3");
    assert_eq!(s.next_value(), Ok(None));
    assert!(matches!(s.buf, Buffer::Bytes(_)));
    s.push(b"\xA9\"}\n");
    let (from, to) = s.value_range(false).unwrap().unwrap();
    assert_eq!(s.text_of(from, to), Some("{\"a\":\"\u{e9}\"}"));
    // Invalid input stays bytes, and is handed out as such.
    s.push(b"\"\xFF\" 1");
    let (from, to) = s.value_range(false).unwrap().unwrap();
    assert_eq!(
        (s.text_of(from, to), &s.buf.bytes()[from..to]),
        (None, &b"\"\xFF\""[..])
    );
    assert_eq!(s.finish(), Ok(Some(&b"1"[..])));
}
