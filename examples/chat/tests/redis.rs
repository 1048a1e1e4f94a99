//! Two instances of the example on one real Redis, as separate processes:
//! instance A is `chat-example` (gateway and service in one process),
//! instance B is `grpc-server` behind `remote-gateway` (two processes). Both
//! run with `CHAT_REDIS_URL`, so the rooms are Redis Streams they share.
//! Messages cross instances in every mode, byte for byte; a client resumes
//! on the other instance with `Last-Event-ID`; clients of a killed instance
//! lose nothing; a Redis restart ends streams with the documented error and
//! clients resume after it.
//!
//! Needs `/usr/bin/redis-server` (`apt-get install -y redis-server`); each
//! test starts its own on a free loopback port, without persistence, and
//! stops it after. Set `SKIP_REDIS_TESTS=1` to skip them where Redis cannot
//! be installed.

#![allow(missing_docs)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::cluster::{Instance, Redis, TIMEOUT, eventually, id_of, post, redis_available};
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

/// What every SSE response of the example starts with (`SseConfig::retry`).
const RETRY: &str = "retry: 1000\n\n";
const EOS: &str = "id: EOS\nevent: EOS\ndata: \n\n";
/// The in-stream error of a subscriber whose room lost Redis.
const FEED_LOST: &str = r#"{"code":14,"message":"the room's Redis connection was lost; reconnect to resume","details":[]}"#;

/// SSE events of `messages`, as the gateway writes them.
fn sse_events(messages: &[String]) -> String {
    messages
        .iter()
        .map(|m| format!("id: {}\ndata: {m}\n\n", id_of(m)))
        .collect()
}

/// A streamed response body, read piece by piece.
struct Body {
    response: reqwest::Response,
    buffer: Vec<u8>,
}

impl Body {
    async fn open(request: reqwest::RequestBuilder) -> Option<Body> {
        let response = request.send().await.ok()?;
        if response.status() == 503 {
            // Redis not back yet, as the next try will see.
            return None;
        }
        assert_eq!(response.status(), 200);
        Some(Body {
            response,
            buffer: Vec::new(),
        })
    }

    /// The next piece up to `separator` (without it); `None` at the end of
    /// the body or when the connection broke.
    async fn next(&mut self, separator: &str) -> Option<String> {
        loop {
            if let Some(at) = self
                .buffer
                .windows(separator.len())
                .position(|w| w == separator.as_bytes())
            {
                let piece = self
                    .buffer
                    .drain(..at + separator.len())
                    .collect::<Vec<_>>();
                return Some(String::from_utf8(piece[..at].to_vec()).unwrap());
            }
            let chunk = tokio::time::timeout(TIMEOUT, self.response.chunk())
                .await
                .expect("the stream stalled");
            match chunk {
                Ok(Some(chunk)) => self.buffer.extend_from_slice(&chunk),
                Ok(None) | Err(_) => return None,
            }
        }
    }
}

