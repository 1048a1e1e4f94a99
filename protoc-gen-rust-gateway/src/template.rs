//! Path templates: the full `google.api.http` grammar.
//!
//! ```text
//! Template = "/" Segments [ Verb ] ;
//! Segments = Segment { "/" Segment } ;
//! Segment  = "*" | "**" | LITERAL | Variable ;
//! Variable = "{" FieldPath [ "=" Segments ] "}" ;
//! FieldPath = IDENT { "." IDENT } ;
//! Verb     = ":" LITERAL ;
//! ```
//!
//! `**` matches the rest of the path and may only be the last segment. A
//! variable without `=` captures one segment (`{x}` is `{x=*}`). Nested
//! variables are not allowed. The Go gateways accept only part of this
//! grammar; this parser accepts all of it and points at the offending
//! character when it cannot.

use std::fmt;

use crate::options::StarVariable;

/// A parsed path template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathTemplate {
    /// The text as written in the binding.
    pub source: String,
    /// Top-level segments; a variable's own segments are inside it.
    pub segments: Vec<Segment>,
    /// The custom verb after the last `:`, without the colon.
    pub verb: Option<String>,
}

/// One top-level segment of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// A literal path segment, matched exactly (after percent-decoding).
    Literal(String),
    /// `*`: exactly one segment, not captured.
    Wildcard,
    /// `**`: zero or more segments, not captured; only last.
    DeepWildcard,
    /// `{field}` or `{field=segments}`: captured into a request field.
    Variable(Variable),
}

/// A captured variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variable {
    /// Dotted field path, e.g. `["book", "name"]`.
    pub field_path: Vec<String>,
    /// What the variable matches; `[Wildcard]` when written without `=`.
    pub segments: Vec<Segment>,
    /// The Go project's catch-all (`{field=*}` last, with
    /// [`StarVariable::CatchAll`]): `segments` is `[DeepWildcard]` and the
    /// field receives the rest of the path with a leading `/`.
    pub rooted: bool,
}

impl Variable {
    /// The field path joined with dots, as written.
    pub fn field_path_string(&self) -> String {
        self.field_path.join(".")
    }

    /// Whether the variable can match more than one path segment; such
    /// captures keep their slashes.
    pub fn is_multi_segment(&self) -> bool {
        self.segments.len() > 1
            || self
                .segments
                .iter()
                .any(|s| matches!(s, Segment::DeepWildcard))
    }
}

/// The matching shape of one path segment after variables are flattened:
/// this is what a router sees.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FlatSegment {
    /// Must equal this text.
    Literal(String),
    /// Any one segment.
    Single,
    /// Any number of segments (zero or more); only last.
    Multi,
}

/// Where a variable's capture lies among the flat segments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capture {
    /// The variable's dotted field path.
    pub field_path: Vec<String>,
    /// Index of the first flat segment of the capture.
    pub start: usize,
    /// Number of flat segments; the last one may be [`FlatSegment::Multi`].
    pub len: usize,
    /// The Go catch-all: the value gets a leading `/` (see [`Variable::rooted`]).
    pub rooted: bool,
}

impl PathTemplate {
    /// Parses a template, e.g. `/v1/{name=shelves/*/books/*}:publish`, with
    /// the `google.api.http` meaning of every construct.
    pub fn parse(source: &str) -> Result<Self, TemplateError> {
        Self::parse_with(source, StarVariable::OneSegment)
    }

    /// Parses a template; `star` says what an explicit `{field=*}` in the
    /// last segment means (the Go project makes it a catch-all).
    pub fn parse_with(source: &str, star: StarVariable) -> Result<Self, TemplateError> {
        let mut template = Parser {
            src: source,
            pos: 0,
        }
        .template()?;
        if star == StarVariable::CatchAll
            && let Some(Segment::Variable(last)) = template.segments.last_mut()
            && last.segments == [Segment::Wildcard]
            && written_with_star(source, last)
        {
            last.segments = vec![Segment::DeepWildcard];
            last.rooted = true;
        }
        Ok(template)
    }

