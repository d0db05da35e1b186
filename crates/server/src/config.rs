//! The service's configuration file (`/etc/rapport/server.toml` in the Debian package).
//!
//! Every key is optional; a missing one takes the default below. What comes from the command
//! line or the environment (`--database-url` / `DATABASE_URL`, the `serve` flags) overrides the
//! file. Errors name the key at fault (`server.listen`, `database.url`, ...) and the line.
//!
//! Secrets never sit in a file everyone can read: a database URL with a password is refused
//! when the config file is world-readable. Put the password in `database.password_file` (a
//! file only the service can read) or `DATABASE_URL` in the unit's environment file instead.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::Deserialize;
use sqlx::postgres::PgConnectOptions;

/// Where the Debian package installs the file.
pub const DEFAULT_PATH: &str = "/etc/rapport/server.toml";

/// The whole file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub server: ServerSection,
    pub database: DatabaseSection,
    pub retention: RetentionSection,
    pub oncall: OnCallSection,
    pub smtp: SmtpSection,
}

/// `[server]`: the HTTP side.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSection {
    /// Address and port to listen on; port 0 picks one.
    pub listen: SocketAddr,
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
    /// How long a sign-in lasts, in hours.
    pub token_ttl_hours: i64,
}

impl Default for ServerSection {
    fn default() -> Self {
        ServerSection {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            max_body_bytes: 4 * 1024 * 1024,
            token_ttl_hours: 24 * 30,
        }
    }
}

/// `[database]`: the PostgreSQL the service keeps everything in.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseSection {
    /// e.g. `postgres:///rapport?host=/run/postgresql` (local socket, peer authentication).
    pub url: Option<String>,
    /// A file holding the database password (one line), e.g. a systemd credential.
    pub password_file: Option<PathBuf>,
    /// Database connections of one process.
    pub max_connections: u32,
    /// Where `url` came from, for error messages (not a key of the file).
    #[serde(skip)]
    url_source: UrlSource,
}

impl Default for DatabaseSection {
    fn default() -> Self {
        DatabaseSection {
            url: None,
            password_file: None,
            max_connections: 20,
            url_source: UrlSource::File,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum UrlSource {
    #[default]
    File,
    Override,
}

/// `[retention]`: how long deleted records are remembered.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionSection {
    /// Tombstones older than this many days are purged (hourly); older cursors reset.
    pub tombstone_days: i64,
}

impl Default for RetentionSection {
    fn default() -> Self {
        RetentionSection { tombstone_days: 90 }
    }
}

/// `[oncall]`: the watcher that pages, and the Acknowledge links of its emails.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OnCallSection {
    /// Where people reach this service (`https://rapport.example.com`): the base of the
    /// Acknowledge links. Without it, page emails carry no link.
    pub public_url: Option<String>,
    /// A file holding the links' HMAC key (at least 32 characters; the same in every server
    /// process). `RAPPORT_ONCALL_LINK_SECRET` in the service's environment does instead.
    pub link_secret_file: Option<PathBuf>,
    /// How long an Acknowledge link works, in hours.
    pub link_hours: i64,
    /// How often the watcher looks for due pages, in seconds.
    pub tick_seconds: u64,
    /// How long a claimed page is left to its process before another takes it again.
    pub lease_seconds: i64,
}

impl Default for OnCallSection {
    fn default() -> Self {
        OnCallSection {
            public_url: None,
            link_secret_file: None,
            link_hours: 24,
            tick_seconds: 5,
            lease_seconds: 120,
        }
    }
}

/// `[smtp]`: where page emails are sent. No `host`: no email (webhooks still go).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpSection {
    pub host: Option<String>,
    /// Default: 587 for `starttls`, 465 for `tls`, 25 for `none`.
    pub port: Option<u16>,
    /// `starttls` (default), `tls`, or `none` (a relay on this host only).
    pub security: String,
    pub username: Option<String>,
    /// A file holding the password; `RAPPORT_SMTP_PASSWORD` in the environment does instead.
    pub password_file: Option<PathBuf>,
    /// The From of the pages, e.g. `Rapport on call <oncall@example.com>`.
    pub from: Option<String>,
    pub timeout_seconds: u64,
}

