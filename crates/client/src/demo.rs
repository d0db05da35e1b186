//! Demo and scale data: a deterministic workspace generated from a seed.
//!
//! The generator uses its own small PRNG (splitmix64), so the same seed and the same `now`
//! always give the same workspace, byte for byte, whatever crate versions are in use; ids
//! are UUIDv7-shaped values built from the record's creation time and PRNG bytes.
//!
//! [`Store::load_demo`] writes the workspace straight into the tables and does **not** fill
//! the outbox: seed data is not a user's write and must never be pushed to a server.

mod activity;

use chrono::{DateTime, Duration, Utc};
use rapport_domain::{
    Account, Contact, LifecycleStage, Note, Plan, Role, User, Weekday, WorkingHours,
};
use uuid::Uuid;

use crate::accounts::{insert_accounts, upsert_user};
use crate::error::{Result, StoreError};
use crate::notes::{insert_contacts, insert_notes};
use crate::store::{INSERT_BATCH, Store, fmt_time, stamp};
use crate::views::DemoSummary;

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoSpec {
    pub seed: u64,
    pub accounts: u32,
    /// Notes over all accounts, spread evenly (the first accounts get the remainder).
    pub notes: u32,
    /// A team's week of work on top: requests, incidents and their RCAs, onboarding
    /// sessions, reviews and the health history they make (module `activity`).
    pub activity: bool,
}

impl DemoSpec {
    /// The demo workspace `make run` opens: 48 accounts in 23 time zones (an
    /// account named after a place is in that place's zone), 2–5 contacts and
    /// 6 notes each, 7 staff; the profile is a CSM who owns some of the accounts.
    pub fn demo() -> Self {
        DemoSpec {
            seed: 0x5241_5050_4f52_5421,
            accounts: 48,
            notes: 48 * 6,
            activity: true,
        }
    }

    /// The scale workspace of the bench: 10,000 accounts and 250,000 notes (no activity,
    /// so its size stays what the benches measured).
    pub fn large() -> Self {
        DemoSpec {
            seed: 0x5241_5050_4f52_5421,
            accounts: 10_000,
            notes: 250_000,
            activity: false,
        }
    }

    /// Generates the workspace. Pure: the same spec and `now` give the same result.
    pub fn generate(&self, now: DateTime<Utc>) -> DemoWorkspace {
        let now = stamp(now);
        let mut rng = SplitMix64::new(self.seed);
        let users: Vec<User> = STAFF
            .iter()
            .map(|&(name, email, role, tz)| User {
                id: rng.uuid(now - Duration::days(800)),
                name: name.to_owned(),
                email: email.to_owned(),
                role,
                time_zone: tz.to_owned(),
                working_hours: WorkingHours {
                    days: vec![
                        Weekday::Mon,
                        Weekday::Tue,
                        Weekday::Wed,
                        Weekday::Thu,
                        Weekday::Fri,
                    ],
                    start_minute: 9 * 60,
                    end_minute: 17 * 60,
                },
            })
            .collect();
        let csms: Vec<&User> = users.iter().filter(|u| u.role == Role::Csm).collect();
        let reps: Vec<&User> = users
            .iter()
            .filter(|u| u.role == Role::AccountRep)
            .collect();
        let profile_id = csms[0].id;
        let n = self.accounts.max(1);
        let mut accounts: Vec<DemoAccount> = (0..self.accounts)
            .map(|i| {
                let per = self.notes / n + u32::from(i < self.notes % n);
                // One PRNG per account: account i does not depend on how many came before.
                let mut r =
                    SplitMix64::new(self.seed ^ u64::from(i).wrapping_mul(0x9E37_79B9_7F4A_7C15));
                generate_account(&mut r, i, per, now, &users, &csms, &reps)
            })
            .collect();
        let activity = match users.iter().find(|u| u.id == profile_id) {
            Some(me) if self.activity => {
                activity::generate(self.seed, now, &users, me, &mut accounts)
            }
            _ => activity::Activity::default(),
        };
        DemoWorkspace {
            profile_id,
            users,
            accounts,
            activity,
        }
    }
}

