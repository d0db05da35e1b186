use chrono::{DateTime, Utc};
use rapport_domain::review::Review;
use rapport_domain::sync::EntityKind;
use sqlx::SqliteConnection;
use uuid::Uuid;

use crate::entity::Synced;
use crate::error::Result;
use crate::health::rescore;

use super::rows::{review_by_id, upsert_row};

// The row.

/// A review: its completion and sentiment are parts of the account's health score; its
/// reminder (`reminded_at`) is kept unless its session moved, so a moved review is reminded
/// again.
impl Synced for Review {
    const KIND: EntityKind = EntityKind::Review;

    crate::entity::id_field!();

    async fn load(conn: &mut SqliteConnection, id: Uuid) -> Result<Option<Self>> {
        review_by_id(conn, id).await
    }

    async fn save(conn: &mut SqliteConnection, r: &Self, now: DateTime<Utc>) -> Result<()> {
        upsert_row(conn, r, now).await
    }

    /// Kept as a soft-deleted row.
    async fn remove(conn: &mut SqliteConnection, id: Uuid, at: DateTime<Utc>) -> Result<()> {
        crate::entity::soft_delete(conn, "reviews", id, at).await
    }

    async fn effects(conn: &mut SqliteConnection, r: &Self, now: DateTime<Utc>) -> Result<()> {
        rescore(conn, r.account_id, now).await
    }
}
