//! The JSON writer.

use base64::Engine as _;

use super::reader::find_special;
use super::{JsonMessage, JsonOptions};

/// An infallible writer of canonical proto3 JSON into one `Vec<u8>`.
///
/// The writer does not track structure: callers emit `begin_object`, then for each member
/// `key` followed by exactly one value, then `end_object` (arrays: `begin_array`, `element`
/// before each value, `end_array`). Commas are inserted by `key`, `map_key*` and `element`
/// by looking at the last byte written (`{` or `[` means "first member").
///
/// Output is compact (no whitespace). Floats follow Go's `protojson` exactly.
#[derive(Debug)]
pub struct JsonWriter {
    buf: Vec<u8>,
    opts: JsonOptions,
    /// How many `Any` messages are being written inside each other (see
    /// `any::MAX_ANY_DEPTH`).
    pub(super) any_depth: u32,
}

/// Escape table: 0 = copy, `u` = `\u00XX`, anything else = `\` + that byte.
static ESCAPE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = b'u';
        i += 1;
    }
    t[0x08] = b'b';
    t[0x09] = b't';
    t[0x0a] = b'n';
    t[0x0c] = b'f';
    t[0x0d] = b'r';
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t
};

const HEX: &[u8; 16] = b"0123456789abcdef";

impl JsonWriter {
    /// Creates a writer with an empty buffer.
    pub fn new(opts: &JsonOptions) -> Self {
        Self::with_buffer(Vec::with_capacity(256), opts)
    }

    /// Creates a writer that reuses `buf` (cleared; its capacity is kept).
    pub fn with_buffer(mut buf: Vec<u8>, opts: &JsonOptions) -> Self {
        buf.clear();
        JsonWriter {
            buf,
            opts: opts.clone(),
            any_depth: 0,
        }
    }

    /// A writer that appends to what `buf` holds (a frame's prefix, say),
    /// so that a message is written straight into its frame.
    pub(crate) fn appending(buf: Vec<u8>, opts: &JsonOptions) -> Self {
        JsonWriter {
            buf,
            opts: opts.clone(),
            any_depth: 0,
        }
    }

    /// Returns the bytes written.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    /// The bytes written so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Whether fields with default values are written ([`JsonOptions::emit_defaults`]).
    #[inline]
    pub fn emit_defaults(&self) -> bool {
        self.opts.emit_defaults
    }

    /// The options of this writer.
    pub fn options(&self) -> &JsonOptions {
        &self.opts
    }

    pub(crate) fn len(&self) -> usize {
        self.buf.len()
    }

    pub(crate) fn truncate(&mut self, len: usize) {
        self.buf.truncate(len);
    }

    pub(crate) fn buf_mut(&mut self) -> &mut Vec<u8> {
        &mut self.buf
    }

    #[inline]
    fn comma(&mut self) {
        match self.buf.last() {
            None | Some(b'{') | Some(b'[') => {}
            Some(_) => self.buf.push(b','),
        }
    }

    /// Writes `{`.
    #[inline]
    pub fn begin_object(&mut self) {
        self.buf.push(b'{');
    }

    /// Writes `}`.
    #[inline]
    pub fn end_object(&mut self) {
        self.buf.push(b'}');
    }

    /// Writes `[`.
    #[inline]
    pub fn begin_array(&mut self) {
        self.buf.push(b'[');
    }

    /// Writes `]`.
    #[inline]
    pub fn end_array(&mut self) {
        self.buf.push(b']');
    }

    /// Writes `,"name":` (the comma only when needed), with `json_name` or, when
    /// [`JsonOptions::use_proto_names`] is set, `proto_name`.
    #[inline]
    pub fn key(&mut self, json_name: &str, proto_name: &str) {
        self.comma();
        let name = if self.opts.use_proto_names {
            proto_name
        } else {
            json_name
        };
        write_escaped(&mut self.buf, name.as_bytes());
        self.buf.push(b':');
    }

