//! The `e2e.everything` services: `Annotated` (google.api.http annotations)
//! and `Configured` (service configuration) share one implementation, so
//! any difference in their answers comes from the bindings.

use std::net::SocketAddr;
use std::pin::Pin;

use futures_util::Stream;
use tonic::{Request, Response, Status};

use crate::e2e::everything::annotated_server::{Annotated, AnnotatedServer};
use crate::e2e::everything::configured_server::{Configured, ConfiguredServer};
use crate::e2e::everything::{DeepRequest, IdRequest, Sample, UpdateRequest};

/// Echoes what the gateway bound.
#[derive(Debug, Default, Clone)]
pub struct EverythingService;

type ItemStream = Pin<Box<dyn Stream<Item = Result<Sample, Status>> + Send>>;

impl EverythingService {
    fn lookup(request: IdRequest) -> Sample {
        Sample {
            uuid: request.uuid,
            ..Default::default()
        }
    }

    fn deep(request: DeepRequest) -> Sample {
        request.single.unwrap_or_default()
    }

    /// The item, with the mask's paths in `repeated_string` so the test
    /// sees what the gateway filled in.
    fn update(request: UpdateRequest) -> Sample {
        let mut item = request.item.unwrap_or_default();
        item.repeated_string = request.update_mask.map(|m| m.paths).unwrap_or_default();
        item
    }

    fn stream(request: IdRequest) -> ItemStream {
        let items = (0..2).map(move |i| {
            Ok(Sample {
                uuid: request.uuid.clone(),
                int32_value: i,
                ..Default::default()
            })
        });
        Box::pin(tokio_stream::iter(items.collect::<Vec<_>>()))
    }
}

/// Implements both services with the same bodies.
macro_rules! everything_impl {
    ($service:ident) => {
        #[tonic::async_trait]
        impl $service for EverythingService {
            async fn create(&self, r: Request<Sample>) -> Result<Response<Sample>, Status> {
                Ok(Response::new(r.into_inner()))
            }
            async fn create_body(&self, r: Request<Sample>) -> Result<Response<Sample>, Status> {
                Ok(Response::new(r.into_inner()))
            }
            async fn lookup(&self, r: Request<IdRequest>) -> Result<Response<Sample>, Status> {
                Ok(Response::new(Self::lookup(r.into_inner())))
            }
            async fn get_by_name(&self, r: Request<Sample>) -> Result<Response<Sample>, Status> {
                Ok(Response::new(r.into_inner()))
            }
            async fn update(&self, r: Request<UpdateRequest>) -> Result<Response<Sample>, Status> {
                Ok(Response::new(Self::update(r.into_inner())))
            }
            async fn deep(&self, r: Request<DeepRequest>) -> Result<Response<Sample>, Status> {
                Ok(Response::new(Self::deep(r.into_inner())))
            }
            async fn files(&self, r: Request<Sample>) -> Result<Response<Sample>, Status> {
                Ok(Response::new(r.into_inner()))
            }
            async fn custom(&self, r: Request<Sample>) -> Result<Response<Sample>, Status> {
                Ok(Response::new(r.into_inner()))
            }
            async fn star(&self, r: Request<Sample>) -> Result<Response<Sample>, Status> {
                Ok(Response::new(r.into_inner()))
            }
            type WatchStream = ItemStream;
            async fn watch(&self, r: Request<Sample>) -> Result<Response<ItemStream>, Status> {
                let sample = r.into_inner();
                let copies = vec![Ok(sample.clone()), Ok(sample)];
                Ok(Response::new(Box::pin(tokio_stream::iter(copies))))
            }
            type StreamItemsStream = ItemStream;
            async fn stream_items(
                &self,
                r: Request<IdRequest>,
            ) -> Result<Response<ItemStream>, Status> {
                Ok(Response::new(Self::stream(r.into_inner())))
            }
        }
    };
}

everything_impl!(Annotated);
everything_impl!(Configured);

/// Starts both services on 127.0.0.1 and returns the address.
pub async fn spawn_grpc() -> SocketAddr {
    crate::serve::spawn_grpc_routes(
        tonic::service::Routes::new(AnnotatedServer::new(EverythingService))
            .add_service(ConfiguredServer::new(EverythingService)),
    )
    .await
}
