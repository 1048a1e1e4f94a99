//! One `build.rs` call for everything: compile the protos (in pure Rust
//! with protox, with a given protoc, or from an existing descriptor set),
//! then run prost + tonic and this generator on the same descriptors.

use std::io;
use std::path::Path;
use std::process::Command;

use prost::Message;

use super::Builder;

/// The annotation protos, so that `import "meshapi/gateway/annotations.proto"`
/// and `import "google/api/annotations.proto"` resolve without the user
/// vendoring them.
const EMBEDDED: &[(&str, &str)] = &[
    (
        "meshapi/gateway/annotations.proto",
        include_str!("../../proto/meshapi/gateway/annotations.proto"),
    ),
    (
        "meshapi/gateway/gateway.proto",
        include_str!("../../proto/meshapi/gateway/gateway.proto"),
    ),
    (
        "meshapi/gateway/config.proto",
        include_str!("../../proto/meshapi/gateway/config.proto"),
    ),
    (
        "meshapi/gateway/openapi/openapi.proto",
        include_str!("../../proto/meshapi/gateway/openapi/openapi.proto"),
    ),
    // google.api.http and HttpBody, for protos written for grpc-gateway,
    // Envoy or Cloud Endpoints. A googleapis copy on the include path is
    // found first and wins.
    (
        "google/api/annotations.proto",
        include_str!("../../proto/google/api/annotations.proto"),
    ),
    (
        "google/api/http.proto",
        include_str!("../../proto/google/api/http.proto"),
    ),
    (
        "google/api/httpbody.proto",
        include_str!("../../proto/google/api/httpbody.proto"),
    ),
];

struct EmbeddedProtos;

impl protox::file::FileResolver for EmbeddedProtos {
    fn open_file(&self, name: &str) -> Result<protox::file::File, protox::Error> {
        match EMBEDDED.iter().find(|(n, _)| *n == name) {
            Some((name, source)) => protox::file::File::from_source(name, source),
            None => Err(protox::Error::file_not_found(name)),
        }
    }
}

impl Builder {
    /// Whether to also run prost + tonic (`tonic_prost_build`) on the same
    /// descriptors (default: yes), so one call produces messages, client,
    /// server, JSON code and gateway.
    pub fn build_tonic(mut self, on: bool) -> Self {
        self.build_tonic = on;
        self
    }

    /// The `tonic_prost_build` configuration to use (default:
    /// `tonic_prost_build::configure()`); its output directory is set to
    /// this builder's.
    pub fn tonic_builder(mut self, builder: tonic_prost_build::Builder) -> Self {
        self.tonic = Some(builder);
        self
    }

    /// Compiles `protos` in pure Rust (protox: no protoc needed), with the
    /// annotation protos and Google's well-known types built in, then
    /// generates everything.
    pub fn compile_protos(
        &self,
        protos: &[impl AsRef<Path>],
        includes: &[impl AsRef<Path>],
    ) -> io::Result<()> {
        let mut resolver = protox::file::ChainFileResolver::new();
        for include in includes {
            resolver.add(protox::file::IncludeFileResolver::new(
                include.as_ref().to_path_buf(),
            ));
        }
        resolver.add(EmbeddedProtos);
        resolver.add(protox::file::GoogleFileResolver::new());
        let mut compiler = protox::Compiler::with_file_resolver(resolver);
        compiler.include_imports(true).include_source_info(true);
        for proto in protos {
            compiler
                .open_file(proto.as_ref())
                .map_err(|e| io::Error::other(e.to_string()))?;
        }
        let files: Vec<String> = compiler
            .files()
            .filter(|f| !f.is_import())
            .map(|f| f.name().to_string())
            .collect();
        if self.emit_rerun_if_changed {
            for file in compiler.files() {
                if let Some(path) = file.path() {
                    println!("cargo:rerun-if-changed={}", path.display());
                }
            }
        }
        // The encoded set keeps custom options; protox's prost_types output
        // would drop them.
        self.compile_descriptor_set(&compiler.encode_file_descriptor_set(), &files)
    }

    /// Compiles `protos` with the given protoc binary, then generates
    /// everything.
    pub fn compile_protos_with_protoc(
        &self,
        protoc: impl AsRef<Path>,
        protos: &[impl AsRef<Path>],
        includes: &[impl AsRef<Path>],
    ) -> io::Result<()> {
        let out_dir = self.resolved_out_dir()?;
        // The annotation protos, for protoc's include path.
        let embedded = out_dir.join("gateway-protos");
        for (name, source) in EMBEDDED {
            let path = embedded.join(name);
            std::fs::create_dir_all(path.parent().expect("embedded names have directories"))?;
            std::fs::write(path, source)?;
        }
        let set_path = out_dir.join("gateway-descriptors.bin");
        let mut command = Command::new(protoc.as_ref());
        for include in includes {
            command.arg("-I").arg(include.as_ref());
        }
        command
            .arg("-I")
            .arg(&embedded)
            .args(["--include_imports", "--include_source_info"])
            .arg(format!("--descriptor_set_out={}", set_path.display()));
        for proto in protos {
            command.arg(proto.as_ref());
            if self.emit_rerun_if_changed {
                println!("cargo:rerun-if-changed={}", proto.as_ref().display());
            }
        }
        let output = command.output().map_err(|e| {
            io::Error::other(format!("cannot run {}: {e}", protoc.as_ref().display()))
        })?;
        if !output.status.success() {
            return Err(io::Error::other(format!(
                "protoc failed:\n{}",
                String::from_utf8_lossy(&output.stderr)
            )));
        }
        let set = std::fs::read(&set_path)?;
        let files = proto_names(protos, includes);
        self.compile_descriptor_set(&set, &files)
    }

    /// Generates prost + tonic code (unless switched off) and the gateway
    /// from an encoded `FileDescriptorSet` that includes imports and source
    /// info, for the files named in `files`.
    pub fn compile_descriptor_set(&self, set: &[u8], files: &[impl AsRef<str>]) -> io::Result<()> {
        let out_dir = self.resolved_out_dir()?;
        if self.build_tonic {
            let fds = prost_types::FileDescriptorSet::decode(set).map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("invalid FileDescriptorSet: {e}"),
                )
            })?;
            self.tonic
                .clone()
                .unwrap_or_else(tonic_prost_build::configure)
                .out_dir(&out_dir)
                .emit_rerun_if_changed(false)
                .compile_fds(fds)?;
        }
        self.generate_from_descriptor_set(set, files).map(|_| ())
    }
}

/// Proto file names as protoc names them: relative to the include that
/// contains them.
fn proto_names(protos: &[impl AsRef<Path>], includes: &[impl AsRef<Path>]) -> Vec<String> {
    protos
        .iter()
        .map(|proto| {
            let proto = proto.as_ref();
            includes
                .iter()
                .find_map(|include| proto.strip_prefix(include.as_ref()).ok())
                .unwrap_or(proto)
                .to_string_lossy()
                .replace('\\', "/")
        })
        .collect()
}
