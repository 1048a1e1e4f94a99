//! Which process serves Redis at an address. For the tests and the scaling
//! benchmark, which start their own `redis-server` on a port found free:
//! in a parallel run another test's server may take that port first, and
//! answer in place of theirs.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The `process_id` the Redis server at `addr` reports in `INFO server`;
/// `None` while nothing answers there, or when what answers is not Redis.
pub async fn redis_server_pid(addr: SocketAddr) -> Option<u32> {
    let mut socket = TcpStream::connect(addr).await.ok()?;
    socket.write_all(b"INFO server\r\n").await.ok()?;
    let mut reply = Vec::new();
    let mut chunk = [0; 4096];
    loop {
        let text = String::from_utf8_lossy(&reply);
        if let Some(rest) = text.split("process_id:").nth(1)
            && let Some((pid, _)) = rest.split_once("\r\n")
        {
            return pid.parse().ok();
        }
        // The section is a few hundred bytes: more is not Redis.
        if reply.len() > 64 * 1024 {
            return None;
        }
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        reply.extend_from_slice(&chunk[..n]);
    }
}
