//! The proto2 service: echoes what the gateway built, so tests see exactly
//! how each proto2 shape was bound, and streams records.

use std::pin::Pin;

use futures_util::Stream;
use tonic::{Request, Response, Status};

use crate::e2e::proto2::proto2_service_server::Proto2Service;
use crate::e2e::proto2::{Badge, LookupRequest, PatchRequest, PutRequest, Record, WatchRequest};

type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

/// Echoes unary requests; `Watch` sends `count` records.
#[derive(Debug, Default, Clone)]
pub struct Proto2;

#[tonic::async_trait]
impl Proto2Service for Proto2 {
    async fn echo(&self, request: Request<Record>) -> Result<Response<Record>, Status> {
        Ok(Response::new(request.into_inner()))
    }

    async fn lookup(
        &self,
        request: Request<LookupRequest>,
    ) -> Result<Response<LookupRequest>, Status> {
        Ok(Response::new(request.into_inner()))
    }

    async fn put(&self, request: Request<PutRequest>) -> Result<Response<PutRequest>, Status> {
        Ok(Response::new(request.into_inner()))
    }

    async fn patch(
        &self,
        request: Request<PatchRequest>,
    ) -> Result<Response<PatchRequest>, Status> {
        Ok(Response::new(request.into_inner()))
    }

    type WatchStream = BoxStream<Record>;

    /// Record `i` has `ref` `"{ref}-{i}"`, `count` `i`, a badge coded `b{i}`
    /// and, for odd `i`, `label` set to its declared default.
    async fn watch(
        &self,
        request: Request<WatchRequest>,
    ) -> Result<Response<Self::WatchStream>, Status> {
        let request = request.into_inner();
        let records = (0..request.count).map(move |i| {
            Ok(Record {
                r#ref: format!("{}-{i}", request.r#ref),
                count: i,
                badge: Badge {
                    code: format!("b{i}"),
                    weight: None,
                },
                label: (i % 2 == 1).then(|| "unnamed".to_string()),
                ..Default::default()
            })
        });
        Ok(Response::new(Box::pin(futures_util::stream::iter(records))))
    }
}
