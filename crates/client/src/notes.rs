//! Contacts and notes: the reads, the writes (through [`record`]) and their rows (the
//! [`Synced`] contract). Both delete softly (`deleted_at`), so a delete can be undone and the
//! exact record comes back.

use chrono::{DateTime, Utc};
use rapport_domain::sync::EntityKind;
use rapport_domain::{Contact, ContactInput, Note, NoteInput};
use sqlx::sqlite::SqliteRow;
use sqlx::{AssertSqlSafe, QueryBuilder, Row, Sqlite, SqliteConnection};
use uuid::Uuid;

use crate::accounts::account_by_id;
use crate::entity::{Synced, record, record_delete};
use crate::error::{Result, StoreError};
use crate::markdown;
use crate::search::fts_query;
use crate::store::{
    RECENT_NOTES_DAYS, Store, decode, fmt_time, maybe_by_id, one_by_id, stamp, time_col, to_json,
    uuid_col,
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
        let contact = Contact::create(Uuid::now_v7(), account_id, input, stamp(now))?;
        self.write(now, async |tx, _, now| {
            account_by_id(tx, account_id).await?;
            record(tx, None, &contact, now).await?;
            Ok(contact)
        })
        .await
    }

    /// Applies the whole form to a live contact.
    pub async fn contact_update(
        &self,
        id: Uuid,
        input: ContactInput,
        now: DateTime<Utc>,
    ) -> Result<Contact> {
        self.write(now, async |tx, _, now| {
            let old = contact_by_id(tx, id, Liveness::Live).await?;
            let new = old.edited(input, now)?;
            record(tx, Some(&old), &new, now).await?;
            Ok(new)
        })
        .await
    }

    /// A live contact (Needs attention edits a refused contact change over it).
    pub async fn contact_get(&self, id: Uuid) -> Result<Contact> {
        let mut conn = self.reader.acquire().await?;
        contact_by_id(&mut conn, id, Liveness::Live).await
    }

    /// Deletes a live contact softly (undo with [`Store::contact_restore`]).
    pub async fn contact_delete(&self, id: Uuid, now: DateTime<Utc>) -> Result<()> {
        self.write(now, async |tx, _, now| {
            let old = contact_by_id(tx, id, Liveness::Live).await?;
            record_delete(tx, &old, now).await?;
            Ok(())
        })
        .await
    }

    /// Brings back a deleted contact exactly as it was.
    pub async fn contact_restore(&self, id: Uuid, now: DateTime<Utc>) -> Result<Contact> {
        self.write(now, async |tx, _, now| {
            let old = contact_by_id(tx, id, Liveness::Deleted).await?;
            record(tx, None, &old, now).await?;
            Ok(old)
        })
        .await
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
        self.write(now, async |tx, me, now| {
            let note = Note::create(Uuid::now_v7(), account_id, me, input, now)?;
            account_by_id(tx, account_id).await?;
            record(tx, None, &note, now).await?;
            note_view(tx, note).await
        })
        .await
    }

    /// Replaces a live note's body.
    pub async fn note_update(&self, id: Uuid, body: &str, now: DateTime<Utc>) -> Result<NoteView> {
        self.note_edit(id, now, |old| {
            let input = NoteInput {
                body: body.to_owned(),
                pinned: old.pinned,
                link: old.link,
            };
            Ok(Note {
                body: input.normalize()?.body,
                ..old.clone()
            })
        })
        .await
    }

    /// Pins or unpins a live note.
    pub async fn note_set_pinned(
        &self,
        id: Uuid,
        pinned: bool,
        now: DateTime<Utc>,
    ) -> Result<NoteView> {
        self.note_edit(id, now, |old| {
            Ok(Note {
                pinned,
                ..old.clone()
            })
        })
        .await
    }

    /// One edit of a live note: `edit` gives the new state; it is stamped `now`.
    async fn note_edit(
        &self,
        id: Uuid,
        now: DateTime<Utc>,
        edit: impl FnOnce(&Note) -> Result<Note>,
    ) -> Result<NoteView> {
        self.write(now, async |tx, _, now| {
            let old = note_by_id(tx, id, Liveness::Live).await?;
            let new = Note {
                updated_at: now,
                ..edit(&old)?
            };
            record(tx, Some(&old), &new, now).await?;
            note_view(tx, new).await
        })
        .await
    }

    /// Deletes a live note softly; [`Store::note_restore`] undoes it.
    pub async fn note_delete(&self, id: Uuid, now: DateTime<Utc>) -> Result<()> {
        self.write(now, async |tx, _, now| {
            let old = note_by_id(tx, id, Liveness::Live).await?;
            record_delete(tx, &old, now).await?;
            Ok(())
        })
        .await
    }

    /// Undo of [`Store::note_delete`]: the exact note comes back (same body, pin, times).
    /// The outbox gets an upsert carrying every field, so the server re-creates it whole.
    pub async fn note_restore(&self, id: Uuid, now: DateTime<Utc>) -> Result<NoteView> {
        self.write(now, async |tx, _, now| {
            let note = note_by_id(tx, id, Liveness::Deleted).await?;
            record(tx, None, &note, now).await?;
            note_view(tx, note).await
        })
        .await
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

impl Liveness {
    /// The condition on the row's `deleted_at`, and what a missing one is called.
    fn filter(self, alias: &str, what: &'static [&'static str; 2]) -> (String, &'static str) {
        match self {
            Liveness::Live => (format!("{alias}.deleted_at IS NULL"), what[0]),
            Liveness::Deleted => (format!("{alias}.deleted_at IS NOT NULL"), what[1]),
        }
    }
}

