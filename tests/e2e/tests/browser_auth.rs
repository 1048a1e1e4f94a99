//! Auth for browser streams: a session cookie flow, a bearer token in
//! `Sec-WebSocket-Protocol` (the other subprotocol echoed), an access token
//! in the query (removed before binding); a refused token is the service's
//! `UNAUTHENTICATED`, a 401 before any stream or upgrade.

mod common;

use common::{Backend, Env};
use futures_util::{SinkExt, StreamExt};
use gateway_runtime::BrowserAuth;
use gateway_runtime::Gateway;
use gateway_runtime::streaming::WebSocketConfig;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};

const UNAUTHENTICATED: &str = r#"{"code":16,"message":"authorization refused","details":[]}"#;

fn gateway() -> Gateway {
    Gateway::builder()
        .websocket(WebSocketConfig::default())
        .browser_auth(
            BrowserAuth::default()
                .websocket_protocol(true)
                .query_parameter("access_token"),
        )
        .response_hook(|metadata, response| {
            if let Some(session) = metadata.get("x-session").and_then(|v| v.to_str().ok())
                && let Ok(cookie) = format!("session={session}; HttpOnly").parse()
            {
                response
                    .headers_mut()
                    .append(http::header::SET_COOKIE, cookie);
            }
        })
        .build()
}

async fn ws_messages(
    env: &Env,
    path: &str,
    protocols: &str,
) -> Result<(Option<String>, Vec<String>), tungstenite::Error> {
    let mut request = format!("ws://{}{path}", env.addr).into_client_request()?;
    request
        .headers_mut()
        .insert("sec-websocket-protocol", protocols.parse().unwrap());
    let (mut ws, response) = tokio_tungstenite::connect_async(request).await?;
    let echoed = response
        .headers()
        .get("sec-websocket-protocol")
        .map(|v| v.to_str().unwrap().to_owned());
    ws.send(Message::text("")).await?;
    let mut texts = Vec::new();
    while let Some(Ok(message)) = ws.next().await {
        match message {
            Message::Text(text) => texts.push(text.to_string()),
            Message::Close(_) => break,
            _ => {}
        }
    }
    Ok((echoed, texts))
}

#[tokio::test]
async fn session_cookie_flow() {
    let env = Env::start(Backend::InProcess, gateway()).await;
    // The service renews the session (response metadata); the response
    // hook turns it into a cookie.
    let (status, headers, _) = env.send("GET", "/streaming/server/whoami", None, &[]).await;
    assert_eq!(status, 200);
    let cookie = headers["set-cookie"].to_str().unwrap();
    assert_eq!(cookie, "session=renewed; HttpOnly");
    // The browser sends it back on its EventSource; the gateway forwards
    // cookies (`grpcgateway-cookie`), the service checks it.
    let session = cookie.split(';').next().unwrap();
    let (status, _, text) = env
        .send(
            "GET",
            "/streaming/server/whoami",
            None,
            &[("accept", "text/event-stream"), ("cookie", session)],
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        text.contains("data: {\"text\":\"cookie: session=renewed\"}\n\n"),
        "{text}"
    );
    // An expired session: the service says UNAUTHENTICATED, before any event.
    let (status, _, text) = env
        .send(
            "GET",
            "/streaming/server/whoami",
            None,
            &[
                ("accept", "text/event-stream"),
                ("cookie", "session=expired"),
            ],
        )
        .await;
    assert_eq!(
        (status, text.as_str()),
        (
            401,
            r#"{"code":16,"message":"cookie refused","details":[]}"#
        )
    );
}

#[tokio::test]
async fn token_in_the_query() {
    let env = Env::start(Backend::InProcess, gateway()).await;
    let (status, _, text) = env
        .send(
            "GET",
            "/streaming/server/whoami?access_token=good%2Bone",
            None,
            &[("accept", "text/event-stream")],
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        text.contains("data: {\"text\":\"authorization: Bearer good+one\"}\n\n"),
        "{text}"
    );
    let (status, _, text) = env
        .send(
            "GET",
            "/streaming/server/whoami?access_token=wrong",
            None,
            &[("accept", "text/event-stream")],
        )
        .await;
    assert_eq!((status, text.as_str()), (401, UNAUTHENTICATED));
    // Removed before binding: a token named like a request field does not
    // reach the field (`tag` is a field of the request message).
    let env = Env::start(
        Backend::InProcess,
        Gateway::builder()
            .browser_auth(BrowserAuth::default().query_parameter("tag"))
            .build(),
    )
    .await;
    let (status, _, text) = env
        .send(
            "GET",
            "/streaming/server/generate?count=1&tag=secret",
            None,
            &[],
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(gateway_e2e::streaming::record("secret"), None);
    assert!(text.starts_with("{\"index\":0"), "{text}");
}

#[tokio::test]
async fn token_in_the_websocket_subprotocol() {
    let env = Env::start(Backend::InProcess, gateway()).await;
    let (echoed, texts) = ws_messages(&env, "/streaming/server/whoami", "bearer.abc.def, whoami")
        .await
        .unwrap();
    // The other subprotocol is echoed, never the token.
    assert_eq!(echoed.as_deref(), Some("whoami"));
    assert_eq!(
        texts.last().map(String::as_str),
        Some(r#"{"text":"authorization: Bearer abc.def"}"#)
    );

    // A refused token on a bidi stream: 401 before the upgrade.
    let mut request = format!("ws://{}/streaming/bidi/chat", env.addr)
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "chat, bearer.wrong".parse().unwrap(),
    );
    match tokio_tungstenite::connect_async(request).await {
        Err(tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 401);
            let body = String::from_utf8(response.body().clone().unwrap()).unwrap();
            assert_eq!(
                body,
                r#"{"code":16,"message":"token refused","details":[]}"#
            );
        }
        other => panic!("expected 401, got {other:?}"),
    }
    // A good token on the same bidi stream upgrades and chats.
    let mut request = format!("ws://{}/streaming/bidi/chat", env.addr)
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "chat, bearer.good".parse().unwrap(),
    );
    let (mut ws, response) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert_eq!(response.headers()["sec-websocket-protocol"], "chat");
    ws.send(Message::text(r#"{"text":"hi"}"#)).await.unwrap();
    assert_eq!(
        common::next_text(&mut ws).await.unwrap(),
        r#"{"user":"bot","text":"echo: hi"}"#
    );

    // Only the token offered: nothing to echo, a clear 400.
    match ws_messages(&env, "/streaming/server/whoami", "bearer.abc").await {
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 400),
        other => panic!("expected 400, got {other:?}"),
    }
}

#[tokio::test]
async fn off_by_default() {
    let env = Env::start(
        Backend::InProcess,
        Gateway::builder()
            .websocket(WebSocketConfig::default())
            .build(),
    )
    .await;
    let (status, _, text) = env
        .send(
            "GET",
            "/streaming/server/whoami?access_token=wrong",
            None,
            &[],
        )
        .await;
    assert_eq!(status, 200);
    assert!(!text.contains("authorization"), "{text}");
}
