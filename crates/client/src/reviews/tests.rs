use chrono::{DateTime, TimeDelta, Utc};
use rapport_domain::AccountInput;
use rapport_domain::review::{
    ActionItem, BoardColumn, QuarterKey, Review, ReviewState, default_checklist, review_id,
};
use rapport_domain::review::{ActionStatus, CheckItem};
use rapport_domain::schedule::Slot;
use rapport_domain::{Account, Plan, User};
use uuid::Uuid;

use crate::error::StoreError;
use crate::store::Store;
use crate::testing::t0;

use super::ReviewView;
use super::rows::review_by_id;
use super::use_cases::HealthCheckInput;
use super::views::{BoardFilter, QuarterBoard, review_quarter};

fn account(name: &str, plan: Plan) -> AccountInput {
    crate::testing::account_input(name, plan, "America/New_York")
}

async fn add_account(store: &Store, name: &str, plan: Plan) -> Account {
    store
        .account_create(account(name, plan), t0())
        .await
        .unwrap()
}

/// This quarter's (`quarter` 0) or another's board, unfiltered, at `t0()`.
async fn board_at_t0(store: &Store, quarter: i32) -> QuarterBoard {
    store
        .quarter_board(quarter, &BoardFilter::default(), t0())
        .await
        .unwrap()
}

/// A review of `account` requested for next quarter, and its first free slot.
async fn requested_with_slot(store: &Store, account: &Account) -> (ReviewView, Slot) {
    let r = store.review_create(account.id, 1, t0()).await.unwrap();
    let slot = store.review_slots(r.review.id, t0()).await.unwrap()[0];
    (r, slot)
}

async fn setup() -> (Store, User, Account) {
    let store = Store::open_in_memory().await.unwrap();
    let me = store
        .profile_create(crate::testing::rep_input(), t0())
        .await
        .unwrap();
    let mut input = account("Acme", Plan::ProfessionalSupport);
    input.account_rep_id = Some(me.id);
    let acme = store.account_create(input, t0()).await.unwrap();
    (store, me, acme)
}

