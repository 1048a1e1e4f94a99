//! The OpenAPI documents against the real gateway: WebSocket frames of every
//! kind of stream match the frame schemas (`Env::send` already holds every
//! JSON, SSE and NDJSON body of the suites to the documents), and the check
//! itself rejects bodies that drift from the document.

mod common;

use common::{Backend, Env, next_text, truth};
use futures_util::SinkExt;
use gateway_runtime::Gateway;
use gateway_runtime::streaming::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

fn ws_gateway() -> Gateway {
    Gateway::builder()
        .websocket(WebSocketConfig::default())
        .build()
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn ws(env: &Env, path: &str) -> Ws {
    tokio_tungstenite::connect_async(format!("ws://{}{}", env.addr, path))
        .await
        .unwrap()
        .0
}

/// Reads text frames until the close; checks each against the document.
async fn frames_until_close(ws: &mut Ws, path: &str) -> (usize, u16) {
    let mut count = 0;
    loop {
        match next_text(ws).await {
            Ok(frame) => {
                let error = frame.starts_with("{\"code\"");
                truth::check_frame(path, &frame, error);
                count += 1;
            }
            Err((code, _)) => return (count, code),
        }
    }
}

both_backends!(websocket_frames_match_the_document, ws_gateway(), |env| {
    // Server stream: the first frame is the request.
    let mut s = ws(&env, "/streaming/server/generate?count=3").await;
    s.send(Message::text("{}")).await.unwrap();
    assert_eq!(
        frames_until_close(&mut s, "/streaming/server/generate").await,
        (3, 1000)
    );
    // Bidi: a response per request, then an error frame and 1011.
    let mut s = ws(&env, "/streaming/bidi/chat").await;
    s.send(Message::text(r#"{"user":"me","text":"hi"}"#))
        .await
        .unwrap();
    s.send(Message::text(r#"{"text":"fail"}"#)).await.unwrap();
    assert_eq!(
        frames_until_close(&mut s, "/streaming/bidi/chat").await,
        (2, 1011)
    );
    // Body field and response_body: frames are plain strings.
    let mut s = ws(&env, "/streaming/bidi/chat-text-only").await;
    s.send(Message::text(r#""plain""#)).await.unwrap();
    s.send(Message::text("")).await.unwrap();
    assert_eq!(
        frames_until_close(&mut s, "/streaming/bidi/chat-text-only").await,
        (1, 1000)
    );
    // Client stream: one response frame after the requests.
    let mut s = ws(&env, "/streaming/client/add").await;
    for v in [1, 2] {
        s.send(Message::text(format!(r#"{{"value":{v}}}"#)))
            .await
            .unwrap();
    }
    s.send(Message::text("")).await.unwrap();
    assert_eq!(
        frames_until_close(&mut s, "/streaming/client/add").await,
        (1, 1000)
    );
});

/// Each call must panic: a body that does not match the document.
fn rejected(what: &str, check: impl FnOnce() + std::panic::UnwindSafe) {
    let result = std::panic::catch_unwind(check);
    assert!(result.is_err(), "the truth check accepted {what}");
}

#[tokio::test]
async fn the_truth_check_rejects_drift() {
    let env = Env::start(Backend::InProcess, Gateway::default()).await;
    // What the gateway answers passes (checked inside `send`)...
    let (status, body) = env.get("/streaming/server/generate?count=1").await;
    assert_eq!(status, 200, "{body}");
    let line = body.lines().next().unwrap().to_string();
    truth::check_item(
        "GET",
        "/streaming/server/generate",
        "application/x-ndjson",
        &line,
    );
    // ...and bodies that drift do not.
    rejected("an int32 written as a string", || {
        truth::check_item(
            "GET",
            "/streaming/server/generate",
            "application/x-ndjson",
            r#"{"index":"0"}"#,
        )
    });
    rejected("a field the message does not have", || {
        truth::check_item(
            "GET",
            "/streaming/server/generate",
            "text/event-stream",
            r#"{"index":0,"color":"red"}"#,
        )
    });
    rejected("an error body with a string code", || {
        truth::check_error(r#"{"code":"5","message":"x","details":[]}"#, "error")
    });
    rejected("a WebSocket frame of another message", || {
        truth::check_frame("/streaming/bidi/chat", r#"{"sum":1}"#, false)
    });
    rejected("a response to a GET the documents do not have", || {
        truth::check_response("GET", "/not/bound", 200, "application/json", "{}");
    });
}
