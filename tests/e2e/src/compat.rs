//! The Go-compatibility services (`e2e/compat.proto`): every method echoes
//! what the gateway bound, so a test reads the binding off the response.

use std::net::SocketAddr;
use std::pin::Pin;

use futures_util::Stream;
use tonic::{Request, Response, Status};

use crate::e2e::compat::global_compat_server::{GlobalCompat, GlobalCompatServer};
use crate::e2e::compat::patch_compat_server::{PatchCompat, PatchCompatServer};
use crate::e2e::compat::path_compat_server::{PathCompat, PathCompatServer};
use crate::e2e::compat::query_compat_server::{QueryCompat, QueryCompatServer};
use crate::e2e::compat::{Card, CardPatch, RepeatRequest};

/// Implements every compat service by echoing.
#[derive(Debug, Default, Clone)]
pub struct Compat;

#[tonic::async_trait]
impl PathCompat for Compat {
    async fn echo(&self, request: Request<Card>) -> Result<Response<Card>, Status> {
        Ok(Response::new(request.into_inner()))
    }

    async fn old_echo(&self, request: Request<Card>) -> Result<Response<Card>, Status> {
        Ok(Response::new(request.into_inner()))
    }

    type RepeatStream = Pin<Box<dyn Stream<Item = Result<Card, Status>> + Send>>;

    async fn repeat(
        &self,
        request: Request<RepeatRequest>,
    ) -> Result<Response<Self::RepeatStream>, Status> {
        let request = request.into_inner();
        let card = request.card.unwrap_or_default();
        let times = usize::try_from(request.times).unwrap_or(0).min(100);
        let cards = std::iter::repeat_n(Ok(card), times);
        Ok(Response::new(Box::pin(tokio_stream::iter(cards))))
    }
}

#[tonic::async_trait]
impl QueryCompat for Compat {
    async fn echo(&self, request: Request<Card>) -> Result<Response<Card>, Status> {
        Ok(Response::new(request.into_inner()))
    }
}

#[tonic::async_trait]
impl PatchCompat for Compat {
    async fn patch(&self, request: Request<CardPatch>) -> Result<Response<CardPatch>, Status> {
        Ok(Response::new(request.into_inner()))
    }
}

#[tonic::async_trait]
impl GlobalCompat for Compat {
    async fn ping(&self, request: Request<Card>) -> Result<Response<Card>, Status> {
        Ok(Response::new(request.into_inner()))
    }
}

/// Starts the compat gRPC services on 127.0.0.1 and returns the address.
pub async fn spawn_grpc() -> SocketAddr {
    crate::serve::spawn_grpc_routes(
        tonic::service::Routes::new(PathCompatServer::new(Compat))
            .add_service(QueryCompatServer::new(Compat))
            .add_service(PatchCompatServer::new(Compat))
            .add_service(GlobalCompatServer::new(Compat)),
    )
    .await
}
