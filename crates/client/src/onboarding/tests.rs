use chrono::{DateTime, Timelike, Utc};
use chrono::{NaiveDate, TimeDelta};
use rapport_domain::onboarding::OnboardingSession;
use rapport_domain::onboarding::{OnboardingSessionInput, OnboardingStatus};
use rapport_domain::schedule::Slot;
use rapport_domain::sync::EntityKind;
use rapport_domain::{
    Account, AccountInput, Contact, ContactInput, LifecycleStage, Plan, Role, User, UserInput,
    WorkingHours,
};
use uuid::Uuid;

use crate::store::Store;

use super::rows::session_by_id;
use super::use_cases::NewSession;
use super::views::{OnboardingSettings, SlotQuery};

/// Thursday 26 Nov 2026, 09:00 UTC (10:00 in Berlin, 20:00 in Sydney).
use crate::testing::t0;

fn at(minutes: i64) -> DateTime<Utc> {
    t0() + TimeDelta::minutes(minutes)
}

/// My profile (`name`, a CSM in Berlin working `hours`) and an onboarding account of mine
/// in Sydney.
async fn me_and_account(
    store: &Store,
    name: &str,
    hours: WorkingHours,
    account: &str,
) -> (User, Account) {
    let me = store
        .profile_create(
            UserInput {
                working_hours: hours,
                ..crate::testing::user_input(
                    name,
                    "maya@rapport-vendor.com",
                    Role::Csm,
                    "Europe/Berlin",
                )
            },
            t0(),
        )
        .await
        .unwrap();
    let account = store
        .account_create(
            AccountInput {
                owner_csm_id: Some(me.id),
                stage: LifecycleStage::Onboarding,
                ..crate::testing::account_input(
                    account,
                    Plan::ProfessionalSupport,
                    "Australia/Sydney",
                )
            },
            t0(),
        )
        .await
        .unwrap();
    (me, account)
}

async fn setup(hours: WorkingHours) -> (Store, User, Account, Contact) {
    let store = Store::open_in_memory().await.unwrap();
    let (me, account) = me_and_account(&store, "Maya Fischer", hours, "Bondi Analytics").await;
    let contact = store
        .contact_create(
            account.id,
            ContactInput {
                name: "Ana Lee".into(),
                email: "ana@bondi.example".into(),
                role: "CTO".into(),
                time_zone: None,
            },
            t0(),
        )
        .await
        .unwrap();
    (store, me, account, contact)
}

fn wide() -> WorkingHours {
    WorkingHours {
        start_minute: 7 * 60,
        end_minute: 19 * 60,
        ..WorkingHours::default()
    }
}

fn query() -> SlotQuery {
    SlotQuery {
        length_minutes: 60,
        count: 3,
        customer_start_minute: 8 * 60,
        customer_end_minute: 20 * 60,
    }
}

/// Books a session with `contact` from `at(from)` to `at(to)`, written at `t0()`.
async fn book(
    store: &Store,
    account: &Account,
    contact: &Contact,
    from: i64,
    to: i64,
) -> OnboardingSession {
    store
        .onboarding_session_create(
            account.id,
            new_session(Slot::new(at(from), at(to)), contact.id),
            t0(),
        )
        .await
        .unwrap()
}

fn new_session(slot: Slot, contact: Uuid) -> NewSession {
    NewSession {
        start: slot.start,
        end: slot.end,
        attendee_ids: vec![contact],
        meeting_link: Some("https://meet.jit.si/bondi-onboarding".into()),
    }
}

