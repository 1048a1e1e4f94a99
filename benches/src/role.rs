//! Child processes of the orchestrator and the line protocol they speak on
//! stdout: `READY ADDR`, `OPENED`, `START`, `STOP`, `RESULT JSON`.

use crate::contender::Contender;
use crate::procstat;
use std::io::{BufRead, BufReader, Lines, Read};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Stdio};

/// A child running one role of this same binary. Killed when dropped.
pub struct Role {
    name: String,
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
}

impl Role {
    /// Starts `current_exe ARGS`. Its stdin is a pipe that is never written:
    /// servers exit when it closes, so that no server outlives an
    /// orchestrator that died.
    pub fn spawn(args: &[&str]) -> Role {
        Role::spawn_wrapped(&[], args)
    }

    /// [`Role::spawn`] run by `wrapper` (`taskset` for a pinned run).
    pub fn spawn_wrapped(wrapper: &[&str], args: &[&str]) -> Role {
        Role::spawn_exe(
            wrapper,
            std::env::current_exe().expect("own executable"),
            args,
        )
    }

    /// `serve` of `contender` with `args` after the contender's name, from
    /// the executable that serves it, run by `wrapper` if any (valgrind for
    /// the instruction counts).
    pub fn serve(wrapper: &[&str], contender: Contender, args: &[String]) -> Role {
        let mut all = vec!["serve", contender.serve_name()];
        all.extend(args.iter().map(String::as_str));
        Role::spawn_exe(wrapper, contender.executable(), &all)
    }

    /// `WRAPPER... exe ARGS`; stdin as for [`Role::spawn`].
    fn spawn_exe(wrapper: &[&str], exe: PathBuf, args: &[&str]) -> Role {
        let mut command = match wrapper.split_first() {
            Some((program, rest)) => {
                let mut command = Command::new(program);
                command.args(rest).arg(exe);
                command
            }
            None => Command::new(exe),
        };
        let mut child = command
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start `{}`: {e}", args.join(" ")));
        let stdout = child.stdout.take().expect("piped stdout");
        Role {
            name: args.first().copied().unwrap_or("child").to_string(),
            child,
            lines: BufReader::new(stdout).lines(),
        }
    }

    /// The next line the child printed; panics if it exited.
    pub fn line(&mut self) -> String {
        match self.lines.next() {
            Some(Ok(line)) => line,
            _ => {
                let status = self.child.wait().ok();
                panic!("`{}` exited early ({status:?})", self.name)
            }
        }
    }

    /// Waits for `READY ADDR`.
    pub fn ready(&mut self) -> SocketAddr {
        loop {
            let line = self.line();
            if let Some(addr) = line.strip_prefix("READY ") {
                return addr.parse().expect("READY carries an address");
            }
        }
    }

    pub fn pid(&self) -> String {
        self.child.id().to_string()
    }

    pub fn cpu(&self) -> procstat::Cpu {
        procstat::Cpu::read(&self.pid())
    }

    pub fn rss_kib(&self) -> u64 {
        procstat::rss_kib(&self.pid()).unwrap_or(0)
    }

    /// Waits for a load generator to exit on its own.
    pub fn finish(mut self) {
        let _ = self.child.wait();
    }
}

impl Drop for Role {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// Child side: announce the listening address.
pub fn announce_ready(addr: SocketAddr) {
    println!("READY {addr}");
}

/// Child side: a line of the protocol (stdout is line-buffered).
pub fn say(line: &str) {
    println!("{line}");
}

/// Child side: exit as soon as the orchestrator goes away (stdin closes).
pub fn exit_with_parent() {
    std::thread::spawn(|| {
        let mut sink = [0u8; 64];
        let mut stdin = std::io::stdin();
        while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
        std::process::exit(0);
    });
}