    /// Writes `,"name":` from keys already in their JSON form: quoted,
    /// escaped and followed by the colon (`"\"fooBar\":"`), as the generator
    /// writes a field's keys. The keys of a message are known when its code
    /// is generated, so each write is one copy rather than a scan for
    /// characters to escape.
    #[inline]
    pub fn encoded_key(&mut self, json_key: &str, proto_key: &str) {
        debug_assert!(json_key.starts_with('"') && json_key.ends_with("\":"));
        debug_assert!(proto_key.starts_with('"') && proto_key.ends_with("\":"));
        self.comma();
        let key = if self.opts.use_proto_names {
            proto_key
        } else {
            json_key
        };
        self.buf.extend_from_slice(key.as_bytes());
    }

    /// Writes a map entry key `,"k":` (escaped, otherwise verbatim).
    #[inline]
    pub fn map_key(&mut self, key: &str) {
        self.comma();
        write_escaped(&mut self.buf, key.as_bytes());
        self.buf.push(b':');
    }

    /// Writes an integer map entry key as a JSON string: `,"-12":`.
    /// Works for every Rust integer type (`i32`, `i64`, `u32`, `u64`, …).
    #[inline]
    pub fn map_key_display(&mut self, key: impl itoa::Integer) {
        self.comma();
        self.buf.push(b'"');
        self.buf
            .extend_from_slice(itoa::Buffer::new().format(key).as_bytes());
        self.buf.extend_from_slice(b"\":");
    }

    /// Writes a bool map entry key: `,"true":` or `,"false":`.
    #[inline]
    pub fn map_key_bool(&mut self, key: bool) {
        self.comma();
        self.buf.extend_from_slice(if key {
            b"\"true\":".as_slice()
        } else {
            b"\"false\":".as_slice()
        });
    }

    /// Call before each array element: writes a comma unless it is the first element.
    #[inline]
    pub fn element(&mut self) {
        self.comma();
    }

    /// Writes `null`.
    #[inline]
    pub fn null(&mut self) {
        self.buf.extend_from_slice(b"null");
    }

    /// Writes `true` or `false`.
    #[inline]
    pub fn bool(&mut self, v: bool) {
        self.buf
            .extend_from_slice(if v { b"true".as_slice() } else { b"false" });
    }

    /// Writes an `int32` (`sint32`, `sfixed32`) as a JSON number.
    #[inline]
    pub fn i32(&mut self, v: i32) {
        push_integer(&mut self.buf, v);
    }

    /// Writes a `uint32` (`fixed32`) as a JSON number.
    #[inline]
    pub fn u32(&mut self, v: u32) {
        push_integer(&mut self.buf, v);
    }

    /// Writes an `int64` (`sint64`, `sfixed64`) as a JSON string: `"-123"`.
    #[inline]
    pub fn i64(&mut self, v: i64) {
        self.buf.push(b'"');
        self.buf
            .extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
        self.buf.push(b'"');
    }

    /// Writes a `uint64` (`fixed64`) as a JSON string: `"123"`.
    #[inline]
    pub fn u64(&mut self, v: u64) {
        self.buf.push(b'"');
        self.buf
            .extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
        self.buf.push(b'"');
    }

    /// Writes a `float`: shortest `f32` digits; `"NaN"`, `"Infinity"`, `"-Infinity"` as strings.
    pub fn f32(&mut self, v: f32) {
        if !v.is_finite() {
            return self.non_finite(v.is_nan(), v.is_sign_negative());
        }
        if v == 0.0 {
            return self.zero(v.is_sign_negative());
        }
        let abs = v.abs();
        let exp = !(1e-6f32..1e21f32).contains(&abs);
        let mut b = ryu::Buffer::new();
        write_float(&mut self.buf, b.format_finite(v), exp);
    }

