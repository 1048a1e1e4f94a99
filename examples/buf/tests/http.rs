//! The buf-generated gateway answers HTTP: a note posted, read back by the
//! binding from notes_gateway.yaml, and replayed as NDJSON.

#![allow(missing_docs)]

use buf_example::{Notebook, app};
use http_body_util::BodyExt;
use tower::ServiceExt;

async fn send(app: &axum::Router, method: &str, uri: &str, body: &str) -> (u16, String) {
    let request = axum::http::Request::builder()
        .method(method)
        .uri(uri)
        .body(axum::body::Body::from(body.to_string()))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn post_get_and_watch() {
    let app = app(Notebook::default());
    let (status, body) = send(
        &app,
        "POST",
        "/v1/notes",
        r#"{"text":"buy milk","tags":["home"]}"#,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.starts_with(r#"{"id":"1","text":"buy milk","tags":["home"],"writtenAt":""#),
        "{body}"
    );

    let (status, read) = send(&app, "GET", "/v1/notes/1", "").await;
    assert_eq!((status, read.as_str()), (200, body.as_str()));

    let (status, lines) = send(&app, "GET", "/v1/notes:watch?tag=home", "").await;
    assert_eq!((status, lines), (200, format!("{body}\n")));

    let (status, error) = send(&app, "GET", "/v1/notes/7", "").await;
    assert_eq!(
        (status, error.as_str()),
        (404, r#"{"code":5,"message":"no note 7","details":[]}"#)
    );
}
