//! TCP connections from chosen loopback source addresses, and the file
//! descriptor limit they need.
//!
//! One source address has about 28k ephemeral ports; spreading clients over
//! 127.0.0.2, 127.0.0.3, ... gives each its own range (the idle scenario
//! needs 50k connections) and lets an nginx `hash $remote_addr` balancer see
//! many clients instead of one.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use tokio::net::{TcpSocket, TcpStream};

use crate::error::{Error, Result};
use crate::target::Target;

/// The source addresses clients bind to, chosen round-robin by client index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sources(Vec<Ipv4Addr>);

impl Sources {
    /// `count` addresses: just 127.0.0.1 for one (the address any client
    /// would use), else 127.0.0.2..=127.0.0.(count+1) so that 127.0.0.1
    /// stays free for everything else on the machine.
    pub fn new(count: u16) -> Result<Self> {
        match count {
            0 => Err(Error::BadArgument("--sources must be at least 1".into())),
            1 => Ok(Self(vec![Ipv4Addr::LOCALHOST])),
            2..=254 => Ok(Self(
                (2..=count + 1)
                    .map(|last| Ipv4Addr::new(127, 0, 0, last as u8))
                    .collect(),
            )),
            _ => Err(Error::BadArgument("--sources must be at most 254".into())),
        }
    }

    /// The address of client number `index`.
    pub fn pick(&self, index: usize) -> Ipv4Addr {
        self.0[index % self.0.len()]
    }
}

/// Opens a TCP connection from `source` (any free port) to `target`, with
/// Nagle off: every frame the generator writes is a complete message.
pub async fn connect(source: Ipv4Addr, target: &Target) -> Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(IpAddr::V4(source), 0))?;
    let stream = socket.connect(target.socket_addr()).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// Raises this process's open-file limit to what `wanted` connections need,
/// up to the hard limit (or beyond it when running as root), and returns the
/// soft limit now in force. The caller warns of a shortfall; the run goes on
/// and counts the connections that fail.
pub fn raise_nofile(wanted: u64) -> u64 {
    use rlimit::Resource;
    let Ok((soft, hard)) = rlimit::getrlimit(Resource::NOFILE) else {
        return 0;
    };
    let target = hard.max(wanted);
    if rlimit::setrlimit(Resource::NOFILE, target, target).is_ok() {
        return target;
    }
    if rlimit::setrlimit(Resource::NOFILE, hard, hard).is_ok() {
        return hard;
    }
    soft
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spreads_over_sources() {
        let one = Sources::new(1).expect("valid");
        assert_eq!(one.pick(0), Ipv4Addr::LOCALHOST);
        assert_eq!(one.pick(7), Ipv4Addr::LOCALHOST);
        let four = Sources::new(4).expect("valid");
        let picked: Vec<_> = (0..5).map(|i| four.pick(i).octets()[3]).collect();
        assert_eq!(picked, [2, 3, 4, 5, 2]);
        assert_eq!(Sources::new(254).expect("valid").pick(253).octets()[3], 255);
        assert!(Sources::new(0).is_err());
        assert!(Sources::new(255).is_err());
    }
}
