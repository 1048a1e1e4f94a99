//! CORS with tower-http's layer in front of the gateway, as
//! docs/configuration.md shows it: a real preflight for a JSON POST, the
//! answer to the POST itself, and an `EventSource` with credentials.

mod common;

use std::time::Duration;

use common::{Backend, app};
use gateway_e2e::serve::spawn_http;
use gateway_runtime::Gateway;
use http::{HeaderName, HeaderValue, Method, header};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// The layer of docs/configuration.md.
fn cors() -> CorsLayer {
    CorsLayer::new()
        // Credentials (cookies) need exact origins, never `*`.
        .allow_origin(AllowOrigin::list([HeaderValue::from_static(
            "https://app.example",
        )]))
        .allow_credentials(true)
        .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE])
        // JSON bodies, bearer tokens, deadlines, SSE resumption.
        .allow_headers([
            header::CONTENT_TYPE,
            header::AUTHORIZATION,
            HeaderName::from_static("grpc-timeout"),
            HeaderName::from_static("last-event-id"),
        ])
        // Response metadata a page may read.
        .expose_headers([HeaderName::from_static("grpc-metadata-x-reply")])
        .max_age(Duration::from_secs(600))
}

async fn start() -> std::net::SocketAddr {
    let gateway = Gateway::default();
    spawn_http(app(Backend::InProcess, &gateway).await.layer(cors())).await
}

#[tokio::test]
async fn preflight_for_a_json_post() {
    let addr = start().await;
    let client = reqwest::Client::new();
    let preflight = client
        .request(reqwest::Method::OPTIONS, format!("http://{addr}/v1/echo"))
        .header("origin", "https://app.example")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type,authorization",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 200);
    let h = preflight.headers();
    assert_eq!(h["access-control-allow-origin"], "https://app.example");
    assert_eq!(h["access-control-allow-credentials"], "true");
    assert_eq!(h["access-control-allow-methods"], "GET,POST,PATCH,DELETE");
    assert_eq!(
        h["access-control-allow-headers"],
        "content-type,authorization,grpc-timeout,last-event-id"
    );
    assert_eq!(h["access-control-max-age"], "600");

    // The POST itself is answered by the gateway, with the CORS headers.
    let response = client
        .post(format!("http://{addr}/v1/echo"))
        .header("origin", "https://app.example")
        .header("content-type", "application/json")
        .body(r#"{"text":"hi"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "https://app.example"
    );
    assert_eq!(
        response.headers()["access-control-expose-headers"],
        "grpc-metadata-x-reply"
    );

    // Another origin gets no CORS headers: the browser blocks the page.
    let other = client
        .request(reqwest::Method::OPTIONS, format!("http://{addr}/v1/echo"))
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn event_source_with_credentials() {
    // `new EventSource(url, {withCredentials: true})` sends a simple GET
    // (no preflight) with the page's origin and cookies; the browser reads
    // the stream only if the origin is echoed and credentials allowed.
    let addr = start().await;
    let response = reqwest::Client::new()
        .get(format!("http://{addr}/streaming/server/generate?count=1"))
        .header("origin", "https://app.example")
        .header("accept", "text/event-stream")
        .header("cookie", "session=s1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "https://app.example"
    );
    assert_eq!(
        response.headers()["access-control-allow-credentials"],
        "true"
    );
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let text = response.text().await.unwrap();
    assert!(text.starts_with("data: {\"index\":0"), "{text}");
}
