//! Customer accounts: who the customer is, which package they bought, who looks after them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::validation::{self, Checker, FieldError, ValidationErrors};

/// The support package an account bought. Only Professional Support carries the SLA,
/// onboarding and quarterly reviews.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Plan {
    ProfessionalSupport,
    Standard,
}

impl Plan {
    pub const ALL: [Plan; 2] = [Plan::ProfessionalSupport, Plan::Standard];

    pub fn as_str(self) -> &'static str {
        match self {
            Plan::ProfessionalSupport => "professional_support",
            Plan::Standard => "standard",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// Where the customer is in its life with the vendor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum LifecycleStage {
    Onboarding,
    Active,
    AtRisk,
    Churned,
}

impl LifecycleStage {
    pub const ALL: [LifecycleStage; 4] = [
        LifecycleStage::Onboarding,
        LifecycleStage::Active,
        LifecycleStage::AtRisk,
        LifecycleStage::Churned,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LifecycleStage::Onboarding => "onboarding",
            LifecycleStage::Active => "active",
            LifecycleStage::AtRisk => "at_risk",
            LifecycleStage::Churned => "churned",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// What a user types to create or edit an account (the whole form).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AccountInput {
    pub name: String,
    pub plan: Plan,
    /// IANA time zone name, e.g. `Australia/Sydney`.
    pub time_zone: String,
    /// 1 = January. A fiscal year starting in January is the calendar year.
    pub fiscal_year_start_month: u8,
    pub owner_csm_id: Option<Uuid>,
    pub account_rep_id: Option<Uuid>,
    pub slack_channel: Option<String>,
    pub support_email_domains: Vec<String>,
    pub stage: LifecycleStage,
    pub tags: Vec<String>,
}

impl AccountInput {
    /// An active account in `time_zone` on `plan`, its fiscal year starting in January, with
    /// no owner, rep, Slack channel, support domains or tags yet.
    pub fn active(name: impl Into<String>, plan: Plan, time_zone: impl Into<String>) -> Self {
        AccountInput {
            name: name.into(),
            plan,
            time_zone: time_zone.into(),
            fiscal_year_start_month: 1,
            owner_csm_id: None,
            account_rep_id: None,
            slack_channel: None,
            support_email_domains: vec![],
            stage: LifecycleStage::Active,
            tags: vec![],
        }
    }

