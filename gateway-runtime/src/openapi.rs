//! Serving an OpenAPI document the generator wrote (option `openapi=json`
//! or `openapi=yaml`, or `Builder::openapi` in build.rs).
//!
//! ```ignore
//! let app = router.merge(gateway_runtime::openapi::route(
//!     "/openapi.json",
//!     gateway_runtime::include_openapi!("chat.v1"),
//! ));
//! ```

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::get;

/// A router that answers `GET path` (and `HEAD`) with `document`: as
/// `application/json` when it is JSON, else as `application/yaml`. Browsers
/// on other origins (Swagger UI, editors) may read it
/// (`Access-Control-Allow-Origin: *`): the document describes the public API
/// and holds no secrets.
pub fn route<S>(path: &str, document: &'static str) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let content_type = if document.trim_start().starts_with('{') {
        "application/json"
    } else {
        "application/yaml"
    };
    Router::new().route(
        path,
        get(move || async move {
            (
                [
                    (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
                    (
                        header::ACCESS_CONTROL_ALLOW_ORIGIN,
                        HeaderValue::from_static("*"),
                    ),
                ],
                document,
            )
                .into_response()
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    async fn fetch(router: Router, path: &str) -> (u16, String, String) {
        let response = router
            .oneshot(
                axum::http::Request::get(path)
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            content_type,
            String::from_utf8(body.to_vec()).unwrap(),
        )
    }

    #[tokio::test]
    async fn serves_json_and_yaml_documents_as_they_are() {
        let json = "{\"openapi\": \"3.1.0\"}\n";
        let (status, content_type, body) =
            fetch(route("/openapi.json", json), "/openapi.json").await;
        assert_eq!(
            (status, content_type.as_str(), body.as_str()),
            (200, "application/json", json)
        );
        let yaml = "openapi: 3.1.0\n";
        let (status, content_type, body) =
            fetch(route("/openapi.yaml", yaml), "/openapi.yaml").await;
        assert_eq!(
            (status, content_type.as_str(), body.as_str()),
            (200, "application/yaml", yaml)
        );
        let (status, _, _) = fetch(route("/openapi.json", json), "/other").await;
        assert_eq!(status, 404);
    }
}