/// A generated workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoWorkspace {
    /// The demo profile: the first CSM.
    pub profile_id: Uuid,
    pub users: Vec<User>,
    pub accounts: Vec<DemoAccount>,
    pub(crate) activity: activity::Activity,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoAccount {
    pub account: Account,
    pub contacts: Vec<Contact>,
    pub notes: Vec<Note>,
}

impl DemoWorkspace {
    pub fn summary(&self) -> DemoSummary {
        let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        DemoSummary {
            accounts: count(self.accounts.len()),
            contacts: count(self.accounts.iter().map(|a| a.contacts.len()).sum()),
            notes: count(self.accounts.iter().map(|a| a.notes.len()).sum()),
            users: count(self.users.len()),
        }
    }
}

impl Store {
    /// Loads a generated workspace and its demo profile into an EMPTY cache (refused with
    /// [`StoreError::NotEmpty`] otherwise). One transaction; the statements are prepared
    /// once and reused. The outbox is left untouched: seed data is not a user write and
    /// must never be pushed to a server.
    pub async fn load_demo(&self, spec: DemoSpec, now: DateTime<Utc>) -> Result<DemoSummary> {
        let mut tx = self.writer.begin().await?;
        let used: i64 = sqlx::query_scalar(
            "SELECT (SELECT count(*) FROM users) + (SELECT count(*) FROM accounts) \
             + (SELECT count(*) FROM outbox)",
        )
        .fetch_one(&mut *tx)
        .await?;
        if used > 0 {
            return Err(StoreError::NotEmpty);
        }
        // Generated only for an empty cache: `--demo` asks at every launch.
        let workspace = spec.generate(now);
        for user in &workspace.users {
            upsert_user(&mut tx, user).await?;
        }
        sqlx::query("INSERT INTO profile (singleton, user_id) VALUES (1, ?1)")
            .bind(workspace.profile_id.to_string())
            .execute(&mut *tx)
            .await?;
        let accounts: Vec<&Account> = workspace.accounts.iter().map(|a| &a.account).collect();
        for chunk in accounts.chunks(INSERT_BATCH) {
            insert_accounts(&mut tx, chunk).await?;
        }
        let contacts: Vec<&Contact> = workspace
            .accounts
            .iter()
            .flat_map(|a| &a.contacts)
            .collect();
        for chunk in contacts.chunks(INSERT_BATCH) {
            insert_contacts(&mut tx, chunk).await?;
        }
        let notes: Vec<&Note> = workspace.accounts.iter().flat_map(|a| &a.notes).collect();
        for chunk in notes.chunks(INSERT_BATCH) {
            insert_notes(&mut tx, chunk).await?;
        }
        load_activity(&mut tx, &workspace, now).await?;
        sqlx::query("INSERT INTO meta (key, value) VALUES ('demo_loaded_at', ?1)")
            .bind(fmt_time(stamp(now)))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        // Merge the FTS b-trees the bulk insert left behind and refresh the planner's
        // statistics: both make the first searches as fast as later ones.
        let mut conn = self.writer.acquire().await?;
        for sql in [
            "INSERT INTO accounts_fts (accounts_fts) VALUES ('optimize')",
            "INSERT INTO contacts_fts (contacts_fts) VALUES ('optimize')",
            "INSERT INTO notes_fts (notes_fts) VALUES ('optimize')",
            "ANALYZE",
        ] {
            sqlx::query(sql).execute(&mut *conn).await?;
        }
        Ok(workspace.summary())
    }
}

