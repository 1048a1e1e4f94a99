//! Query strings (`application/x-www-form-urlencoded`).
//!
//! Decoding follows the WHATWG URL standard's form-urlencoded parser, which is what
//! browsers send: `+` is a space, `%XX` is a byte, and an invalid escape (`%ZZ`, a trailing
//! `%`) is kept as it is rather than failing the request. The only error is a value that is
//! not UTF-8 after decoding, since proto strings must be UTF-8.

use std::borrow::Cow;
use std::fmt;

/// A query pair that is not valid UTF-8 after percent-decoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct QueryParseError {
    pair: String,
}

impl fmt::Display for QueryParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "query string piece {:?} is not valid UTF-8 after percent-decoding",
            self.pair
        )
    }
}

impl std::error::Error for QueryParseError {}

/// A decoded `(key, value)` pair.
pub(crate) type Pair<'a> = (Cow<'a, str>, Cow<'a, str>);

/// The `(key, value)` pairs of a query string (without the leading `?`), in order, decoded
/// one by one: a binding sets its fields as they come, with no list built.
///
/// Split on `&`; the first `=` separates key and value (no `=`: the value is empty); `+` is a
/// space; percent-decoding keeps invalid escapes as they are; empty pieces (`a=1&&b=2`) are
/// skipped; repeated keys give repeated pairs. An empty key (`=x`) is kept as `("", "x")`:
/// it matches no field, so callers ignore it like any unknown parameter. Texts without `+`
/// or `%` are borrowed.
pub(crate) fn pairs(query: &str) -> impl Iterator<Item = Result<Pair<'_>, QueryParseError>> {
    query
        .split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| {
            let (key, value) = piece.split_once('=').unwrap_or((piece, ""));
            let err = || QueryParseError {
                pair: piece.to_owned(),
            };
            Ok((
                decode_component(key).ok_or_else(err)?,
                decode_component(value).ok_or_else(err)?,
            ))
        })
}

/// All of [`pairs`], or the first error (tests).
#[cfg(test)]
pub(crate) fn parse_query(query: &str) -> Result<Vec<Pair<'_>>, QueryParseError> {
    pairs(query).collect()
}

/// Decodes one form-urlencoded component; `None` when the result is not UTF-8.
fn decode_component(s: &str) -> Option<Cow<'_, str>> {
    if !s.bytes().any(|b| b == b'+' || b == b'%') {
        return Some(Cow::Borrowed(s));
    }
    let bytes: Vec<u8> = s
        .bytes()
        .map(|b| if b == b'+' { b' ' } else { b })
        .collect();
    // `+` was replaced before decoding, so an encoded `%2B` stays a literal plus.
    let decoded: Vec<u8> = percent_encoding::percent_decode(&bytes).collect();
    String::from_utf8(decoded).ok().map(Cow::Owned)
}

/// Splits a map parameter name `name[key]` into `("name", "key")`.
///
/// `Some` when the name contains `[`, ends with `]` and the part before the first `[` is not
/// empty. The key is everything between the first `[` and the final `]`, so keys may contain
/// brackets themselves: `m[a[b]]` gives `("m", "a[b]")`, and `m[]` gives the empty key
/// `("m", "")`. `m[k` and `[k]` give `None`.
pub fn split_map_key(key: &str) -> Option<(&str, &str)> {
    let open = key.find('[')?;
    let inner = key.strip_suffix(']')?;
    let name = &key[..open];
    if name.is_empty() {
        return None;
    }
    // `open < inner.len()` holds because the `[` found is not the final `]`.
    inner.get(open + 1..).map(|k| (name, k))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(q: &str) -> Vec<(String, String)> {
        parse_query(q)
            .unwrap()
            .into_iter()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }

    fn p(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn parse_table() {
        let table: &[(&str, &[(&str, &str)])] = &[
            ("", &[]),
            ("&", &[]),
            ("a=1", &[("a", "1")]),
            ("b=2&a=1", &[("b", "2"), ("a", "1")]),
            ("a=1&a=2", &[("a", "1"), ("a", "2")]),
            ("a=1&&b=2", &[("a", "1"), ("b", "2")]),
            ("&a=1&", &[("a", "1")]),
            ("a", &[("a", "")]),
            ("a=", &[("a", "")]),
            ("=x", &[("", "x")]),
            ("=", &[("", "")]),
            ("a=b=c", &[("a", "b=c")]),
            ("q=hello+world", &[("q", "hello world")]),
            ("q=hello%20world", &[("q", "hello world")]),
            ("q=1%2B1", &[("q", "1+1")]),
            ("q=a,b", &[("q", "a,b")]),
            ("m[k]=v", &[("m[k]", "v")]),
            ("m%5Bk%5D=v", &[("m[k]", "v")]),
            ("a+b=c+d", &[("a b", "c d")]),
            ("e=%E2%82%AC", &[("e", "€")]),
            ("e=€", &[("e", "€")]),
            ("bad=%ZZ&t=%", &[("bad", "%ZZ"), ("t", "%")]),
            ("x=%26&y=%3D", &[("x", "&"), ("y", "=")]),
        ];
        for (q, want) in table {
            assert_eq!(pairs(q), p(want), "query {q:?}");
        }
    }

    #[test]
    fn borrows_when_nothing_to_decode() {
        let got = parse_query("a=1&b=x%20y").unwrap();
        assert!(matches!(got[0].0, Cow::Borrowed("a")));
        assert!(matches!(got[0].1, Cow::Borrowed("1")));
        assert!(matches!(got[1].1, Cow::Owned(_)));
    }

    #[test]
    fn invalid_utf8() {
        let err = parse_query("ok=1&name=%FF%FE&z=2").unwrap_err();
        assert_eq!(err.pair, "name=%FF%FE");
        assert_eq!(
            err.to_string(),
            "query string piece \"name=%FF%FE\" is not valid UTF-8 after percent-decoding"
        );
        assert_eq!(parse_query("%C3=1").unwrap_err().pair, "%C3=1");
    }

    #[test]
    fn map_keys() {
        let table: &[(&str, Option<(&str, &str)>)] = &[
            ("m[k]", Some(("m", "k"))),
            ("a.b[key one]", Some(("a.b", "key one"))),
            ("m[]", Some(("m", ""))),
            ("m[a[b]]", Some(("m", "a[b]"))),
            ("m[a]b]", Some(("m", "a]b"))),
            ("m[k", None),
            ("[k]", None),
            ("[]", None),
            ("m", None),
            ("m]", None),
            ("m]x[", None),
            ("", None),
            ("m[k]x", None),
            ("é[ü]", Some(("é", "ü"))),
        ];
        for (key, want) in table {
            assert_eq!(split_map_key(key), *want, "key {key:?}");
        }
    }
}
