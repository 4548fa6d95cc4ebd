//! The fixture's own parts: a real NATS server that can go away and come back
//! on its port, and nginx from the shipped template, balancing plain
//! round-robin with no stickiness.

use std::{
    io::{BufRead, BufReader, Write},
    net::{TcpListener, TcpStream},
    path::PathBuf,
    process::Command,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    thread::JoinHandle,
    time::Duration,
};

use switchyard_e2e::{nginx, NatsServer, Nginx};

/// The first line a NATS server sends a new client: its `INFO {...}` greeting.
fn nats_greeting(nats: &NatsServer) -> String {
    let stream = TcpStream::connect(("127.0.0.1", nats.port()))
        .unwrap_or_else(|e| panic!("connect to NATS: {e}\n{}", nats.log()));
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("read timeout");
    let mut line = String::new();
    BufReader::new(stream)
        .read_line(&mut line)
        .unwrap_or_else(|e| panic!("read the NATS greeting: {e}\n{}", nats.log()));
    line
}

#[test]
fn nats_server_greets_and_comes_back_on_its_port() {
    let mut nats = NatsServer::start();
    let port = nats.port();
    assert_eq!(nats.url(), format!("nats://127.0.0.1:{port}"));
    let greeting = nats_greeting(&nats);
    assert!(greeting.starts_with("INFO "), "greeting: {greeting}");

    nats.stop();
    assert!(
        TcpStream::connect(("127.0.0.1", port)).is_err(),
        "NATS still accepts connections after stop()\n{}",
        nats.log()
    );

    nats.restart();
    assert_eq!(nats.port(), port);
    let greeting = nats_greeting(&nats);
    assert!(greeting.starts_with("INFO "), "greeting: {greeting}");
}

/// A directory removed when the test ends, pass or fail.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn nginx_accepts_the_rendered_template() {
    let dir =
        TempDir(std::env::temp_dir().join(format!("switchyard-nginx-t-{}", std::process::id())));
    std::fs::create_dir_all(&dir.0).expect("create temp dir");
    let prefix = dir.0.to_str().expect("UTF-8 temp path");
    let upstreams = ["127.0.0.1:3001".to_owned(), "127.0.0.1:3002".to_owned()];
    let config = nginx::render("127.0.0.1:8080", &upstreams, prefix);

    for upstream in &upstreams {
        assert!(config.contains(&format!("server {upstream};")), "{config}");
    }
    // Any stickiness would hide a node that cannot serve another's sessions.
    let directives = config
        .lines()
        .map(str::trim)
        .filter(|line| !line.starts_with('#'));
    for line in directives {
        for sticky in ["ip_hash", "hash ", "sticky", "cookie"] {
            assert!(!line.contains(sticky), "sticky balancing: {line}");
        }
    }

    let file = dir.0.join("nginx.conf");
    std::fs::write(&file, config).expect("write nginx.conf");
    let output = Command::new(nginx::binary())
        .args(["-t", "-e", "stderr", "-p", prefix, "-c"])
        .arg(&file)
        .output()
        .expect("run nginx -t");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "nginx -t refused it:\n{stderr}");
    assert!(stderr.contains("test is successful"), "{stderr}");
}

/// A tiny HTTP server answering every request with its own name, then
/// closing the connection. Stopped when dropped.
struct Upstream {
    addr: String,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Upstream {
    fn start(name: &'static str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind upstream");
        let addr = listener.local_addr().expect("upstream addr").to_string();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = stream {
                    answer(stream, name);
                }
            }
        });
        Self {
            addr,
            stop,
            thread: Some(thread),
        }
    }
}

/// Reads one request's head and answers `200` with `name` as the body.
fn answer(stream: TcpStream, name: &str) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    while reader.read_line(&mut line).is_ok_and(|read| read > 0) {
        if line == "\r\n" {
            break;
        }
        line.clear();
    }
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{name}",
        name.len()
    );
    let _ = reader.get_mut().write_all(response.as_bytes());
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the blocked accept so the thread sees the flag.
        let _ = TcpStream::connect(&self.addr);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[actix_rt::test]
async fn nginx_balances_round_robin_without_stickiness() {
    let a = Upstream::start("A");
    let b = Upstream::start("B");
    let nginx = Nginx::start(&[a.addr.clone(), b.addr.clone()]);
    let client = awc::Client::new();

    let mut answers = Vec::new();
    for _ in 0..10 {
        let mut response = client
            .get(format!("{}/", nginx.url()))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET through nginx: {e}\n{}", nginx.log()));
        assert!(
            response.status().is_success(),
            "status {}\n{}",
            response.status(),
            nginx.log()
        );
        let body = response.body().await.expect("body");
        answers.push(String::from_utf8_lossy(&body).into_owned());
    }

    assert!(
        answers.iter().any(|answer| answer == "A") && answers.iter().any(|answer| answer == "B"),
        "one upstream never answered: {answers:?}"
    );
    assert!(
        answers.windows(2).all(|pair| pair[0] != pair[1]),
        "answers do not alternate: {answers:?}"
    );
}
