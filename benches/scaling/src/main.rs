//! `scaling-bench`: the chat example scaled out. SSE subscribers split over
//! two instances (separate processes) on one `redis-server`, spread over
//! rooms; messages posted at a steady rate through both instances in turn.
//! Measures the delivery latency post → client (p50, p99, max), and the
//! CPU and memory of each instance and of Redis. The baseline, in the same
//! run with the same load: one instance with its rooms in memory.
//!
//! ```sh
//! cargo run --release -p scaling-bench               # 10 000 subscribers, 100 rooms, 100 messages/s, 10 s
//! cargo run --release -p scaling-bench -- --quick    # 200 subscribers, 10 rooms, 20 messages/s, 2 s
//! ```
//!
//! Options: `--subscribers N`, `--rooms N`, `--rate N` (messages/s in
//! all), `--seconds N` (measured window). Needs `/usr/bin/redis-server`.
//!
//! One binary, two roles: without arguments (or with options) the
//! orchestrator, which starts Redis and the instances, opens the
//! subscribers, posts and measures; `instance` is one chat example (the
//! gateway and the Redis rooms in one process, as `chat-example` with
//! `CHAT_REDIS_URL`), with the connection cap raised above the subscribers.

mod http;
mod proc;

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chat_example::pb::chat::v1::chat_service_server::ChatServiceServer;
use chat_example::{REDIS_SERVER, Rooms, app, gateway_settings, start_redis_server_on_free_port};
use gateway_runtime::serve::ServeConfig;
use tokio::sync::watch;

/// Instances of the example.
const INSTANCES: usize = 2;

struct Options {
    subscribers: usize,
    rooms: usize,
    rate: u64,
    window: Duration,
    warmup: Duration,
}

impl Options {
    fn parse(args: &[String]) -> Result<Options, String> {
        let mut options = Options {
            subscribers: 10_000,
            rooms: 100,
            rate: 100,
            window: Duration::from_secs(10),
            warmup: Duration::from_secs(2),
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut number = || -> Result<u64, String> {
                args.next()
                    .and_then(|v| v.parse().ok())
                    .ok_or_else(|| format!("{arg} needs a number"))
            };
            match arg.as_str() {
                "--quick" => {
                    options.subscribers = 200;
                    options.rooms = 10;
                    options.rate = 20;
                    options.window = Duration::from_secs(2);
                    options.warmup = Duration::from_secs(1);
                }
                "--subscribers" => options.subscribers = number()? as usize,
                "--rooms" => options.rooms = number()?.max(1) as usize,
                "--rate" => options.rate = number()?.max(1),
                "--seconds" => options.window = Duration::from_secs(number()?.max(1)),
                other => return Err(format!("unknown option {other}")),
            }
        }
        Ok(options)
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().is_some_and(|a| a == "instance") {
        return instance_main();
    }
    let options = match Options::parse(&args) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let fd_limit = rlimit::increase_nofile_limit(u64::MAX).unwrap_or(1024);
    println!(
        "fd limit {fd_limit}, {} cores",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    for setup in [Setup::Memory, Setup::Redis] {
        runtime.block_on(orchestrate(setup, &options, fd_limit));
    }
}

/// What serves the subscribers.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Setup {
    /// The baseline: one instance, rooms in memory.
    Memory,
    /// Two instances on one Redis.
    Redis,
}

/// One chat example instance: Redis rooms from `CHAT_REDIS_URL`, HTTP on
/// `CHAT_HTTP_ADDR`, printed as `listening on ADDR` once bound.
fn instance_main() {
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let rooms = Rooms::from_env().await.expect("connecting to Redis");
        let http = chat_example::addr_from_env("CHAT_HTTP_ADDR", "127.0.0.1:8080").unwrap();
        let listener = tokio::net::TcpListener::bind(http).await.unwrap();
        // The orchestrator passes port 0 and reads the port from here.
        println!("listening on {}", listener.local_addr().unwrap());
        let app = app(ChatServiceServer::new(rooms), &gateway_settings());
        let config = ServeConfig::default().max_connections(100_000);
        gateway_runtime::serve::serve(listener, app, config)
            .await
            .unwrap();
    });
}

/// The address an instance prints on its stdout once it listens.
async fn listening_address(stdout: std::process::ChildStdout) -> SocketAddr {
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).unwrap();
        line
    })
    .await
    .unwrap();
    line.trim()
        .strip_prefix("listening on ")
        .and_then(|addr| addr.parse().ok())
        .unwrap_or_else(|| panic!("an instance did not start: {line:?}"))
}

/// Child processes, killed when dropped.
struct Children(Vec<Child>);

