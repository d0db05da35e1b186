//! The one-path property: a team's history of every synced kind, written into a cache as
//! random local writes and pulled changes in a random order, leaves every account's health
//! score, the FTS index and the reminders as writing the cache's final state in one go does;
//! and two desktops that end up synced to the same history show the same score everywhere.
//!
//! The history is made once, by real use cases on a template desktop (accounts, the profile,
//! contacts, notes edited and deleted, onboarding sessions completed and upcoming, a review
//! completed and one booked, a request answered and resolved with its timeline, its RCA):
//! after each use case, the state of every record it wrote, as the server would send it.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use chrono::{DateTime, TimeDelta, Utc};
use proptest::prelude::*;
use rapport_domain::onboarding::{OnboardingSession, OnboardingStatus};
use rapport_domain::request::{Channel, NewRequestInput, RequestStatus, Severity, Visibility};
use rapport_domain::review::Review;
use rapport_domain::schedule::Slot;
use rapport_domain::sync::{Change, EntityKind, Fields, MutationOp, PullResponse};
use rapport_domain::{
    Account, AccountInput, Contact, ContactInput, LifecycleStage, Note, NoteInput, Plan, Role,
    User, UserInput, WorkingHours,
};
use sqlx::SqliteConnection;
use uuid::Uuid;

use crate::Store;
use crate::onboarding::NewSession;
use crate::rca::RcaRecord;
use crate::requests::{EventRecord, RequestRecord};
use crate::sync::apply::local_fields;

/// The words notes are written with (what the FTS index is asked for).
const WORDS: &[&str] = &["kiwi", "mango", "papaya", "quince"];

/// Every write happens at this instant, so every score is taken at the same time.
fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-20T09:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

/// Thursday 26 Nov 2026, 09:00 UTC: when the template desktop starts writing.
use crate::testing::t0;

/// One step of the history: a record's state after a write (wire fields, timestamps
/// included), or its deletion.
#[derive(Debug, Clone)]
struct Item {
    kind: EntityKind,
    id: Uuid,
    fields: Option<Fields>,
}

struct History {
    user: User,
    items: Vec<Item>,
    /// The starts the reminders are asked about.
    starts: Vec<DateTime<Utc>>,
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn history() -> &'static History {
    static H: OnceLock<History> = OnceLock::new();
    H.get_or_init(|| runtime().block_on(make_history()))
}

/// What the template desktop's last use case wrote: the outbox since `seen`, each record
/// once, in the order written, with its state now.
async fn take(w: &Store, seen: &mut usize, items: &mut Vec<Item>) {
    let outbox = w.outbox().await.unwrap();
    let mut conn = w.writer.acquire().await.unwrap();
    let mut done = Vec::new();
    for m in &outbox[*seen..] {
        if done.contains(&(m.entity, m.entity_id)) {
            continue;
        }
        done.push((m.entity, m.entity_id));
        let fields = match m.op {
            MutationOp::Delete => None,
            MutationOp::Upsert => Some(
                local_fields(&mut conn, m.entity, m.entity_id)
                    .await
                    .unwrap()
                    .expect("a record just written is in the cache"),
            ),
        };
        items.push(Item {
            kind: m.entity,
            id: m.entity_id,
            fields,
        });
    }
    *seen = outbox.len();
}

fn account_input(name: &str, plan: Plan, me: Uuid) -> AccountInput {
    AccountInput {
        name: name.into(),
        plan,
        time_zone: "Europe/Berlin".into(),
        fiscal_year_start_month: 1,
        owner_csm_id: Some(me),
        account_rep_id: Some(me),
        slack_channel: None,
        support_email_domains: vec![],
        stage: LifecycleStage::Onboarding,
        tags: vec![],
    }
}

fn note(body: &str) -> NoteInput {
    NoteInput {
        body: body.into(),
        pinned: false,
        link: None,
    }
}

