//! The `chat-example` binary as an operator sees it: real traffic, then
//! `/metrics` in Prometheus text with the numbers that traffic must give;
//! logs on stderr under `RUST_LOG`; SIGTERM ends open streams the
//! documented way and the process exits.

mod common;

use std::process::Stdio;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::AsyncReadExt;
use tokio::process::Command;
use tokio_tungstenite::tungstenite::Message;

/// The value of one sample line (`name{labels} value`) of `text`; 0 when
/// absent (a counter never touched).
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map_or(0.0, |v| v.trim().parse().unwrap())
}

async fn metrics(client: &reqwest::Client, http: std::net::SocketAddr) -> String {
    let response = client
        .get(format!("http://{http}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    response.text().await.unwrap()
}

#[tokio::test]
async fn metrics_after_real_traffic_logs_and_sigterm() {
    let mut command = Command::new(env!("CARGO_BIN_EXE_chat-example"));
    command
        .env("CHAT_GRPC_ADDR", common::process::ANY_PORT)
        .env("CHAT_HTTP_ADDR", common::process::ANY_PORT)
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped());
    let started = common::process::start(command, true).await;
    let (mut child, http) = (started.child, started.http.unwrap());
    let mut stderr = child.stderr.take().unwrap();
    let logs = tokio::spawn(async move {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text).await;
        text
    });
    let client = reqwest::Client::new();
    let post = |body: &'static str| {
        client
            .post(format!("http://{http}/v1/rooms/ops/messages"))
            .body(body)
            .send()
    };
    // The example listens once it has printed its addresses.
    assert_eq!(
        post(r#"{"user":"op","text":"one"}"#)
            .await
            .unwrap()
            .status(),
        200
    );

    // Unary: 3 × 200 (the one above and two more), 1 × 400.
    for _ in 0..2 {
        assert_eq!(post(r#"{"text":"more"}"#).await.unwrap().status(), 200);
    }
    assert_eq!(post("{not json").await.unwrap().status(), 400);

    // A client stream: two NDJSON messages in one upload.
    let upload = client
        .post(format!("http://{http}/v1/rooms/uploads/messages:batch"))
        .body("{\"text\":\"a\"}\n{\"text\":\"b\"}\n")
        .send()
        .await
        .unwrap();
    assert_eq!(upload.status(), 200);

    // An EventSource reconnecting after id 1: the two later messages are
    // replayed, then the client goes away.
    let mut sse = client
        .get(format!("http://{http}/v1/rooms/ops/events"))
        .header("accept", "text/event-stream")
        .header("last-event-id", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(sse.status(), 200);
    let mut seen = String::new();
    while seen.matches("data: ").count() < 2 {
        seen.push_str(std::str::from_utf8(&sse.chunk().await.unwrap().unwrap()).unwrap());
    }
    drop(sse);

    // A WebSocket chat: one message each way, then a normal close.
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{http}/v1/rooms/ops/chat"))
        .await
        .unwrap();
    ws.send(Message::text(r#"{"user":"ws","text":"hi"}"#))
        .await
        .unwrap();
    loop {
        match ws.next().await.unwrap().unwrap() {
            Message::Text(text) if text.contains("\"hi\"") => break,
            _ => {}
        }
    }
    ws.close(None).await.unwrap();
    while ws.next().await.is_some() {}

    // The numbers, once both streams have ended. A stream's end is
    // recorded in several metrics one after the other, and the exporter
    // reads counters, gauges and histograms one after the other too: a
    // scrape may fall between them, so wait until every end-of-stream
    // series asserted below is there, not just one of them.
    let ended_series = |mode: &str| {
        format!(r#"gateway_streams_ended_total{{mode="{mode}",reason="client_gone"}}"#)
    };
    let mut text = String::new();
    for _ in 0..100 {
        text = metrics(&client, http).await;
        if sample(&text, r#"gateway_streams_active{mode="sse"}"#) == 0.0
            && sample(&text, r#"gateway_streams_active{mode="websocket"}"#) == 0.0
            && sample(&text, &ended_series("sse")) >= 1.0
            && sample(&text, &ended_series("websocket")) >= 1.0
            && sample(
                &text,
                r#"gateway_stream_duration_seconds_count{mode="sse"}"#,
            ) >= 1.0
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let route = r#"route="/v1/rooms/{room}/messages""#;
    assert_eq!(
        sample(
            &text,
            &format!(r#"gateway_requests_total{{{route},method="POST",status="200"}}"#)
        ),
        3.0,
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            &format!(r#"gateway_requests_total{{{route},method="POST",status="400"}}"#)
        ),
        1.0,
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            &format!(
                r#"gateway_request_duration_seconds_count{{{route},method="POST",status="200"}}"#
            )
        ),
        3.0,
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"gateway_sse_reconnects_total{route="/v1/rooms/{room}/events"}"#
        ),
        1.0,
        "{text}"
    );
    assert_eq!(sample(&text, &ended_series("sse")), 1.0, "{text}");
    // The WebSocket chat ended by its client's Close frame.
    assert_eq!(sample(&text, &ended_series("websocket")), 1.0, "{text}");
    assert_eq!(
        sample(&text, r#"gateway_stream_messages_sent_total{mode="sse"}"#),
        2.0,
        "{text}"
    );
    assert_eq!(
        sample(&text, r#"gateway_stream_flush_seconds_count{mode="sse"}"#),
        2.0,
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"gateway_stream_messages_received_total{mode="websocket"}"#
        ),
        1.0,
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"gateway_stream_messages_received_total{mode="chunked"}"#
        ),
        2.0,
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"gateway_stream_bytes_received_total{mode="chunked"}"#
        ),
        24.0,
        "{text}"
    );
    let ws_sent = sample(
        &text,
        r#"gateway_stream_messages_sent_total{mode="websocket"}"#,
    );
    assert!(ws_sent >= 1.0, "{text}");
    assert_eq!(
        sample(
            &text,
            r#"gateway_stream_duration_seconds_count{mode="sse"}"#
        ),
        1.0,
        "{text}"
    );

    // SIGTERM with a stream open: it gets the shutdown event, the process
    // exits on its own.
    let mut sse = client
        .get(format!("http://{http}/v1/rooms/ops/events"))
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(sse.status(), 200);
    let _ = sse.chunk().await.unwrap();
    let pid = child.id().unwrap().to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .unwrap();
    assert!(killed.success());
    let mut rest = String::new();
    while let Ok(Some(chunk)) = sse.chunk().await {
        rest.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    assert!(
        rest.ends_with(
            "event: shutdown\ndata: {\"code\":14,\"message\":\"the server is shutting down\",\"details\":[]}\n\n"
        ),
        "{rest:?}"
    );
    let status = tokio::time::timeout(Duration::from_secs(15), child.wait())
        .await
        .expect("the example exits after SIGTERM")
        .unwrap();
    assert!(status.success(), "{status}");

    // The logs: one span per stream with the OpenTelemetry field names,
    // and its end with the reason.
    let logs = logs.await.unwrap();
    let ended = |reason: &str| {
        logs.lines().any(|line| {
            line.contains("stream ended")
                && line.contains(&format!("reason=\"{reason}\""))
                && line.contains("http.route=\"/v1/rooms/{room}/events\"")
                && line.contains("rpc.service=\"chat.v1.ChatService\"")
                && line.contains("rpc.method=\"Subscribe\"")
                && line.contains("gateway.stream.mode=\"sse\"")
        })
    };
    assert!(ended("client_gone"), "{logs}");
    assert!(ended("shutdown"), "{logs}");
    // Nothing per message at `info`.
    assert!(!logs.contains("message sent"), "{logs}");
}
