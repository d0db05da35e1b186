//! Sync wire types shared by the desktop client and the central service.
//!
//! A write on the desktop becomes one [`Mutation`] in the local outbox, in the same SQLite
//! transaction as the row it changes. The mutation carries only the fields it set, so the
//! server can resolve concurrent edits per field.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Version of the sync protocol this build speaks.
pub const PROTOCOL_VERSION: u32 = 1;

/// The kinds of record that sync. Later features add theirs here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    Account,
    Contact,
    Note,
    /// A staff member's own profile (name, time zone, working hours), written on the desktop.
    User,
}

impl EntityKind {
    pub const ALL: [EntityKind; 4] = [
        EntityKind::Account,
        EntityKind::Contact,
        EntityKind::Note,
        EntityKind::User,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::Account => "account",
            EntityKind::Contact => "contact",
            EntityKind::Note => "note",
            EntityKind::User => "user",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum MutationOp {
    /// Create the record, or set the given fields of it (a re-create after a delete too).
    Upsert,
    /// Delete the record: the server keeps a tombstone.
    Delete,
}

impl MutationOp {
    pub fn as_str(self) -> &'static str {
        match self {
            MutationOp::Upsert => "upsert",
            MutationOp::Delete => "delete",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "upsert" => Some(MutationOp::Upsert),
            "delete" => Some(MutationOp::Delete),
            _ => None,
        }
    }
}

/// One client write. `id` is made by the client (UUIDv7) and makes the write idempotent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mutation {
    pub id: Uuid,
    pub entity: EntityKind,
    pub entity_id: Uuid,
    pub op: MutationOp,
    /// The fields this write sets, by their wire names (empty for a delete).
    #[serde(default)]
    pub fields: serde_json::Map<String, serde_json::Value>,
    /// For writes checked against a version (a request's severity or status): the version
    /// the client based the change on. `None` for last-writer-wins fields.
    #[serde(default)]
    pub base_version: Option<i64>,
    /// When the user made the change, by the client's clock: shown to users, never used
    /// to order writes (the server orders them).
    pub client_time: DateTime<Utc>,
}
