//! The one base64 rule for everything a client sends: `bytes` in JSON, in
//! path and query values, and `-bin` metadata headers.
//!
//! Go's protojson and the gRPC HTTP/2 metadata rules both accept the
//! standard and the URL-safe alphabet, padded or not; clients encode with
//! whatever their library does. So: the URL-safe alphabet when the text has
//! `-` or `_`, else the standard one; padding optional; non-zero trailing
//! bits ignored (as Go's non-strict decoder does). What the gateway writes is
//! always standard, padded base64.

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

const CONFIG: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
    .with_decode_allow_trailing_bits(true);
const STANDARD: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::STANDARD, CONFIG);
const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::URL_SAFE, CONFIG);

/// Decodes `text` by the rule above; `None` when it is not base64.
pub(crate) fn decode(text: &[u8]) -> Option<Vec<u8>> {
    let engine = if text.iter().any(|&b| b == b'-' || b == b'_') {
        &URL_SAFE
    } else {
        &STANDARD
    };
    engine.decode(text).ok()
}

#[cfg(test)]
mod tests {
    use super::decode;

    #[test]
    fn both_alphabets_padding_optional_trailing_bits_ignored() {
        let bytes = [0xfb, 0xff, 0xbf];
        for text in ["+/+/", "-_-_"] {
            assert_eq!(decode(text.as_bytes()), Some(bytes.to_vec()), "{text}");
        }
        assert_eq!(decode(b"aGk="), Some(b"hi".to_vec()));
        assert_eq!(decode(b"aGk"), Some(b"hi".to_vec()));
        // `aGl` has a non-zero trailing bit: still "hi", as Go decodes it.
        assert_eq!(decode(b"aGl"), Some(b"hi".to_vec()));
        assert_eq!(decode(b""), Some(Vec::new()));
        for bad in ["a", "+-", "aGk=x", "a b", "!!!!"] {
            assert_eq!(decode(bad.as_bytes()), None, "{bad}");
        }
    }
}