/// Writes the activity's rows (no outbox), then each Professional Support account's health
/// history: a snapshot a day over the last 90 days, scored from the activity as it stood
/// that day, and the score now from the cache itself ([`crate::health::refresh`]), which
/// also fills what the accounts list shows.
async fn load_activity(
    conn: &mut sqlx::SqliteConnection,
    w: &DemoWorkspace,
    now: DateTime<Utc>,
) -> Result<()> {
    let a = &w.activity;
    for r in &a.requests {
        crate::requests::write_request(&mut *conn, r).await?;
    }
    for e in &a.events {
        crate::requests::write_event(&mut *conn, e).await?;
    }
    for r in &a.rcas {
        crate::rca::write_rca(&mut *conn, r).await?;
    }
    for s in &a.sessions {
        crate::onboarding::upsert_session(&mut *conn, s).await?;
    }
    for r in &a.reviews {
        let at = r.completed_at.unwrap_or(now).min(now);
        crate::reviews::upsert_row(&mut *conn, r, at).await?;
    }
    let weights = crate::health::weights(&mut *conn).await?;
    let by_account = a.by_account();
    let empty = activity::AccountActivity::default();
    let now = stamp(now);
    for account in &w.accounts {
        if account.account.plan != rapport_domain::Plan::ProfessionalSupport {
            continue;
        }
        if !a.requests.is_empty() || !a.sessions.is_empty() || !a.reviews.is_empty() {
            let mine = by_account.get(&account.account.id).unwrap_or(&empty);
            for days in (1..=90).rev() {
                let t = now - Duration::days(days);
                if t < account.account.created_at {
                    continue;
                }
                let inputs = activity::inputs_at(account, mine, t);
                if let Ok(score) = rapport_domain::health::health_score(&inputs, &weights, t) {
                    crate::health::store_snapshot(&mut *conn, account.account.id, t, &score)
                        .await?;
                }
            }
        }
        crate::health::refresh(&mut *conn, account.account.id, now).await?;
    }
    Ok(())
}

/// splitmix64 (Steele, Lea, Flood 2014): tiny, fast, and fixed here forever.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        let n64 = n as u64;
        usize::try_from(self.next_u64() % n64).unwrap_or(0)
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    /// A UUIDv7-shaped id whose time part is `at` and whose other bits come from the PRNG.
    pub fn uuid(&mut self, at: DateTime<Utc>) -> Uuid {
        let mut bytes = [0u8; 10];
        bytes[..8].copy_from_slice(&self.next_u64().to_le_bytes());
        bytes[8..].copy_from_slice(&self.next_u64().to_le_bytes()[..2]);
        let millis = u64::try_from(at.timestamp_millis()).unwrap_or(0);
        uuid::Builder::from_unix_timestamp_millis(millis, &bytes).into_uuid()
    }
}

