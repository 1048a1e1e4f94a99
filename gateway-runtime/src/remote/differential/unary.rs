//! The lean unary call against tonic's own unary client.

use bytes::{BufMut, Bytes, BytesMut};
use prost::Message;
use prost_types::Duration;

use super::super::{ErasedCodec, Outgoing, Remote, prepare};
use super::{Answer, METHOD, Seen, answer, flagged, frame, outcome, request, transport};
use crate::gateway::Gateway;

/// Runs `request` through the lean call and through tonic's unary client,
/// asserts that both sent and returned the same, and returns the outcome.
async fn both(
    answer: Answer,
    gateway: &Gateway,
    request: fn() -> tonic::Request<Outgoing>,
) -> (String, String) {
    let lean_seen = Seen::default();
    let lean = Remote::new(transport(answer.clone(), lean_seen.clone()), gateway)
        .unary_erased(request(), METHOD)
        .await;
    let tonic_seen = Seen::default();
    let mut grpc = Remote::new(transport(answer, tonic_seen.clone()), gateway).grpc();
    let tonic = match prepare(&mut grpc, request(), METHOD).await {
        Ok((request, path)) => grpc.unary(request, path, ErasedCodec).await,
        Err(status) => Err(status),
    };
    let (lean, tonic) = (outcome(lean), outcome(tonic));
    assert_eq!(lean, tonic, "what the caller got");
    let lean_seen = lean_seen.lock().unwrap().clone();
    let tonic_seen = tonic_seen.lock().unwrap().clone();
    assert_eq!(lean_seen, tonic_seen, "what the backend got");
    (lean, lean_seen.join("\n"))
}

async fn same(answer: Answer) -> String {
    both(answer, &Gateway::default(), request).await.0
}

#[tokio::test]
async fn the_request_is_what_tonic_sends() {
    let (outcome, seen) = both(
        Answer::ok(vec![frame(&answer().encode_to_vec())]),
        &Gateway::default(),
        request,
    )
    .await;
    assert!(outcome.starts_with("OK [content-type"), "{outcome}");
    // `grpc-timeout` as tonic writes it; the body's size unknown (hyper
    // would otherwise add a `content-length`).
    assert!(seen.starts_with("POST /pkg.Svc/Call HTTP/2.0 pkg.Svc/Call hint=None x-forwarded-for=\"10.0.0.1\" grpc-timeout=\"1500000u\" te=\"trailers\" content-type=\"application/grpc\""), "{seen}");
}

#[tokio::test]
async fn reserved_metadata_is_not_sent() {
    fn annotated() -> tonic::Request<Outgoing> {
        let mut request = request();
        for name in [
            "te",
            "content-type",
            "grpc-status",
            "grpc-message",
            "grpc-message-type",
        ] {
            request.metadata_mut().insert(name, "x".parse().unwrap());
        }
        request
            .metadata_mut()
            .insert("x-after", "1".parse().unwrap());
        request
    }
    let (_, seen) = both(
        Answer::ok(vec![frame(&answer().encode_to_vec())]),
        &Gateway::default(),
        annotated,
    )
    .await;
    assert!(!seen.contains("=\"x\""), "{seen}");
}

#[tokio::test]
async fn a_request_over_the_encoding_limit_fails_its_body() {
    let gateway = Gateway::builder().max_encoding_message_size(2).build();
    let (outcome, _) = both(
        Answer::ok(vec![frame(&answer().encode_to_vec())]),
        &gateway,
        request,
    )
    .await;
    assert!(outcome.starts_with("OutOfRange"), "{outcome}");
}

#[tokio::test]
async fn a_trailers_only_error() {
    let outcome = same(Answer {
        status: 200,
        headers: vec![
            ("content-type", "application/grpc"),
            ("grpc-status", "5"),
            ("grpc-message", "no%20such%20thing"),
            ("x-why", "gone"),
        ],
        data: vec![],
        trailers: None,
    })
    .await;
    assert!(
        outcome.starts_with("NotFound \"no such thing\""),
        "{outcome}"
    );
    assert!(outcome.contains("x-why"), "{outcome}");
}

#[tokio::test]
async fn a_trailers_only_ok_without_a_message() {
    let mut answer = Answer::ok(vec![]);
    answer.headers.push(("grpc-status", "0"));
    answer.trailers = None;
    assert!(
        same(answer)
            .await
            .starts_with("Internal \"Missing response message.\"")
    );
}

