//! Hooks on the way in and out, as grpc-gateway's mux options offer them:
//! a metadata annotator (request head → extra gRPC request metadata) and a
//! response hook (gRPC response metadata → HTTP status, headers, cookies).

use std::sync::Arc;

use axum::response::Response;
use tonic::metadata::MetadataMap;

/// Adds gRPC request metadata derived from the HTTP request head (its
/// headers, URI and extensions, e.g. what an auth layer inserted). Runs for
/// every call in every mode, after the header rules.
pub type MetadataAnnotator = Arc<dyn Fn(&http::request::Parts, &mut MetadataMap) + Send + Sync>;

/// Adjusts a successful response from the gRPC response metadata: status,
/// headers, cookies. Runs on unary responses and on the head of SSE and
/// NDJSON streams and of client-streaming answers; not on WebSocket
/// upgrades, whose `101` is sent before the call starts.
pub type ResponseHook = Arc<dyn Fn(&MetadataMap, &mut Response) + Send + Sync>;