#[tokio::test]
async fn slots_for_sydney_from_berlin_fall_in_both_days_and_skip_booked_ones() {
    let (store, _me, account, contact) = setup(WorkingHours::default()).await;
    let office = SlotQuery {
        customer_start_minute: 9 * 60,
        customer_end_minute: 17 * 60,
        ..query()
    };
    assert!(
        store
            .onboarding_slots(account.id, office, t0())
            .await
            .unwrap()
            .is_empty(),
        "Berlin 09-17 and Sydney 09-17 never meet"
    );
    let slots = store
        .onboarding_slots(account.id, query(), t0())
        .await
        .unwrap();
    assert_eq!(slots.len(), 3);
    let first = slots[0];
    assert_eq!(
        first.start.to_rfc3339(),
        "2026-11-27T08:00:00+00:00",
        "Friday"
    );
    for s in &slots {
        let berlin = s.start.with_timezone(&chrono_tz::Europe::Berlin);
        let sydney = s.end.with_timezone(&chrono_tz::Australia::Sydney);
        assert_eq!(
            berlin.hour(),
            9,
            "the one shared hour on my clock: {berlin}"
        );
        assert!(sydney.hour() <= 20, "inside the customer's 08-20: {sydney}");
    }

    let booked = store
        .onboarding_session_create(account.id, new_session(first, contact.id), at(1))
        .await
        .unwrap();
    assert_eq!(booked.status, OnboardingStatus::Scheduled);
    assert_eq!(booked.agenda.len(), 5, "the default template");
    let again = store
        .onboarding_slots(account.id, query(), at(2))
        .await
        .unwrap();
    assert!(
        again.iter().all(|s| !s.overlaps(&Slot::new(
            booked.starts_at - TimeDelta::minutes(15),
            booked.ends_at + TimeDelta::minutes(15)
        ))),
        "a booked session (and its buffer) is no longer offered: {again:?}"
    );
    assert_eq!(again[0].start, slots[1].start, "the next one moves up");
}

#[tokio::test]
async fn bad_input_is_refused_naming_the_field_and_nothing_is_saved() {
    let (store, _me, account, contact) = setup(wide()).await;
    let other = store
        .account_create(
            crate::testing::account_input("Other", Plan::Standard, "Europe/Paris"),
            t0(),
        )
        .await
        .unwrap();
    let stranger = store
        .contact_create(
            other.id,
            ContactInput {
                name: "Zed".into(),
                email: "zed@other.example".into(),
                role: String::new(),
                time_zone: None,
            },
            t0(),
        )
        .await
        .unwrap();
    let good = NewSession {
        start: at(24 * 60),
        end: at(25 * 60),
        attendee_ids: vec![contact.id],
        meeting_link: None,
    };
    let before = store.pending_changes().await.unwrap();
    for (bad, field) in [
        (
            NewSession {
                end: at(23 * 60),
                ..good.clone()
            },
            "end",
        ),
        (
            NewSession {
                start: at(-60),
                end: at(0),
                ..good.clone()
            },
            "start",
        ),
        (
            NewSession {
                attendee_ids: vec![stranger.id],
                ..good.clone()
            },
            "attendee_contact_ids",
        ),
        (
            NewSession {
                meeting_link: Some("http://meet.jit.si/room".into()),
                ..good.clone()
            },
            "meeting_link",
        ),
    ] {
        let e = store
            .onboarding_session_create(account.id, bad, t0())
            .await
            .unwrap_err();
        assert_eq!(e.field(), Some(field), "{e}");
    }
    assert_eq!(
        store.pending_changes().await.unwrap(),
        before,
        "nothing refused reached the outbox"
    );
    assert!(store.onboarding_board().await.unwrap().sessions.is_empty());
}

#[tokio::test]
async fn running_a_session_to_completion_marks_the_account_done() {
    let (store, _me, account, contact) = setup(wide()).await;
    let before = store.onboarding_for_account(account.id).await.unwrap();
    assert!(before.needs_onboarding && !before.done);
    assert_eq!(
        store.onboarding_board().await.unwrap().needs_onboarding[0].id,
        account.id,
        "flagged on the board"
    );
    let s = store
        .onboarding_session_create(
            account.id,
            NewSession {
                start: at(60),
                end: at(120),
                attendee_ids: vec![contact.id],
                meeting_link: None,
            },
            t0(),
        )
        .await
        .unwrap();
    assert!(
        store
            .onboarding_board()
            .await
            .unwrap()
            .needs_onboarding
            .is_empty()
    );
    let e = store
        .onboarding_session_set_status(s.id, OnboardingStatus::Completed, at(30))
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("status"), "not started yet");

    let mut form: OnboardingSessionInput = s.input();
    form.agenda[0].done = true;
    form.outcome = "Slack channel set up; SLA walked through.".into();
    let edited = store
        .onboarding_session_update(s.id, form, at(70))
        .await
        .unwrap();
    assert_eq!(
        edited.sequence, 0,
        "an outcome is not news to the attendees"
    );
    let done = store
        .onboarding_session_set_status(s.id, OnboardingStatus::Completed, at(90))
        .await
        .unwrap();
    assert_eq!(done.status, OnboardingStatus::Completed);
    let after = store.onboarding_for_account(account.id).await.unwrap();
    assert!(
        after.done && !after.needs_onboarding,
        "completing marks it done"
    );
    assert!(after.sessions[0].agenda[0].done);
}

