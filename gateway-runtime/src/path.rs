//! Exact matching of `google.api.http` path templates against a request path.
//!
//! The code generator turns every path template into a static [`Template`]:
//!
//! ```
//! use gateway_runtime::__private::{CaptureSpec, Seg, Template};
//!
//! // "/v1/{name=shelves/*/books/*}:move"
//! static T0: Template = Template {
//!     segments: &[Seg::Lit("v1"), Seg::Lit("shelves"), Seg::Single, Seg::Lit("books"), Seg::Single],
//!     verb: Some("move"),
//!     captures: &[CaptureSpec { start: 1, len: 4 }],
//! };
//! let captures = T0.match_path("/v1/shelves/s1/books/b%2F2:move").unwrap();
//! assert_eq!(captures.raw(0), "shelves/s1/books/b%2F2");
//! // A capture spanning several segments keeps `%2F` encoded (google.api.http rule).
//! assert_eq!(captures.decoded(0).unwrap(), "shelves/s1/books/b%2F2");
//! ```
//!
//! # Matching rules
//!
//! * The path must start with `/`. Segments are the pieces between slashes: a trailing
//!   slash makes an empty last segment and `//` makes an empty segment in between.
//! * With `verb: Some(v)`, the text after the last `:` of the last segment must equal `v`
//!   (after percent-decoding) and is removed before splitting. An encoded colon (`%3A`)
//!   never separates the verb. Without a verb, `:` is an ordinary character.
//! * [`Seg::Lit`] matches a segment equal to it after percent-decoding both sides.
//! * [`Seg::Single`] matches exactly one non-empty segment.
//! * [`Seg::Multi`] matches zero or more segments, empty ones included. The grammar only
//!   allows it last; elsewhere it still works (the segments after it are matched from the
//!   end). A template with more than one `Multi` (or [`Seg::Rest`]) never matches.
//! * [`Seg::Rest`] matches like `Multi`; a capture that covers it is given with a leading
//!   `/` (the Go gateway's catch-all `{field=*}`: `/files/{path=*}` on `/files/a/b` captures
//!   `/a/b`).
//! * Otherwise the number of segments must be equal.
//!
//! # Decoding rules
//!
//! A capture of one segment is fully percent-decoded. A capture spanning several segments
//! (more than one template segment, or a `Multi`) keeps `%2F`/`%2f` encoded, so that an
//! encoded slash stays distinguishable from a separator. Invalid escapes such as `%ZZ` or a
//! trailing `%` are kept as they are (like browsers and the WHATWG URL parser do) instead of
//! rejecting the request. Bytes that are not UTF-8 after decoding (`%FF`) are an error.

use std::borrow::Cow;
use std::fmt;

use percent_encoding::percent_decode;

/// One segment of a path template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seg {
    /// A literal segment (may contain `%XX` escapes; compared after decoding).
    Lit(&'static str),
    /// `*`: exactly one non-empty segment.
    Single,
    /// `**`: zero or more segments (only valid as the last segment of a template).
    Multi,
    /// The Go gateway's catch-all, `{field=*}` as the last segment: matches like
    /// [`Seg::Multi`], and a capture covering it starts with `/`.
    Rest,
}

/// A variable of a template: the template segments `start .. start + len` it covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaptureSpec {
    /// Index of the first template segment of the variable.
    pub start: usize,
    /// Number of template segments of the variable (at least 1).
    pub len: usize,
}

/// A compiled `google.api.http` path template.
#[derive(Debug)]
pub struct Template {
    /// The segments, in order.
    pub segments: &'static [Seg],
    /// The custom verb (`:verb` suffix), without the colon.
    pub verb: Option<&'static str>,
    /// The variables, in the order the generated code reads them with [`Captures::raw`].
    pub captures: &'static [CaptureSpec],
}

