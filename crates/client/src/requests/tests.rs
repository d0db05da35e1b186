use chrono::TimeZone;
use chrono::{DateTime, Utc};
use rapport_domain::request::{RequestStatus, Severity, Visibility};
use rapport_domain::sync::EntityKind;
use rapport_domain::{AccountInput, WorkingHours};
use rapport_domain::{Plan, Role};
use uuid::Uuid;

use crate::error::StoreError;
use crate::store::Store;

use super::rows::request_by_id;
use super::use_cases::EmailImportOutcome;
use super::wire::{EventRecord, RequestRecord};

fn at(m: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 9, 0, 0).unwrap() + chrono::Duration::minutes(m)
}

/// A cache whose user is `name` (`email`, `role`, in Berlin).
async fn store_of(name: &str, email: &str, role: Role) -> Store {
    let s = Store::open_in_memory().await.unwrap();
    s.profile_create(
        crate::testing::user_input(name, email, role, "Europe/Berlin"),
        at(0),
    )
    .await
    .unwrap();
    s
}

async fn store() -> Store {
    store_of("Tomás Silva", "tomas@rapport-vendor.com", Role::SupportLead).await
}

/// Acme, whose support emails come from acme.com.
async fn acme(s: &Store) -> rapport_domain::Account {
    s.account_create(
        AccountInput {
            support_email_domains: vec!["acme.com".into()],
            ..crate::testing::account_input("Acme", Plan::ProfessionalSupport, "Europe/Berlin")
        },
        at(0),
    )
    .await
    .unwrap()
}

/// Imports `eml`, which must open a request; its id.
async fn opened(s: &Store, eml: &[u8]) -> Uuid {
    let EmailImportOutcome::Opened { request_id, .. } =
        s.email_import(eml, None, at(0)).await.unwrap()
    else {
        panic!("opened")
    };
    request_id
}

#[tokio::test]
async fn outbox_fields_applied_as_pulled_give_the_same_rows() {
    let a = store().await;
    let account = acme(&a).await;
    let id = opened(
        &a,
        b"From: Ana <ana@acme.com>\r\nSubject: URGENT db down\r\nMessage-ID: <x1@acme.com>\r\n\r\nDown.\r\n",
    )
    .await;
    a.request_set_severity(id, Severity::P2, at(5))
        .await
        .unwrap();
    a.request_launch_call(id, [3; 16], at(6)).await.unwrap();
    a.request_respond(id, Visibility::Public, "Looking", at(7))
        .await
        .unwrap();
    a.request_set_status(id, RequestStatus::Resolved, at(50))
        .await
        .unwrap();
    let rca = a.rca_open(id, at(60)).await.unwrap();

    let b = store().await;
    {
        let mut conn = b.writer.acquire().await.unwrap();
        crate::accounts::insert_accounts(&mut conn, &[&account])
            .await
            .unwrap();
        for m in a.outbox().await.unwrap() {
            if let Some(spec) = rapport_domain::sync::spec(m.entity) {
                for k in m.fields.keys() {
                    assert!(
                        spec.fields.contains(&k.as_str())
                            || rapport_domain::sync::SERVER_FIELDS.contains(&k.as_str()),
                        "{:?} has no field {k}",
                        m.entity
                    );
                }
                (spec.normalize)(m.fields.clone()).unwrap_or_else(|e| {
                    panic!(
                        "the service would refuse {:?} {:?}: {e:?}",
                        m.entity, m.fields
                    )
                });
            }
            if matches!(
                m.entity,
                EntityKind::Request | EntityKind::RequestEvent | EntityKind::Rca
            ) {
                let pulled = crate::sync::apply::Op::Write {
                    team_id: None,
                    fields: &m.fields,
                    now: at(70),
                };
                crate::sync::apply::on_kind(&mut conn, m.entity, m.entity_id, pulled)
                    .await
                    .unwrap();
            }
        }
    }
    let (x, y) = (
        a.request_get(id, at(70)).await.unwrap(),
        b.request_get(id, at(70)).await.unwrap(),
    );
    assert_eq!(x.row, y.row, "the same request, its clock included");
    assert_eq!(x.summary, y.summary);
    assert_eq!(
        x.timeline
            .iter()
            .map(|t| (t.id, t.at, &t.kind))
            .collect::<Vec<_>>(),
        y.timeline
            .iter()
            .map(|t| (t.id, t.at, &t.kind))
            .collect::<Vec<_>>(),
        "the same timeline"
    );
    let mut ca = a.writer.acquire().await.unwrap();
    let mut cb = b.writer.acquire().await.unwrap();
    assert_eq!(
        request_by_id(&mut ca, id).await.unwrap(),
        request_by_id(&mut cb, id).await.unwrap(),
        "the same row"
    );
    drop((ca, cb));
    assert_eq!(
        a.rca_get(rca.id).await.unwrap().rca,
        b.rca_get(rca.id).await.unwrap().rca,
        "the same RCA"
    );

    // Deletes from the wire.
    let mut conn = b.writer.acquire().await.unwrap();
    crate::entity::delete::<RequestRecord>(&mut conn, id, at(70), at(70))
        .await
        .unwrap();
    crate::entity::delete::<crate::rca::RcaRecord>(&mut conn, rca.id, at(70), at(70))
        .await
        .unwrap();
    let first = a.outbox().await.unwrap()[1].entity_id;
    crate::entity::delete::<EventRecord>(&mut conn, first, at(70), at(70))
        .await
        .unwrap();
    drop(conn);
    assert!(b.request_get(id, at(70)).await.is_err(), "deleted");
}

