//! Each generated file stands alone: the build script generates all `e2e.*`
//! packages in one run, and here only some packages' files are included,
//! without the others of that run. `e2e.awkward` imports `e2e.common`, so
//! it comes with that package's files and nothing else; `e2e.stream.v1`
//! imports no other package of the run and comes alone. This file compiles
//! only if a router registers no `Any` types beyond the packages its own
//! file reaches through its imports.

#![allow(missing_docs)]

use gateway_runtime::Gateway;
use http_body_util::BodyExt;
use tower::ServiceExt;

mod only_awkward {
    pub mod e2e {
        pub mod common {
            include!(concat!(env!("OUT_DIR"), "/e2e.common.rs"));
            include!(concat!(env!("OUT_DIR"), "/e2e.common.gateway.rs"));
        }
        pub mod awkward {
            include!(concat!(env!("OUT_DIR"), "/e2e.awkward.rs"));
            include!(concat!(env!("OUT_DIR"), "/e2e.awkward.gateway.rs"));
        }
    }
}

mod only_stream {
    pub mod e2e {
        pub mod stream {
            pub mod v1 {
                include!(concat!(env!("OUT_DIR"), "/e2e.stream.v1.rs"));
                include!(concat!(env!("OUT_DIR"), "/e2e.stream.v1.gateway.rs"));
            }
        }
    }
}

/// A channel to a port nothing listens on: these requests fail in binding,
/// before any call.
fn channel() -> tonic::transport::Channel {
    tonic::transport::Endpoint::from_static("http://127.0.0.1:9").connect_lazy()
}

async fn status_of(router: axum::Router, method: &str, uri: &str, body: &str) -> (u16, String) {
    let request = http::Request::builder()
        .method(method)
        .uri(uri)
        .body(axum::body::Body::from(body.to_string()))
        .unwrap();
    let response = router.oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn one_package_with_its_imports_compiles_and_routes() {
    use only_awkward::e2e::awkward::abc_service_gateway;
    let router = abc_service_gateway::router(channel(), &Gateway::default());
    let (status, body) = status_of(router, "POST", "/awkward", "{").await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn one_package_alone_compiles_and_routes() {
    use only_stream::e2e::stream::v1::streaming_test_gateway;
    let router = streaming_test_gateway::router(channel(), &Gateway::default());
    let (status, body) = status_of(router, "GET", "/no/such/route", "").await;
    assert_eq!(status, 404, "{body}");
}