#[tokio::test]
async fn the_board_moves_as_a_review_is_requested_booked_and_completed() {
    let (store, me, acme) = setup().await;
    add_account(&store, "Standard Co", Plan::Standard).await;
    let board = board_at_t0(&store, 1).await;
    assert_eq!(
        board.rows.len(),
        1,
        "standard accounts are not on the board"
    );
    assert_eq!(
        board.rows[0].quarter_label, "2027 Q1",
        "New York's next quarter"
    );
    assert_eq!(board.counts.due, 1);

    let review = store.review_create(acme.id, 1, t0()).await.unwrap();
    assert_eq!(review.review.state, ReviewState::Requested);
    assert_eq!(
        review.review.id,
        review_id(
            acme.id,
            1,
            QuarterKey {
                fiscal_year: 2027,
                q: 1
            }
        ),
        "the quarter's deterministic id"
    );
    let board = board_at_t0(&store, 1).await;
    assert_eq!((board.counts.due, board.counts.requested), (0, 1));

    let slots = store.review_slots(review.review.id, t0()).await.unwrap();
    assert!(!slots.is_empty(), "slots are offered in 2027 Q1");
    let q = review_quarter(&review.review).unwrap();
    assert!(
        slots.iter().all(|s| q.contains(s.start)),
        "inside the quarter"
    );
    let slot = slots[0];
    let booked = store
        .review_book(
            review.review.id,
            slot.start,
            slot.end,
            Some("https://zoom.us/j/123".into()),
            t0(),
        )
        .await
        .unwrap();
    assert_eq!(booked.review.state, ReviewState::Scheduled);
    assert_eq!(booked.review.sequence, 1);
    let board = store
        .quarter_board(
            1,
            &BoardFilter {
                rep_id: Some(me.id),
                team_id: None,
            },
            t0(),
        )
        .await
        .unwrap();
    assert_eq!((board.counts.requested, board.counts.scheduled), (0, 1));
    let mut beta = account("Beta", Plan::ProfessionalSupport);
    beta.account_rep_id = Some(me.id);
    let beta = store.account_create(beta, t0()).await.unwrap();
    let beta_review = store.review_create(beta.id, 1, t0()).await.unwrap();
    let next = store
        .review_slots(beta_review.review.id, t0())
        .await
        .unwrap();
    assert!(!next.is_empty());
    assert!(
        next.iter()
            .all(|s| s.start >= slot.end + TimeDelta::minutes(15) || s.end <= slot.start),
        "my booked review is busy time (with its buffer)"
    );
    let clash = store
        .review_book(beta_review.review.id, slot.start, slot.end, None, t0())
        .await
        .unwrap_err();
    assert_eq!(clash.field(), Some("start"), "a double booking is refused");
    let ics = store.review_ics(review.review.id, t0()).await.unwrap();
    assert!(
        ics.content.contains("METHOD:REQUEST") && ics.content.contains("SEQUENCE:1"),
        "{ics:?}"
    );
    assert_eq!(
        ics.file_name,
        format!("review-acme-{}.ics", slot.start.format("%Y-%m-%d")),
        "named like an onboarding invitation: what, whose, which day"
    );

    // Too early to complete it.
    let early = store
        .review_complete(review.review.id, None, t0())
        .await
        .unwrap_err();
    assert_eq!(early.field(), Some("state"));
    let done = store
        .review_complete(review.review.id, None, slot.start + TimeDelta::minutes(30))
        .await
        .unwrap();
    assert_eq!(done.review.state, ReviewState::Completed);
    let board = store
        // In January, 2027 Q1 is this quarter.
        .quarter_board(
            0,
            &BoardFilter::default(),
            slot.start + TimeDelta::minutes(30),
        )
        .await
        .unwrap();
    assert_eq!(
        (board.counts.done, board.counts.requested),
        (1, 1),
        "Acme done, Beta asked"
    );
}

#[tokio::test]
async fn the_board_filters_by_the_team_sync_recorded_for_each_account() {
    let (store, me, acme) = setup().await;
    let globex = add_account(&store, "Globex", Plan::ProfessionalSupport).await;
    let never_synced = add_account(&store, "Initech", Plan::ProfessionalSupport).await;
    let board = board_at_t0(&store, 0).await;
    assert!(board.teams.is_empty(), "no team known before sign-in");
    assert_eq!(board.rows.len(), 3);

    // Sign-in stores my teams; the server's list replaces what was cached.
    let (east, west) = (Uuid::from_u128(0xea57), Uuid::from_u128(0x7e57));
    let gone = Uuid::from_u128(0x90e);
    for teams in [vec![(gone, "Gone")], vec![(west, "West"), (east, "East")]] {
        let me_wire = rapport_domain::sync::Me {
            user: me.clone(),
            teams: teams
                .into_iter()
                .map(|(id, name)| rapport_domain::sync::TeamRef {
                    id,
                    name: name.into(),
                })
                .collect(),
        };
        store
            .sync_signed_in("http://127.0.0.1:1", &me_wire)
            .await
            .unwrap();
    }
    let mut conn = store.writer.acquire().await.unwrap();
    for (id, team) in [(acme.id, east), (globex.id, west)] {
        sqlx::query(
            "INSERT INTO sync_versions (entity, id, team_id, version, deleted) \
             VALUES ('account', ?1, ?2, 1, 0)",
        )
        .bind(id.to_string())
        .bind(team.to_string())
        .execute(&mut *conn)
        .await
        .unwrap();
    }
    // A note of Globex's in the east team does not put Globex there.
    sqlx::query(
        "INSERT INTO sync_versions (entity, id, team_id, version, deleted) \
         VALUES ('note', ?1, ?2, 1, 0)",
    )
    .bind(globex.id.to_string())
    .bind(east.to_string())
    .execute(&mut *conn)
    .await
    .unwrap();
    drop(conn);

    let names = |b: &QuarterBoard| {
        b.rows
            .iter()
            .map(|r| r.account_name.clone())
            .collect::<Vec<_>>()
    };
    let all = board_at_t0(&store, 0).await;
    assert_eq!(
        all.teams
            .iter()
            .map(|t| (t.id, t.name.as_str()))
            .collect::<Vec<_>>(),
        vec![(east, "East"), (west, "West")],
        "my teams by name, the dropped one gone"
    );
    assert_eq!(names(&all), ["Acme", "Globex", "Initech"]);
    let filter = |team_id, rep_id| BoardFilter { rep_id, team_id };
    let board = store
        .quarter_board(0, &filter(Some(east), None), t0())
        .await
        .unwrap();
    assert_eq!(names(&board), ["Acme"]);
    assert_eq!(board.counts.due, 1, "counts follow the filter");
    let board = store
        .quarter_board(0, &filter(Some(west), None), t0())
        .await
        .unwrap();
    assert_eq!(names(&board), ["Globex"]);
    let board = store
        .quarter_board(0, &filter(Some(west), Some(me.id)), t0())
        .await
        .unwrap();
    assert!(board.rows.is_empty(), "team and rep filters combine");
    let board = store
        .quarter_board(0, &filter(Some(gone), None), t0())
        .await
        .unwrap();
    assert!(
        board.rows.iter().all(|r| r.account_id != never_synced.id) && board.rows.is_empty(),
        "an account never synced is in no team"
    );
}

