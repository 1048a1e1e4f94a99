//! Streaming end to end: SSE, chunked (NDJSON) and WebSocket for server,
//! client and bidi streaming, over real loopback connections, against a
//! real tonic streaming service (remote and in-process).

mod common;

use std::time::Duration;

use common::{Backend, Env, next_text};
use futures_util::{SinkExt, StreamExt};
use gateway_e2e::streaming::record;
use gateway_runtime::Gateway;
use gateway_runtime::streaming::{OriginPolicy, SseConfig, WebSocketConfig};
use tokio_tungstenite::tungstenite::{self, Message, client::IntoClientRequest};

const EOS: &str = "id: EOS\nevent: EOS\ndata: \n\n";

/// Headers wait for the first message up to a minute: a call that fails at
/// once fails before that on any machine, however busy, so its HTTP status
/// does not depend on load (the default 250 ms could pass first).
fn patient() -> Gateway {
    Gateway::builder()
        .first_message_wait(Duration::from_secs(60))
        .build()
}

fn ws_gateway() -> Gateway {
    Gateway::builder()
        .websocket(WebSocketConfig::default())
        .build()
}

fn event(index: i32, kind: &str) -> String {
    format!(
        "data: {{\"index\":{index},\"id\":\"c{index}\",\"kind\":\"{kind}\",\"lastEventId\":\"\"}}\n\n"
    )
}

fn line(index: i32, kind: &str) -> String {
    format!("{{\"index\":{index},\"id\":\"c{index}\",\"kind\":\"{kind}\",\"lastEventId\":\"\"}}\n")
}

// ---------------------------------------------------------------- SSE

both_backends!(sse_frames_and_end_of_stream, Gateway::default(), |env| {
    let (status, headers, body) = env
        .send(
            "GET",
            "/streaming/server/generate?count=3",
            None,
            &[("Accept", "text/event-stream")],
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "text/event-stream");
    assert_eq!(headers["cache-control"], "no-cache");
    assert_eq!(headers["x-accel-buffering"], "no");
    assert_eq!(
        body,
        format!(
            "{}{}{}{EOS}",
            event(0, "even"),
            event(1, "odd"),
            event(2, "even")
        )
    );
});