fn generate_account(
    r: &mut SplitMix64,
    index: u32,
    notes: u32,
    now: DateTime<Utc>,
    users: &[User],
    csms: &[&User],
    reps: &[&User],
) -> DemoAccount {
    let name = account_name(index);
    let slug = slug(&name);
    let created_at = now
        - Duration::days(30 + i64::try_from(r.below(700)).unwrap_or(0))
        - Duration::minutes(i64::try_from(r.below(1440)).unwrap_or(0));
    let id = r.uuid(created_at);
    let time_zone = place_zone(&name)
        .unwrap_or(TIME_ZONES[usize::try_from(index).unwrap_or(0) % TIME_ZONES.len()])
        .to_owned();
    let plan = if r.chance(65) {
        Plan::ProfessionalSupport
    } else {
        Plan::Standard
    };
    let stage = match r.below(10) {
        0 | 1 => LifecycleStage::Onboarding,
        2..=6 => LifecycleStage::Active,
        7 | 8 => LifecycleStage::AtRisk,
        _ => LifecycleStage::Churned,
    };
    let tld = TLDS[usize::try_from(index).unwrap_or(0) % TLDS.len()];
    let domain = format!("{slug}.{tld}");
    let mut domains = vec![domain.clone()];
    if r.chance(25) {
        domains.push(format!("support.{domain}"));
    }
    let mut tags: Vec<String> = Vec::new();
    for _ in 0..=r.below(3) {
        let t = (*r.pick(TAGS)).to_owned();
        if !tags.contains(&t) {
            tags.push(t);
        }
    }
    let slack_channel = (plan == Plan::ProfessionalSupport || r.chance(30)).then(|| {
        format!(
            "https://rapport-vendor.slack.com/archives/C{:08X}",
            r.next_u64() & 0xFFFF_FFFF
        )
    });
    // The demo profile (the first CSM) owns every third account, so Today has some.
    let owner = if index.is_multiple_of(3) {
        csms[0]
    } else {
        *r.pick(csms)
    };
    let rep = if r.chance(85) {
        Some(r.pick(reps).id)
    } else {
        None
    };
    let updated_at = created_at + Duration::days(i64::try_from(r.below(30)).unwrap_or(0));
    let account = Account {
        id,
        name,
        plan,
        time_zone,
        fiscal_year_start_month: if r.chance(20) {
            [4u8, 7, 10][r.below(3)]
        } else {
            1
        },
        owner_csm_id: Some(owner.id),
        account_rep_id: rep,
        slack_channel,
        support_email_domains: domains,
        stage,
        tags,
        created_at,
        updated_at: updated_at.min(now),
    };
    let contacts: Vec<Contact> = (0..2 + r.below(4))
        .map(|_| {
            let first = *r.pick(FIRST_NAMES);
            let last = *r.pick(LAST_NAMES);
            let at = created_at + Duration::hours(i64::try_from(r.below(48)).unwrap_or(0));
            Contact {
                id: r.uuid(at),
                account_id: id,
                name: format!("{first} {last}"),
                email: format!("{}.{}@{domain}", ascii(first), ascii(last)),
                role: (*r.pick(CONTACT_ROLES)).to_owned(),
                time_zone: r.chance(15).then(|| (*r.pick(TIME_ZONES)).to_owned()),
                created_at: at,
                updated_at: at,
            }
        })
        .collect();
    let span = (now - created_at).num_minutes().max(1);
    let notes = (0..notes)
        .map(|_| {
            // Skewed towards recent: the square of a uniform number in 0..1.
            let u = f64::from(u32::try_from(r.below(10_000)).unwrap_or(0)) / 10_000.0;
            #[allow(clippy::cast_possible_truncation)]
            let ago = ((u * u) * span as f64) as i64;
            let at = now - Duration::minutes(ago);
            let contact = contacts
                .get(r.below(contacts.len().max(1)))
                .map_or("the team", |c| c.name.as_str());
            let author = if r.chance(60) { owner } else { r.pick(users) };
            Note {
                id: r.uuid(at),
                account_id: id,
                author_id: author.id,
                body: note_body(r, &account.name, contact, &slug),
                pinned: r.chance(8),
                link: None,
                created_at: at,
                updated_at: at,
            }
        })
        .collect();
    DemoAccount {
        account,
        contacts,
        notes,
    }
}

/// The name of account `index`: the hand-written list first, then combinations of a
/// brand, a trade and (past the plain pairs) a region, which stay distinct up to
/// `BRANDS × TRADES × (1 + REGIONS)` accounts.
pub fn account_name(index: u32) -> String {
    let i = usize::try_from(index).unwrap_or(0);
    if let Some(name) = NAMED_ACCOUNTS.get(i) {
        return (*name).to_owned();
    }
    let k = i - NAMED_ACCOUNTS.len();
    let pairs = BRANDS.len() * TRADES.len();
    // Stride through the brand × trade grid with a step coprime to its size, so nearby
    // indexes do not share a brand.
    let cell = (k % pairs) * 7919 % pairs;
    let brand = BRANDS[cell % BRANDS.len()];
    let trade = TRADES[cell / BRANDS.len()];
    match k / pairs {
        0 => format!("{brand} {trade}"),
        r => format!("{brand} {trade} {}", REGIONS[(r - 1) % REGIONS.len()]),
    }
}

