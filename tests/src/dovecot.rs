//! A real Dovecot (Debian's `dovecot-imapd`) for the mailbox tests, started from a throw-away
//! config in a temp folder (`dovecot -F -c …`, a passwd-file user, its own port), never as a
//! system service. Mail is delivered as a mail server would, through `dovecot-lda`.
//! [`Dovecot::start_tls`] also serves TLS: a throw-away self-signed certificate for
//! `localhost`/`127.0.0.1` (made with rcgen at test time) on an IMAPS port, and STARTTLS
//! on the plain one.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use tokio::io::AsyncWriteExt;

pub const USER: &str = "support";
pub const PASSWORD: &str = "mailbox secret 1";
const LDA: &str = "/usr/lib/dovecot/dovecot-lda";

pub struct Dovecot {
    pub dir: tempfile::TempDir,
    /// Plain IMAP (and STARTTLS when started with TLS).
    pub port: u16,
    /// Implicit TLS (IMAPS), when started with TLS.
    pub tls_port: Option<u16>,
    /// The server certificate (PEM), the one file a client must trust, when started with TLS.
    pub cert_file: Option<PathBuf>,
    child: Option<tokio::process::Child>,
}

/// A self-signed certificate for `localhost` and `127.0.0.1`: (certificate PEM, key PEM).
pub fn self_signed_certificate() -> Result<(String, String)> {
    let rcgen::CertifiedKey { cert, signing_key } =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])?;
    Ok((cert.pem(), signing_key.serialize_pem()))
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

impl Dovecot {
    /// Plain IMAP only.
    pub async fn start() -> Result<Dovecot> {
        Self::start_with(false).await
    }

    /// Plain IMAP with STARTTLS on [`Dovecot::port`] and IMAPS on [`Dovecot::tls_port`],
    /// with a fresh self-signed certificate ([`Dovecot::cert_file`]).
    pub async fn start_tls() -> Result<Dovecot> {
        Self::start_with(true).await
    }

    async fn start_with(tls: bool) -> Result<Dovecot> {
        let dir = tempfile::tempdir()?;
        let d = dir.path();
        for sub in ["run", "state", "mail"] {
            std::fs::create_dir_all(d.join(sub))?;
        }
        // Dovecot's auth process (the `dovecot` user) reads the passwd file in here.
        std::fs::set_permissions(d, std::os::unix::fs::PermissionsExt::from_mode(0o755))?;
        // Mail is stored as the `dovecot` user (mail access as root is refused).
        let status = std::process::Command::new("chown")
            .args(["-R", "dovecot:dovecot"])
            .arg(d.join("mail"))
            .status()?;
        if !status.success() {
            bail!("chown of the mail folder failed");
        }
        std::fs::write(
            d.join("passwd"),
            format!("{USER}:{{PLAIN}}{PASSWORD}::::::\n"),
        )?;
        let port = free_port()?;
        let p = d.display();
        let (ssl, tls_port, cert_file) = if tls {
            let (cert, key) = self_signed_certificate()?;
            std::fs::write(d.join("cert.pem"), cert)?;
            std::fs::write(d.join("key.pem"), key)?;
            (
                format!("ssl = yes\nssl_cert = <{p}/cert.pem\nssl_key = <{p}/key.pem\n"),
                Some(free_port()?),
                Some(d.join("cert.pem")),
            )
        } else {
            ("ssl = no\n".to_owned(), None, None)
        };
        let imaps = tls_port.map_or_else(
            || "  inet_listener imaps {\n    port = 0\n  }\n".to_owned(),
            |t| format!("  inet_listener imaps {{\n    address = 127.0.0.1\n    port = {t}\n    ssl = yes\n  }}\n"),
        );
        let conf = format!(
            "base_dir = {p}/run\nstate_dir = {p}/state\nlog_path = {p}/dovecot.log\n\
             protocols = imap\nlisten = 127.0.0.1\n{ssl}first_valid_uid = 100\n\
             disable_plaintext_auth = no\nauth_mechanisms = plain login\n\
             mail_location = maildir:{p}/mail/%u\n\
             passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u {p}/passwd\n}}\n\
             userdb {{\n  driver = static\n  args = uid=dovecot gid=dovecot home={p}/mail/%u\n}}\n\
             service imap-login {{\n  chroot =\n  inet_listener imap {{\n    address = 127.0.0.1\n    port = {port}\n  }}\n{imaps}}}\n\
             service anvil {{\n  chroot =\n}}\n"
        );
        std::fs::write(d.join("dovecot.conf"), conf)?;
        let mut dv = Dovecot {
            dir,
            port,
            tls_port,
            cert_file,
            child: None,
        };
        dv.run().await?;
        Ok(dv)
    }

