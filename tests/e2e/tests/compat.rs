//! What a user of the Go gateway (meshapi/grpc-api-gateway) brings, end to
//! end: the shapes of the Go project's integration services (`e2e/compat.proto`,
//! `compat_gateway.yaml`, the global `global_gateway.yaml`) answer as the Go
//! gateway answers them, with both backends. Each case names the Go
//! behaviour it pins.

mod common;

use common::{Backend, Env};
use gateway_e2e::compat::{Compat, spawn_grpc};
use gateway_e2e::e2e::compat::global_compat_server::GlobalCompatServer;
use gateway_e2e::e2e::compat::patch_compat_server::PatchCompatServer;
use gateway_e2e::e2e::compat::path_compat_server::PathCompatServer;
use gateway_e2e::e2e::compat::query_compat_server::QueryCompatServer;
use gateway_e2e::e2e::compat::{
    global_compat_gateway, patch_compat_gateway, path_compat_gateway, query_compat_gateway,
};
use gateway_e2e::serve::spawn_http;
use gateway_runtime::{Direct, Gateway, RouterExt};

/// The four compat services behind one gateway.
async fn start(backend: Backend) -> Env {
    let gateway = Gateway::builder().emit_defaults(false).build();
    let app = match backend {
        Backend::Remote => {
            let grpc = spawn_grpc().await;
            let channel = tonic::transport::Endpoint::from_shared(format!("http://{grpc}"))
                .unwrap()
                .connect()
                .await
                .unwrap();
            axum::Router::new()
                .merge(path_compat_gateway::router(channel.clone(), &gateway))
                .merge(query_compat_gateway::router(channel.clone(), &gateway))
                .merge(patch_compat_gateway::router(channel.clone(), &gateway))
                .merge(global_compat_gateway::router(channel, &gateway))
        }
        Backend::InProcess => axum::Router::new()
            .merge(path_compat_gateway::router(
                PathCompatServer::new(Compat),
                &gateway,
            ))
            .merge(query_compat_gateway::router(
                QueryCompatServer::new(Compat),
                &gateway,
            ))
            .merge(patch_compat_gateway::router(
                PatchCompatServer::new(Compat),
                &gateway,
            ))
            .merge(global_compat_gateway::router(
                GlobalCompatServer::new(Compat),
                &gateway,
            )),
        Backend::Direct => axum::Router::new()
            .merge(path_compat_gateway::direct_router(
                Direct::new(Compat),
                &gateway,
            ))
            .merge(query_compat_gateway::direct_router(
                Direct::new(Compat),
                &gateway,
            ))
            .merge(patch_compat_gateway::direct_router(
                Direct::new(Compat),
                &gateway,
            ))
            .merge(global_compat_gateway::direct_router(
                Direct::new(Compat),
                &gateway,
            )),
    };
    let addr = spawn_http(app.with_gateway_fallbacks(&gateway)).await;
    Env {
        addr,
        http: reqwest::Client::new(),
        truth: true,
    }
}

/// `(method, path and query, body, expected status, expected body)`.
type Case = (
    &'static str,
    &'static str,
    Option<&'static str>,
    u16,
    &'static str,
);

async fn check(backend: Backend, cases: &[Case]) {
    let env = start(backend).await;
    for (method, path, body, status, expected) in cases {
        let (got_status, _, got) = env.send(method, path, *body, &[]).await;
        assert_eq!(
            (got_status, got.as_str()),
            (*status, *expected),
            "{method} {path}"
        );
    }
}

/// Runs a table against every backend.
macro_rules! table {
    ($name:ident, $cases:expr) => {
        mod $name {
            use super::*;

            #[tokio::test]
            async fn remote() {
                check(Backend::Remote, $cases).await;
            }

            #[tokio::test]
            async fn in_process() {
                check(Backend::InProcess, $cases).await;
            }

            #[tokio::test]
            async fn direct() {
                check(Backend::Direct, $cases).await;
            }
        }
    };
}

