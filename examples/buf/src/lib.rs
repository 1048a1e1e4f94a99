//! The buf layout: `buf generate` (buf.gen.yaml) wrote `gen/` with
//! protoc-gen-prost, protoc-gen-tonic and protoc-gen-rust-gateway; each
//! package's three files are included in one module. `gen/meshapi/` holds
//! prost's types of the annotation options, which nothing here needs.

/// `notes.v1`: messages, tonic client and server, gateway.
pub mod notes {
    #[allow(missing_docs)]
    pub mod v1 {
        // prost's file includes tonic's (`notes.v1.tonic.rs`) itself.
        include!("../gen/notes/v1/notes.v1.rs");
        include!("../gen/notes.v1.gateway.rs");
    }
}

mod notebook;

pub use notebook::{Notebook, app};