async fn make_history() -> History {
    let w = Store::open_in_memory().await.unwrap();
    let (mut seen, mut items) = (0, Vec::new());
    let hours = WorkingHours {
        start_minute: 0,
        end_minute: 24 * 60 - 1,
        ..WorkingHours::default()
    };
    let user = w
        .profile_create(
            UserInput {
                name: "Tomás Silva".into(),
                email: "tomas@rapport-vendor.com".into(),
                role: Role::SupportLead,
                time_zone: "Europe/Berlin".into(),
                working_hours: hours,
            },
            t0(),
        )
        .await
        .unwrap();
    take(&w, &mut seen, &mut items).await;
    let at = |m: i64| t0() + TimeDelta::minutes(m);
    let mut accounts: Vec<Account> = Vec::new();
    for (i, name) in ["Acme", "Bondi", "Cobalt"].iter().enumerate() {
        let plan = if i == 2 {
            Plan::Standard
        } else {
            Plan::ProfessionalSupport
        };
        let a = w
            .account_create(account_input(name, plan, user.id), at(0))
            .await
            .unwrap();
        take(&w, &mut seen, &mut items).await;
        accounts.push(a);
    }
    let mut contacts: Vec<Contact> = Vec::new();
    for a in &accounts {
        let c = w
            .contact_create(
                a.id,
                ContactInput {
                    name: format!("Ana of {}", a.name),
                    email: format!("ana@{}.example", a.name.to_lowercase()),
                    role: "CTO".into(),
                    time_zone: None,
                },
                at(1),
            )
            .await
            .unwrap();
        take(&w, &mut seen, &mut items).await;
        contacts.push(c);
    }
    // Notes: written, edited, one deleted (the index must forget it).
    for (i, a) in accounts.iter().enumerate() {
        let n = w
            .note_create(a.id, note(&format!("First call: {}", WORDS[i])), at(2))
            .await
            .unwrap();
        take(&w, &mut seen, &mut items).await;
        w.note_update(n.id, &format!("Follow-up: {}", WORDS[i + 1]), at(3))
            .await
            .unwrap();
        take(&w, &mut seen, &mut items).await;
        if i == 1 {
            w.note_delete(n.id, at(4)).await.unwrap();
            take(&w, &mut seen, &mut items).await;
        }
    }
    // Onboarding: a session held and completed, one upcoming, one cancelled.
    let day = |d: i64, h: i64| t0() + TimeDelta::days(d) + TimeDelta::hours(h);
    let mut starts = Vec::new();
    let mut session = |d: i64, h: i64, a: usize| {
        starts.push(day(d, h));
        (
            accounts[a].id,
            NewSession {
                start: day(d, h),
                end: day(d, h) + TimeDelta::minutes(45),
                attendee_ids: vec![contacts[a].id],
                meeting_link: Some("https://meet.jit.si/rapport-onboarding".into()),
            },
        )
    };
    let plans = [session(1, 1, 0), session(30, 2, 1), session(2, 3, 2)];
    let mut sessions: Vec<OnboardingSession> = Vec::new();
    for (account, new) in plans {
        sessions.push(
            w.onboarding_session_create(account, new, at(10))
                .await
                .unwrap(),
        );
        take(&w, &mut seen, &mut items).await;
    }
    w.onboarding_session_set_status(sessions[0].id, OnboardingStatus::Completed, day(1, 2))
        .await
        .unwrap();
    take(&w, &mut seen, &mut items).await;
    w.onboarding_session_set_status(sessions[2].id, OnboardingStatus::Cancelled, day(1, 3))
        .await
        .unwrap();
    take(&w, &mut seen, &mut items).await;
    // Reviews: Acme's held and completed this quarter, Bondi's booked for later.
    let held = w.review_create(accounts[0].id, 0, at(20)).await.unwrap();
    take(&w, &mut seen, &mut items).await;
    w.review_complete(
        held.review.id,
        Some(Slot::new(
            t0() - TimeDelta::days(2),
            t0() - TimeDelta::days(2) + TimeDelta::hours(1),
        )),
        at(21),
    )
    .await
    .unwrap();
    take(&w, &mut seen, &mut items).await;
    let booked = w.review_create(accounts[1].id, 0, at(22)).await.unwrap();
    take(&w, &mut seen, &mut items).await;
    starts.push(day(20, 4));
    w.review_book(booked.review.id, day(20, 4), day(20, 5), None, at(23))
        .await
        .unwrap();
    take(&w, &mut seen, &mut items).await;
    // A request answered, resolved, and its RCA; another still open.
    for (a, severity) in [(0, Severity::P2), (1, Severity::P3)] {
        let id = w
            .request_create(
                NewRequestInput {
                    account_id: accounts[a].id,
                    contact_id: Some(contacts[a].id),
                    channel: Channel::Chat,
                    severity,
                    needs_triage: false,
                    title: "The export fails".into(),
                    details: "Since this morning.".into(),
                },
                at(30),
            )
            .await
            .unwrap();
        take(&w, &mut seen, &mut items).await;
        if a == 0 {
            w.request_respond(id, Visibility::Public, "Looking", at(32))
                .await
                .unwrap();
            take(&w, &mut seen, &mut items).await;
            w.request_set_status(id, RequestStatus::Resolved, at(50))
                .await
                .unwrap();
            take(&w, &mut seen, &mut items).await;
            w.rca_open(id, at(60)).await.unwrap();
            take(&w, &mut seen, &mut items).await;
        }
    }
    // Acme moves to the Standard plan: its SLA clocks (a score input) run on it.
    w.account_update(
        accounts[0].id,
        AccountInput {
            plan: Plan::Standard,
            ..account_input("Acme", Plan::Standard, user.id)
        },
        at(70),
    )
    .await
    .unwrap();
    take(&w, &mut seen, &mut items).await;
    let kinds: Vec<EntityKind> = items.iter().map(|i| i.kind).collect();
    for kind in EntityKind::ALL {
        assert!(
            kinds.contains(&kind),
            "the history holds every synced kind: {kind:?} is missing"
        );
    }
    History {
        user,
        items,
        starts,
    }
}