both_backends!(
    sse_accept_in_any_position_and_case,
    Gateway::default(),
    |env| {
        let (status, headers, body) = env
            .send(
                "GET",
                "/streaming/server/generate?count=1",
                None,
                &[("Accept", "application/json, TEXT/EVENT-STREAM;q=0.9")],
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(headers["content-type"], "text/event-stream");
        assert_eq!(body, format!("{}{EOS}", event(0, "even")));
    }
);

both_backends!(sse_error_after_the_first_event, Gateway::default(), |env| {
    let (status, _, body) = env
        .send(
            "GET",
            "/streaming/server/generate?count=5&failAfter=2&failCode=5",
            None,
            &[("Accept", "text/event-stream")],
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        format!(
            "{}{}event: failure\ndata: {{\"code\":5,\"message\":\"failed after 2 messages\",\"details\":[]}}\n\n",
            event(0, "even"),
            event(1, "odd")
        )
    );
});

both_backends!(
    sse_error_before_the_first_event_is_an_http_error,
    patient(),
    |env| {
        let (status, headers, body) = env
            .send(
                "GET",
                "/streaming/server/generate?count=5&failAfter=-1&failCode=7",
                None,
                &[("Accept", "text/event-stream")],
            )
            .await;
        assert_eq!(status, 403);
        assert_eq!(headers["content-type"], "application/json");
        assert_eq!(
            body,
            r#"{"code":7,"message":"failed before the first message","details":[]}"#
        );
    }
);

both_backends!(
    sse_ids_event_names_retry_and_resume,
    Gateway::builder()
        .sse(
            SseConfig::default()
                .id_field("id")
                .event_field("kind")
                .retry(Some(Duration::from_millis(1500)))
                .end_of_stream(None)
        )
        .build(),
    |env| {
        let (status, _, body) = env
            .send(
                "GET",
                "/streaming/server/generate?count=2",
                None,
                &[("Accept", "text/event-stream"), ("Last-Event-ID", "c41")],
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(
            body,
            concat!(
                "retry: 1500\n\n",
                "id: c0\nevent: even\ndata: {\"index\":0,\"id\":\"c0\",\"kind\":\"even\",\"lastEventId\":\"c41\"}\n\n",
                "id: c1\nevent: odd\ndata: {\"index\":1,\"id\":\"c1\",\"kind\":\"odd\",\"lastEventId\":\"c41\"}\n\n",
            )
        );
    }
);

both_backends!(
    sse_response_body_and_multiline_payloads,
    Gateway::default(),
    |env| {
        // response_body "text": each event carries only the string, whose JSON
        // escapes its newline; framing stays intact.
        let tag = "sse-text-only";
        let response = env
            .http
            .get(env.url(&format!(
                "/streaming/server/notifications-text-only?tag={tag}&delayMs=10"
            )))
            .header("Accept", "text/event-stream")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let text = read_until(response, "note 1").await;
        assert!(
            text.starts_with(
                "data: \"note 0\\nsecond line\"\n\ndata: \"note 1\\nsecond line\"\n\n"
            ),
            "{text:?}"
        );
    }
);

#[tokio::test]
async fn sse_custom_end_of_stream_and_error_events_split_multiline_data() {
    let gateway = Gateway::builder()
        .sse(
            SseConfig::default()
                .end_of_stream(Some(
                    gateway_runtime::streaming::SseEvent::data("bye\nnow").with_event("done"),
                ))
                .error_handler(|e| {
                    Some(gateway_runtime::streaming::SseEvent::data(format!(
                        "oops\n{}",
                        e.code() as i32
                    )))
                }),
        )
        .build();
    let mut env = Env::start(Backend::InProcess, gateway).await;
    // Custom end and error events are outside the document.
    env.truth = false;
    let sse = [("Accept", "text/event-stream")];
    let (_, _, body) = env
        .send("GET", "/streaming/server/generate?count=0", None, &sse)
        .await;
    assert_eq!(body, "event: done\ndata: bye\ndata: now\n\n");
    let (_, _, body) = env
        .send(
            "GET",
            "/streaming/server/generate?count=3&failAfter=1&failCode=13",
            None,
            &sse,
        )
        .await;
    assert_eq!(
        body,
        format!("{}data: oops\ndata: 13\n\n", event(0, "even"))
    );
}

#[tokio::test(start_paused = true)]
async fn sse_heartbeats_while_idle() {
    // The paused clock advances to each timer in turn: with messages every
    // 40 s and heartbeats after 15 s of silence, exactly two heartbeats fall
    // between two messages.
    let env = Env::start(Backend::InProcess, Gateway::default()).await;
    let response = env
        .http
        .get(env.url("/streaming/server/notifications?tag=hb&delayMs=40000"))
        .header("Accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    let text = read_until(response, "note 1").await;
    assert_eq!(
        text,
        concat!(
            "data: {\"text\":\"note 0\\nsecond line\"}\n\n",
            ": keep-alive\n\n",
            ": keep-alive\n\n",
            "data: {\"text\":\"note 1\\nsecond line\"}\n\n"
        )
    );
}

#[tokio::test(start_paused = true)]
async fn sse_messages_put_heartbeats_off() {
    // Messages every 10 s, heartbeats after 15 s of silence: each message
    // starts the silence again, so no heartbeat falls between them, though
    // more than 15 s pass from one armed timer to the next message.
    let env = Env::start(Backend::InProcess, Gateway::default()).await;
    let response = env
        .http
        .get(env.url("/streaming/server/notifications?tag=hb2&delayMs=10000"))
        .header("Accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    let text = read_until(response, "note 4").await;
    assert_eq!(
        text,
        (0..5)
            .map(|i| format!("data: {{\"text\":\"note {i}\\nsecond line\"}}\n\n"))
            .collect::<String>()
    );
}

/// Reads a streaming body until `needle` appears (or 120 s pass).
async fn read_until(mut response: reqwest::Response, needle: &str) -> String {
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while !text.contains(needle) {
        let chunk = tokio::time::timeout_at(deadline, response.chunk())
            .await
            .expect("stream stalled")
            .unwrap();
        match chunk {
            Some(chunk) => text.push_str(std::str::from_utf8(&chunk).unwrap()),
            None => break,
        }
    }
    // Complete the event that holds the needle.
    while !text.ends_with("\n\n") && !text.ends_with('\n') {
        match response.chunk().await.unwrap() {
            Some(chunk) => text.push_str(std::str::from_utf8(&chunk).unwrap()),
            None => break,
        }
    }
    text
}

// ---------------------------------------------------------------- chunked

both_backends!(ndjson_lines, Gateway::default(), |env| {
    let (status, headers, body) = env
        .send("GET", "/streaming/server/generate?count=2", None, &[])
        .await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/x-ndjson");
    assert_eq!(body, format!("{}{}", line(0, "even"), line(1, "odd")));
    // POST binding with the request in the body.
    let (status, _, body) = env
        .send(
            "POST",
            "/streaming/server/generate",
            Some(r#"{"count":1}"#),
            &[],
        )
        .await;
    assert_eq!((status, body), (200, line(0, "even")));
});

both_backends!(
    ndjson_error_line_after_the_first_message,
    patient(),
    |env| {
        let (status, _, body) = env
            .send(
                "GET",
                "/streaming/server/generate?count=4&failAfter=1&failCode=14",
                None,
                &[],
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(
            body,
            format!(
                "{}{{\"error\":{{\"code\":14,\"message\":\"failed after 1 messages\",\"details\":[]}}}}\n",
                line(0, "even")
            )
        );
        let (status, _, body) = env
            .send(
                "GET",
                "/streaming/server/generate?count=4&failAfter=-1&failCode=14",
                None,
                &[],
            )
            .await;
        assert_eq!(
            (status, body.as_str()),
            (
                503,
                r#"{"code":14,"message":"failed before the first message","details":[]}"#
            )
        );
    }
);

both_backends!(client_stream_ndjson_body, Gateway::default(), |env| {
    let (status, headers, body) = env
        .send(
            "POST",
            "/streaming/client/add",
            Some("{\"value\":1}\n{\"value\":2}\r\n\n  {\"value\":3}"),
            &[],
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(body, r#"{"sum":6,"count":3}"#);
    // Values into the body field; response_body.
    let (status, _, body) = env
        .send("POST", "/streaming/client/add-raw", Some("1 2 3 4"), &[])
        .await;
    assert_eq!((status, body.as_str()), (200, "10"));
    // A malformed value: 400, and the call is cancelled.
    let (status, _, body) = env
        .send(
            "POST",
            "/streaming/client/add",
            Some("{\"value\":1}\n{\"value\":\"x\"}\n"),
            &[],
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        body.starts_with(r#"{"code":3,"message":"invalid request body: "#),
        "{body}"
    );
    // An upstream error.
    let (status, _, body) = env
        .send("POST", "/streaming/client/add", Some("{\"value\":-1}"), &[])
        .await;
    assert_eq!(
        (status, body.as_str()),
        (
            400,
            r#"{"code":3,"message":"negative value -1","details":[]}"#
        )
    );
});

both_backends!(bidi_ndjson_raw_values, Gateway::default(), |env| {
    let (status, _, body) = env
        .send(
            "POST",
            "/streaming/bidi/bulk-capitalize-raw",
            Some(r#""ab" "cd""#),
            &[],
        )
        .await;
    assert_eq!((status, body.as_str()), (200, "\"AB\"\n\"CD\"\n"));
    let (status, _, body) = env
        .send(
            "POST",
            "/streaming/bidi/bulk-capitalize",
            Some(r#"{"text":"x"} {"text":"y"}"#),
            &[],
        )
        .await;
    assert_eq!(
        (status, body.as_str()),
        (200, "{\"text\":\"X\"}\n{\"text\":\"Y\"}\n")
    );
});

/// Full duplex: each response line arrives before the next request value
/// is sent.
async fn full_duplex(env: &Env, http: reqwest::Client) {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(1);
    let body = reqwest::Body::wrap_stream(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    }));
    let request = http
        .post(env.url("/streaming/bidi/bulk-capitalize"))
        .body(body)
        .send();
    tx.send(Ok(b"{\"text\":\"one\"}\n".to_vec())).await.unwrap();
    let mut response = tokio::time::timeout(Duration::from_secs(60), request)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(response.status(), 200);
    for word in ["one", "two", "three"] {
        if word != "one" {
            tx.send(Ok(format!("{{\"text\":\"{word}\"}}\n").into_bytes()))
                .await
                .unwrap();
        }
        let chunk = tokio::time::timeout(Duration::from_secs(60), response.chunk())
            .await
            .expect("a response line while the request is still open")
            .unwrap()
            .unwrap();
        assert_eq!(chunk, format!("{{\"text\":\"{}\"}}\n", word.to_uppercase()));
    }
    drop(tx);
    // HTTP/2 may end with an empty DATA frame.
    while let Some(chunk) = response.chunk().await.unwrap() {
        assert!(chunk.is_empty(), "{chunk:?}");
    }
}

both_backends!(bidi_full_duplex_http1, Gateway::default(), |env| {
    full_duplex(
        &env,
        reqwest::Client::builder().http1_only().build().unwrap(),
    )
    .await;
});

both_backends!(bidi_full_duplex_h2c, Gateway::default(), |env| {
    full_duplex(
        &env,
        reqwest::Client::builder()
            .http2_prior_knowledge()
            .build()
            .unwrap(),
    )
    .await;
});

both_backends!(
    bidi_ndjson_malformed_value_after_responses,
    Gateway::default(),
    |env| {
        // Send a good value, read its response, then a malformed one: the
        // stream has started, so the error is the last line.
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(1);
        let body =
            reqwest::Body::wrap_stream(futures_util::stream::unfold(rx, |mut rx| async move {
                rx.recv().await.map(|item| (item, rx))
            }));
        let request = env
            .http
            .post(env.url("/streaming/bidi/bulk-capitalize"))
            .body(body)
            .send();
        tx.send(Ok(b"{\"text\":\"a\"}\n".to_vec())).await.unwrap();
        let mut response = request.await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.chunk().await.unwrap().unwrap(),
            "{\"text\":\"A\"}\n"
        );
        tx.send(Ok(b"{\"text\":1}\n".to_vec())).await.unwrap();
        let mut rest = String::new();
        while let Some(chunk) = response.chunk().await.unwrap() {
            rest.push_str(std::str::from_utf8(&chunk).unwrap());
        }
        assert_eq!(
            rest,
            "{\"error\":{\"code\":3,\"message\":\"invalid request body: invalid value for field \\\"text\\\": expected a string, found number at line 1 column 9\",\"details\":[]}}\n"
        );
        // Malformed first value: nothing was sent yet, so a 400.
        let (status, _, body) = env
            .send(
                "POST",
                "/streaming/bidi/bulk-capitalize",
                Some("{\"text\": nope}\n"),
                &[],
            )
            .await;
        assert_eq!(status, 400, "{body}");
    }
);

// ------------------------------------------------- cancellation, backpressure

async fn wait_for(tag: &str, what: impl Fn(gateway_e2e::streaming::StreamRecord) -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        if record(tag).is_some_and(&what) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{tag}: {:?}",
            record(tag)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

both_backends!(
    dropped_sse_client_cancels_the_call,
    Gateway::default(),
    |env| {
        let tag = format!("cancel-sse-{:?}", std::thread::current().id());
        let response = env
            .http
            .get(env.url(&format!(
                "/streaming/server/notifications?tag={tag}&delayMs=50"
            )))
            .header("Accept", "text/event-stream")
            .send()
            .await
            .unwrap();
        read_until(response, "note 1").await;
        // `read_until` dropped the response: the service must see the cancel.
        wait_for(&tag, |r| r.dropped).await;
    }
);

both_backends!(
    dropped_ndjson_client_cancels_the_call,
    Gateway::default(),
    |env| {
        let tag = format!("cancel-nd-{:?}", std::thread::current().id());
        let mut response = env
            .http
            .get(env.url(&format!(
                "/streaming/server/notifications-ndjson?tag={tag}&delayMs=50"
            )))
            .send()
            .await
            .unwrap();
        response.chunk().await.unwrap();
        drop(response);
        wait_for(&tag, |r| r.dropped).await;
    }
);

both_backends!(
    slow_reader_bounds_what_the_service_produces,
    Gateway::default(),
    |env| {
        // A reader that stops reading: flow control must stop the service long
        // before it produces everything.
        let tag = format!("slow-{:?}", std::thread::current().id());
        let total = 1_000_000;
        let mut response = env
            .http
            .get(env.url(&format!(
                "/streaming/server/generate?count={total}&tag={tag}"
            )))
            .send()
            .await
            .unwrap();
        response.chunk().await.unwrap();
        // Wait until the pipeline is full: production stops once the
        // buffers between the service and the stalled reader are full.
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        let mut last = record(&tag).unwrap().produced;
        let second = loop {
            tokio::time::sleep(Duration::from_millis(400)).await;
            let now = record(&tag).unwrap().produced;
            if now == last {
                break now;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the service keeps producing for a reader that stopped ({now})"
            );
            last = now;
        };
        assert!(
            second < total / 4,
            "{second} of {total} produced for a stalled reader"
        );
        drop(response);
        wait_for(&tag, |r| r.dropped).await;
    }
);

// ---------------------------------------------------------------- modes

both_backends!(
    every_toggle_combination_answers_as_specified,
    ws_gateway(),
    |env| {
        // (path, method, body) → expected status for SSE, WebSocket, chunked.
        let cases: &[(&str, &str, Option<&str>, [u16; 3])] = &[
            (
                "/streaming/client/add",
                "POST",
                Some("{\"value\":1}"),
                [501, 501, 200],
            ),
            ("/streaming/client/add", "GET", None, [501, 101, 200]),
            (
                "/streaming/client/add-raw",
                "POST",
                Some("1"),
                [501, 501, 200],
            ),
            (
                "/streaming/server/generate?count=1",
                "GET",
                None,
                [200, 101, 200],
            ),
            (
                "/streaming/bidi/bulk-capitalize",
                "POST",
                Some("{}"),
                [501, 501, 200],
            ),
            (
                "/streaming/bidi/bulk-capitalize?text=x",
                "GET",
                None,
                [200, 101, 200],
            ),
            (
                "/streaming/bidi/bulk-capitalize-raw",
                "POST",
                Some("\"a\""),
                [501, 501, 200],
            ),
            (
                "/streaming/server/notifications?delayMs=1",
                "GET",
                None,
                [200, 101, 501],
            ),
            (
                "/streaming/server/notifications-text-only?delayMs=1",
                "GET",
                None,
                [200, 101, 501],
            ),
            ("/streaming/bidi/chat", "GET", None, [501, 101, 501]),
            (
                "/streaming/bidi/chat-text-only",
                "GET",
                None,
                [501, 101, 501],
            ),
        ];
        for (path, method, body, [sse, ws, chunked]) in cases {
            let status = |s: reqwest::StatusCode| s.as_u16();
            // SSE
            let mut r = env
                .http
                .request(method.parse().unwrap(), env.url(path))
                .header("Accept", "text/event-stream");
            if let Some(b) = body {
                r = r.body(b.to_string());
            }
            let response = r.send().await.unwrap();
            assert_eq!(status(response.status()), *sse, "SSE {method} {path}");
            if *sse == 501 {
                assert!(response.text().await.unwrap().contains("\"code\":12"));
            }
            // WebSocket (only GET can upgrade)
            let got = if *method == "GET" {
                match tokio_tungstenite::connect_async(format!("ws://{}{}", env.addr, path)).await {
                    Ok(_) => 101,
                    Err(tungstenite::Error::Http(response)) => response.status().as_u16(),
                    Err(e) => panic!("{e}"),
                }
            } else {
                let response = env
                    .http
                    .request(method.parse().unwrap(), env.url(path))
                    .header("Connection", "Upgrade")
                    .header("Upgrade", "websocket")
                    .header("Sec-WebSocket-Version", "13")
                    .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
                    .send()
                    .await
                    .unwrap();
                status(response.status())
            };
            assert_eq!(got, *ws, "WebSocket {method} {path}");
            // chunked
            let mut r = env.http.request(method.parse().unwrap(), env.url(path));
            if let Some(b) = body {
                r = r.body(b.to_string());
            }
            let response = r.send().await.unwrap();
            assert_eq!(
                status(response.status()),
                *chunked,
                "chunked {method} {path}"
            );
        }
    }
);

both_backends!(unavailable_modes_say_why, ws_gateway(), |env| {
    let (status, _, body) = env
        .send("GET", "/streaming/server/notifications", None, &[])
        .await;
    assert_eq!(status, 501);
    assert_eq!(
        body,
        r#"{"code":12,"message":"chunked transfer streaming is not available for this endpoint: disabled by the binding's `stream.disable_chunked_transfer` setting","details":[]}"#
    );
    let (status, _, body) = env
        .send(
            "GET",
            "/streaming/bidi/chat",
            None,
            &[("Accept", "text/event-stream")],
        )
        .await;
    assert_eq!(status, 501);
    assert_eq!(
        body,
        r#"{"code":12,"message":"SSE streaming is not available for this endpoint: disabled by the binding's `stream.disable_sse` setting","details":[]}"#
    );
    let (status, _, body) = env
        .send(
            "POST",
            "/streaming/client/add",
            Some("{}"),
            &[("Accept", "text/event-stream")],
        )
        .await;
    assert_eq!(status, 501);
    assert!(
        body.contains(
            "SSE streaming is not available for this endpoint: the method does not stream responses"
        ),
        "{body}"
    );
});

#[tokio::test]
async fn websocket_needs_the_gateway_setting() {
    let env = Env::start(Backend::InProcess, Gateway::default()).await;
    match tokio_tungstenite::connect_async(format!("ws://{}/streaming/bidi/chat", env.addr)).await {
        Err(tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 501);
            let body = String::from_utf8(response.body().clone().unwrap_or_default()).unwrap();
            assert_eq!(
                body,
                r#"{"code":12,"message":"WebSocket streaming is not available for this endpoint: WebSocket is not enabled in the gateway settings","details":[]}"#
            );
        }
        other => panic!("{other:?}"),
    }
}

// ---------------------------------------------------------------- WebSocket

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn ws(env: &Env, path: &str) -> Ws {
    tokio_tungstenite::connect_async(format!("ws://{}{}", env.addr, path))
        .await
        .unwrap()
        .0
}

both_backends!(
    websocket_server_stream_first_frame_merges_over_query,
    ws_gateway(),
    |env| {
        let mut ws = ws(&env, "/streaming/server/generate?count=5").await;
        // The frame sets failAfter; count comes from the query (not wiped).
        ws.send(Message::text(r#"{"failAfter":0,"tag":"x"}"#))
            .await
            .unwrap();
        for i in 0..5 {
            assert_eq!(
                next_text(&mut ws).await.unwrap(),
                line(i, if i % 2 == 0 { "even" } else { "odd" }).trim_end()
            );
        }
        assert_eq!(next_text(&mut ws).await, Err((1000, String::new())));
    }
);

both_backends!(websocket_bidi_chat_and_half_close, ws_gateway(), |env| {
    let mut ws = ws(&env, "/streaming/bidi/chat").await;
    ws.send(Message::text(r#"{"user":"me","text":"hi"}"#))
        .await
        .unwrap();
    assert_eq!(
        next_text(&mut ws).await.unwrap(),
        r#"{"user":"bot","text":"echo: hi"}"#
    );
    ws.send(Message::binary(br#"{"text":"bin"}"#.to_vec()))
        .await
        .unwrap();
    assert_eq!(
        next_text(&mut ws).await.unwrap(),
        r#"{"user":"bot","text":"echo: bin"}"#
    );
    // An empty frame ends the requests; the server finishes with 1000.
    ws.send(Message::text("")).await.unwrap();
    assert_eq!(next_text(&mut ws).await, Err((1000, String::new())));
});

both_backends!(
    websocket_body_field_and_response_body,
    ws_gateway(),
    |env| {
        let mut ws = ws(&env, "/streaming/bidi/chat-text-only").await;
        ws.send(Message::text(r#""plain""#)).await.unwrap();
        assert_eq!(next_text(&mut ws).await.unwrap(), r#""echo: plain""#);
        ws.send(Message::text("")).await.unwrap();
        assert_eq!(next_text(&mut ws).await, Err((1000, String::new())));
    }
);

both_backends!(websocket_client_stream, ws_gateway(), |env| {
    let mut ws = ws(&env, "/streaming/client/add").await;
    for v in [5, 6, 7] {
        ws.send(Message::text(format!(r#"{{"value":{v}}}"#)))
            .await
            .unwrap();
    }
    ws.send(Message::text("")).await.unwrap();
    assert_eq!(next_text(&mut ws).await.unwrap(), r#"{"sum":18,"count":3}"#);
    assert_eq!(next_text(&mut ws).await, Err((1000, String::new())));
});

both_backends!(websocket_grpc_error_frame_then_1011, ws_gateway(), |env| {
    let mut ws = ws(&env, "/streaming/bidi/chat").await;
    ws.send(Message::text(r#"{"text":"fail"}"#)).await.unwrap();
    assert_eq!(
        next_text(&mut ws).await.unwrap(),
        r#"{"code":9,"message":"you asked for it","details":[]}"#
    );
    assert_eq!(
        next_text(&mut ws).await,
        Err((1011, "you asked for it".to_string()))
    );
});

both_backends!(websocket_malformed_frame_closes_1007, ws_gateway(), |env| {
    let mut ws = ws(&env, "/streaming/bidi/chat").await;
    ws.send(Message::text("{not json")).await.unwrap();
    let frame = next_text(&mut ws).await.unwrap();
    assert!(
        frame.starts_with(r#"{"code":3,"message":"invalid request body: "#),
        "{frame}"
    );
    let (code, _) = next_text(&mut ws).await.unwrap_err();
    assert_eq!(code, 1007);
});

#[tokio::test]
async fn websocket_message_too_big_closes_1009() {
    let gateway = Gateway::builder()
        .websocket(
            WebSocketConfig::default()
                .max_message_size(64)
                .max_frame_size(64),
        )
        .build();
    let env = Env::start(Backend::InProcess, gateway).await;
    let mut ws = ws(&env, "/streaming/bidi/chat").await;
    ws.send(Message::text(format!(
        r#"{{"text":"{}"}}"#,
        "x".repeat(200)
    )))
    .await
    .unwrap();
    let mut code = None;
    while let Ok(Some(message)) = tokio::time::timeout(Duration::from_secs(60), ws.next()).await {
        match message {
            Ok(Message::Close(Some(frame))) => {
                code = Some(u16::from(frame.code));
                break;
            }
            Ok(_) => continue,
            Err(_) => break,
        }
    }
    assert_eq!(code, Some(1009));
}

both_backends!(
    websocket_client_close_cancels_the_call,
    ws_gateway(),
    |env| {
        let tag = format!("cancel-ws-{:?}", std::thread::current().id());
        let mut ws = ws(
            &env,
            &format!("/streaming/server/notifications?tag={tag}&delayMs=50"),
        )
        .await;
        ws.send(Message::text("")).await.unwrap();
        assert!(next_text(&mut ws).await.unwrap().contains("note 0"));
        ws.close(None).await.unwrap();
        wait_for(&tag, |r| r.dropped).await;
    }
);

#[tokio::test]
async fn websocket_origin_policy() {
    let env = Env::start(Backend::InProcess, ws_gateway()).await;
    let request = |origin: &str| {
        let mut r = format!("ws://{}/streaming/bidi/chat", env.addr)
            .into_client_request()
            .unwrap();
        r.headers_mut().insert("Origin", origin.parse().unwrap());
        r
    };
    match tokio_tungstenite::connect_async(request("https://evil.example")).await {
        Err(tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 403);
            let body = String::from_utf8(response.body().clone().unwrap_or_default()).unwrap();
            assert_eq!(
                body,
                r#"{"code":7,"message":"WebSocket origin \"https://evil.example\" is not allowed","details":[]}"#
            );
        }
        other => panic!("{other:?}"),
    }
    // Same origin passes.
    tokio_tungstenite::connect_async(request(&format!("http://{}", env.addr)))
        .await
        .unwrap();
    // An allowed origin passes with an allow list.
    let env = Env::start(
        Backend::InProcess,
        Gateway::builder()
            .websocket(
                WebSocketConfig::default()
                    .origin_policy(OriginPolicy::Allow(vec!["https://app.example".into()])),
            )
            .build(),
    )
    .await;
    let mut r = format!("ws://{}/streaming/bidi/chat", env.addr)
        .into_client_request()
        .unwrap();
    r.headers_mut()
        .insert("Origin", "https://app.example".parse().unwrap());
    tokio_tungstenite::connect_async(r).await.unwrap();
}

#[tokio::test]
async fn websocket_upgrade_detection_like_firefox() {
    let env = Env::start(Backend::InProcess, ws_gateway()).await;
    let mut r = format!("ws://{}/streaming/bidi/chat", env.addr)
        .into_client_request()
        .unwrap();
    r.headers_mut()
        .insert("Connection", "keep-alive, Upgrade".parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(r).await.unwrap();
    ws.send(Message::text(r#"{"text":"ff"}"#)).await.unwrap();
    assert_eq!(
        next_text(&mut ws).await.unwrap(),
        r#"{"user":"bot","text":"echo: ff"}"#
    );
}

#[tokio::test(start_paused = true)]
async fn websocket_pings_and_drops_a_silent_peer() {
    // Default settings (ping every 30 s, drop after 30 s more of silence),
    // on the paused clock: timers fire in order, instantly.
    let env = Env::start(Backend::InProcess, ws_gateway()).await;
    // A live peer (tungstenite answers pings) sees pings and stays.
    let mut live = ws(&env, "/streaming/bidi/chat").await;
    let start = tokio::time::Instant::now();
    let mut pings = 0;
    while pings < 4 {
        match tokio::time::timeout(Duration::from_secs(300), live.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap()
        {
            Message::Ping(_) => pings += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(start.elapsed().as_secs(), 120, "four pings, 30 s apart");
    live.send(Message::text(r#"{"text":"still here"}"#))
        .await
        .unwrap();
    assert_eq!(
        next_text(&mut live).await.unwrap(),
        r#"{"user":"bot","text":"echo: still here"}"#
    );

    // A silent peer: a raw TCP handshake, then nothing ever written.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(env.addr).await.unwrap();
    tcp.write_all(
        format!(
            "GET /streaming/bidi/chat HTTP/1.1\r\nHost: {}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
            env.addr
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let start = tokio::time::Instant::now();
    let mut received = Vec::new();
    let mut buf = vec![0u8; 4096];
    loop {
        match tokio::time::timeout(Duration::from_secs(600), tcp.read(&mut buf))
            .await
            .expect("dropped within 10 minutes")
        {
            Ok(0) | Err(_) => break,
            Ok(n) => received.extend_from_slice(&buf[..n]),
        }
    }
    // The ping at 30 s goes unanswered; at 60 s to the millisecond the peer
    // has been silent for 30 + 30 s and is dropped with close 1001 (not at
    // the next ping tick).
    assert_eq!(start.elapsed().as_millis(), 60_000);
    let pings = received.windows(2).filter(|w| w == &[0x89, 0x00]).count();
    assert_eq!(pings, 1, "{received:?}");
    // One unmasked ping, then close 1001 "ping timeout", byte for byte.
    let mut tail = vec![0x89, 0x00, 0x88, 0x0e, 0x03, 0xe9];
    tail.extend_from_slice(b"ping timeout");
    assert!(received.ends_with(&tail), "{received:?}");
}
