//! Graceful shutdown through a `Drain`: 100 open streams of each mode end
//! the documented way within the grace period, a unary call in flight
//! finishes, the gRPC calls behind the streams are cancelled, and new
//! streams get 503 while draining.

mod common;

use std::time::{Duration, Instant};

use common::{Backend, Env, app};
use futures_util::{SinkExt, StreamExt};
use gateway_e2e::streaming::record;
use gateway_runtime::Drain;
use gateway_runtime::serve::{ServeConfig, serve_with_drain};
use gateway_runtime::streaming::WebSocketConfig;
use gateway_runtime::{Gateway, GatewayError};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

const STREAMS: usize = 100;
const GRACE: Duration = Duration::from_secs(10);

/// The body of an SSE or NDJSON stream read to its end, once its first
/// message came (sent on `ready`).
async fn read_to_end(
    response: reqwest::Response,
    ready: tokio::sync::mpsc::Sender<()>,
) -> Result<String, String> {
    let mut body = response.bytes_stream();
    let mut text = String::new();
    let mut told = false;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| format!("{e} after {text:?}"))?;
        text.push_str(std::str::from_utf8(&chunk).unwrap());
        if !told && text.contains("note 0") {
            told = true;
            ready.send(()).await.unwrap();
        }
    }
    Ok(text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_streams_end_the_documented_way_within_the_deadline() {
    let drain = Drain::new();
    let gateway = Gateway::builder()
        .websocket(WebSocketConfig::default())
        .drain(&drain)
        .build();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = app(Backend::InProcess, &gateway).await;
    let server = tokio::spawn(serve_with_drain(
        listener,
        app,
        ServeConfig::default(),
        drain.clone(),
        GRACE,
    ));

    let http = reqwest::Client::new();
    let (ready_tx, mut ready) = tokio::sync::mpsc::channel(3 * STREAMS);
    let mut sse = Vec::new();
    let mut ndjson = Vec::new();
    let mut websockets = Vec::new();
    for i in 0..STREAMS {
        // A message every 10 s: only the first comes before the shutdown.
        let query = |mode: &str| format!("delayMs=10000&tag=shutdown-{mode}-{i}");
        let response = http
            .get(format!(
                "http://{addr}/streaming/server/notifications?{}",
                query("sse")
            ))
            .header("accept", "text/event-stream")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        sse.push(tokio::spawn(read_to_end(response, ready_tx.clone())));

        let response = http
            .get(format!(
                "http://{addr}/streaming/server/notifications-ndjson?{}",
                query("ndjson")
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        ndjson.push(tokio::spawn(read_to_end(response, ready_tx.clone())));

        let url = format!("ws://{addr}/streaming/server/notifications?{}", query("ws"));
        let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        ws.send(Message::text("")).await.unwrap();
        let ready = ready_tx.clone();
        websockets.push(tokio::spawn(async move {
            let mut close = None;
            while let Some(message) = ws.next().await {
                match message {
                    Ok(Message::Text(text)) if text.contains("note 0") => {
                        ready.send(()).await.unwrap()
                    }
                    Ok(Message::Close(frame)) => {
                        close = frame.map(|f| (u16::from(f.code), f.reason.to_string()));
                        break;
                    }
                    Ok(_) => {}
                    Err(e) => panic!("WebSocket error before the close: {e}"),
                }
            }
            close
        }));
    }
    for _ in 0..3 * STREAMS {
        ready.recv().await.unwrap();
    }
    assert_eq!(drain.open_streams(), 3 * STREAMS);

    // A unary call in flight when the shutdown starts.
    let slow = tokio::spawn({
        let http = http.clone();
        async move {
            let response = http
                .get(format!("http://{addr}/v1/slow/700?tag=shutdown-unary"))
                .send()
                .await
                .unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;

    let started = Instant::now();
    drain.start();
    server.await.unwrap().unwrap();
    let took = started.elapsed();
    assert!(took < GRACE, "shutdown took {took:?}");

    let (status, body) = slow.await.unwrap();
    assert_eq!(
        (status, body.as_str()),
        (200, r#"{"millis":700,"tag":"shutdown-unary"}"#)
    );

    let shutdown_event = "event: shutdown\n\
        data: {\"code\":14,\"message\":\"the server is shutting down\",\"details\":[]}\n\n";
    for (i, task) in sse.into_iter().enumerate() {
        let text = task.await.unwrap().unwrap();
        assert!(text.ends_with(shutdown_event), "SSE stream {i}: {text:?}");
    }
    for (i, task) in ndjson.into_iter().enumerate() {
        // The body ends normally (chunked terminator): no error.
        let text = task.await.unwrap().unwrap();
        assert_eq!(
            text, "{\"text\":\"note 0\\nsecond line\"}\n",
            "NDJSON stream {i}"
        );
    }
    for (i, task) in websockets.into_iter().enumerate() {
        let close = task.await.unwrap();
        assert_eq!(
            close,
            Some((1001, "server shutting down".to_owned())),
            "WebSocket {i}"
        );
    }
    // No stream left, and every gRPC call behind them cancelled.
    assert_eq!(drain.open_streams(), 0);
    for mode in ["sse", "ndjson", "ws"] {
        for i in 0..STREAMS {
            let tag = format!("shutdown-{mode}-{i}");
            let mut dropped = false;
            for _ in 0..100 {
                dropped = record(&tag).is_some_and(|r| r.dropped);
                if dropped {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            assert!(dropped, "the call of {tag} is still running");
        }
    }
}

#[tokio::test]
async fn new_streams_get_503_while_unary_calls_go_on() {
    let drain = Drain::new();
    let gateway = Gateway::builder()
        .websocket(WebSocketConfig::default())
        .drain(&drain)
        .build();
    // Served without the drain: only the gateway knows, as when a load
    // balancer still sends requests on open connections.
    let env = Env::start(Backend::InProcess, gateway).await;
    drain.start();
    let unavailable =
        String::from_utf8(GatewayError::ShuttingDown.to_json(&Default::default())).unwrap();
    for (path, headers) in [
        (
            "/streaming/server/notifications",
            &[("accept", "text/event-stream")][..],
        ),
        ("/streaming/server/notifications-ndjson", &[][..]),
    ] {
        let (status, _, body) = env.send("GET", path, None, headers).await;
        assert_eq!(
            (status, body.as_str()),
            (503, unavailable.as_str()),
            "{path}"
        );
    }
    let ws = tokio_tungstenite::connect_async(format!(
        "ws://{}/streaming/server/notifications",
        env.addr
    ))
    .await;
    match ws {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 503)
        }
        other => panic!("expected 503, got {other:?}"),
    }
    let (status, body) = env.get("/v1/slow/1").await;
    assert_eq!((status, body.as_str()), (200, r#"{"millis":1,"tag":""}"#));
}