#[tokio::test]
async fn the_export_keeps_its_uid_and_the_sequence_grows_with_each_change() {
    let (store, _me, account, contact) = setup(wide()).await;
    let s = book(&store, &account, &contact, 24 * 60, 25 * 60).await;
    let first = store.onboarding_session_ics(s.id, t0()).await.unwrap();
    assert!(first.content.contains("METHOD:REQUEST"));
    assert!(first.content.contains("SEQUENCE:0"));
    assert!(first.content.contains("ATTENDEE;CN=\"Ana Lee\""));
    assert!(first.content.contains("TRIGGER:-PT15M"));
    assert!(
        first
            .content
            .contains("LOCATION:https://meet.jit.si/bondi-onboarding")
    );
    assert_eq!(first.file_name, "onboarding-bondi-analytics-2026-11-27.ics");
    let mut form = s.input();
    form.start += TimeDelta::hours(1);
    form.end += TimeDelta::hours(1);
    store
        .onboarding_session_update(s.id, form, at(1))
        .await
        .unwrap();
    let moved = store.onboarding_session_ics(s.id, at(1)).await.unwrap();
    assert!(moved.content.contains("SEQUENCE:1"), "a move is an update");
    store
        .onboarding_session_set_status(s.id, OnboardingStatus::Cancelled, at(2))
        .await
        .unwrap();
    let cancel = store.onboarding_session_ics(s.id, at(2)).await.unwrap();
    assert!(cancel.content.contains("METHOD:CANCEL"));
    assert!(cancel.content.contains("SEQUENCE:2"));
    assert!(cancel.content.contains("STATUS:CANCELLED"));
    let uid = format!("UID:{}@rapport", s.id);
    assert!(
        first.content.contains(&uid) && cancel.content.contains(&uid),
        "stable UID"
    );

    let invite = store.onboarding_invite_text(s.id).await.unwrap();
    assert!(
        invite.contains("Australia/Sydney") && invite.contains("Europe/Berlin"),
        "{invite}"
    );
}

#[tokio::test]
async fn week_today_and_reminders_once() {
    let (store, me, account, contact) = setup(wide()).await;
    // 10:00 UTC Thursday = 11:00 Berlin.
    let s = book(&store, &account, &contact, 60, 120).await;
    let week = store.onboarding_week(None, t0()).await.unwrap();
    assert_eq!(week.week_start.to_string(), "2026-11-23", "the Monday");
    assert_eq!(week.sessions.len(), 1);
    assert_eq!(
        week.sessions[0].facilitator_name.as_deref(),
        Some(me.name.as_str())
    );
    let next = store
        .onboarding_week(Some(NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()), t0())
        .await
        .unwrap();
    assert!(next.sessions.is_empty());
    let ics = store.onboarding_week_ics(None, t0()).await.unwrap();
    assert!(ics.content.contains("METHOD:PUBLISH") && ics.content.contains(&s.id.to_string()));
    assert_eq!(store.onboarding_today(t0()).await.unwrap().len(), 1);
    assert!(
        store
            .onboarding_today(at(24 * 60))
            .await
            .unwrap()
            .is_empty()
    );

    assert!(
        store
            .onboarding_take_due_reminders(at(30))
            .await
            .unwrap()
            .is_empty(),
        "too early"
    );
    let due = store.onboarding_take_due_reminders(at(46)).await.unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].session_id, s.id);
    assert!(
        store
            .onboarding_take_due_reminders(at(50))
            .await
            .unwrap()
            .is_empty(),
        "once per session"
    );
    store
        .onboarding_settings_set(OnboardingSettings {
            agenda_template: vec!["Intro".into()],
            reminder_minutes: 30,
        })
        .await
        .unwrap();
    for (item, reminder_minutes, field) in
        [(" ", 30, "agenda_template"), ("x", 0, "reminder_minutes")]
    {
        let e = store
            .onboarding_settings_set(OnboardingSettings {
                agenda_template: vec![item.into()],
                reminder_minutes,
            })
            .await
            .unwrap_err();
        assert_eq!(e.field(), Some(field));
    }
    let got = store.onboarding_settings_get().await.unwrap();
    assert_eq!(got.reminder_minutes, 30);
    let s2 = book(&store, &account, &contact, 24 * 60, 25 * 60).await;
    assert_eq!(
        s2.agenda.len(),
        1,
        "new sessions follow the edited template"
    );
}

