use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rapport_domain::schedule::Slot;
use sqlx::{Row, SqliteConnection};
use uuid::Uuid;

use crate::accounts::user_by_id;
use crate::error::{Result, StoreError};
use crate::store::{fmt_time, time_col, uuid_col};

// Reads shared with the health score and the sync engine.

/// One booked item that keeps a user busy: a session or a review, named for a message.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Busy {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The session's or the review's id.
    pub id: Uuid,
    /// What it is, as a message names it: "your quarterly review with Acme".
    pub what: String,
}

impl Busy {
    pub fn slot(&self) -> Slot {
        Slot::new(self.start, self.end)
    }

    /// The items `kind` books for user `user_id` between `from` and `to`.
    async fn booked(
        conn: &mut SqliteConnection,
        kind: &Booked,
        (user_id, from, to): (Uuid, DateTime<Utc>, DateTime<Utc>),
    ) -> Result<Vec<Busy>> {
        let rows = sqlx::query(kind.sql)
            .bind(user_id.to_string())
            .bind(fmt_time(from))
            .bind(fmt_time(to))
            .fetch_all(conn)
            .await?;
        rows.iter()
            .map(|r| {
                let name: String = r.try_get("name")?;
                Ok(Busy {
                    start: time_col(r, "starts_at")?,
                    end: time_col(r, "ends_at")?,
                    id: uuid_col(r, "id")?,
                    what: format!("{} {name}", kind.what),
                })
            })
            .collect()
    }
}

/// A kind of item that books a user's time, as its feature reads it.
pub(crate) struct Booked {
    /// `starts_at, ends_at, id, name`: the items of user `?1` booked in `?2`–`?3`, with
    /// their account's name.
    pub sql: &'static str,
    /// How a message names one, before the account name.
    pub what: &'static str,
}

/// The facilitator's booked reviews. The slot finders keep clear of these and of
/// onboarding sessions ([`busy_all`]).
const BUSY_REVIEWS: Booked = Booked {
    sql: "SELECT r.starts_at, r.ends_at, r.id, a.name FROM reviews r \
          JOIN accounts a ON a.id = r.account_id \
          WHERE r.deleted_at IS NULL AND r.rep_id = ?1 \
          AND r.state = 'scheduled' AND r.starts_at IS NOT NULL AND r.ends_at IS NOT NULL \
          AND r.starts_at < ?3 AND r.ends_at > ?2 ORDER BY r.starts_at",
    what: "your quarterly review with",
};

/// Everything that keeps the facilitator busy: their booked reviews and their onboarding
/// sessions. Both slot finders (reviews and onboarding) keep clear of it, and booking
/// either refuses to overlap it ([`refuse_clash`]).
pub(crate) async fn busy_all(
    conn: &mut SqliteConnection,
    user_id: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Busy>> {
    let mut busy = Vec::new();
    for kind in [&BUSY_REVIEWS, &crate::onboarding::BUSY_SESSIONS] {
        busy.extend(Busy::booked(&mut *conn, kind, (user_id, from, to)).await?);
    }
    busy.sort();
    Ok(busy)
}

/// Refuses `start`–`end` for `user_id` when it overlaps one of their booked sessions or
/// reviews other than `itself` (the item being moved), naming the first one it meets, on
/// the user's clock (their profile's zone, UTC when unknown). Touching ends do not clash.
pub(crate) async fn refuse_clash(
    conn: &mut SqliteConnection,
    user_id: Uuid,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    itself: Uuid,
) -> Result<()> {
    let wanted = Slot::new(start, end);
    let clash = busy_all(&mut *conn, user_id, start, end)
        .await?
        .into_iter()
        .find(|b| b.id != itself && b.slot().overlaps(&wanted));
    let Some(b) = clash else {
        return Ok(());
    };
    let zone: Tz = user_by_id(&mut *conn, user_id)
        .await?
        .and_then(|u| u.time_zone.parse().ok())
        .unwrap_or(chrono_tz::UTC);
    let (from, to) = (b.start.with_timezone(&zone), b.end.with_timezone(&zone));
    let to_fmt = if from.date_naive() == to.date_naive() {
        "%H:%M"
    } else {
        "%a %-d %b %H:%M"
    };
    Err(StoreError::invalid(
        "start",
        format!(
            "overlaps {} on {}–{} ({zone}); pick a free slot",
            b.what,
            from.format("%a %-d %b %H:%M"),
            to.format(to_fmt),
        ),
    ))
}
