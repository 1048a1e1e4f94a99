//! `gateway-bench` with the runtime's `metrics` feature compiled in. The
//! orchestrator builds and starts it for `generated-remote-metrics`; the
//! feature is not in `gateway-bench` itself, so that every other contender
//! runs the runtime as users build it by default.

fn main() {
    gateway_bench::main()
}
