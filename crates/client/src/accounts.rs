//! Profile, users and accounts: the reads, the writes (through [`record`]) and their rows
//! (the [`Synced`] contract of accounts and users).

use chrono::{DateTime, Utc};
use rapport_domain::sync::EntityKind;
use rapport_domain::{Account, AccountInput, Role, User, UserInput, WorkingHours};
use sqlx::sqlite::SqliteRow;
use sqlx::{AssertSqlSafe, QueryBuilder, Row, Sqlite, SqliteConnection};
use uuid::Uuid;

use crate::entity::{Synced, found, record, record_delete};
use crate::error::{Result, StoreError};
use crate::notes::{CONTACT_COLUMNS, contact_from_row};
use crate::search::fts_query;
use crate::store::{
    Store, bad_value, fmt_time, json_col, maybe_by_id, one_by_id, opt_uuid_col, plan_col,
    stage_col, stamp, time_col, to_json, uuid_col,
};
use crate::views::{AccountDetail, AccountQuery, AccountRow, AccountSort};

/// An account just deleted: the record as it was (what Undo gives back) and the id of the
/// outbox write that deletes it on the server.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DeletedAccount {
    pub account: Account,
    pub mutation_id: Uuid,
}

impl Store {
    /// The local profile (the signed-in user), or `None` before the first start made it.
    pub async fn profile_get(&self) -> Result<Option<User>> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users WHERE id = (SELECT user_id FROM profile)"
        )))
        .fetch_optional(&self.reader)
        .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// Makes the local profile (first start). Refused when one exists: edit it instead.
    pub async fn profile_create(&self, input: UserInput, now: DateTime<Utc>) -> Result<User> {
        let now = stamp(now);
        let user = User::create(Uuid::now_v7(), input)?;
        let mut tx = self.writer.begin().await?;
        if Store::me(&mut tx).await.is_ok() {
            return Err(StoreError::invalid(
                "profile",
                "a profile already exists in this data folder; edit it instead",
            ));
        }
        record(&mut tx, None, &user, now).await?;
        set_profile(&mut tx, user.id).await?;
        tx.commit().await?;
        Ok(user)
    }

    /// Edits the local profile.
    pub async fn profile_update(&self, input: UserInput, now: DateTime<Utc>) -> Result<User> {
        self.write(now, async |tx, me, now| {
            let old = user_by_id(tx, me).await?.ok_or(StoreError::NoProfile)?;
            let new = User::create(me, input)?;
            record(tx, Some(&old), &new, now).await?;
            Ok(new)
        })
        .await
    }

    /// Every staff member this cache knows, by name.
    pub async fn users_list(&self) -> Result<Vec<User>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users ORDER BY lower(name), id"
        )))
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(user_from_row).collect()
    }

    /// Creates an account from the form.
    pub async fn account_create(&self, input: AccountInput, now: DateTime<Utc>) -> Result<Account> {
        let account = Account::create(Uuid::now_v7(), input, stamp(now))?;
        self.write(now, async |tx, _, now| {
            check_people(tx, &account).await?;
            record(tx, None, &account, now).await?;
            Ok(account)
        })
        .await
    }

    /// Applies the whole form to an existing account.
    pub async fn account_update(
        &self,
        id: Uuid,
        input: AccountInput,
        now: DateTime<Utc>,
    ) -> Result<Account> {
        self.write(now, async |tx, _, now| {
            let old = account_by_id(tx, id).await?;
            let new = old.edited(input, now)?;
            check_people(tx, &new).await?;
            record(tx, Some(&old), &new, now).await?;
            Ok(new)
        })
        .await
    }

    /// Deletes an account as the server does: the account and everything hanging off it
    /// (contacts, notes, sessions, reviews, requests, RCAs) leave the cache; one `delete`
    /// goes to the outbox. Returns the account as it was, for Undo, and the write's id.
    pub async fn account_delete(&self, id: Uuid, now: DateTime<Utc>) -> Result<DeletedAccount> {
        self.write(now, async |tx, _, now| {
            let account = account_by_id(tx, id).await?;
            let m = record_delete(tx, &account, now).await?;
            Ok(DeletedAccount {
                account,
                mutation_id: m.id,
            })
        })
        .await
    }

    /// Undo of [`Store::account_delete`]: the account comes back as it was (same id, fields
    /// and times), as the server re-creates a deleted account; what hung off it stays
    /// deleted, as on the server. Refused while an account with that id is in the cache.
    pub async fn account_restore(&self, account: &Account, now: DateTime<Utc>) -> Result<Account> {
        self.write(now, async |tx, _, now| {
            if account_by_id(tx, account.id).await.is_ok() {
                return Err(StoreError::invalid(
                    "id",
                    "this account is not deleted: there is nothing to undo",
                ));
            }
            check_people(tx, account).await?;
            // A create on the wire, which the server takes as re-creating the tombstone.
            record(tx, None, account, now).await?;
            Ok(account.clone())
        })
        .await
    }

    /// The account page.
    pub async fn account_get(&self, id: Uuid) -> Result<AccountDetail> {
        let mut conn = self.reader.acquire().await?;
        let account = account_by_id(&mut conn, id).await?;
        let owner_name = match account.owner_csm_id {
            Some(u) => user_by_id(&mut conn, u).await?.map(|u| u.name),
            None => None,
        };
        let rep_name = match account.account_rep_id {
            Some(u) => user_by_id(&mut conn, u).await?.map(|u| u.name),
            None => None,
        };
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {CONTACT_COLUMNS} FROM contacts c \
             WHERE c.account_id = ?1 AND c.deleted_at IS NULL ORDER BY lower(c.name), c.id"
        )))
        .bind(id.to_string())
        .fetch_all(&mut *conn)
        .await?;
        let contacts = rows.iter().map(contact_from_row).collect::<Result<_>>()?;
        Ok(AccountDetail {
            account,
            owner_name,
            rep_name,
            contacts,
        })
    }

    /// The accounts list: filtered, searched and sorted as `query` says.
    pub async fn accounts_list(&self, query: &AccountQuery) -> Result<Vec<AccountRow>> {
        decode_rows(&self.accounts_list_json(query).await?)
    }

    /// [`Store::accounts_list`] as the JSON text of its `AccountRow[]`, exactly as SQLite
    /// made it: the desktop shell hands it to the webview as is, so ten thousand rows are
    /// neither decoded into Rust values nor serialised again on their way to the UI.
    pub async fn accounts_list_json(&self, query: &AccountQuery) -> Result<String> {
        let search = query
            .search
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        let fts = search.and_then(|s| fts_query(s, true));
        let mut filter = String::from("1 = 1");
        if query.plan.is_some() {
            filter.push_str(" AND a.plan = ?1");
        }
        if query.stage.is_some() {
            filter.push_str(" AND a.stage = ?2");
        }
        if query.owner_id.is_some() {
            filter.push_str(" AND a.owner_csm_id = ?3");
        }
        match (search, &fts) {
            (Some(_), Some(_)) => filter.push_str(
                " AND (instr(a.name_key, ?4) > 0 OR a.seq IN \
                 (SELECT rowid FROM accounts_fts WHERE accounts_fts MATCH ?5))",
            ),
            (Some(_), None) => filter.push_str(" AND instr(a.name_key, ?4) > 0"),
            (None, _) => {}
        }
        let dir = if query.descending { "DESC" } else { "ASC" };
        let order = match query.sort {
            AccountSort::Name => format!("a.name_key {dir}, a.id {dir}"),
            AccountSort::Plan => format!("a.plan {dir}"),
            AccountSort::Stage => format!(
                "CASE a.stage WHEN 'onboarding' THEN 0 WHEN 'active' THEN 1 \
                 WHEN 'at_risk' THEN 2 ELSE 3 END {dir}"
            ),
            AccountSort::Owner => format!("u.name IS NULL, lower(u.name) {dir}"),
            AccountSort::TimeZone => format!("a.time_zone {dir}"),
            AccountSort::UpdatedAt => format!("a.updated_at {dir}"),
            AccountSort::HealthScore => format!("hl.score IS NULL, hl.score {dir}"),
            AccountSort::HealthChange => {
                format!("hl.change_30_days IS NULL, hl.change_30_days {dir}")
            }
        };
        let order = match query.sort {
            AccountSort::Name => order,
            _ => format!("{order}, a.name_key, a.id"),
        };
        let json: String = sqlx::query_scalar(AssertSqlSafe(rows_sql(&filter, &order)))
            .bind(query.plan.map(rapport_domain::Plan::as_str))
            .bind(query.stage.map(rapport_domain::LifecycleStage::as_str))
            .bind(query.owner_id.map(|u| u.to_string()))
            .bind(search.map(str::to_lowercase))
            .bind(fts)
            .fetch_one(&self.reader)
            .await?;
        Ok(json)
    }
}

