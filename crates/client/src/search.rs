//! Full-text search (SQLite FTS5) over account names, tags and domains, contacts (name,
//! email, role) and note bodies. Soft-deleted rows are not in the indexes (the triggers
//! of the cache schema take them out).
//!
//! Users type free text, so it is never handed to FTS5 as query syntax: it is cut into
//! words (letters and digits), each word becomes a quoted FTS5 string, and only the `*`
//! prefix marker is added by this code. `"`, `*`, `-`, `AND`, `(` ... are plain text.

use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::error::Result;
use crate::notes::title_of;
use crate::store::{Store, uuid_col};
use crate::views::{SearchHit, SearchHitKind, SearchResults};

/// Most hits per kind a search answers, whatever the caller asks.
pub const MAX_SEARCH_LIMIT: u32 = 100;

/// Words per snippet.
const SNIPPET_WORDS: u32 = 12;

/// An FTS5 query matching rows that contain every word of `text`: the last word (all of
/// them with `all_prefix`) as a prefix, so results follow as-you-type. `None` when `text`
/// has no word at all.
pub fn fts_query(text: &str, all_prefix: bool) -> Option<String> {
    let words: Vec<&str> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let last = words.len().checked_sub(1)?;
    let parts: Vec<String> = words
        .iter()
        .enumerate()
        .map(|(i, w)| {
            // A word holds only letters and digits, so it never contains a quote; quoting
            // makes FTS5 read `AND`, `NOT`, `NEAR` as words, not operators.
            let star = if all_prefix || i == last { "*" } else { "" };
            format!("\"{w}\"{star}")
        })
        .collect();
    Some(parts.join(" "))
}

impl Store {
    /// Searches accounts, contacts and notes for `query` (at most `limit` hits of each kind,
    /// capped at [`MAX_SEARCH_LIMIT`]). Accounts and contacts come best match first; notes
    /// newest first (which keeps a common word fast on hundreds of thousands of notes).
    pub async fn search(&self, query: &str, limit: u32) -> Result<SearchResults> {
        let Some(fts) = fts_query(query, false) else {
            return Ok(SearchResults::default());
        };
        let limit = i64::from(limit.min(MAX_SEARCH_LIMIT));
        if limit == 0 {
            return Ok(SearchResults::default());
        }
        let mut conn = self.reader.acquire().await?;
        let accounts = sqlx::query(
            "SELECT a.id, a.id AS account_id, a.name AS account_name, a.name AS title, \
             snippet(accounts_fts, -1, char(2), char(3), '…', ?3) AS snippet \
             FROM accounts_fts JOIN accounts a ON a.seq = accounts_fts.rowid \
             WHERE accounts_fts MATCH ?1 ORDER BY rank LIMIT ?2",
        )
        .bind(&fts)
        .bind(limit)
        .bind(SNIPPET_WORDS)
        .fetch_all(&mut *conn)
        .await?;
        let contacts = sqlx::query(
            "SELECT c.id, c.account_id, a.name AS account_name, c.name AS title, \
             snippet(contacts_fts, -1, char(2), char(3), '…', ?3) AS snippet \
             FROM contacts_fts JOIN contacts c ON c.seq = contacts_fts.rowid \
             JOIN accounts a ON a.id = c.account_id \
             WHERE contacts_fts MATCH ?1 ORDER BY rank LIMIT ?2",
        )
        .bind(&fts)
        .bind(limit)
        .bind(SNIPPET_WORDS)
        .fetch_all(&mut *conn)
        .await?;
        let notes = sqlx::query(
            "SELECT n.id, n.account_id, a.name AS account_name, \
             substr(n.body, 1, 300) AS title, \
             snippet(notes_fts, 0, char(2), char(3), '…', ?3) AS snippet \
             FROM notes_fts JOIN notes n ON n.seq = notes_fts.rowid \
             JOIN accounts a ON a.id = n.account_id \
             WHERE notes_fts MATCH ?1 ORDER BY notes_fts.rowid DESC LIMIT ?2",
        )
        .bind(&fts)
        .bind(limit)
        .bind(SNIPPET_WORDS)
        .fetch_all(&mut *conn)
        .await?;
        Ok(SearchResults {
            accounts: hits(&accounts, SearchHitKind::Account)?,
            contacts: hits(&contacts, SearchHitKind::Contact)?,
            notes: hits(&notes, SearchHitKind::Note)?,
        })
    }
}

fn hits(rows: &[SqliteRow], kind: SearchHitKind) -> Result<Vec<SearchHit>> {
    rows.iter()
        .map(|row| {
            let title: String = row.try_get("title")?;
            Ok(SearchHit {
                kind,
                id: uuid_col(row, "id")?,
                account_id: uuid_col(row, "account_id")?,
                account_name: row.try_get("account_name")?,
                title: if kind == SearchHitKind::Note {
                    title_of(&title)
                } else {
                    title
                },
                snippet: row.try_get("snippet")?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("north", Some("\"north\"*"))]
    #[case("northwind logi", Some("\"northwind\" \"logi\"*"))]
    #[case("\"quoted\" AND (x* -y)", Some("\"quoted\" \"AND\" \"x\" \"y\"*"))]
    #[case("  -*()\" ", None)]
    #[case("", None)]
    #[case("Zürich café", Some("\"Zürich\" \"café\"*"))]
    fn free_text_becomes_quoted_words(#[case] input: &str, #[case] want: Option<&str>) {
        assert_eq!(
            fts_query(input, false).as_deref(),
            want,
            "query for {input:?}"
        );
    }

    #[test]
    fn all_prefix_marks_every_word() {
        assert_eq!(
            fts_query("nor log", true).as_deref(),
            Some("\"nor\"* \"log\"*")
        );
    }
}
