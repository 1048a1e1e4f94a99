//! Prototypes of the fixes that profiling pointed at, measured side by side
//! with the code they would change (`--experiments`). They live here
//! because this crate must not edit the runtime or the generator; see
//! docs/benchmarks.md for what each one shows.

use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::response::Response;
use axum::routing::{get, post};
use gateway_e2e::e2e::echo::v1::Kitchen;
use gateway_e2e::e2e::echo::v1::echo_service_client::EchoServiceClient;
use gateway_e2e::e2e::stream::v1::streaming_test_client::StreamingTestClient;
use gateway_runtime::__private::{
    BindContext, CallTarget, JsonMessage, JsonWriter, RouterState, RpcName, Seg, Template,
    UnaryBinding, UnaryInput, not_found, unary, unary_call,
};
use gateway_runtime::Gateway;
use tonic::transport::Channel;

/// `POST /v1/echo` exactly as the generated `handle_echo_0` serves it
/// (same runtime `unary`, same bind and write functions), except that the
/// tonic call future is boxed. tonic's `Grpc::unary` future is 5.3 KiB and
/// `unary` holds it across two await points, so `unary`'s future is 8 KiB
/// (1.6 KiB with the box) and every layer that creates or moves it copies
/// that much.
pub fn boxed_call_router(channel: Channel, gateway: &Gateway) -> axum::Router {
    axum::Router::new()
        .route("/v1/echo", post(boxed_call_echo))
        .with_state(RouterState::new(
            TonicClient(EchoServiceClient::new(channel)),
            gateway,
        ))
}

/// The tonic client as the runtime's backend: tonic adds `te`,
/// `content-type`, `user-agent` and `grpc-timeout` to the metadata, as on
/// the runtime's own `Remote`.
#[derive(Clone)]
struct TonicClient(EchoServiceClient<Channel>);

impl CallTarget for TonicClient {
    const ADDED_METADATA: usize = 4;
}

async fn boxed_call_echo(
    State(state): State<RouterState>,
    request: axum::extract::Request,
) -> Response {
    static BINDING: UnaryBinding = UnaryBinding {
        reads_body: true,
        rpc: RpcName {
            route: "/v1/echo",
            service: "e2e.echo.v1.EchoService",
            method: "Echo",
        },
    };
    static TEMPLATE: Template = Template {
        segments: &[Seg::Lit("v1"), Seg::Lit("echo")],
        verb: None,
        captures: &[],
    };
    let Some(captures) = TEMPLATE.match_path(request.uri().path()) else {
        return not_found(state.gateway(), &request);
    };
    unary(
        state,
        request,
        captures,
        &BINDING,
        |client: TonicClient, input: &mut UnaryInput<'_>| {
            unary_call(
                client,
                input,
                |cx: &BindContext<'_>, msg: &mut Kitchen| cx.body_json(|r| msg.merge_json(r)),
                |TonicClient(mut client), request| {
                    Box::pin(async move { client.echo(request).await })
                },
                |response: &Kitchen, w: &mut JsonWriter| response.write_json(w),
            )
        },
    )
    .await
}

/// The hand-written WebSocket forwarder with an 8 KiB read buffer instead
/// of tungstenite's 128 KiB, which it zero-fills on every read attempt.
pub fn small_buffer_ws_router(channel: Channel) -> axum::Router {
    axum::Router::new()
        .route("/streaming/bidi/chat", get(chat))
        .with_state(StreamingTestClient::new(channel))
}

async fn chat(
    State(client): State<StreamingTestClient<Channel>>,
    upgrade: WebSocketUpgrade,
) -> Response {
    upgrade
        .read_buffer_size(8 * 1024)
        .on_upgrade(move |socket| super::hand::chat_session(client, socket))
}
