//! A lean HTTP/1.1 client for the closed-loop unary load: each request's
//! bytes are built once and written whole, and each answer is parsed just
//! enough to know its status, its body and where it ends (`Content-Length`
//! or chunked).
//!
//! Why not hyper's client: on two cores the load generator shares the
//! machine with the gateway and the backend, so its cost per request caps
//! what the fastest contenders can show. hyper's connection-level client
//! runs two tasks per connection with a channel between them and builds a
//! `Request` and a `Response` per call; this one is one task, one write and
//! usually one read per request.

use std::net::SocketAddr;

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Answers bigger than this are an error (the echo's are ~10 KiB at most).
const MAX_ANSWER: usize = 1 << 20;

/// `POST path` with a JSON `body`, as bytes on the wire: the headers
/// hyper's client sends for the same request (host, content type and
/// length), so that every server parses the same request as before.
pub fn post_json(path: &str, body: &[u8]) -> Bytes {
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nhost: bench\r\ncontent-type: application/json\r\n\
         content-length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    request.into()
}

/// `GET path` asking for `accept`, as bytes on the wire.
pub fn get(path: &str, accept: &str) -> Bytes {
    format!("GET {path} HTTP/1.1\r\nhost: bench\r\naccept: {accept}\r\n\r\n")
        .into_bytes()
        .into()
}

/// One keep-alive connection (TCP_NODELAY).
pub struct RawConnection {
    stream: TcpStream,
    /// Bytes read and not yet consumed: the server never sends ahead of a
    /// request, but one read may end mid-answer.
    buffer: BytesMut,
}

impl RawConnection {
    pub async fn connect(addr: SocketAddr) -> Result<RawConnection, String> {
        let stream = TcpStream::connect(addr)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        Ok(RawConnection {
            stream,
            buffer: BytesMut::with_capacity(16 * 1024),
        })
    }

    /// [`RawConnection::connect`] for a load task: a failure is counted in
    /// `stats` (the task then has nothing to measure).
    pub async fn open(addr: SocketAddr, stats: &mut super::ConnStats) -> Option<RawConnection> {
        RawConnection::connect(addr)
            .await
            .map_err(|e| stats.error(e))
            .ok()
    }

    /// Sends `request` (from [`post_json`]) and reads its whole answer:
    /// the status and the body.
    pub async fn exchange(&mut self, request: &[u8]) -> Result<(u16, Bytes), String> {
        self.stream
            .write_all(request)
            .await
            .map_err(|e| format!("write: {e}"))?;
        let head = loop {
            if let Some(head) = parse_head(&self.buffer)? {
                break head;
            }
            self.fill().await?;
        };
        self.buffer.advance(head.length);
        let body = match head.framing {
            Framing::Length(length) => {
                while self.buffer.len() < length {
                    self.fill().await?;
                }
                self.buffer.split_to(length).freeze()
            }
            Framing::Chunked => self.read_chunked().await?,
        };
        Ok((head.status, body))
    }

    /// Reads more of the answer.
    async fn fill(&mut self) -> Result<(), String> {
        if self.buffer.len() > MAX_ANSWER {
            return Err("answer too large".into());
        }
        if self.buffer.capacity() - self.buffer.len() < 4096 {
            self.buffer.reserve(16 * 1024);
        }
        match self.stream.read_buf(&mut self.buffer).await {
            Ok(0) => Err("the server closed the connection".into()),
            Ok(_) => Ok(()),
            Err(e) => Err(format!("read: {e}")),
        }
    }

    /// A chunked body: `SIZE\r\nDATA\r\n` … `0\r\n\r\n` (no trailers).
    async fn read_chunked(&mut self) -> Result<Bytes, String> {
        let mut body = BytesMut::new();
        loop {
            let line_end = loop {
                if let Some(at) = find_crlf(&self.buffer) {
                    break at;
                }
                self.fill().await?;
            };
            let size = std::str::from_utf8(&self.buffer[..line_end])
                .ok()
                .and_then(|line| usize::from_str_radix(line.split(';').next()?.trim(), 16).ok())
                .ok_or("bad chunk size")?;
            while self.buffer.len() < line_end + 2 + size + 2 {
                self.fill().await?;
            }
            self.buffer.advance(line_end + 2);
            body.extend_from_slice(&self.buffer[..size]);
            if &self.buffer[size..size + 2] != b"\r\n" {
                return Err("chunk not followed by CRLF".into());
            }
            self.buffer.advance(size + 2);
            if size == 0 {
                return Ok(body.freeze());
            }
        }
    }
}

/// How the body of an answer ends.
#[derive(Debug, PartialEq)]
enum Framing {
    Length(usize),
    Chunked,
}

/// An answer's status line and headers, `length` bytes long.
#[derive(Debug, PartialEq)]
struct Head {
    status: u16,
    framing: Framing,
    length: usize,
}

/// The head at the start of `bytes`, once it is all there.
fn parse_head(bytes: &[u8]) -> Result<Option<Head>, String> {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut response = httparse::Response::new(&mut headers);
    let length = match response.parse(bytes) {
        Ok(httparse::Status::Complete(length)) => length,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(format!("bad answer head: {e}")),
    };
    let mut framing = None;
    for header in response.headers.iter() {
        if header.name.eq_ignore_ascii_case("content-length") {
            let length = std::str::from_utf8(header.value)
                .ok()
                .and_then(|v| v.trim().parse().ok())
                .ok_or("bad content-length")?;
            framing = Some(Framing::Length(length));
        } else if header.name.eq_ignore_ascii_case("transfer-encoding")
            && header.value.eq_ignore_ascii_case(b"chunked")
        {
            framing = Some(Framing::Chunked);
        }
    }
    Ok(Some(Head {
        status: response.code.ok_or("no status")?,
        framing: framing.ok_or("an answer without content-length or chunked")?,
        length,
    }))
}

fn find_crlf(bytes: &[u8]) -> Option<usize> {
    bytes.windows(2).position(|pair| pair == b"\r\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    /// A loopback server that answers each request with the next of
    /// `answers`, written in pieces of `step` bytes.
    async fn server(answers: Vec<&'static [u8]>, step: usize) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            socket.set_nodelay(true).unwrap();
            let mut request = BytesMut::new();
            for answer in answers {
                // One whole request first: its head, then its body.
                loop {
                    let text = String::from_utf8_lossy(&request).into_owned();
                    if let Some((head, body)) = text.split_once("\r\n\r\n") {
                        let length: usize = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length: "))
                            .unwrap()
                            .parse()
                            .unwrap();
                        if body.len() >= length {
                            request.advance(head.len() + 4 + length);
                            break;
                        }
                    }
                    socket.read_buf(&mut request).await.unwrap();
                }
                for piece in answer.chunks(step) {
                    socket.write_all(piece).await.unwrap();
                    socket.flush().await.unwrap();
                    tokio::task::yield_now().await;
                }
            }
        });
        addr
    }

    #[tokio::test]
    async fn reads_length_and_chunked_answers_in_any_pieces() {
        let answers: Vec<&'static [u8]> = vec![
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nContent-Length: 7\r\n\r\n{\"a\":1}",
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\n{\"b\r\n4;x=y\r\n\":2}\r\n0\r\n\r\n",
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 2\r\n\r\n{}",
        ];
        for step in [1, 5, 1000] {
            let addr = server(answers.clone(), step).await;
            let mut connection = RawConnection::connect(addr).await.unwrap();
            let request = post_json("/v1/echo", b"{\"x\":1}");
            assert_eq!(
                connection.exchange(&request).await.unwrap(),
                (200, Bytes::from_static(b"{\"a\":1}"))
            );
            assert_eq!(
                connection.exchange(&request).await.unwrap(),
                (200, Bytes::from_static(b"{\"b\":2}"))
            );
            assert_eq!(
                connection.exchange(&request).await.unwrap(),
                (400, Bytes::from_static(b"{}"))
            );
            // The server is gone: an error (EOF or a reset), not a hang.
            assert!(connection.exchange(&request).await.is_err());
        }
    }

    #[test]
    fn request_bytes_are_what_hyper_would_send() {
        assert_eq!(
            &post_json("/v1/echo", b"{}")[..],
            b"POST /v1/echo HTTP/1.1\r\nhost: bench\r\ncontent-type: application/json\r\n\
              content-length: 2\r\n\r\n{}"
        );
    }

    #[test]
    fn heads_without_framing_are_refused() {
        assert_eq!(
            parse_head(b"HTTP/1.1 200 OK\r\n\r\n"),
            Err("an answer without content-length or chunked".to_string())
        );
        assert_eq!(parse_head(b"HTTP/1.1 200 OK\r\ncontent-le"), Ok(None));
    }
}