#[tokio::test]
async fn a_trailers_only_ok_has_tonics_default_limit() {
    let mut answer = Answer::ok(vec![frame(&self::answer().encode_to_vec())]);
    answer.headers.push(("grpc-status", "0"));
    let gateway = Gateway::builder().max_decoding_message_size(2).build();
    let (outcome, _) = both(answer, &gateway, request).await;
    assert!(outcome.starts_with("OK"), "{outcome}");
}

#[tokio::test]
async fn http_statuses_without_grpc_status() {
    for status in [400, 401, 403, 404, 429, 500, 502, 503, 504] {
        let outcome = same(Answer {
            status,
            headers: vec![],
            data: vec![],
            trailers: None,
        })
        .await;
        assert!(
            outcome.contains(&format!("HTTP status code {status}")),
            "{outcome}"
        );
    }
}

#[tokio::test]
async fn a_non_grpc_body() {
    let outcome = same(Answer {
        status: 404,
        headers: vec![("content-type", "text/html")],
        data: vec![Bytes::from_static(b"<html>not here</html>")],
        trailers: None,
    })
    .await;
    assert!(
        outcome.contains("invalid compression flag: 60"),
        "{outcome}"
    );
    assert!(outcome.contains("404 Not Found"), "{outcome}");
}

#[tokio::test]
async fn a_message_over_several_frames() {
    let whole = frame(&answer().encode_to_vec());
    let pieces = vec![
        whole.slice(..2),
        Bytes::new(),
        whole.slice(2..6),
        whole.slice(6..),
    ];
    let outcome = same(Answer::ok(pieces)).await;
    assert!(outcome.starts_with("OK"), "{outcome}");
    assert_eq!(outcome, same(Answer::ok(vec![whole])).await);
}

#[tokio::test]
async fn a_second_message_is_dropped() {
    let first = frame(&answer().encode_to_vec());
    let second = frame(&[0xff, 0xff]);
    let mut both_in_one = BytesMut::new();
    both_in_one.put_slice(&first);
    both_in_one.put_slice(&second);
    let outcome = same(Answer::ok(vec![both_in_one.freeze()])).await;
    assert!(outcome.starts_with("OK"), "{outcome}");
    let outcome = same(Answer::ok(vec![first.clone(), second])).await;
    assert!(outcome.starts_with("OK"), "{outcome}");
    // ... but checked: a compressed second message fails the call.
    let outcome = same(Answer::ok(vec![first, flagged(1, b"zz")])).await;
    assert!(outcome.starts_with("Internal"), "{outcome}");
}

#[tokio::test]
async fn a_missing_grpc_status() {
    let mut answer = Answer::ok(vec![frame(&self::answer().encode_to_vec())]);
    answer.trailers = None;
    assert!(same(answer.clone()).await.starts_with("Unknown"));
    answer.trailers = Some(vec![("x-done", "yes")]);
    assert!(same(answer).await.starts_with("Unknown"));
}

#[tokio::test]
async fn an_error_status_in_the_trailers() {
    let mut answer = Answer::ok(vec![]);
    answer.headers.push(("x-head", "1"));
    answer.trailers = Some(vec![
        ("grpc-status", "7"),
        ("grpc-message", "nope"),
        ("grpc-status-details-bin", "AQID"),
        ("x-trailer", "2"),
    ]);
    let outcome = same(answer).await;
    assert!(
        outcome.starts_with("PermissionDenied \"nope\" [1, 2, 3]"),
        "{outcome}"
    );
    assert!(
        outcome.contains("x-head") && outcome.contains("x-trailer"),
        "{outcome}"
    );
}

#[tokio::test]
async fn an_error_status_after_the_message() {
    let mut answer = Answer::ok(vec![frame(&self::answer().encode_to_vec())]);
    answer.headers.push(("x-head", "1"));
    answer.trailers = Some(vec![("grpc-status", "14"), ("x-trailer", "2")]);
    let outcome = same(answer).await;
    // Read after the answer: without the headers.
    assert!(outcome.starts_with("Unavailable"), "{outcome}");
    assert!(!outcome.contains("x-head"), "{outcome}");
}

#[tokio::test]
async fn compressed_answers() {
    let compressed = flagged(1, &answer().encode_to_vec());
    let outcome = same(Answer::ok(vec![compressed])).await;
    assert!(
        outcome.contains("compressed-flag but no grpc-encoding"),
        "{outcome}"
    );
    let mut answer = Answer::ok(vec![frame(&self::answer().encode_to_vec())]);
    answer.headers.push(("grpc-encoding", "gzip"));
    let outcome = same(answer.clone()).await;
    assert!(outcome.starts_with("Unimplemented"), "{outcome}");
    answer.headers.pop();
    answer.headers.push(("grpc-encoding", "identity"));
    assert!(same(answer).await.starts_with("OK"));
}

