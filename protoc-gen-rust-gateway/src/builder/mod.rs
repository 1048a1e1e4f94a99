//! The generator as a library, for `build.rs` (in the style of
//! `tonic_prost_build::configure()`).

#[cfg(feature = "build")]
mod compile;

use std::io;
use std::path::{Path, PathBuf};

use prost::Message;

use crate::diagnostic::{self, Diagnostic};
use crate::options::{Options, RepeatedPathSeparator, StarVariable};

/// `FileDescriptorSet` with its files kept as raw bytes, so custom options
/// survive (decoding into `prost_types` would drop them).
#[derive(Clone, PartialEq, Message)]
struct RawFileDescriptorSet {
    #[prost(bytes = "vec", repeated, tag = "1")]
    file: Vec<Vec<u8>>,
}

/// Starts a configuration with the plugin's defaults.
pub fn configure() -> Builder {
    Builder {
        options: Options::default(),
        out_dir: None,
        emit_rerun_if_changed: std::env::var_os("CARGO").is_some(),
        #[cfg(feature = "build")]
        build_tonic: true,
        #[cfg(feature = "build")]
        tonic: None,
    }
}

/// Configures and runs the generator from `build.rs`.
///
/// ```no_run
/// // build.rs: messages, tonic client and server, JSON code and gateway,
/// // from protos compiled in pure Rust (no protoc needed).
/// protoc_gen_rust_gateway::builder::configure()
///     .compile_protos(&["proto/chat/v1/chat.proto"], &["proto"])
///     .unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct Builder {
    options: Options,
    out_dir: Option<PathBuf>,
    emit_rerun_if_changed: bool,
    #[cfg(feature = "build")]
    build_tonic: bool,
    #[cfg(feature = "build")]
    tonic: Option<tonic_prost_build::Builder>,
}