impl Default for SmtpSection {
    fn default() -> Self {
        SmtpSection {
            host: None,
            port: None,
            security: "starttls".into(),
            username: None,
            password_file: None,
            from: None,
            timeout_seconds: 30,
        }
    }
}

/// The variable that holds the SMTP password instead of `smtp.password_file`.
pub const SMTP_PASSWORD_ENV: &str = "RAPPORT_SMTP_PASSWORD";
/// The variable that holds the Acknowledge links' key instead of `oncall.link_secret_file`.
pub const LINK_SECRET_ENV: &str = "RAPPORT_ONCALL_LINK_SECRET";

/// A secret from a private file (one line).
fn read_secret(key: &str, path: &Path) -> Result<String, ConfigError> {
    let err = |message: String| ConfigError {
        file: None,
        key: Some(key.to_owned()),
        line: None,
        message,
    };
    if world_readable(path) {
        return Err(err(format!(
            "{} is readable by every user: chmod 0640 it (owner root, group of the service)",
            path.display()
        )));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| err(format!("cannot read {}: {e}", path.display())))?;
    let secret = text.trim_end_matches(['\r', '\n']);
    if secret.is_empty() {
        return Err(err(format!("{} is empty", path.display())));
    }
    Ok(secret.to_owned())
}

impl Config {
    /// What on call runs with: the sections above, the secrets from their files or from
    /// the environment (`env` reads a variable).
    pub fn oncall_settings(
        &self,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<crate::oncall::OnCallSettings, ConfigError> {
        use crate::oncall::{OnCallSettings, Secret, SmtpSecurity, SmtpSettings};
        let err = |key: &str, message: String| ConfigError {
            file: None,
            key: Some(key.to_owned()),
            line: None,
            message,
        };
        let o = &self.oncall;
        let link_secret = match (&o.link_secret_file, env(LINK_SECRET_ENV)) {
            (Some(path), _) => Some(read_secret("oncall.link_secret_file", path)?),
            (None, Some(s)) if !s.is_empty() => Some(s),
            _ => None,
        };
        if let Some(s) = &link_secret
            && s.chars().count() < 32
        {
            return Err(err(
                "oncall.link_secret_file",
                "the link secret is too short: at least 32 characters (e.g. `openssl rand -hex 32`)"
                    .into(),
            ));
        }
        let smtp = match &self.smtp.host {
            None => None,
            Some(host) => {
                let s = &self.smtp;
                let security = match s.security.as_str() {
                    "starttls" => SmtpSecurity::StartTls,
                    "tls" => SmtpSecurity::Tls,
                    "none" => SmtpSecurity::None,
                    other => {
                        return Err(err(
                            "smtp.security",
                            format!("{other:?}: expected starttls, tls or none"),
                        ));
                    }
                };
                let from = s.from.clone().ok_or_else(|| {
                    err(
                        "smtp.from",
                        "pages need a From address, e.g. \"Rapport on call <oncall@example.com>\""
                            .into(),
                    )
                })?;
                let password = match (&s.password_file, env(SMTP_PASSWORD_ENV)) {
                    (Some(path), _) => Some(read_secret("smtp.password_file", path)?),
                    (None, Some(p)) if !p.is_empty() => Some(p),
                    _ => None,
                };
                Some(SmtpSettings {
                    host: host.clone(),
                    port: s.port.unwrap_or(match security {
                        SmtpSecurity::StartTls => 587,
                        SmtpSecurity::Tls => 465,
                        SmtpSecurity::None => 25,
                    }),
                    security,
                    username: s.username.clone(),
                    password: password.map(Secret),
                    from,
                    timeout: std::time::Duration::from_secs(s.timeout_seconds.max(1)),
                })
            }
        };
        Ok(OnCallSettings {
            public_url: o.public_url.clone(),
            link_secret: link_secret.map(Secret),
            link_ttl: chrono::TimeDelta::hours(o.link_hours),
            smtp,
            tick: std::time::Duration::from_secs(o.tick_seconds),
            lease: chrono::TimeDelta::seconds(o.lease_seconds),
            ..OnCallSettings::default()
        })
    }
}

/// A configuration that cannot be used, with the key at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The file, or `None` for the command line and environment.
    pub file: Option<PathBuf>,
    /// `server.listen`, `database.url`, `DATABASE_URL`, ...; `None` for a syntax error.
    pub key: Option<String>,
    /// 1-based line in the file, where known.
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{}", file.display())?;
            if let Some(line) = self.line {
                write!(f, ", line {line}")?;
            }
            write!(f, ": ")?;
        }
        if let Some(key) = &self.key {
            write!(f, "{key}: ")?;
        }
        write!(f, "{}", self.message)
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Reads and checks `path`, including that no secret in it is readable by everyone.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: Some(path.to_owned()),
            key: None,
            line: None,
            message: format!("cannot read the config file: {e}"),
        })?;
        let config = Config::parse(&text, Some(path))?;
        if world_readable(path) && config.database.url.as_deref().is_some_and(has_password) {
            return Err(ConfigError {
                file: Some(path.to_owned()),
                key: Some("database.url".into()),
                line: line_of_key(&text, "database", "url"),
                message: "holds a password, and this file is readable by every user: put the \
                          password in database.password_file or set DATABASE_URL in the \
                          service's environment file instead"
                    .into(),
            });
        }
        Ok(config)
    }

    /// Parses and checks the text of a config file (`file` only names it in errors).
    pub fn parse(text: &str, file: Option<&Path>) -> Result<Config, ConfigError> {
        let err = |key: Option<String>, line: Option<usize>, message: String| ConfigError {
            file: file.map(Path::to_owned),
            key,
            line,
            message,
        };
        let de = toml::Deserializer::parse(text).map_err(|e| {
            err(
                None,
                e.span().map(|s| line_at(text, s.start)),
                e.message().trim().to_owned(),
            )
        })?;
        let config: Config = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.inner();
            let line = inner.span().map(|s| line_at(text, s.start));
            let message = inner.message().trim().to_owned();
            // serde names an unknown key in its message (the path may or may not end with it).
            if let Some(name) = message
                .strip_prefix("unknown field `")
                .and_then(|rest| rest.split('`').next())
            {
                let key = if path == "." {
                    name.to_owned()
                } else if path.rsplit('.').next() == Some(name) {
                    path
                } else {
                    format!("{path}.{name}")
                };
                let known = message
                    .split_once(", expected ")
                    .map(|(_, k)| format!("; expected {}", k.replace('`', "")))
                    .unwrap_or_default();
                return err(Some(key), line, format!("unknown key{known}"));
            }
            err(Some(path), line, message)
        })?;
        config.check().map_err(|(section, key, message)| {
            err(
                Some(format!("{section}.{key}")),
                line_of_key(text, section, key),
                message,
            )
        })?;
        Ok(config)
    }

    /// The values' own limits, as `(section, key, why)`.
    fn check(&self) -> Result<(), (&'static str, &'static str, String)> {
        if self.server.max_body_bytes < 1024 {
            return Err((
                "server",
                "max_body_bytes",
                format!("{} is too small: at least 1024", self.server.max_body_bytes),
            ));
        }
        if !(1..=24 * 365).contains(&self.server.token_ttl_hours) {
            return Err((
                "server",
                "token_ttl_hours",
                format!(
                    "{} is out of range: 1 to 8760 hours",
                    self.server.token_ttl_hours
                ),
            ));
        }
        if !(1..=1000).contains(&self.database.max_connections) {
            return Err((
                "database",
                "max_connections",
                format!(
                    "{} is out of range: 1 to 1000",
                    self.database.max_connections
                ),
            ));
        }
        if let Some(url) = &self.database.url {
            check_url(url).map_err(|why| ("database", "url", why))?;
        }
        if !(1..=3650).contains(&self.retention.tombstone_days) {
            return Err((
                "retention",
                "tombstone_days",
                format!(
                    "{} is out of range: 1 to 3650 days",
                    self.retention.tombstone_days
                ),
            ));
        }
        if !(1..=24 * 30).contains(&self.oncall.link_hours) {
            return Err((
                "oncall",
                "link_hours",
                format!("{} is out of range: 1 to 720 hours", self.oncall.link_hours),
            ));
        }
        if !(1..=3600).contains(&self.oncall.tick_seconds) {
            return Err((
                "oncall",
                "tick_seconds",
                format!("{} is out of range: 1 to 3600", self.oncall.tick_seconds),
            ));
        }
        if !(10..=3600).contains(&self.oncall.lease_seconds) {
            return Err((
                "oncall",
                "lease_seconds",
                format!("{} is out of range: 10 to 3600", self.oncall.lease_seconds),
            ));
        }
        if let Some(u) = &self.oncall.public_url
            && !url::Url::parse(u).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
        {
            return Err((
                "oncall",
                "public_url",
                format!("{u:?} is not an http(s) URL"),
            ));
        }
        if !matches!(self.smtp.security.as_str(), "starttls" | "tls" | "none") {
            return Err((
                "smtp",
                "security",
                format!("{:?}: expected starttls, tls or none", self.smtp.security),
            ));
        }
        if self.smtp.host.is_some() && self.smtp.from.is_none() {
            return Err((
                "smtp",
                "from",
                "pages need a From address when smtp.host is set".into(),
            ));
        }
        Ok(())
    }

    /// Replaces `database.url` with one from `--database-url` / `DATABASE_URL`.
    pub fn override_database_url(&mut self, url: String) -> Result<(), ConfigError> {
        check_url(&url).map_err(|why| ConfigError {
            file: None,
            key: Some("DATABASE_URL".into()),
            line: None,
            message: why,
        })?;
        self.database.url = Some(url);
        self.database.url_source = UrlSource::Override;
        Ok(())
    }

    /// How to connect: the URL, with the password from `database.password_file` if set.
    pub fn database_options(&self, file: Option<&Path>) -> Result<PgConnectOptions, ConfigError> {
        let err = |key: &str, message: String| ConfigError {
            file: file.map(Path::to_owned),
            key: Some(key.to_owned()),
            line: None,
            message,
        };
        let url_key = match self.database.url_source {
            UrlSource::File => "database.url",
            UrlSource::Override => "DATABASE_URL",
        };
        let Some(url) = &self.database.url else {
            return Err(err(
                "database.url",
                "no database: set database.url in the config file, or DATABASE_URL \
                 (e.g. postgres:///rapport?host=/run/postgresql)"
                    .into(),
            ));
        };
        let mut options = PgConnectOptions::from_str(url)
            .map_err(|e| err(url_key, format!("not a PostgreSQL URL: {e}")))?;
        if let Some(path) = &self.database.password_file {
            let key = "database.password_file";
            if world_readable(path) {
                return Err(err(
                    key,
                    format!(
                        "{} is readable by every user: chmod 0640 it (owner root, group of \
                         the service)",
                        path.display()
                    ),
                ));
            }
            let text = std::fs::read_to_string(path)
                .map_err(|e| err(key, format!("cannot read {}: {e}", path.display())))?;
            let password = text.trim_end_matches(['\r', '\n']);
            if password.is_empty() {
                return Err(err(key, format!("{} is empty", path.display())));
            }
            options = options.password(password);
        }
        Ok(options)
    }
}