#[tokio::test]
async fn reminders_are_not_repeated_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let (_me, account) = me_and_account(&store, "Maya", wide(), "Bondi").await;
    store
        .onboarding_session_create(
            account.id,
            NewSession {
                start: at(60),
                end: at(90),
                attendee_ids: vec![],
                meeting_link: None,
            },
            t0(),
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .onboarding_take_due_reminders(at(50))
            .await
            .unwrap()
            .len(),
        1
    );
    store.close().await;
    let store = Store::open(dir.path()).await.unwrap();
    assert!(
        store
            .onboarding_take_due_reminders(at(51))
            .await
            .unwrap()
            .is_empty(),
        "recorded in the cache, not in memory"
    );
}

#[tokio::test]
async fn what_the_outbox_carries_rebuilds_the_same_row_elsewhere() {
    let (store, me, account, contact) = setup(wide()).await;
    let s = book(&store, &account, &contact, 60, 120).await;
    let mut form = s.input();
    form.outcome = "Good".into();
    form.agenda[1].done = true;
    store
        .onboarding_session_update(s.id, form, at(70))
        .await
        .unwrap();
    let done = store
        .onboarding_session_set_status(s.id, OnboardingStatus::Completed, at(90))
        .await
        .unwrap();

    let outbox: Vec<_> = store
        .outbox()
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.entity == EntityKind::OnboardingSession)
        .collect();
    assert_eq!(outbox.len(), 3, "one mutation per write");
    for m in &outbox {
        for k in m.fields.keys() {
            assert!(
                rapport_domain::onboarding::SYNC
                    .fields
                    .contains(&k.as_str())
                    || rapport_domain::sync::SERVER_FIELDS.contains(&k.as_str()),
                "{k} is a wire field of the spec"
            );
        }
    }

    // A second desktop: same account and user rows (as the sync would bring them).
    let other = Store::open_in_memory().await.unwrap();
    {
        let mut conn = other.writer.acquire().await.unwrap();
        crate::accounts::upsert_user(&mut conn, &me).await.unwrap();
        crate::accounts::insert_accounts(&mut conn, &[&account])
            .await
            .unwrap();
        for m in &outbox {
            crate::entity::apply_wire::<OnboardingSession>(
                &mut conn,
                m.entity_id,
                None,
                &m.fields,
                Utc::now(),
            )
            .await
            .unwrap();
        }
    }
    let mut conn = other.reader.acquire().await.unwrap();
    assert_eq!(
        session_by_id(&mut conn, s.id).await.unwrap(),
        done,
        "the same row"
    );
    drop(conn);
    let mut conn = other.writer.acquire().await.unwrap();
    crate::entity::delete::<OnboardingSession>(&mut conn, s.id, Utc::now(), Utc::now())
        .await
        .unwrap();
    assert!(session_by_id(&mut conn, s.id).await.is_err());
}