    /// All variables, in order.
    pub fn variables(&self) -> impl Iterator<Item = &Variable> {
        self.segments.iter().filter_map(|s| match s {
            Segment::Variable(v) => Some(v),
            _ => None,
        })
    }

    /// Segments with variables expanded into what they match.
    pub fn flat_segments(&self) -> Vec<FlatSegment> {
        let mut out = Vec::new();
        for segment in &self.segments {
            match segment {
                Segment::Variable(v) => v.segments.iter().for_each(|s| out.push(flat(s))),
                other => out.push(flat(other)),
            }
        }
        out
    }

    /// Captured variables with their flat segment ranges.
    pub fn captures(&self) -> Vec<Capture> {
        let mut out = Vec::new();
        let mut index = 0;
        for segment in &self.segments {
            match segment {
                Segment::Variable(v) => {
                    out.push(Capture {
                        field_path: v.field_path.clone(),
                        start: index,
                        len: v.segments.len(),
                        rooted: v.rooted,
                    });
                    index += v.segments.len();
                }
                _ => index += 1,
            }
        }
        out
    }

    /// The template with variable names removed: two templates with the same
    /// shape match exactly the same requests.
    pub fn shape(&self) -> String {
        let mut out = String::new();
        for segment in self.flat_segments() {
            out.push('/');
            match segment {
                FlatSegment::Literal(l) => out.push_str(&l),
                FlatSegment::Single => out.push('*'),
                FlatSegment::Multi => out.push_str("**"),
            }
        }
        if let Some(verb) = &self.verb {
            out.push(':');
            out.push_str(verb);
        }
        out
    }
}

/// Whether the last variable of `source` is written `{field=*}` (rather than
/// `{field}`, which means the same in the parsed form).
fn written_with_star(source: &str, variable: &Variable) -> bool {
    let written = format!("{{{}=*}}", variable.field_path_string());
    let head = source
        .rsplit_once(':')
        .filter(|(_, verb)| !verb.contains('}'));
    let head = head.map_or(source, |(head, _)| head);
    head.ends_with(&written)
}

fn flat(segment: &Segment) -> FlatSegment {
    match segment {
        Segment::Literal(l) => FlatSegment::Literal(l.clone()),
        Segment::Wildcard => FlatSegment::Single,
        Segment::DeepWildcard => FlatSegment::Multi,
        Segment::Variable(_) => unreachable!("variables are flattened by the caller"),
    }
}

impl fmt::Display for PathTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

/// A template that does not parse, with the byte offset of the offending
/// character.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    /// The template as written.
    pub source: String,
    /// Byte offset of the offending character (`source.len()` at the end).
    pub offset: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let column = self.source[..self.offset.min(self.source.len())]
            .chars()
            .count();
        write!(
            f,
            "invalid path template \"{}\" at column {}: {}\n    {}\n    {}^",
            self.source,
            column + 1,
            self.message,
            self.source,
            " ".repeat(column)
        )
    }
}

impl std::error::Error for TemplateError {}

