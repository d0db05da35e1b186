//! The mailbox's connection: implicit TLS (IMAPS, port 993), STARTTLS (port 143, upgraded
//! before sign-in) or plain IMAP, which the config allows only to a loopback address (a
//! relay on the same machine). TLS is rustls with ring, as the desktop's HTTP client uses;
//! the server's certificate is checked against the Mozilla roots (webpki-roots), or only
//! against the certificates of the mailbox's `ca_file` when it names one (a private CA, or
//! a self-signed certificate).

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore};

/// How a mailbox's connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// TLS from the first byte (IMAPS, port 993 by default).
    Implicit,
    /// Plain IMAP upgraded with STARTTLS before sign-in (port 143 by default); a server that
    /// refuses STARTTLS is an error, never a fallback to plain text.
    StartTls,
    /// No TLS: allowed only to a loopback address (see [`TlsMode::parse`]).
    None,
}

impl TlsMode {
    /// `implicit`, `starttls` or `none`.
    pub fn parse(s: &str) -> Option<TlsMode> {
        match s {
            "implicit" => Some(TlsMode::Implicit),
            "starttls" => Some(TlsMode::StartTls),
            "none" => Some(TlsMode::None),
            _ => None,
        }
    }

    pub fn default_port(self) -> u16 {
        match self {
            TlsMode::Implicit => 993,
            TlsMode::StartTls | TlsMode::None => 143,
        }
    }
}

/// Whether `host` names this machine (the only place plain IMAP may go: the password
/// would otherwise cross the network in clear).
pub fn is_loopback(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost")
        || h.parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The certificates of a PEM file (at least one).
pub fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("ca_file {}: {e}", path.display()))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("ca_file {}: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "ca_file {}: no PEM certificate in it",
            path.display()
        ));
    }
    Ok(certs)
}

/// The TLS client configuration of a mailbox: the Mozilla roots, or only `ca_file`'s.
pub fn client_config(ca_file: Option<&PathBuf>) -> Result<Arc<ClientConfig>, String> {
    let mut roots = RootCertStore::empty();
    match ca_file {
        Some(path) => {
            for cert in read_ca_file(path)? {
                roots
                    .add(cert)
                    .map_err(|e| format!("ca_file {}: {e}", path.display()))?;
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let config =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS setup: {e}"))?
            .with_root_certificates(roots)
            .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The byte stream under the IMAP client: plain TCP or TLS over it.
pub enum MailStream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl std::fmt::Debug for MailStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            MailStream::Plain(_) => "MailStream::Plain",
            MailStream::Tls(_) => "MailStream::Tls",
        })
    }
}

impl AsyncRead for MailStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            MailStream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            MailStream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for MailStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            MailStream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            MailStream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            MailStream::Plain(s) => Pin::new(s).poll_flush(cx),
            MailStream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            MailStream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            MailStream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// The TLS handshake over `tcp`, naming what failed (a certificate the CA does not vouch
/// for says which setting to look at).
async fn handshake(
    tcp: TcpStream,
    host: &str,
    port: u16,
    ca_file: Option<&PathBuf>,
) -> Result<MailStream, String> {
    let config = client_config(ca_file)?;
    let name = ServerName::try_from(host.to_owned())
        .map_err(|e| format!("{host} is not a name TLS can check: {e}"))?;
    let tls = tokio::time::timeout(
        Duration::from_secs(30),
        TlsConnector::from(config).connect(name, tcp),
    )
    .await
    .map_err(|_| format!("TLS handshake with {host}:{port} timed out"))?
    .map_err(|e| {
        let mut msg = format!("TLS handshake with {host}:{port} failed: {e}");
        if msg.contains("certificate") {
            msg.push_str(match ca_file {
                Some(_) => " (ca_file does not vouch for the server's certificate)",
                None => {
                    " (no public CA vouches for the server's certificate; set ca_file to its CA)"
                }
            });
        }
        msg
    })?;
    Ok(MailStream::Tls(Box::new(tls)))
}

/// What the session needs to connect.
pub struct Endpoint<'a> {
    pub host: &'a str,
    pub port: u16,
    pub tls: TlsMode,
    pub ca_file: Option<&'a PathBuf>,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// An IMAP client past the server's greeting (and, for STARTTLS, past the upgrade), ready
/// to sign in.
pub async fn connect(ep: &Endpoint<'_>) -> Result<async_imap::Client<MailStream>, BoxError> {
    let tcp = tokio::time::timeout(
        Duration::from_secs(30),
        TcpStream::connect((ep.host, ep.port)),
    )
    .await
    .map_err(|_| format!("connecting to {}:{} timed out", ep.host, ep.port))?
    .map_err(|e| format!("connecting to {}:{}: {e}", ep.host, ep.port))?;
    let stream = match ep.tls {
        TlsMode::Implicit => handshake(tcp, ep.host, ep.port, ep.ca_file).await?,
        TlsMode::None => MailStream::Plain(tcp),
        TlsMode::StartTls => {
            let mut plain = async_imap::Client::new(tcp);
            plain
                .read_response()
                .await?
                .ok_or("the IMAP server closed the connection before its greeting")?;
            plain
                .run_command_and_check_ok("STARTTLS", None)
                .await
                .map_err(|e| format!("the IMAP server refused STARTTLS: {e}"))?;
            // No greeting follows the upgrade.
            let tls = handshake(plain.into_inner(), ep.host, ep.port, ep.ca_file).await?;
            return Ok(async_imap::Client::new(tls));
        }
    };
    let mut client = async_imap::Client::new(stream);
    client
        .read_response()
        .await?
        .ok_or("the IMAP server closed the connection before its greeting")?;
    Ok(client)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_ports_and_loopback() {
        assert_eq!(TlsMode::parse("implicit"), Some(TlsMode::Implicit));
        assert_eq!(TlsMode::parse("starttls"), Some(TlsMode::StartTls));
        assert_eq!(TlsMode::parse("none"), Some(TlsMode::None));
        assert_eq!(TlsMode::parse("ssl"), None);
        assert_eq!(TlsMode::Implicit.default_port(), 993);
        assert_eq!(TlsMode::StartTls.default_port(), 143);
        for h in ["127.0.0.1", "127.3.4.5", "::1", "[::1]", "localhost"] {
            assert!(is_loopback(h), "{h}");
        }
        for h in ["imap.example.com", "10.0.0.1", "192.168.1.2"] {
            assert!(!is_loopback(h), "{h}");
        }
    }

    #[test]
    fn a_ca_file_without_certificates_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, "not a certificate\n").unwrap();
        assert!(
            client_config(Some(&path))
                .unwrap_err()
                .contains("no PEM certificate")
        );
        assert!(
            client_config(Some(&dir.path().join("missing.pem")))
                .unwrap_err()
                .contains("missing.pem")
        );
        assert!(client_config(None).is_ok(), "the public roots load");
    }
}
