//! The lean server stream against tonic's `Grpc::server_streaming`: the
//! request sent, the response's metadata, every message or error in turn,
//! a poll after the end, and the trailers.

use bytes::{BufMut, Bytes, BytesMut};
use futures_util::StreamExt;
use prost::Message;
use prost_types::Duration;

use super::super::{ErasedCodec, Messages, Remote, prepare};
use super::{Answer, METHOD, Seen, flagged, frame, metadata, request, transport};
use crate::gateway::Gateway;

fn message(seconds: i64) -> Bytes {
    frame(&Duration { seconds, nanos: 0 }.encode_to_vec())
}

/// A status as text.
fn status(status: &tonic::Status) -> String {
    format!(
        "{:?} {:?} {:?} [{}]",
        status.code(),
        status.message(),
        status.details(),
        metadata(status.metadata())
    )
}

/// What the caller of a stream sees, read to its end: the metadata, each
/// message or error, one more read after the end, then the trailers.
trait Reader {
    async fn next(&mut self) -> Option<Result<Bytes, tonic::Status>>;
    async fn trailers(&mut self) -> Result<Option<tonic::metadata::MetadataMap>, tonic::Status>;
}

impl Reader for Messages {
    async fn next(&mut self) -> Option<Result<Bytes, tonic::Status>> {
        std::future::poll_fn(|cx| self.poll_message(cx)).await
    }
    async fn trailers(&mut self) -> Result<Option<tonic::metadata::MetadataMap>, tonic::Status> {
        Messages::trailers(self).await
    }
}

impl Reader for tonic::Streaming<Bytes> {
    async fn next(&mut self) -> Option<Result<Bytes, tonic::Status>> {
        StreamExt::next(self).await
    }
    async fn trailers(&mut self) -> Result<Option<tonic::metadata::MetadataMap>, tonic::Status> {
        tonic::Streaming::trailers(self).await
    }
}

async fn read<R: Reader>(
    result: Result<tonic::Response<R>, tonic::Status>,
    trailers_first: bool,
) -> String {
    let response = match result {
        Ok(response) => response,
        Err(e) => return format!("call failed: {}", status(&e)),
    };
    let (meta, mut stream, _) = response.into_parts();
    let mut text = format!("OK [{}]", metadata(&meta));
    if !trailers_first {
        loop {
            match stream.next().await {
                Some(Ok(bytes)) => text.push_str(&format!(" message={bytes:?}")),
                // tonic's `Streaming` goes on reading after an error of a
                // frame (the next bytes then read as frames); the gateway
                // stops at the first error: only that far is compared.
                Some(Err(e)) => {
                    text.push_str(&format!(" error={}", status(&e)));
                    return text;
                }
                None => break,
            }
        }
        text.push_str(&format!(" then={:?}", stream.next().await.is_some()));
    }
    match stream.trailers().await {
        Ok(trailers) => text.push_str(&format!(" trailers={:?}", trailers.as_ref().map(metadata))),
        Err(e) => text.push_str(&format!(" trailers-error={}", status(&e))),
    }
    text
}

/// Runs the call through the lean stream and through tonic's, asserts that
/// both sent and returned the same, and returns what the caller saw.
async fn both_read(answer: Answer, gateway: &Gateway, trailers_first: bool) -> String {
    let lean_seen = Seen::default();
    let lean = Remote::new(transport(answer.clone(), lean_seen.clone()), gateway)
        .server_streaming_erased(request(), METHOD)
        .await;
    let lean = read(lean, trailers_first).await;
    let tonic_seen = Seen::default();
    let mut grpc = Remote::new(transport(answer, tonic_seen.clone()), gateway).grpc();
    let tonic = match prepare(&mut grpc, request(), METHOD).await {
        Ok((request, path)) => grpc.server_streaming(request, path, ErasedCodec).await,
        Err(status) => Err(status),
    };
    let tonic = read(tonic, trailers_first).await;
    assert_eq!(lean, tonic, "what the caller got");
    let lean_seen = lean_seen.lock().unwrap().clone();
    let tonic_seen = tonic_seen.lock().unwrap().clone();
    assert_eq!(lean_seen, tonic_seen, "what the backend got");
    lean
}

async fn same(answer: Answer) -> String {
    let read_to_end = both_read(answer.clone(), &Gateway::default(), false).await;
    both_read(answer, &Gateway::default(), true).await;
    read_to_end
}

#[tokio::test]
async fn messages_then_trailers() {
    let outcome = same(Answer::ok(vec![message(1), message(2), message(3)])).await;
    assert_eq!(outcome.matches(" message=").count(), 3, "{outcome}");
    assert!(
        outcome.ends_with("then=false trailers=Some(\"grpc-status=\\\"0\\\" x-done=\\\"yes\\\"\")"),
        "{outcome}"
    );
}

