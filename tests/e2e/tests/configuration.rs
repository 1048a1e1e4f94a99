//! The configuration shown in docs/configuration.md, built and served: if
//! this stops compiling or behaving, the docs are wrong.

mod common;

use std::time::Duration;

use common::{Backend, Env};
use gateway_runtime::Gateway;
use gateway_runtime::JsonOptions;
use gateway_runtime::streaming::SseEvent;
use gateway_runtime::streaming::{ChunkedConfig, OriginPolicy, SseConfig, WebSocketConfig};

/// Every setting of the runtime, with its default spelled out where it has
/// one.
fn documented_gateway() -> Gateway {
    Gateway::builder()
        // JSON: defaults shown (lowerCamelCase names out, default values
        // written, unknown request fields skipped).
        .json_options(JsonOptions {
            emit_defaults: true,
            use_proto_names: false,
            ignore_unknown_fields: true,
        })
        // Request bodies over 1 MiB are refused with 413.
        .body_limit(1024 * 1024)
        // Forward `X-Tenant` as `tenant` metadata too.
        .incoming_header_matcher(|name| match name {
            "x-tenant" => Some("tenant".to_string()),
            other => gateway_runtime::metadata::default_incoming_header_matcher(other),
        })
        // Server-Sent Events: ids and event names from response fields,
        // a reconnect hint, heartbeats every 15 s, the Go gateway's EOS.
        .sse(
            SseConfig::default()
                .id_field("id")
                .event_field("kind")
                .retry(Some(Duration::from_secs(3)))
                .heartbeat(Some(Duration::from_secs(15)))
                .end_of_stream(Some(SseEvent::end_of_stream())),
        )
        // WebSocket: off unless configured; pages of app.example may connect.
        .websocket(
            WebSocketConfig::default()
                .origin_policy(OriginPolicy::Allow(vec!["https://app.example".to_string()]))
                .max_message_size(64 * 1024)
                .ping_interval(Some(Duration::from_secs(30)))
                .pong_timeout(Duration::from_secs(30)),
        )
        // NDJSON: a blank line every 20 s keeps idle proxies from closing.
        .chunked(ChunkedConfig::default().heartbeat(Some(Duration::from_secs(20))))
        // Wait up to 250 ms for a stream's first message before committing
        // headers, so early errors are real HTTP errors.
        .first_message_wait(Duration::from_millis(250))
        .build()
}

#[tokio::test]
async fn the_documented_configuration_works() {
    let env = Env::start(Backend::InProcess, documented_gateway()).await;
    // Body limit.
    let big = format!(r#"{{"text":"{}"}}"#, "x".repeat(2 * 1024 * 1024));
    assert_eq!(env.post("/v1/echo", &big).await.0, 413);
    // Custom header matcher.
    let (_, _, body) = env
        .send("GET", "/v1/metadata", None, &[("X-Tenant", "acme")])
        .await;
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["metadata"]["tenant"], "acme");
    // SSE ids, event names and retry hint.
    let (_, _, body) = env
        .send(
            "GET",
            "/streaming/server/generate?count=1",
            None,
            &[("Accept", "text/event-stream")],
        )
        .await;
    assert!(
        body.starts_with("retry: 3000\n\nid: c0\nevent: even\ndata: "),
        "{body}"
    );
    assert!(body.ends_with("id: EOS\nevent: EOS\ndata: \n\n"), "{body}");
}
