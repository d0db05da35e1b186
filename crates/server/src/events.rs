//! Change notices across server processes: a commit that changes a team's data runs
//! `pg_notify('rapport_changes', 'team:<id>')` in its transaction; every process LISTENs and
//! fans the notice out to its open event streams (`GET /v1/sync/events`).

use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::{broadcast, watch};
use uuid::Uuid;

pub const CHANNEL: &str = "rapport_changes";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A team's data changed.
    Team(Uuid),
    /// A user's memberships or profile changed.
    User(Uuid),
    /// The LISTEN connection was lost, so notices may have been missed: everyone should pull.
    All,
}

impl Event {
    pub fn payload(self) -> String {
        match self {
            Event::Team(id) => format!("team:{id}"),
            Event::User(id) => format!("user:{id}"),
            Event::All => "all".to_owned(),
        }
    }

    pub fn parse(payload: &str) -> Option<Event> {
        if payload == "all" {
            return Some(Event::All);
        }
        let (kind, id) = payload.split_once(':')?;
        let id = Uuid::parse_str(id).ok()?;
        match kind {
            "team" => Some(Event::Team(id)),
            "user" => Some(Event::User(id)),
            _ => None,
        }
    }
}

/// Queues a notice in the running transaction: PostgreSQL delivers it on commit only.
pub async fn notify(conn: &mut sqlx::PgConnection, event: Event) -> Result<(), sqlx::Error> {
    sqlx::query!("SELECT pg_notify($1, $2)", CHANNEL, event.payload())
        .execute(conn)
        .await?;
    Ok(())
}

/// Starts this process's LISTEN task; it ends when `stop` turns true or its sender is gone.
pub async fn spawn_listener(
    pool: &PgPool,
    tx: broadcast::Sender<Event>,
    mut stop: watch::Receiver<bool>,
) -> Result<(), sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    tokio::spawn(async move {
        loop {
            tokio::select! {
                changed = stop.changed() => {
                    if changed.is_err() || *stop.borrow() {
                        break;
                    }
                }
                got = listener.try_recv() => match got {
                    Ok(Some(n)) => {
                        if let Some(ev) = Event::parse(n.payload()) {
                            // No receiver is fine: nobody is listening in this process.
                            let _ = tx.send(ev);
                        }
                    }
                    Ok(None) => {
                        tracing::warn!("LISTEN connection lost; reconnecting and waking every client");
                        let _ = tx.send(Event::All);
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "LISTEN failed; retrying in a second");
                        tokio::select! {
                            () = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
                            _ = stop.changed() => break,
                        }
                    }
                },
            }
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_round_trip() {
        let id = Uuid::from_u128(7);
        for ev in [Event::Team(id), Event::User(id), Event::All] {
            assert_eq!(Event::parse(&ev.payload()), Some(ev));
        }
        assert_eq!(Event::parse("team:nope"), None);
        assert_eq!(
            Event::parse("other:00000000-0000-0000-0000-000000000007"),
            None
        );
    }
}
