//! Scenario 5, the generator: time for `protoc_gen_rust_gateway::generate_with`
//! (descriptor pool, binding model, code emission and formatting) on a
//! synthetic descriptor set of S services × M methods, bound through one
//! global binding file. Runs in the orchestrator's own process: no server
//! is involved.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use prost::Message;
use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{
    DescriptorProto, FieldDescriptorProto, FileDescriptorProto, MethodDescriptorProto,
    ServiceDescriptorProto,
};
use protoc_gen_rust_gateway::options::Options;
use serde::{Deserialize, Serialize};

use crate::cli::Plan;

/// What the generator scenario measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GeneratorResult {
    pub services: usize,
    pub methods: usize,
    pub messages: usize,
    /// Wall time of each round, ms.
    pub rounds_ms: Vec<f64>,
    pub median_ms: f64,
    /// Size of the generated Rust source.
    pub output_bytes: usize,
    pub output_lines: usize,
    /// CPU time (user + system, all threads) of each round, ms, in 10 ms
    /// ticks: steadier than wall time when other work shares the cores.
    #[serde(default)]
    pub rounds_cpu_ms: Vec<f64>,
    #[serde(default)]
    pub median_cpu_ms: f64,
    /// Median time to parse the whole generated source with syn and print
    /// it with prettyplease: what formatting everything would cost (the
    /// generator formats tokens only for the parts it does not write as
    /// text; see `codegen/json_text.rs`).
    pub format_ms: f64,
}

/// Orchestrator side (the whole scenario).
pub fn run(plan: &Plan) -> GeneratorResult {
    let input = synthetic(plan.generator_services, plan.generator_methods);
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("bench_gateway.yaml");
    std::fs::write(&config, &input.bindings).expect("write the binding file");
    let options = Options {
        config_search_path: dir.path().to_path_buf(),
        gateway_config: Some(config),
        ..Options::default()
    };
    let mut rounds = Vec::new();
    let mut cpu_rounds = Vec::new();
    let mut format_rounds = Vec::new();
    let mut output = (0, 0);
    // One more round than asked for: the first warms the allocator and
    // the page cache for the binding file, and is not counted.
    for round in 0..=plan.rounds {
        let cpu = crate::procstat::stat_cpu_time("self").unwrap_or_default();
        let start = Instant::now();
        let generated =
            protoc_gen_rust_gateway::generate_with(&input.files, &input.names, &options)
                .unwrap_or_else(|errors| panic!("generation failed: {errors:?}"));
        let elapsed = start.elapsed();
        let cpu = crate::procstat::stat_cpu_time("self")
            .unwrap_or_default()
            .saturating_sub(cpu);
        output = generated
            .files
            .iter()
            .fold((0, 0), |(bytes, lines), (_, text)| {
                (bytes + text.len(), lines + text.lines().count())
            });
        let formatting = format_time(&generated.files);
        if round > 0 {
            rounds.push(elapsed);
            cpu_rounds.push(cpu);
            format_rounds.push(formatting);
            eprintln!(
                "  [generator] {} methods, round {round}: {:.1} ms, CPU {:.0} ms",
                input.methods,
                ms(elapsed),
                ms(cpu)
            );
        }
    }
    let mut sorted = rounds.clone();
    sorted.sort();
    format_rounds.sort();
    let mut sorted_cpu = cpu_rounds.clone();
    sorted_cpu.sort();
    GeneratorResult {
        services: plan.generator_services,
        methods: input.methods,
        messages: input.messages,
        rounds_ms: rounds.into_iter().map(ms).collect(),
        median_ms: ms(sorted[sorted.len() / 2]),
        rounds_cpu_ms: cpu_rounds.into_iter().map(ms).collect(),
        median_cpu_ms: ms(sorted_cpu[sorted_cpu.len() / 2]),
        output_bytes: output.0,
        output_lines: output.1,
        format_ms: ms(format_rounds[format_rounds.len() / 2]),
    }
}

