//! `protoc-gen-rust-gateway`: reads a `CodeGeneratorRequest` on stdin and
//! writes a `CodeGeneratorResponse` on stdout.

use std::io::{Read, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
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