impl Template {
    /// Matches the raw (still percent-encoded) URI path. `None` = no match.
    ///
    /// A template whose captures point outside its segments (or have `len == 0`) never
    /// matches: that can only come from a generator bug, and refusing is safer than guessing.
    pub fn match_path(&self, path: &str) -> Option<Captures> {
        let rest = path.strip_prefix('/')?;
        let rest = match self.verb {
            Some(verb) => {
                let (head, tail) = rest.rsplit_once(':')?;
                // The verb belongs to the last segment only.
                if tail.contains('/') || !decoded_eq(tail, verb) {
                    return None;
                }
                head
            }
            None => rest,
        };

        if self.segments.is_empty() {
            // Only the root template "/" has no segments.
            return rest.is_empty().then(Captures::default);
        }

        let mut multi = None;
        for (i, seg) in self.segments.iter().enumerate() {
            if matches!(seg, Seg::Multi | Seg::Rest) {
                if multi.is_some() {
                    return None;
                }
                multi = Some(i);
            }
        }

        if multi.is_none() && self.captures.is_empty() {
            // Nothing to capture: the segments are compared as the path is
            // split, without the table of their ranges.
            return self.fixed_segments_match(rest).then(Captures::default);
        }

        // Count before collecting so that most mismatches cost no allocation.
        let count = rest.bytes().filter(|&b| b == b'/').count() + 1;
        let layout = match multi {
            None if count == self.segments.len() => Layout {
                multi: None,
                absorbed: 0,
            },
            None => return None,
            Some(m) => {
                let fixed = self.segments.len() - 1;
                if count < fixed {
                    return None;
                }
                Layout {
                    multi: Some(m),
                    absorbed: count - fixed,
                }
            }
        };

        // The segments' byte ranges, on the stack for the usual paths.
        let mut inline = [(0, 0); INLINE_SEGMENTS];
        let mut spilled = Vec::new();
        let ranges: &mut [(usize, usize)] = if count <= INLINE_SEGMENTS {
            &mut inline[..count]
        } else {
            spilled.resize(count, (0, 0));
            &mut spilled
        };
        let mut start = 0;
        let mut slots = ranges.iter_mut();
        for (at, byte) in rest.bytes().enumerate() {
            if byte == b'/' {
                *slots.next()? = (start, at);
                start = at + 1;
            }
        }
        *slots.next()? = (start, rest.len());
        let ranges = &*ranges;

        for (i, seg) in self.segments.iter().enumerate() {
            match *seg {
                Seg::Multi | Seg::Rest => {}
                Seg::Lit(lit) => {
                    let (s, e) = *ranges.get(layout.first(i))?;
                    if !decoded_eq(&rest[s..e], lit) {
                        return None;
                    }
                }
                Seg::Single => {
                    let (s, e) = *ranges.get(layout.first(i))?;
                    if s == e {
                        return None;
                    }
                }
            }
        }

        let mut captures = Captures {
            buf: String::new(),
            items: Vec::with_capacity(self.captures.len()),
        };
        for spec in self.captures {
            let last = spec.start.checked_add(spec.len)?.checked_sub(1)?;
            if spec.len == 0 || last >= self.segments.len() {
                return None;
            }
            let begin = layout.first(spec.start);
            let end = layout.end(last);
            let raw = if begin < end {
                let (s, _) = *ranges.get(begin)?;
                let (_, e) = *ranges.get(end - 1)?;
                &rest[s..e]
            } else {
                ""
            };
            let covers_multi = layout.multi.is_some_and(|m| spec.start <= m && m <= last);
            let spans_many = spec.len > 1 || covers_multi;
            let at = captures.buf.len();
            if covers_multi && layout.multi.is_some_and(|m| self.segments[m] == Seg::Rest) {
                captures.buf.push('/');
            }
            captures.buf.push_str(raw);
            captures.items.push(Item {
                start: at,
                end: captures.buf.len(),
                multi: spans_many,
            });
        }
        Some(captures)
    }
}

impl Template {
    /// Whether `rest` (the path after its `/`, without the verb) has one
    /// segment for each of the template's, none of them `Multi` or `Rest`:
    /// each literal equal once decoded, each `Single` not empty.
    fn fixed_segments_match(&self, rest: &str) -> bool {
        // Split by hand: paths are short, and `str::split`'s searcher cost
        // more than the comparisons.
        let mut left = Some(rest);
        for seg in self.segments {
            let Some(path) = left else { return false };
            let (part, after) = match path.bytes().position(|b| b == b'/') {
                Some(slash) => (&path[..slash], Some(&path[slash + 1..])),
                None => (path, None),
            };
            let matches = match *seg {
                Seg::Lit(lit) => decoded_eq(part, lit),
                Seg::Single => !part.is_empty(),
                Seg::Multi | Seg::Rest => false,
            };
            if !matches {
                return false;
            }
            left = after;
        }
        left.is_none()
    }
}

