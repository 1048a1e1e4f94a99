//! What a generated router stands on: the state its handlers share
//! ([`RouterState`], [`Routes`], [`Dispatch`]), the bound on the tonic transport ([`Transport`]), and
//! the JSON 404 and 405 answers, both for the merged app
//! ([`RouterExt::with_gateway_fallbacks`]) and for a generated dispatcher
//! whose coarse route matched but no template did.
//!
//! Each generated router holds only its own routes and no fallback, so that
//! routers of several services merge (axum refuses to merge two routers that
//! both have a fallback). Install the gateway's fallbacks once, on the
//! merged app.

use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::extract::Request;
use axum::response::Response;
use bytes::Bytes;

use crate::error::GatewayError;
use crate::gateway::Gateway;

/// State of one generated service router: the backend (`Remote` over the
/// transport, or `Direct`), its type erased, and the runtime settings. Every service's
/// router has this one state type, so axum's router and handler code is
/// compiled once, in this crate, not once per service.
#[derive(Clone)]
pub struct RouterState(Arc<Shared>);

/// Aligned past the `Arc`'s reference counts (axum clones the state for
/// every request), as the gateway's settings are (see `Gateway`).
#[repr(align(128))]
struct Shared {
    gateway: Gateway,
    backend: Box<dyn Any + Send + Sync>,
}

impl RouterState {
    /// State for a router served by `backend`.
    pub fn new<C: Send + Sync + 'static>(backend: C, gateway: &Gateway) -> Self {
        RouterState(Arc::new(Shared {
            gateway: gateway.clone(),
            backend: Box::new(backend),
        }))
    }

    /// Runtime settings.
    pub fn gateway(&self) -> &Gateway {
        &self.0.gateway
    }

    /// The backend, as the router's handlers know it (they are generic over
    /// the type the router was built with, and clone it per call: `Remote`
    /// and `Direct` are cheap to clone).
    pub fn backend<C: 'static>(&self) -> &C {
        self.0
            .backend
            .downcast_ref()
            .expect("a router's handlers take the backend it was built with")
    }
}

impl std::fmt::Debug for RouterState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouterState")
            .field("gateway", &self.0.gateway)
            .finish_non_exhaustive()
    }
}

/// What a generated route answers with: a boxed future (axum boxes a
/// handler's future anyway), so that the future's type is the same for
/// every route.
pub type RouteFuture = Pin<Box<dyn Future<Output = Response> + Send + 'static>>;

/// A generated route (path and HTTP method) as an axum handler: a function
/// pointer. Every route of every service registers this one type, so axum's
/// handler glue (`Handler::call`, its service and boxing) is compiled once.
#[derive(Clone, Copy)]
pub struct Dispatch(pub fn(RouterState, Request) -> RouteFuture);

impl std::fmt::Debug for Dispatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Dispatch")
    }
}

impl axum::handler::Handler<(), RouterState> for Dispatch {
    type Future = RouteFuture;

    fn call(self, request: Request, state: RouterState) -> RouteFuture {
        (self.0)(state, request)
    }
}

/// Which requests of a path a [`Dispatch`] takes: an HTTP method axum
/// routes, or the path's method fallback (custom methods).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum On {
    /// GET
    Get,
    /// PUT
    Put,
    /// POST
    Post,
    /// DELETE
    Delete,
    /// PATCH
    Patch,
    /// HEAD
    Head,
    /// OPTIONS
    Options,
    /// TRACE
    Trace,
    /// CONNECT (WebSocket over HTTP/2)
    Connect,
    /// Any other method (the generated dispatcher matches its name).
    Fallback,
}

/// The routes of a generated router, built without generics: what the
/// generated `routes` function calls.
#[derive(Debug)]
pub struct Routes(axum::Router<RouterState>);

impl Default for Routes {
    fn default() -> Self {
        Routes::new()
    }
}

impl Routes {
    /// No route yet.
    pub fn new() -> Self {
        Routes(axum::Router::new())
    }

    /// Registers `path` with a dispatcher per method.
    pub fn route(self, path: &str, methods: &[(On, Dispatch)]) -> Self {
        let mut router = axum::routing::MethodRouter::new();
        for &(on, dispatch) in methods {
            router = match on {
                On::Get => router.get(dispatch),
                On::Put => router.put(dispatch),
                On::Post => router.post(dispatch),
                On::Delete => router.delete(dispatch),
                On::Patch => router.patch(dispatch),
                On::Head => router.head(dispatch),
                On::Options => router.options(dispatch),
                On::Trace => router.trace(dispatch),
                On::Connect => router.connect(dispatch),
                On::Fallback => router.fallback(dispatch),
            };
        }
        Routes(self.0.route(path, router))
    }

    /// The router, served by `backend`.
    pub fn with_backend<C: Send + Sync + 'static>(
        self,
        backend: C,
        gateway: &Gateway,
    ) -> axum::Router {
        self.0.with_state(RouterState::new(backend, gateway))
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

/// [`not_found`] as a [`RouteFuture`].
pub fn route_not_found(gateway: &Gateway, request: &Request) -> RouteFuture {
    Box::pin(std::future::ready(not_found(gateway, request)))
}

/// [`method_not_allowed`] as a [`RouteFuture`].
pub fn route_method_not_allowed(gateway: &Gateway, request: &Request) -> RouteFuture {
    Box::pin(std::future::ready(method_not_allowed(gateway, request)))
}
