//! Child processes whose output the fixture keeps and watches.

use std::{
    io::{BufRead, BufReader, Read},
    process::{Child, Command, Stdio},
    sync::{mpsc, Arc, Mutex},
};

/// Every line a process printed, on either stream.
pub(crate) type Log = Arc<Mutex<Vec<String>>>;

/// Spawns `command` with its stdout and stderr appended to `log`, and
/// returns a receiver that gets every line containing one of `markers` (how
/// the fixture learns that a server is ready). The receiver hangs up once
/// the process has closed both streams, that is, when it exits.
pub(crate) fn spawn_logged(
    command: &mut Command,
    markers: &'static [&'static str],
    log: &Log,
) -> (Child, mpsc::Receiver<String>) {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {:?}: {e}", command.get_program()));
    let (marked_tx, marked_rx) = mpsc::channel();
    let stdout = child.stdout.take().expect("stdout");
    let stderr = child.stderr.take().expect("stderr");
    for stream in [Box::new(stdout) as Box<dyn Read + Send>, Box::new(stderr)] {
        let log = log.clone();
        let marked_tx = marked_tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                if markers.iter().any(|marker| line.contains(marker)) {
                    let _ = marked_tx.send(line.clone());
                }
                log.lock().expect("log").push(line);
            }
        });
    }
    (child, marked_rx)
}
