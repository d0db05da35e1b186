//! The shapes the desktop UI reads (docs/IPC.md, "Types (Rust owners) – rapport-client").
//! The domain entities (`Account`, `Contact`, `User`, ...) are re-used as they are; these
//! are the list rows, detail pages and search results composed from them.

use chrono::{DateTime, Utc};
use rapport_domain::{Account, Contact, LifecycleStage, NoteLink, Plan, User};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The column the accounts list is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum AccountSort {
    #[default]
    Name,
    Plan,
    Stage,
    /// By the owner CSM's name; accounts without an owner come last.
    Owner,
    TimeZone,
    UpdatedAt,
    /// By the latest health score; accounts without one come last.
    HealthScore,
    /// By the health score's change over 30 days; accounts without one come last.
    HealthChange,
}

impl AccountSort {
    pub const ALL: [AccountSort; 8] = [
        AccountSort::Name,
        AccountSort::Plan,
        AccountSort::Stage,
        AccountSort::Owner,
        AccountSort::TimeZone,
        AccountSort::UpdatedAt,
        AccountSort::HealthScore,
        AccountSort::HealthChange,
    ];
}

/// What the accounts list shows: filters, a search and the sort.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AccountQuery {
    /// Any part of the name (case-insensitive), or the start of a word of the name, a tag
    /// or a support email domain.
    pub search: Option<String>,
    pub plan: Option<Plan>,
    pub stage: Option<LifecycleStage>,
    /// Accounts whose owner CSM is this user.
    pub owner_id: Option<Uuid>,
    pub sort: AccountSort,
    pub descending: bool,
}

/// One row of the accounts list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AccountRow {
    pub id: Uuid,
    pub name: String,
    pub plan: Plan,
    pub stage: LifecycleStage,
    pub time_zone: String,
    pub owner_csm_id: Option<Uuid>,
    pub owner_name: Option<String>,
    pub tags: Vec<String>,
    pub contact_count: u32,
    pub note_count: u32,
    pub updated_at: DateTime<Utc>,
    /// The latest health score ([`crate::health`]), if there is one.
    pub health_score: Option<u8>,
    /// The score's change over the 30 days before its latest snapshot.
    pub health_change_30_days: Option<i32>,
}

/// The account page: the account, the names of its owners, its live contacts by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AccountDetail {
    pub account: Account,
    pub owner_name: Option<String>,
    pub rep_name: Option<String>,
    pub contacts: Vec<Contact>,
}

/// A note as the account page shows it; `body_html` is [`crate::markdown::render`] of `body`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NoteView {
    pub id: Uuid,
    pub account_id: Uuid,
    pub author_id: Uuid,
    /// `None` when the author is not in this cache.
    pub author_name: Option<String>,
    pub body: String,
    pub body_html: String,
    pub pinned: bool,
    pub link: Option<NoteLink>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum SearchHitKind {
    Account,
    Contact,
    Note,
}

/// One search result. `snippet` is plain text; the matched words are wrapped in
/// `\u{2}` … `\u{3}` (STX/ETX) so the UI can highlight them without parsing HTML.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SearchHit {
    pub kind: SearchHitKind,
    pub id: Uuid,
    /// The account the hit belongs to (an account hit: its own id).
    pub account_id: Uuid,
    pub account_name: String,
    /// Account or contact name; a note's first line.
    pub title: String,
    pub snippet: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SearchResults {
    pub accounts: Vec<SearchHit>,
    pub contacts: Vec<SearchHit>,
    pub notes: Vec<SearchHit>,
}

impl SearchResults {
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty() && self.contacts.is_empty() && self.notes.is_empty()
    }
}

/// A note in a list of notes from many accounts (Today).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NoteSummary {
    pub id: Uuid,
    pub account_id: Uuid,
    pub account_name: String,
    /// The start of the body as plain text (Markdown source, at most ~160 characters).
    pub excerpt: String,
    pub pinned: bool,
    pub updated_at: DateTime<Utc>,
}

/// What the Today page shows for now: my accounts and the notes edited lately.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TodayView {
    pub me: User,
    /// Accounts whose owner CSM or account rep is me, by name.
    pub my_accounts: Vec<AccountRow>,
    /// Live notes on my accounts or written by me, edited in the last
    /// [`crate::store::RECENT_NOTES_DAYS`] days, newest first.
    pub recent_notes: Vec<NoteSummary>,
}

/// The status bar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct StoreStatus {
    /// Local writes not yet pushed to the central service.
    pub pending_changes: u32,
    pub last_write_at: Option<DateTime<Utc>>,
}

/// What `demo_load` put in the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DemoSummary {
    pub accounts: u32,
    pub contacts: u32,
    pub notes: u32,
    pub users: u32,
}