    /// Writes a `double`: shortest round-trip digits, decimal notation when
    /// `1e-6 <= |v| < 1e21`, otherwise `1e+21` / `1.5e-7` style; `"NaN"`, `"Infinity"`,
    /// `"-Infinity"` as strings.
    pub fn f64(&mut self, v: f64) {
        if !v.is_finite() {
            return self.non_finite(v.is_nan(), v.is_sign_negative());
        }
        if v == 0.0 {
            return self.zero(v.is_sign_negative());
        }
        let abs = v.abs();
        let exp = !(1e-6f64..1e21f64).contains(&abs);
        let mut b = ryu::Buffer::new();
        write_float(&mut self.buf, b.format_finite(v), exp);
    }

    fn non_finite(&mut self, nan: bool, negative: bool) {
        self.buf.extend_from_slice(if nan {
            b"\"NaN\"".as_slice()
        } else if negative {
            b"\"-Infinity\""
        } else {
            b"\"Infinity\""
        });
    }

    fn zero(&mut self, negative: bool) {
        self.buf
            .extend_from_slice(if negative { b"-0".as_slice() } else { b"0" });
    }

    /// Writes a JSON string: `"` and `\` escaped, control characters as `\b \f \n \r \t`
    /// or `\u00XX`; everything else raw.
    #[inline]
    pub fn string(&mut self, v: &str) {
        write_escaped(&mut self.buf, v.as_bytes());
    }

    /// Writes `bytes` as a JSON string in standard base64 with padding.
    pub fn bytes(&mut self, v: &[u8]) {
        self.buf.push(b'"');
        let start = self.buf.len();
        let len = v.len().div_ceil(3) * 4;
        self.buf.resize(start + len, 0);
        match base64::engine::general_purpose::STANDARD.encode_slice(v, &mut self.buf[start..]) {
            Ok(n) => self.buf.truncate(start + n),
            // Unreachable (the size is exact); stay infallible anyway.
            Err(_) => {
                self.buf.truncate(start);
                let s = base64::engine::general_purpose::STANDARD.encode(v);
                self.buf.extend_from_slice(s.as_bytes());
            }
        }
        self.buf.push(b'"');
    }

    /// Writes an enum value: its name as a string when known, else the number.
    #[inline]
    pub fn enum_value(&mut self, number: i32, name: Option<&str>) {
        match name {
            Some(name) => self.string(name),
            None => self.i32(number),
        }
    }

    /// Writes a message (one complete JSON value).
    #[inline]
    pub fn message<T: JsonMessage>(&mut self, m: &T) {
        m.write_json(self)
    }
}

/// Writes `v` in decimal. A single digit (indexes, counts, small codes) is
/// one byte pushed: copying itoa's text is a call to `memcpy` for one byte.
#[inline]
fn push_integer<I: itoa::Integer + TryInto<u8> + Copy>(buf: &mut Vec<u8>, v: I) {
    match v.try_into() {
        Ok(digit @ 0..=9) => buf.push(b'0' + digit),
        _ => buf.extend_from_slice(itoa::Buffer::new().format(v).as_bytes()),
    }
}

/// Writes `s` as a JSON string. The runs between bytes to escape are found
/// eight bytes at a time (the reader's scan: the bytes it stops at are
/// exactly those of `ESCAPE`) and copied whole.
#[inline]
fn write_escaped(buf: &mut Vec<u8>, s: &[u8]) {
    if s.len() < 8 {
        // Short strings (keys, ids, enum names): gathered with the closing
        // quote into one word, written whole and cut to length. For a few
        // bytes a call to `memcpy` and the scan's setup cost more than the
        // bytes, and pushing them one by one checks the capacity at each
        // (a byte loop that only copies becomes a `memcpy` call again).
        let mut word = 0u64;
        let mut special = 0;
        for (i, &b) in s.iter().enumerate() {
            word |= u64::from(b) << (8 * i);
            special |= ESCAPE[b as usize];
        }
        if special == 0 {
            word |= u64::from(b'"') << (8 * s.len());
            let end = buf.len() + s.len() + 2;
            buf.reserve(9);
            buf.push(b'"');
            buf.extend_from_slice(&word.to_le_bytes());
            buf.truncate(end);
            return;
        }
    }
    buf.reserve(s.len() + 2);
    buf.push(b'"');
    let mut start = 0;
    loop {
        let i = find_special(s, start);
        buf.extend_from_slice(&s[start..i]);
        let Some(&b) = s.get(i) else { break };
        escape_byte(buf, b);
        start = i + 1;
    }
    buf.push(b'"');
}