#[tokio::test]
async fn bad_input_is_refused_naming_the_field() {
    let (store, _me, acme) = setup().await;
    let standard = add_account(&store, "Standard Co", Plan::Standard).await;
    let e = store.review_create(standard.id, 0, t0()).await.unwrap_err();
    assert_eq!(e.field(), Some("account_id"), "{e}");
    assert!(e.to_string().contains("standard plan"));
    store.review_create(acme.id, 0, t0()).await.unwrap();
    let twice = store.review_create(acme.id, 0, t0()).await.unwrap_err();
    assert_eq!(twice.field(), Some("quarter"), "{twice}");
    assert!(twice.to_string().contains("2026 Q4"));
    let outbox = store.outbox().await.unwrap();
    assert_eq!(
        outbox
            .iter()
            .filter(|m| m.entity == rapport_domain::sync::EntityKind::Review)
            .count(),
        1,
        "nothing saved for the refused ones"
    );
    let weights = rapport_domain::health::HealthWeights {
        sentiment: 50,
        ..Default::default()
    };
    let e = store.health_weights_set(weights, t0()).await.unwrap_err();
    assert_eq!(e.field(), Some("weights"), "{e}");
    assert_eq!(
        store.health_weights_get().await.unwrap(),
        rapport_domain::health::HealthWeights::default(),
        "the old weights stay"
    );
}

