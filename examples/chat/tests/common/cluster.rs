//! Several instances of the example on one real Redis, as separate
//! processes: `chat-example` (gateway and service in one process), or
//! `grpc-server` behind `remote-gateway`. Each test starts its own
//! redis-server on a free loopback port, without persistence, and stops it
//! after. Needs `/usr/bin/redis-server` (`apt-get install -y redis-server`);
//! `SKIP_REDIS_TESTS=1` skips the tests that need it.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use chat_example::{REDIS_SERVER, start_redis_server, start_redis_server_on_free_port};
use serde_json::Value;
use tokio::process::{Child, Command};

use super::process::{self, ANY_PORT, Started};

pub const TIMEOUT: Duration = Duration::from_secs(30);

/// Whether to run: false when skipped by `SKIP_REDIS_TESTS=1`; fails when
/// redis-server is missing, so that a machine without it does not pass
/// silently.
pub fn redis_available() -> bool {
    if std::env::var("SKIP_REDIS_TESTS").is_ok_and(|v| v == "1") {
        eprintln!("Redis test skipped: SKIP_REDIS_TESTS=1");
        return false;
    }
    assert!(
        Path::new(REDIS_SERVER).exists(),
        "{REDIS_SERVER} is missing: install it (`apt-get install -y redis-server`), \
         or set SKIP_REDIS_TESTS=1 to skip the Redis tests"
    );
    true
}

/// Retries `attempt` every 50 ms until it returns `Some`, for at most
/// [`TIMEOUT`].
pub async fn eventually<T, F: Future<Output = Option<T>>>(
    what: &str,
    mut attempt: impl FnMut() -> F,
) -> T {
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    loop {
        if let Some(value) = attempt().await {
            return value;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A redis-server of this test: loopback, no persistence, killed on drop.
pub struct Redis {
    pub addr: SocketAddr,
    child: Child,
}

impl Redis {
    pub async fn start() -> Redis {
        let (addr, child) = start_redis_server_on_free_port(TIMEOUT).await;
        Redis { addr, child }
    }

    /// A redis-server on `addr` (a restart on the same port).
    pub async fn start_on(addr: SocketAddr) -> Redis {
        let child = start_redis_server(addr, TIMEOUT)
            .await
            .unwrap_or_else(|| panic!("{REDIS_SERVER} exited at start: is {addr} taken?"));
        Redis { addr, child }
    }

    pub fn url(&self) -> String {
        format!("redis://{}/", self.addr)
    }

    pub async fn stop(mut self) {
        self.child.kill().await.unwrap();
    }
}

/// One instance of the example: its HTTP address and its processes.
pub struct Instance {
    pub http: SocketAddr,
    processes: Vec<Child>,
    pub client: reqwest::Client,
}

/// `binary` on Redis, on the given or kernel-chosen addresses.
async fn spawn(binary: &str, redis: &Redis, grpc: &str, http: Option<&str>) -> Started {
    let mut command = Command::new(binary);
    command
        .env("CHAT_REDIS_URL", redis.url())
        .env("CHAT_GRPC_ADDR", grpc);
    if let Some(http) = http {
        command.env("CHAT_HTTP_ADDR", http);
    }
    process::start(command, http.is_some()).await
}

impl Instance {
    /// `chat-example`: gateway and service in one process.
    pub async fn in_process(redis: &Redis) -> Instance {
        let example = spawn(
            env!("CARGO_BIN_EXE_chat-example"),
            redis,
            ANY_PORT,
            Some(ANY_PORT),
        )
        .await;
        Instance::ready(example.http.unwrap(), vec![example.child]).await
    }

    /// `grpc-server` and `remote-gateway` in front of it.
    pub async fn remote(redis: &Redis) -> Instance {
        let server = spawn(env!("CARGO_BIN_EXE_grpc-server"), redis, ANY_PORT, None).await;
        let grpc = server.grpc.unwrap().to_string();
        let gateway = spawn(
            env!("CARGO_BIN_EXE_remote-gateway"),
            redis,
            &grpc,
            Some(ANY_PORT),
        )
        .await;
        Instance::ready(gateway.http.unwrap(), vec![server.child, gateway.child]).await
    }

    /// Waits until the instance answers through to Redis.
    async fn ready(http: SocketAddr, processes: Vec<Child>) -> Instance {
        let instance = Instance {
            http,
            processes,
            client: reqwest::Client::new(),
        };
        let url = instance.url("/v1/rooms/ready");
        eventually("the instance to answer", || async {
            let response = instance.client.get(&url).send().await.ok()?;
            (response.status() == 200).then_some(())
        })
        .await;
        instance
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.http)
    }

    pub fn ws_url(&self, path: &str) -> String {
        format!("ws://{}{path}", self.http)
    }

    /// Posts `text` to `room`; returns the message as the reply's JSON (the
    /// same bytes every stream carries). Retries while Redis is unavailable
    /// (503), as a client would after a Redis restart.
    pub async fn post(&self, room: &str, text: &str) -> String {
        post(&self.client, &self.url(""), room, text).await
    }

    /// Waits until `room` has `n` live listeners on this instance: from then
    /// on, a posted message reaches the streams just opened.
    pub async fn wait_for_listeners(&self, room: &str, n: i64) {
        let url = self.url(&format!("/v1/rooms/{room}"));
        eventually(&format!("{n} listeners in {room}"), || async {
            let response = self.client.get(&url).send().await.ok()?;
            let info: Value = serde_json::from_str(&response.text().await.ok()?).ok()?;
            (info["listenerCount"].as_i64() == Some(n)).then_some(())
        })
        .await;
    }

    /// Kills every process of the instance with SIGKILL: no goodbye to
    /// anybody.
    pub async fn kill(&mut self) {
        for process in &mut self.processes {
            process.kill().await.unwrap();
        }
    }
}

/// Posts `text` to `room` through the gateway at `base`; see
/// [`Instance::post`].
pub async fn post(client: &reqwest::Client, base: &str, room: &str, text: &str) -> String {
    let url = format!("{base}/v1/rooms/{room}/messages");
    let body = format!(r#"{{"user":"tester","text":"{text}"}}"#);
    eventually("a post to succeed", || async {
        let response = client.post(&url).body(body.clone()).send().await.ok()?;
        let status = response.status();
        let reply = response.text().await.ok()?;
        assert!(status == 200 || status == 503, "{status}: {reply}");
        (status == 200).then_some(reply)
    })
    .await
}

/// The id of a message, from its JSON.
pub fn id_of(json: &str) -> String {
    let message: Value = serde_json::from_str(json).unwrap();
    message["id"].as_str().unwrap().to_string()
}
