//! A tonic server whose responses end with extra trailer metadata, as a Go
//! server's `grpc.SetTrailer` would send: tonic has no API for custom
//! trailers on success, so a tower wrapper appends them to the real
//! trailers frame.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use http_body_util::BodyExt;
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::body::Body;
use tonic::codegen::Service;
use tonic::server::NamedService;

use crate::e2e::stream::v1::streaming_test_server::StreamingTestServer;
use crate::streaming::Streams;

/// Wraps a gRPC service so that every trailers frame also carries `extra`.
#[derive(Clone)]
pub struct ExtraTrailers<S> {
    inner: S,
    extra: http::HeaderMap,
}

impl<S: NamedService> NamedService for ExtraTrailers<S> {
    const NAME: &'static str = S::NAME;
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S> Service<http::Request<Body>> for ExtraTrailers<S>
where
    S: Service<http::Request<Body>, Response = http::Response<Body>, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<Result<http::Response<Body>, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let extra = self.extra.clone();
        let response = self.inner.call(request);
        Box::pin(async move {
            let response = response.await?;
            Ok(response.map(|body| {
                Body::new(body.map_frame(move |frame| match frame.into_trailers() {
                    Ok(mut trailers) => {
                        trailers.extend(extra.clone());
                        http_body::Frame::trailers(trailers)
                    }
                    Err(frame) => frame,
                }))
            }))
        })
    }
}

/// Starts the streaming test service on 127.0.0.1, its trailers extended
/// with `extra`, and returns the address.
pub async fn spawn_grpc_with_trailers(extra: http::HeaderMap) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let service = ExtraTrailers {
        inner: StreamingTestServer::new(Streams),
        extra,
    };
    tokio::spawn(async move {
        tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming(TcpListenerStream::new(listener))
            .await
            .unwrap();
    });
    addr
}