#[tokio::test]
async fn taking_a_request_assigns_it_to_me_and_only_a_lead_reassigns_it() {
    let s = store_of("Carla CSM", "carla@rapport-vendor.com", Role::Csm).await;
    let colleague = rapport_domain::User {
        id: Uuid::from_u128(42),
        name: "Lee Lead".into(),
        email: "lee@rapport-vendor.com".into(),
        role: Role::SupportLead,
        time_zone: "Europe/Berlin".into(),
        working_hours: WorkingHours::default(),
    };
    crate::accounts::upsert_user(&mut s.writer.acquire().await.unwrap(), &colleague)
        .await
        .unwrap();
    acme(&s).await;
    let id = opened(
        &s,
        b"From: Ana <ana@acme.com>\r\nSubject: Fwd: Exports slow\r\n\r\nSlow.\r\n",
    )
    .await;
    let me = s.profile_get().await.unwrap().unwrap().id;
    let board = s.requests_board(at(1)).await.unwrap();
    assert_eq!(board.me, Some(me));
    assert_eq!(board.open[0].title, "Exports slow", "no forward prefix");
    assert_eq!(board.open[0].assignee_id, None, "a new request is nobody's");

    let refused = s.request_assign(id, Some(colleague.id), at(2)).await;
    assert!(
        matches!(&refused, Err(StoreError::Validation(v)) if v.0[0].field == "assignee_id"),
        "a CSM cannot hand a request to someone else: {refused:?}"
    );
    let before = s.outbox().await.unwrap().len();
    s.request_assign(id, Some(me), at(3)).await.unwrap();
    let outbox = s.outbox().await.unwrap();
    assert_eq!(outbox.len(), before + 1, "taking it is one write");
    let m = outbox.last().unwrap();
    assert_eq!(m.entity, EntityKind::Request);
    assert_eq!(
        m.fields.keys().collect::<Vec<_>>(),
        ["assignee_id"],
        "only the assignee travels, so a concurrent edit of another field is kept"
    );
    assert_eq!(m.fields["assignee_id"], serde_json::json!(me));
    let row = &s.requests_board(at(4)).await.unwrap().open[0];
    assert_eq!(
        (row.assignee_id, row.assignee_name.as_deref()),
        (Some(me), Some("Carla CSM"))
    );
    let detail = s.request_get(id, at(4)).await.unwrap();
    assert!(!detail.can_assign_others, "a CSM takes, a lead assigns");
    assert_eq!(
        (detail.contact_name, detail.me),
        (None, Some(me)),
        "the sender is no contact of the account"
    );
    assert!(
        s.request_assign(id, Some(me), at(5)).await.is_err(),
        "already mine"
    );
    s.request_assign(id, None, at(6)).await.unwrap();
    assert_eq!(
        s.requests_board(at(7)).await.unwrap().open[0].assignee_id,
        None,
        "given back"
    );
    let stranger = s.request_assign(id, Some(Uuid::from_u128(77)), at(8)).await;
    assert!(
        matches!(&stranger, Err(StoreError::Validation(v)) if v.0[0].field == "assignee_id"),
        "nobody outside the team: {stranger:?}"
    );
}
