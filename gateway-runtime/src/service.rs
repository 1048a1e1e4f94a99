//! What a generated router hands its handlers: the tonic client and the
//! gateway settings.

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
