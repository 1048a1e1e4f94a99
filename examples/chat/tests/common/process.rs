//! The example's binaries as separate processes, on ports the kernel picks.
//!
//! A test cannot pick a free port for a child and hand it over: between the
//! test's probe and the child's `bind` another test of a parallel
//! `cargo test --workspace` may take it, and the child exits. So the child
//! binds port 0 and the test reads the addresses it prints on stdout
//! (`gRPC:     http://ADDR`, `page:     http://ADDR/`).

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Where a port-0 address asks the kernel to choose.
pub const ANY_PORT: &str = "127.0.0.1:0";

/// How long a binary may take to print its addresses.
const STARTUP: Duration = Duration::from_secs(30);

/// A started binary and the addresses it listens on.
pub struct Started {
    pub child: Child,
    pub grpc: Option<SocketAddr>,
    pub http: Option<SocketAddr>,
}

/// Spawns `command` (which must not have set stdout) and waits until it
/// has printed its gRPC address, and its page address unless it serves
/// gRPC only (`serves_http`). Fails with its exit status when it exits
/// first. Stdout is read to its end in the background afterwards, so that
/// the child never blocks on a full pipe.
pub async fn start(mut command: Command, serves_http: bool) -> Started {
    let mut child = command
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawning the example binary");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut grpc, mut http) = (None, None);
    let read = tokio::time::timeout(STARTUP, async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(url) = line.strip_prefix("gRPC:") {
                grpc = Some(address(url));
            } else if let Some(url) = line.strip_prefix("page:") {
                http = Some(address(url));
            }
            if http.is_some() || (!serves_http && grpc.is_some()) {
                return true;
            }
        }
        false
    })
    .await
    .expect("the example printed no address in time");
    if !read {
        let status = child.wait().await.unwrap();
        panic!("the example exited before it listened: {status}");
    }
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Started { child, grpc, http }
}

/// `  http://127.0.0.1:PORT/` → the socket address.
fn address(url: &str) -> SocketAddr {
    let host = url
        .trim()
        .trim_start_matches("http://")
        .trim_end_matches('/');
    host.parse()
        .unwrap_or_else(|e| panic!("not an address: {url:?}: {e}"))
}
