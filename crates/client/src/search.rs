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
/// them with `all_prefix`) as a prefix, so results follow as-you-type. A one-letter word
/// is never a prefix (it would match nearly every row and tell the user nothing). `None`
/// when `text` has no word at all.
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
            let prefix = (all_prefix || i == last) && w.chars().nth(1).is_some();
            let star = if prefix { "*" } else { "" };
            format!("\"{w}\"{star}")
        })
        .collect();
    Some(parts.join(" "))
}

/// Notes matching FTS query `$q`, newest first.
macro_rules! notes_part {
    ($q:literal) => {
        concat!(
            "SELECT 4 AS part, n.id, n.account_id, a.name AS account_name, \
             substr(n.body, 1, 300) AS title, \
             snippet(notes_fts, 0, char(2), char(3), '…', ?4) AS snippet \
             FROM notes_fts JOIN notes n ON n.seq = notes_fts.rowid \
             JOIN accounts a ON a.id = n.account_id \
             WHERE notes_fts MATCH ",
            $q,
            " ORDER BY notes_fts.rowid DESC LIMIT ?3"
        )
    };
}

/// Accounts matching FTS query `$q`: part `$part` of [`SEARCH_SQL`].
macro_rules! accounts_part {
    ($part:literal, $q:literal) => {
        concat!(
            "SELECT * FROM (SELECT ",
            $part,
            " AS part, a.id, a.id AS account_id, a.name AS account_name, \
             a.name AS title, snippet(accounts_fts, -1, char(2), char(3), '…', ?4) AS snippet \
             FROM accounts_fts JOIN accounts a ON a.seq = accounts_fts.rowid \
             WHERE accounts_fts MATCH ",
            $q,
            " ORDER BY accounts_fts.rowid LIMIT ?3)"
        )
    };
}

/// Contacts matching FTS query `$q`: part `$part` of [`SEARCH_SQL`].
macro_rules! contacts_part {
    ($part:literal, $q:literal) => {
        concat!(
            "SELECT * FROM (SELECT ",
            $part,
            " AS part, c.id, c.account_id, a.name AS account_name, \
             c.name AS title, snippet(contacts_fts, -1, char(2), char(3), '…', ?4) AS snippet \
             FROM contacts_fts JOIN contacts c ON c.seq = contacts_fts.rowid \
             JOIN accounts a ON a.id = c.account_id \
             WHERE contacts_fts MATCH ",
            $q,
            " ORDER BY contacts_fts.rowid LIMIT ?3)"
        )
    };
}

/// The whole search in one statement (one round trip to the SQLite worker): accounts by
/// name (`?1`), accounts by any column (`?2`), contacts by name, contacts by any column,
/// notes by whole words (`?5`). Each part is limited on its own; `part` says which one a
/// row came from.
const SEARCH_SQL: &str = concat!(
    accounts_part!("0", "?1"),
    " UNION ALL ",
    accounts_part!("1", "?2"),
    " UNION ALL ",
    contacts_part!("2", "?1"),
    " UNION ALL ",
    contacts_part!("3", "?2"),
    " UNION ALL SELECT * FROM (",
    notes_part!("?5"),
    ")"
);

/// Notes whose last word only matches as a prefix (the second step of [`Store::search`]).
const NOTES_PREFIX_SQL: &str = notes_part!("?2");

/// `text` as an FTS5 query of whole words (no prefix), or `None` without a word.
fn fts_words(text: &str) -> Option<String> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| format!("\"{w}\""))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

impl Store {
    /// Searches accounts, contacts and notes for `query` (at most `limit` hits of each kind,
    /// capped at [`MAX_SEARCH_LIMIT`]).
    ///
    /// Order: accounts and contacts whose *name* matches come first, then those matching by
    /// another column (tags and domains; email and role), each group in the order the rows
    /// were added; notes matching the words as typed first, then those where the last word
    /// only matches as a prefix, each group newest first. None of these orders needs every match scored, so a
    /// common word costs about the same as a rare one on hundreds of thousands of notes (a
    /// bm25 `ORDER BY rank` had to score and sort every match: 8 ms for 3,500 contacts).
    pub async fn search(&self, query: &str, limit: u32) -> Result<SearchResults> {
        let Some(fts) = fts_query(query, false) else {
            return Ok(SearchResults::default());
        };
        let limit = limit.min(MAX_SEARCH_LIMIT);
        if limit == 0 {
            return Ok(SearchResults::default());
        }
        let words = fts_words(query);
        let mut rows = sqlx::query(SEARCH_SQL)
            .bind(format!("{{name}} : ({fts})"))
            .bind(&fts)
            .bind(limit)
            .bind(SNIPPET_WORDS)
            .bind(&words)
            .fetch_all(&self.reader)
            .await?;
        let whole_word_notes = rows
            .iter()
            .filter(|r| r.try_get::<i64, _>("part").ok() == Some(4));
        if whole_word_notes.count() < limit as usize && words.as_ref() != Some(&fts) {
            // Second step, only when the whole words did not fill the list: the last word as
            // a prefix. FTS5 merges every term a prefix covers before it can answer, which
            // costs ~1 ms for a common word on 250,000 notes; a whole word is read lazily and
            // stops at the limit (0.02 ms).
            let more = sqlx::query(NOTES_PREFIX_SQL)
                .bind(None::<String>) // ?1 (the by-name query) is not used here
                .bind(&fts)
                .bind(limit)
                .bind(SNIPPET_WORDS)
                .fetch_all(&self.reader)
                .await?;
            rows.extend(more);
        }
        let mut results = SearchResults::default();
        for row in &rows {
            let part: i64 = row.try_get("part")?;
            let (into, kind) = match part {
                0 | 1 => (&mut results.accounts, SearchHitKind::Account),
                2 | 3 => (&mut results.contacts, SearchHitKind::Contact),
                _ => (&mut results.notes, SearchHitKind::Note),
            };
            let hit = hit(row, kind)?;
            if into.len() < limit as usize && !into.iter().any(|h| h.id == hit.id) {
                into.push(hit);
            }
        }
        Ok(results)
    }
}

fn hit(row: &SqliteRow, kind: SearchHitKind) -> Result<SearchHit> {
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("north", Some("\"north\"*"))]
    #[case("a", Some("\"a\""))]
    #[case("plan a", Some("\"plan\" \"a\""))]
    #[case("northwind logi", Some("\"northwind\" \"logi\"*"))]
    #[case("\"quoted\" AND (x* -yes)", Some("\"quoted\" \"AND\" \"x\" \"yes\"*"))]
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