/// A desktop of the history's user that has synced nothing yet (its profile is theirs).
async fn desktop(h: &History) -> Store {
    let s = Store::open_in_memory().await.unwrap();
    let mut conn = s.writer.acquire().await.unwrap();
    crate::accounts::upsert_user(&mut conn, &h.user)
        .await
        .unwrap();
    sqlx::query("INSERT INTO profile (singleton, user_id) VALUES (1, ?1)")
        .bind(h.user.id.to_string())
        .execute(&mut *conn)
        .await
        .unwrap();
    drop(conn);
    s
}

/// The server's copy of a record state, as a pull page brings it.
fn change(item: &Item) -> Change {
    let fields = item.fields.clone().unwrap_or_default();
    let time = |k: &str| {
        fields
            .get(k)
            .and_then(|v| v.as_str())
            .and_then(|s| crate::store::parse_time(s).ok())
            .unwrap_or_else(now)
    };
    Change {
        entity: item.kind,
        entity_id: item.id,
        team_id: None,
        deleted: item.fields.is_none(),
        version: 1,
        created_at: time("created_at"),
        updated_at: time("updated_at"),
        fields,
    }
}

/// Applies one pulled change, in its own transaction, with the pending overlay.
async fn pull(s: &Store, item: &Item) {
    let page = PullResponse {
        purge: vec![],
        changes: vec![change(item)],
        cursor: "1.1".into(),
        has_more: false,
        reset_required: false,
        total: None,
    };
    let mut tx = s.writer.begin().await.unwrap();
    crate::sync::apply::apply_page(&mut tx, &page, false, now(), true)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

/// Writes one history step locally (row, effects, one outbox entry), as a use case does.
async fn write_locally(s: &Store, item: &Item) {
    async fn go<T: super::Synced>(conn: &mut SqliteConnection, item: &Item) {
        let old = T::load(&mut *conn, item.id).await.unwrap();
        match &item.fields {
            Some(f) => {
                let new: T = super::merged(old.as_ref(), item.id, f).unwrap();
                super::record(conn, old.as_ref(), &new, now())
                    .await
                    .unwrap();
            }
            None => {
                if let Some(old) = old {
                    super::record_delete(conn, &old, now()).await.unwrap();
                }
            }
        }
    }
    let mut tx = s.writer.begin().await.unwrap();
    let conn = &mut *tx;
    match item.kind {
        EntityKind::Account => go::<Account>(conn, item).await,
        EntityKind::Contact => go::<Contact>(conn, item).await,
        EntityKind::Note => go::<Note>(conn, item).await,
        EntityKind::User => go::<User>(conn, item).await,
        EntityKind::OnboardingSession => go::<OnboardingSession>(conn, item).await,
        EntityKind::Review => go::<Review>(conn, item).await,
        EntityKind::Request => go::<RequestRecord>(conn, item).await,
        EntityKind::RequestEvent => go::<EventRecord>(conn, item).await,
        EntityKind::Rca => go::<RcaRecord>(conn, item).await,
    }
    tx.commit().await.unwrap();
}

/// Whether a record's account is in the cache (a local write needs it; a pull parks).
async fn account_here(s: &Store, item: &Item) -> bool {
    let Some(account) = item
        .fields
        .as_ref()
        .and_then(|f| f.get("account_id"))
        .and_then(|v| v.as_str())
    else {
        return true;
    };
    let mut conn = s.writer.acquire().await.unwrap();
    super::account_exists(&mut conn, account).await.unwrap()
}

/// Every synced record the cache holds, by kind and id, with its wire fields.
async fn final_state(s: &Store) -> Vec<Item> {
    let mut conn = s.writer.acquire().await.unwrap();
    let mut out = Vec::new();
    for (kind, sql) in [
        (EntityKind::User, "SELECT id FROM users"),
        (EntityKind::Account, "SELECT id FROM accounts"),
        (EntityKind::Contact, "SELECT id FROM contacts"),
        (EntityKind::Note, "SELECT id FROM notes"),
        (
            EntityKind::OnboardingSession,
            "SELECT id FROM onboarding_sessions",
        ),
        (EntityKind::Review, "SELECT id FROM reviews"),
        (EntityKind::Request, "SELECT id FROM requests"),
        (EntityKind::RequestEvent, "SELECT id FROM request_events"),
        (EntityKind::Rca, "SELECT id FROM rcas"),
    ] {
        let ids: Vec<String> = sqlx::query_scalar(sql).fetch_all(&mut *conn).await.unwrap();
        for id in ids {
            let id = Uuid::parse_str(&id).unwrap();
            let fields = local_fields(&mut conn, kind, id).await.unwrap();
            let deleted: Option<String> = match kind {
                EntityKind::Contact | EntityKind::Note | EntityKind::Review | EntityKind::Rca => {
                    let table = match kind {
                        EntityKind::Contact => "contacts",
                        EntityKind::Note => "notes",
                        EntityKind::Review => "reviews",
                        _ => "rcas",
                    };
                    sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                        "SELECT deleted_at FROM {table} WHERE id = ?1"
                    )))
                    .bind(id.to_string())
                    .fetch_one(&mut *conn)
                    .await
                    .unwrap()
                }
                _ => None,
            };
            out.push(Item {
                kind,
                id,
                fields: if deleted.is_some() { None } else { fields },
            });
        }
    }
    out
}