/// Path segments whose ranges [`Template::match_path`] keeps on the stack;
/// longer paths take an allocation.
const INLINE_SEGMENTS: usize = 16;

/// Where the template segments land in the path: before the `Multi` one to one, the
/// `Multi` takes `absorbed` path segments, after it shifted by `absorbed - 1`.
struct Layout {
    multi: Option<usize>,
    absorbed: usize,
}

impl Layout {
    /// Index of the first path segment of template segment `i`.
    fn first(&self, i: usize) -> usize {
        match self.multi {
            Some(m) if i > m => i - 1 + self.absorbed,
            _ => i,
        }
    }

    /// One past the last path segment of template segment `i`.
    fn end(&self, i: usize) -> usize {
        match self.multi {
            Some(m) if i == m => m + self.absorbed,
            _ => self.first(i) + 1,
        }
    }
}

/// Compares two percent-encoded texts by their decoded bytes.
fn decoded_eq(a: &str, b: &str) -> bool {
    a == b || percent_decode(a.as_bytes()).eq(percent_decode(b.as_bytes()))
}

#[derive(Debug, Clone, Copy)]
struct Item {
    start: usize,
    end: usize,
    multi: bool,
}

/// The variables captured by [`Template::match_path`], in the order of
/// [`Template::captures`].
///
/// All raw texts live in one buffer, so a match costs two allocations at most.
#[derive(Debug, Clone, Default)]
pub struct Captures {
    buf: String,
    items: Vec<Item>,
}

impl Captures {
    /// Number of captures.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there are no captures.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The capture as it appears in the URI (segments joined with `/`, not decoded).
    /// Empty for an index out of range.
    pub fn raw(&self, i: usize) -> &str {
        self.items
            .get(i)
            .and_then(|it| self.buf.get(it.start..it.end))
            .unwrap_or("")
    }

    /// Whether capture `i` spans several segments (then [`decoded`](Self::decoded) keeps
    /// `%2F` encoded).
    pub fn is_multi_segment(&self, i: usize) -> bool {
        self.items.get(i).is_some_and(|it| it.multi)
    }

    /// The capture, percent-decoded: a one-segment capture fully; a multi-segment capture
    /// keeps `%2F`/`%2f` encoded and keeps its slashes. Invalid escapes are kept as they are.
    /// Invalid UTF-8 after decoding is an error. Empty for an index out of range.
    pub fn decoded(&self, i: usize) -> Result<Cow<'_, str>, PathDecodeError> {
        decode(self.raw(i), self.is_multi_segment(i))
    }
}

/// A path variable that is not valid UTF-8 after percent-decoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathDecodeError {
    raw: String,
}

impl PathDecodeError {
    /// The raw (encoded) text that failed to decode.
    pub fn raw(&self) -> &str {
        &self.raw
    }
}

impl fmt::Display for PathDecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} is not valid UTF-8 after percent-decoding",
            self.raw
        )
    }
}

impl std::error::Error for PathDecodeError {}