/// Time of `syn::parse2` + `prettyplease::unparse` over the generated
/// files, the formatting step of the generator (the generator parses the
/// token stream it built; here the tokens are lexed from the output first,
/// and the lexing is not counted).
fn format_time(files: &[(String, String)]) -> Duration {
    let mut total = Duration::ZERO;
    for (_, text) in files {
        let tokens: proc_macro2::TokenStream = text.parse().expect("generated code lexes");
        let start = Instant::now();
        let file: syn::File = syn::parse2(tokens).expect("generated code parses");
        let printed = prettyplease::unparse(&file);
        total += start.elapsed();
        assert!(!printed.is_empty());
    }
    total
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Encoded files plus the binding file that binds their methods.
struct Input {
    files: Vec<Vec<u8>>,
    names: Vec<String>,
    bindings: String,
    methods: usize,
    messages: usize,
}

fn field(
    name: &str,
    number: i32,
    ty: Type,
    label: Label,
    type_name: Option<&str>,
) -> FieldDescriptorProto {
    FieldDescriptorProto {
        name: Some(name.into()),
        number: Some(number),
        label: Some(label as i32),
        r#type: Some(ty as i32),
        type_name: type_name.map(Into::into),
        // protoc always fills json_name in the sets it hands to plugins.
        json_name: Some(lower_camel(name)),
        ..FieldDescriptorProto::default()
    }
}

fn lower_camel(name: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// A request or response message: scalars, a repeated string, a nested
/// message and a map-free mix typical of API messages.
fn message(name: String, inner: &str) -> DescriptorProto {
    use Label::{Optional, Repeated};
    DescriptorProto {
        name: Some(name),
        field: vec![
            field("id", 1, Type::String, Optional, None),
            field("display_name", 2, Type::String, Optional, None),
            field("page_size", 3, Type::Int32, Optional, None),
            field("total", 4, Type::Int64, Optional, None),
            field("enabled", 5, Type::Bool, Optional, None),
            field("tags", 6, Type::String, Repeated, None),
            field("inner", 7, Type::Message, Optional, Some(inner)),
            field("items", 8, Type::Message, Repeated, Some(inner)),
        ],
        ..DescriptorProto::default()
    }
}

/// `services` files of package `bench.v1`, each with one service of
/// `methods` methods and a request and response message per method. Every
/// fourth method has another binding shape (path parameter, body field,
/// query only); every tenth streams its responses.
fn synthetic(services: usize, methods: usize) -> Input {
    let mut files = Vec::new();
    let mut names = Vec::new();
    let mut bindings = String::from("gateway:\n  endpoints:\n");
    let mut messages = 0;
    for s in 0..services {
        let inner_name = format!("S{s}Inner");
        let inner_ref = format!(".bench.v1.{inner_name}");
        let mut message_types = vec![DescriptorProto {
            name: Some(inner_name),
            field: vec![
                field("text", 1, Type::String, Label::Optional, None),
                field("value", 2, Type::Int64, Label::Optional, None),
            ],
            ..DescriptorProto::default()
        }];
        let mut service = ServiceDescriptorProto {
            name: Some(format!("Service{s}")),
            ..ServiceDescriptorProto::default()
        };
        for m in 0..methods {
            let request = format!("S{s}M{m}Request");
            let response = format!("S{s}M{m}Response");
            message_types.push(message(request.clone(), &inner_ref));
            message_types.push(message(response.clone(), &inner_ref));
            let streaming = m % 10 == 9;
            service.method.push(MethodDescriptorProto {
                name: Some(format!("Method{m}")),
                input_type: Some(format!(".bench.v1.{request}")),
                output_type: Some(format!(".bench.v1.{response}")),
                server_streaming: Some(streaming),
                ..MethodDescriptorProto::default()
            });
            let selector = format!("bench.v1.Service{s}.Method{m}");
            let binding = match (m % 4, streaming) {
                (_, true) | (0, _) => format!("get: /v1/s{s}/m{m}/{{id}}"),
                (1, _) => format!("post: /v1/s{s}/m{m}\n      body: \"*\""),
                (2, _) => format!("put: /v1/s{s}/m{m}/{{id}}\n      body: inner"),
                _ => format!("get: /v1/s{s}/m{m}"),
            };
            let _ = write!(bindings, "    - selector: {selector}\n      {binding}\n");
        }
        messages += message_types.len();
        let name = format!("bench/v1/service{s:02}.proto");
        let file = FileDescriptorProto {
            name: Some(name.clone()),
            package: Some("bench.v1".into()),
            message_type: message_types,
            service: vec![service],
            syntax: Some("proto3".into()),
            ..FileDescriptorProto::default()
        };
        files.push(file.encode_to_vec());
        names.push(name);
    }
    Input {
        files,
        names,
        bindings,
        methods: services * methods,
        messages,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_set_generates() {
        let plan = Plan {
            rounds: 1,
            generator_services: 2,
            generator_methods: 10,
            ..crate::cli::Options::parse(&["--quick".into()])
                .unwrap()
                .plan()
        };
        let result = run(&plan);
        assert_eq!(result.methods, 20);
        assert!(result.output_lines > 100, "{result:?}");
    }

    #[test]
    fn camel() {
        assert_eq!(lower_camel("display_name"), "displayName");
        assert_eq!(lower_camel("id"), "id");
    }
}