fn note_body(r: &mut SplitMix64, account: &str, contact: &str, slug: &str) -> String {
    let topic = *r.pick(TOPICS);
    let tech = *r.pick(TECH);
    let month = *r.pick(MONTHS);
    match r.below(8) {
        0 => format!(
            "## Onboarding session\n\nWalked **{contact}** through the support channels: chat \
             with a severity, and email with \"urgent\" in the subject for anything critical.\n\n\
             - Shared the SLA table (P1 30 min, P2 2 h, P3 12 h, P4 24 h)\n\
             - Slack channel `#{slug}` is live\n- Use case: {topic} on {tech}\n\n\
             Next: first quarterly review in {month}."
        ),
        1 => format!(
            "## Quarterly review\n\n{account} is happy with response times. Open topics:\n\n\
             1. {topic}\n2. Upgrade path for {tech}\n\nAction: send the summary to {contact} \
             before {month}."
        ),
        2 => format!(
            "Call with {contact} about **{topic}**. They see latency spikes when {tech} \
             restarts; asked for logs and a timeline. Will follow up in the Slack channel."
        ),
        3 => format!(
            "### Incident follow-up\n\nP2 last week ({tech} outage). Root-cause analysis \
             shared with {contact}. Action items: alerting on {topic}, runbook update by {month}."
        ),
        4 => format!(
            "Renewal conversation started. {contact} wants a discount if the {topic} project \
             slips; escalate to the account rep. Budget decision in {month}."
        ),
        5 => format!(
            "- [x] Kick-off done\n- [ ] SAML single sign-on configured\n- [ ] Webhook for \
             {topic}\n\nBlocked on {tech} credentials from {contact}."
        ),
        6 => format!(
            "{contact} asked how to raise a P1 outside business hours: chat with severity P1 \
             any time, 24/7. Reminded them of the [status page](https://status.example.com) \
             and the dedicated Slack channel. Topic: {topic}."
        ),
        _ => format!(
            "Health check: usage of {tech} is up, support tickets down. Sentiment good. \
             {contact} will present {topic} results to their exec sponsor in {month}."
        ),
    }
}

/// The IANA zone of the place an account's name names ("Auckland Harbour Ferries" is in
/// Pacific/Auckland), so the demo never puts a Chicago firm in Adelaide. The earliest
/// place of [`PLACE_ZONES`] in the name (whole words) decides; a name naming no place gets
/// `None`.
fn place_zone(name: &str) -> Option<&'static str> {
    let words: Vec<&str> = name
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
        .collect();
    (0..words.len()).find_map(|i| {
        PLACE_ZONES
            .iter()
            .find(|(place, _)| {
                let place: Vec<&str> = place.split(' ').collect();
                words[i..].starts_with(&place)
            })
            .map(|(_, zone)| *zone)
    })
}

fn slug(name: &str) -> String {
    let mut out = String::new();
    for word in name.split_whitespace() {
        if !out.is_empty() {
            out.push('-');
        }
        out.extend(ascii(word).chars().filter(char::is_ascii_alphanumeric));
    }
    out
}

/// Lower-case ASCII for names with accents (email local parts, domains).
fn ascii(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'á' | 'à' | 'â' | 'ä' | 'ã' | 'Á' => 'a',
            'é' | 'è' | 'ê' | 'ë' | 'É' => 'e',
            'í' | 'ì' | 'î' | 'ï' => 'i',
            'ó' | 'ò' | 'ô' | 'ö' | 'õ' | 'Ø' | 'ø' => 'o',
            'ú' | 'ù' | 'û' | 'ü' => 'u',
            'ñ' => 'n',
            'ç' => 'c',
            'ß' => 's',
            c => c.to_ascii_lowercase(),
        })
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect()
}