#[tokio::test]
async fn no_messages() {
    let outcome = same(Answer::ok(vec![])).await;
    assert!(!outcome.contains("message="), "{outcome}");
}

#[tokio::test]
async fn messages_split_and_joined_across_data_frames() {
    let (one, two) = (message(1), message(2));
    let mut joined = BytesMut::new();
    joined.put_slice(&one);
    joined.put_slice(&two);
    let joined = joined.freeze();
    let pieces = vec![
        joined.slice(..3),
        Bytes::new(),
        joined.slice(3..one.len() + 2),
        joined.slice(one.len() + 2..),
        message(3),
    ];
    let outcome = same(Answer::ok(pieces)).await;
    assert_eq!(outcome.matches(" message=").count(), 3, "{outcome}");
    assert_eq!(
        outcome,
        same(Answer::ok(vec![message(1), message(2), message(3)])).await
    );
}

#[tokio::test]
async fn an_error_status_after_messages() {
    let mut answer = Answer::ok(vec![message(1)]);
    answer.headers.push(("x-head", "1"));
    answer.trailers = Some(vec![
        ("grpc-status", "7"),
        ("grpc-message", "nope"),
        ("grpc-status-details-bin", "AQID"),
        ("x-trailer", "2"),
    ]);
    let outcome = same(answer).await;
    assert!(
        outcome.contains(" message=")
            && outcome.contains("error=PermissionDenied \"nope\" [1, 2, 3]"),
        "{outcome}"
    );
    // The status carries the trailers as its metadata.
    assert!(outcome.ends_with("[x-trailer=\"2\"]"), "{outcome}");
}

#[tokio::test]
async fn a_trailers_only_error_fails_the_call() {
    let outcome = same(Answer {
        status: 200,
        headers: vec![
            ("content-type", "application/grpc"),
            ("grpc-status", "5"),
            ("grpc-message", "no%20such%20thing"),
        ],
        data: vec![],
        trailers: None,
    })
    .await;
    assert!(
        outcome.starts_with("call failed: NotFound \"no such thing\""),
        "{outcome}"
    );
}

#[tokio::test]
async fn a_trailers_only_ok_reads_the_body_with_tonics_default_limit() {
    let mut answer = Answer::ok(vec![message(i64::MAX)]);
    answer.headers.push(("grpc-status", "0"));
    answer.trailers = None;
    let gateway = Gateway::builder().max_decoding_message_size(2).build();
    let outcome = both_read(answer, &gateway, false).await;
    assert_eq!(outcome.matches(" message=").count(), 1, "{outcome}");
}

#[tokio::test]
async fn the_decoding_limit() {
    let gateway = Gateway::builder().max_decoding_message_size(4).build();
    let outcome = both_read(
        Answer::ok(vec![message(1), message(i64::MAX)]),
        &gateway,
        false,
    )
    .await;
    assert!(
        outcome.contains(" message=") && outcome.contains("error=OutOfRange"),
        "{outcome}"
    );
}

#[tokio::test]
async fn the_decoding_limit_at_its_edge() {
    // `message(1)` carries 2 bytes, `message(300)` 3: at a limit of 2 the
    // first is read and the second refused.
    let gateway = Gateway::builder().max_decoding_message_size(2).build();
    let outcome = both_read(Answer::ok(vec![message(1), message(300)]), &gateway, false).await;
    assert!(
        outcome.starts_with("OK [content-type=\"application/grpc\"] message=b\"\\x08\\x01\" error=OutOfRange \"Error, decoded message length too large: found 3 bytes, the limit is: 2 bytes\""),
        "{outcome}"
    );
}

#[tokio::test]
async fn empty_messages() {
    let outcome = same(Answer::ok(vec![frame(b""), message(1), frame(b"")])).await;
    assert_eq!(outcome.matches(" message=b\"\"").count(), 2, "{outcome}");
    assert!(outcome.contains("then=false"), "{outcome}");
}

#[tokio::test]
async fn bad_frames() {
    let outcome = same(Answer::ok(vec![message(1), flagged(1, b"zz")])).await;
    assert!(
        outcome.contains("compressed-flag but no grpc-encoding"),
        "{outcome}"
    );
    let outcome = same(Answer {
        status: 404,
        headers: vec![("content-type", "text/html")],
        data: vec![Bytes::from_static(b"<html>not here</html>")],
        trailers: None,
    })
    .await;
    assert!(
        outcome.contains("invalid compression flag: 60") && outcome.contains("404 Not Found"),
        "{outcome}"
    );
}

