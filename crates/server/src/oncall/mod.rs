//! On call, the server side: the roster, the escalation policy and the teams' webhooks in
//! PostgreSQL ([`store`]), the admin and acknowledge routes ([`routes`]), the watcher that
//! claims and sends due pages ([`watcher`]), the email and webhook delivery ([`delivery`])
//! and the one-time signed Acknowledge links ([`link`]). The rules themselves (who is on
//! call, which page is due) are `rapport_domain::oncall`.
//!
//! # Once, and never lost
//! A page is **claimed** before it is sent: an `INSERT` of its dedupe key (the request and
//! the domain's `PageKey`) into `oncall_pages`, which only one watcher of all server
//! processes can win, with a lease. It is marked sent after delivery. A claim whose lease
//! ran out unsent (its process was killed between claim and send, or every channel failed)
//! is taken again by any watcher with `FOR UPDATE SKIP LOCKED` and sent. Delivery is
//! therefore **at least once**: a process killed after the SMTP server took the mail but
//! before the page was marked sent sends it again after the lease. Exactly-once is not on
//! offer because neither SMTP nor a webhook can take part in the database's transaction;
//! the repeated message carries the same `Message-ID` (and the webhook the same
//! `Rapport-Page-Key`), so a mail client or a receiver can fold it.

pub mod delivery;
pub mod link;
pub mod routes;
pub mod store;
pub mod watcher;

use std::time::Duration;

use chrono::TimeDelta;

/// How to reach the SMTP server pages are sent through.
#[derive(Debug, Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    /// Never logged (the `Debug` of [`Secret`] hides it).
    pub password: Option<Secret>,
    /// The `From:` of every page, e.g. `Rapport on call <oncall@example.com>`.
    pub from: String,
    pub timeout: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain SMTP (a relay on the same host or loopback only).
    None,
    /// STARTTLS on the submission port (587), required.
    StartTls,
    /// TLS from the first byte (465).
    Tls,
}

/// A secret that never shows in `Debug` output or logs.
#[derive(Clone)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// What on call needs beside the database.
#[derive(Debug, Clone)]
pub struct OnCallSettings {
    /// Where desktops and mail readers reach this service, for the Acknowledge links
    /// (`https://rapport.example.com`); without it, pages carry no link.
    pub public_url: Option<String>,
    /// The HMAC key of the Acknowledge links; the same in every server process.
    pub link_secret: Option<Secret>,
    /// How long an Acknowledge link works.
    pub link_ttl: TimeDelta,
    /// Without SMTP settings no page goes by email (webhooks still go).
    pub smtp: Option<SmtpSettings>,
    /// How often the watcher looks for due pages.
    pub tick: Duration,
    /// How long a claimed page is left to its watcher before another takes it again.
    pub lease: TimeDelta,
    /// Claims after which a page that could not be delivered is given up (`failed`).
    pub max_attempts: i32,
}

impl Default for OnCallSettings {
    fn default() -> Self {
        OnCallSettings {
            public_url: None,
            link_secret: None,
            link_ttl: TimeDelta::hours(24),
            smtp: None,
            tick: Duration::from_secs(5),
            lease: TimeDelta::minutes(2),
            max_attempts: 10,
        }
    }
}
