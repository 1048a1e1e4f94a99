//! Reading request bodies with a size limit.

use bytes::{Bytes, BytesMut};
use http_body::Body as _;
use http_body_util::BodyExt as _;

use crate::error::GatewayError;

/// Largest buffer reserved before the data has arrived.
const MAX_RESERVE: usize = 1 << 20;

/// A body read error: [`GatewayError::BodyStalled`] for a body that stopped
/// sending (see [`crate::serve::ServeConfig::body_timeout`]), else
/// [`GatewayError::BodyRead`].
pub(crate) fn read_error(e: axum::Error) -> GatewayError {
    match e.into_inner().downcast::<crate::serve::BodyTimeout>() {
        Ok(timeout) => GatewayError::BodyStalled { after: timeout.0 },
        Err(e) => GatewayError::BodyRead(e.to_string()),
    }
}

/// Reads the whole body; more than `limit` bytes → [`GatewayError::BodyTooLarge`], a
/// transport error → [`GatewayError::BodyRead`]. Trailers are ignored.
///
/// Stops reading as soon as the limit is exceeded, so an oversized body never ends up in
/// memory. A body whose size hint already exceeds the limit (e.g. a full body) fails
/// without reading.
pub(crate) async fn read_body(body: axum::body::Body, limit: usize) -> Result<Bytes, GatewayError> {
    let too_large = || GatewayError::BodyTooLarge { limit };
    let hint = body.size_hint();
    if usize::try_from(hint.lower()).map_or(true, |lower| lower > limit) {
        return Err(too_large());
    }

    let mut body = body;
    // The common case is one data frame: keep it without copying.
    let mut first: Option<Bytes> = None;
    let mut buf: Option<BytesMut> = None;
    let mut total: usize = 0;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(read_error)?;
        let Ok(data) = frame.into_data() else {
            continue; // trailers
        };
        if data.is_empty() {
            continue;
        }
        total = total.checked_add(data.len()).ok_or_else(too_large)?;
        if total > limit {
            return Err(too_large());
        }
        match (&mut buf, first.take()) {
            (Some(buf), _) => buf.extend_from_slice(&data),
            (None, None) => first = Some(data),
            (None, Some(prev)) => {
                // Reserve what the sender announced to avoid regrowth, but never more than
                // the limit or 1 MiB up front: the announcement is the client's word.
                let announced = usize::try_from(hint.upper().unwrap_or(0)).unwrap_or(limit);
                let mut b =
                    BytesMut::with_capacity(announced.min(limit).min(MAX_RESERVE).max(total));
                b.extend_from_slice(&prev);
                b.extend_from_slice(&data);
                buf = Some(b);
            }
        }
        // A body that says it has ended (hyper's, once its announced
        // length has arrived) would only answer `None`: not asked again.
        if body.is_end_stream() {
            break;
        }
    }
    Ok(match (buf, first) {
        (Some(buf), _) => buf.freeze(),
        (None, Some(first)) => first,
        (None, None) => Bytes::new(),
    })
}

/// Like [`read_body`], but first checks the request's `Content-Length`: a declared length
/// above the limit fails before anything is read. A missing or malformed `Content-Length` is
/// not an error here (hyper already rejects malformed ones); the limit still applies while
/// reading.
pub(crate) async fn read_body_with_headers(
    headers: &http::HeaderMap,
    body: axum::body::Body,
    limit: usize,
) -> Result<Bytes, GatewayError> {
    declared_within(headers, limit)?;
    read_body(body, limit).await
}