#[tokio::test]
async fn a_stream_ends_after_its_error() {
    let mut failed = Answer::ok(vec![message(1)]);
    failed.trailers = Some(vec![("grpc-status", "7"), ("x-trailer", "2")]);
    let answers = [
        Answer::ok(vec![message(1), flagged(1, b"zz"), message(2)]),
        failed,
    ];
    for answer in answers {
        let remote = Remote::new(transport(answer, Seen::default()), &Gateway::default());
        let mut messages = remote
            .server_streaming_erased(request(), METHOD)
            .await
            .unwrap()
            .into_inner();
        assert!(messages.next().await.unwrap().is_ok());
        assert!(messages.next().await.unwrap().is_err());
        assert!(messages.next().await.is_none());
        // Nor are the trailers of a failed call kept.
        assert!(Reader::trailers(&mut messages).await.unwrap().is_none());
    }
}

#[tokio::test]
async fn a_compressed_response_is_refused() {
    let mut answer = Answer::ok(vec![message(1)]);
    answer.headers.push(("grpc-encoding", "gzip"));
    let outcome = same(answer.clone()).await;
    assert!(
        outcome.starts_with("call failed: Unimplemented"),
        "{outcome}"
    );
    answer.headers.pop();
    answer.headers.push(("grpc-encoding", "identity"));
    assert!(same(answer).await.contains(" message="));
}

#[tokio::test]
async fn an_unfinished_frame_or_a_missing_status() {
    let whole = message(1);
    let mut answer = Answer::ok(vec![message(2), whole.slice(..6)]);
    answer.trailers = None;
    let outcome = same(answer.clone()).await;
    assert!(outcome.contains("Unexpected EOF"), "{outcome}");
    answer.data = vec![message(2)];
    let outcome = same(answer.clone()).await;
    assert!(outcome.contains("error=Unknown"), "{outcome}");
    answer.trailers = Some(vec![("x-done", "yes")]);
    let outcome = same(answer.clone()).await;
    assert!(outcome.contains("error=Unknown"), "{outcome}");
    for status in [400, 401, 403, 404, 429, 502, 503, 504, 500] {
        answer.status = status;
        let outcome = same(answer.clone()).await;
        assert!(
            outcome.contains(&format!("HTTP status code {status}")),
            "{outcome}"
        );
    }
}

#[tokio::test]
async fn an_ok_status_with_a_message() {
    let mut answer = Answer::ok(vec![message(1)]);
    answer.trailers = Some(vec![("grpc-status", "0"), ("grpc-message", "fine")]);
    assert!(same(answer.clone()).await.contains("trailers=Some"));
    // Not UTF-8 once decoded: tonic makes the status Unknown.
    answer.trailers = Some(vec![("grpc-status", "0"), ("grpc-message", "%FF")]);
    assert!(same(answer).await.contains("error=Unknown"));
}

#[tokio::test]
async fn the_request_is_what_tonic_sends() {
    let lean_seen = Seen::default();
    Remote::new(
        transport(Answer::ok(vec![]), lean_seen.clone()),
        &Gateway::default(),
    )
    .server_streaming_erased(request(), METHOD)
    .await
    .unwrap();
    let seen = lean_seen.lock().unwrap().join("\n");
    // The same as tonic's (checked by every case above), spelled out once.
    assert!(seen.starts_with("POST /pkg.Svc/Call HTTP/2.0 pkg.Svc/Call hint=None x-forwarded-for=\"10.0.0.1\" grpc-timeout=\"1500000u\" te=\"trailers\" content-type=\"application/grpc\""), "{seen}");
    let gateway = Gateway::builder().max_encoding_message_size(2).build();
    let outcome = both_read(Answer::ok(vec![message(1)]), &gateway, false).await;
    assert!(outcome.starts_with("call failed: OutOfRange"), "{outcome}");
}

#[tokio::test]
async fn a_waiting_stream_holds_no_data_frame() {
    // Two messages in one data frame: once both are read, the frame's
    // buffer is held by nothing in the stream.
    let mut joined = BytesMut::new();
    joined.put_slice(&message(1));
    joined.put_slice(&message(2));
    let joined = joined.freeze();
    let probe = joined.clone();
    let frames =
        futures_util::stream::iter([Ok::<_, tonic::Status>(http_body::Frame::data(joined))])
            .chain(futures_util::stream::pending());
    let body = http_body_util::StreamBody::new(frames);
    let mut response = http::Response::new(tonic::body::Body::new(body));
    response.headers_mut().insert(
        "content-type",
        http::HeaderValue::from_static("application/grpc"),
    );
    let mut messages = Messages::open(response, 1024).unwrap().into_inner();
    for _ in 0..2 {
        let next = std::future::poll_fn(|cx| messages.poll_message(cx)).await;
        drop(next.unwrap().unwrap());
    }
    // Waiting for the next frame now.
    let waker = futures_util::task::noop_waker();
    let mut cx = std::task::Context::from_waker(&waker);
    assert!(messages.poll_message(&mut cx).is_pending());
    // Only `probe` is left of the frame's buffer: it is unique again.
    assert!(probe.is_unique(), "the stream still holds the data frame");
}
