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

use std::future::Future;
use std::pin::Pin;

use axum::extract::Request;
use axum::response::Response;
use bytes::Bytes;

use crate::error::GatewayError;
use crate::gateway::Gateway;

/// State of one generated service router.
#[derive(Debug, Clone)]
pub struct ServiceState<C> {
    /// The tonic client; cloned per call, as tonic clients are meant to be.
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

/// What a generated route answers with: a boxed future (axum boxes a
/// handler's future anyway), so that the future's type is the same for
/// every route.
pub type RouteFuture = Pin<Box<dyn Future<Output = Response> + Send + 'static>>;

/// A generated route (path and HTTP method) as an axum handler: a function
/// pointer. Every route of a service registers this one type, so axum's
/// handler glue (`Handler::call`, its service and boxing) is compiled once
/// per service rather than once per route.
pub struct Dispatch<C>(pub fn(ServiceState<C>, Request) -> RouteFuture);

impl<C> Clone for Dispatch<C> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<C> Copy for Dispatch<C> {}

impl<C> axum::handler::Handler<(), ServiceState<C>> for Dispatch<C>
where
    C: Clone + Send + Sync + 'static,
{
    type Future = RouteFuture;

    fn call(self, request: Request, state: ServiceState<C>) -> RouteFuture {
        (self.0)(state, request)
    }
}

/// A boxed error, as tonic uses.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What a tonic client needs of its transport to be served by a gateway: a
/// remote `tonic::transport::Channel`, an in-process `FooServer::new(svc)`,
/// or either wrapped in tower layers.
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

/// [`not_found`] as a [`RouteFuture`].
pub fn route_not_found(gateway: &Gateway, request: &Request) -> RouteFuture {
    Box::pin(std::future::ready(not_found(gateway, request)))
}

/// [`method_not_allowed`] as a [`RouteFuture`].
pub fn route_method_not_allowed(gateway: &Gateway, request: &Request) -> RouteFuture {
    Box::pin(std::future::ready(method_not_allowed(gateway, request)))
}