const STAFF: &[(&str, &str, Role, &str)] = &[
    (
        "Maya Fischer",
        "maya.fischer@rapport-vendor.com",
        Role::Csm,
        "Europe/Berlin",
    ),
    (
        "Daniel Okafor",
        "daniel.okafor@rapport-vendor.com",
        Role::Csm,
        "America/New_York",
    ),
    (
        "Priya Raman",
        "priya.raman@rapport-vendor.com",
        Role::Csm,
        "Asia/Kolkata",
    ),
    (
        "Lucas Moreau",
        "lucas.moreau@rapport-vendor.com",
        Role::AccountRep,
        "Europe/Paris",
    ),
    (
        "Hannah Lee",
        "hannah.lee@rapport-vendor.com",
        Role::AccountRep,
        "Australia/Sydney",
    ),
    (
        "Tomás Silva",
        "tomas.silva@rapport-vendor.com",
        Role::SupportLead,
        "America/Sao_Paulo",
    ),
    (
        "Aiko Tanaka",
        "aiko.tanaka@rapport-vendor.com",
        Role::Admin,
        "Asia/Tokyo",
    ),
];

const TIME_ZONES: &[&str] = &[
    "Australia/Sydney",
    "Europe/Berlin",
    "America/New_York",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Pacific/Auckland",
    "America/Sao_Paulo",
    "Asia/Tokyo",
    "Europe/London",
    "America/Los_Angeles",
    "America/Chicago",
    "Asia/Singapore",
    "Africa/Johannesburg",
    "Europe/Paris",
    "America/Toronto",
    "Asia/Dubai",
    "Europe/Madrid",
    "America/Mexico_City",
    "Australia/Adelaide",
    "America/St_Johns",
    "Asia/Seoul",
    "Europe/Stockholm",
];

/// Words of account names (named accounts and the large workspace's region suffixes) that
/// name a place, and that place's zone.
const PLACE_ZONES: &[(&str, &str)] = &[
    ("Kakapo", "Pacific/Auckland"),
    ("Auckland", "Pacific/Auckland"),
    ("Himalaya", "Asia/Kathmandu"),
    ("Kathmandu", "Asia/Kathmandu"),
    ("Bondi", "Australia/Sydney"),
    ("Outback", "Australia/Adelaide"),
    ("Rheinland", "Europe/Berlin"),
    ("Ipanema", "America/Sao_Paulo"),
    ("Sakura", "Asia/Tokyo"),
    ("Mumbai", "Asia/Kolkata"),
    ("Brooklyn", "America/New_York"),
    ("Cape", "Africa/Johannesburg"),
    ("Africa", "Africa/Johannesburg"),
    ("Stockholm", "Europe/Stockholm"),
    ("Nordic", "Europe/Stockholm"),
    ("Nordics", "Europe/Stockholm"),
    ("Seoul", "Asia/Seoul"),
    ("Toronto", "America/Toronto"),
    ("Gulf", "Asia/Dubai"),
    ("Madrid", "Europe/Madrid"),
    ("Iberia", "Europe/Madrid"),
    ("Benelux", "Europe/Amsterdam"),
    ("Chicago", "America/Chicago"),
    ("Lone Star", "America/Chicago"),
    ("Helvetia", "Europe/Zurich"),
    ("Alpine", "Europe/Zurich"),
    ("Pacific", "America/Los_Angeles"),
    ("Lucerne", "Europe/Zurich"),
    ("Sonoran", "America/Phoenix"),
    ("Andes", "America/Lima"),
];

const TLDS: &[&str] = &["com", "io", "de", "co", "net", "com.au", "co.uk", "fr"];