impl Builder {
    /// Directory searched for binding files (default: the current directory,
    /// which is the package root under Cargo).
    pub fn config_search_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.options.config_search_path = path.into();
        self
    }

    /// A global binding file, loaded before the per-proto files.
    pub fn gateway_config(mut self, path: impl Into<PathBuf>) -> Self {
        self.options.gateway_config = Some(path.into());
        self
    }

    /// A grpc-gateway service configuration (`google.api.Service` YAML with
    /// `http.rules`), the option `grpc_api_configuration`.
    pub fn grpc_api_configuration(mut self, path: impl Into<PathBuf>) -> Self {
        self.options.grpc_api_configuration = Some(path.into());
        self
    }

    /// Name pattern of per-proto binding files (default `{{.Path}}_gateway`).
    pub fn gateway_config_pattern(mut self, pattern: impl Into<String>) -> Self {
        self.options.gateway_config_pattern = pattern.into();
        self
    }

    /// Bind methods without a binding to `POST /<package>.<Service>/<Method>`.
    pub fn generate_unbound_methods(mut self, on: bool) -> Self {
        self.options.generate_unbound_methods = on;
        self
    }

    /// Warn about methods without a binding.
    pub fn warn_on_unbound_methods(mut self, on: bool) -> Self {
        self.options.warn_on_unbound_methods = on;
        self
    }

    /// Allow a body on DELETE bindings.
    pub fn allow_delete_body(mut self, on: bool) -> Self {
        self.options.allow_delete_body = on;
        self
    }

    /// Fill PATCH `update_mask` from the body (default: on).
    pub fn allow_patch_feature(mut self, on: bool) -> Self {
        self.options.allow_patch_feature = on;
        self
    }

    /// Also generate `foo_gateway::direct_router`, which calls the service
    /// implementation in process without protobuf (option `direct_calls`;
    /// default: off). The generated code then names tonic's server trait, so
    /// tonic's server code must be generated too (`build_server(true)`).
    pub fn direct_calls(mut self, on: bool) -> Self {
        self.options.direct_calls = on;
        self
    }

    /// How repeated path parameters are split (default: `,`).
    pub fn repeated_path_param_separator(mut self, separator: RepeatedPathSeparator) -> Self {
        self.options.repeated_path_param_separator = separator;
        self
    }

    /// What `{field=*}` means in `meshapi.gateway.http` bindings (default:
    /// the Go project's catch-all).
    pub fn star_variable(mut self, meaning: StarVariable) -> Self {
        self.options.star_variable = meaning;
        self
    }

    /// Also write OpenAPI 3.1 documents, as JSON or YAML (option
    /// `openapi=json|yaml`): `<package>.openapi.json` next to the generated
    /// code, or one merged document (see [`Builder::openapi_output_mode`]).
    pub fn openapi(mut self, format: crate::openapi::Format) -> Self {
        self.options.openapi.format = Some(format);
        self
    }

    /// One document per proto package (default) or one merged document.
    pub fn openapi_output_mode(mut self, mode: crate::openapi::OutputMode) -> Self {
        self.options.openapi.mode = mode;
        self
    }

    /// File name of the merged document, without `.openapi.<ext>` (default
    /// `apidocs`).
    pub fn openapi_filename(mut self, stem: impl Into<String>) -> Self {
        self.options.openapi.filename = stem.into();
        self
    }

    /// How operation ids are derived (default `Service_Method`).
    pub fn openapi_operation_id_mode(mut self, mode: crate::openapi::OperationIdMode) -> Self {
        self.options.openapi.operation_ids = mode;
        self
    }

    /// Output directory (default: `$OUT_DIR`).
    pub fn out_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.out_dir = Some(dir.into());
        self
    }

    /// Whether to print `cargo:rerun-if-changed` for binding files (default:
    /// when run by Cargo).
    pub fn emit_rerun_if_changed(mut self, on: bool) -> Self {
        self.emit_rerun_if_changed = on;
        self
    }

    /// Generates from an encoded `FileDescriptorSet` (e.g. `protoc
    /// --include_imports --include_source_info --descriptor_set_out`, or
    /// protox's encoded set), for the files named in `files`. Writes
    /// `<package>.gateway.rs` files to the output directory, each only when
    /// its content changed, and returns their paths.
    pub fn generate_from_descriptor_set(
        &self,
        set: &[u8],
        files: &[impl AsRef<str>],
    ) -> io::Result<Vec<PathBuf>> {
        let generated = self.generate_in_memory(set, files)?;
        let out_dir = self.resolved_out_dir()?;
        let mut written = Vec::new();
        for (name, content) in generated {
            let path = out_dir.join(&name);
            write_if_changed(&path, &content)?;
            written.push(path);
        }
        Ok(written)
    }

    /// The output directory: the configured one or `$OUT_DIR`.
    fn resolved_out_dir(&self) -> io::Result<PathBuf> {
        match &self.out_dir {
            Some(dir) => Ok(dir.clone()),
            None => std::env::var_os("OUT_DIR")
                .map(PathBuf::from)
                .ok_or_else(|| {
                    io::Error::other(
                        "OUT_DIR is not set; call out_dir() when not running under Cargo",
                    )
                }),
        }
    }

    /// Like [`Builder::generate_from_descriptor_set`], returning `(file name,
    /// content)` pairs instead of writing them.
    pub fn generate_in_memory(
        &self,
        set: &[u8],
        files: &[impl AsRef<str>],
    ) -> io::Result<Vec<(String, String)>> {
        let set = RawFileDescriptorSet::decode(set).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("invalid FileDescriptorSet: {e}"),
            )
        })?;
        let files: Vec<String> = files.iter().map(|f| f.as_ref().to_string()).collect();
        let output = crate::generate_with(&set.file, &files, &self.options).map_err(|errors| {
            io::Error::new(io::ErrorKind::InvalidInput, diagnostic::render(&errors))
        })?;
        for warning in &output.warnings {
            print_warning(warning);
        }
        if self.emit_rerun_if_changed {
            for path in &output.inputs {
                println!("cargo:rerun-if-changed={}", path.display());
            }
        }
        Ok(output.files)
    }
}

fn print_warning(warning: &Diagnostic) {
    if std::env::var_os("CARGO").is_some() {
        for line in warning.to_string().lines() {
            println!("cargo:warning={line}");
        }
    } else {
        eprintln!("{warning}");
    }
}

fn write_if_changed(path: &Path, content: &str) -> io::Result<()> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == content) {
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, content)
}
