//! Test servers started in the background (SecantusDB, moto): from a
//! shell, so that the test process holds no child handle, with a watchdog
//! that ends the server when the test process ends.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A free loopback port.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `program args…` (its output into `log`) and waits until it
/// listens on `port`; `hint` says how to get the program when it fails.
pub fn serve(program: &Path, args: &[String], port: u16, log: &Path, hint: &str) {
    let launched = Command::new("sh")
        .args([
            "-c",
            "log=\"$1\"; shift; \"$@\" > \"$log\" 2>&1 < /dev/null & echo $!",
            "sh",
        ])
        .arg(log)
        .arg(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("start {}: {e}; {hint}", program.display()));
    let pid = String::from_utf8_lossy(&launched.stdout).trim().to_string();
    assert!(
        !pid.is_empty(),
        "cannot start {}; {hint}",
        program.display()
    );
    let watchdog = format!(
        "( while kill -0 {} 2>/dev/null; do sleep 1; done; kill {pid} 2>/dev/null; rm -f '{}' ) &",
        std::process::id(),
        log.display()
    );
    Command::new("sh")
        .args(["-c", &watchdog])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("watchdog");
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{} did not listen within 60 s; {hint}: {}",
            program.display(),
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
