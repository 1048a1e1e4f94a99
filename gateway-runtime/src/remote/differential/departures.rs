//! Where the calls made on the transport depart from tonic 0.14 on purpose
//! (docs/migrating.md): each test shows what the gateway does, and where
//! tonic can run the case, what tonic does instead.

use prost::Message;
use prost_types::Duration;

use super::super::{ErasedCodec, Remote, prepare};
use super::{Answer, METHOD, Seen, answer, frame, outcome, request, transport};
use crate::gateway::Gateway;
use crate::streaming::RequestStream;

/// The lean unary call and tonic's over the same answer, as text.
async fn unary_both(answer: Answer) -> (String, String) {
    let gateway = Gateway::default();
    let lean = Remote::new(transport(answer.clone(), Seen::default()), &gateway)
        .unary_erased(request(), METHOD)
        .await;
    let mut grpc = Remote::new(transport(answer, Seen::default()), &gateway).grpc();
    let (tonic_request, path) = prepare(&mut grpc, request(), METHOD).await.unwrap();
    let tonic = grpc.unary(tonic_request, path, ErasedCodec).await;
    (outcome(lean), outcome(tonic))
}

/// The lean server stream over `answer`, read to its end, as text.
async fn server_stream(answer: Answer) -> String {
    let called = Remote::new(transport(answer, Seen::default()), &Gateway::default())
        .server_streaming_erased(request(), METHOD)
        .await;
    let mut messages = match called {
        Ok(response) => response.into_inner(),
        Err(status) => return format!("call failed: {:?} {:?}", status.code(), status.message()),
    };
    let mut text = String::from("OK");
    while let Some(next) = std::future::poll_fn(|cx| messages.poll_message(cx)).await {
        match next {
            Ok(bytes) => text.push_str(&format!(" message={bytes:?}")),
            Err(status) => {
                text.push_str(&format!(
                    " error={:?} {:?}",
                    status.code(),
                    status.message()
                ));
                break;
            }
        }
    }
    text
}

/// A body that ends right after a frame's 5-byte prefix has lost the
/// message the prefix announced. tonic takes the prefix off its buffer
/// before the message arrives, finds nothing left at the end, and goes on
/// as if the body had ended between frames: a missing status, or, after a
/// trailers-only OK, no message (a unary call then fails for want of one,
/// a server stream ends well without it). The gateway fails the call as a
/// cut frame, as it does when any part of the message has arrived.
#[tokio::test]
async fn a_body_cut_after_a_frames_prefix_is_a_cut_frame() {
    let whole = frame(&answer().encode_to_vec());
    let mut cut = Answer::ok(vec![whole.slice(..5)]);
    cut.trailers = None;
    let (lean, tonic) = unary_both(cut.clone()).await;
    assert_eq!(
        lean, "Internal \"Unexpected EOF decoding stream.\" [] [content-type=\"application/grpc\"]",
        "{lean}"
    );
    assert!(
        tonic.starts_with("Unknown \"protocol error: missing grpc-status"),
        "{tonic}"
    );
    let stream = server_stream(cut.clone()).await;
    assert_eq!(
        stream, "OK error=Internal \"Unexpected EOF decoding stream.\"",
        "{stream}"
    );

    // After a trailers-only OK: tonic reports success without the message.
    let mut trailers_only = cut;
    trailers_only.headers.push(("grpc-status", "0"));
    let (lean, tonic) = unary_both(trailers_only.clone()).await;
    assert!(lean.starts_with("Internal \"Unexpected EOF"), "{lean}");
    assert!(
        tonic.starts_with("Internal \"Missing response message.\""),
        "{tonic}"
    );
    let stream = server_stream(trailers_only.clone()).await;
    assert_eq!(
        stream, "OK error=Internal \"Unexpected EOF decoding stream.\"",
        "{stream}"
    );
    let mut grpc = Remote::new(
        transport(trailers_only, Seen::default()),
        &Gateway::default(),
    )
    .grpc();
    let (tonic_request, path) = prepare(&mut grpc, request(), METHOD).await.unwrap();
    let mut tonic = grpc
        .server_streaming(tonic_request, path, ErasedCodec)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(tonic.message().await.unwrap(), None);
}

const NOT_BASE64: &str = "not base64!";

/// The status the gateway makes of a backend's `grpc-status: 5` whose
/// details are not base64 (tonic panics on it).
const MALFORMED: &str = "protocol error: grpc-status-details-bin is not base64 (the backend's grpc-status 5, grpc-message \"gone away\")";

