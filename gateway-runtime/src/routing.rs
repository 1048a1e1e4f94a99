//! Fallbacks for the merged app: 404 and 405 with JSON error bodies.
//!
//! Each generated router holds only its own routes and no fallback, so that
//! routers of several services merge (axum refuses to merge two routers that
//! both have a fallback). Install the gateway's fallbacks once, on the
//! merged app, with [`RouterExt::with_gateway_fallbacks`].

use axum::extract::Request;

use crate::error::GatewayError;
use crate::gateway::Gateway;

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
