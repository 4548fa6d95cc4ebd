//! [`TcpRelay`]: a TCP hop between a node and NATS that a test can cut and
//! mend, as a network partition between them would.

use std::{
    io,
    net::{Shutdown, TcpListener, TcpStream},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    thread,
};

/// Relays connections from a local port to `target` until cut.
pub struct TcpRelay {
    port: u16,
    cut: Arc<AtomicBool>,
    /// Every open connection, both ends, so a cut can close them.
    open: Arc<Mutex<Vec<TcpStream>>>,
}

impl TcpRelay {
    /// Listens on a free loopback port and relays to `target` (`host:port`).
    pub fn start(target: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the relay");
        let port = listener.local_addr().expect("relay address").port();
        let (cut, open) = (Arc::new(AtomicBool::new(false)), Arc::default());
        let relay = Self {
            port,
            cut: cut.clone(),
            open: Arc::clone(&open),
        };
        let target = target.to_owned();
        thread::spawn(move || {
            for client in listener.incoming().flatten() {
                // While cut, connections are refused as a partition would.
                if cut.load(Ordering::SeqCst) {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                if let Ok(server) = TcpStream::connect(&target) {
                    let _ = relay_pair(client, server, &open);
                }
            }
        });
        relay
    }

    /// `nats://127.0.0.1:<port>`, for the node's `SWITCHYARD_NATS__URL`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Closes every relayed connection and refuses new ones.
    pub fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        if let Ok(mut open) = self.open.lock() {
            for stream in open.drain(..) {
                let _ = stream.shutdown(Shutdown::Both);
            }
        }
    }

    /// Accepts connections again.
    pub fn mend(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}

/// Copies both ways between `client` and `server` on two threads.
fn relay_pair(
    client: TcpStream,
    server: TcpStream,
    open: &Arc<Mutex<Vec<TcpStream>>>,
) -> io::Result<()> {
    if let Ok(mut open) = open.lock() {
        open.push(client.try_clone()?);
        open.push(server.try_clone()?);
    }
    let (mut client_in, mut server_out) = (client.try_clone()?, server.try_clone()?);
    let (mut server_in, mut client_out) = (server, client);
    thread::spawn(move || {
        let _ = io::copy(&mut client_in, &mut server_out);
        let _ = server_out.shutdown(Shutdown::Both);
    });
    thread::spawn(move || {
        let _ = io::copy(&mut server_in, &mut client_out);
        let _ = client_out.shutdown(Shutdown::Both);
    });
    Ok(())
}
