//! nginx in front of the nodes, run as a child process: the plain round-robin
//! load balancer of the cluster tests. It is configured from the same
//! template as docker-compose (`config/nginx.conf.template`), so the tests
//! exercise the configuration that ships.

use crate::{process::spawn_logged, scratch::ScratchDir};
use std::{
    fmt::Write as _,
    fs,
    net::TcpStream,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{mpsc, Arc, Mutex},
    time::{Duration, Instant},
};

/// `config/nginx.conf.template`, built in so a test needs no path at run time.
const TEMPLATE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../config/nginx.conf.template"
));

/// How long nginx may take to listen; generous because CI machines are slow
/// and shared.
const READY_LIMIT: Duration = Duration::from_secs(20);

/// How long nginx may take to stop its worker and exit when asked to.
const STOP_LIMIT: Duration = Duration::from_secs(10);

/// How many free ports `start` tries when another process takes the one it
/// picked before nginx binds it.
const PORT_ATTEMPTS: usize = 5;

/// What the master logs (at notice level, as the template asks) once its
/// listening socket is open, just before it forks the worker.
const READY_LINE: &str = "start worker processes";

/// A running nginx balancing over some nodes; stopped, and its directory
/// removed, when dropped.
pub struct Nginx {
    child: Child,
    program: PathBuf,
    port: u16,
    log: Arc<Mutex<Vec<String>>>,
    /// Hangs up once the master and its worker have both exited: they hold
    /// the two ends of nginx's stdout and stderr pipes.
    gone: mpsc::Receiver<String>,
    /// Dropped after `child` is stopped (fields drop after `Drop::drop`).
    dir: ScratchDir,
}

/// The nginx binary, from `PATH` or `/usr/sbin` (scripts/test installs it).
pub fn binary() -> PathBuf {
    crate::system_program("nginx")
}

/// The template with its placeholders filled in: `listen` for `{{LISTEN}}`,
/// one `server <upstream>;` line per upstream for `{{UPSTREAMS}}`, and
/// `prefix` (a writable directory) for `{{PREFIX}}`. Public so a test, or CI,
/// can check the result with `nginx -t`.
pub fn render(listen: &str, upstreams: &[String], prefix: &str) -> String {
    assert!(!upstreams.is_empty(), "nginx needs at least one upstream");
    let mut config = String::new();
    for line in TEMPLATE.lines() {
        if line.trim() == "{{UPSTREAMS}}" {
            let indent = &line[..line.len() - line.trim_start().len()];
            for upstream in upstreams {
                let _ = writeln!(config, "{indent}server {upstream};");
            }
        } else {
            let line = line
                .replace("{{LISTEN}}", listen)
                .replace("{{PREFIX}}", prefix);
            config.push_str(&line);
            config.push('\n');
        }
    }
    assert!(
        !config.contains("{{"),
        "config/nginx.conf.template has a placeholder render() does not fill:\n{config}"
    );
    config
}

impl Nginx {
    /// Starts nginx on a free loopback port, balancing round-robin over
    /// `upstreams` (`127.0.0.1:<port>` each), and returns once that port
    /// accepts connections.
    pub fn start(upstreams: &[String]) -> Self {
        let program = binary();
        let dir = ScratchDir::new("nginx");
        let log = Arc::new(Mutex::new(Vec::new()));
        for _ in 0..PORT_ATTEMPTS {
            let port = crate::free_port();
            let config = render(&format!("127.0.0.1:{port}"), upstreams, dir.prefix());
            fs::write(config_path(&dir), config).expect("write nginx.conf");
            if let Some((child, gone)) = launch(&program, &dir, port, &log) {
                return Self {
                    child,
                    program,
                    port,
                    log,
                    gone,
                    dir,
                };
            }
        }
        panic!(
            "nginx found no free port in {PORT_ATTEMPTS} attempts:\n{}",
            log.lock().expect("log").join("\n")
        );
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `ws://127.0.0.1:<port>`.
    pub fn ws_url(&self) -> String {
        format!("ws://127.0.0.1:{}", self.port)
    }

    /// Everything nginx has logged so far (its error log, which is stderr).
    pub fn log(&self) -> String {
        self.log.lock().expect("log").join("\n")
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // `-s stop` sends the master SIGTERM, and the master stops its worker
        // before it exits; a killed master would leave the worker behind.
        let asked = Command::new(&self.program)
            .args(nginx_args(&self.dir))
            .args(["-s", "stop"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        if !asked || !wait_until_gone(&self.gone, STOP_LIMIT) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// Runs nginx with the configuration in `dir` and waits until it listens on
/// `port`. `None` when the port was in use; panics on any other failure,
/// with the log.
fn launch(
    program: &Path,
    dir: &ScratchDir,
    port: u16,
    log: &Arc<Mutex<Vec<String>>>,
) -> Option<(Child, mpsc::Receiver<String>)> {
    let first_line = log.lock().expect("log").len();
    let mut command = Command::new(program);
    command.args(nginx_args(dir));
    let (mut child, ready_rx) = spawn_logged(&mut command, &[READY_LINE], log);
    // nginx has no readiness notification as such; its notice that it starts
    // the worker comes right after it opened the listening socket, so wait
    // for that line (or its exit, or the limit), then confirm with a connect.
    let outcome = ready_rx.recv_timeout(READY_LIMIT);
    let lines = || log.lock().expect("log")[first_line..].join("\n");
    if outcome.is_ok() {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some((child, ready_rx));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!(
            "nginx started its worker but 127.0.0.1:{port} refuses connections:\n{}",
            lines()
        );
    }
    let _ = child.kill();
    let status = child.wait();
    match outcome {
        Err(mpsc::RecvTimeoutError::Disconnected) if lines().contains("Address already in use") => {
            None
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!(
            "nginx on port {port} exited ({status:?}) before it listened:\n{}",
            lines()
        ),
        _ => panic!(
            "nginx on port {port} did not log {READY_LINE:?} within {READY_LIMIT:?} \
             (the template's error_log must stay at notice level):\n{}",
            lines()
        ),
    }
}

/// The arguments that point nginx at `dir`; `-e stderr` keeps it from
/// opening the system error log before it reads the configuration.
fn nginx_args(dir: &ScratchDir) -> Vec<String> {
    vec![
        "-e".into(),
        "stderr".into(),
        "-p".into(),
        dir.prefix().into(),
        "-c".into(),
        config_path(dir).to_str().expect("UTF-8 temp path").into(),
    ]
}

/// Waits until the readers of nginx's output hang up, i.e. every nginx
/// process has exited; false when `limit` passes first.
fn wait_until_gone(gone: &mpsc::Receiver<String>, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match gone.recv_timeout(left) {
            Ok(_) => continue,
            Err(mpsc::RecvTimeoutError::Disconnected) => return true,
            Err(mpsc::RecvTimeoutError::Timeout) => return false,
        }
    }
}

/// Where nginx's configuration goes in its scratch directory.
fn config_path(dir: &ScratchDir) -> PathBuf {
    dir.path().join("nginx.conf")
}