/// The query of a list of [`AccountRow`]s: the rows matching `filter` (over `accounts a`
/// joined to the owner `u`), as ONE JSON array of objects in `order`, each in
/// `AccountRow`'s serde form (its field names; plan and stage are stored by their wire
/// names; times as RFC 3339 UTC). Ten thousand rows come back as one value instead of ten
/// thousand row hand-offs from the SQLite worker thread, which halves the time of the full
/// list (measured with rapport-bench); a test checks the text decodes to the same rows.
pub(crate) fn rows_sql(filter: &str, order: &str) -> String {
    format!(
        "SELECT json_group_array(json_object('id', a.id, 'name', a.name, 'plan', a.plan, \
         'stage', a.stage, 'time_zone', a.time_zone, 'owner_csm_id', a.owner_csm_id, \
         'owner_name', u.name, 'tags', json(a.tags), 'contact_count', a.contact_count, \
         'note_count', a.note_count, 'updated_at', a.updated_at, \
         'health_score', hl.score, 'health_change_30_days', hl.change_30_days) \
         ORDER BY {order}) FROM accounts a LEFT JOIN users u ON u.id = a.owner_csm_id \
         LEFT JOIN health_latest hl ON hl.account_id = a.id WHERE {filter}"
    )
}

pub(crate) fn decode_rows(json: &str) -> Result<Vec<AccountRow>> {
    serde_json::from_str(json).map_err(|e| {
        StoreError::Database(sqlx::Error::ColumnDecode {
            index: "account rows".into(),
            source: Box::new(e),
        })
    })
}