async fn contact_by_id(conn: &mut SqliteConnection, id: Uuid, want: Liveness) -> Result<Contact> {
    let (filter, entity) = want.filter("c", &["contact", "deleted contact"]);
    let sql = format!("SELECT {CONTACT_COLUMNS} FROM contacts c WHERE c.id = ?1 AND {filter}");
    one_by_id(conn, sql, id, entity, contact_from_row).await
}

async fn note_by_id(conn: &mut SqliteConnection, id: Uuid, want: Liveness) -> Result<Note> {
    let (filter, entity) = want.filter("n", &["note", "deleted note"]);
    let sql = format!("SELECT {NOTE_COLUMNS} FROM notes n WHERE n.id = ?1 AND {filter}");
    one_by_id(conn, sql, id, entity, note_from_row).await
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

// ---------------------------------------------------------------------------------------
// The rows.

pub(crate) async fn insert_contacts(conn: &mut SqliteConnection, rows: &[&Contact]) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut q = QueryBuilder::<Sqlite>::new(
        "INSERT INTO contacts (id, account_id, name, email, role, time_zone, created_at, \
         updated_at) ",
    );
    q.push_values(rows, |mut b, c| {
        b.push_bind(c.id.to_string())
            .push_bind(c.account_id.to_string())
            .push_bind(c.name.clone())
            .push_bind(c.email.clone())
            .push_bind(c.role.clone())
            .push_bind(c.time_zone.clone())
            .push_bind(fmt_time(c.created_at))
            .push_bind(fmt_time(c.updated_at));
    });
    q.build().execute(conn).await?;
    Ok(())
}

pub(crate) async fn insert_notes(conn: &mut SqliteConnection, rows: &[&Note]) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut q = QueryBuilder::<Sqlite>::new(
        "INSERT INTO notes (id, account_id, author_id, body, pinned, link, created_at, \
         updated_at) ",
    );
    q.push_values(rows, |mut b, n| {
        b.push_bind(n.id.to_string())
            .push_bind(n.account_id.to_string())
            .push_bind(n.author_id.to_string())
            .push_bind(n.body.clone())
            .push_bind(n.pinned)
            .push_bind(n.link.as_ref().map(to_json))
            .push_bind(fmt_time(n.created_at))
            .push_bind(fmt_time(n.updated_at));
    });
    q.build().execute(conn).await?;
    Ok(())
}

pub(crate) const CONTACT_COLUMNS: &str =
    "c.id, c.account_id, c.name, c.email, c.role, c.time_zone, c.created_at, c.updated_at";

pub(crate) fn contact_from_row(row: &SqliteRow) -> Result<Contact> {
    Ok(Contact {
        id: uuid_col(row, "id")?,
        account_id: uuid_col(row, "account_id")?,
        name: row.try_get("name")?,
        email: row.try_get("email")?,
        role: row.try_get("role")?,
        time_zone: row.try_get("time_zone")?,
        created_at: time_col(row, "created_at")?,
        updated_at: time_col(row, "updated_at")?,
    })
}

pub(crate) const NOTE_COLUMNS: &str =
    "n.id, n.account_id, n.author_id, n.body, n.pinned, n.link, n.created_at, n.updated_at";

