//! The bench's clients on raw TCP (loopback, HTTP/1.1): small and cheap,
//! so that 10 000 of them leave the CPU to the instances.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::watch;

/// One request on a fresh connection (`Connection: close`); status and body.
async fn request(addr: SocketAddr, method: &str, path: &str, body: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(addr).await.ok()?;
    stream.set_nodelay(true).ok()?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await.ok()?;
    let status = response.get(9..12)?.parse().ok()?;
    let (_, body) = response.split_once("\r\n\r\n")?;
    Some((status, body.to_string()))
}

/// `GET path` answers 200.
pub async fn get_ok(addr: SocketAddr, path: &str) -> Option<()> {
    let (status, _) = request(addr, "GET", path, "").await?;
    (status == 200).then_some(())
}

/// The listeners of room number `room` on the instance at `addr`.
pub async fn listeners(addr: SocketAddr, room: usize) -> Option<usize> {
    let (status, body) = request(addr, "GET", &format!("/v1/rooms/r{room}"), "").await?;
    if status != 200 {
        return None;
    }
    let count = body.split("\"listenerCount\":").nth(1)?;
    count
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

/// Posts `rate` messages per second, to the rooms and instances in turn,
/// until `stopped`; each message's text is the time it is sent, in µs since
/// `clock`. Returns how many were posted.
pub async fn post_steadily(
    instances: &[SocketAddr],
    rooms: usize,
    rate: u64,
    clock: Instant,
    mut stopped: watch::Receiver<bool>,
) -> usize {
    let posted = Arc::new(AtomicUsize::new(0));
    let mut ticks = tokio::time::interval(Duration::from_micros(1_000_000 / rate));
    let mut n = 0;
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = stopped.changed() => break,
        }
        let (addr, room) = (instances[n % instances.len()], n % rooms);
        n += 1;
        let posted = posted.clone();
        // Its own task: a slow answer must not delay the next post.
        tokio::spawn(async move {
            let sent = clock.elapsed().as_micros();
            let body = format!(r#"{{"user":"bench","text":"{sent}"}}"#);
            if let Some((200, _)) =
                request(addr, "POST", &format!("/v1/rooms/r{room}/messages"), &body).await
            {
                posted.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
    posted.load(Ordering::Relaxed)
}

/// One SSE subscriber of room number `room`, until `stopped`. Returns the
/// latencies (µs) of the messages sent within `window` (µs since `clock`,
/// set by the orchestrator), or `None` if the stream could not be opened.
pub async fn subscribe(
    addr: SocketAddr,
    room: usize,
    clock: Instant,
    mut stopped: watch::Receiver<bool>,
    window: Arc<Mutex<(u64, u64)>>,
) -> Option<Vec<u64>> {
    let mut stream = TcpStream::connect(addr).await.ok()?;
    stream.set_nodelay(true).ok()?;
    let head = format!(
        "GET /v1/rooms/r{room}/events HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.ok()?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).await.ok()?;
    if !line.starts_with("HTTP/1.1 200") {
        return None;
    }
    // (sent, received), µs since `clock`.
    let mut seen = Vec::new();
    loop {
        line.clear();
        tokio::select! {
            read = reader.read_line(&mut line) => match read {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            },
            _ = stopped.changed() => break,
        }
        // Chunk sizes come on lines of their own; each event is one chunk.
        let Some(data) = line.strip_prefix("data: ") else {
            continue;
        };
        let received = clock.elapsed().as_micros() as u64;
        let sent = data
            .split("\"text\":\"")
            .nth(1)
            .and_then(|t| t.split('"').next())
            .and_then(|t| t.parse::<u64>().ok());
        if let Some(sent) = sent {
            seen.push((sent, received));
        }
    }
    let (start, end) = *window.lock().unwrap();
    Some(
        seen.into_iter()
            .filter(|&(sent, _)| sent >= start && sent < end)
            .map(|(sent, received)| received.saturating_sub(sent))
            .collect(),
    )
}