    fn conf(&self) -> PathBuf {
        self.dir.path().join("dovecot.conf")
    }

    async fn run(&mut self) -> Result<()> {
        let child = tokio::process::Command::new("dovecot")
            .arg("-F")
            .arg("-c")
            .arg(self.conf())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("starting dovecot (apt-get install dovecot-imapd)")?;
        self.child = Some(child);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        for port in std::iter::once(self.port).chain(self.tls_port) {
            while tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_err()
            {
                if tokio::time::Instant::now() > deadline {
                    bail!("dovecot did not listen on {port} within 15 s");
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        Ok(())
    }

    /// Stops Dovecot (the mail stays in its folder).
    pub async fn stop(&mut self) -> Result<()> {
        if let Some(mut c) = self.child.take() {
            c.kill().await?;
        }
        // The port is free once nothing accepts on it.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .is_ok()
        {
            if tokio::time::Instant::now() > deadline {
                bail!("dovecot still listens after being stopped");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(())
    }

    pub async fn restart(&mut self) -> Result<()> {
        self.stop().await?;
        self.run().await
    }

    /// Runs `doveadm` on this Dovecot's config for the test user (`doveadm <cmd> -u support
    /// <args>`), with `stdin` as its input; returns what it printed.
    async fn doveadm(&self, cmd: &[&str], args: &[&str], stdin: &[u8]) -> Result<String> {
        let mut child = tokio::process::Command::new("doveadm")
            .arg("-c")
            .arg(self.conf())
            .args(cmd)
            .args(["-u", USER])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .context("running doveadm (dovecot-core)")?;
        let mut input = child.stdin.take().context("doveadm stdin")?;
        input.write_all(stdin).await?;
        drop(input);
        let out = child.wait_with_output().await?;
        if !out.status.success() {
            bail!(
                "doveadm {cmd:?} {args:?} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Creates the folder `name` in the user's mailbox.
    pub async fn create_folder(&self, name: &str) -> Result<()> {
        self.doveadm(&["mailbox", "create"], &[name], b"").await?;
        Ok(())
    }

    /// Deletes the folder `name` with its messages.
    pub async fn delete_folder(&self, name: &str) -> Result<()> {
        self.doveadm(&["mailbox", "delete"], &[name], b"").await?;
        Ok(())
    }

    /// Stores one message into folder `name` (as an IMAP APPEND would: no headers added).
    pub async fn save(&self, name: &str, raw: &[u8]) -> Result<()> {
        self.doveadm(&["save"], &["-m", name], raw).await?;
        Ok(())
    }

    /// The folder's UIDVALIDITY.
    pub async fn uid_validity(&self, name: &str) -> Result<u32> {
        let out = self
            .doveadm(&["mailbox", "status"], &["uidvalidity", name], b"")
            .await?;
        out.split_whitespace()
            .find_map(|w| w.strip_prefix("uidvalidity="))
            .and_then(|v| v.parse().ok())
            .with_context(|| format!("doveadm printed {out:?}"))
    }

    /// Delivers one message into the user's INBOX as a mail server would.
    pub async fn deliver(&self, raw: &[u8]) -> Result<()> {
        let mut lda = tokio::process::Command::new(LDA)
            .arg("-c")
            .arg(self.conf())
            .args(["-d", USER])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()?;
        let mut stdin = lda.stdin.take().context("dovecot-lda stdin")?;
        stdin.write_all(raw).await?;
        drop(stdin);
        let out = lda.wait_with_output().await?;
        if !out.status.success() {
            bail!(
                "dovecot-lda failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }
}