#[tokio::test]
async fn messages_cross_instances_in_every_mode() {
    if !redis_available() {
        return;
    }
    let redis = Redis::start().await;
    let a = Instance::in_process(&redis).await;
    let b = Instance::remote(&redis).await;
    let room = "crossing";
    let events = format!("/v1/rooms/{room}/events?limit=3");

    // Subscribers on B, in all three modes.
    let sse = b
        .client
        .get(b.url(&events))
        .header("Accept", "text/event-stream")
        .send();
    let ndjson = b.client.get(b.url(&events)).send();
    let (sse, ndjson) = tokio::join!(sse, ndjson);
    let (sse, ndjson) = (sse.unwrap(), ndjson.unwrap());
    let (mut ws, _) =
        tokio_tungstenite::connect_async(b.ws_url(&format!("/v1/rooms/{room}/events")))
            .await
            .unwrap();
    ws.send(Message::text(r#"{"limit":3}"#)).await.unwrap();
    b.wait_for_listeners(room, 3).await;

    // Posted through A.
    let mut posted = Vec::new();
    for text in ["one", "two", "three"] {
        posted.push(a.post(room, text).await);
    }

    let sse = sse.text().await.unwrap();
    assert_eq!(sse, format!("{RETRY}{}{EOS}", sse_events(&posted)));
    let ndjson = ndjson.text().await.unwrap();
    assert_eq!(
        ndjson,
        posted.iter().map(|m| format!("{m}\n")).collect::<String>()
    );
    let mut frames = Vec::new();
    while let Some(frame) = tokio::time::timeout(TIMEOUT, ws.next()).await.unwrap() {
        match frame.unwrap() {
            Message::Text(text) => frames.push(text.to_string()),
            Message::Close(close) => {
                assert_eq!(close.unwrap().code, CloseCode::Normal);
                break;
            }
            other => panic!("unexpected frame {other:?}"),
        }
    }
    assert_eq!(frames, posted);

    // And the other way: posted through B, replayed on A from the start.
    let back = b.post(room, "four").await;
    posted.push(back);
    let replay = a
        .client
        .get(a.url(&format!("/v1/rooms/{room}/events?since=0&limit=4")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        replay,
        posted.iter().map(|m| format!("{m}\n")).collect::<String>()
    );
    // The instances go first: they would log Redis going away.
    drop((a, b));
    redis.stop().await;
}

type WebSocket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next frame, which must be a text frame.
async fn next_text(socket: &mut WebSocket) -> String {
    match tokio::time::timeout(TIMEOUT, socket.next()).await {
        Ok(Some(Ok(Message::Text(text)))) => text.to_string(),
        other => panic!("expected a text frame, got {other:?}"),
    }
}

#[tokio::test]
async fn websocket_chat_spans_instances() {
    if !redis_available() {
        return;
    }
    let redis = Redis::start().await;
    let a = Instance::in_process(&redis).await;
    let b = Instance::remote(&redis).await;
    let room = "chatting";
    let (mut chat, _) =
        tokio_tungstenite::connect_async(b.ws_url(&format!("/v1/rooms/{room}/chat")))
            .await
            .unwrap();
    // Joined on B: the chat's own join notice says it is live.
    chat.send(Message::text(r#"{"user":"carol"}"#))
        .await
        .unwrap();
    let joined = next_text(&mut chat).await;
    let notice: serde_json::Value = serde_json::from_str(&joined).unwrap();
    assert_eq!(
        (notice["user"].as_str(), notice["source"].as_str()),
        (Some("carol"), Some("join")),
        "{joined}"
    );
    // Posted through A, said on B.
    let posted = a.post(room, "hello carol").await;
    assert_eq!(next_text(&mut chat).await, posted);
    chat.send(Message::text(r#"{"user":"carol","text":"hi from B"}"#))
        .await
        .unwrap();
    let said = next_text(&mut chat).await;
    assert!(
        said.contains(r#""text":"hi from B","source":"chat""#),
        "{said}"
    );
    // A has the whole conversation, the same bytes.
    let history = a
        .client
        .get(a.url(&format!("/v1/rooms/{room}/events?since=0&limit=3")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(history, format!("{joined}\n{posted}\n{said}\n"));
    // The instances go first: they would log Redis going away.
    drop((a, b));
    redis.stop().await;
}

#[tokio::test]
async fn sse_resumes_on_another_instance_with_last_event_id() {
    if !redis_available() {
        return;
    }
    let redis = Redis::start().await;
    let a = Instance::in_process(&redis).await;
    let b = Instance::remote(&redis).await;
    let room = "resume";

    // Five events read on A, then the client goes.
    let request = a
        .client
        .get(a.url(&format!("/v1/rooms/{room}/events")))
        .header("Accept", "text/event-stream");
    let mut stream = Body::open(request).await.unwrap();
    a.wait_for_listeners(room, 1).await;
    let mut first = Vec::new();
    for i in 1..=5 {
        first.push(b.post(room, &format!("first {i}")).await);
    }
    assert_eq!(stream.next("\n\n").await.unwrap(), RETRY.trim_end());
    let mut seen = String::new();
    for _ in 0..5 {
        seen.push_str(&stream.next("\n\n").await.unwrap());
        seen.push_str("\n\n");
    }
    assert_eq!(seen, sse_events(&first));
    drop(stream);

    // Ten more while it is away, through B.
    let mut missed = Vec::new();
    for i in 1..=10 {
        missed.push(b.post(room, &format!("missed {i}")).await);
    }

    // Back on B with the last id it saw: exactly the ten, in order.
    let resumed = b
        .client
        .get(b.url(&format!("/v1/rooms/{room}/events?limit=10")))
        .header("Accept", "text/event-stream")
        .header("Last-Event-ID", id_of(&first[4]))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(resumed, format!("{RETRY}{}{EOS}", sse_events(&missed)));
    // The instances go first: they would log Redis going away.
    drop((a, b));
    redis.stop().await;
}

/// A streaming client that reconnects where it left off: `urls` in turn
/// (the first until it fails, then the next), until it has `want`
/// messages. Returns them as JSON.
async fn follow(
    mode: &'static str,
    room: &'static str,
    urls: [(String, String); 2],
    want: usize,
    got: Arc<AtomicUsize>,
) -> Vec<String> {
    let client = reqwest::Client::new();
    let mut messages: Vec<String> = Vec::new();
    let mut attempt = 0;
    while messages.len() < want {
        let (http, ws) = &urls[attempt.min(1)];
        attempt += 1;
        let last = messages.last().map(|m| id_of(m));
        let path = format!("/v1/rooms/{room}/events");
        match mode {
            "sse" | "ndjson" => {
                let mut request = client.get(format!("{http}{path}"));
                if mode == "sse" {
                    request = request.header("Accept", "text/event-stream");
                    if let Some(last) = &last {
                        request = request.header("Last-Event-ID", last);
                    }
                } else if let Some(last) = &last {
                    request = request.query(&[("since", last)]);
                }
                let Some(mut body) = Body::open(request).await else {
                    continue;
                };
                let separator = if mode == "sse" { "\n\n" } else { "\n" };
                while let Some(piece) = body.next(separator).await {
                    // Messages only: not the retry hint, heartbeats, the
                    // end or an error.
                    let json = match mode {
                        "sse" => match piece.split_once("\ndata: ") {
                            Some((id, json)) if id.starts_with("id: ") && !id.contains('\n') => {
                                json
                            }
                            _ => continue,
                        },
                        _ if piece.is_empty() || piece.starts_with(r#"{"error""#) => continue,
                        _ => piece.as_str(),
                    };
                    messages.push(json.to_string());
                    got.store(messages.len(), Ordering::SeqCst);
                    if messages.len() == want {
                        break;
                    }
                }
            }
            _ => {
                let Ok((mut socket, _)) =
                    tokio_tungstenite::connect_async(format!("{ws}{path}")).await
                else {
                    continue;
                };
                let first = match &last {
                    Some(last) => format!(r#"{{"sinceId":"{last}"}}"#),
                    None => "{}".to_string(),
                };
                if socket.send(Message::text(first)).await.is_err() {
                    continue;
                }
                while let Ok(Some(Ok(Message::Text(text)))) =
                    tokio::time::timeout(TIMEOUT, socket.next()).await
                {
                    messages.push(text.to_string());
                    got.store(messages.len(), Ordering::SeqCst);
                    if messages.len() == want {
                        break;
                    }
                }
            }
        }
    }
    messages
}

#[tokio::test]
async fn clients_of_a_killed_instance_lose_nothing() {
    if !redis_available() {
        return;
    }
    let redis = Redis::start().await;
    let mut a = Instance::in_process(&redis).await;
    let b = Instance::remote(&redis).await;
    let room = "failover";
    const TOTAL: usize = 40;

    let urls = [(a.url(""), a.ws_url("")), (b.url(""), b.ws_url(""))];
    let mut clients = Vec::new();
    let mut counters = Vec::new();
    for mode in ["sse", "ndjson", "ws"] {
        let got = Arc::new(AtomicUsize::new(0));
        counters.push(got.clone());
        clients.push(tokio::spawn(follow(mode, room, urls.clone(), TOTAL, got)));
    }
    a.wait_for_listeners(room, 3).await;

    // Messages keep coming through B while A dies.
    let poster = tokio::spawn({
        let (client, base) = (b.client.clone(), b.url(""));
        async move {
            let mut posted = Vec::new();
            for i in 0..TOTAL {
                posted.push(post(&client, &base, room, &format!("message {i}")).await);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            posted
        }
    });
    // Once every client has some, A is killed under them.
    eventually("every client to get messages from A", || async {
        counters
            .iter()
            .all(|c| c.load(Ordering::SeqCst) >= 5)
            .then_some(())
    })
    .await;
    a.kill().await;

    let posted = poster.await.unwrap();
    for (mode, client) in ["sse", "ndjson", "ws"].into_iter().zip(clients) {
        let got = tokio::time::timeout(TIMEOUT, client)
            .await
            .expect("client finished")
            .unwrap();
        assert_eq!(got, posted, "{mode}: every message once, in order");
    }
    // The instances go first: they would log Redis going away.
    drop((a, b));
    redis.stop().await;
}

#[tokio::test]
async fn redis_restart_ends_streams_with_an_error_and_clients_resume() {
    if !redis_available() {
        return;
    }
    let redis = Redis::start().await;
    let a = Instance::in_process(&redis).await;
    let b = Instance::remote(&redis).await;
    let room = "restart";
    let events = b.url(&format!("/v1/rooms/{room}/events"));

    let mut sse = Body::open(b.client.get(&events).header("Accept", "text/event-stream"))
        .await
        .unwrap();
    let mut ndjson = Body::open(b.client.get(&events)).await.unwrap();
    b.wait_for_listeners(room, 2).await;
    let before = [
        a.post(room, "before 1").await,
        a.post(room, "before 2").await,
    ];
    assert_eq!(sse.next("\n\n").await.unwrap(), RETRY.trim_end());
    for message in &before {
        assert_eq!(
            sse.next("\n\n").await.unwrap() + "\n\n",
            sse_events(std::slice::from_ref(message))
        );
        assert_eq!(&ndjson.next("\n").await.unwrap(), message);
    }

    // Redis goes away: each stream ends with its documented error output.
    let addr = redis.addr;
    redis.stop().await;
    assert_eq!(
        sse.next("\n\n").await.unwrap(),
        format!("event: failure\ndata: {FEED_LOST}")
    );
    assert_eq!(sse.next("\n\n").await, None);
    assert_eq!(
        ndjson.next("\n").await.unwrap(),
        format!(r#"{{"error":{FEED_LOST}}}"#)
    );
    assert_eq!(ndjson.next("\n").await, None);

    // Back (empty: no persistence). A message posted before the clients
    // return is replayed, one after reaches them live.
    let redis = Redis::start_on(addr).await;
    let after = a.post(room, "after 1").await;
    let last = id_of(&before[1]);
    let sse = eventually("SSE to reconnect", || {
        Body::open(
            b.client
                .get(format!("{events}?limit=2"))
                .header("Accept", "text/event-stream")
                .header("Last-Event-ID", &last),
        )
    })
    .await;
    let ndjson = eventually("NDJSON to reconnect", || {
        Body::open(b.client.get(format!("{events}?limit=2&since={last}")))
    })
    .await;
    b.wait_for_listeners(room, 2).await;
    let after = [after, a.post(room, "after 2").await];
    assert_eq!(
        sse.response.text().await.unwrap(),
        format!("{RETRY}{}{EOS}", sse_events(&after))
    );
    assert_eq!(
        ndjson.response.text().await.unwrap(),
        format!("{}\n{}\n", after[0], after[1])
    );
    // The instances go first: they would log Redis going away.
    drop((a, b));
    redis.stop().await;
}