#[tokio::test]
async fn a_held_health_check_with_an_action_item_moves_the_score() {
    let (store, _me, acme) = setup().await;
    // A customer for a year, never reviewed: the recency part scores low.
    let later = t0() + TimeDelta::days(20);
    let before = store.health_get(acme.id, later).await.unwrap();
    assert_eq!(
        before.current.score, None,
        "too new for any part to have data"
    );
    let r = store.review_create(acme.id, 0, later).await.unwrap();
    let start = later - TimeDelta::days(2);
    let mut checklist = default_checklist();
    checklist[0].done = true;
    checklist[0].findings = "usage up 20%".into();
    let saved = store
        .review_save(
            r.review.id,
            HealthCheckInput {
                checklist,
                findings: " Exports are slow ".into(),
                action_items: vec![ActionItem {
                    id: Uuid::now_v7(),
                    title: "Add a read replica".into(),
                    owner: "Rita Rep".into(),
                    due: chrono::NaiveDate::from_ymd_opt(2027, 1, 15).unwrap(),
                    status: ActionStatus::Open,
                }],
                sentiment: Some(4),
            },
            later,
        )
        .await
        .unwrap();
    assert_eq!(saved.review.findings, "Exports are slow");
    assert_eq!(saved.review.checklist[0].item, CheckItem::UsageReview);
    let complete = || {
        store.review_complete(
            r.review.id,
            Some(Slot::new(start, start + TimeDelta::hours(1))),
            later,
        )
    };
    let done = complete().await.unwrap();
    assert_eq!(done.review.state, ReviewState::Completed);
    let h = store.health_get(acme.id, later).await.unwrap();
    assert_eq!(
        h.current.score,
        Some(89),
        "recency 100 at 20, sentiment 75 at 15: 3125/35"
    );
    assert!(
        h.history.len() >= 2,
        "a snapshot at each move: {:?}",
        h.history
    );
    assert_eq!(h.history.last().unwrap().score, Some(89));
    assert!(
        !store.health_refresh_all(later).await.unwrap().eq(&1),
        "no new snapshot while the score stands"
    );
    assert_eq!(
        store
            .health_refresh_all(later + TimeDelta::days(1))
            .await
            .unwrap(),
        1,
        "but one a day"
    );
    let bad = complete().await.unwrap_err();
    assert_eq!(bad.field(), Some("state"), "completed is final");
}

#[tokio::test]
async fn the_outbox_fields_rebuild_the_same_row_elsewhere() {
    let (store, _me, acme) = setup().await;
    let (r, slot) = requested_with_slot(&store, &acme).await;
    store
        .review_book(r.review.id, slot.start, slot.end, None, t0())
        .await
        .unwrap();
    let other = Store::open_in_memory().await.unwrap();
    let mut conn = other.writer.acquire().await.unwrap();
    crate::accounts::insert_accounts(&mut conn, &[&acme])
        .await
        .unwrap();
    let mut fields = serde_json::Map::new();
    for m in store.outbox().await.unwrap() {
        if m.entity == rapport_domain::sync::EntityKind::Review {
            fields.extend(m.fields);
        }
    }
    crate::entity::apply_wire::<Review>(&mut conn, r.review.id, None, &fields, t0())
        .await
        .unwrap();
    let copy = review_by_id(&mut conn, r.review.id).await.unwrap().unwrap();
    let mine = store.review_get(r.review.id, t0()).await.unwrap().review;
    assert_eq!(copy, mine, "the pulled record is the same review");
    let merged =
        rapport_domain::sync::merge_fields(rapport_domain::sync::EntityKind::Review, None, &fields)
            .unwrap();
    assert_eq!(
        merged["state"], "scheduled",
        "the server accepts what the client sends"
    );
    crate::entity::delete::<Review>(&mut conn, r.review.id, t0(), t0())
        .await
        .unwrap();
    drop(conn);
    assert!(matches!(
        other.review_get(r.review.id, t0()).await,
        Err(StoreError::NotFound { .. })
    ));
}
#[tokio::test]
async fn a_reminder_is_due_once_in_the_minutes_before_the_start() {
    let (store, _me, acme) = setup().await;
    assert_eq!(
        store.review_reminder_minutes().await.unwrap(),
        15,
        "the default"
    );
    let e = store.review_reminder_minutes_set(0).await.unwrap_err();
    assert_eq!(e.field(), Some("reminder_minutes"));
    assert_eq!(store.review_reminder_minutes_set(30).await.unwrap(), 30);
    assert_eq!(store.review_reminder_minutes().await.unwrap(), 30, "kept");
    let (r, slot) = requested_with_slot(&store, &acme).await;
    store
        .review_book(r.review.id, slot.start, slot.end, None, t0())
        .await
        .unwrap();
    let at = |m: i64| slot.start - TimeDelta::minutes(m);
    let due_at = |m: i64| store.review_reminders_due(15, at(m));
    assert!(due_at(16).await.unwrap().is_empty(), "not yet");
    let due = due_at(15).await.unwrap();
    assert_eq!(due.len(), 1, "15 minutes before");
    assert_eq!(due[0].account_name, "Acme");
    store
        .review_mark_reminded(r.review.id, at(15))
        .await
        .unwrap();
    assert!(
        due_at(10).await.unwrap().is_empty(),
        "shown once, also after a restart (it is recorded)"
    );
    // Rebooked: the new time gets its own reminder.
    let later = store.review_slots(r.review.id, t0()).await.unwrap();
    let other = later
        .iter()
        .find(|s| s.start != slot.start)
        .copied()
        .unwrap();
    store
        .review_book(r.review.id, other.start, other.end, None, t0())
        .await
        .unwrap();
    let due = store
        .review_reminders_due(15, other.start - TimeDelta::minutes(5))
        .await
        .unwrap();
    assert_eq!(due.len(), 1, "a moved session is reminded again");
    assert!(
        store
            .review_reminders_due(15, other.start)
            .await
            .unwrap()
            .is_empty(),
        "no reminder once it started"
    );
}