/// A session with no attendee yet (for an account without contacts).
fn nobody(slot: Slot) -> NewSession {
    NewSession {
        attendee_ids: vec![],
        ..new_session(slot, Uuid::nil())
    }
}

/// `minutes` after `start`, as a session's times.
fn span(start: DateTime<Utc>, minutes: i64) -> Slot {
    Slot::new(start, start + TimeDelta::minutes(minutes))
}

#[tokio::test]
async fn booking_refuses_an_overlap_with_my_sessions_and_reviews_naming_it() {
    let (store, _me, bondi, contact) = setup(wide()).await;
    let coral = store
        .account_create(
            AccountInput {
                name: "Coral Freight".into(),
                plan: Plan::ProfessionalSupport,
                time_zone: "Australia/Sydney".into(),
                fiscal_year_start_month: 1,
                owner_csm_id: None,
                account_rep_id: None,
                slack_channel: None,
                support_email_domains: vec![],
                stage: LifecycleStage::Onboarding,
                tags: vec![],
            },
            t0(),
        )
        .await
        .unwrap();
    // Monday 30 Nov 2026, 08:00 UTC = 09:00 in Berlin.
    let monday = DateTime::parse_from_rfc3339("2026-11-30T08:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    let first = store
        .onboarding_session_create(bondi.id, new_session(span(monday, 60), contact.id), t0())
        .await
        .unwrap();

    let half_past = span(monday + TimeDelta::minutes(30), 60);
    let err = store
        .onboarding_session_create(coral.id, nobody(half_past), t0())
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("start"), "the clash is the start's fault");
    assert_eq!(
        err.to_string(),
        "start: overlaps your onboarding session with Bondi Analytics on Mon 30 Nov \
         09:00–10:00 (Europe/Berlin); pick a free slot",
        "the message names the clashing item on my clock"
    );
    assert_eq!(
        store.onboarding_board().await.unwrap().sessions.len(),
        1,
        "nothing was saved"
    );

    // Touching ends do not clash, and a session may move over its own old time.
    let after = store
        .onboarding_session_create(coral.id, nobody(span(first.ends_at, 60)), t0())
        .await
        .expect("back to back is fine");
    let mut moved = first.input();
    moved.start = monday - TimeDelta::minutes(30);
    moved.end = monday + TimeDelta::minutes(30);
    store
        .onboarding_session_update(first.id, moved, t0())
        .await
        .expect("moving over its own old time is fine");

    // Moving one session onto another is refused too.
    let mut onto = after.input();
    onto.start = monday;
    onto.end = monday + TimeDelta::minutes(60);
    let err = store
        .onboarding_session_update(after.id, onto, t0())
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("your onboarding session with Bondi Analytics on Mon 30 Nov 08:30–09:30"),
        "{err}"
    );

    // A booked review is busy time as well.
    let review = store.review_create(bondi.id, 0, t0()).await.unwrap();
    let tuesday = monday + TimeDelta::days(1);
    store
        .review_book(
            review.review.id,
            tuesday,
            tuesday + TimeDelta::hours(1),
            None,
            t0(),
        )
        .await
        .unwrap();
    let err = store
        .onboarding_session_create(
            coral.id,
            nobody(span(tuesday + TimeDelta::minutes(45), 30)),
            t0(),
        )
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "start: overlaps your quarterly review with Bondi Analytics on Tue 1 Dec 09:00–10:00 \
         (Europe/Berlin); pick a free slot"
    );
    // And a review may not be booked over a session.
    let coral_review = store.review_create(coral.id, 0, t0()).await.unwrap();
    let book_review_over_it = || {
        store.review_book(
            coral_review.review.id,
            after.starts_at,
            after.ends_at,
            None,
            t0(),
        )
    };
    let err = book_review_over_it().await.unwrap_err();
    assert!(
        err.to_string()
            .contains("your onboarding session with Coral Freight"),
        "{err}"
    );

    // A cancelled session frees its time.
    store
        .onboarding_session_set_status(after.id, OnboardingStatus::Cancelled, t0())
        .await
        .unwrap();
    book_review_over_it()
        .await
        .expect("a cancelled session is not busy time");
}
