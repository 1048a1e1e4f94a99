//! A readable dump of the binding model (`dump_model=true`), used by the
//! golden tests and handy when a binding does not do what one expects.

use std::fmt::Write;

use crate::model::{BodyModel, Model, QueryShape};

/// Renders the model as indented text, one fact per line.
pub fn dump(model: &Model) -> String {
    let mut out = String::new();
    for service in &model.services {
        let d = &service.descriptor;
        let _ = writeln!(
            out,
            "service {} ({})",
            d.full_name(),
            d.parent_file().name()
        );
        for method in &service.methods {
            let m = &method.descriptor;
            let _ = writeln!(
                out,
                "  rpc {} [{}] {} -> {}",
                m.name(),
                method.kind.name(),
                m.input().full_name(),
                m.output().full_name()
            );
            let _ = writeln!(out, "    from: {}", method.origin);
            for b in &method.bindings {
                let _ = writeln!(out, "    binding {}: {} {}", b.index, b.method, b.template);
                if let Some(l) = &b.location {
                    let _ = writeln!(out, "      at: {l}");
                }
                let _ = writeln!(out, "      shape: {}", b.template.shape());
                let captures = b.template.captures();
                for p in &b.path_params {
                    let rooted = captures.get(p.capture).is_some_and(|c| c.rooted);
                    let _ = writeln!(
                        out,
                        "      path: {} <- capture {}{}",
                        p.field,
                        p.capture,
                        if rooted {
                            " (catch-all, leading '/')"
                        } else if p.multi_segment {
                            " (multi-segment)"
                        } else {
                            ""
                        }
                    );
                }
                let body = match &b.body {
                    BodyModel::None => "none".to_string(),
                    BodyModel::Whole => "*".to_string(),
                    BodyModel::Field(f) => f.to_string(),
                };
                let _ = writeln!(out, "      body: {body}");
                let _ = writeln!(
                    out,
                    "      response_body: {}",
                    b.response_body
                        .as_ref()
                        .map_or("*".to_string(), ToString::to_string)
                );
                let _ = writeln!(
                    out,
                    "      query discovery: {}",
                    if b.query_discovery { "on" } else { "off" }
                );
                for q in &b.query {
                    let shape = match q.shape {
                        QueryShape::Single => "single",
                        QueryShape::Repeated => "repeated",
                        QueryShape::Map => "map",
                    };
                    let _ = writeln!(
                        out,
                        "      query: {} [{shape}{}] {}",
                        q.field,
                        if q.explicit { ", explicit" } else { "" },
                        q.names.join(" | ")
                    );
                }
                if let Some(mask) = &b.update_mask {
                    let _ = writeln!(out, "      update_mask: {mask}");
                }
                if method.kind != crate::model::MethodKind::Unary {
                    let t = b.stream;
                    let _ = writeln!(
                        out,
                        "      stream toggles: websockets={} sse={} chunked={}",
                        on_off(!t.disable_websockets),
                        on_off(!t.disable_sse),
                        on_off(!t.disable_chunked_transfer)
                    );
                    let _ = writeln!(out, "      modes: {}", b.modes);
                }
            }
        }
    }
    out
}

fn on_off(on: bool) -> &'static str {
    if on { "on" } else { "off" }
}
