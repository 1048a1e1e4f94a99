//! Direct in-process calls: a generated `direct_router` calls the service
//! implementation (the `Foo` trait tonic generates) without encoding or
//! decoding protobuf and without tonic's server.
//!
//! What that skips is the point, and also the caveat: tower layers and
//! interceptors around `FooServer` are not on this path. [`Direct`] takes
//! an interceptor that runs on every direct call instead; layers on the
//! axum `Router` run as on any other route.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_util::StreamExt;
use tonic::codec::{DecodeBuf, Decoder};

use crate::streaming::RequestStream;

type InterceptFn =
    dyn Fn(tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> + Send + Sync;

/// A service implementation for a generated `foo_gateway::direct_router`,
/// and the interceptor its calls go through.
///
/// **Tower layers and interceptors around `FooServer` do not run**: the
/// direct path never builds a `FooServer`. Keep an authentication check
/// with [`Direct::with_interceptor`] (the same function you give
/// `FooServer::with_interceptor`), or as a layer on the router the
/// gateway returns.
///
/// Cloning is cheap: the service and the interceptor are shared.
pub struct Direct<S> {
    service: Arc<S>,
    interceptor: Option<Arc<InterceptFn>>,
}

impl<S> Direct<S> {
    /// Calls `service` directly, with no interceptor.
    pub fn new(service: S) -> Self {
        Direct::from_arc(Arc::new(service))
    }

    /// [`Direct::new`] for a service already shared (served over gRPC as
    /// well, say, with `FooServer::from_arc`).
    pub fn from_arc(service: Arc<S>) -> Self {
        Direct {
            service,
            interceptor: None,
        }
    }

    /// Runs `interceptor` before every call, as tonic runs the interceptor
    /// of `FooServer::with_interceptor(service, interceptor)`: it sees the
    /// call's metadata and extensions (and may change them); an `Err`
    /// fails the call with that status before the service is called.
    ///
    /// A stateful `tonic::service::Interceptor` (one that needs `&mut
    /// self`) goes in a closure around a `Mutex`. A second call replaces
    /// the first interceptor.
    pub fn with_interceptor<F>(mut self, interceptor: F) -> Self
    where
        F: Fn(tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status>
            + Send
            + Sync
            + 'static,
    {
        self.interceptor = Some(Arc::new(interceptor));
        self
    }

    /// The service.
    pub fn service(&self) -> &Arc<S> {
        &self.service
    }
}

impl<S> Clone for Direct<S> {
    fn clone(&self) -> Self {
        Direct {
            service: self.service.clone(),
            interceptor: self.interceptor.clone(),
        }
    }
}

impl<S> fmt::Debug for Direct<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Direct")
            .field("service", &std::any::type_name::<S>())
            .field("interceptor", &self.interceptor.is_some())
            .finish()
    }
}

/// Prepares one direct call: marks the request with its gRPC method (as
/// tonic's client does), runs the interceptor, and hands back the service
/// to call. The request is changed in place: the message (often the
/// largest part) is not moved in and out.
pub fn call<'a, S, M>(
    direct: &'a Direct<S>,
    request: &mut tonic::Request<M>,
    service: &'static str,
    method: &'static str,
) -> Result<&'a S, tonic::Status> {
    request
        .extensions_mut()
        .insert(tonic::GrpcMethod::new(service, method));
    if let Some(intercept) = &direct.interceptor {
        let head = tonic::Request::from_parts(
            std::mem::take(request.metadata_mut()),
            std::mem::take(request.extensions_mut()),
            (),
        );
        let (metadata, extensions, ()) = intercept(head)?.into_parts();
        *request.metadata_mut() = metadata;
        *request.extensions_mut() = extensions;
    }
    Ok(&direct.service)
}

/// The request stream as the `tonic::Streaming` a client- or
/// bidi-streaming service method takes.
///
/// `tonic::Streaming` can only be built over a gRPC-framed body, so each
/// message is handed over in memory and the body carries, for each one,
/// an empty gRPC frame (5 bytes, no HTTP/2, no protobuf): the decoder takes
/// the message that frame stands for. Order and back pressure are the
/// body's: a message is taken from `requests` only when tonic asks for
/// the next frame.
pub fn request_streaming<M: Send + 'static>(requests: RequestStream<M>) -> tonic::Streaming<M> {
    let handoff = Arc::new(Mutex::new(VecDeque::with_capacity(1)));
    let queue = handoff.clone();
    let frames = requests.map(move |message| {
        queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push_back(message);
        Ok::<_, std::convert::Infallible>(http_body::Frame::data(Bytes::from_static(EMPTY_FRAME)))
    });
    tonic::Streaming::new_request(
        Handoff(handoff),
        http_body_util::StreamBody::new(frames),
        None,
        None,
    )
}

/// A gRPC frame header: uncompressed, zero bytes long.
const EMPTY_FRAME: &[u8] = &[0, 0, 0, 0, 0];

/// Decodes each (empty) frame as the message handed over for it: frames
/// and messages are in the same order, and a frame is decoded only after
/// the body yielded it. A queue rather than one slot, so that tonic
/// reading frames ahead would lose nothing (it holds one message today).
struct Handoff<M>(Arc<Mutex<VecDeque<M>>>);

impl<M> Decoder for Handoff<M> {
    type Item = M;
    type Error = tonic::Status;

    fn decode(&mut self, _: &mut DecodeBuf<'_>) -> Result<Option<M>, tonic::Status> {
        match self.0.lock().unwrap_or_else(|e| e.into_inner()).pop_front() {
            Some(message) => Ok(Some(message)),
            None => Err(tonic::Status::internal(
                "direct call: request frame without a message",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn request_streaming_hands_over_messages_in_order() {
        let requests = RequestStream::new(futures_util::stream::iter(vec![
            "a".to_string(),
            String::new(),
            "c".to_string(),
        ]));
        let mut streaming = request_streaming(requests);
        let mut seen = Vec::new();
        while let Some(message) = streaming.message().await.unwrap() {
            seen.push(message);
        }
        assert_eq!(seen, ["a", "", "c"]);
    }

    #[test]
    fn interceptor_sees_and_changes_metadata() {
        let direct = Direct::new(()).with_interceptor(|mut request| {
            if request.metadata().get("authorization").is_none() {
                return Err(tonic::Status::unauthenticated("no token"));
            }
            request
                .metadata_mut()
                .insert("checked", "yes".parse().unwrap());
            Ok(request)
        });
        let refused = call(&direct, &mut tonic::Request::new(1), "s", "m").unwrap_err();
        assert_eq!(refused.code(), tonic::Code::Unauthenticated);
        let mut request = tonic::Request::new(2);
        request
            .metadata_mut()
            .insert("authorization", "token".parse().unwrap());
        call(&direct, &mut request, "s", "m").unwrap();
        assert_eq!(request.metadata().get("checked").unwrap(), "yes");
        assert_eq!(*request.get_ref(), 2);
        let method = request.extensions().get::<tonic::GrpcMethod>().unwrap();
        assert_eq!((method.service(), method.method()), ("s", "m"));
    }
}
