//! From descriptors, annotations and binding files to a validated
//! [`Model`], with a diagnostic for every mistake.

mod binding;
mod query;
mod sources;
#[cfg(all(test, feature = "build"))]
mod tests;

use std::collections::BTreeMap;

use prost_reflect::{DescriptorPool, FileDescriptor, MethodDescriptor};

use crate::config::RawEndpoint;
use crate::diagnostic::{Diagnostic, Diagnostics, Location};
use crate::model::{
    BindingModel, HttpMethod, MethodKind, MethodModel, Model, Origin, ServiceModel,
};
use crate::options::Options;
use crate::spec::{self, BindingSpec};

use binding::resolve_binding;
pub use binding::{HTTP_BODY, is_http_body, resolve_field_path, resolve_response_field_path};
pub use sources::binding_files;
use sources::{additional_location, load_binding_files, load_service_config, read_text};

/// Builds and checks the model for `files_to_generate`. Warnings are
/// returned with the model; errors replace it.
pub fn build_model(
    pool: &DescriptorPool,
    files_to_generate: &[String],
    options: &Options,
) -> Result<(Model, Vec<Diagnostic>), Vec<Diagnostic>> {
    let mut diags = Diagnostics::default();
    let files: Vec<FileDescriptor> = files_to_generate
        .iter()
        .filter_map(|name| {
            let file = pool.get_file_by_name(name);
            if file.is_none() {
                diags.error(
                    Some(Location::file(name)),
                    "file to generate is missing from the request",
                );
            }
            file
        })
        .collect();
    let file_bindings = load_binding_files(pool, &files, options, &mut diags);
    let service_rules = load_service_config(pool, &files, options, &mut diags);
    let extension = spec::http_extension(pool);
    let google_extension = spec::google_http_extension(pool);

    let mut model = Model::default();
    for file in &files {
        for service in file.services() {
            let mut methods = Vec::new();
            for method in service.methods() {
                let location = method_location(&method);
                let annotation = match spec::read_annotation(&method, extension.as_ref(), &location)
                {
                    Ok(a) => a,
                    Err(e) => {
                        diags.push(e);
                        continue;
                    }
                };
                let google_annotation = match spec::read_google_annotation(
                    &method,
                    google_extension.as_ref(),
                    &location,
                ) {
                    Ok(a) => a,
                    Err(e) => {
                        diags.push(e);
                        continue;
                    }
                };
                let file_entry = file_bindings.get(method.full_name());
                // The Google family: configuration rules first, then the
                // annotation, every one served (as grpc-gateway does).
                let mut google: Vec<(RawEndpoint, Location)> = service_rules
                    .get(method.full_name())
                    .into_iter()
                    .flatten()
                    .map(|rule| (rule.endpoint.clone(), rule.location.clone()))
                    .collect();
                if let Some(rule) = google_annotation {
                    google.push((rule, location.clone()));
                }
                let meshapi = match (annotation, file_entry) {
                    (None, None) => None,
                    (Some(a), None) => Some((a, Origin::Annotation(location.clone()))),
                    (None, Some(f)) => Some((f.endpoint.clone(), Origin::File(f.location.clone()))),
                    (Some(a), Some(f)) => Some((
                        spec::merge(a, f.endpoint.clone()),
                        Origin::Merged {
                            annotation: location.clone(),
                            file: f.location.clone(),
                        },
                    )),
                };
                let specs = match (meshapi, google.is_empty()) {
                    (None, true) => {
                        if options.generate_unbound_methods {
                            methods.push(unbound_method(&method, options));
                        } else if options.warn_on_unbound_methods {
                            diags.warning(
                                Some(location.clone()),
                                format!(
                                    "method `{}` has no HTTP binding and is not reachable through the gateway",
                                    method.full_name()
                                ),
                            );
                        }
                        continue;
                    }
                    (Some((_, origin)), false) => {
                        let here = origin.location().cloned();
                        diags.push(
                            Diagnostic::error(
                                here,
                                format!(
                                    "method `{}` is bound by `meshapi.gateway.http` ({origin}) and by `google.api.http` ({}); a method takes its bindings from one of the two: remove the other",
                                    method.full_name(),
                                    Origin::Google(google.iter().map(|(_, l)| l.clone()).collect())
                                ),
                            )
                            .with_note(google[0].1.clone(), "bound by google.api.http here"),
                        );
                        continue;
                    }
                    (Some((raw, origin)), true) => {
                        let text = file_entry
                            .map(|f| (f.location.file.clone(), read_text(&f.location.file)));
                        let extra_location = |i: usize, extra: &RawEndpoint| {
                            additional_location(&origin, text.as_ref(), i, extra)
                        };
                        match spec::split(&raw, origin.location(), &extra_location) {
                            Ok(specs) => (specs, origin),
                            Err(errors) => {
                                errors.into_iter().for_each(|e| diags.push(e));
                                continue;
                            }
                        }
                    }
                    (None, false) => {
                        let mut specs = Vec::new();
                        let mut failed = false;
                        for (raw, rule_location) in &google {
                            let origin = Origin::File(rule_location.clone());
                            let text = (rule_location.file != location.file).then(|| {
                                (rule_location.file.clone(), read_text(&rule_location.file))
                            });
                            let extra_location = |i: usize, extra: &RawEndpoint| {
                                additional_location(&origin, text.as_ref(), i, extra)
                            };
                            match spec::split(raw, Some(rule_location), &extra_location) {
                                Ok(more) => specs.extend(more),
                                Err(errors) => {
                                    errors.into_iter().for_each(|e| diags.push(e));
                                    failed = true;
                                }
                            }
                        }
                        if failed {
                            continue;
                        }
                        for spec in &mut specs {
                            spec.family = spec::Family::Google;
                        }
                        let origin =
                            Origin::Google(google.iter().map(|(_, l)| l.clone()).collect());
                        (specs, origin)
                    }
                };
                let (specs, origin) = specs;
                let kind = MethodKind::of(&method);
                let bindings: Vec<BindingModel> = specs
                    .into_iter()
                    .enumerate()
                    .filter_map(|(index, spec)| {
                        resolve_binding(&method, kind, index, spec, options, &mut diags)
                    })
                    .collect();
                methods.push(MethodModel {
                    descriptor: method.clone(),
                    kind,
                    bindings,
                    origin,
                });
            }
            if let Some(first) = methods.first()
                && file.package_name().is_empty()
            {
                // The generated module and its paths to prost's types are
                // named after the package; prost's `_` module for files
                // without one is not supported.
                diags.error(
                    Some(method_location(&first.descriptor)),
                    format!(
                        "service `{}` is in a file without a `package`; the gateway's code is named after the package: add a `package` line to bind its methods",
                        service.name()
                    ),
                );
                continue;
            }
            if !methods.is_empty() {
                model.services.push(ServiceModel {
                    descriptor: service.clone(),
                    methods,
                });
            }
        }
    }
    check_duplicate_routes(&model, &mut diags);
    if diags.has_errors() {
        Err(diags
            .into_vec()
            .into_iter()
            .filter(Diagnostic::is_error)
            .collect())
    } else {
        Ok((model, diags.into_vec()))
    }
}