// Path variables: enums by number and by name, repeated values split on
// commas, oneof members, and the Go catch-all `{f=*}` under a lower-case
// custom method (`test`, served as `TEST`).
table!(
    path_variables,
    &[
        (
            "GET",
            "/compat/path/urgency/ID/1",
            None,
            200,
            r#"{"id":"ID","urgency":"URGENCY_HIGH"}"#
        ),
        (
            "GET",
            "/compat/path/urgency/ID/URGENCY_LOW",
            None,
            200,
            r#"{"id":"ID","urgency":"URGENCY_LOW"}"#
        ),
        (
            "GET",
            "/compat/path/steps/ID/0,1",
            None,
            200,
            r#"{"id":"ID","steps":["STEP_ZERO","STEP_ONE"]}"#
        ),
        (
            "GET",
            "/compat/path/steps/ID/STEP_ONE,STEP_TWO",
            None,
            200,
            r#"{"id":"ID","steps":["STEP_ONE","STEP_TWO"]}"#
        ),
        (
            "GET",
            "/compat/path/oneof/ID/1/12",
            None,
            200,
            r#"{"id":"ID","seasonNum":12,"noteInfo":{"kindId":1}}"#
        ),
        (
            "GET",
            "/compat/path/labels/ID/one,two,three",
            None,
            200,
            r#"{"id":"ID","labels":["one","two","three"]}"#
        ),
        (
            "TEST",
            "/compat/path/catch-all/ID/something/interesting/with/slashes",
            None,
            200,
            r#"{"id":"ID","detail":{"text":"/something/interesting/with/slashes"}}"#,
        ),
        (
            "TEST",
            "/compat/path/catch-all/ID/one",
            None,
            200,
            r#"{"id":"ID","detail":{"text":"/one"}}"#
        ),
        // HTTP methods are case-sensitive: only the upper-case spelling is served.
        (
            "test",
            "/compat/path/catch-all/ID/one",
            None,
            405,
            r#"{"code":12,"message":"Method Not Allowed","details":[]}"#,
        ),
    ]
);

