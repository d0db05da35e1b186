//! Contacts and notes: the reads and the writes (through [`record`]). Both delete softly
//! (`deleted_at`), so a delete can be undone and the exact record comes back.

use chrono::{DateTime, Utc};
use rapport_domain::{Contact, ContactInput, Note, NoteInput};
use sqlx::sqlite::SqliteRow;
use sqlx::{AssertSqlSafe, Row, SqliteConnection};
use uuid::Uuid;

use crate::accounts::account_by_id;
use crate::error::{Result, StoreError};
use crate::markdown;
use crate::search::fts_query;
use crate::store::{
    CONTACT_COLUMNS, NOTE_COLUMNS, RECENT_NOTES_DAYS, Store, Write, contact_from_row, fmt_time,
    note_from_row, record, stamp, time_col, uuid_col,
};
use crate::views::{NoteSummary, NoteView, TodayView};

impl Store {
    /// Adds a contact to an account.
    pub async fn contact_create(
        &self,
        account_id: Uuid,
        input: ContactInput,
        now: DateTime<Utc>,
    ) -> Result<Contact> {
        let now = stamp(now);
        let contact = Contact::create(Uuid::now_v7(), account_id, input, now)?;
        let mut tx = self.writer.begin().await?;
        Store::me(&mut tx).await?;
        account_by_id(&mut tx, account_id).await?;
        record(
            &mut tx,
            Write::Contact {
                old: None,
                new: &contact,
            },
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(contact)
    }

    /// Applies the whole form to a live contact.
    pub async fn contact_update(
        &self,
        id: Uuid,
        input: ContactInput,
        now: DateTime<Utc>,
    ) -> Result<Contact> {
        let now = stamp(now);
        let mut tx = self.writer.begin().await?;
        Store::me(&mut tx).await?;
        let old = contact_by_id(&mut tx, id, Liveness::Live).await?;
        let new = old.edited(input, now)?;
        record(
            &mut tx,
            Write::Contact {
                old: Some(&old),
                new: &new,
            },
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(new)
    }

    /// A live contact (Needs attention edits a refused contact change over it).
    pub async fn contact_get(&self, id: Uuid) -> Result<Contact> {
        let mut conn = self.reader.acquire().await?;
        contact_by_id(&mut conn, id, Liveness::Live).await
    }

    /// Deletes a live contact softly (undo with [`Store::contact_restore`]).
    pub async fn contact_delete(&self, id: Uuid, now: DateTime<Utc>) -> Result<()> {
        let now = stamp(now);
        let mut tx = self.writer.begin().await?;
        Store::me(&mut tx).await?;
        let old = contact_by_id(&mut tx, id, Liveness::Live).await?;
        record(&mut tx, Write::ContactDelete(&old), now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Brings back a deleted contact exactly as it was.
    pub async fn contact_restore(&self, id: Uuid, now: DateTime<Utc>) -> Result<Contact> {
        let now = stamp(now);
        let mut tx = self.writer.begin().await?;
        Store::me(&mut tx).await?;
        let old = contact_by_id(&mut tx, id, Liveness::Deleted).await?;
        record(&mut tx, Write::ContactRestore(&old), now).await?;
        tx.commit().await?;
        Ok(old)
    }

    /// An account's live notes: pinned first, then the most recently edited. With a
    /// `search`, only the notes whose body matches it (words; the last one as a prefix).
    pub async fn notes_list(
        &self,
        account_id: Uuid,
        search: Option<&str>,
    ) -> Result<Vec<NoteView>> {
        let mut conn = self.reader.acquire().await?;
        account_by_id(&mut conn, account_id).await?;
        let fts = search.and_then(|s| fts_query(s, false));
        if search.is_some_and(|s| !s.trim().is_empty()) && fts.is_none() {
            // Only punctuation: no word can match.
            return Ok(Vec::new());
        }
        let filter = if fts.is_some() {
            " AND n.seq IN (SELECT rowid FROM notes_fts WHERE notes_fts MATCH ?2)"
        } else {
            ""
        };
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {NOTE_COLUMNS}, u.name AS author_name FROM notes n \
             LEFT JOIN users u ON u.id = n.author_id \
             WHERE n.account_id = ?1 AND n.deleted_at IS NULL{filter} \
             ORDER BY n.pinned DESC, n.updated_at DESC, n.seq DESC"
        )))
        .bind(account_id.to_string())
        .bind(fts)
        .fetch_all(&mut *conn)
        .await?;
        rows.iter().map(note_view_from_row).collect()
    }

    /// Writes a new note on an account, authored by the local profile.
    pub async fn note_create(
        &self,
        account_id: Uuid,
        input: NoteInput,
        now: DateTime<Utc>,
    ) -> Result<NoteView> {
        let now = stamp(now);
        let mut tx = self.writer.begin().await?;
        let me = Store::me(&mut tx).await?;
        let note = Note::create(Uuid::now_v7(), account_id, me, input, now)?;
        account_by_id(&mut tx, account_id).await?;
        record(
            &mut tx,
            Write::Note {
                old: None,
                new: &note,
            },
            now,
        )
        .await?;
        let view = note_view(&mut tx, note).await?;
        tx.commit().await?;
        Ok(view)
    }

    /// Replaces a live note's body.
    pub async fn note_update(&self, id: Uuid, body: &str, now: DateTime<Utc>) -> Result<NoteView> {
        let now = stamp(now);
        let mut tx = self.writer.begin().await?;
        Store::me(&mut tx).await?;
        let old = note_by_id(&mut tx, id, Liveness::Live).await?;
        let input = NoteInput {
            body: body.to_owned(),
            pinned: old.pinned,
            link: old.link,
        };
        let normal = input.normalize()?;
        let new = Note {
            body: normal.body,
            updated_at: now,
            ..old.clone()
        };
        record(
            &mut tx,
            Write::Note {
                old: Some(&old),
                new: &new,
            },
            now,
        )
        .await?;
        let view = note_view(&mut tx, new).await?;
        tx.commit().await?;
        Ok(view)
    }

    /// Pins or unpins a live note.
    pub async fn note_set_pinned(
        &self,
        id: Uuid,
        pinned: bool,
        now: DateTime<Utc>,
    ) -> Result<NoteView> {
        let now = stamp(now);
        let mut tx = self.writer.begin().await?;
        Store::me(&mut tx).await?;
        let old = note_by_id(&mut tx, id, Liveness::Live).await?;
        let new = Note {
            pinned,
            updated_at: now,
            ..old.clone()
        };
        record(
            &mut tx,
            Write::Note {
                old: Some(&old),
                new: &new,
            },
            now,
        )
        .await?;
        let view = note_view(&mut tx, new).await?;
        tx.commit().await?;
        Ok(view)
    }

    /// Deletes a live note softly; [`Store::note_restore`] undoes it.
    pub async fn note_delete(&self, id: Uuid, now: DateTime<Utc>) -> Result<()> {
        let now = stamp(now);
        let mut tx = self.writer.begin().await?;
        Store::me(&mut tx).await?;
        let old = note_by_id(&mut tx, id, Liveness::Live).await?;
        record(&mut tx, Write::NoteDelete(&old), now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Undo of [`Store::note_delete`]: the exact note comes back (same body, pin, times).
    /// The outbox gets an upsert carrying every field, so the server re-creates it whole.
    pub async fn note_restore(&self, id: Uuid, now: DateTime<Utc>) -> Result<NoteView> {
        let now = stamp(now);
        let mut tx = self.writer.begin().await?;
        Store::me(&mut tx).await?;
        let note = note_by_id(&mut tx, id, Liveness::Deleted).await?;
        record(&mut tx, Write::NoteRestore(&note), now).await?;
        let view = note_view(&mut tx, note).await?;
        tx.commit().await?;
        Ok(view)
    }

    /// Today: my accounts (owner CSM or account rep is me) and the live notes on them, or
    /// written by me, edited in the last [`RECENT_NOTES_DAYS`] days before `now`.
    pub async fn today_get(&self, now: DateTime<Utc>) -> Result<TodayView> {
        let mut conn = self.reader.acquire().await?;
        let me_id = Store::me(&mut conn).await?;
        let me = crate::accounts::user_by_id(&mut conn, me_id)
            .await?
            .ok_or(StoreError::NoProfile)?;
        let json: String = sqlx::query_scalar(AssertSqlSafe(crate::accounts::rows_sql(
            "a.owner_csm_id = ?1 OR a.account_rep_id = ?1",
            "a.name_key, a.id",
        )))
        .bind(me_id.to_string())
        .fetch_one(&mut *conn)
        .await?;
        let my_accounts = crate::accounts::decode_rows(&json)?;
        let since = now - chrono::Duration::days(RECENT_NOTES_DAYS);
        let rows = sqlx::query(
            "SELECT n.id, n.account_id, a.name AS account_name, substr(n.body, 1, 400) AS body, \
             n.pinned, n.updated_at FROM notes n JOIN accounts a ON a.id = n.account_id \
             WHERE n.deleted_at IS NULL AND n.updated_at >= ?2 AND n.updated_at <= ?3 \
             AND (n.author_id = ?1 OR a.owner_csm_id = ?1 OR a.account_rep_id = ?1) \
             ORDER BY n.updated_at DESC LIMIT 20",
        )
        .bind(me_id.to_string())
        .bind(fmt_time(since))
        .bind(fmt_time(stamp(now)))
        .fetch_all(&mut *conn)
        .await?;
        let recent_notes = rows
            .iter()
            .map(|row| {
                let body: String = row.try_get("body")?;
                Ok(NoteSummary {
                    id: uuid_col(row, "id")?,
                    account_id: uuid_col(row, "account_id")?,
                    account_name: row.try_get("account_name")?,
                    excerpt: excerpt(&body, 160),
                    pinned: row.try_get("pinned")?,
                    updated_at: time_col(row, "updated_at")?,
                })
            })
            .collect::<Result<_>>()?;
        Ok(TodayView {
            me,
            my_accounts,
            recent_notes,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Liveness {
    Live,
    Deleted,
}

async fn contact_by_id(conn: &mut SqliteConnection, id: Uuid, want: Liveness) -> Result<Contact> {
    let sql = match want {
        Liveness::Live => "AND c.deleted_at IS NULL",
        Liveness::Deleted => "AND c.deleted_at IS NOT NULL",
    };
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {CONTACT_COLUMNS} FROM contacts c WHERE c.id = ?1 {sql}"
    )))
    .bind(id.to_string())
    .fetch_optional(conn)
    .await?;
    match row {
        Some(row) => contact_from_row(&row),
        None => Err(StoreError::NotFound {
            entity: if want == Liveness::Live {
                "contact"
            } else {
                "deleted contact"
            },
            id,
        }),
    }
}

async fn note_by_id(conn: &mut SqliteConnection, id: Uuid, want: Liveness) -> Result<Note> {
    let sql = match want {
        Liveness::Live => "AND n.deleted_at IS NULL",
        Liveness::Deleted => "AND n.deleted_at IS NOT NULL",
    };
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {NOTE_COLUMNS} FROM notes n WHERE n.id = ?1 {sql}"
    )))
    .bind(id.to_string())
    .fetch_optional(conn)
    .await?;
    match row {
        Some(row) => note_from_row(&row),
        None => Err(StoreError::NotFound {
            entity: if want == Liveness::Live {
                "note"
            } else {
                "deleted note"
            },
            id,
        }),
    }
}

async fn note_view(conn: &mut SqliteConnection, note: Note) -> Result<NoteView> {
    let author_name: Option<String> = sqlx::query_scalar("SELECT name FROM users WHERE id = ?1")
        .bind(note.author_id.to_string())
        .fetch_optional(conn)
        .await?;
    Ok(into_view(note, author_name))
}

fn note_view_from_row(row: &SqliteRow) -> Result<NoteView> {
    let author_name: Option<String> = row.try_get("author_name")?;
    Ok(into_view(note_from_row(row)?, author_name))
}

fn into_view(n: Note, author_name: Option<String>) -> NoteView {
    NoteView {
        body_html: markdown::render(&n.body),
        id: n.id,
        account_id: n.account_id,
        author_id: n.author_id,
        author_name,
        body: n.body,
        pinned: n.pinned,
        link: n.link,
        created_at: n.created_at,
        updated_at: n.updated_at,
    }
}

/// The start of a text on one line, cut at a word boundary near `max` characters.
pub(crate) fn excerpt(body: &str, max: usize) -> String {
    let flat: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        return flat;
    }
    let cut: String = flat.chars().take(max).collect();
    let cut = match cut.rfind(' ') {
        Some(i) if i > max / 2 => &cut[..i],
        _ => cut.as_str(),
    };
    format!("{cut}…")
}