impl Drop for Children {
    fn drop(&mut self) {
        for child in self.0.iter_mut().rev() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

async fn orchestrate(setup: Setup, options: &Options, fd_limit: u64) {
    // Each subscriber needs a socket here and one in an instance.
    let subscribers = options
        .subscribers
        .min(usize::try_from(fd_limit.saturating_sub(256)).unwrap_or(usize::MAX));
    assert!(
        std::path::Path::new(REDIS_SERVER).exists(),
        "{REDIS_SERVER} is missing: apt-get install -y redis-server"
    );
    // Declared before the instances: dropped (killed) after them, so that
    // they do not log Redis going away.
    let mut redis = None;
    let mut children = Children(Vec::new());
    let mut names = Vec::new();
    let mut instance = Command::new(std::env::current_exe().unwrap());
    instance.arg("instance").env_remove("CHAT_REDIS_URL");
    let count = match setup {
        Setup::Memory => 1,
        Setup::Redis => {
            let (addr, child) = start_redis_server_on_free_port(Duration::from_secs(60)).await;
            redis = Some(child);
            names.push("redis-server".to_string());
            instance.env("CHAT_REDIS_URL", format!("redis://{addr}/"));
            INSTANCES
        }
    };
    let mut instances = Vec::new();
    for i in 0..count {
        let mut child = instance
            .env("CHAT_HTTP_ADDR", "127.0.0.1:0")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        children.0.push(child);
        names.push(format!("instance {}", ["A", "B"][i]));
        instances.push(listening_address(stdout).await);
    }
    for &addr in &instances {
        wait_for(|| async move { http::get_ok(addr, "/v1/rooms/ready").await }).await;
    }
    // In the order of `names`: Redis, then the instances.
    let pids: Vec<String> = (redis
        .as_ref()
        .and_then(tokio::process::Child::id)
        .into_iter())
    .chain(children.0.iter().map(|c| c.id()))
    .map(|pid| pid.to_string())
    .collect();
    let rss_fresh: Vec<Option<u64>> = pids.iter().map(|p| proc::rss_kib(p)).collect();

    // Subscribers: number i in room i % rooms, on instance i % 2.
    let clock = Instant::now();
    let (stop, stopped) = watch::channel(false);
    let window = Arc::new(std::sync::Mutex::new((u64::MAX, u64::MAX)));
    let mut tasks = Vec::new();
    for i in 0..subscribers {
        let addr = instances[i % instances.len()];
        let room = i % options.rooms;
        let (stopped, window) = (stopped.clone(), window.clone());
        tasks.push(tokio::spawn(async move {
            http::subscribe(addr, room, clock, stopped, window).await
        }));
        if i % 500 == 499 {
            // Not all at once: the listen backlogs are finite.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    // Every subscriber listening: the rooms' listener counts add up.
    wait_for(|| {
        let instances = instances.clone();
        let rooms = options.rooms;
        async move {
            let mut listening = 0;
            for room in 0..rooms {
                for &addr in &instances {
                    listening += http::listeners(addr, room).await?;
                }
            }
            (listening == subscribers).then_some(())
        }
    })
    .await;
    let rss_open: Vec<Option<u64>> = pids.iter().map(|p| proc::rss_kib(p)).collect();

    // Posting: one keep-alive connection per instance, messages in turn to
    // the rooms and the instances, at `rate` per second.
    let poster = tokio::spawn({
        let instances = instances.clone();
        let (rate, rooms) = (options.rate, options.rooms);
        let stopped = stopped.clone();
        async move { http::post_steadily(&instances, rooms, rate, clock, stopped).await }
    });
    tokio::time::sleep(options.warmup).await;
    let start_us = clock.elapsed().as_micros() as u64;
    *window.lock().unwrap() = (start_us, u64::MAX);
    let cpu_start: Vec<Duration> = pids.iter().map(|p| proc::cpu(p)).collect();
    tokio::time::sleep(options.window).await;
    let cpu_end: Vec<Duration> = pids.iter().map(|p| proc::cpu(p)).collect();
    let rss_end: Vec<Option<u64>> = pids.iter().map(|p| proc::rss_kib(p)).collect();
    let end_us = clock.elapsed().as_micros() as u64;
    *window.lock().unwrap() = (start_us, end_us);
    // Time for the last messages of the window to arrive.
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.send_replace(true);
    let posted = poster.await.unwrap();
    let mut latencies = Vec::new();
    let mut failed = 0;
    for task in tasks {
        match task.await.unwrap() {
            Some(mut got) => latencies.append(&mut got),
            None => failed += 1,
        }
    }
    latencies.sort_unstable();
    let per_subscriber = options.window.as_secs_f64() * options.rate as f64 / options.rooms as f64;
    let expected = (subscribers as f64 * per_subscriber).round() as usize;
    let percentile = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .map_or(f64::NAN, |&us| us as f64 / 1000.0)
    };
    let seconds = options.window.as_secs_f64();
    let what = match setup {
        Setup::Memory => "baseline: 1 instance, rooms in memory",
        Setup::Redis => "2 instances on one Redis",
    };
    println!(
        "\n## {what}\n\n{subscribers} SSE subscribers, {} rooms, {} messages/s posted ({posted} in all), {seconds} s window",
        options.rooms, options.rate
    );
    println!(
        "delivered in the window: {} events (about {expected} expected), {failed} subscribers failed",
        latencies.len()
    );
    println!(
        "latency post → client: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        percentile(0.5),
        percentile(0.99),
        latencies.last().map_or(f64::NAN, |&us| us as f64 / 1000.0)
    );
    println!("| process | CPU (cores) | RSS fresh | RSS, streams open | RSS at the end |");
    println!("|---|---|---|---|---|");
    for (i, name) in names.iter().enumerate() {
        let cpu = cpu_end[i].saturating_sub(cpu_start[i]).as_secs_f64() / seconds;
        let mib = |kib: Option<u64>| {
            kib.map_or("?".to_string(), |k| format!("{:.1} MiB", k as f64 / 1024.0))
        };
        println!(
            "| {name} | {cpu:.3} | {} | {} | {} |",
            mib(rss_fresh[i]),
            mib(rss_open[i]),
            mib(rss_end[i])
        );
    }
    let own = proc::cpu("self").as_secs_f64();
    println!("(this process, subscribers and poster: {own:.1} s of CPU in all so far)");
}

/// Retries `attempt` every 50 ms for up to 60 s.
async fn wait_for<F: Future<Output = Option<()>>>(mut attempt: impl FnMut() -> F) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while attempt().await.is_none() {
        assert!(Instant::now() < deadline, "timed out while starting up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
