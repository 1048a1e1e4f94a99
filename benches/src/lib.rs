//! `gateway-bench`: the generated gateways measured side by side with
//! hand-written axum handlers and plain tonic calls.
//!
//! ```sh
//! cargo run --release -p gateway-bench             # full run: about 12 minutes on 2 cores (the first also builds gateway-bench-recorded)
//! cargo run --release -p gateway-bench -- --quick  # smoke run: what CI runs (as a test)
//! ```
//!
//! One binary plays four roles, so that every number comes from a process
//! that does one thing:
//!
//! - no role argument: the **orchestrator**. It starts the others as child
//!   processes for every run, reads their CPU time and RSS from `/proc`, and
//!   writes the report;
//! - `backend`: the tonic server the remote contenders call;
//! - `serve CONTENDER`: the gateway under test (generated or hand-written);
//! - `load SPEC`: the load generator. Being a separate process keeps its CPU
//!   time out of the gateway's `utime + stime`.
//!
//! The binary is this library's [`main`]; `gateway-bench-recorded`
//! (`benches/recorded`) is the same program built with the runtime's
//! `metrics` feature, for the contender that measures what the feature costs
//! in use. The other contenders run in this binary, built as users build the
//! runtime by default: without it.

mod cli;
mod contender;
mod load;
mod payload;
mod plot;
mod procstat;
mod recorded;
mod report;
mod role;
mod scenarios;
mod servers;

/// Runs the role the command line names, or the orchestrator.
pub fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("backend") => servers::backend_main(),
        Some("serve") => servers::gateway_main(&args[1..]),
        Some("load") => load::load_main(&args[1..]),
        Some("callgrind-top") => scenarios::instructions::top_main(&args[1..]),
        _ => match cli::Options::parse(&args) {
            Ok(options) => scenarios::run_all(&options),
            Err(message) if message == "help" => println!("{}", cli::USAGE),
            Err(message) => {
                eprintln!("{message}\n\n{}", cli::USAGE);
                std::process::exit(2);
            }
        },
    }
}