/// A note's title: its first non-blank line without Markdown heading/list/quote marks.
pub(crate) fn title_of(body: &str) -> String {
    let line = body
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    let line = line.trim_start_matches(['#', '>', '-', '*', '+', ' ']);
    excerpt(line, 80)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_cut_at_words() {
        assert_eq!(
            excerpt("short  text\nhere", 80),
            "short text here",
            "whitespace is flattened"
        );
        let long = "word ".repeat(50);
        let e = excerpt(&long, 30);
        assert!(
            e.ends_with('…') && e.chars().count() <= 31,
            "cut with an ellipsis: {e}"
        );
    }

    #[test]
    fn titles_drop_markdown_marks() {
        assert_eq!(title_of("\n## Kick-off call\nbody"), "Kick-off call");
        assert_eq!(title_of("- [ ] send SLA table"), "[ ] send SLA table");
    }

    #[tokio::test]
    async fn a_live_contact_is_read_by_id_and_a_deleted_one_is_not_found() {
        use rapport_domain::{AccountInput, LifecycleStage, Plan, Role, UserInput, WorkingHours};
        let now = chrono::DateTime::parse_from_rfc3339("2026-12-03T09:00:00Z")
            .unwrap()
            .to_utc();
        let s = Store::open_in_memory().await.unwrap();
        s.profile_create(
            UserInput {
                name: "Carla".into(),
                email: "carla@rapport-vendor.com".into(),
                role: Role::Csm,
                time_zone: "UTC".into(),
                working_hours: WorkingHours::default(),
            },
            now,
        )
        .await
        .unwrap();
        let account = s
            .account_create(
                AccountInput {
                    name: "Acme".into(),
                    plan: Plan::Standard,
                    time_zone: "UTC".into(),
                    fiscal_year_start_month: 1,
                    owner_csm_id: None,
                    account_rep_id: None,
                    slack_channel: None,
                    support_email_domains: vec![],
                    stage: LifecycleStage::Active,
                    tags: vec![],
                },
                now,
            )
            .await
            .unwrap();
        let c = s
            .contact_create(
                account.id,
                ContactInput {
                    name: "Ana".into(),
                    email: "ana@acme.com".into(),
                    role: "CTO".into(),
                    time_zone: None,
                },
                now,
            )
            .await
            .unwrap();
        assert_eq!(s.contact_get(c.id).await.unwrap(), c, "as created");
        s.contact_delete(c.id, now).await.unwrap();
        assert!(
            matches!(s.contact_get(c.id).await, Err(StoreError::NotFound { .. })),
            "a deleted contact is not offered for editing"
        );
    }
}