/// An account's score and 30-day change as the list shows them.
type Shown = (Option<i64>, Option<i64>);

/// What the effects keep: each account's score and 30-day change as the list shows them,
/// the notes the index finds for each word, and the reminders due before each start of the
/// history.
type Observed = (BTreeMap<String, Shown>, Vec<Vec<String>>, Vec<Vec<Uuid>>);

async fn observe(s: &Store, h: &History) -> Observed {
    let mut conn = s.writer.acquire().await.unwrap();
    // As the accounts list shows them: an account never scored and one whose score has no
    // data both show none.
    let scores: Vec<(String, Shown)> = sqlx::query_as::<_, (String, Option<i64>, Option<i64>)>(
        "SELECT a.id, hl.score, hl.change_30_days FROM accounts a \
         LEFT JOIN health_latest hl ON hl.account_id = a.id ORDER BY a.id",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap()
    .into_iter()
    .map(|(a, s, c)| (a, (s, c)))
    .collect();
    let mut found = Vec::new();
    for w in WORDS {
        found.push(
            sqlx::query_scalar(
                "SELECT n.id FROM notes n WHERE n.deleted_at IS NULL AND n.seq IN \
                 (SELECT rowid FROM notes_fts WHERE notes_fts MATCH ?1) ORDER BY n.id",
            )
            .bind(*w)
            .fetch_all(&mut *conn)
            .await
            .unwrap(),
        );
    }
    drop(conn);
    let mut reminders = Vec::new();
    for start in &h.starts {
        let at = *start - TimeDelta::minutes(5);
        let mut due: Vec<Uuid> = s
            .onboarding_take_due_reminders(at)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.session_id)
            .collect();
        due.extend(
            s.review_reminders_due(15, at)
                .await
                .unwrap()
                .into_iter()
                .map(|r| r.review_id),
        );
        reminders.push(due);
    }
    (scores.into_iter().collect(), found, reminders)
}

