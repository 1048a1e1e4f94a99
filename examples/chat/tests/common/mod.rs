//! The example's servers on free loopback ports, put together as
//! `src/main.rs` does (or with the remote backend, as `remote-gateway`
//! does), and small HTTP helpers.

#![allow(dead_code, missing_docs)]

pub mod cluster;
pub mod process;

use std::net::SocketAddr;
use std::time::Duration;

use chat_example::pb::chat::v1::chat_service_server::ChatServiceServer;
use chat_example::{ChatRooms, app, gateway_settings, serve_grpc, serve_http};
use tokio::net::TcpListener;

/// How the gateway reaches the service.
#[derive(Debug, Clone, Copy)]
pub enum Backend {
    /// `ChatServiceServer::new(rooms)` in process, as `chat-example`.
    InProcess,
    /// A `Channel` to the gRPC server, as `remote-gateway`.
    Remote,
}

/// A running example.
pub struct Server {
    pub http: SocketAddr,
    pub grpc: SocketAddr,
    pub client: reqwest::Client,
    /// The service's state, shared with the servers.
    pub rooms: ChatRooms,
}

impl Server {
    pub async fn start(backend: Backend) -> Server {
        Server::start_with(backend, ChatRooms::default()).await
    }

    /// [`Server::start`] with these rooms (other limits).
    pub async fn start_with(backend: Backend, rooms: ChatRooms) -> Server {
        let grpc = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let http = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (grpc_addr, http_addr) = (grpc.local_addr().unwrap(), http.local_addr().unwrap());
        let app = match backend {
            Backend::InProcess => app(ChatServiceServer::new(rooms.clone()), &gateway_settings()),
            Backend::Remote => {
                let channel =
                    tonic::transport::Endpoint::from_shared(format!("http://{grpc_addr}"))
                        .unwrap()
                        .connect_lazy();
                app(channel, &gateway_settings())
            }
        };
        tokio::spawn(serve_grpc(grpc, rooms.clone()));
        tokio::spawn(serve_http(http, app));
        Server {
            http: http_addr,
            grpc: grpc_addr,
            client: reqwest::Client::new(),
            rooms,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.http, path)
    }

    /// POSTs a JSON body; returns status and body.
    pub async fn post(&self, path: &str, body: &str) -> (u16, String) {
        let response = self
            .client
            .post(self.url(path))
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    /// GETs a JSON document.
    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        let response = self.client.get(self.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "GET {path}");
        serde_json::from_str(&response.text().await.unwrap()).unwrap()
    }

    /// Waits until `room` has `n` live listeners: the point from which a
    /// posted message reaches a stream that was just opened.
    pub async fn wait_for_listeners(&self, room: &str, n: i64) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let info = self.get_json(&format!("/v1/rooms/{room}")).await;
            if info["listenerCount"].as_i64() == Some(n) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "room {room} never got {n} listeners: {info}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
