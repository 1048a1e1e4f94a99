//! The binding model: every bound method with every HTTP binding fully
//! resolved against the descriptors. Code generation reads only this.

use std::fmt;

use prost_reflect::{
    FieldDescriptor, Kind, MessageDescriptor, MethodDescriptor, ServiceDescriptor,
};

use crate::diagnostic::Location;
use crate::template::PathTemplate;

/// All services of the files being generated, with their bound methods.
#[derive(Debug, Clone, Default)]
pub struct Model {
    /// Services in file order, then declaration order.
    pub services: Vec<ServiceModel>,
}

/// A gRPC service and its bound methods.
#[derive(Debug, Clone)]
pub struct ServiceModel {
    /// The service descriptor.
    pub descriptor: ServiceDescriptor,
    /// Bound methods, in declaration order; unbound methods are left out.
    pub methods: Vec<MethodModel>,
}

/// gRPC method kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MethodKind {
    /// One request, one response.
    Unary,
    /// One request, a stream of responses.
    ServerStreaming,
    /// A stream of requests, one response.
    ClientStreaming,
    /// Streams both ways.
    BidiStreaming,
}

impl MethodKind {
    /// The kind of a method descriptor.
    pub fn of(method: &MethodDescriptor) -> Self {
        match (method.is_client_streaming(), method.is_server_streaming()) {
            (false, false) => MethodKind::Unary,
            (false, true) => MethodKind::ServerStreaming,
            (true, false) => MethodKind::ClientStreaming,
            (true, true) => MethodKind::BidiStreaming,
        }
    }

    /// Whether responses are streamed.
    pub fn streams_responses(self) -> bool {
        matches!(
            self,
            MethodKind::ServerStreaming | MethodKind::BidiStreaming
        )
    }

    /// Whether requests are streamed.
    pub fn streams_requests(self) -> bool {
        matches!(
            self,
            MethodKind::ClientStreaming | MethodKind::BidiStreaming
        )
    }

    /// Name used in the model dump.
    pub fn name(self) -> &'static str {
        match self {
            MethodKind::Unary => "unary",
            MethodKind::ServerStreaming => "server-streaming",
            MethodKind::ClientStreaming => "client-streaming",
            MethodKind::BidiStreaming => "bidi-streaming",
        }
    }
}

/// Where a binding came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A `(meshapi.gateway.http)` annotation.
    Annotation(Location),
    /// A binding file entry.
    File(Location),
    /// An annotation merged with a binding file entry.
    Merged {
        /// The annotated method.
        annotation: Location,
        /// The file entry.
        file: Location,
    },
    /// `(google.api.http)` annotations and service configuration rules, in
    /// the order they are served (configuration rules, then the annotation).
    Google(Vec<Location>),
    /// `generate_unbound_methods`.
    Unbound,
}

impl Origin {
    /// The location to report problems at: the file entry when there is one.
    pub fn location(&self) -> Option<&Location> {
        match self {
            Origin::Annotation(l) | Origin::File(l) => Some(l),
            Origin::Merged { file, .. } => Some(file),
            Origin::Google(sources) => sources.first(),
            Origin::Unbound => None,
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Annotation(l) => write!(f, "annotation {l}"),
            Origin::File(l) => write!(f, "file {l}"),
            Origin::Merged { annotation, file } => {
                write!(f, "annotation {annotation} + file {file}")
            }
            Origin::Google(sources) => {
                f.write_str("google.api.http")?;
                for (i, l) in sources.iter().enumerate() {
                    write!(f, "{}{l}", if i == 0 { " " } else { ", " })?;
                }
                Ok(())
            }
            Origin::Unbound => f.write_str("generate_unbound_methods"),
        }
    }
}

