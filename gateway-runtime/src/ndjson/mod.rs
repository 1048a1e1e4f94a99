//! Streaming JSON values out of a request body, and NDJSON response lines.
//!
//! Client- and bidi-streaming calls take a request body that is a sequence of JSON values
//! separated by whitespace (newline-delimited JSON is the common case; values written back
//! to back, `{}{}`, are accepted too). Each value is handed on as soon as its last byte has
//! arrived, so the gRPC call sees messages while the client is still sending, and memory
//! stays bounded by the largest single value rather than the whole body.

mod lines;
#[cfg(test)]
mod reference;
mod split;
#[cfg(test)]
mod tests;

pub(crate) use lines::{error_line, heartbeat};
pub(crate) use split::{BodyValueError, BodyValues, SplitError, body_values};
