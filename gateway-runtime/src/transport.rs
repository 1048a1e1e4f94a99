//! The one bound generated routers put on tonic's transport.

use bytes::Bytes;

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