/// 2026-12-31 23:30 UTC: already 2027-01-01 13:30 in Kiritimati, still 2026-12-31
/// 12:30 in Pago Pago. Each account's board reads its own calendar.
#[tokio::test]
async fn the_board_reads_each_account_s_own_quarter_at_the_year_s_edge() {
    let (store, _me, _acme) = setup().await;
    let edge = DateTime::parse_from_rfc3339("2026-12-31T23:30:00Z")
        .unwrap()
        .with_timezone(&Utc);
    for (name, zone) in [
        ("East", "Pacific/Kiritimati"),
        ("West", "Pacific/Pago_Pago"),
    ] {
        store
            .account_create(
                AccountInput {
                    time_zone: zone.into(),
                    ..account(name, Plan::ProfessionalSupport)
                },
                t0(),
            )
            .await
            .unwrap();
    }
    let board = store
        .quarter_board(0, &BoardFilter::default(), edge)
        .await
        .unwrap();
    let row = |n: &str| board.rows.iter().find(|r| r.account_name == n).unwrap();
    assert_eq!(
        (row("East").quarter_label.as_str(), row("East").column),
        ("2027 Q1", BoardColumn::Due),
        "Kiritimati's new quarter has just begun"
    );
    assert_eq!(
        (row("West").quarter_label.as_str(), row("West").column),
        ("2026 Q4", BoardColumn::Overdue),
        "Pago Pago's quarter ends in 11½ hours without a review"
    );
    let prev = store
        .quarter_board(-1, &BoardFilter::default(), edge)
        .await
        .unwrap();
    let east_prev = prev.rows.iter().find(|r| r.account_name == "East").unwrap();
    assert_eq!(
        (east_prev.quarter_label.as_str(), east_prev.column),
        ("2026 Q4", BoardColumn::Overdue),
        "ended without a completed review"
    );
}
#[tokio::test]
async fn onboarding_sessions_are_busy_time_and_feed_the_score() {
    let (store, _me, acme) = setup().await;
    let (r, first) = requested_with_slot(&store, &acme).await;
    store
        .onboarding_session_create(
            acme.id,
            crate::onboarding::NewSession {
                start: first.start,
                end: first.end,
                attendee_ids: vec![],
                meeting_link: None,
            },
            t0(),
        )
        .await
        .unwrap();
    let slots = store.review_slots(r.review.id, t0()).await.unwrap();
    assert!(
        slots.iter().all(|s| !s.overlaps(&first)),
        "my onboarding session is busy time: {slots:?}"
    );
    let clash = store
        .review_book(r.review.id, first.start, first.end, None, t0())
        .await
        .unwrap_err();
    assert_eq!(clash.field(), Some("start"));
    let mut conn = store.reader.acquire().await.unwrap();
    assert_eq!(
        crate::health::onboarding_input(&mut conn, acme.id)
            .await
            .unwrap(),
        Some(false),
        "a session booked, not yet held: onboarding not done"
    );
}
