//! What a generated router stands on: the state its handlers share
//! ([`ServiceState`]), the bound on the tonic transport ([`Transport`]), and
//! the JSON 404 and 405 answers, both for the merged app
//! ([`RouterExt::with_gateway_fallbacks`]) and for a generated dispatcher
//! whose coarse route matched but no template did.
//!
//! Each generated router holds only its own routes and no fallback, so that
//! routers of several services merge (axum refuses to merge two routers that
//! both have a fallback). Install the gateway's fallbacks once, on the
//! merged app.

use axum::extract::Request;
use axum::response::Response;
use bytes::Bytes;

use crate::error::GatewayError;
use crate::gateway::Gateway;

/// State of one generated service router.
#[derive(Debug, Clone)]
pub struct ServiceState<C> {
    /// The backend (`Remote` over the transport, or `Direct`); cloned per
    /// call, which is cheap for both.
    pub client: C,
    /// Runtime settings.
    pub gateway: Gateway,
}

impl<C> ServiceState<C> {
    /// State for a router.
    pub fn new(client: C, gateway: &Gateway) -> Self {
        ServiceState {
            client,
            gateway: gateway.clone(),
        }
    }
}

/// A boxed error, as tonic uses.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What a generated `router` takes to reach its service: what a tonic
/// client would be built on, a remote `tonic::transport::Channel`, an
/// in-process `FooServer::new(svc)`, or either wrapped in tower layers
/// (`InterceptedService` for an interceptor).
///
/// This is an alias with a blanket impl; the associated-type bounds are
/// implied wherever `T: Transport` is written, which keeps the generated
/// code short.
pub trait Transport:
    tonic::client::GrpcService<
        tonic::body::Body,
        Error: Into<BoxError>,
        ResponseBody: http_body::Body<Data = Bytes, Error: Into<BoxError> + Send> + Send + 'static,
        Future: Send,
    > + Clone
    + Send
    + Sync
    + 'static
{
}

impl<T> Transport for T where
    T: tonic::client::GrpcService<
            tonic::body::Body,
            Error: Into<BoxError>,
            ResponseBody: http_body::Body<Data = Bytes, Error: Into<BoxError> + Send>
                              + Send
                              + 'static,
            Future: Send,
        > + Clone
        + Send
        + Sync
        + 'static
{
}

/// Extension methods for the merged [`axum::Router`].
pub trait RouterExt {
    /// Unknown routes answer 404 `{"code":5,"message":"Not Found","details":[]}`,
    /// known paths with another method 405 with code 12. Call it after every
    /// `merge`: the 405 handler applies to the routes present at that time.
    fn with_gateway_fallbacks(self, gateway: &Gateway) -> Self;
}

impl<S> RouterExt for axum::Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    fn with_gateway_fallbacks(self, gateway: &Gateway) -> Self {
        let not_found = gateway.clone();
        let not_allowed = gateway.clone();
        self.fallback(move |request: Request| async move {
            not_found.fail_request(&request, GatewayError::NotFound)
        })
        .method_not_allowed_fallback(move |request: Request| async move {
            not_allowed.fail_request(&request, GatewayError::MethodNotAllowed)
        })
    }
}

/// Answers 404 with the gateway's error body; used by generated
/// dispatchers when a route's coarse pattern matched but no template did.
pub fn not_found(gateway: &Gateway, request: &Request) -> Response {
    gateway.fail_request(request, GatewayError::NotFound)
}

/// Answers 405 (a custom method no binding of this path takes).
pub fn method_not_allowed(gateway: &Gateway, request: &Request) -> Response {
    gateway.fail_request(request, GatewayError::MethodNotAllowed)
}
