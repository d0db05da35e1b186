//! The first sync's bulk path: the accounts a pull from the start brings that the cache does
//! not hold yet go in by runs (consecutive such changes of a page): their versions in one
//! multi-row upsert, their rows in one multi-row upsert (the statement of `Account::save`)
//! with the insert trigger standing aside, then their search entries in one multi-row
//! insert, as the trigger writes them.
//!
//! It leaves exactly what the ordinary apply (`apply::apply_change`) leaves, because it
//! takes only the changes for which the ordinary path would do nothing else: an account,
//! not a tombstone, with no pending local write (no overlay), no row in the cache (nothing
//! to merge over; the row is inserted), never scored (`Account`'s effects would do
//! nothing), and readable by this build (one that is not goes the ordinary way and is kept
//! whole). Every other change, and every catch-up pull, goes the ordinary way; a run ends
//! before each of them. The property test
//! `entity::property::bulk_first_sync_leaves_what_the_ordinary_apply_leaves` holds it.
//!
//! Why it is faster (docs/BENCHMARKS.md, "Sync: initial sync"): three statements per run
//! instead of four round trips to the SQLite thread per record, and no FTS5 write from a
//! trigger between the rows.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use rapport_domain::Account;
use rapport_domain::sync::{Change, EntityKind, PullResponse};
use serde_json::Value;
use sqlx::SqliteConnection;
use uuid::Uuid;

use super::apply::{Pending, record_version, record_versions, with_times, write_record};
use crate::entity;
use crate::error::{Result, StoreError};

/// One page's bulk plan: the accounts that may go the bulk way, and the run being written
/// (consecutive changes the bulk path takes, written together when the run ends).
pub(crate) struct Bulk<'p> {
    /// The page's accounts the bulk path takes.
    takes: HashSet<Uuid>,
    /// The run: each change and its account.
    run: Vec<(&'p Change, Account)>,
}

impl<'p> Bulk<'p> {
    /// The ordinary apply only.
    pub(crate) fn none() -> Bulk<'p> {
        Bulk {
            takes: HashSet::new(),
            run: Vec::new(),
        }
    }

    /// Which of the page's changes the bulk path takes: only on a pull from the start (the
    /// reconcile it opens is still open), only accounts absent from the cache, unscored,
    /// without a pending write. One query for the page.
    pub(crate) async fn plan(
        conn: &mut SqliteConnection,
        page: &PullResponse,
        pending: &Pending,
    ) -> Result<Bulk<'p>> {
        let mut bulk = Bulk::none();
        let reconciling: i64 =
            sqlx::query_scalar("SELECT reconciling FROM sync_state WHERE singleton = 1")
                .fetch_one(&mut *conn)
                .await?;
        if reconciling != 1 {
            return Ok(bulk);
        }
        let candidates: Vec<String> = page
            .changes
            .iter()
            .filter(|c| {
                c.entity == EntityKind::Account
                    && !c.deleted
                    && !pending.contains_key(&(c.entity, c.entity_id))
                    // The ordinary path parks a record naming an absent account.
                    && !c.fields.contains_key("account_id")
            })
            .map(|c| c.entity_id.to_string())
            .collect();
        if candidates.is_empty() {
            return Ok(bulk);
        }
        let held: Vec<String> = sqlx::query_scalar(
            "SELECT value FROM json_each(?1) WHERE value IN (SELECT id FROM accounts) \
             OR value IN (SELECT account_id FROM health_latest)",
        )
        .bind(Value::from(candidates.clone()).to_string())
        .fetch_all(&mut *conn)
        .await?;
        let held: HashSet<String> = held.into_iter().collect();
        bulk.takes = candidates
            .iter()
            .filter(|id| !held.contains(*id))
            .filter_map(|id| Uuid::parse_str(id).ok())
            .collect();
        Ok(bulk)
    }

    /// Whether the bulk path takes this change.
    pub(crate) fn takes(&self, change: &Change) -> bool {
        change.entity == EntityKind::Account && self.takes.contains(&change.entity_id)
    }

    /// Adds one account to the run; one this build cannot read ends the run and goes the
    /// ordinary way (kept whole).
    pub(crate) async fn apply(
        &mut self,
        conn: &mut SqliteConnection,
        change: &'p Change,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let fields = with_times(change);
        match entity::merged::<Account>(None, change.entity_id, &fields) {
            Ok(a) => {
                self.run.push((change, a));
                Ok(())
            }
            Err(StoreError::Validation(_)) => {
                self.flush(conn).await?;
                record_version(conn, change).await?;
                write_record(
                    conn,
                    change.entity,
                    change.entity_id,
                    change.team_id,
                    fields,
                    now,
                )
                .await
            }
            Err(e) => Err(e),
        }
    }

    /// Writes the run: the versions, the rows (the insert trigger standing aside), then
    /// their search entries, as the trigger writes them.
    pub(crate) async fn flush(&mut self, conn: &mut SqliteConnection) -> Result<()> {
        if self.run.is_empty() {
            return Ok(());
        }
        let (changes, accounts): (Vec<&Change>, Vec<Account>) = self.run.drain(..).unzip();
        record_versions(conn, &changes).await?;
        sqlx::query("INSERT INTO fts_deferred (singleton) VALUES (1)")
            .execute(&mut *conn)
            .await?;
        let seqs = crate::accounts::save_accounts(conn, &accounts).await?;
        sqlx::query("DELETE FROM fts_deferred")
            .execute(&mut *conn)
            .await?;
        let entries: Vec<(i64, &Account)> = seqs.into_iter().zip(&accounts).collect();
        for chunk in entries.chunks(1000) {
            let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                "INSERT INTO accounts_fts (rowid, name, tags, domains) ",
            );
            q.push_values(chunk, |mut b, (seq, a)| {
                b.push_bind(*seq)
                    .push_bind(a.name.clone())
                    .push_bind(joined(&a.tags))
                    .push_bind(joined(&a.support_email_domains));
            });
            q.build().execute(&mut *conn).await?;
        }
        Ok(())
    }
}

/// A list as the trigger's `group_concat(value, ' ')` over `json_each` makes it: the items
/// joined by a space, NULL for none.
fn joined(items: &[String]) -> Option<String> {
    (!items.is_empty()).then(|| items.join(" "))
}