struct Parser<'a> {
    src: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn error<T>(&self, offset: usize, message: impl Into<String>) -> Result<T, TemplateError> {
        Err(TemplateError {
            source: self.src.to_string(),
            offset,
            message: message.into(),
        })
    }

    fn peek(&self) -> Option<char> {
        self.src[self.pos..].chars().next()
    }

    fn describe_here(&self) -> String {
        match self.peek() {
            Some(c) => format!("'{c}'"),
            None => "end of template".to_string(),
        }
    }

    fn template(mut self) -> Result<PathTemplate, TemplateError> {
        if self.src.is_empty() {
            return self.error(0, "a path template cannot be empty; it starts with '/'");
        }
        if self.peek() != Some('/') {
            return self.error(0, "a path template must start with '/'");
        }
        self.pos += 1;
        let segments = self.segments(false)?;
        let verb = if self.peek() == Some(':') {
            self.pos += 1;
            let start = self.pos;
            let verb = self.literal()?;
            if verb.is_empty() {
                return self.error(start, "expected a verb after ':'");
            }
            Some(verb)
        } else {
            None
        };
        if self.peek() == Some('}') {
            return self.error(self.pos, "'}' without a matching '{'");
        }
        if self.pos < self.src.len() {
            return self.error(self.pos, format!("unexpected {}", self.describe_here()));
        }
        let template = PathTemplate {
            source: self.src.to_string(),
            segments,
            verb,
        };
        self.check_deep_wildcard_last(&template)?;
        Ok(template)
    }

    fn check_deep_wildcard_last(&self, template: &PathTemplate) -> Result<(), TemplateError> {
        let flat = template.flat_segments();
        if let Some(index) = flat.iter().position(|s| *s == FlatSegment::Multi)
            && index + 1 != flat.len()
        {
            let offset = self.src.find("**").unwrap_or(0);
            return self.error(offset, "'**' must be the last segment of a template");
        }
        Ok(())
    }

    /// Segments up to (not including) a terminator: end, ':' verb, or '}' when
    /// inside a variable.
    fn segments(&mut self, in_variable: bool) -> Result<Vec<Segment>, TemplateError> {
        let mut segments = vec![self.segment(in_variable)?];
        while self.peek() == Some('/') {
            self.pos += 1;
            segments.push(self.segment(in_variable)?);
        }
        Ok(segments)
    }

    fn segment(&mut self, in_variable: bool) -> Result<Segment, TemplateError> {
        let start = self.pos;
        match self.peek() {
            Some('*') => {
                self.pos += 1;
                if self.peek() == Some('*') {
                    self.pos += 1;
                    if self.peek() == Some('*') {
                        return self.error(self.pos, "a wildcard is '*' or '**', not more");
                    }
                    self.expect_segment_end(in_variable)?;
                    Ok(Segment::DeepWildcard)
                } else {
                    self.expect_segment_end(in_variable)?;
                    Ok(Segment::Wildcard)
                }
            }
            Some('{') if in_variable => self.error(start, "variables cannot be nested"),
            Some('{') => self.variable(),
            Some('/') | None => self.error(
                start,
                "empty segment: expected a literal, '*', '**' or a variable",
            ),
            Some('}') if !in_variable => self.error(start, "'}' without a matching '{'"),
            Some('}') => self.error(start, "empty segment before '}'"),
            Some(':') => self.error(start, "expected a segment before the verb"),
            Some(_) => {
                let literal = self.literal()?;
                Ok(Segment::Literal(literal))
            }
        }
    }

    fn expect_segment_end(&self, in_variable: bool) -> Result<(), TemplateError> {
        match self.peek() {
            None | Some('/') | Some(':') => Ok(()),
            Some('}') if in_variable => Ok(()),
            _ => self.error(
                self.pos,
                format!(
                    "unexpected {} after a wildcard; a wildcard is a whole segment",
                    self.describe_here()
                ),
            ),
        }
    }

    /// A literal: unreserved and sub-delim characters or percent-escapes; the
    /// text is kept as written (percent-escapes undecoded).
    fn literal(&mut self) -> Result<String, TemplateError> {
        let start = self.pos;
        while let Some(c) = self.peek() {
            match c {
                '/' | ':' | '{' | '}' => break,
                '*' => {
                    return self.error(
                        self.pos,
                        "'*' inside a literal; a wildcard must be a whole segment",
                    );
                }
                '%' => {
                    let hex = self.src.get(self.pos + 1..self.pos + 3);
                    if !hex.is_some_and(|h| h.chars().all(|c| c.is_ascii_hexdigit())) {
                        return self.error(self.pos, "'%' must start a percent-escape like %2F");
                    }
                    self.pos += 3;
                }
                c if is_literal_char(c) => self.pos += c.len_utf8(),
                c => {
                    return self.error(
                        self.pos,
                        format!("character '{c}' is not allowed in a path; percent-encode it"),
                    );
                }
            }
        }
        Ok(self.src[start..self.pos].to_string())
    }

    fn variable(&mut self) -> Result<Segment, TemplateError> {
        let open = self.pos;
        self.pos += 1; // '{'
        let mut field_path = Vec::new();
        loop {
            let start = self.pos;
            while self
                .peek()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                self.pos += 1;
            }
            let ident = &self.src[start..self.pos];
            if ident.is_empty() {
                return self.error(
                    start,
                    format!("expected a field name, found {}", self.describe_here()),
                );
            }
            if ident.starts_with(|c: char| c.is_ascii_digit()) {
                return self.error(start, "a field name cannot start with a digit");
            }
            field_path.push(ident.to_string());
            if self.peek() == Some('.') {
                self.pos += 1;
                continue;
            }
            break;
        }
        let segments = match self.peek() {
            Some('=') => {
                self.pos += 1;
                self.segments(true)?
            }
            Some('}') => vec![Segment::Wildcard],
            None => return self.error(open, "'{' is never closed"),
            _ => {
                return self.error(
                    self.pos,
                    format!(
                        "expected '=' or '}}' after the field path, found {}",
                        self.describe_here()
                    ),
                );
            }
        };
        match self.peek() {
            Some('}') => self.pos += 1,
            None => return self.error(open, "'{' is never closed"),
            _ => {
                return self.error(
                    self.pos,
                    format!("expected '}}', found {}", self.describe_here()),
                );
            }
        }
        match self.peek() {
            None | Some('/') | Some(':') => {}
            _ => {
                return self.error(
                    self.pos,
                    "a variable must be a whole segment; expected '/' or ':' after '}'",
                );
            }
        }
        Ok(Segment::Variable(Variable {
            field_path,
            segments,
            rooted: false,
        }))
    }
}