/// The value of one hexadecimal digit, either case: the one hex rule of the
/// runtime (percent-escapes here, `\uXXXX` escapes in JSON strings).
pub(crate) fn hex_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn decode(raw: &str, keep_slash: bool) -> Result<Cow<'_, str>, PathDecodeError> {
    if !raw.contains('%') {
        return Ok(Cow::Borrowed(raw));
    }
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).copied().and_then(hex_digit),
                bytes.get(i + 2).copied().and_then(hex_digit),
            )
        {
            let v = (h << 4) | l;
            if keep_slash && v == b'/' {
                out.extend_from_slice(&bytes[i..i + 3]);
            } else {
                out.push(v);
            }
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out)
        .map(Cow::Owned)
        .map_err(|_| PathDecodeError {
            raw: raw.to_owned(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn t(
        segments: &'static [Seg],
        verb: Option<&'static str>,
        captures: &'static [CaptureSpec],
    ) -> Template {
        Template {
            segments,
            verb,
            captures,
        }
    }

    const fn c(start: usize, len: usize) -> CaptureSpec {
        CaptureSpec { start, len }
    }

    use Seg::{Lit, Multi, Single};

    /// Runs a table of (path, expected raw captures or None for no match).
    fn check(tpl: &Template, table: &[(&str, Option<&[&str]>)]) {
        for (path, want) in table {
            let got = tpl.match_path(path);
            match (want, &got) {
                (None, None) => {}
                (Some(want), Some(got)) => {
                    let raws: Vec<&str> = (0..got.len()).map(|i| got.raw(i)).collect();
                    assert_eq!(&raws, want, "path {path:?}");
                }
                _ => panic!("path {path:?}: want {want:?}, got {got:?}"),
            }
        }
    }

    #[test]
    fn go_catch_all_captures_the_rest_with_a_leading_slash() {
        static T: Template = t(
            &[Lit("path"), Lit("catch-all"), Single, Seg::Rest],
            None,
            &[c(2, 1), c(3, 1)],
        );
        check(
            &T,
            &[
                (
                    "/path/catch-all/ID/something/with/slashes",
                    Some(&["ID", "/something/with/slashes"]),
                ),
                ("/path/catch-all/ID/one", Some(&["ID", "/one"])),
                ("/path/catch-all/ID/", Some(&["ID", "/"])),
                ("/path/catch-all/ID", Some(&["ID", "/"])),
                ("/path/catch-all/ID/a%2Fb/c", Some(&["ID", "/a%2Fb/c"])),
                ("/path/catch-all", None),
                ("/path/other/ID/x", None),
            ],
        );
        let captures = T.match_path("/path/catch-all/ID/a%20b/c%2Fd").unwrap();
        assert!(captures.is_multi_segment(1));
        assert_eq!(captures.decoded(1).unwrap(), "/a b/c%2Fd");
        // With a verb after it.
        static V: Template = t(&[Lit("files"), Seg::Rest], Some("download"), &[c(1, 1)]);
        check(
            &V,
            &[
                ("/files/a/b.txt:download", Some(&["/a/b.txt"])),
                ("/files/a/b.txt", None),
            ],
        );
    }

    #[test]
    fn long_paths_past_the_inline_ranges() {
        // More segments than `INLINE_SEGMENTS` keeps on the stack.
        static T: Template = t(&[Lit("a"), Multi, Lit("z")], None, &[c(1, 1)]);
        let middle = (0..40).map(|i| i.to_string()).collect::<Vec<_>>().join("/");
        let path = format!("/a/{middle}/z");
        let captures = T.match_path(&path).unwrap();
        assert_eq!(captures.raw(0), middle);
        assert!(T.match_path(&format!("/a/{middle}/y")).is_none());
        // Exactly as many segments as fit, and one more.
        static S: Template = t(&[Single; INLINE_SEGMENTS], None, &[c(15, 1)]);
        let fit = (0..INLINE_SEGMENTS)
            .map(|i| format!("/s{i}"))
            .collect::<String>();
        assert_eq!(S.match_path(&fit).unwrap().raw(0), "s15");
        assert!(S.match_path(&format!("{fit}/more")).is_none());
    }

    #[test]
    fn literals() {
        static T: Template = t(&[Lit("v1"), Lit("shelves")], None, &[]);
        check(
            &T,
            &[
                ("/v1/shelves", Some(&[])),
                ("/v1/shelves/", None),
                ("/v1//shelves", None),
                ("//v1/shelves", None),
                ("/v1", None),
                ("/v1/shelves/x", None),
                ("v1/shelves", None),
                ("", None),
                ("/", None),
                ("/v1/Shelves", None),
                ("/v%31/shel%76es", Some(&[])),
                ("/v1/shelves:get", None),
            ],
        );
    }

    #[test]
    fn literal_with_escapes_in_template() {
        static T: Template = t(&[Lit("a%20b"), Lit("c d")], None, &[]);
        check(
            &T,
            &[
                ("/a%20b/c%20d", Some(&[])),
                ("/a b/c d", Some(&[])),
                ("/a%20b/c%2520d", None),
                ("/a%2Fb/c d", None),
            ],
        );
    }

    #[test]
    fn root_template() {
        static T: Template = t(&[], None, &[]);
        check(
            &T,
            &[("/", Some(&[])), ("", None), ("//", None), ("/a", None)],
        );
    }

    #[test]
    fn single() {
        static T: Template = t(&[Lit("v1"), Single], None, &[c(1, 1)]);
        check(
            &T,
            &[
                ("/v1/abc", Some(&["abc"])),
                ("/v1/", None),
                ("/v1", None),
                ("/v1/abc/", None),
                ("/v1//abc", None),
                ("/v1/a/b", None),
                // No verb in the template: the colon is part of the value.
                ("/v1/abc:cancel", Some(&["abc:cancel"])),
                ("/v1/a%2Fb", Some(&["a%2Fb"])),
            ],
        );
    }

    #[test]
    fn multi() {
        static T: Template = t(&[Lit("v1"), Lit("files"), Multi], None, &[c(2, 1)]);
        check(
            &T,
            &[
                ("/v1/files", Some(&[""])),
                ("/v1/files/", Some(&[""])),
                ("/v1/files/a", Some(&["a"])),
                ("/v1/files/a/b/c", Some(&["a/b/c"])),
                ("/v1/files/a//b/", Some(&["a//b/"])),
                ("/v1/files//", Some(&["/"])),
                ("/v1", None),
                ("/v1/file", None),
                ("/v2/files/a", None),
            ],
        );
        let m = T.match_path("/v1/files/a").unwrap();
        assert!(m.is_multi_segment(0));
    }

    #[test]
    fn multi_alone_and_captured_with_prefix() {
        static ALL: Template = t(&[Multi], None, &[c(0, 1)]);
        check(
            &ALL,
            &[
                ("/", Some(&[""])),
                ("/a", Some(&["a"])),
                ("/a/b/", Some(&["a/b/"])),
                ("", None),
            ],
        );
        // "/v1/{name=files/**}"
        static P: Template = t(&[Lit("v1"), Lit("files"), Multi], None, &[c(1, 2)]);
        check(
            &P,
            &[
                ("/v1/files", Some(&["files"])),
                ("/v1/files/a/b", Some(&["files/a/b"])),
            ],
        );
    }

    #[test]
    fn multi_not_last_and_twice() {
        // Not produced by the grammar, but handled without panicking.
        static MID: Template = t(&[Lit("a"), Multi, Lit("z")], None, &[c(1, 1)]);
        check(
            &MID,
            &[
                ("/a/z", Some(&[""])),
                ("/a/b/c/z", Some(&["b/c"])),
                ("/a/b/c", None),
                ("/a", None),
            ],
        );
        static TWICE: Template = t(&[Multi, Multi], None, &[]);
        check(&TWICE, &[("/a/b", None), ("/", None)]);
    }

    #[test]
    fn shelves_and_books() {
        // "/v1/shelves/{shelf}/books/{book}"
        static T: Template = t(
            &[Lit("v1"), Lit("shelves"), Single, Lit("books"), Single],
            None,
            &[c(2, 1), c(4, 1)],
        );
        check(
            &T,
            &[
                ("/v1/shelves/s1/books/b2", Some(&["s1", "b2"])),
                ("/v1/shelves/s1/books/", None),
                ("/v1/shelves//books/b2", None),
                ("/v1/shelves/s1/books/b2/", None),
                ("/v1/shelves/s1/book/b2", None),
            ],
        );
        // "/v1/{name=shelves/*/books/*}"
        static N: Template = t(
            &[Lit("v1"), Lit("shelves"), Single, Lit("books"), Single],
            None,
            &[c(1, 4)],
        );
        check(
            &N,
            &[
                ("/v1/shelves/s1/books/b2", Some(&["shelves/s1/books/b2"])),
                ("/v1/shelves/s1/books", None),
            ],
        );
        let m = N.match_path("/v1/shelves/s%2F1/books/b2").unwrap();
        assert!(m.is_multi_segment(0));
        assert_eq!(m.decoded(0).unwrap(), "shelves/s%2F1/books/b2");
    }

    #[test]
    fn verbs() {
        static V: Template = t(&[Lit("v1"), Single], Some("cancel"), &[c(1, 1)]);
        check(
            &V,
            &[
                ("/v1/abc:cancel", Some(&["abc"])),
                ("/v1/a:b:cancel", Some(&["a:b"])),
                ("/v1/abc:can%63el", Some(&["abc"])),
                ("/v1/abc", None),
                ("/v1/abc:", None),
                ("/v1/abc:cancel2", None),
                ("/v1/abc:cancel/", None),
                ("/v1/abc%3Acancel", None),
                ("/v1/:cancel", None),
                ("/v1:cancel", None),
                ("/v1/abc/:cancel", None),
            ],
        );
        static MV: Template = t(&[Lit("v1"), Multi], Some("get"), &[c(1, 1)]);
        check(
            &MV,
            &[
                ("/v1:get", Some(&[""])),
                ("/v1/a/b:get", Some(&["a/b"])),
                ("/v1/a/b", None),
            ],
        );
    }

    #[test]
    fn bad_capture_specs_never_match() {
        static OUT: Template = t(&[Lit("a"), Single], None, &[c(1, 2)]);
        assert!(OUT.match_path("/a/b").is_none());
        static ZERO: Template = t(&[Lit("a"), Single], None, &[c(1, 0)]);
        assert!(ZERO.match_path("/a/b").is_none());
        static HUGE: Template = t(&[Lit("a"), Single], None, &[c(usize::MAX, 2)]);
        assert!(HUGE.match_path("/a/b").is_none());
    }

    #[test]
    fn out_of_range_index() {
        static T: Template = t(&[Single], None, &[c(0, 1)]);
        let m = T.match_path("/x").unwrap();
        assert_eq!(m.len(), 1);
        assert!(!m.is_empty());
        assert_eq!(m.raw(7), "");
        assert_eq!(m.decoded(7).unwrap(), "");
        assert!(!m.is_multi_segment(7));
        assert!(Captures::default().is_empty());
    }

    #[test]
    fn decoding() {
        static ONE: Template = t(&[Lit("v1"), Single], None, &[c(1, 1)]);
        static MANY: Template = t(&[Lit("v1"), Multi], None, &[c(1, 1)]);
        /// (path, decoded as one segment, decoded as several segments); `Err(())` = not UTF-8.
        type Row = (
            &'static str,
            Result<&'static str, ()>,
            Result<&'static str, ()>,
        );
        let table: &[Row] = &[
            ("/v1/a%2Fb", Ok("a/b"), Ok("a%2Fb")),
            ("/v1/a%2fb", Ok("a/b"), Ok("a%2fb")),
            ("/v1/%E2%82%AC", Ok("€"), Ok("€")),
            ("/v1/a%20b+c", Ok("a b+c"), Ok("a b+c")),
            ("/v1/%ZZ", Ok("%ZZ"), Ok("%ZZ")),
            ("/v1/a%", Ok("a%"), Ok("a%")),
            ("/v1/a%4", Ok("a%4"), Ok("a%4")),
            ("/v1/%25", Ok("%"), Ok("%")),
            ("/v1/%252F", Ok("%2F"), Ok("%2F")),
            ("/v1/%FF", Err(()), Err(())),
            ("/v1/%E2%82", Err(()), Err(())),
            ("/v1/plain", Ok("plain"), Ok("plain")),
            ("/v1/€", Ok("€"), Ok("€")),
        ];
        for (path, one, many) in table {
            let m = ONE.match_path(path).unwrap();
            assert_eq!(m.decoded(0).as_deref().map_err(|_| ()), *one, "{path}");
            let m = MANY.match_path(path).unwrap();
            assert_eq!(m.decoded(0).as_deref().map_err(|_| ()), *many, "{path}");
        }
        let m = MANY.match_path("/v1/a%2Fb/c%20d").unwrap();
        assert_eq!(m.decoded(0).unwrap(), "a%2Fb/c d");

        let err = ONE.match_path("/v1/%FF").unwrap().decoded(0).unwrap_err();
        assert_eq!(err.raw(), "%FF");
        assert_eq!(
            err.to_string(),
            "\"%FF\" is not valid UTF-8 after percent-decoding"
        );
    }

    #[test]
    fn decoded_borrows_without_escapes() {
        static T: Template = t(&[Single], None, &[c(0, 1)]);
        let m = T.match_path("/abc").unwrap();
        assert!(matches!(m.decoded(0).unwrap(), Cow::Borrowed("abc")));
    }
}
