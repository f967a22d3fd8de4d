//! `staffroom healthcheck`: a container health check that needs nothing but the binary.
//! With `--url` it asks that URL over plain HTTP/1.0 and wants a 2xx; without, it opens the
//! database and asks it a trivial query (what the outbox worker, which serves no HTTP,
//! depends on).

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use super::args::{Cli, HealthcheckArgs};
use super::database::{connect, database_url};
use crate::startup_error::StartupError;

pub fn run_healthcheck(cli: &Cli, args: &HealthcheckArgs) -> Result<(), StartupError> {
    let timeout = Duration::from_millis(args.timeout_ms.max(1));
    match &args.url {
        Some(url) => match status_of(url, timeout)? {
            200..=299 => Ok(()),
            status => Err(StartupError(format!("{url} answered {status}"))),
        },
        None => {
            let url = database_url(cli)?;
            let pool = connect(&url, 1)?;
            let mut conn = pool.get()?;
            staffroom_persistence::ping(&mut conn)
                .map_err(|e| StartupError(format!("{} does not answer: {e}", url.redacted())))
        }
    }
}

/// The status code `GET url` answers; `url` is `http://HOST[:PORT][/PATH]`.
fn status_of(url: &str, timeout: Duration) -> Result<u16, StartupError> {
    let failed = |e: &dyn std::fmt::Display| StartupError(format!("{url}: {e}"));
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| failed(&"only http:// URLs can be checked"))?;
    let (authority, path) = match rest.find('/') {
        Some(at) => rest.split_at(at),
        None => (rest, "/"),
    };
    let with_port = if authority
        .rsplit_once(':')
        .is_some_and(|(_, p)| !p.contains(']'))
    {
        authority.to_owned()
    } else {
        format!("{authority}:80")
    };
    let addr = with_port
        .to_socket_addrs()
        .map_err(|e| failed(&e))?
        .next()
        .ok_or_else(|| failed(&"resolves to no address"))?;
    let mut stream = TcpStream::connect_timeout(&addr, timeout).map_err(|e| failed(&e))?;
    stream
        .set_read_timeout(Some(timeout))
        .map_err(|e| failed(&e))?;
    stream
        .set_write_timeout(Some(timeout))
        .map_err(|e| failed(&e))?;
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| failed(&e))?;
    let mut status_line = String::new();
    BufReader::new(stream)
        .read_line(&mut status_line)
        .map_err(|e| failed(&e))?;
    status_line
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| failed(&format!("not an HTTP answer: {:?}", status_line.trim())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_http_urls_are_checked() {
        let error = status_of("https://127.0.0.1/healthz", Duration::from_secs(1)).unwrap_err();
        assert!(error.0.contains("only http://"), "{}", error.0);
    }

    #[test]
    fn a_closed_port_is_unhealthy() {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let url = format!("http://127.0.0.1:{port}/healthz");
        assert!(status_of(&url, Duration::from_secs(1)).is_err());
    }
}
