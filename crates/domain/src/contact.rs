//! The customer's people: who to invite, who writes to support.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::validation::{self, Checker, ValidationErrors};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ContactInput {
    pub name: String,
    pub email: String,
    /// Their job, e.g. "VP Engineering". Free text, may be blank.
    pub role: String,
    /// IANA time zone; blank means "the account's".
    pub time_zone: Option<String>,
}

impl ContactInput {
    pub fn normalize(self) -> Result<ContactInput, ValidationErrors> {
        let mut c = Checker::new();
        let name = c.check(validation::required_text("name", &self.name));
        let email = c.check(validation::email("email", &self.email));
        let role = c.check(validation::optional_text("role", Some(&self.role)));
        let tz = match self.time_zone.as_deref().map(str::trim) {
            None | Some("") => Some(None),
            Some(tz) => c
                .check(validation::time_zone("time_zone", tz))
                .map(|t| Some(t.name().to_owned())),
        };
        c.finish()?;
        Ok(ContactInput {
            name: name.unwrap_or_default(),
            email: email.unwrap_or_default(),
            role: role.flatten().unwrap_or_default(),
            time_zone: tz.flatten(),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Contact {
    pub id: Uuid,
    pub account_id: Uuid,
    pub name: String,
    pub email: String,
    pub role: String,
    pub time_zone: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Contact {
    pub fn create(
        id: Uuid,
        account_id: Uuid,
        input: ContactInput,
        now: DateTime<Utc>,
    ) -> Result<Self, ValidationErrors> {
        let i = input.normalize()?;
        Ok(Contact {
            id,
            account_id,
            name: i.name,
            email: i.email,
            role: i.role,
            time_zone: i.time_zone,
            created_at: now,
            updated_at: now,
        })
    }

    pub fn edited(
        &self,
        input: ContactInput,
        now: DateTime<Utc>,
    ) -> Result<Self, ValidationErrors> {
        let mut next = Contact::create(self.id, self.account_id, input, now)?;
        next.created_at = self.created_at;
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_email_and_zone_are_named() {
        let errs = ContactInput {
            name: "Ana".into(),
            email: "ana-at-acme".into(),
            role: String::new(),
            time_zone: Some("Nowhere/City".into()),
        }
        .normalize()
        .unwrap_err();
        let fields: Vec<&str> = errs.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["email", "time_zone"]);
    }
}