fn with_malformed_details(mut answer: Answer, in_headers: bool) -> Answer {
    let status = vec![
        ("grpc-status", "5"),
        ("grpc-message", "gone%20away"),
        ("grpc-status-details-bin", NOT_BASE64),
        ("x-kept", "yes"),
    ];
    if in_headers {
        answer.headers.extend(status);
        answer.trailers = None;
    } else {
        answer.trailers = Some(status);
    }
    answer
}

#[tokio::test]
async fn details_that_are_not_base64_end_a_unary_call_with_internal() {
    for in_headers in [false, true] {
        let answer = with_malformed_details(
            Answer::ok(vec![frame(&answer().encode_to_vec())]),
            in_headers,
        );
        let result = Remote::new(transport(answer, Seen::default()), &Gateway::default())
            .unary_erased(request(), METHOD)
            .await;
        let status = result.unwrap_err();
        assert_eq!(status.code(), tonic::Code::Internal);
        assert_eq!(status.message(), MALFORMED);
    }
}

#[tokio::test]
async fn details_that_are_not_base64_end_a_server_stream_with_internal() {
    let message = frame(&answer().encode_to_vec());
    let in_trailers = with_malformed_details(Answer::ok(vec![message.clone()]), false);
    assert_eq!(
        server_stream(in_trailers).await,
        format!(
            "OK message={:?} error=Internal {MALFORMED:?}",
            message.slice(5..)
        )
    );
    let in_headers = with_malformed_details(Answer::ok(vec![]), true);
    assert_eq!(
        server_stream(in_headers).await,
        format!("call failed: Internal {MALFORMED:?}")
    );
}

/// Client and bidi streams go through tonic's client core, over a
/// transport whose responses are checked first.
#[tokio::test]
async fn details_that_are_not_base64_end_tonics_streams_with_internal() {
    let requests = || {
        RequestStream::new(futures_util::stream::iter(vec![Duration {
            seconds: 1,
            nanos: 0,
        }]))
    };
    let reply = frame(&answer().encode_to_vec());
    for in_headers in [false, true] {
        let answer = with_malformed_details(Answer::ok(vec![reply.clone()]), in_headers);
        let remote = || {
            Remote::new(
                transport(answer.clone(), Seen::default()),
                &Gateway::default(),
            )
        };

        let status = remote()
            .client_streaming::<_, Duration>(tonic::Request::new(requests()), METHOD)
            .await
            .unwrap_err();
        assert_eq!(
            (status.code(), status.message()),
            (tonic::Code::Internal, MALFORMED)
        );

        let called = remote()
            .streaming::<_, Duration>(tonic::Request::new(requests()), METHOD)
            .await;
        let status = match called {
            Err(status) => {
                assert!(in_headers, "a trailers-only answer fails the call");
                status
            }
            Ok(response) => {
                let mut stream = response.into_inner();
                assert_eq!(stream.message().await.unwrap(), Some(super::answer()));
                stream.message().await.unwrap_err()
            }
        };
        assert_eq!(
            (status.code(), status.message()),
            (tonic::Code::Internal, MALFORMED)
        );
        // The backend's other metadata is kept.
        assert_eq!(status.metadata().get("x-kept").unwrap(), "yes");
    }
}

/// Well-formed details, padded or not, are the backend's status as tonic
/// reads it.
#[tokio::test]
async fn base64_details_are_kept() {
    for details in ["AQID", "AQI=", "AQI"] {
        let answer = Answer {
            trailers: Some(vec![
                ("grpc-status", "5"),
                ("grpc-status-details-bin", details),
            ]),
            ..Answer::ok(vec![frame(&answer().encode_to_vec())])
        };
        let status = Remote::new(
            transport(answer.clone(), Seen::default()),
            &Gateway::default(),
        )
        .unary_erased(request(), METHOD)
        .await
        .unwrap_err();
        assert_eq!(status.code(), tonic::Code::NotFound);
        let want: &[u8] = if details == "AQID" {
            &[1, 2, 3]
        } else {
            &[1, 2]
        };
        assert_eq!(status.details(), want);
        let status = Remote::new(transport(answer, Seen::default()), &Gateway::default())
            .client_streaming::<_, Duration>(
                tonic::Request::new(RequestStream::new(futures_util::stream::empty::<Duration>())),
                METHOD,
            )
            .await
            .unwrap_err();
        assert_eq!(
            (status.code(), status.details()),
            (tonic::Code::NotFound, want)
        );
    }
}