/// A bound method.
#[derive(Debug, Clone)]
pub struct MethodModel {
    /// The method descriptor.
    pub descriptor: MethodDescriptor,
    /// Unary or which way it streams.
    pub kind: MethodKind,
    /// The primary binding first, then additional bindings in order.
    pub bindings: Vec<BindingModel>,
    /// Where the method's binding came from.
    pub origin: Origin,
}

/// HTTP method of a binding.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HttpMethod {
    /// GET
    Get,
    /// PUT
    Put,
    /// POST
    Post,
    /// DELETE
    Delete,
    /// PATCH
    Patch,
    /// Any other method, upper-case as written (e.g. `HEAD`, `OPTIONS`, `LIST`).
    Custom(String),
}

impl HttpMethod {
    /// The method token.
    pub fn as_str(&self) -> &str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Put => "PUT",
            HttpMethod::Post => "POST",
            HttpMethod::Delete => "DELETE",
            HttpMethod::Patch => "PATCH",
            HttpMethod::Custom(m) => m,
        }
    }
}

impl fmt::Display for HttpMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A path of fields from a message down into nested messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPath(pub Vec<FieldDescriptor>);

impl FieldPath {
    /// The last field.
    pub fn leaf(&self) -> &FieldDescriptor {
        self.0.last().expect("field paths are never empty")
    }

    /// Proto names joined with dots (`options.case_sensitive`).
    pub fn proto_path(&self) -> String {
        self.0
            .iter()
            .map(|f| f.name())
            .collect::<Vec<_>>()
            .join(".")
    }

    /// JSON names joined with dots (`options.caseSensitive`).
    pub fn json_path(&self) -> String {
        self.0
            .iter()
            .map(|f| f.json_name())
            .collect::<Vec<_>>()
            .join(".")
    }

    /// Whether `self` is `other` or lies inside it.
    pub fn starts_with(&self, other: &FieldPath) -> bool {
        self.0.len() >= other.0.len() && self.0.iter().zip(&other.0).all(|(a, b)| a == b)
    }

    /// Whether one of the two paths contains the other.
    pub fn overlaps(&self, other: &FieldPath) -> bool {
        self.starts_with(other) || other.starts_with(self)
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.proto_path())
    }
}

/// What part of the request the HTTP body carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyModel {
    /// Nothing is read from the body.
    None,
    /// `*`: the whole request message.
    Whole,
    /// One field of the request.
    Field(FieldPath),
}

/// A path variable bound to a request field.
#[derive(Debug, Clone)]
pub struct PathParam {
    /// The field the capture is written to.
    pub field: FieldPath,
    /// Index of the variable among the template's captures.
    pub capture: usize,
    /// Whether the capture spans several segments (keeps its slashes).
    pub multi_segment: bool,
}

/// How a query parameter maps onto its field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryShape {
    /// One value (`?a=1`); a second value for the same name is an error.
    Single,
    /// Repeated field: every occurrence appends (`?a=1&a=2`).
    Repeated,
    /// Map of scalars: `?m[key]=value`.
    Map,
}

/// A query parameter.
#[derive(Debug, Clone)]
pub struct QueryParam {
    /// The field it sets.
    pub field: FieldPath,
    /// Single, repeated or map.
    pub shape: QueryShape,
    /// The names that set it: for a discovered parameter the dotted path in
    /// proto names and in JSON names (each segment may use either); for an
    /// explicit binding its `name`.
    pub names: Vec<String>,
    /// Whether it comes from an explicit `query_params` entry.
    pub explicit: bool,
}

/// Streaming modes allowed by the binding's `stream` toggles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StreamToggles {
    /// `stream.disable_websockets`
    pub disable_websockets: bool,
    /// `stream.disable_sse`
    pub disable_sse: bool,
    /// `stream.disable_chunked_transfer`
    pub disable_chunked_transfer: bool,
}

/// Streaming modes a binding can actually serve: allowed by its toggles and
/// possible for its HTTP method and gRPC kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StreamModes {
    /// Server-Sent Events: GET, and the method streams responses.
    pub sse: bool,
    /// WebSocket: GET.
    pub websocket: bool,
    /// Chunked transfer (NDJSON): any HTTP method.
    pub chunked: bool,
}

