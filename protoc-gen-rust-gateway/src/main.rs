//! `protoc-gen-rust-gateway`: reads a `CodeGeneratorRequest` on stdin and
//! writes a `CodeGeneratorResponse` on stdout.

use std::io::{Read, Write};
use std::process::ExitCode;

const USAGE: &str = "\
protoc plugin: run by protoc (--rust-gateway_out=DIR) or buf, which send a
CodeGeneratorRequest on stdin. Options: --rust-gateway_opt=key=value,...

Usage: protoc-gen-rust-gateway [--version | --help]";

fn main() -> ExitCode {
    // protoc and buf pass no arguments; these are for people and scripts.
    match std::env::args().nth(1).as_deref() {
        None => {}
        Some("--version" | "-V") => {
            println!("protoc-gen-rust-gateway {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Some("--help" | "-h") => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Some(other) => {
            eprintln!("protoc-gen-rust-gateway: unknown argument `{other}`\n\n{USAGE}");
            return ExitCode::from(2);
        }
    }
    let mut request = Vec::new();
    if let Err(e) = std::io::stdin().read_to_end(&mut request) {
        eprintln!("protoc-gen-rust-gateway: cannot read stdin: {e}");
        return ExitCode::FAILURE;
    }
    let response = protoc_gen_rust_gateway::execute(&request, &mut std::io::stderr());
    if let Err(e) = std::io::stdout().write_all(&response) {
        eprintln!("protoc-gen-rust-gateway: cannot write stdout: {e}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
