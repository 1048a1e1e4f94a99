//! Where bindings come from on disk: the global and per-proto binding
//! files and the service configuration, with the lines of their entries.

use std::collections::{BTreeMap, HashSet};

use prost_reflect::{DescriptorPool, FileDescriptor};

use super::{explain_missing_method, find_method};
use crate::config::{self, ConfigSource, FileEndpoint, RawEndpoint};
use crate::diagnostic::{Diagnostic, Diagnostics, Location};
use crate::model::Origin;
use crate::options::Options;
use crate::service_config::{self, ServiceRule};

pub(super) fn read_text(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Best-effort line of the i-th additional binding in a binding file: the
/// line of its path template after the entry's own line.
pub(super) fn additional_location(
    origin: &Origin,
    text: Option<&(String, String)>,
    index: usize,
    extra: &RawEndpoint,
) -> Option<Location> {
    let (file, text) = text?;
    let entry = origin.location()?;
    let line = entry.line?;
    let mut from = config::TextCursor::at(line_offset(text, line), line.max(1));
    let needle = extra
        .get
        .as_ref()
        .or(extra.put.as_ref())
        .or(extra.post.as_ref())
        .or(extra.delete.as_ref())
        .or(extra.patch.as_ref())
        .or(extra.custom.as_ref().and_then(|c| c.path.as_ref()))?;
    // Skip the paths of earlier additional bindings with the same text.
    let mut line = None;
    for _ in 0..=index {
        line = config::find_line(text, needle, &mut from).or(line);
    }
    Some(Location::line(file.clone(), line))
}

pub(super) fn line_offset(text: &str, line: u32) -> usize {
    text.split_inclusive('\n')
        .take(line.saturating_sub(1) as usize)
        .map(str::len)
        .sum()
}

/// Loads the global file and each proto file's binding file; returns the
/// entries by fully qualified method name.
pub(super) fn load_binding_files(
    pool: &DescriptorPool,
    files: &[FileDescriptor],
    options: &Options,
    diags: &mut Diagnostics,
) -> BTreeMap<String, FileEndpoint> {
    let mut sources = Vec::new();
    if let Some(global) = &options.gateway_config {
        if global.is_file() {
            sources.push((
                ConfigSource {
                    path: global.clone(),
                    package: None,
                },
                true,
            ));
        } else {
            diags.error(
                Some(Location::file(global.display().to_string())),
                "global binding file (option `gateway_config`) not found",
            );
        }
    }
    for file in files {
        if let Some(path) = config::find_config_file(options, file.name()) {
            sources.push((
                ConfigSource {
                    path,
                    package: Some(file.package_name().to_string()),
                },
                false,
            ));
        }
    }

    let generated: HashSet<&str> = files.iter().map(|f| f.name()).collect();
    let mut by_selector: BTreeMap<String, FileEndpoint> = BTreeMap::new();
    for (source, global) in sources {
        let entries = match config::load_file(&source) {
            Ok(entries) => entries,
            Err(errors) => {
                errors.into_iter().for_each(|e| diags.push(e));
                continue;
            }
        };
        for entry in entries {
            let Some(method) = find_method(pool, &entry.selector) else {
                let package_known = entry
                    .selector
                    .rsplitn(3, '.')
                    .nth(2)
                    .is_some_and(|package| pool.files().any(|f| f.package_name() == package));
                let message = format!(
                    "selector `{}` names no method: {}",
                    entry.selector,
                    explain_missing_method(pool, &entry.selector)
                );
                if global && !package_known {
                    // The global file may bind services compiled by another
                    // protoc run.
                    diags.warning(Some(entry.location.clone()), message);
                } else {
                    diags.error(Some(entry.location.clone()), message);
                }
                continue;
            };
            if !generated.contains(method.parent_file().name()) {
                continue;
            }
            match by_selector.get(&entry.selector) {
                Some(first) if first.endpoint == entry.endpoint => {}
                Some(first) => diags.push(
                    Diagnostic::error(
                        Some(entry.location.clone()),
                        format!(
                            "method `{}` is bound twice in binding files, in different ways; keep one entry",
                            entry.selector
                        ),
                    )
                    .with_note(first.location.clone(), "first bound here"),
                ),
                None => {
                    by_selector.insert(entry.selector.clone(), entry);
                }
            }
        }
    }
    by_selector
}

/// Loads the service configuration (`grpc_api_configuration`), if any; returns
/// its rules by fully qualified method name, in file order. A rule naming no
/// method is an error.
pub(super) fn load_service_config(
    pool: &DescriptorPool,
    files: &[FileDescriptor],
    options: &Options,
    diags: &mut Diagnostics,
) -> BTreeMap<String, Vec<ServiceRule>> {
    let mut by_method: BTreeMap<String, Vec<ServiceRule>> = BTreeMap::new();
    let Some(path) = &options.grpc_api_configuration else {
        return by_method;
    };
    if !path.is_file() {
        diags.error(
            Some(Location::file(path.display().to_string())),
            "service configuration (option `grpc_api_configuration`) not found",
        );
        return by_method;
    }
    let rules = match service_config::load(path) {
        Ok(rules) => rules,
        Err(errors) => {
            errors.into_iter().for_each(|e| diags.push(e));
            return by_method;
        }
    };
    let generated: HashSet<&str> = files.iter().map(|f| f.name()).collect();
    for rule in rules {
        let Some(method) = find_method(pool, &rule.selector) else {
            diags.error(
                Some(rule.location.clone()),
                format!(
                    "selector `{}` names no method: {}",
                    rule.selector,
                    explain_missing_method(pool, &rule.selector)
                ),
            );
            continue;
        };
        if generated.contains(method.parent_file().name()) {
            by_method
                .entry(rule.selector.clone())
                .or_default()
                .push(rule);
        }
    }
    by_method
}

/// The binding files a run reads: the global file and each proto file's
/// file, where they exist, and the service configuration.
pub fn binding_files(
    files_to_generate: &[String],
    pool: &DescriptorPool,
    options: &Options,
) -> Vec<std::path::PathBuf> {
    let mut out: Vec<std::path::PathBuf> = options
        .gateway_config
        .iter()
        .chain(&options.grpc_api_configuration)
        .cloned()
        .collect();
    for name in files_to_generate {
        if pool.get_file_by_name(name).is_some()
            && let Some(path) = config::find_config_file(options, name)
        {
            out.push(path);
        }
    }
    out
}
