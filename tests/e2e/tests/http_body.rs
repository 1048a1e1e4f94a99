//! `google.api.HttpBody` end to end (`e2e/files.proto`), both backends:
//! raw responses with their content type, raw request bodies (whole
//! request and a body field), streamed downloads and uploads, limits.

mod common;

use common::{Backend, Env};
use gateway_e2e::e2e::files::files_gateway;
use gateway_e2e::e2e::files::files_server::FilesServer;
use gateway_e2e::files::{FNV_START, FileService, file_byte, fnv1a, spawn_grpc};
use gateway_e2e::serve::spawn_http;
use gateway_runtime::{Direct, Gateway, RouterExt};

async fn start(backend: Backend, gateway: Gateway) -> Env {
    let router = match backend {
        Backend::Remote => {
            let grpc = spawn_grpc().await;
            let channel = tonic::transport::Endpoint::from_shared(format!("http://{grpc}"))
                .unwrap()
                .connect()
                .await
                .unwrap();
            files_gateway::router(channel, &gateway)
        }
        Backend::InProcess => files_gateway::router(FilesServer::new(FileService), &gateway),
        Backend::Direct => files_gateway::direct_router(Direct::new(FileService), &gateway),
    };
    Env {
        addr: spawn_http(router.with_gateway_fallbacks(&gateway)).await,
        http: reqwest::Client::new(),
        truth: true,
    }
}

fn expected_file(size: u64) -> Vec<u8> {
    (0..size).map(file_byte).collect()
}

async fn bytes_of(
    env: &Env,
    method: &str,
    path: &str,
    body: Vec<u8>,
    headers: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let mut request = env.http.request(
        reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
        env.url(path),
    );
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = request.body(body).send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.bytes().await.unwrap().to_vec())
}

async fn raw_responses(backend: Backend) {
    let env = start(backend, Gateway::default()).await;
    let (status, headers, body) = bytes_of(&env, "GET", "/files/report.csv", vec![], &[]).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
    assert_eq!(body, b"a,b\n1,2\n");
    // No content type in the message: octet-stream.
    let (status, headers, body) = bytes_of(&env, "GET", "/files/untyped", vec![], &[]).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/octet-stream");
    assert_eq!(body, [0, 1, 2, 255]);
    // Errors are the usual JSON errors.
    let (status, headers, body) = bytes_of(&env, "GET", "/files/nope", vec![], &[]).await;
    assert_eq!(status, 404);
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(
        String::from_utf8(body).unwrap(),
        r#"{"code":5,"message":"no file \"nope\"","details":[]}"#
    );
}

async fn raw_requests(backend: Backend) {
    let env = start(backend, Gateway::builder().body_limit(1024).build()).await;
    // The whole request is the body: echoed byte for byte.
    let png = vec![0x89, b'P', b'N', b'G', 0, 0xff, 13, 10];
    let (status, headers, body) = bytes_of(
        &env,
        "POST",
        "/files:echo",
        png.clone(),
        &[("Content-Type", "image/png")],
    )
    .await;
    assert_eq!((status, body), (200, png));
    assert_eq!(headers["content-type"], "image/png");
    // A body field of type HttpBody; the path fills the rest.
    let (status, _, body) = bytes_of(
        &env,
        "PUT",
        "/files/notes.txt",
        b"hello".to_vec(),
        &[("Content-Type", "text/plain")],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        String::from_utf8(body).unwrap(),
        format!(
            r#"{{"name":"notes.txt","contentType":"text/plain","bytes":"5","messages":1,"largest":5,"checksum":"{}"}}"#,
            fnv1a(FNV_START, b"hello")
        )
    );
    // Over the body limit: 413, for both forms.
    for (method, path) in [("POST", "/files:echo"), ("PUT", "/files/big.bin")] {
        let (status, _, body) = bytes_of(&env, method, path, vec![7; 1025], &[]).await;
        assert_eq!(status, 413, "{path}");
        assert_eq!(
            String::from_utf8(body).unwrap(),
            r#"{"code":8,"message":"request body is larger than the limit of 1024 bytes","details":[]}"#,
            "{path}"
        );
    }
}

async fn streamed_download(backend: Backend) {
    let env = start(backend, Gateway::default()).await;
    let (status, headers, body) = bytes_of(
        &env,
        "GET",
        "/files/data.bin:stream?size=200000&piece=65536",
        vec![],
        &[],
    )
    .await;
    assert_eq!(status, 200);
    // The first message decides the content type.
    assert_eq!(headers["content-type"], "application/x-test-file");
    assert_eq!(body, expected_file(200_000));
    // An error before the first message is an HTTP error.
    let (status, _, body) = bytes_of(&env, "GET", "/files/missing:stream", vec![], &[]).await;
    assert_eq!(status, 404);
    assert_eq!(
        String::from_utf8(body).unwrap(),
        r#"{"code":5,"message":"no file \"missing\"","details":[]}"#
    );
    // Raw bytes have no SSE framing: asking for SSE is refused.
    let (status, _, body) = bytes_of(
        &env,
        "GET",
        "/files/data.bin:stream?size=10",
        vec![],
        &[("Accept", "text/event-stream")],
    )
    .await;
    assert_eq!(status, 501);
    assert_eq!(
        String::from_utf8(body).unwrap(),
        r#"{"code":12,"message":"SSE streaming is not available for this endpoint: its messages are google.api.HttpBody: the HTTP body itself is the stream","details":[]}"#
    );
}

async fn streamed_upload(backend: Backend) {
    let env = start(backend, Gateway::default()).await;
    let data = expected_file(300_000);
    let (status, _, body) = bytes_of(
        &env,
        "POST",
        "/files:upload",
        data.clone(),
        &[("Content-Type", "application/x-test-file")],
    )
    .await;
    assert_eq!(status, 200);
    let summary: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(summary["contentType"], "application/x-test-file");
    assert_eq!(summary["bytes"], "300000");
    assert_eq!(summary["checksum"], fnv1a(FNV_START, &data).to_string());
    let largest = summary["largest"].as_u64().unwrap();
    assert!(
        largest > 0 && largest <= gateway_runtime::streaming::UPLOAD_PIECE as u64,
        "{summary}"
    );
    assert!(summary["messages"].as_u64().unwrap() >= 5, "{summary}");
}

macro_rules! both {
    ($name:ident) => {
        mod $name {
            use super::*;

            #[tokio::test]
            async fn remote() {
                super::$name(Backend::Remote).await;
            }

            #[tokio::test]
            async fn in_process() {
                super::$name(Backend::InProcess).await;
            }

            #[tokio::test]
            async fn direct() {
                super::$name(Backend::Direct).await;
            }
        }
    };
}

both!(raw_responses);
both!(raw_requests);
both!(streamed_download);
both!(streamed_upload);