/// Plays the history into a desktop in `order`, each step local (`true`) or pulled.
async fn play(s: &Store, h: &History, order: &[(usize, bool)]) {
    for (i, local) in order {
        let item = &h.items[*i];
        if *local && account_here(s, item).await {
            write_locally(s, item).await;
        } else {
            pull(s, item).await;
        }
    }
}

/// The steps in a random order, each local or pulled; the profile's own first (every
/// desktop starts with it).
fn steps() -> impl Strategy<Value = Vec<(usize, bool)>> {
    let n = history().items.len();
    (
        Just((0..n).collect::<Vec<_>>()).prop_shuffle(),
        proptest::collection::vec(any::<bool>(), n),
    )
        .prop_map(|(order, local)| order.into_iter().map(|i| (i, local[i])).collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn local_and_pulled_writes_in_any_order_leave_what_one_go_leaves(
        a in steps(),
        b in steps(),
    ) {
        let h = history();
        runtime().block_on(async {
            // Random local writes and pulls, then the same final state in one go.
            let random = desktop(h).await;
            play(&random, h, &a).await;
            let state = final_state(&random).await;
            let one_go = desktop(h).await;
            for item in &state {
                pull(&one_go, item).await;
            }
            let (x, y) = (observe(&random, h).await, observe(&one_go, h).await);
            assert_eq!(
                x.0, y.0,
                "every account's stored score is that of its final state, whatever the path"
            );
            assert_eq!(x.1, y.1, "the search index holds the final notes");
            assert_eq!(x.2, y.2, "the same reminders are due");

            // Two desktops, each through its own random path, then synced to the history:
            // their outboxes acknowledged and the server's last state of every record pulled.
            let other = desktop(h).await;
            play(&other, h, &b).await;
            let mut last: BTreeMap<(String, Uuid), &Item> = BTreeMap::new();
            for item in &h.items {
                last.insert((item.kind.as_str().to_owned(), item.id), item);
            }
            for s in [&random, &other] {
                sqlx::query("DELETE FROM outbox").execute(&s.writer).await.unwrap();
                for item in h.items.iter().filter(|i| i.kind == EntityKind::Account) {
                    pull(s, last[&(item.kind.as_str().to_owned(), item.id)]).await;
                }
                for item in last.values() {
                    pull(s, item).await;
                }
            }
            let (x, y) = (observe(&random, h).await, observe(&other, h).await);
            assert_eq!(
                x.0, y.0,
                "two desktops synced to the same history show the same score for every account"
            );
            assert_eq!(x.1, y.1, "and find the same notes");
        });
    }
}

// ---------------------------------------------------------------------------------------
// The first sync's bulk path (`sync::bulk`) leaves what the ordinary apply leaves.

/// Words of the extra accounts' names, tags and domains (diacritics and case included: the
/// search index folds them).
const NAME_WORDS: &[&str] = &["Acme", "Ça", "Äpfel", "kiwi", "MANGO", "Zürich", "o'neil"];

/// An account only the server has (not in the template history), as a pull brings it;
/// `readable: false` gives it a plan this build does not know (the cache keeps it whole).
fn extra_account(
    id: u128,
    name: &[usize],
    tags: &[usize],
    domains: &[usize],
    month: u8,
    readable: bool,
) -> Item {
    let words = |ix: &[usize]| -> Vec<String> {
        ix.iter()
            .map(|i| NAME_WORDS[i % NAME_WORDS.len()].to_owned())
            .collect()
    };
    let plan = match (readable, month % 2) {
        (false, _) => "platinum",
        (true, 0) => "standard",
        (true, _) => "professional_support",
    };
    let fields = serde_json::json!({
        "name": words(name).join(" "),
        "plan": plan,
        "time_zone": "UTC",
        "fiscal_year_start_month": month,
        "owner_csm_id": null,
        "account_rep_id": null,
        "slack_channel": null,
        "support_email_domains": words(domains)
            .iter()
            .map(|d| format!("{}.example.com", d.to_lowercase()))
            .collect::<Vec<_>>(),
        "stage": "active",
        "tags": words(tags),
        "created_at": "2026-11-20T10:00:00.000000Z",
        "updated_at": "2026-11-21T10:00:00.000000Z",
    });
    Item {
        kind: EntityKind::Account,
        id: Uuid::from_u128(id),
        fields: fields.as_object().cloned(),
    }
}

fn extra_accounts() -> impl Strategy<Value = Vec<Item>> {
    let words = || proptest::collection::vec(0..NAME_WORDS.len(), 0..4);
    proptest::collection::vec(
        (
            any::<u128>(),
            proptest::collection::vec(0..NAME_WORDS.len(), 1..4),
            words(),
            words(),
            1u8..=12,
            proptest::bool::weighted(0.9),
        )
            .prop_map(|(id, n, t, d, m, r)| extra_account(id, &n, &t, &d, m, r)),
        0..24,
    )
}

/// Everything a cache holds, table by table (the search tables by their rows, not their
/// segment layout, which the two paths may write differently), each row as JSON.
async fn dump(s: &Store) -> BTreeMap<String, Vec<String>> {
    let mut conn = s.writer.acquire().await.unwrap();
    let tables: Vec<(String, String)> = sqlx::query_as(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         AND name NOT LIKE '_sqlx%'",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    let fts: Vec<String> = tables
        .iter()
        .filter(|(_, sql)| sql.contains("VIRTUAL TABLE"))
        .map(|(n, _)| n.clone())
        .collect();
    let mut out = BTreeMap::new();
    for (table, _) in &tables {
        if fts.iter().any(|f| table.starts_with(&format!("{f}_"))) {
            continue;
        }
        let cols: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT name FROM pragma_table_info('{table}')"
        )))
        .fetch_all(&mut *conn)
        .await
        .unwrap();
        // The outbox's mutation ids are minted afresh by each desktop's local writes.
        let cols: Vec<String> = cols
            .into_iter()
            .filter(|c| !(table == "outbox" && c == "id"))
            .collect();
        let rowid = if fts.contains(table) { "rowid, " } else { "" };
        let sql = format!("SELECT json_array({rowid}{}) FROM {table}", cols.join(", "));
        let mut rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_all(&mut *conn)
            .await
            .unwrap();
        rows.sort();
        out.insert(table.clone(), rows);
    }
    // And what the search index answers.
    for q in [
        "acme", "ça", "apfel", "kiwi", "mango", "zu*", "example", "neil", "ac*",
    ] {
        let found: Vec<i64> = sqlx::query_scalar(
            "SELECT rowid FROM accounts_fts WHERE accounts_fts MATCH ?1 ORDER BY rowid",
        )
        .bind(q)
        .fetch_all(&mut *conn)
        .await
        .unwrap();
        out.insert(
            format!("search {q}"),
            found.iter().map(i64::to_string).collect(),
        );
    }
    out
}