/// RFC 3986 unreserved characters and sub-delims, plus '@'; other characters
/// must be percent-encoded in a template.
fn is_literal_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            '-' | '.'
                | '_'
                | '~'
                | '!'
                | '$'
                | '&'
                | '\''
                | '('
                | ')'
                | '+'
                | ','
                | ';'
                | '='
                | '@'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(s: &str) -> Segment {
        Segment::Literal(s.to_string())
    }

    fn var(path: &str, segments: Vec<Segment>) -> Segment {
        Segment::Variable(Variable {
            field_path: path.split('.').map(str::to_string).collect(),
            segments,
            rooted: false,
        })
    }

    #[test]
    fn go_catch_all() {
        let go = StarVariable::CatchAll;
        let t = PathTemplate::parse_with("/path/catch-all/{id}/{nested.text=*}", go).unwrap();
        assert_eq!(t.shape(), "/path/catch-all/*/**");
        let captures = t.captures();
        assert!(!captures[0].rooted);
        assert!(captures[1].rooted);
        assert_eq!((captures[1].start, captures[1].len), (3, 1));
        // With a verb too.
        let t = PathTemplate::parse_with("/files/{path=*}:download", go).unwrap();
        assert_eq!(t.shape(), "/files/**:download");
        assert!(t.captures()[0].rooted);
        // Not last, or written `{f}`, or anything but `*`: the Google meaning.
        for source in [
            "/v1/{name=*}/items",
            "/v1/{name}",
            "/v1/{name=shelves/*}",
            "/v1/{name=**}",
            "/v1/{name}:star",
        ] {
            let t = PathTemplate::parse_with(source, go).unwrap();
            assert!(t.captures().iter().all(|c| !c.rooted), "{source}");
            assert_eq!(t, PathTemplate::parse(source).unwrap(), "{source}");
        }
        // The Google meaning on request.
        let t = PathTemplate::parse_with("/files/{path=*}", StarVariable::OneSegment).unwrap();
        assert_eq!(t.shape(), "/files/*");
        assert!(!t.captures()[0].rooted);
    }

    #[test]
    fn literal_segments() {
        let t = PathTemplate::parse("/v1/shelves").unwrap();
        assert_eq!(t.segments, vec![lit("v1"), lit("shelves")]);
        assert_eq!(t.verb, None);
        assert_eq!(t.shape(), "/v1/shelves");
    }

    #[test]
    fn root_only_is_an_empty_segment_error() {
        let e = PathTemplate::parse("/").unwrap_err();
        assert_eq!(e.offset, 1);
        assert!(e.message.contains("empty segment"), "{e}");
    }

    #[test]
    fn simple_variable_is_single_wildcard() {
        let t = PathTemplate::parse("/echo/{text}").unwrap();
        assert_eq!(
            t.segments,
            vec![lit("echo"), var("text", vec![Segment::Wildcard])]
        );
        assert!(!t.variables().next().unwrap().is_multi_segment());
        assert_eq!(t.shape(), "/echo/*");
    }

    #[test]
    fn dotted_field_path() {
        let t = PathTemplate::parse("/v1/{book.shelf.id}").unwrap();
        let v = t.variables().next().unwrap();
        assert_eq!(v.field_path, vec!["book", "shelf", "id"]);
        assert_eq!(v.field_path_string(), "book.shelf.id");
    }

    #[test]
    fn variable_with_pattern() {
        let t = PathTemplate::parse("/v1/{name=shelves/*/books/*}").unwrap();
        assert_eq!(
            t.segments,
            vec![
                lit("v1"),
                var(
                    "name",
                    vec![
                        lit("shelves"),
                        Segment::Wildcard,
                        lit("books"),
                        Segment::Wildcard
                    ]
                )
            ]
        );
        assert!(t.variables().next().unwrap().is_multi_segment());
        assert_eq!(
            t.flat_segments(),
            vec![
                FlatSegment::Literal("v1".into()),
                FlatSegment::Literal("shelves".into()),
                FlatSegment::Single,
                FlatSegment::Literal("books".into()),
                FlatSegment::Single
            ]
        );
        assert_eq!(
            t.captures(),
            vec![Capture {
                field_path: vec!["name".into()],
                start: 1,
                len: 4,
                rooted: false,
            }]
        );
    }

    #[test]
    fn variable_with_deep_wildcard() {
        let t = PathTemplate::parse("/v1/{name=projects/*/**}").unwrap();
        assert_eq!(t.shape(), "/v1/projects/*/**");
        assert_eq!(t.flat_segments().last(), Some(&FlatSegment::Multi));
    }

    #[test]
    fn bare_wildcards() {
        let t = PathTemplate::parse("/v1/*/x/**").unwrap();
        assert_eq!(
            t.segments,
            vec![
                lit("v1"),
                Segment::Wildcard,
                lit("x"),
                Segment::DeepWildcard
            ]
        );
        assert!(t.captures().is_empty());
    }

    #[test]
    fn verb_after_literal_variable_and_wildcard() {
        let t = PathTemplate::parse("/v1/{name}:cancel").unwrap();
        assert_eq!(t.verb.as_deref(), Some("cancel"));
        assert_eq!(t.shape(), "/v1/*:cancel");
        let t = PathTemplate::parse("/v1/operations:batchGet").unwrap();
        assert_eq!(t.segments, vec![lit("v1"), lit("operations")]);
        assert_eq!(t.verb.as_deref(), Some("batchGet"));
        let t = PathTemplate::parse("/v1/{name=**}:publish").unwrap();
        assert_eq!(t.verb.as_deref(), Some("publish"));
        let t = PathTemplate::parse("/v1/**:undelete").unwrap();
        assert_eq!(t.shape(), "/v1/**:undelete");
    }

    #[test]
    fn several_variables() {
        let t = PathTemplate::parse("/v1/{parent=projects/*}/books/{book_id}").unwrap();
        let caps = t.captures();
        assert_eq!(caps.len(), 2);
        assert_eq!((caps[0].start, caps[0].len), (1, 2));
        assert_eq!((caps[1].start, caps[1].len), (4, 1));
    }

    #[test]
    fn percent_escapes_and_sub_delims_in_literals() {
        let t = PathTemplate::parse("/a%20b/c-d.e_f~g/h+i,j;k=l@m").unwrap();
        assert_eq!(t.segments[0], lit("a%20b"));
        assert_eq!(t.segments.len(), 3);
    }

    fn err(src: &str) -> TemplateError {
        PathTemplate::parse(src).expect_err(src)
    }

    #[test]
    fn errors_point_at_the_offending_character() {
        let cases: &[(&str, usize, &str)] = &[
            ("", 0, "cannot be empty"),
            ("v1/x", 0, "must start with '/'"),
            ("/v1//x", 4, "empty segment"),
            ("/v1/x/", 6, "empty segment"),
            ("/v1/{}", 5, "expected a field name"),
            ("/v1/{1a}", 5, "cannot start with a digit"),
            ("/v1/{name", 4, "never closed"),
            ("/v1/{name=*", 4, "never closed"),
            ("/v1/{a.}", 7, "expected a field name"),
            ("/v1/{a=b/{c}}", 9, "cannot be nested"),
            ("/v1/{a}x", 7, "whole segment"),
            ("/v1/x{a}", 5, "unexpected '{'"),
            ("/v1/a*b", 5, "'*' inside a literal"),
            ("/v1/*a", 5, "after a wildcard"),
            ("/v1/***", 6, "'*' or '**'"),
            ("/v1/**/x", 4, "must be the last segment"),
            ("/v1/{a=**}/x", 7, "must be the last segment"),
            ("/v1/x:", 6, "expected a verb"),
            ("/v1/x:a:b", 7, "unexpected ':'"),
            ("/v1/x:a/b", 7, "unexpected '/'"),
            ("/v1/x}", 5, "without a matching '{'"),
            ("/v1/a b", 5, "percent-encode"),
            ("/v1/%2", 4, "percent-escape"),
            ("/v1/{a b}", 6, "expected '=' or '}'"),
            ("/v1/{a=}", 7, "empty segment"),
            ("/:verb", 1, "before the verb"),
        ];
        for (src, offset, text) in cases {
            let e = err(src);
            assert_eq!(e.offset, *offset, "{src}: {e}");
            assert!(e.message.contains(text), "{src}: {e}");
        }
    }

    #[test]
    fn error_display_has_a_caret() {
        let e = err("/v1/a*b");
        assert_eq!(
            e.to_string(),
            "invalid path template \"/v1/a*b\" at column 6: '*' inside a literal; a wildcard must be a whole segment\n    /v1/a*b\n         ^"
        );
    }

    #[test]
    fn shapes_ignore_variable_names() {
        let a = PathTemplate::parse("/v1/{a}/x").unwrap();
        let b = PathTemplate::parse("/v1/{b=*}/x").unwrap();
        let c = PathTemplate::parse("/v1/*/x").unwrap();
        assert_eq!(a.shape(), b.shape());
        assert_eq!(a.shape(), c.shape());
    }
}