pub(crate) fn note_from_row(row: &SqliteRow) -> Result<Note> {
    let link: Option<String> = row.try_get("link")?;
    Ok(Note {
        id: uuid_col(row, "id")?,
        account_id: uuid_col(row, "account_id")?,
        author_id: uuid_col(row, "author_id")?,
        body: row.try_get("body")?,
        pinned: row.try_get("pinned")?,
        link: link
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| decode("link", e))?,
        created_at: time_col(row, "created_at")?,
        updated_at: time_col(row, "updated_at")?,
    })
}

/// Contacts and notes delete softly: a tombstone (pulled or local) sets `deleted_at`, a save
/// clears it (the Undo of a delete), a purge takes the row.
macro_rules! soft_deleted_child {
    ($t:ty, $kind:expr, $table:literal, $columns:ident, $alias:literal, $from_row:ident, $save:ident) => {
        impl Synced for $t {
            const KIND: EntityKind = $kind;

            crate::entity::id_field!();

            async fn load(conn: &mut SqliteConnection, id: Uuid) -> Result<Option<Self>> {
                let sql = format!(
                    "SELECT {} FROM {} {} WHERE {}.id = ?1",
                    $columns, $table, $alias, $alias
                );
                maybe_by_id(conn, sql, id, $from_row).await
            }

            async fn save(
                conn: &mut SqliteConnection,
                r: &Self,
                _now: DateTime<Utc>,
            ) -> Result<()> {
                $save(conn, r).await
            }

            async fn remove(
                conn: &mut SqliteConnection,
                id: Uuid,
                at: DateTime<Utc>,
            ) -> Result<()> {
                crate::entity::soft_delete(conn, $table, id, at).await
            }

            async fn forget(
                conn: &mut SqliteConnection,
                id: Uuid,
                _now: DateTime<Utc>,
            ) -> Result<()> {
                sqlx::query(concat!("DELETE FROM ", $table, " WHERE id = ?1"))
                    .bind(id.to_string())
                    .execute(conn)
                    .await?;
                Ok(())
            }
        }
    };
}

soft_deleted_child!(
    Contact,
    EntityKind::Contact,
    "contacts",
    CONTACT_COLUMNS,
    "c",
    contact_from_row,
    save_contact
);
soft_deleted_child!(
    Note,
    EntityKind::Note,
    "notes",
    NOTE_COLUMNS,
    "n",
    note_from_row,
    save_note
);

/// A contact's row: inserted, or every column but its account and a live `deleted_at`.
async fn save_contact(conn: &mut SqliteConnection, c: &Contact) -> Result<()> {
    sqlx::query(
        "INSERT INTO contacts (id, account_id, name, email, role, time_zone, created_at, \
         updated_at, deleted_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, NULL) \
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, email = excluded.email, \
         role = excluded.role, time_zone = excluded.time_zone, \
         created_at = excluded.created_at, updated_at = excluded.updated_at, deleted_at = NULL",
    )
    .bind(c.id.to_string())
    .bind(c.account_id.to_string())
    .bind(&c.name)
    .bind(&c.email)
    .bind(&c.role)
    .bind(c.time_zone.as_deref())
    .bind(fmt_time(c.created_at))
    .bind(fmt_time(c.updated_at))
    .execute(conn)
    .await?;
    Ok(())
}

/// A note's row: inserted, or every column but its account, its author and a live
/// `deleted_at`.
async fn save_note(conn: &mut SqliteConnection, n: &Note) -> Result<()> {
    sqlx::query(
        "INSERT INTO notes (id, account_id, author_id, body, pinned, link, created_at, \
         updated_at, deleted_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, NULL) \
         ON CONFLICT (id) DO UPDATE SET body = excluded.body, pinned = excluded.pinned, \
         link = excluded.link, created_at = excluded.created_at, \
         updated_at = excluded.updated_at, deleted_at = NULL",
    )
    .bind(n.id.to_string())
    .bind(n.account_id.to_string())
    .bind(n.author_id.to_string())
    .bind(&n.body)
    .bind(n.pinned)
    .bind(n.link.as_ref().map(to_json))
    .bind(fmt_time(n.created_at))
    .bind(fmt_time(n.updated_at))
    .execute(conn)
    .await?;
    Ok(())
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
        use rapport_domain::{Plan, Role};
        let now = chrono::DateTime::parse_from_rfc3339("2026-12-03T09:00:00Z")
            .unwrap()
            .to_utc();
        let s = Store::open_in_memory().await.unwrap();
        s.profile_create(
            crate::testing::user_input("Carla", "carla@rapport-vendor.com", Role::Csm, "UTC"),
            now,
        )
        .await
        .unwrap();
        let account = s
            .account_create(
                crate::testing::account_input("Acme", Plan::Standard, "UTC"),
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
