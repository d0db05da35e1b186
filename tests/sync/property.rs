//! The convergence property: 3 clients (a CSM, an account rep and a support lead) make
//! random writes (accounts created and edited, notes and contacts created, edited, deleted
//! and re-created, requests opened, answered, moved along and their severity changed) while
//! syncing through random
//! faults (request dropped, response dropped after the server committed, request sent
//! twice, server restarted), then reconnect in a random order. Every client ends equal to
//! the server, every write is either applied on the server or kept in "needs attention",
//! no outbox is left with anything in it, and every request reads the same (severity,
//! status, SLA clock, the server's whole timeline) on every client.
//!
//! Cases: 200 by default; `SYNC_PROPTEST_CASES=5000` for a long run. One server and
//! database for the whole run; each case gets a fresh team (the three users move to it)
//! and fresh data folders.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use rapport_client::sync::Fault;
use rapport_domain::request::{Channel, NewRequestInput, RequestStatus, Severity, Visibility};
use rapport_domain::{AccountInput, ContactInput, LifecycleStage, NoteInput, Plan, Role};
use rapport_tests::syncenv::{Client, Server, now};
use uuid::Uuid;

#[derive(Debug, Clone)]
enum Op {
    CreateAccount {
        c: usize,
        seed: u8,
    },
    EditAccount {
        c: usize,
        pick: usize,
        field: u8,
        seed: u8,
    },
    CreateNote {
        c: usize,
        pick: usize,
        seed: u8,
    },
    EditNote {
        c: usize,
        pick: usize,
        seed: u8,
    },
    DeleteNote {
        c: usize,
        pick: usize,
    },
    RestoreNote {
        c: usize,
        pick: usize,
    },
    CreateContact {
        c: usize,
        pick: usize,
        seed: u8,
    },
    DeleteContact {
        c: usize,
        pick: usize,
    },
    RestoreContact {
        c: usize,
        pick: usize,
    },
    OpenRequest {
        c: usize,
        pick: usize,
        seed: u8,
    },
    Respond {
        c: usize,
        pick: usize,
        seed: u8,
    },
    SetStatus {
        c: usize,
        pick: usize,
        seed: u8,
    },
    /// Only the support lead (client 2) may; the others are refused before the outbox.
    SetSeverity {
        c: usize,
        pick: usize,
        seed: u8,
    },
    Sync {
        c: usize,
        faults: Vec<Fault>,
    },
    RestartServer,
}