pub(super) fn find_method(pool: &DescriptorPool, selector: &str) -> Option<MethodDescriptor> {
    let (service, method) = selector.rsplit_once('.')?;
    pool.get_service_by_name(service)?
        .methods()
        .find(|m| m.name() == method)
}

pub(super) fn explain_missing_method(pool: &DescriptorPool, selector: &str) -> String {
    let Some((service, method)) = selector.rsplit_once('.') else {
        return "expected `package.Service.Method`".into();
    };
    match pool.get_service_by_name(service) {
        Some(s) => format!(
            "service `{service}` has no method `{method}`; it has {}",
            s.methods()
                .map(|m| format!("`{}`", m.name()))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        None => format!("there is no service `{service}` in the protos given to protoc"),
    }
}

/// File and line of a method in its proto file (from source info).
pub fn method_location(method: &MethodDescriptor) -> Location {
    let file = method.parent_file();
    let service = method.parent_service();
    // `index()` counts across the whole pool; source paths count per file.
    let service_index = file.services().position(|s| &s == service).unwrap_or(0);
    let method_index = service.methods().position(|m| &m == method).unwrap_or(0);
    let path = [6, service_index as i32, 2, method_index as i32];
    let line = file
        .file_descriptor_proto()
        .source_code_info
        .as_ref()
        .and_then(|info| info.location.iter().find(|l| l.path == path))
        .and_then(|l| l.span.first())
        .map(|line| *line as u32 + 1);
    Location::line(file.name(), line)
}

pub(super) fn unbound_method(method: &MethodDescriptor, options: &Options) -> MethodModel {
    let service = method.parent_service();
    let path = format!("/{}/{}", service.full_name(), method.name());
    let kind = MethodKind::of(method);
    let spec = BindingSpec {
        family: spec::Family::Meshapi,
        method: HttpMethod::Post,
        path,
        body: "*".into(),
        response_body: String::new(),
        query_params: Vec::new(),
        disable_query_param_discovery: false,
        stream: Default::default(),
        location: None,
    };
    let mut diags = Diagnostics::default();
    let binding = resolve_binding(method, kind, 0, spec, options, &mut diags)
        .expect("the default binding of an unbound method is always valid");
    MethodModel {
        descriptor: method.clone(),
        kind,
        bindings: vec![binding],
        origin: Origin::Unbound,
    }
}

/// Two bindings with the same HTTP method and the same template shape would
/// shadow each other.
pub(super) fn check_duplicate_routes(model: &Model, diags: &mut Diagnostics) {
    let mut seen: BTreeMap<(HttpMethod, String), (String, Option<Location>)> = BTreeMap::new();
    for service in &model.services {
        for method in &service.methods {
            for binding in &method.bindings {
                let key = (binding.method.clone(), binding.template.shape());
                let here = binding
                    .location
                    .clone()
                    .or_else(|| method.origin.location().cloned());
                if let Some((other, other_location)) = seen.get(&key) {
                    let mut d = Diagnostic::error(
                        here.clone(),
                        format!(
                            "{} {} of `{}` matches exactly the same requests as a binding of `{other}`; change one template or method",
                            binding.method,
                            binding.template,
                            method.descriptor.full_name()
                        ),
                    );
                    if let Some(l) = other_location {
                        d = d.with_note(l.clone(), format!("`{other}` is bound here"));
                    }
                    diags.push(d);
                } else {
                    seen.insert(key, (method.descriptor.full_name().to_string(), here));
                }
            }
        }
    }
}
