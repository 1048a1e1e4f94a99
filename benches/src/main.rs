//! `gateway-bench`: see the library's documentation (`benches/src/lib.rs`).

fn main() {
    gateway_bench::main()
}