    /// Checks every field and returns the input trimmed and normalised (lower-case,
    /// de-duplicated domains and tags), or every refused field.
    pub fn normalize(self) -> Result<AccountInput, ValidationErrors> {
        let mut c = Checker::new();
        let name = c.check(validation::required_text("name", &self.name));
        let time_zone = c.check(validation::time_zone("time_zone", &self.time_zone));
        if !(1..=12).contains(&self.fiscal_year_start_month) {
            c.push(FieldError::new(
                "fiscal_year_start_month",
                format!(
                    "must be a month from 1 to 12, not {}",
                    self.fiscal_year_start_month
                ),
            ));
        }
        let slack = match self.slack_channel.as_deref().map(str::trim) {
            None | Some("") => Some(None),
            Some(link) => c
                .check(validation::slack_link("slack_channel", link))
                .map(Some),
        };
        let mut domains = Vec::new();
        for d in &self.support_email_domains {
            if d.trim().is_empty() {
                continue;
            }
            if let Some(d) = c.check(validation::domain_name("support_email_domains", d)) {
                domains.push(d);
            }
        }
        let mut tags: Vec<String> = Vec::new();
        for t in &self.tags {
            let t = t.trim().to_lowercase();
            if t.is_empty() {
                continue;
            }
            if t.chars().count() > 40 || t.chars().any(char::is_control) {
                c.push(FieldError::new(
                    "tags",
                    format!("\"{t}\" is not a tag (at most 40 characters)"),
                ));
            } else {
                tags.push(t);
            }
        }
        let domains = validation::dedup_in_order(domains);
        let tags = validation::dedup_in_order(tags);
        c.finish()?;
        Ok(AccountInput {
            name: name.unwrap_or_default(),
            time_zone: time_zone.map(|tz| tz.name().to_owned()).unwrap_or_default(),
            slack_channel: slack.flatten(),
            support_email_domains: domains,
            tags,
            ..self
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Account {
    pub id: Uuid,
    pub name: String,
    pub plan: Plan,
    pub time_zone: String,
    pub fiscal_year_start_month: u8,
    pub owner_csm_id: Option<Uuid>,
    pub account_rep_id: Option<Uuid>,
    pub slack_channel: Option<String>,
    pub support_email_domains: Vec<String>,
    pub stage: LifecycleStage,
    pub tags: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Account {
    /// A new account from a validated form.
    pub fn create(
        id: Uuid,
        input: AccountInput,
        now: DateTime<Utc>,
    ) -> Result<Self, ValidationErrors> {
        let i = input.normalize()?;
        Ok(Account {
            id,
            name: i.name,
            plan: i.plan,
            time_zone: i.time_zone,
            fiscal_year_start_month: i.fiscal_year_start_month,
            owner_csm_id: i.owner_csm_id,
            account_rep_id: i.account_rep_id,
            slack_channel: i.slack_channel,
            support_email_domains: i.support_email_domains,
            stage: i.stage,
            tags: i.tags,
            created_at: now,
            updated_at: now,
        })
    }

    /// This account with the form applied; `id` and `created_at` are kept.
    pub fn edited(
        &self,
        input: AccountInput,
        now: DateTime<Utc>,
    ) -> Result<Self, ValidationErrors> {
        let mut next = Account::create(self.id, input, now)?;
        next.created_at = self.created_at;
        Ok(next)
    }

    /// The form that would produce this account.
    pub fn to_input(&self) -> AccountInput {
        AccountInput {
            name: self.name.clone(),
            plan: self.plan,
            time_zone: self.time_zone.clone(),
            fiscal_year_start_month: self.fiscal_year_start_month,
            owner_csm_id: self.owner_csm_id,
            account_rep_id: self.account_rep_id,
            slack_channel: self.slack_channel.clone(),
            support_email_domains: self.support_email_domains.clone(),
            stage: self.stage,
            tags: self.tags.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> AccountInput {
        AccountInput {
            name: " Acme Corp ".into(),
            plan: Plan::ProfessionalSupport,
            time_zone: "Australia/Sydney".into(),
            fiscal_year_start_month: 7,
            owner_csm_id: None,
            account_rep_id: None,
            slack_channel: Some("https://acme.slack.com/archives/C01".into()),
            support_email_domains: vec!["ACME.com".into(), "acme.com".into(), " ".into()],
            stage: LifecycleStage::Onboarding,
            tags: vec!["Fintech".into(), "fintech".into()],
        }
    }

    #[test]
    fn normalises_a_good_form() {
        let a = Account::create(Uuid::nil(), input(), DateTime::UNIX_EPOCH).unwrap();
        assert_eq!(a.name, "Acme Corp");
        assert_eq!(
            a.support_email_domains,
            vec!["acme.com"],
            "domains are lower-cased and de-duplicated"
        );
        assert_eq!(a.tags, vec!["fintech"]);
    }

    #[test]
    fn reports_every_bad_field_by_name() {
        let bad = AccountInput {
            name: "  ".into(),
            time_zone: "Europe/Atlantis".into(),
            fiscal_year_start_month: 13,
            slack_channel: Some("https://example.com/chan".into()),
            support_email_domains: vec!["not a domain".into()],
            ..input()
        };
        let errs = bad.normalize().unwrap_err();
        let fields: Vec<&str> = errs.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            vec![
                "name",
                "time_zone",
                "fiscal_year_start_month",
                "slack_channel",
                "support_email_domains"
            ]
        );
        assert!(
            errs.to_string().starts_with("name: must not be empty"),
            "{errs}"
        );
    }

    #[test]
    fn blank_slack_link_is_none() {
        let a = AccountInput {
            slack_channel: Some("  ".into()),
            ..input()
        }
        .normalize()
        .unwrap();
        assert_eq!(a.slack_channel, None);
    }
}