#[cfg(test)]
mod robustness {
    use super::*;

    /// xorshift: deterministic, no dependency.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
            items[(self.next() % items.len() as u64) as usize]
        }
    }

    /// Random strings built from the grammar's pieces and some garbage:
    /// the parser never panics, errors point inside the input, and what it
    /// accepts keeps its shape invariants.
    #[test]
    fn random_templates_never_panic() {
        let pieces = [
            "/",
            "/",
            "v1",
            "*",
            "**",
            "{",
            "}",
            "=",
            ".",
            ":",
            "name",
            "a_b",
            "%2F",
            "%",
            "x y",
            "é",
            "{a}",
            "{a=*}",
            "{a.b=x/**}",
            ":verb",
            "}",
            "//",
        ];
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let mut accepted = 0;
        for _ in 0..20_000 {
            let mut source = String::new();
            for _ in 0..(rng.next() % 8 + 1) {
                source.push_str(rng.pick(&pieces));
            }
            match PathTemplate::parse(&source) {
                Ok(t) => {
                    accepted += 1;
                    let flat = t.flat_segments();
                    assert!(!flat.is_empty(), "{source}");
                    if let Some(i) = flat.iter().position(|s| *s == FlatSegment::Multi) {
                        assert_eq!(i + 1, flat.len(), "** not last in {source}");
                    }
                    for c in t.captures() {
                        assert!(c.start + c.len <= flat.len(), "{source}");
                    }
                    assert_eq!(PathTemplate::parse(&t.source).unwrap(), t);
                }
                Err(e) => {
                    assert!(e.offset <= source.len(), "{source}: {e}");
                    // Display never panics, whatever the offset's char boundary.
                    let _ = e.to_string();
                }
            }
        }
        assert!(
            accepted > 100,
            "the generator should produce some valid templates ({accepted})"
        );
    }
}