pub(crate) async fn account_by_id(conn: &mut SqliteConnection, id: Uuid) -> Result<Account> {
    one_by_id(
        conn,
        format!("SELECT {ACCOUNT_COLUMNS} FROM accounts a WHERE a.id = ?1"),
        id,
        "account",
        account_from_row,
    )
    .await
}

pub(crate) async fn user_by_id(conn: &mut SqliteConnection, id: Uuid) -> Result<Option<User>> {
    maybe_by_id(
        conn,
        format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1"),
        id,
        user_from_row,
    )
    .await
}

/// The owner CSM and the account rep, when set, must be staff this cache knows.
async fn check_people(conn: &mut SqliteConnection, a: &Account) -> Result<()> {
    for (field, id) in [
        ("owner_csm_id", a.owner_csm_id),
        ("account_rep_id", a.account_rep_id),
    ] {
        if let Some(id) = id
            && user_by_id(&mut *conn, id).await?.is_none()
        {
            return Err(StoreError::invalid(
                field,
                format!("no staff member with id {id}"),
            ));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// The rows.

/// The local profile is this user.
async fn set_profile(conn: &mut SqliteConnection, user: Uuid) -> Result<()> {
    sqlx::query(
        "INSERT INTO profile (singleton, user_id) VALUES (1, ?1) \
         ON CONFLICT (singleton) DO UPDATE SET user_id = excluded.user_id",
    )
    .bind(user.to_string())
    .execute(conn)
    .await?;
    Ok(())
}

pub(crate) async fn upsert_user(conn: &mut SqliteConnection, u: &User) -> Result<()> {
    sqlx::query(
        "INSERT INTO users (id, name, email, role, time_zone, working_hours) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, email = excluded.email, \
         role = excluded.role, time_zone = excluded.time_zone, \
         working_hours = excluded.working_hours",
    )
    .bind(u.id.to_string())
    .bind(&u.name)
    .bind(&u.email)
    .bind(u.role.as_str())
    .bind(&u.time_zone)
    .bind(to_json(&u.working_hours))
    .execute(conn)
    .await?;
    Ok(())
}

pub(crate) async fn insert_accounts(conn: &mut SqliteConnection, rows: &[&Account]) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    insert_values(rows.iter().copied())
        .build()
        .execute(conn)
        .await?;
    Ok(())
}

/// `INSERT INTO accounts (…) VALUES (…), …` of `rows`: the one column list and binding of an
/// account row, for the plain insert and the upsert of [`save_accounts`].
fn insert_values<'a>(rows: impl IntoIterator<Item = &'a Account>) -> QueryBuilder<Sqlite> {
    let mut q = QueryBuilder::<Sqlite>::new(
        "INSERT INTO accounts (id, name, name_key, plan, time_zone, fiscal_year_start_month, \
         owner_csm_id, account_rep_id, slack_channel, support_email_domains, stage, tags, \
         created_at, updated_at) ",
    );
    q.push_values(rows, |mut b, a| {
        b.push_bind(a.id.to_string())
            .push_bind(a.name.clone())
            .push_bind(a.name.to_lowercase())
            .push_bind(a.plan.as_str())
            .push_bind(a.time_zone.clone())
            .push_bind(i64::from(a.fiscal_year_start_month))
            .push_bind(a.owner_csm_id.map(|u| u.to_string()))
            .push_bind(a.account_rep_id.map(|u| u.to_string()))
            .push_bind(a.slack_channel.clone())
            .push_bind(to_json(&a.support_email_domains))
            .push_bind(a.stage.as_str())
            .push_bind(to_json(&a.tags))
            .push_bind(fmt_time(a.created_at))
            .push_bind(fmt_time(a.updated_at));
    });
    q
}

pub(crate) const USER_COLUMNS: &str = "id, name, email, role, time_zone, working_hours";

pub(crate) fn user_from_row(row: &SqliteRow) -> Result<User> {
    let role: String = row.try_get("role")?;
    Ok(User {
        id: uuid_col(row, "id")?,
        name: row.try_get("name")?,
        email: row.try_get("email")?,
        role: Role::parse(&role).ok_or_else(|| bad_value("role", &role))?,
        time_zone: row.try_get("time_zone")?,
        working_hours: json_col::<WorkingHours>(row, "working_hours")?,
    })
}

pub(crate) const ACCOUNT_COLUMNS: &str = "a.id, a.name, a.plan, a.time_zone, \
    a.fiscal_year_start_month, a.owner_csm_id, a.account_rep_id, a.slack_channel, \
    a.support_email_domains, a.stage, a.tags, a.created_at, a.updated_at";

pub(crate) fn account_from_row(row: &SqliteRow) -> Result<Account> {
    let month: i64 = row.try_get("fiscal_year_start_month")?;
    Ok(Account {
        id: uuid_col(row, "id")?,
        name: row.try_get("name")?,
        plan: plan_col(row)?,
        time_zone: row.try_get("time_zone")?,
        fiscal_year_start_month: u8::try_from(month)
            .map_err(|_| bad_value("fiscal_year_start_month", &month.to_string()))?,
        owner_csm_id: opt_uuid_col(row, "owner_csm_id")?,
        account_rep_id: opt_uuid_col(row, "account_rep_id")?,
        slack_channel: row.try_get("slack_channel")?,
        support_email_domains: json_col(row, "support_email_domains")?,
        stage: stage_col(row)?,
        tags: json_col(row, "tags")?,
        created_at: time_col(row, "created_at")?,
        updated_at: time_col(row, "updated_at")?,
    })
}

/// Removes an account with everything that hangs off it (its contacts and notes, its
/// onboarding sessions, reviews, health history, requests with their timelines, alerts and
/// RCAs), so no row is left pointing at it.
pub(crate) async fn remove_account(conn: &mut SqliteConnection, id: Uuid) -> Result<()> {
    for sql in [
        "DELETE FROM contacts WHERE account_id = ?1",
        "DELETE FROM notes WHERE account_id = ?1",
        "DELETE FROM onboarding_reminders WHERE session_id IN \
         (SELECT id FROM onboarding_sessions WHERE account_id = ?1)",
        "DELETE FROM onboarding_sessions WHERE account_id = ?1",
        "DELETE FROM reviews WHERE account_id = ?1",
        "DELETE FROM health_snapshots WHERE account_id = ?1",
        "DELETE FROM health_latest WHERE account_id = ?1",
        "DELETE FROM request_alerts WHERE request_id IN \
         (SELECT id FROM requests WHERE account_id = ?1)",
        "DELETE FROM request_events WHERE account_id = ?1",
        "DELETE FROM rcas WHERE account_id = ?1",
        "DELETE FROM requests WHERE account_id = ?1",
        "DELETE FROM accounts WHERE id = ?1",
    ] {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.to_string())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Writes accounts' rows (inserts each, or replaces every column of the stored one), in
/// order, one statement per 1,000, and answers each one's `seq` (the rowid its FTS entry is
/// keyed by). The one statement of [`Synced::save`] and of the first sync's bulk path
/// (`sync::bulk`).
pub(crate) async fn save_accounts(
    conn: &mut SqliteConnection,
    accounts: &[Account],
) -> Result<Vec<i64>> {
    let mut seqs = Vec::with_capacity(accounts.len());
    for chunk in accounts.chunks(1000) {
        let mut q = insert_values(chunk);
        q.push(
            " ON CONFLICT (id) DO UPDATE SET name = excluded.name, name_key = excluded.name_key, \
             plan = excluded.plan, time_zone = excluded.time_zone, \
             fiscal_year_start_month = excluded.fiscal_year_start_month, \
             owner_csm_id = excluded.owner_csm_id, account_rep_id = excluded.account_rep_id, \
             slack_channel = excluded.slack_channel, \
             support_email_domains = excluded.support_email_domains, stage = excluded.stage, \
             tags = excluded.tags, created_at = excluded.created_at, \
             updated_at = excluded.updated_at RETURNING id, seq",
        );
        let rows: Vec<(String, i64)> = q.build_query_as().fetch_all(&mut *conn).await?;
        let by_id: std::collections::HashMap<String, i64> = rows.into_iter().collect();
        for a in chunk {
            let seq = by_id.get(&a.id.to_string()).ok_or_else(|| {
                StoreError::invalid("account", "an account written was not answered")
            })?;
            seqs.push(*seq);
        }
    }
    Ok(seqs)
}

/// An account: the health score's customer-since date and the plan its SLA clocks run on.
impl Synced for Account {
    const KIND: EntityKind = EntityKind::Account;

    fn id(&self) -> Uuid {
        self.id
    }

    async fn load(conn: &mut SqliteConnection, id: Uuid) -> Result<Option<Self>> {
        found(account_by_id(conn, id).await)
    }

    async fn save(conn: &mut SqliteConnection, a: &Self, _now: DateTime<Utc>) -> Result<()> {
        save_accounts(conn, std::slice::from_ref(a)).await.map(drop)
    }

    async fn remove(conn: &mut SqliteConnection, id: Uuid, _at: DateTime<Utc>) -> Result<()> {
        remove_account(conn, id).await
    }

    /// A scored account is re-scored: its plan and creation are inputs of the score. One
    /// never scored (nothing of it written yet) stays so until an input of it is written.
    async fn effects(conn: &mut SqliteConnection, a: &Self, now: DateTime<Utc>) -> Result<()> {
        let scored: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM health_latest WHERE account_id = ?1")
                .bind(a.id.to_string())
                .fetch_optional(&mut *conn)
                .await?;
        if scored.is_some() {
            crate::health::rescore(conn, a.id, now).await?;
        }
        Ok(())
    }
}

/// A staff member's profile (the local profile is one). Never deleted: accounts and notes
/// point at them.
impl Synced for User {
    const KIND: EntityKind = EntityKind::User;

    fn id(&self) -> Uuid {
        self.id
    }

    async fn load(conn: &mut SqliteConnection, id: Uuid) -> Result<Option<Self>> {
        user_by_id(conn, id).await
    }

    async fn save(conn: &mut SqliteConnection, u: &Self, _now: DateTime<Utc>) -> Result<()> {
        upsert_user(conn, u).await
    }

    async fn remove(_conn: &mut SqliteConnection, _id: Uuid, _at: DateTime<Utc>) -> Result<()> {
        Ok(())
    }
}
