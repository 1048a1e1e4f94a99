//! `google.api.http` end to end: the same methods bound once by annotations
//! (`e2e.everything.Annotated`, under `/a/`) and once by a grpc-gateway
//! service configuration (`Configured`, under `/c/`) answer byte for byte
//! the same, with both backends.

mod common;

use common::{Backend, Env};
use gateway_e2e::e2e::everything::annotated_server::AnnotatedServer;
use gateway_e2e::e2e::everything::configured_server::ConfiguredServer;
use gateway_e2e::e2e::everything::{annotated_gateway, configured_gateway};
use gateway_e2e::everything::{EverythingService, spawn_grpc};
use gateway_e2e::serve::spawn_http;
use gateway_runtime::{Direct, Gateway, RouterExt};

async fn start(backend: Backend) -> Env {
    let gateway = Gateway::builder().emit_defaults(false).build();
    let (annotated, configured) = match backend {
        Backend::Remote => {
            let grpc = spawn_grpc().await;
            let channel = tonic::transport::Endpoint::from_shared(format!("http://{grpc}"))
                .unwrap()
                .connect()
                .await
                .unwrap();
            (
                annotated_gateway::router(channel.clone(), &gateway),
                configured_gateway::router(channel, &gateway),
            )
        }
        Backend::InProcess => (
            annotated_gateway::router(AnnotatedServer::new(EverythingService), &gateway),
            configured_gateway::router(ConfiguredServer::new(EverythingService), &gateway),
        ),
        Backend::Direct => (
            annotated_gateway::direct_router(Direct::new(EverythingService), &gateway),
            configured_gateway::direct_router(Direct::new(EverythingService), &gateway),
        ),
    };
    let app = axum::Router::new()
        .merge(annotated)
        .merge(configured)
        .with_gateway_fallbacks(&gateway);
    Env {
        addr: spawn_http(app).await,
        http: reqwest::Client::new(),
        truth: true,
    }
}

/// `(method, path after the /a or /c prefix, body, headers, status, body)`.
type Case = (
    &'static str,
    &'static str,
    Option<&'static str>,
    &'static [(&'static str, &'static str)],
    u16,
    &'static str,
);

const SSE: &[(&str, &str)] = &[("Accept", "text/event-stream")];

