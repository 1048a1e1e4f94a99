//! A `redis-server` of one's own, for the tests and the scaling benchmark:
//! on loopback, without persistence, killed when dropped.
//!
//! It cannot be told port 0, so it gets a port found free; in a parallel
//! run another test may take that port first, and its server then either
//! exits at once or, worse, another test's server answers there. So a
//! server counts as up only once the one at its address reports this
//! process's pid, and one that exits at start is started again on another
//! port.

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

/// Where Debian's `redis-server` package installs it.
pub const REDIS_SERVER: &str = "/usr/bin/redis-server";

/// A server on a free loopback port, and that address; up when returned.
/// Panics after five servers in a row exited at start.
pub async fn start_redis_server_on_free_port(timeout: Duration) -> (SocketAddr, Child) {
    for _ in 0..5 {
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|probe| probe.local_addr())
            .expect("a free loopback port");
        if let Some(child) = start_redis_server(addr, timeout).await {
            return (addr, child);
        }
    }
    panic!("{REDIS_SERVER} exited at start on five free ports in a row")
}

/// A server on `addr`, up when returned; `None` when it exits first (the
/// port is taken). Panics if it cannot be started, or is not up within
/// `timeout`.
pub async fn start_redis_server(addr: SocketAddr, timeout: Duration) -> Option<Child> {
    let mut child = Command::new(REDIS_SERVER)
        .args(["--bind", "127.0.0.1", "--port", &addr.port().to_string()])
        .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {REDIS_SERVER}: {e}"));
    let pid = child.id();
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if pid.is_some() && server_pid(addr).await == pid {
            return Some(child);
        }
        if child.try_wait().expect("redis-server's status").is_some() {
            return None;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out: {REDIS_SERVER} to answer on {addr}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The `process_id` the Redis server at `addr` reports in `INFO server`;
/// `None` while nothing answers there, or when what answers is not Redis.
async fn server_pid(addr: SocketAddr) -> Option<u32> {
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