#[tokio::test]
async fn the_decoding_limit() {
    let big = Duration {
        seconds: i64::MAX,
        nanos: 1,
    };
    let gateway = Gateway::builder().max_decoding_message_size(4).build();
    let (outcome, _) = both(
        Answer::ok(vec![frame(&big.encode_to_vec())]),
        &gateway,
        request,
    )
    .await;
    assert!(outcome.starts_with("OutOfRange"), "{outcome}");
}

#[tokio::test]
async fn the_decoding_limit_at_its_edge() {
    // `answer()` is 4 bytes: accepted at a limit of 4, refused at 3.
    assert_eq!(answer().encoded_len(), 4);
    let ok = Answer::ok(vec![frame(&answer().encode_to_vec())]);
    let at = Gateway::builder().max_decoding_message_size(4).build();
    let (outcome, _) = both(ok.clone(), &at, request).await;
    assert!(outcome.starts_with("OK ["), "{outcome}");
    let under = Gateway::builder().max_decoding_message_size(3).build();
    let (outcome, _) = both(ok, &under, request).await;
    assert!(
        outcome.starts_with("OutOfRange \"Error, decoded message length too large: found 4 bytes, the limit is: 3 bytes\""),
        "{outcome}"
    );
}

#[tokio::test]
async fn an_empty_message() {
    let outcome = same(Answer::ok(vec![frame(b"")])).await;
    assert!(
        outcome.starts_with("OK [") && outcome.ends_with("b\"\""),
        "{outcome}"
    );
}

#[tokio::test]
async fn an_unfinished_frame() {
    let whole = frame(&answer().encode_to_vec());
    let mut answer = Answer::ok(vec![whole.slice(..4)]);
    answer.trailers = None;
    assert!(same(answer.clone()).await.contains("Unexpected EOF"));
    answer.data = vec![whole.slice(..7)];
    assert!(same(answer.clone()).await.contains("Unexpected EOF"));
    // Trailers end the body whatever was left.
    answer.trailers = Some(vec![("grpc-status", "0")]);
    assert!(same(answer).await.contains("Missing response message"));
}

#[tokio::test]
async fn headers_and_trailers_merge() {
    let answer = Answer {
        status: 200,
        headers: vec![
            ("content-type", "application/grpc"),
            ("x-both", "header"),
            ("x-both", "header-2"),
            ("x-head", "1"),
        ],
        data: vec![frame(&self::answer().encode_to_vec())],
        trailers: Some(vec![
            ("x-both", "trailer"),
            ("grpc-status", "0"),
            ("x-both", "trailer-2"),
            ("x-tail", "2"),
        ]),
    };
    let outcome = same(answer).await;
    assert!(
        outcome.starts_with("OK [content-type=\"application/grpc\" x-both=\"trailer\" x-both=\"trailer-2\" x-head=\"1\" grpc-status=\"0\" x-tail=\"2\"]"),
        "{outcome}"
    );
}

#[tokio::test]
async fn a_transport_that_is_not_ready() {
    #[derive(Clone)]
    struct Broken;
    impl tower::Service<http::Request<tonic::body::Body>> for Broken {
        type Response = http::Response<tonic::body::Body>;
        type Error = std::io::Error;
        type Future = std::future::Ready<Result<Self::Response, Self::Error>>;
        fn poll_ready(
            &mut self,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Result<(), Self::Error>> {
            std::task::Poll::Ready(Err(std::io::Error::other("down")))
        }
        fn call(&mut self, _: http::Request<tonic::body::Body>) -> Self::Future {
            unreachable!()
        }
    }
    let status = Remote::new(Broken, &Gateway::default())
        .unary_erased(request(), METHOD)
        .await
        .unwrap_err();
    assert_eq!(
        (status.code(), status.message()),
        (tonic::Code::Unknown, "Service was not ready: down")
    );
}

#[tokio::test]
async fn an_ok_status_with_a_message() {
    let mut answer = Answer::ok(vec![frame(&self::answer().encode_to_vec())]);
    answer.trailers = Some(vec![("grpc-status", "0"), ("grpc-message", "fine")]);
    assert!(same(answer.clone()).await.starts_with("OK"));
    // Not UTF-8 once decoded: tonic makes the status Unknown.
    answer.trailers = Some(vec![("grpc-status", "0"), ("grpc-message", "%FF")]);
    assert!(same(answer.clone()).await.starts_with("Unknown"));
    answer.trailers = Some(vec![("grpc-status", "00")]);
    same(answer).await;
}
