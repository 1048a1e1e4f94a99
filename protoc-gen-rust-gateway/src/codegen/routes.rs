//! Route planning: which axum (matchit) paths a service registers, and
//! which bindings each path and method dispatches to.
//!
//! axum's router cannot express the whole template grammar (`:verb`
//! suffixes, `**` followed by a verb, percent-escaped literals) and refuses
//! a parameter and a catch-all at the same position. So each template gets
//! a matchit path that matches a superset of its requests; the handler then
//! matches the exact template (the runtime's `Template::match_path`) and
//! tries the next candidate of the same path and method when it does not
//! match. Conflicting positions within a service are widened to the
//! catch-all; conflicts between services are reported at generation time.

use std::collections::BTreeMap;

use crate::diagnostic::Diagnostic;
use crate::model::{BindingModel, HttpMethod, Model, ServiceModel};
use crate::template::FlatSegment;

/// One segment of a matchit path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeySeg {
    /// Static text.
    Lit(String),
    /// `{sN}`: one segment.
    Param(usize),
    /// `{*sN}`: the rest.
    CatchAll(usize),
}

/// A matchit path, as segments.
pub type Key = Vec<KeySeg>;

/// Renders a key as an axum path.
pub fn render(key: &Key) -> String {
    if key.is_empty() {
        return "/".to_string();
    }
    let mut out = String::new();
    for seg in key {
        out.push('/');
        match seg {
            KeySeg::Lit(l) => out.push_str(&l.replace('{', "{{").replace('}', "}}")),
            KeySeg::Param(i) => out.push_str(&format!("{{s{i}}}")),
            KeySeg::CatchAll(i) => out.push_str(&format!("{{*s{i}}}")),
        }
    }
    out
}

/// The matchit paths of one template: usually one; a trailing `**` also
/// gets the path without it (`**` matches zero segments, matchit's
/// catch-all needs one).
pub fn keys_of(binding: &BindingModel) -> Vec<Key> {
    let flat = binding.template.flat_segments();
    let verb = binding.template.verb.as_deref();
    let last = flat.len() - 1;
    let mut key = Vec::new();
    let mut extra = None;
    for (i, seg) in flat.iter().enumerate() {
        match seg {
            FlatSegment::Literal(l) if l.contains('%') => key.push(KeySeg::Param(i)),
            FlatSegment::Literal(l) => match verb {
                Some(v) if i == last => key.push(KeySeg::Lit(format!("{l}:{v}"))),
                _ => key.push(KeySeg::Lit(l.clone())),
            },
            FlatSegment::Single => key.push(KeySeg::Param(i)),
            FlatSegment::Multi => {
                let mut zero: Key = key.clone();
                if let (Some(v), Some(KeySeg::Lit(l))) = (verb, zero.last_mut()) {
                    l.push(':');
                    l.push_str(v);
                }
                extra = Some(zero);
                key.push(KeySeg::CatchAll(i));
            }
        }
    }
    let mut keys = vec![key];
    keys.extend(extra);
    keys
}

/// A binding of a service, by method and binding index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct BindingRef {
    /// Index into `ServiceModel::methods`.
    pub method: usize,
    /// Index into `MethodModel::bindings`.
    pub binding: usize,
}

/// One axum route of a service: a path and, per HTTP method, the candidate
/// bindings in the order they are tried.
#[derive(Debug, Clone)]
pub struct Route {
    /// The matchit path.
    pub key: Key,
    /// Candidates per HTTP method.
    pub methods: BTreeMap<HttpMethod, Vec<BindingRef>>,
}

/// Widens parameters that sit where another key of the same set has a
/// catch-all, until nothing conflicts.
fn widen(keys: &mut [Key]) {
    loop {
        let mut changed = false;
        let catch_alls: Vec<(Key, usize)> = keys
            .iter()
            .filter_map(|k| match k.last() {
                Some(KeySeg::CatchAll(i)) => Some((k[..k.len() - 1].to_vec(), *i)),
                _ => None,
            })
            .collect();
        for key in keys.iter_mut() {
            for (prefix, index) in &catch_alls {
                let at = prefix.len();
                if key.len() > at && key[..at] == prefix[..] && matches!(key[at], KeySeg::Param(_))
                {
                    key.truncate(at);
                    key.push(KeySeg::CatchAll(*index));
                    changed = true;
                }
            }
        }
        if !changed {
            return;
        }
    }
}