impl StreamModes {
    /// Whether no mode is available.
    pub fn is_empty(&self) -> bool {
        !(self.sse || self.websocket || self.chunked)
    }
}

impl fmt::Display for StreamModes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names = Vec::new();
        if self.sse {
            names.push("sse");
        }
        if self.websocket {
            names.push("websocket");
        }
        if self.chunked {
            names.push("chunked");
        }
        if names.is_empty() {
            f.write_str("none")
        } else {
            f.write_str(&names.join(", "))
        }
    }
}

/// One HTTP binding of a method.
#[derive(Debug, Clone)]
pub struct BindingModel {
    /// 0 for the primary binding, then 1.. for additional bindings.
    pub index: usize,
    /// HTTP method.
    pub method: HttpMethod,
    /// Parsed path template.
    pub template: PathTemplate,
    /// Path variables, in template order.
    pub path_params: Vec<PathParam>,
    /// What the body carries.
    pub body: BodyModel,
    /// The response field written as the body; `None` writes the whole response.
    pub response_body: Option<FieldPath>,
    /// Query parameters: explicit ones first, then discovered ones.
    pub query: Vec<QueryParam>,
    /// Whether undeclared fields are discovered as query parameters.
    pub query_discovery: bool,
    /// The `stream` toggles as written.
    pub stream: StreamToggles,
    /// Modes this binding serves (all false for unary methods).
    pub modes: StreamModes,
    /// For PATCH with `allow_patch_feature`: the `update_mask` field to fill
    /// from the body when the client sent none.
    pub update_mask: Option<FieldPath>,
    /// Where the binding was written.
    pub location: Option<Location>,
}

/// Well-known message types that bind like scalars in paths and queries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WellKnown {
    /// `google.protobuf.*Value` wrappers; prost maps them to `Option<scalar>`.
    Wrapper(Kind),
    /// `google.protobuf.Timestamp`
    Timestamp,
    /// `google.protobuf.Duration`
    Duration,
    /// `google.protobuf.FieldMask`
    FieldMask,
    /// `google.protobuf.Struct`
    Struct,
    /// `google.protobuf.Value`
    Value,
    /// `google.protobuf.ListValue`
    ListValue,
    /// `google.protobuf.Empty`
    Empty,
    /// `google.protobuf.Any`
    Any,
}

impl WellKnown {
    /// Classifies a message type.
    pub fn of(message: &MessageDescriptor) -> Option<WellKnown> {
        let inner = || message.get_field(1).map(|f| f.kind());
        Some(match message.full_name() {
            "google.protobuf.DoubleValue"
            | "google.protobuf.FloatValue"
            | "google.protobuf.Int64Value"
            | "google.protobuf.UInt64Value"
            | "google.protobuf.Int32Value"
            | "google.protobuf.UInt32Value"
            | "google.protobuf.BoolValue"
            | "google.protobuf.StringValue"
            | "google.protobuf.BytesValue" => WellKnown::Wrapper(inner()?),
            "google.protobuf.Timestamp" => WellKnown::Timestamp,
            "google.protobuf.Duration" => WellKnown::Duration,
            "google.protobuf.FieldMask" => WellKnown::FieldMask,
            "google.protobuf.Struct" => WellKnown::Struct,
            "google.protobuf.Value" => WellKnown::Value,
            "google.protobuf.ListValue" => WellKnown::ListValue,
            "google.protobuf.Empty" => WellKnown::Empty,
            "google.protobuf.Any" => WellKnown::Any,
            _ => return None,
        })
    }

    /// Whether a value of this type can be written as one query parameter.
    pub fn is_query_leaf(&self) -> bool {
        !matches!(self, WellKnown::Empty | WellKnown::Any)
    }
}