/// The escape of one byte that `ESCAPE` marks.
fn escape_byte(buf: &mut Vec<u8>, b: u8) {
    let e = ESCAPE[b as usize];
    if e == b'u' {
        buf.extend_from_slice(b"\\u00");
        buf.push(HEX[(b >> 4) as usize]);
        buf.push(HEX[(b & 0xf) as usize]);
    } else {
        buf.push(b'\\');
        buf.push(e);
    }
}

/// Re-formats ryu's output (shortest digits) the way Go's `protojson` does.
fn write_float(buf: &mut Vec<u8>, repr: &str, exponent_form: bool) {
    let b = repr.as_bytes();
    let mut i = 0;
    if b.first() == Some(&b'-') {
        buf.push(b'-');
        i = 1;
    }
    // value = 0.d1d2...dn * 10^point
    let mut digits = [0u8; 40];
    let mut n = 0usize;
    let mut point: i32 = 0;
    let mut seen_dot = false;
    while i < b.len() && b[i] != b'e' && b[i] != b'E' {
        let c = b[i];
        if c == b'.' {
            seen_dot = true;
        } else if n == 0 && c == b'0' {
            if seen_dot {
                point -= 1;
            }
        } else if n < digits.len() {
            digits[n] = c;
            n += 1;
            if !seen_dot {
                point += 1;
            }
        }
        i += 1;
    }
    if i < b.len() {
        // exponent
        i += 1;
        let mut neg = false;
        if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
            neg = b[i] == b'-';
            i += 1;
        }
        let mut e: i32 = 0;
        while i < b.len() {
            e = e.saturating_mul(10).saturating_add((b[i] - b'0') as i32);
            i += 1;
        }
        point = point.saturating_add(if neg { -e } else { e });
    }
    while n > 1 && digits[n - 1] == b'0' {
        n -= 1;
    }
    if n == 0 {
        buf.push(b'0');
        return;
    }
    let d = &digits[..n];
    if exponent_form {
        buf.push(d[0]);
        if n > 1 {
            buf.push(b'.');
            buf.extend_from_slice(&d[1..]);
        }
        let e = point - 1;
        buf.push(b'e');
        buf.push(if e < 0 { b'-' } else { b'+' });
        buf.extend_from_slice(itoa::Buffer::new().format(e.unsigned_abs()).as_bytes());
    } else if point <= 0 {
        buf.extend_from_slice(b"0.");
        for _ in 0..(-point) {
            buf.push(b'0');
        }
        buf.extend_from_slice(d);
    } else if (point as usize) < n {
        let p = point as usize;
        buf.extend_from_slice(&d[..p]);
        buf.push(b'.');
        buf.extend_from_slice(&d[p..]);
    } else {
        buf.extend_from_slice(d);
        for _ in n..point as usize {
            buf.push(b'0');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w() -> JsonWriter {
        JsonWriter::new(&JsonOptions::default())
    }

    fn s(w: JsonWriter) -> String {
        String::from_utf8(w.into_bytes()).unwrap()
    }

    #[test]
    fn integers_match_their_decimal_text_around_the_one_digit_path() {
        let edges = [
            i32::MIN,
            -100,
            -11,
            -10,
            -9,
            -1,
            0,
            1,
            9,
            10,
            11,
            99,
            100,
            i32::MAX,
        ];
        for v in (-300..=300).chain(edges) {
            let mut x = w();
            x.i32(v);
            assert_eq!(s(x), v.to_string());
        }
        for v in (0..=300).chain([u32::MAX, 1 << 31, 255, 256]) {
            let mut x = w();
            x.u32(v);
            assert_eq!(s(x), v.to_string());
        }
    }

    #[test]
    fn encoded_keys_are_copied_with_the_comma_and_the_names_option() {
        let mut x = w();
        x.begin_object();
        x.encoded_key(r#""fooBar":"#, r#""foo_bar":"#);
        x.i32(1);
        x.encoded_key(r#""a\"b":"#, r#""a_b":"#);
        x.i32(2);
        x.end_object();
        assert_eq!(s(x), r#"{"fooBar":1,"a\"b":2}"#);
        let mut x = JsonWriter::new(&JsonOptions {
            use_proto_names: true,
            ..JsonOptions::default()
        });
        x.begin_object();
        x.encoded_key(r#""fooBar":"#, r#""foo_bar":"#);
        x.begin_array();
        x.end_array();
        x.encoded_key(r#""a\"b":"#, r#""a_b":"#);
        x.null();
        x.end_object();
        assert_eq!(s(x), r#"{"foo_bar":[],"a_b":null}"#);
    }

    fn f64s(v: f64) -> String {
        let mut x = w();
        x.f64(v);
        s(x)
    }

    fn f32s(v: f32) -> String {
        let mut x = w();
        x.f32(v);
        s(x)
    }

    #[test]
    fn float64_table() {
        let table: &[(f64, &str)] = &[
            (0.0, "0"),
            (-0.0, "-0"),
            (1.0, "1"),
            (-1.0, "-1"),
            (100.0, "100"),
            (0.5, "0.5"),
            (0.1, "0.1"),
            (1e-5, "0.00001"),
            (1e-6, "0.000001"),
            (1.5e-7, "1.5e-7"),
            (1e-7, "1e-7"),
            (1e-10, "1e-10"),
            (1.2345e-9, "1.2345e-9"),
            (123.456, "123.456"),
            (1e20, "100000000000000000000"),
            (1.5e20, "150000000000000000000"),
            (1e21, "1e+21"),
            (1.5e21, "1.5e+21"),
            (-2.5e300, "-2.5e+300"),
            (f64::MAX, "1.7976931348623157e+308"),
            (f64::MIN_POSITIVE, "2.2250738585072014e-308"),
            (5e-324, "5e-324"),
            (9007199254740993.0, "9007199254740992"),
            (123456789.125, "123456789.125"),
            (0.30000000000000004, "0.30000000000000004"),
            (f64::NAN, "\"NaN\""),
            (f64::INFINITY, "\"Infinity\""),
            (f64::NEG_INFINITY, "\"-Infinity\""),
        ];
        for (v, want) in table {
            assert_eq!(f64s(*v), *want, "for {v:e}");
        }
    }

    #[test]
    fn float32_table() {
        let table: &[(f32, &str)] = &[
            (0.0, "0"),
            (-0.0, "-0"),
            (0.1, "0.1"),
            (1.0, "1"),
            (100.0, "100"),
            (3.4028235e38, "3.4028235e+38"),
            (1e-6, "0.000001"),
            (1e-7, "1e-7"),
            (16777216.0, "16777216"),
            (f32::MIN_POSITIVE, "1.1754944e-38"),
            (f32::NAN, "\"NaN\""),
            (f32::INFINITY, "\"Infinity\""),
            (f32::NEG_INFINITY, "\"-Infinity\""),
            (-2.5, "-2.5"),
        ];
        for (v, want) in table {
            assert_eq!(f32s(*v), *want, "for {v:e}");
        }
    }

    #[test]
    fn strings_are_escaped() {
        let mut x = w();
        x.string("a\"b\\c\u{8}\u{c}\n\r\t\u{0}\u{1f}\u{7f}é<>&/\u{2028}😀");
        assert_eq!(
            s(x),
            "\"a\\\"b\\\\c\\b\\f\\n\\r\\t\\u0000\\u001f\u{7f}é<>&/\u{2028}😀\""
        );
        let mut x = w();
        x.string("");
        assert_eq!(s(x), "\"\"");
    }

    /// Every byte at every position of strings of 1 to 17 bytes (the short
    /// path, the word scan and their boundary), against a byte-by-byte
    /// reference escaper.
    #[test]
    fn every_byte_at_every_short_length_is_escaped_as_the_reference() {
        fn reference(s: &[u8]) -> Vec<u8> {
            let mut out = vec![b'"'];
            for &b in s {
                match b {
                    b'"' => out.extend_from_slice(b"\\\""),
                    b'\\' => out.extend_from_slice(b"\\\\"),
                    0x08 => out.extend_from_slice(b"\\b"),
                    0x09 => out.extend_from_slice(b"\\t"),
                    0x0a => out.extend_from_slice(b"\\n"),
                    0x0c => out.extend_from_slice(b"\\f"),
                    0x0d => out.extend_from_slice(b"\\r"),
                    0..0x20 => out.extend_from_slice(format!("\\u{b:04x}").as_bytes()),
                    _ => out.push(b),
                }
            }
            out.push(b'"');
            out
        }
        for len in 1..=17 {
            for at in 0..len {
                for b in 0..=255u8 {
                    let mut s = vec![b'a'; len];
                    s[at] = b;
                    let mut out = b"x".to_vec();
                    write_escaped(&mut out, &s);
                    assert_eq!(
                        &out[1..],
                        &reference(&s)[..],
                        "byte {b:#x} at {at} of {len}"
                    );
                }
            }
        }
    }

    #[test]
    fn scalars() {
        let mut x = w();
        x.begin_array();
        x.element();
        x.null();
        x.element();
        x.bool(true);
        x.element();
        x.bool(false);
        x.element();
        x.i32(i32::MIN);
        x.element();
        x.u32(u32::MAX);
        x.element();
        x.i64(i64::MIN);
        x.element();
        x.u64(u64::MAX);
        x.element();
        x.bytes(b"\xfb\xff\x00");
        x.element();
        x.bytes(b"ab");
        x.element();
        x.bytes(b"");
        x.element();
        x.enum_value(1, Some("FOO"));
        x.element();
        x.enum_value(7, None);
        x.end_array();
        assert_eq!(
            s(x),
            "[null,true,false,-2147483648,4294967295,\"-9223372036854775808\",\
             \"18446744073709551615\",\"+/8A\",\"YWI=\",\"\",\"FOO\",7]"
        );
    }

    #[test]
    fn objects_keys_and_maps() {
        let mut x = w();
        x.begin_object();
        x.key("fooBar", "foo_bar");
        x.begin_object();
        x.end_object();
        x.key("list", "list");
        x.begin_array();
        x.end_array();
        x.key("m", "m");
        x.begin_object();
        x.map_key("k\"1");
        x.i32(1);
        x.map_key_display(-5i64);
        x.i32(2);
        x.map_key_display(7u32);
        x.i32(3);
        x.map_key_bool(true);
        x.i32(4);
        x.map_key_bool(false);
        x.begin_array();
        x.element();
        x.begin_object();
        x.end_object();
        x.element();
        x.begin_array();
        x.end_array();
        x.end_array();
        x.end_object();
        x.end_object();
        assert_eq!(
            s(x),
            r#"{"fooBar":{},"list":[],"m":{"k\"1":1,"-5":2,"7":3,"true":4,"false":[{},[]]}}"#
        );

        let opts = JsonOptions {
            use_proto_names: true,
            emit_defaults: false,
            ..JsonOptions::default()
        };
        let mut x = JsonWriter::with_buffer(b"garbage".to_vec(), &opts);
        assert!(!x.emit_defaults());
        x.begin_object();
        x.key("fooBar", "foo_bar");
        x.string("x");
        x.end_object();
        assert_eq!(x.as_bytes(), br#"{"foo_bar":"x"}"#);
    }
}