/// Specificity for trying candidates: more literal segments first, then
/// templates with a verb, then fewer `**`.
fn specificity(binding: &BindingModel) -> (usize, bool, usize) {
    let flat = binding.template.flat_segments();
    let literals = flat
        .iter()
        .filter(|s| matches!(s, FlatSegment::Literal(_)))
        .count();
    let multis = flat
        .iter()
        .filter(|s| matches!(s, FlatSegment::Multi))
        .count();
    (literals, binding.template.verb.is_some(), multis)
}

/// Plans the routes of one service.
pub fn plan(service: &ServiceModel) -> Vec<Route> {
    let mut entries: Vec<(Key, HttpMethod, BindingRef)> = Vec::new();
    for (m, method) in service.methods.iter().enumerate() {
        for (b, binding) in method.bindings.iter().enumerate() {
            for key in keys_of(binding) {
                entries.push((
                    key,
                    binding.method.clone(),
                    BindingRef {
                        method: m,
                        binding: b,
                    },
                ));
            }
        }
    }
    let mut keys: Vec<Key> = entries.iter().map(|e| e.0.clone()).collect();
    widen(&mut keys);
    let mut routes: BTreeMap<Key, BTreeMap<HttpMethod, Vec<BindingRef>>> = BTreeMap::new();
    for (key, (_, method, binding)) in keys.into_iter().zip(entries) {
        let candidates = routes.entry(key).or_default().entry(method).or_default();
        if !candidates.contains(&binding) {
            candidates.push(binding);
        }
    }
    let binding_of = |r: &BindingRef| &service.methods[r.method].bindings[r.binding];
    routes
        .into_iter()
        .map(|(key, mut methods)| {
            for candidates in methods.values_mut() {
                // Stable: declaration order among equally specific templates.
                candidates.sort_by_key(|c| std::cmp::Reverse(specificity(binding_of(c))));
            }
            Route { key, methods }
        })
        .collect()
}

/// Routes of different services that axum could not merge: the same path
/// and method in two routers, a custom method on the same path in two
/// routers (both need the path's method fallback), or a parameter in one
/// router where another has a catch-all.
pub fn check_cross_service(model: &Model) -> Vec<Diagnostic> {
    let plans: Vec<(&ServiceModel, Vec<Route>)> =
        model.services.iter().map(|s| (s, plan(s))).collect();
    let mut errors = Vec::new();
    for (i, (a, routes_a)) in plans.iter().enumerate() {
        for (b, routes_b) in &plans[i + 1..] {
            let describe = |service: &ServiceModel, r: &BindingRef| {
                let method = &service.methods[r.method];
                let binding = &method.bindings[r.binding];
                (
                    format!(
                        "{} {} of `{}`",
                        binding.method,
                        binding.template,
                        method.descriptor.full_name()
                    ),
                    binding
                        .location
                        .clone()
                        .or_else(|| method.origin.location().cloned()),
                )
            };
            for ra in routes_a {
                // Most pairs share no path: skip them before any copying.
                for rb in routes_b.iter().filter(|rb| may_clash(&ra.key, &rb.key)) {
                    let mut keys = vec![ra.key.clone(), rb.key.clone()];
                    widen(&mut keys);
                    let conflict = if ra.key == rb.key {
                        let custom = |r: &Route| {
                            r.methods.keys().any(|m| matches!(m, HttpMethod::Custom(_)))
                        };
                        ra.methods
                            .keys()
                            .find(|m| rb.methods.contains_key(*m))
                            .map(|m| (m.clone(), m.clone()))
                            .or_else(|| {
                                (custom(ra) && custom(rb)).then(|| {
                                    let m = ra
                                        .methods
                                        .keys()
                                        .find(|m| matches!(m, HttpMethod::Custom(_)))
                                        .cloned()
                                        .unwrap_or(HttpMethod::Get);
                                    (m.clone(), m)
                                })
                            })
                    } else if keys[0] != ra.key || keys[1] != rb.key {
                        let ma = ra.methods.keys().next().cloned().unwrap_or(HttpMethod::Get);
                        let mb = rb.methods.keys().next().cloned().unwrap_or(HttpMethod::Get);
                        Some((ma, mb))
                    } else {
                        None
                    };
                    if let Some((ma, mb)) = conflict {
                        let (first, first_at) = describe(a, &ra.methods[&ma][0]);
                        let (second, second_at) = describe(b, &rb.methods[&mb][0]);
                        let mut d = Diagnostic::error(
                            second_at,
                            format!(
                                "{second} and {first} need the same axum route (`{}` / `{}`), which the routers of two services cannot both hold; bind them in one service or change a template",
                                render(&rb.key),
                                render(&ra.key)
                            ),
                        );
                        if let Some(l) = first_at {
                            d = d.with_note(l, format!("{first} is bound here"));
                        }
                        errors.push(d);
                    }
                }
            }
        }
    }
    errors
}