const NAMED_ACCOUNTS: &[&str] = &[
    "Northwind Logistics",
    "Contoso Pharmaceuticals",
    "Fabrikam Robotics",
    "Tailspin Airways",
    "Wingtip Toys",
    "Adventure Works Cycles",
    "Litware Analytics",
    "Proseware Learning",
    "Lucerne Publishing",
    "Margie's Travel",
    "Fourth Coffee",
    "Alpine Ski House",
    "Blue Yonder Airlines",
    "Coho Winery",
    "Trey Research",
    "Woodgrove Bank",
    "Humongous Insurance",
    "Graphic Design Institute",
    "Southridge Video",
    "Relecloud Media",
    "Bellows College",
    "Datum Corporation",
    "Consolidated Messenger",
    "Wide World Importers",
    "Kakapo Health",
    "Himalaya Hydropower",
    "Bondi Surf Supply",
    "Rheinland Maschinenbau",
    "Ipanema Payments",
    "Sakura Semiconductor",
    "Mumbai Metro Freight",
    "Kathmandu Trekking Co",
    "Auckland Harbour Ferries",
    "Brooklyn Bagel Works",
    "Cape Vineyards",
    "Stockholm Streaming",
    "Seoul Mobility",
    "Toronto Maple Energy",
    "Gulf Star Shipping",
    "Madrid Fintech Labs",
    "Chicago Grain Exchange",
    "Pacific Biotech",
    "Lone Star Solar",
    "Outback Mining Services",
    "Helvetia Watches",
    "Nordic Timber",
    "Sonoran Water Works",
    "Andes Coffee Roasters",
];

const BRANDS: &[&str] = &[
    "Acme",
    "Apex",
    "Aurora",
    "Beacon",
    "Bluebird",
    "Boreal",
    "Cascade",
    "Cedar",
    "Summit",
    "Cobalt",
    "Copper",
    "Crescent",
    "Delta",
    "Driftwood",
    "Ember",
    "Evergreen",
    "Falcon",
    "Fjord",
    "Granite",
    "Harbor",
    "Helix",
    "Horizon",
    "Ironwood",
    "Juniper",
    "Keystone",
    "Lakeside",
    "Lantern",
    "Maple",
    "Meridian",
    "Monarch",
    "Nimbus",
    "Northstar",
    "Oakridge",
    "Orchid",
    "Pinnacle",
    "Polaris",
    "Prairie",
    "Quartz",
    "Redwood",
    "Riverbend",
    "Saffron",
    "Sequoia",
    "Silverline",
    "Solstice",
    "Sparrow",
    "Starling",
    "Sterling",
    "Tidewater",
    "Topaz",
    "Trident",
    "Tundra",
    "Vanguard",
    "Verdant",
    "Vertex",
    "Willow",
    "Zenith",
    "Zephyr",
    "Obsidian",
    "Marigold",
    "Kestrel",
];

const TRADES: &[&str] = &[
    "Logistics",
    "Analytics",
    "Pharmaceuticals",
    "Robotics",
    "Airways",
    "Insurance",
    "Bank",
    "Foods",
    "Textiles",
    "Energy",
    "Telecom",
    "Media",
    "Health",
    "Labs",
    "Systems",
    "Software",
    "Freight",
    "Retail",
    "Hotels",
    "Motors",
    "Biotech",
    "Payments",
    "Security",
    "Studios",
    "Outfitters",
    "Construction",
    "Chemicals",
    "Mining",
    "Learning",
    "Games",
    "Clinics",
    "Foundry",
    "Dynamics",
    "Networks",
    "Marine",
    "Aerospace",
    "Brewing",
    "Optics",
    "Realty",
    "Consulting",
];

const REGIONS: &[&str] = &[
    "Europe",
    "Americas",
    "Asia Pacific",
    "Nordics",
    "Iberia",
    "Benelux",
    "Africa",
];

const TAGS: &[&str] = &[
    "fintech",
    "healthcare",
    "retail",
    "logistics",
    "saas",
    "manufacturing",
    "public-sector",
    "education",
    "media",
    "energy",
    "enterprise",
    "smb",
    "emea",
    "apac",
    "amer",
    "exec-sponsor",
    "migration",
    "renewal-due",
    "expansion",
    "pilot",
];

