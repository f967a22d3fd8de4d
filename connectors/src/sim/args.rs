//! The `provider-sim` command line, kept in the library so that a deployment check can
//! parse the commands docker-compose gives it.

use std::net::{SocketAddr, ToSocketAddrs};

use clap::Parser;

use super::SimOptions;

/// Plays the exercise, imaging and email provider APIs (WIRE.md) for demos and tests.
#[derive(Debug, Parser)]
#[command(name = "provider-sim", version)]
pub struct SimArgs {
    /// Address to listen on (HOST:PORT; port 0 picks a free one).
    #[arg(long, env = "PROVIDER_SIM_LISTEN", default_value = "127.0.0.1:9090")]
    pub listen: String,

    /// The only bearer key accepted; without it any non-empty key is.
    #[arg(long, env = "PROVIDER_SIM_API_KEY")]
    pub api_key: Option<String>,

    /// Where people's browsers reach the simulator, e.g. `http://localhost:9090` when it
    /// listens in a container; exercise launch links start with it. Default: the address
    /// it listens on.
    #[arg(long, env = "PROVIDER_SIM_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// The imaging webhook secret (`whsec_` and base64) report deliveries are signed with;
    /// without it the simulator delivers no reports.
    #[arg(long, env = "PROVIDER_SIM_WEBHOOK_SECRET")]
    pub webhook_secret: Option<String>,
}

impl SimArgs {
    /// The address to listen on; the error is fit for one line.
    pub fn addr(&self) -> Result<SocketAddr, String> {
        let invalid =
            |e: &dyn std::fmt::Display| format!("invalid --listen value {:?}: {e}", self.listen);
        if let Ok(addr) = self.listen.parse::<SocketAddr>() {
            return Ok(addr);
        }
        self.listen
            .to_socket_addrs()
            .map_err(|e| invalid(&e))?
            .next()
            .ok_or_else(|| invalid(&"resolves to no address"))
    }

    /// The simulator's options; a public URL must be `http://` or `https://`.
    pub fn options(&self) -> Result<SimOptions, String> {
        let public_url = self.public_url.clone().filter(|url| !url.is_empty());
        if let Some(url) = &public_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(format!(
                "invalid --public-url value {url:?}: it must start with http:// or https://"
            ));
        }
        let webhook_secret = self.webhook_secret.clone().filter(|s| !s.is_empty());
        if let Some(secret) = &webhook_secret {
            super::webhooks::parse_secret(secret)
                .map_err(|e| format!("invalid --webhook-secret value: {e}"))?;
        }
        Ok(SimOptions {
            api_key: self.api_key.clone().filter(|key| !key.is_empty()),
            public_url,
            webhook_secret,
        })
    }
}