// Query parameters as the Go gateway binds them: discovery by proto and JSON
// names, aliases (the original selector is blocked, the JSON name is not),
// ignored fields, discovery off, body and query together.
table!(
    query_parameters,
    &[
        (
            "GET",
            "/compat/query/auto?id=ID&count=51&season_name=Jan",
            None,
            200,
            r#"{"id":"ID","count":"51","seasonName":"Jan"}"#
        ),
        (
            "GET",
            "/compat/query/auto?id=ID&urgency=1",
            None,
            200,
            r#"{"id":"ID","urgency":"URGENCY_HIGH"}"#
        ),
        (
            "GET",
            "/compat/query/auto?id=ID&urgency=URGENCY_LOW",
            None,
            200,
            r#"{"id":"ID","urgency":"URGENCY_LOW"}"#
        ),
        (
            "GET",
            "/compat/query/auto?noteInfo.kindName=Kind&detail.text=Nested",
            None,
            200,
            r#"{"noteInfo":{"kindName":"Kind"},"detail":{"text":"Nested"}}"#,
        ),
        (
            "GET",
            "/compat/query/auto?labels=a&labels=b&attributes[key1]=value1",
            None,
            200,
            r#"{"labels":["a","b"],"attributes":{"key1":"value1"}}"#,
        ),
        (
            "GET",
            "/compat/query/alias-override?identifier=ID&note=Text&attributes[key]=value",
            None,
            200,
            r#"{"id":"ID","noteInfo":{"text":"Text"},"attributes":{"key":"value"}}"#,
        ),
        (
            "GET",
            "/compat/query/alias-override?id=ID2",
            None,
            200,
            r#"{"id":"ID2"}"#
        ),
        (
            "GET",
            "/compat/query/alias-override?note_info.text=whatever",
            None,
            200,
            "{}"
        ),
        // An aliased field keeps its JSON name (`displayName`), not its proto name.
        (
            "GET",
            "/compat/query/alias-override?dn=Ada",
            None,
            200,
            r#"{"displayName":"Ada"}"#
        ),
        (
            "GET",
            "/compat/query/alias-override?displayName=Ada",
            None,
            200,
            r#"{"displayName":"Ada"}"#
        ),
        (
            "GET",
            "/compat/query/alias-override?display_name=Ada",
            None,
            200,
            "{}"
        ),
        (
            "GET",
            "/compat/query/ignore?id=ID&note_info.text=x&attributes[key]=value&detail.text=Text2",
            None,
            200,
            r#"{"detail":{"text":"Text2"},"attributes":{"key":"value"}}"#,
        ),
        // Ignored means ignored in every spelling (the Go gateway still binds
        // the JSON name; docs/migrating.md).
        (
            "GET",
            "/compat/query/ignore?displayName=x&noteInfo.text=y",
            None,
            200,
            "{}"
        ),
        ("GET", "/compat/query/none?id=ID&labels=a", None, 200, "{}"),
        (
            "GET",
            "/compat/query/aliases-only?id=ID&kind=1&detail.kind_id=2&displayName=x&dn=Ada",
            None,
            200,
            r#"{"id":"ID","detail":{"kindId":1},"displayName":"Ada"}"#,
        ),
        (
            "POST",
            "/compat/query/body-and-query/12?labels=a&labels=b",
            Some(r#"{"text":"Text"}"#),
            200,
            r#"{"id":"12","detail":{"text":"Text"},"labels":["a","b"]}"#,
        ),
        (
            "POST",
            "/compat/query/body-only?id=2",
            Some(r#"{"id":"1"}"#),
            200,
            r#"{"id":"1"}"#
        ),
        (
            "TEST",
            "/compat/query/auto?id=ID&labels=a&labels=b",
            None,
            200,
            r#"{"id":"ID","labels":["a","b"]}"#
        ),
    ]
);

// PUT and PATCH with the whole body or a body field: only PATCH with a body
// field fills `update_mask` from the fields sent.
table!(
    patch_and_put,
    &[
        (
            "PUT",
            "/compat/patch/full/ID",
            Some(r#"{"card":{"noteText":"something","urgency":"URGENCY_HIGH"}}"#),
            200,
            r#"{"card":{"id":"ID","noteText":"something","urgency":"URGENCY_HIGH"}}"#,
        ),
        (
            "PUT",
            "/compat/patch/full/ID",
            Some(r#"{"card":{"noteText":"something"},"updateMask":"noteText"}"#),
            200,
            r#"{"card":{"id":"ID","noteText":"something"},"updateMask":"noteText"}"#,
        ),
        (
            "PATCH",
            "/compat/patch/full/ID",
            Some(r#"{"card":{"noteText":"something","urgency":"URGENCY_HIGH"}}"#),
            200,
            r#"{"card":{"id":"ID","noteText":"something","urgency":"URGENCY_HIGH"}}"#,
        ),
        (
            "PUT",
            "/compat/patch/body/ID",
            Some(r#"{"note_text":"something","urgency":"URGENCY_HIGH"}"#),
            200,
            r#"{"card":{"id":"ID","noteText":"something","urgency":"URGENCY_HIGH"}}"#,
        ),
        (
            "PATCH",
            "/compat/patch/body/ID",
            Some(r#"{"note_text":"something","urgency":"URGENCY_HIGH"}"#),
            200,
            r#"{"card":{"id":"ID","noteText":"something","urgency":"URGENCY_HIGH"},"updateMask":"noteText,urgency"}"#,
        ),
    ]
);

// A method bound only by the global binding file.
table!(
    global_binding_file,
    &[(
        "GET",
        "/compat/global/ID?count=3",
        None,
        200,
        r#"{"id":"ID","count":"3"}"#
    )]
);

// A server stream whose last path variable is a catch-all, as SSE and NDJSON.
mod server_stream {
    use super::*;

    async fn run(backend: Backend) {
        let env = start(backend).await;
        let path = "/compat/repeat/2/reports/2026/q3.csv?card.urgency=URGENCY_LOW";
        let card = r#"{"id":"/reports/2026/q3.csv","urgency":"URGENCY_LOW"}"#;
        let (status, headers, body) = env
            .send("GET", path, None, &[("Accept", "text/event-stream")])
            .await;
        assert_eq!(status, 200);
        assert_eq!(headers["content-type"], "text/event-stream");
        assert_eq!(
            body,
            format!("data: {card}\n\ndata: {card}\n\nid: EOS\nevent: EOS\ndata: \n\n")
        );
        let (status, headers, body) = env.send("GET", path, None, &[]).await;
        assert_eq!(status, 200);
        assert_eq!(headers["content-type"], "application/x-ndjson");
        assert_eq!(body, format!("{card}\n{card}\n"));
    }

    #[tokio::test]
    async fn remote() {
        run(Backend::Remote).await;
    }

    #[tokio::test]
    async fn in_process() {
        run(Backend::InProcess).await;
    }

    #[tokio::test]
    async fn direct() {
        run(Backend::Direct).await;
    }
}