const FIRST_NAMES: &[&str] = &[
    "Ana", "Ben", "Chloé", "Dmitri", "Elif", "Farah", "Gustavo", "Hiroshi", "Ingrid", "Jamal",
    "Kavya", "Liam", "Mei", "Nikolai", "Olivia", "Pedro", "Quinn", "Rania", "Sven", "Tariq", "Uma",
    "Victor", "Wen", "Ximena", "Yusuf", "Zoë", "Aarav", "Bianca", "Carlos", "Dagny",
];

const LAST_NAMES: &[&str] = &[
    "Almeida",
    "Becker",
    "Chen",
    "Dubois",
    "Eriksen",
    "Fernández",
    "Gupta",
    "Hoffmann",
    "Ito",
    "Jensen",
    "Kowalski",
    "López",
    "Müller",
    "Nakamura",
    "O'Brien",
    "Patel",
    "Quispe",
    "Rossi",
    "Schmidt",
    "Thapa",
    "Ueda",
    "Vargas",
    "Walsh",
    "Xu",
    "Yilmaz",
    "Zhang",
    "Kim",
    "Nguyen",
];

const CONTACT_ROLES: &[&str] = &[
    "VP Engineering",
    "Head of IT",
    "CTO",
    "Support Manager",
    "DevOps Lead",
    "Product Owner",
    "Procurement",
    "Security Officer",
    "Data Platform Lead",
    "Operations Director",
];

const TOPICS: &[&str] = &[
    "data migration",
    "SSO rollout",
    "billing export",
    "API rate limits",
    "dashboard redesign",
    "mobile app launch",
    "audit logging",
    "backup policy",
    "invoice automation",
    "warehouse integration",
    "latency budget",
    "GDPR requests",
    "disaster recovery",
    "webhook retries",
    "usage reporting",
];

const TECH: &[&str] = &[
    "Kubernetes",
    "Postgres",
    "Salesforce",
    "SAP",
    "Snowflake",
    "Kafka",
    "Okta",
    "Azure AD",
    "AWS Lambda",
    "Terraform",
    "Shopify",
    "Zendesk",
    "BigQuery",
    "Redis",
    "Elasticsearch",
];

const MONTHS: &[&str] = &[
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-26T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn splitmix_is_fixed() {
        // Reference values of splitmix64 seeded with 1234567.
        let mut r = SplitMix64::new(1_234_567);
        assert_eq!(
            r.next_u64(),
            6_457_827_717_110_365_317,
            "splitmix64 must never change"
        );
        assert_eq!(
            r.next_u64(),
            3_203_168_211_198_807_973,
            "splitmix64 must never change"
        );
    }

    #[test]
    fn generated_entities_pass_domain_validation() {
        let w = DemoSpec::demo().generate(now());
        for u in &w.users {
            let again = User::create(
                u.id,
                rapport_domain::UserInput {
                    name: u.name.clone(),
                    email: u.email.clone(),
                    role: u.role,
                    time_zone: u.time_zone.clone(),
                    working_hours: u.working_hours.clone(),
                },
            );
            assert_eq!(
                again.as_ref(),
                Ok(u),
                "demo user {} must be valid and normal",
                u.name
            );
        }
        for a in &w.accounts {
            let again = Account::create(a.account.id, a.account.to_input(), a.account.created_at)
                .map(|x| Account {
                    updated_at: a.account.updated_at,
                    ..x
                });
            assert_eq!(
                again.as_ref(),
                Ok(&a.account),
                "demo account {} is valid",
                a.account.name
            );
            for c in &a.contacts {
                let input = rapport_domain::ContactInput {
                    name: c.name.clone(),
                    email: c.email.clone(),
                    role: c.role.clone(),
                    time_zone: c.time_zone.clone(),
                };
                assert!(
                    input.normalize().is_ok(),
                    "demo contact {} is valid",
                    c.email
                );
            }
        }
    }

    #[test]
    fn large_names_are_distinct() {
        let mut names: Vec<String> = (0..10_000).map(account_name).collect();
        names.sort();
        names.dedup();
        assert_eq!(
            names.len(),
            10_000,
            "every generated account name is distinct"
        );
    }
}
