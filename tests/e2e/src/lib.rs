//! Generated code for the end-to-end test protos, and the test services.

#![allow(missing_docs)]

/// `e2e.*` packages: prost messages, tonic client/server and the gateway,
/// each package's files included in one module as the generator expects.
pub mod e2e {
    pub mod common {
        include!(concat!(env!("OUT_DIR"), "/e2e.common.rs"));
        include!(concat!(env!("OUT_DIR"), "/e2e.common.gateway.rs"));
    }
    pub mod echo {
        pub mod v1 {
            include!(concat!(env!("OUT_DIR"), "/e2e.echo.v1.rs"));
            include!(concat!(env!("OUT_DIR"), "/e2e.echo.v1.gateway.rs"));
        }
    }
    pub mod stream {
        pub mod v1 {
            include!(concat!(env!("OUT_DIR"), "/e2e.stream.v1.rs"));
            include!(concat!(env!("OUT_DIR"), "/e2e.stream.v1.gateway.rs"));
        }
    }
    pub mod proto2 {
        include!(concat!(env!("OUT_DIR"), "/e2e.proto2.rs"));
        include!(concat!(env!("OUT_DIR"), "/e2e.proto2.gateway.rs"));
    }
    pub mod compat {
        include!(concat!(env!("OUT_DIR"), "/e2e.compat.rs"));
        include!(concat!(env!("OUT_DIR"), "/e2e.compat.gateway.rs"));
    }
    pub mod everything {
        include!(concat!(env!("OUT_DIR"), "/e2e.everything.rs"));
        include!(concat!(env!("OUT_DIR"), "/e2e.everything.gateway.rs"));
    }
    pub mod files {
        include!(concat!(env!("OUT_DIR"), "/e2e.files.rs"));
        include!(concat!(env!("OUT_DIR"), "/e2e.files.gateway.rs"));
    }
    pub mod awkward {
        include!(concat!(env!("OUT_DIR"), "/e2e.awkward.rs"));
        include!(concat!(env!("OUT_DIR"), "/e2e.awkward.gateway.rs"));
    }
}

/// `google.api` (HttpRule, HttpBody): prost's output for the shipped
/// google/api protos, where the `e2e` packages' paths expect it.
pub mod google {
    pub mod api {
        include!(concat!(env!("OUT_DIR"), "/google.api.rs"));
    }
}

macro_rules! openapi_document {
    ($name:literal) => {
        ($name, include_str!(concat!(env!("OUT_DIR"), "/", $name)))
    };
}

/// The OpenAPI documents generated next to the gateway code (build.rs), by
/// file name: what the truth checks hold the gateway's responses to.
pub const OPENAPI: &[(&str, &str)] = &[
    openapi_document!("e2e.awkward.openapi.json"),
    openapi_document!("e2e.compat.openapi.json"),
    openapi_document!("e2e.echo.v1.openapi.json"),
    openapi_document!("e2e.everything.openapi.json"),
    openapi_document!("e2e.files.openapi.json"),
    openapi_document!("e2e.proto2.openapi.json"),
    openapi_document!("e2e.stream.v1.openapi.json"),
];

pub mod compat;
pub mod everything;
pub mod files;
pub mod proto2;
pub mod serve;
pub mod services;
pub mod streaming;
pub mod trailers;

/// What a test auth layer inserts into HTTP request extensions; the test
/// services report it when it reaches them.
#[derive(Debug, Clone)]
pub struct Caller(pub String);