const CASES: &[Case] = &[
    (
        "POST",
        "/v1/everything/1.5/2.5/-3/separator/4/-5/6/7/true/strprefix/s8/9/-10/-11/-12/-13/NUMERAL_TWO",
        None,
        &[],
        200,
        r#"{"floatValue":1.5,"doubleValue":2.5,"int64Value":"-3","uint64Value":"4","int32Value":-5,"fixed64Value":"6","fixed32Value":7,"boolValue":true,"stringValue":"strprefix/s8","uint32Value":9,"enumValue":"NUMERAL_TWO","sfixed32Value":-10,"sfixed64Value":"-11","sint32Value":-12,"sint64Value":"-13"}"#,
    ),
    (
        "POST",
        "/v1/items",
        Some(
            r#"{"uuid":"u1","singleNested":{"name":"n","amount":3,"numeral":"NUMERAL_ONE"},"nested":[{"name":"a"}],"bytesValue":"AQI=","repeatedString":["x","y"],"oneofString":"o","mapValue":{"k":"NUMERAL_TWO"},"mappedNested":{"m":{"amount":1}},"timestampValue":"2026-11-30T08:00:00Z","durationValue":"1.500s","wrappedString":"w","structValue":{"a":[1,"b",null]},"optionalString":"","repeatedEnum":["NUMERAL_ONE",2]}"#,
        ),
        &[],
        200,
        r#"{"singleNested":{"name":"n","amount":3,"numeral":"NUMERAL_ONE"},"uuid":"u1","nested":[{"name":"a"}],"bytesValue":"AQI=","repeatedString":["x","y"],"oneofString":"o","mapValue":{"k":"NUMERAL_TWO"},"mappedNested":{"m":{"amount":1}},"timestampValue":"2026-11-30T08:00:00Z","durationValue":"1.500s","wrappedString":"w","structValue":{"a":[1,"b",null]},"optionalString":"","repeatedEnum":["NUMERAL_ONE","NUMERAL_TWO"]}"#,
    ),
    (
        "GET",
        "/v1/items/u%2F1",
        None,
        &[],
        200,
        r#"{"uuid":"u/1"}"#,
    ),
    (
        "GET",
        "/v1/projects/p1/items/i1?uuid=q&int32Value=7&repeated_string=a&repeated_string=b",
        None,
        &[],
        200,
        r#"{"name":"projects/p1/items/i1","uuid":"q","int32Value":7,"repeatedString":["a","b"]}"#,
    ),
    (
        "GET",
        "/v2/projects/p1/items/i1:fetch",
        None,
        &[],
        200,
        r#"{"name":"projects/p1/items/i1"}"#,
    ),
    (
        "GET",
        "/v2/projects/p1/items/i1",
        None,
        &[],
        404,
        r#"{"code":5,"message":"Not Found","details":[]}"#,
    ),
    (
        "PATCH",
        "/v1/items/u1",
        Some(r#"{"stringValue":"s","singleNested":{"amount":2}}"#),
        &[],
        200,
        r#"{"singleNested":{"amount":2},"uuid":"u1","stringValue":"s","repeatedString":["single_nested.amount","string_value"]}"#,
    ),
    (
        "GET",
        "/v1/deep/n1/42",
        None,
        &[],
        200,
        r#"{"singleNested":{"name":"n1","amount":42}}"#,
    ),
    (
        "GET",
        "/v1/files/a/b/c.txt",
        None,
        &[],
        200,
        r#"{"path":"a/b/c.txt"}"#,
    ),
    (
        "POST",
        "/v1/items/u1:custom",
        Some(r#"{"boolValue":true}"#),
        &[],
        200,
        r#"{"uuid":"u1","boolValue":true}"#,
    ),
    // `{uuid=*}` is one segment under the google.api.http rule.
    ("GET", "/v1/star/one", None, &[], 200, r#"{"uuid":"one"}"#),
    (
        "GET",
        "/v1/star/one/two",
        None,
        &[],
        404,
        r#"{"code":5,"message":"Not Found","details":[]}"#,
    ),
    (
        "GET",
        "/v1/items/u1:stream",
        None,
        SSE,
        200,
        "data: {\"uuid\":\"u1\"}\n\ndata: {\"uuid\":\"u1\",\"int32Value\":1}\n\nid: EOS\nevent: EOS\ndata: \n\n",
    ),
    (
        "GET",
        "/v1/items/u1:stream",
        None,
        &[],
        200,
        "{\"uuid\":\"u1\"}\n{\"uuid\":\"u1\",\"int32Value\":1}\n",
    ),
    // A POSTed server stream answers as SSE when the client asks for it.
    (
        "POST",
        "/v1/items:watch",
        Some(r#"{"uuid":"w"}"#),
        SSE,
        200,
        "data: {\"uuid\":\"w\"}\n\ndata: {\"uuid\":\"w\"}\n\nid: EOS\nevent: EOS\ndata: \n\n",
    ),
    (
        "POST",
        "/v1/items:watch",
        Some(r#"{"uuid":"w"}"#),
        &[],
        200,
        "{\"uuid\":\"w\"}\n{\"uuid\":\"w\"}\n",
    ),
];

async fn run(backend: Backend) {
    let env = start(backend).await;
    for (method, path, body, headers, status, expected) in CASES {
        for prefix in ["/a", "/c"] {
            let url = format!("{prefix}{path}");
            let (got_status, _, got) = env.send(method, &url, *body, headers).await;
            assert_eq!(
                (got_status, got.as_str()),
                (*status, *expected),
                "{method} {url}"
            );
        }
    }
}

#[tokio::test]
async fn annotations_and_service_config_answer_the_same_remote() {
    run(Backend::Remote).await;
}

#[tokio::test]
async fn annotations_and_service_config_answer_the_same_in_process() {
    run(Backend::InProcess).await;
}

#[tokio::test]
async fn annotations_and_service_config_answer_the_same_direct() {
    run(Backend::Direct).await;
}
