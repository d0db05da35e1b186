use chrono::{DateTime, Utc};
use rapport_domain::onboarding::OnboardingSession;
use rapport_domain::sync::EntityKind;
use sqlx::SqliteConnection;
use uuid::Uuid;

use crate::entity::{Synced, found};
use crate::error::Result;
use crate::health::rescore;

use super::rows::{session_by_id, upsert_session};

/// An onboarding session: its done state is a part of the account's health score; its
/// reminder is keyed by its start (`onboarding_reminders`), so a moved session is reminded
/// again.
impl Synced for OnboardingSession {
    const KIND: EntityKind = EntityKind::OnboardingSession;

    crate::entity::id_field!();

    async fn load(conn: &mut SqliteConnection, id: Uuid) -> Result<Option<Self>> {
        found(session_by_id(conn, id).await)
    }

    async fn save(conn: &mut SqliteConnection, s: &Self, _now: DateTime<Utc>) -> Result<()> {
        upsert_session(conn, s).await
    }

    async fn remove(conn: &mut SqliteConnection, id: Uuid, _at: DateTime<Utc>) -> Result<()> {
        sqlx::query("DELETE FROM onboarding_sessions WHERE id = ?1")
            .bind(id.to_string())
            .execute(conn)
            .await?;
        Ok(())
    }

    async fn effects(conn: &mut SqliteConnection, s: &Self, now: DateTime<Utc>) -> Result<()> {
        rescore(conn, s.account_id, now).await
    }
}
