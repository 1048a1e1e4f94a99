//! The tonic services behind the end-to-end tests.

use std::time::Duration;

use prost::Message;
use tonic::{Request, Response, Status};

use crate::e2e::awkward::{self, abc_service_server::AbcService};
use crate::e2e::echo::v1::echo_service_server::EchoService;
use crate::e2e::echo::v1::{
    DeleteKitchenRequest, FailRequest, Kitchen, MetadataReply, Nested, SlowRequest,
    UpdateKitchenRequest,
};

/// Echoes, fails on request, reports metadata.
#[derive(Debug, Default, Clone)]
pub struct Echo;

#[tonic::async_trait]
impl EchoService for Echo {
    async fn echo(&self, request: Request<Kitchen>) -> Result<Response<Kitchen>, Status> {
        Ok(Response::new(request.into_inner()))
    }

    async fn update_kitchen(
        &self,
        request: Request<UpdateKitchenRequest>,
    ) -> Result<Response<UpdateKitchenRequest>, Status> {
        Ok(Response::new(request.into_inner()))
    }

    async fn delete_kitchen(
        &self,
        request: Request<DeleteKitchenRequest>,
    ) -> Result<Response<()>, Status> {
        let request = request.into_inner();
        if request.name == "missing" {
            return Err(Status::not_found("kitchen \"missing\" does not exist"));
        }
        Ok(Response::new(()))
    }

    async fn fail(&self, request: Request<FailRequest>) -> Result<Response<Kitchen>, Status> {
        let request = request.into_inner();
        let code = tonic::Code::from_i32(request.code);
        if !request.with_details {
            return Err(Status::new(code, request.message));
        }
        let details = vec![
            prost_types::Any {
                type_url: "type.googleapis.com/e2e.echo.v1.Nested".into(),
                value: Nested {
                    text: "why".into(),
                    count: 1,
                }
                .encode_to_vec(),
            },
            prost_types::Any {
                type_url: "type.googleapis.com/unknown.Detail".into(),
                value: vec![1, 2, 3],
            },
        ];
        Err(gateway_runtime::status_with_details(
            code,
            request.message,
            details,
        ))
    }

    async fn metadata(&self, request: Request<()>) -> Result<Response<MetadataReply>, Status> {
        let mut reply = MetadataReply::default();
        if let Some(caller) = request.extensions().get::<crate::Caller>() {
            // Not metadata: what a tower layer put in the HTTP request's
            // extensions, shown under a key no header can produce.
            reply
                .metadata
                .insert("(extension) caller".into(), caller.0.clone());
        }
        for entry in request.metadata().iter() {
            match entry {
                tonic::metadata::KeyAndValueRef::Ascii(k, v) => {
                    reply
                        .metadata
                        .insert(k.to_string(), v.to_str().unwrap_or("<invalid>").to_string());
                }
                tonic::metadata::KeyAndValueRef::Binary(k, v) => {
                    let bytes = v.to_bytes().map(|b| b.to_vec()).unwrap_or_default();
                    reply.metadata.insert(k.to_string(), format!("{bytes:?}"));
                }
            }
        }
        let mut response = Response::new(reply);
        response
            .metadata_mut()
            .insert("x-reply", "yes".parse().unwrap());
        response.metadata_mut().insert_bin(
            "x-raw-bin",
            tonic::metadata::MetadataValue::from_bytes(b"\x00\x01"),
        );
        Ok(response)
    }

    async fn slow(&self, request: Request<SlowRequest>) -> Result<Response<SlowRequest>, Status> {
        let millis = request.get_ref().millis;
        let tag = request.get_ref().tag.clone();
        // Marks the record dropped when this future goes away, completed or
        // cancelled; `produced` tells which.
        let _guard = crate::streaming::DropGuard(tag.clone());
        tokio::time::sleep(Duration::from_millis(millis as u64)).await;
        crate::streaming::update(&tag, |r| r.produced = 1);
        Ok(Response::new(request.into_inner()))
    }

    async fn search(&self, request: Request<Kitchen>) -> Result<Response<Kitchen>, Status> {
        Ok(Response::new(request.into_inner()))
    }

    async fn unbound(&self, request: Request<Nested>) -> Result<Response<Nested>, Status> {
        Ok(Response::new(request.into_inner()))
    }
}

/// The service with keyword names.
#[derive(Debug, Default, Clone)]
pub struct Awkward;

#[tonic::async_trait]
impl AbcService for Awkward {
    async fn r#match(
        &self,
        request: Request<awkward::Self_>,
    ) -> Result<Response<awkward::Self_>, Status> {
        Ok(Response::new(request.into_inner()))
    }

    async fn r#type(
        &self,
        request: Request<awkward::Self_>,
    ) -> Result<Response<awkward::Self_>, Status> {
        Ok(Response::new(request.into_inner()))
    }
}