/// Why `url` is no PostgreSQL URL, if it is not.
fn check_url(url: &str) -> Result<(), String> {
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(format!(
            "{:?} is not a PostgreSQL URL: it starts with postgres:// (e.g. \
             postgres:///rapport?host=/run/postgresql)",
            redact(url)
        ));
    }
    PgConnectOptions::from_str(url)
        .map(|_| ())
        .map_err(|e| format!("not a PostgreSQL URL: {e}"))
}

/// Whether the URL carries a password (in the authority or as `?password=`).
fn has_password(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|u| {
        u.password().is_some_and(|p| !p.is_empty()) || u.query_pairs().any(|(k, _)| k == "password")
    })
}

/// The URL with any password replaced by `***`, for messages.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            if u.password().is_some() {
                let _ = u.set_password(Some("***"));
            }
            if u.query_pairs().any(|(k, _)| k == "password") {
                let pairs: Vec<(String, String)> = u
                    .query_pairs()
                    .map(|(k, v)| {
                        let v = if k == "password" {
                            "***".into()
                        } else {
                            v.into_owned()
                        };
                        (k.into_owned(), v)
                    })
                    .collect();
                u.query_pairs_mut().clear().extend_pairs(pairs);
            }
            u.to_string()
        }
        Err(_) => "(unparsable URL)".into(),
    }
}