/// A pull from the start of `items` in pages of `size`, each page in its own transaction.
async fn pull_from_start(s: &Store, items: &[Item], size: usize, bulk: bool) {
    let pages: Vec<&[Item]> = items.chunks(size.max(1)).collect();
    let n = pages.len().max(1);
    for i in 0..n {
        let page = PullResponse {
            purge: vec![],
            changes: pages
                .get(i)
                .map_or(vec![], |p| p.iter().map(change).collect()),
            cursor: format!("1.{}", i + 1),
            has_more: i + 1 < n,
            reset_required: false,
            total: None,
        };
        let mut tx = s.writer.begin().await.unwrap();
        crate::sync::apply::apply_page(&mut tx, &page, i == 0, now(), bulk)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// A desktop that has already written and pulled part of the history (local writes
    /// still pending among them), then pulls everything from the start (the first sync, or
    /// after a reset) in random pages and a random order: with the bulk path and without, it
    /// ends with the same cache, row for row, search answers, scores and reminders included.
    #[test]
    fn bulk_first_sync_leaves_what_the_ordinary_apply_leaves(
        before in steps(),
        kept in 0usize..=40,
        extra in extra_accounts(),
        order in proptest::collection::vec(any::<u32>(), 64),
        size in 1usize..=12,
    ) {
        let h = history();
        runtime().block_on(async {
            // The server's last state of every live record, and the extra accounts.
            let mut last: BTreeMap<(String, Uuid), &Item> = BTreeMap::new();
            for item in &h.items {
                last.insert((item.kind.as_str().to_owned(), item.id), item);
            }
            let mut server: Vec<Item> = last
                .values()
                .filter(|i| i.fields.is_some())
                .map(|i| (*i).clone())
                .collect();
            server.extend(extra);
            // In a random order (the server's cursor order mixes kinds).
            let mut keyed: Vec<(u32, usize, Item)> = server
                .into_iter()
                .enumerate()
                .map(|(i, item)| (order[i % order.len()], i, item))
                .collect();
            keyed.sort_by_key(|(k, i, _)| (*k, *i));
            let server: Vec<Item> = keyed.into_iter().map(|(_, _, item)| item).collect();
            let prelude = &before[..before.len() * kept.min(40) / 40];
            let (bulk, ordinary) = (desktop(h).await, desktop(h).await);
            for s in [&bulk, &ordinary] {
                play(s, h, prelude).await;
            }
            pull_from_start(&bulk, &server, size, true).await;
            pull_from_start(&ordinary, &server, size, false).await;
            let (x, y) = (dump(&bulk).await, dump(&ordinary).await);
            for (table, rows) in &y {
                assert_eq!(
                    x.get(table), Some(rows),
                    "the bulk first sync leaves {table} as the ordinary apply does"
                );
            }
            assert_eq!(x.len(), y.len(), "and no other table");
            assert!(x["fts_deferred"].is_empty(), "the insert trigger is back after the sync");
            assert_eq!(
                observe(&bulk, h).await,
                observe(&ordinary, h).await,
                "the same scores, notes found and reminders due"
            );
        });
    }
}