fn fault() -> impl Strategy<Value = Fault> {
    prop_oneof![
        3 => Just(Fault::None),
        1 => Just(Fault::DropRequest),
        1 => Just(Fault::DropResponse),
        1 => Just(Fault::Duplicate),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let c = 0..3usize;
    let pick = 0..8usize;
    prop_oneof![
        2 => (c.clone(), any::<u8>()).prop_map(|(c, seed)| Op::CreateAccount { c, seed }),
        3 => (c.clone(), pick.clone(), 0..4u8, any::<u8>())
            .prop_map(|(c, pick, field, seed)| Op::EditAccount { c, pick, field, seed }),
        2 => (c.clone(), pick.clone(), any::<u8>()).prop_map(|(c, pick, seed)| Op::CreateNote { c, pick, seed }),
        2 => (c.clone(), pick.clone(), any::<u8>()).prop_map(|(c, pick, seed)| Op::EditNote { c, pick, seed }),
        1 => (c.clone(), pick.clone()).prop_map(|(c, pick)| Op::DeleteNote { c, pick }),
        1 => (c.clone(), pick.clone()).prop_map(|(c, pick)| Op::RestoreNote { c, pick }),
        1 => (c.clone(), pick.clone(), any::<u8>()).prop_map(|(c, pick, seed)| Op::CreateContact { c, pick, seed }),
        1 => (c.clone(), pick.clone()).prop_map(|(c, pick)| Op::DeleteContact { c, pick }),
        1 => (c.clone(), pick.clone()).prop_map(|(c, pick)| Op::RestoreContact { c, pick }),
        2 => (c.clone(), pick.clone(), any::<u8>()).prop_map(|(c, pick, seed)| Op::OpenRequest { c, pick, seed }),
        1 => (c.clone(), pick.clone(), any::<u8>()).prop_map(|(c, pick, seed)| Op::Respond { c, pick, seed }),
        1 => (c.clone(), pick.clone(), any::<u8>()).prop_map(|(c, pick, seed)| Op::SetStatus { c, pick, seed }),
        2 => (c.clone(), pick.clone(), any::<u8>()).prop_map(|(c, pick, seed)| Op::SetSeverity { c, pick, seed }),
        3 => (c, proptest::collection::vec(fault(), 0..4)).prop_map(|(c, faults)| Op::Sync { c, faults }),
        1 => Just(Op::RestartServer),
    ]
}

#[derive(Debug, Clone)]
struct Case {
    ops: Vec<Op>,
    faults: Vec<Fault>,
    order: Vec<usize>,
}

fn case() -> impl Strategy<Value = Case> {
    (
        proptest::collection::vec(op(), 1..30),
        proptest::collection::vec(fault(), 0..3),
        Just(vec![0usize, 1, 2]).prop_shuffle(),
    )
        .prop_map(|(ops, faults, order)| Case { ops, faults, order })
}

struct World {
    server: Server,
    emails: Vec<String>,
    tokens: Vec<String>,
    team: Option<Uuid>,
}

fn pick(ids: &[Uuid], i: usize) -> Option<Uuid> {
    (!ids.is_empty()).then(|| ids[i % ids.len()])
}

const STAGES: [LifecycleStage; 4] = [
    LifecycleStage::Onboarding,
    LifecycleStage::Active,
    LifecycleStage::AtRisk,
    LifecycleStage::Churned,
];

async fn run_case(w: &mut World, case: &Case) -> Result<(), TestCaseError> {
    let fail = |e: &dyn std::fmt::Display| TestCaseError::fail(e.to_string());
    let team = w
        .server
        .team(&format!("Case {}", Uuid::now_v7()))
        .await
        .map_err(|e| fail(&e))?;
    for e in &w.emails {
        w.server
            .move_member(e, w.team, team)
            .await
            .map_err(|e| fail(&e))?;
    }
    w.team = Some(team);
    let mut clients = Vec::new();
    for t in &w.tokens {
        clients.push(
            Client::with_token(&w.server, t)
                .await
                .map_err(|e| fail(&e))?,
        );
    }
    let (mut accounts, mut notes, mut contacts) = (Vec::new(), Vec::new(), Vec::new());
    let mut requests: Vec<Uuid> = Vec::new();
    let mut written: Vec<Uuid> = Vec::new();

    for op in &case.ops {
        let before = match op {
            Op::Sync { .. } | Op::RestartServer => None,
            Op::CreateAccount { c, .. }
            | Op::EditAccount { c, .. }
            | Op::CreateNote { c, .. }
            | Op::EditNote { c, .. }
            | Op::DeleteNote { c, .. }
            | Op::RestoreNote { c, .. }
            | Op::CreateContact { c, .. }
            | Op::DeleteContact { c, .. }
            | Op::RestoreContact { c, .. }
            | Op::OpenRequest { c, .. }
            | Op::Respond { c, .. }
            | Op::SetStatus { c, .. }
            | Op::SetSeverity { c, .. } => Some(*c),
        };
        let n_before = match before {
            Some(c) => clients[c].store.outbox().await.map_err(|e| fail(&e))?.len(),
            None => 0,
        };
        match op {
            Op::CreateAccount { c, seed } => {
                let r = clients[*c]
                    .store
                    .account_create(
                        AccountInput {
                            name: format!("Account {seed}"),
                            plan: if seed % 2 == 0 {
                                Plan::ProfessionalSupport
                            } else {
                                Plan::Standard
                            },
                            time_zone: "Europe/Paris".into(),
                            fiscal_year_start_month: seed % 12 + 1,
                            owner_csm_id: None,
                            account_rep_id: None,
                            slack_channel: None,
                            support_email_domains: vec![],
                            stage: STAGES[usize::from(*seed) % 4],
                            tags: vec![],
                        },
                        now(),
                    )
                    .await;
                if let Ok(a) = r {
                    accounts.push(a.id);
                }
            }
            Op::EditAccount {
                c,
                pick: p,
                field,
                seed,
            } => {
                if let Some(id) = pick(&accounts, *p)
                    && let Ok(d) = clients[*c].store.account_get(id).await
                {
                    let a = d.account;
                    let mut i = AccountInput {
                        name: a.name,
                        plan: a.plan,
                        time_zone: a.time_zone,
                        fiscal_year_start_month: a.fiscal_year_start_month,
                        owner_csm_id: a.owner_csm_id,
                        account_rep_id: a.account_rep_id,
                        slack_channel: a.slack_channel,
                        support_email_domains: a.support_email_domains,
                        stage: a.stage,
                        tags: a.tags,
                    };
                    match field {
                        0 => i.name = format!("Renamed {seed}"),
                        1 => i.stage = STAGES[usize::from(*seed) % 4],
                        2 => i.tags = vec![format!("t{}", seed % 5)],
                        _ => i.slack_channel = Some(format!("#acct-{seed}")),
                    }
                    let _ = clients[*c].store.account_update(id, i, now()).await;
                }
            }
            Op::CreateNote { c, pick: p, seed } => {
                if let Some(acc) = pick(&accounts, *p)
                    && let Ok(n) = clients[*c]
                        .store
                        .note_create(
                            acc,
                            NoteInput {
                                body: format!("note {seed}"),
                                pinned: seed % 3 == 0,
                                link: None,
                            },
                            now(),
                        )
                        .await
                {
                    notes.push(n.id);
                }
            }
            Op::EditNote { c, pick: p, seed } => {
                if let Some(id) = pick(&notes, *p) {
                    let _ = clients[*c]
                        .store
                        .note_update(id, &format!("edited {seed}"), now())
                        .await;
                }
            }
            Op::DeleteNote { c, pick: p } => {
                if let Some(id) = pick(&notes, *p) {
                    let _ = clients[*c].store.note_delete(id, now()).await;
                }
            }
            Op::RestoreNote { c, pick: p } => {
                if let Some(id) = pick(&notes, *p) {
                    let _ = clients[*c].store.note_restore(id, now()).await;
                }
            }
            Op::CreateContact { c, pick: p, seed } => {
                if let Some(acc) = pick(&accounts, *p)
                    && let Ok(k) = clients[*c]
                        .store
                        .contact_create(
                            acc,
                            ContactInput {
                                name: format!("Contact {seed}"),
                                email: format!("c{seed}@customer.example.com"),
                                role: "CTO".into(),
                                time_zone: None,
                            },
                            now(),
                        )
                        .await
                {
                    contacts.push(k.id);
                }
            }
            Op::DeleteContact { c, pick: p } => {
                if let Some(id) = pick(&contacts, *p) {
                    let _ = clients[*c].store.contact_delete(id, now()).await;
                }
            }
            Op::RestoreContact { c, pick: p } => {
                if let Some(id) = pick(&contacts, *p) {
                    let _ = clients[*c].store.contact_restore(id, now()).await;
                }
            }
            Op::OpenRequest { c, pick: p, seed } => {
                if let Some(acc) = pick(&accounts, *p)
                    && let Ok(id) = clients[*c]
                        .store
                        .request_create(
                            NewRequestInput {
                                account_id: acc,
                                contact_id: None,
                                channel: Channel::Chat,
                                severity: Severity::ALL[usize::from(*seed) % 4],
                                needs_triage: false,
                                title: format!("Request {seed}"),
                                details: String::new(),
                            },
                            now(),
                        )
                        .await
                {
                    requests.push(id);
                }
            }
            Op::Respond { c, pick: p, seed } => {
                if let Some(id) = pick(&requests, *p) {
                    let visibility = if seed % 2 == 0 {
                        Visibility::Public
                    } else {
                        Visibility::Internal
                    };
                    let _ = clients[*c]
                        .store
                        .request_respond(id, visibility, &format!("reply {seed}"), now())
                        .await;
                }
            }
            Op::SetStatus { c, pick: p, seed } => {
                if let Some(id) = pick(&requests, *p) {
                    let _ = clients[*c]
                        .store
                        .request_set_status(id, RequestStatus::ALL[usize::from(*seed) % 5], now())
                        .await;
                }
            }
            Op::SetSeverity { c, pick: p, seed } => {
                if let Some(id) = pick(&requests, *p) {
                    let _ = clients[*c]
                        .store
                        .request_set_severity(id, Severity::ALL[usize::from(*seed) % 4], now())
                        .await;
                }
            }
            Op::Sync { c, faults } => {
                clients[*c].faults.inject(faults.iter().copied());
                // A fault may fail this sync (offline): the next one picks up.
                match clients[*c].sync().await {
                    Ok(_) => {}
                    Err(e) if e.is_transient() => {}
                    Err(e) => return Err(fail(&e)),
                }
                // Faults not consumed by this sync are not carried over.
                clear(&clients[*c]);
            }
            Op::RestartServer => w.server.restart().await.map_err(|e| fail(&e))?,
        }
        if let Some(c) = before {
            let out = clients[c].store.outbox().await.map_err(|e| fail(&e))?;
            if out.len() > n_before {
                written.extend(out[n_before..].iter().map(|m| m.id));
            }
        }
    }

    // Reconnect in the case's order; the first sync of the first client still meets faults.
    clients[case.order[0]]
        .faults
        .inject(case.faults.iter().copied());
    for _round in 0..3 {
        for &c in &case.order {
            match clients[c].sync().await {
                Ok(_) => {}
                Err(e) if e.is_transient() => {}
                Err(e) => return Err(fail(&e)),
            }
        }
    }
    for &c in &case.order {
        clear(&clients[c]);
        clients[c].sync().await.map_err(|e| fail(&e))?;
    }
    for &c in &case.order {
        clients[c].sync().await.map_err(|e| fail(&e))?;
    }

    let want = w.server.snapshot(team).await.map_err(|e| fail(&e))?;
    let mut attention = std::collections::HashSet::new();
    for (n, cl) in clients.iter().enumerate() {
        prop_assert_eq!(
            cl.store.pending_changes().await.map_err(|e| fail(&e))?,
            0,
            "client {} outbox left",
            n
        );
        for a in cl.store.attention_list().await.map_err(|e| fail(&e))? {
            attention.insert(a.id);
        }
        let got = cl.store.sync_snapshot().await.map_err(|e| fail(&e))?;
        prop_assert_eq!(
            got.keys().collect::<Vec<_>>(),
            want.keys().collect::<Vec<_>>(),
            "client {} holds the server's records",
            n
        );
        for (k, fields) in &got {
            for (f, v) in fields {
                prop_assert_eq!(
                    Some(v),
                    want[k].get(f),
                    "client {}: {:?}.{} differs from the server",
                    n,
                    k,
                    f
                );
            }
        }
    }
    // Requests: each one the server holds reads the same on every client, with the server's
    // whole timeline (the clock is computed from it, so it matches too).
    let events = w
        .server
        .record_ids(team, "request_event")
        .await
        .map_err(|e| fail(&e))?;
    let at = now();
    for (id, _) in w
        .server
        .record_ids(team, "request")
        .await
        .map_err(|e| fail(&e))?
    {
        let on_server = events.iter().filter(|(_, r)| *r == Some(id)).count();
        let mut seen = Vec::new();
        for (n, cl) in clients.iter().enumerate() {
            let d = cl.store.request_get(id, at).await.map_err(|e| fail(&e))?;
            prop_assert_eq!(
                d.timeline.len(),
                on_server,
                "client {}: request {} has the server's timeline",
                n,
                id
            );
            seen.push((
                d.row.severity,
                d.row.status,
                d.row.clock.state,
                d.row.clock.due_at,
            ));
        }
        prop_assert!(
            seen.windows(2).all(|w| w[0] == w[1]),
            "request {} reads the same everywhere: {:?}",
            id,
            seen
        );
    }
    for id in written {
        let applied = w.server.applied(id).await.map_err(|e| fail(&e))?;
        prop_assert!(
            applied || attention.contains(&id),
            "write {} neither applied nor kept for attention",
            id
        );
    }
    Ok(())
}

/// Drops injected faults the last sync did not consume.
fn clear(c: &Client) {
    c.faults.clear();
}

#[test]
fn clients_converge_under_faults_and_reconnect_orders() {
    let cases: u32 = std::env::var("SYNC_PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut world = rt.block_on(async {
        let server = Server::start().await.unwrap();
        let first = server.team("Start").await.unwrap();
        let mut emails = Vec::new();
        for role in [Role::Csm, Role::AccountRep, Role::SupportLead] {
            emails.push(server.user(role, &[first]).await.unwrap());
        }
        let mut tokens = Vec::new();
        for e in &emails {
            tokens.push(server.token(e).await.unwrap());
        }
        World {
            server,
            emails,
            tokens,
            team: Some(first),
        }
    });
    let mut runner = TestRunner::new(Config {
        cases,
        max_shrink_iters: 64,
        failure_persistence: None,
        ..Config::default()
    });
    let world_cell = std::cell::RefCell::new(&mut world);
    let result = runner.run(&case(), |c| {
        let mut w = world_cell.borrow_mut();
        rt.block_on(run_case(&mut w, &c))
    });
    let World { server, .. } = world;
    rt.block_on(server.drop_db()).unwrap();
    if let Err(e) = result {
        panic!("{e}");
    }
}