#[cfg(unix)]
fn world_readable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o004 != 0)
}

#[cfg(not(unix))]
fn world_readable(_path: &Path) -> bool {
    false
}

/// 1-based line of byte offset `at`.
fn line_at(text: &str, at: usize) -> usize {
    text.get(..at).map_or(0, |t| t.matches('\n').count()) + 1
}

/// The line of `key = ...` inside `[section]`, if the file has one.
fn line_of_key(text: &str, section: &str, key: &str) -> Option<usize> {
    let mut current = String::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.split(']').next()) {
            current = name.trim().to_owned();
        } else if current == section
            && line
                .split_once('=')
                .is_some_and(|(k, _)| k.trim().trim_matches('"') == key)
        {
            return Some(i + 1);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Some(Path::new("server.toml")))
    }

    #[test]
    fn an_empty_file_gives_the_defaults() {
        let c = parse("").expect("every key is optional");
        assert_eq!(c.server.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.server.token_ttl_hours, 720);
        assert_eq!(c.database.max_connections, 20);
        assert_eq!(c.retention.tombstone_days, 90);
        assert!(c.database.url.is_none());
    }

    #[test]
    fn the_packaged_file_is_valid() {
        let text = include_str!("../../../packaging/server/server.toml");
        let c = parse(text).expect("the file the package installs must be accepted");
        assert!(
            c.database.url.is_some(),
            "the packaged file names a database"
        );
        assert!(
            !has_password(c.database.url.as_deref().unwrap_or_default()),
            "the packaged, world-readable file holds no password"
        );
    }

    #[test]
    fn a_full_file_is_read() {
        let c = parse(
            "[server]\nlisten = \"0.0.0.0:9000\"\nmax_body_bytes = 2048\ntoken_ttl_hours = 8\n\
             [database]\nurl = \"postgres://rapport@db/rapport\"\nmax_connections = 5\n\
             [retention]\ntombstone_days = 30\n",
        )
        .expect("valid");
        assert_eq!(c.server.listen.to_string(), "0.0.0.0:9000");
        assert_eq!(c.server.max_body_bytes, 2048);
        assert_eq!(c.server.token_ttl_hours, 8);
        assert_eq!(c.database.max_connections, 5);
        assert_eq!(c.retention.tombstone_days, 30);
    }

    /// Each bad file is refused naming the key at fault and its line.
    #[test]
    fn bad_files_name_the_key() {
        let cases: &[(&str, &str, Option<usize>, &str)] = &[
            (
                "[server]\nlisten = \"localhost\"\n",
                "server.listen",
                Some(2),
                "socket address",
            ),
            (
                "[server]\nlistn = \"127.0.0.1:1\"\n",
                "server.listn",
                Some(2),
                "unknown key; expected one of listen",
            ),
            (
                "[mailbox]\nhost = \"x\"\n",
                "mailbox",
                Some(1),
                "unknown key",
            ),
            (
                "[database]\n\nmax_connections = \"many\"\n",
                "database.max_connections",
                Some(3),
                "invalid type",
            ),
            (
                "[database]\nmax_connections = 0\n",
                "database.max_connections",
                Some(2),
                "out of range",
            ),
            (
                "[database]\nurl = \"mysql://x/y\"\n",
                "database.url",
                Some(2),
                "not a PostgreSQL URL",
            ),
            (
                "[retention]\ntombstone_days = -1\n",
                "retention.tombstone_days",
                Some(2),
                "out of range",
            ),
            (
                "[server]\ntoken_ttl_hours = 0\n",
                "server.token_ttl_hours",
                Some(2),
                "out of range",
            ),
        ];
        for (text, key, line, words) in cases {
            let e = parse(text).expect_err(text);
            assert_eq!(
                e.key.as_deref(),
                Some(*key),
                "the key at fault in {text:?}: {e}"
            );
            assert_eq!(e.line, *line, "the line of the fault in {text:?}: {e}");
            assert!(
                e.message.contains(words),
                "the message of {text:?} says {words:?}: {e}"
            );
            assert!(
                e.to_string().starts_with("server.toml"),
                "the message names the file: {e}"
            );
        }
    }

    #[test]
    fn a_syntax_error_gives_its_line() {
        let e = parse("[server]\nlisten = \n").expect_err("no value");
        assert_eq!(e.key, None);
        assert_eq!(e.line, Some(2), "{e}");
    }

    #[cfg(unix)]
    #[test]
    fn a_password_in_a_world_readable_file_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("server.toml");
        std::fs::write(
            &path,
            "[database]\nurl = \"postgres://rapport:s3cret@db/rapport\"\n",
        )
        .expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let e = Config::load(&path).expect_err("a readable secret");
        assert_eq!(e.key.as_deref(), Some("database.url"), "{e}");
        assert_eq!(e.line, Some(2));
        assert!(
            !e.to_string().contains("s3cret"),
            "the error never repeats the secret: {e}"
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).expect("chmod");
        Config::load(&path).expect("a file only the service can read may hold the password");
    }

    #[cfg(unix)]
    #[test]
    fn the_password_file_is_read_and_must_be_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let secret = dir.path().join("db-password");
        std::fs::write(&secret, "s3cret\n").expect("write");
        std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let text = format!(
            "[database]\nurl = \"postgres://rapport@db/rapport\"\npassword_file = {:?}\n",
            secret.display().to_string()
        );
        let c = parse(&text).expect("valid");
        let e = c.database_options(None).expect_err("world-readable");
        assert_eq!(e.key.as_deref(), Some("database.password_file"), "{e}");
        std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        let opts = c.database_options(None).expect("a private password file");
        assert_eq!(opts.get_username(), "rapport");
        assert_eq!(opts.get_host(), "db");
    }

    #[test]
    fn the_environment_overrides_the_file_and_is_named_in_errors() {
        let mut c = parse("[database]\nurl = \"postgres://a@h/db\"\n").expect("valid");
        let e = c
            .override_database_url("http://nope".into())
            .expect_err("not postgres");
        assert_eq!(e.key.as_deref(), Some("DATABASE_URL"));
        c.override_database_url("postgres://b@h2/db2".into())
            .expect("valid");
        let opts = c.database_options(None).expect("valid");
        assert_eq!(opts.get_username(), "b");
        assert_eq!(opts.get_database(), Some("db2"));
    }

    #[test]
    fn no_database_is_named() {
        let e = parse("")
            .expect("valid")
            .database_options(None)
            .expect_err("no URL");
        assert_eq!(e.key.as_deref(), Some("database.url"));
    }

    #[test]
    fn on_call_settings_take_their_secrets_from_files_or_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("link-secret");
        std::fs::write(&secret, format!("{}\n", "k".repeat(40))).unwrap();
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let c = parse(&format!(
            "[oncall]\npublic_url = \"https://rapport.example.com\"\nlink_secret_file = {secret:?}\n\
             [smtp]\nhost = \"smtp.example.com\"\nusername = \"rapport\"\nfrom = \"Rapport <oncall@example.com>\"\n"
        ))
        .expect("valid");
        let env = |k: &str| (k == SMTP_PASSWORD_ENV).then(|| "pw-from-env".to_owned());
        let s = c.oncall_settings(&env).expect("usable");
        assert_eq!(s.link_secret.as_ref().unwrap().0, "k".repeat(40));
        let smtp = s.smtp.as_ref().unwrap();
        assert_eq!(
            smtp.port, 587,
            "starttls by default, on the submission port"
        );
        assert_eq!(smtp.password.as_ref().unwrap().0, "pw-from-env");
        assert!(
            !format!("{s:?}").contains("pw-from-env") && !format!("{s:?}").contains("kkkk"),
            "secrets never show in Debug output"
        );
        let short = |k: &str| (k == LINK_SECRET_ENV).then(|| "short".to_owned());
        let e = parse("").unwrap().oncall_settings(&short).unwrap_err();
        assert_eq!(e.key.as_deref(), Some("oncall.link_secret_file"), "{e}");
        let e = parse("[smtp]\nhost = \"h\"\n").unwrap_err();
        assert_eq!(e.key.as_deref(), Some("smtp.from"), "{e}");
        let e = parse("[smtp]\nsecurity = \"ssl\"\n").unwrap_err();
        assert_eq!(e.key.as_deref(), Some("smtp.security"), "{e}");
    }

    #[test]
    fn redact_hides_passwords() {
        assert_eq!(redact("postgres://u:pw@h/db"), "postgres://u:***@h/db");
        assert!(!redact("postgres://u@h/db?password=pw").contains("pw"));
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
    }
}
