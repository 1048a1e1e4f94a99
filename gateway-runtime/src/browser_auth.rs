//! Bearer tokens for browser streams, which cannot set `Authorization`:
//! `EventSource` sends no custom header, `new WebSocket(url, protocols)`
//! only `Sec-WebSocket-Protocol`. Off by default; docs/operations.md
//! weighs the risks.
//!
//! A token found either way becomes the request's `Authorization: Bearer
//! <token>` header (unless it has one), so the header rules forward it as
//! `authorization` metadata like any other.

use http::header::{AUTHORIZATION, HeaderValue, SEC_WEBSOCKET_PROTOCOL};
use percent_encoding::percent_decode_str;

use crate::error::GatewayError;

/// The subprotocol prefix of a WebSocket bearer token: the client offers
/// `["chat", "bearer.<token>"]`; `chat` is echoed, the token never.
pub(crate) const WEBSOCKET_TOKEN_PREFIX: &str = "bearer.";

/// Where browser streams may carry a bearer token (both off by default).
#[derive(Debug, Clone, Default)]
pub struct BrowserAuth {
    pub(crate) websocket_protocol: bool,
    pub(crate) query_parameter: Option<String>,
}

impl BrowserAuth {
    /// Accept a token offered as the WebSocket subprotocol
    /// `bearer.<token>` (token characters only, as JWTs are). The client
    /// must offer another subprotocol too, which the server echoes: a
    /// handshake that offers only the token gets 400.
    pub fn websocket_protocol(mut self, on: bool) -> Self {
        self.websocket_protocol = on;
        self
    }

    /// Accept a token in this query parameter of streaming requests
    /// (`?access_token=…`). The parameter is removed before the query is
    /// bound and is never logged; URLs end up in browser history and proxy
    /// logs, so prefer short-lived tokens.
    pub fn query_parameter(mut self, name: impl Into<String>) -> Self {
        self.query_parameter = Some(name.into());
        self
    }
}

/// The subprotocol to echo in the WebSocket handshake (set when a token
/// came in `Sec-WebSocket-Protocol`).
#[derive(Debug, Clone)]
pub(crate) struct EchoProtocol(pub(crate) String);

/// Moves a browser token into `Authorization`; `websocket` when the request
/// is an upgrade. Returns whether a token was found.
pub(crate) fn apply(
    auth: &BrowserAuth,
    parts: &mut http::request::Parts,
    websocket: bool,
) -> Result<bool, GatewayError> {
    let mut token = None;
    if let Some(name) = &auth.query_parameter {
        token = take_query_token(parts, name);
    }
    if websocket
        && auth.websocket_protocol
        && let Some(found) = take_protocol_token(parts)?
    {
        token = Some(found);
    }
    let Some(token) = token else {
        return Ok(false);
    };
    if !parts.headers.contains_key(AUTHORIZATION)
        && let Ok(value) = HeaderValue::from_str(&format!("Bearer {token}"))
    {
        parts.headers.insert(AUTHORIZATION, value);
    }
    Ok(true)
}

/// Removes `name=…` from the query; returns its (decoded) value.
fn take_query_token(parts: &mut http::request::Parts, name: &str) -> Option<String> {
    let query = parts.uri.query()?;
    let mut token = None;
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            if percent_decode_str(key).decode_utf8_lossy() == name {
                token = Some(
                    percent_decode_str(&value.replace('+', " "))
                        .decode_utf8_lossy()
                        .into_owned(),
                );
                false
            } else {
                true
            }
        })
        .collect();
    token.as_ref()?;
    let path = parts.uri.path();
    let path_and_query = if kept.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", kept.join("&"))
    };
    let mut uri = std::mem::take(&mut parts.uri).into_parts();
    uri.path_and_query = path_and_query.parse().ok();
    parts.uri = http::Uri::from_parts(uri).unwrap_or_default();
    token
}

/// Takes the `bearer.<token>` entry out of `Sec-WebSocket-Protocol`,
/// leaving the first other entry, the one to echo.
fn take_protocol_token(parts: &mut http::request::Parts) -> Result<Option<String>, GatewayError> {
    let offered: Vec<String> = parts
        .headers
        .get_all(SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty())
        .collect();
    let Some(token) = offered
        .iter()
        .find_map(|p| p.strip_prefix(WEBSOCKET_TOKEN_PREFIX))
        .map(str::to_owned)
    else {
        return Ok(None);
    };
    let Some(echo) = offered
        .iter()
        .find(|p| !p.starts_with(WEBSOCKET_TOKEN_PREFIX))
        .cloned()
    else {
        return Err(GatewayError::InvalidWebSocketHandshake {
            reason: "a bearer token in Sec-WebSocket-Protocol needs another subprotocol \
                     offered with it, which the server echoes"
                .to_owned(),
            unsupported_version: false,
        });
    };
    // What the upgrade then sees: the echoed subprotocol alone.
    if let Ok(value) = HeaderValue::from_str(&echo) {
        parts.headers.insert(SEC_WEBSOCKET_PROTOCOL, value);
    }
    parts.extensions.insert(EchoProtocol(echo));
    Ok(Some(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(uri: &str, protocols: Option<&str>) -> http::request::Parts {
        let mut b = http::Request::builder().uri(uri);
        if let Some(p) = protocols {
            b = b.header(SEC_WEBSOCKET_PROTOCOL, p);
        }
        b.body(()).unwrap().into_parts().0
    }

    #[test]
    fn query_token_is_removed() {
        let auth = BrowserAuth::default().query_parameter("access_token");
        let mut p = parts("/v1/x?a=1&access_token=t%2Bk&b=2", None);
        assert!(apply(&auth, &mut p, false).unwrap());
        assert_eq!(p.uri, "/v1/x?a=1&b=2");
        assert_eq!(p.headers[AUTHORIZATION], "Bearer t+k");
        let mut p = parts("/v1/x?access_token=only", None);
        assert!(apply(&auth, &mut p, false).unwrap());
        assert_eq!(p.uri, "/v1/x");
        let mut p = parts("/v1/x?a=1", None);
        assert!(!apply(&auth, &mut p, false).unwrap());
        assert_eq!(p.uri, "/v1/x?a=1");
        // Off by default.
        let mut p = parts("/v1/x?access_token=t", None);
        assert!(!apply(&BrowserAuth::default(), &mut p, false).unwrap());
        assert_eq!(p.uri, "/v1/x?access_token=t");
    }

    #[test]
    fn protocol_token() {
        let auth = BrowserAuth::default().websocket_protocol(true);
        let mut p = parts("/x", Some("bearer.abc.def, chat"));
        assert!(apply(&auth, &mut p, true).unwrap());
        assert_eq!(p.headers[AUTHORIZATION], "Bearer abc.def");
        assert_eq!(p.headers[SEC_WEBSOCKET_PROTOCOL], "chat");
        assert_eq!(p.extensions.get::<EchoProtocol>().unwrap().0, "chat");
        let mut p = parts("/x", Some("bearer.abc"));
        assert!(apply(&auth, &mut p, true).is_err());
        let mut p = parts("/x", Some("chat"));
        assert!(!apply(&auth, &mut p, true).unwrap());
        // Not an upgrade: not looked at.
        let mut p = parts("/x", Some("bearer.abc, chat"));
        assert!(!apply(&auth, &mut p, false).unwrap());
    }
}