/// The check [`read_body_with_headers`] makes before reading: a declared
/// `Content-Length` above `limit` is [`GatewayError::BodyTooLarge`].
pub(crate) fn declared_within(headers: &http::HeaderMap, limit: usize) -> Result<(), GatewayError> {
    let declared = headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if let Some(len) = declared
        && usize::try_from(len).map_or(true, |len| len > limit)
    {
        return Err(GatewayError::BodyTooLarge { limit });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use futures_util::stream;
    use std::convert::Infallible;

    fn chunks(parts: &[&'static [u8]]) -> Body {
        let items: Vec<Result<Bytes, Infallible>> =
            parts.iter().map(|p| Ok(Bytes::from_static(p))).collect();
        Body::from_stream(stream::iter(items))
    }

    fn assert_too_large(r: Result<Bytes, GatewayError>, want_limit: usize) {
        match r {
            Err(GatewayError::BodyTooLarge { limit }) => assert_eq!(limit, want_limit),
            other => panic!("expected BodyTooLarge, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn full_bodies() {
        assert_eq!(read_body(Body::from("hello"), 10).await.unwrap(), "hello");
        assert_eq!(read_body(Body::from("hello"), 5).await.unwrap(), "hello");
        assert_too_large(read_body(Body::from("hello"), 4).await, 4);
        assert_eq!(read_body(Body::empty(), 0).await.unwrap(), "");
        assert_eq!(read_body(Body::from(""), 0).await.unwrap(), "");
        assert_too_large(read_body(Body::from("x"), 0).await, 0);
    }

    #[tokio::test]
    async fn streamed_bodies() {
        let parts: &[&'static [u8]] = &[b"ab", b"", b"cd", b"e"];
        assert_eq!(read_body(chunks(parts), 100).await.unwrap(), "abcde");
        assert_eq!(read_body(chunks(parts), 5).await.unwrap(), "abcde");
        assert_too_large(read_body(chunks(parts), 4).await, 4);
        assert_eq!(read_body(chunks(&[b"one"]), 3).await.unwrap(), "one");
        assert_eq!(read_body(chunks(&[]), 3).await.unwrap(), "");
    }

    #[tokio::test]
    async fn stops_reading_after_the_limit() {
        // An endless stream: reading must stop once the limit is passed.
        let endless =
            stream::repeat_with(|| Ok::<_, Infallible>(Bytes::from_static(b"0123456789")));
        assert_too_large(read_body(Body::from_stream(endless), 1000).await, 1000);
    }

    #[tokio::test]
    async fn transport_error() {
        let items: Vec<Result<Bytes, std::io::Error>> = vec![
            Ok(Bytes::from_static(b"ab")),
            Err(std::io::Error::other("connection reset")),
        ];
        match read_body(Body::from_stream(stream::iter(items)), 100).await {
            Err(GatewayError::BodyRead(msg)) => assert!(msg.contains("connection reset"), "{msg}"),
            other => panic!("expected BodyRead, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn content_length_fails_fast() {
        let mut headers = http::HeaderMap::new();
        headers.insert(http::header::CONTENT_LENGTH, "1000000".parse().unwrap());
        // The body is an endless stream that would never finish if it were read.
        let endless = stream::repeat_with(|| Ok::<_, Infallible>(Bytes::from_static(b"x")));
        assert_too_large(
            read_body_with_headers(&headers, Body::from_stream(endless), 10).await,
            10,
        );

        headers.insert(http::header::CONTENT_LENGTH, "5".parse().unwrap());
        assert_eq!(
            read_body_with_headers(&headers, chunks(&[b"ab", b"cde"]), 5)
                .await
                .unwrap(),
            "abcde"
        );
        headers.insert(http::header::CONTENT_LENGTH, "6".parse().unwrap());
        assert_too_large(
            read_body_with_headers(&headers, chunks(&[b"ab", b"cde"]), 5).await,
            5,
        );
        // A lying Content-Length does not bypass the limit.
        headers.insert(http::header::CONTENT_LENGTH, "1".parse().unwrap());
        assert_too_large(
            read_body_with_headers(&headers, chunks(&[b"ab", b"cdef"]), 5).await,
            5,
        );
        // Malformed and huge values.
        headers.insert(http::header::CONTENT_LENGTH, "abc".parse().unwrap());
        assert_eq!(
            read_body_with_headers(&headers, Body::from("ok"), 5)
                .await
                .unwrap(),
            "ok"
        );
        headers.insert(
            http::header::CONTENT_LENGTH,
            "99999999999999999999999".parse().unwrap(),
        );
        assert_eq!(
            read_body_with_headers(&headers, Body::from("ok"), 5)
                .await
                .unwrap(),
            "ok"
        );
        headers.insert(
            http::header::CONTENT_LENGTH,
            "18446744073709551615".parse().unwrap(),
        );
        assert_too_large(
            read_body_with_headers(&headers, Body::from("ok"), 5).await,
            5,
        );
    }
}
