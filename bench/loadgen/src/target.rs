//! Where the clients connect: `--url` values, checked to be loopback.
//!
//! The generator opens tens of thousands of connections as fast as it can,
//! so it refuses any host that is not this machine: a mistyped URL must not
//! become a load test of someone else's server.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

use crate::error::{Error, Result};

/// One server (or load balancer) the clients connect to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The address to connect the TCP socket to.
    pub addr: SocketAddrV4,
    /// The `Host` header, as the URL spelled it, for virtual hosts in an LB.
    pub host_header: String,
}

impl Target {
    /// Parses `http://host:port`, `ws://host:port` (and a trailing `/`); the
    /// socket.io path comes from `--path`, so a URL with another path is
    /// refused rather than silently ignored.
    pub fn parse(url: &str) -> Result<Self> {
        let bad = |reason| Error::BadUrl {
            url: url.to_owned(),
            reason,
        };
        let rest = ["http://", "ws://"]
            .iter()
            .find_map(|scheme| url.strip_prefix(scheme))
            .ok_or_else(|| bad("the scheme must be http:// or ws://"))?;
        let authority = match rest.split_once('/') {
            None => rest,
            Some((authority, "")) => authority,
            Some(_) => return Err(bad("no path allowed in the URL; use --path")),
        };
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) => (
                host,
                port.parse::<u16>()
                    .map_err(|_| bad("the port is not a number in 1-65535"))?,
            ),
            None => (authority, 80),
        };
        if port == 0 {
            return Err(bad("the port is not a number in 1-65535"));
        }
        let ip = loopback_ip(host)?;
        Ok(Self {
            addr: SocketAddrV4::new(ip, port),
            host_header: authority.to_owned(),
        })
    }

    /// The address for `TcpSocket::connect`.
    pub fn socket_addr(&self) -> SocketAddr {
        SocketAddr::V4(self.addr)
    }
}

/// The IPv4 address of a loopback host name, or [`Error::NotLoopback`].
///
/// Only literal 127.0.0.0/8 addresses and `localhost` are accepted: no DNS
/// look-up, so nothing outside this machine can be named.
pub fn loopback_ip(host: &str) -> Result<Ipv4Addr> {
    if host.eq_ignore_ascii_case("localhost") {
        return Ok(Ipv4Addr::LOCALHOST);
    }
    match host.parse::<Ipv4Addr>() {
        Ok(ip) if ip.is_loopback() => Ok(ip),
        _ => Err(Error::NotLoopback(host.to_owned())),
    }
}

/// Parses a comma-separated `--url` list, refusing an empty one.
pub fn parse_list(urls: &str) -> Result<Vec<Target>> {
    let targets = urls
        .split(',')
        .map(str::trim)
        .filter(|url| !url.is_empty())
        .map(Target::parse)
        .collect::<Result<Vec<_>>>()?;
    if targets.is_empty() {
        return Err(Error::BadArgument("--url names no server".into()));
    }
    Ok(targets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_loopback_urls() {
        let target = Target::parse("http://127.0.0.1:3100").expect("valid");
        assert_eq!(target.addr, "127.0.0.1:3100".parse().expect("addr"));
        assert_eq!(target.host_header, "127.0.0.1:3100");
        let target = Target::parse("ws://localhost:8080/").expect("valid");
        assert_eq!(target.addr, "127.0.0.1:8080".parse().expect("addr"));
        assert_eq!(target.host_header, "localhost:8080");
        let target = Target::parse("http://127.3.4.5").expect("valid");
        assert_eq!(target.addr.port(), 80);
    }

    #[test]
    fn refuses_other_hosts() {
        for url in [
            "http://10.0.0.1:3000",
            "http://0.0.0.0:3000",
            "http://example.com:3000",
            "http://128.0.0.1",
            "http://[::1]:3000",
            "http://localhost.example.com:3000",
        ] {
            assert!(
                matches!(Target::parse(url), Err(Error::NotLoopback(_))),
                "{url}"
            );
        }
    }

    #[test]
    fn refuses_malformed_urls() {
        for url in [
            "127.0.0.1:3000",
            "https://127.0.0.1:3000",
            "http://127.0.0.1:0",
            "http://127.0.0.1:99999",
            "http://127.0.0.1:3000/socket.io/",
        ] {
            assert!(
                matches!(Target::parse(url), Err(Error::BadUrl { .. })),
                "{url}"
            );
        }
    }

    #[test]
    fn parses_lists() {
        let list = parse_list("http://127.0.0.1:1, http://127.0.0.1:2,").expect("valid");
        assert_eq!(list.len(), 2);
        assert_eq!(list[1].addr.port(), 2);
        assert!(parse_list(" , ").is_err());
        assert!(parse_list("http://127.0.0.1:1,http://192.168.1.1:2").is_err());
    }
}