/// Whether two keys can conflict: the same key, or a catch-all of one
/// where the other has a parameter after the same prefix (what `widen`
/// changes). A cheap test, so that the services' pairs of routes are not
/// all copied and widened.
fn may_clash(a: &Key, b: &Key) -> bool {
    let covers = |x: &Key, y: &Key| match x.split_last() {
        Some((KeySeg::CatchAll(_), prefix)) => {
            y.len() > prefix.len()
                && y[..prefix.len()] == *prefix
                && matches!(y[prefix.len()], KeySeg::Param(_))
        }
        _ => false,
    };
    a == b || covers(a, b) || covers(b, a)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> Key {
        s.split('/')
            .filter(|p| !p.is_empty())
            .map(|p| {
                if let Some(n) = p.strip_prefix("{*s") {
                    KeySeg::CatchAll(n.trim_end_matches('}').parse().unwrap())
                } else if let Some(n) = p.strip_prefix("{s") {
                    KeySeg::Param(n.trim_end_matches('}').parse().unwrap())
                } else {
                    KeySeg::Lit(p.to_string())
                }
            })
            .collect()
    }

    #[test]
    fn widening_moves_params_under_a_catch_all() {
        let mut keys = vec![
            key("/v1/{s1}"),
            key("/v1/{*s1}"),
            key("/v1/{s1}/x"),
            key("/v2/{s1}"),
            key("/v1/lit"),
        ];
        widen(&mut keys);
        let rendered: Vec<String> = keys.iter().map(render).collect();
        assert_eq!(
            rendered,
            ["/v1/{*s1}", "/v1/{*s1}", "/v1/{*s1}", "/v2/{s1}", "/v1/lit"]
        );
    }

    #[test]
    fn may_clash_holds_for_every_pair_that_widening_changes() {
        let all = [
            "/v1/{s1}",
            "/v1/{*s1}",
            "/v1/{s1}/x",
            "/v1/{s1}/{*s2}",
            "/v2/{s1}",
            "/v1/lit",
            "/v1/lit/{s2}",
            "/",
        ];
        for a in all {
            for b in all {
                let (ka, kb) = (key(a), key(b));
                let mut keys = vec![ka.clone(), kb.clone()];
                widen(&mut keys);
                let clash = ka == kb || keys[0] != ka || keys[1] != kb;
                assert_eq!(may_clash(&ka, &kb), clash, "{a} / {b}");
            }
        }
    }

    #[test]
    fn render_root_and_escapes() {
        assert_eq!(render(&vec![]), "/");
        assert_eq!(render(&key("/a/{s1}/{*s2}")), "/a/{s1}/{*s2}");
    }
}
