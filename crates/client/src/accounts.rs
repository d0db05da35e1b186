//! Profile, users and accounts: the reads and the writes (through [`record`]).

use chrono::{DateTime, Utc};
use rapport_domain::{Account, AccountInput, User, UserInput};
use sqlx::{AssertSqlSafe, SqliteConnection};
use uuid::Uuid;

use crate::error::{Result, StoreError};
use crate::search::fts_query;
use crate::store::{
    ACCOUNT_COLUMNS, CONTACT_COLUMNS, Store, USER_COLUMNS, Write, account_from_row,
    contact_from_row, record, stamp, user_from_row,
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
        record(
            &mut tx,
            Write::Profile {
                old: None,
                new: &user,
            },
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(user)
    }

    /// Edits the local profile.
    pub async fn profile_update(&self, input: UserInput, now: DateTime<Utc>) -> Result<User> {
        let now = stamp(now);
        let mut tx = self.writer.begin().await?;
        let me = Store::me(&mut tx).await?;
        let old = user_by_id(&mut tx, me)
            .await?
            .ok_or(StoreError::NoProfile)?;
        let new = User::create(me, input)?;
        record(
            &mut tx,
            Write::Profile {
                old: Some(&old),
                new: &new,
            },
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(new)
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
        let now = stamp(now);
        let account = Account::create(Uuid::now_v7(), input, now)?;
        let mut tx = self.writer.begin().await?;
        Store::me(&mut tx).await?;
        check_people(&mut tx, &account).await?;
        record(
            &mut tx,
            Write::Account {
                old: None,
                new: &account,
            },
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(account)
    }

    /// Applies the whole form to an existing account.
    pub async fn account_update(
        &self,
        id: Uuid,
        input: AccountInput,
        now: DateTime<Utc>,
    ) -> Result<Account> {
        let now = stamp(now);
        let mut tx = self.writer.begin().await?;
        Store::me(&mut tx).await?;
        let old = account_by_id(&mut tx, id).await?;
        let new = old.edited(input, now)?;
        check_people(&mut tx, &new).await?;
        record(
            &mut tx,
            Write::Account {
                old: Some(&old),
                new: &new,
            },
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(new)
    }

    /// Deletes an account as the server does: the account and everything hanging off it
    /// (contacts, notes, sessions, reviews, requests, RCAs) leave the cache; one `delete`
    /// goes to the outbox. Returns the account as it was, for Undo, and the write's id.
    pub async fn account_delete(&self, id: Uuid, now: DateTime<Utc>) -> Result<DeletedAccount> {
        let now = stamp(now);
        let mut tx = self.writer.begin().await?;
        Store::me(&mut tx).await?;
        let account = account_by_id(&mut tx, id).await?;
        let m = record(&mut tx, Write::AccountDelete(&account), now).await?;
        tx.commit().await?;
        Ok(DeletedAccount {
            account,
            mutation_id: m.id,
        })
    }

    /// Undo of [`Store::account_delete`]: the account comes back as it was (same id, fields
    /// and times), as the server re-creates a deleted account; what hung off it stays
    /// deleted, as on the server. Refused while an account with that id is in the cache.
    pub async fn account_restore(&self, account: &Account, now: DateTime<Utc>) -> Result<Account> {
        let now = stamp(now);
        let mut tx = self.writer.begin().await?;
        Store::me(&mut tx).await?;
        if account_by_id(&mut tx, account.id).await.is_ok() {
            return Err(StoreError::invalid(
                "id",
                "this account is not deleted: there is nothing to undo",
            ));
        }
        check_people(&mut tx, account).await?;
        record(&mut tx, Write::AccountRestore(account), now).await?;
        tx.commit().await?;
        Ok(account.clone())
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
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {ACCOUNT_COLUMNS} FROM accounts a WHERE a.id = ?1"
    )))
    .bind(id.to_string())
    .fetch_optional(conn)
    .await?;
    match row {
        Some(row) => account_from_row(&row),
        None => Err(StoreError::NotFound {
            entity: "account",
            id,
        }),
    }
}

pub(crate) async fn user_by_id(conn: &mut SqliteConnection, id: Uuid) -> Result<Option<User>> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {USER_COLUMNS} FROM users WHERE id = ?1"
    )))
    .bind(id.to_string())
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(user_from_row).transpose()
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
