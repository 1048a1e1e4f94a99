//! Generates the messages, the tonic client and server, and the HTTP
//! gateway for `proto/chat/v1/chat.proto`, in pure Rust (protox): no
//! `protoc` needed. The annotation protos and Google's well-known types are
//! built into the generator.

fn main() {
    protoc_gen_rust_gateway::builder::configure()
        // Where `chat/v1/chat_gateway.yaml` is looked up: the binding file
        // for `chat/v1/chat.proto` sits next to it.
        .config_search_path("proto")
        // Also `chat.v1.openapi.json`, which the app serves.
        .openapi(protoc_gen_rust_gateway::openapi::Format::Json)
        .compile_protos(&["proto/chat/v1/chat.proto"], &["proto"])
        .expect("generating the chat service code");
}
