//! Staff: who uses Rapport, in which role, from which time zone, in which hours.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::validation::{self, Checker, FieldError, ValidationErrors};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Csm,
    AccountRep,
    SupportLead,
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Csm, Role::AccountRep, Role::SupportLead, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Csm => "csm",
            Role::AccountRep => "account_rep",
            Role::SupportLead => "support_lead",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Weekday {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl From<chrono::Weekday> for Weekday {
    fn from(d: chrono::Weekday) -> Self {
        match d {
            chrono::Weekday::Mon => Weekday::Mon,
            chrono::Weekday::Tue => Weekday::Tue,
            chrono::Weekday::Wed => Weekday::Wed,
            chrono::Weekday::Thu => Weekday::Thu,
            chrono::Weekday::Fri => Weekday::Fri,
            chrono::Weekday::Sat => Weekday::Sat,
            chrono::Weekday::Sun => Weekday::Sun,
        }
    }
}

/// Local working hours: the days worked and one daily window, in minutes after midnight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct WorkingHours {
    pub days: Vec<Weekday>,
    pub start_minute: u16,
    pub end_minute: u16,
}

impl Default for WorkingHours {
    /// Mon–Fri 09:00–17:00, as the product brief decides.
    fn default() -> Self {
        WorkingHours {
            days: vec![
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
            ],
            start_minute: 9 * 60,
            end_minute: 17 * 60,
        }
    }
}

impl WorkingHours {
    pub fn check(&self, field: &str) -> Result<WorkingHours, FieldError> {
        if self.days.is_empty() {
            return Err(FieldError::new(field, "at least one working day is needed"));
        }
        if self.end_minute > 24 * 60 || self.start_minute >= self.end_minute {
            return Err(FieldError::new(
                field,
                "the day must start before it ends, within 00:00–24:00",
            ));
        }
        let mut days = self.days.clone();
        days.sort();
        days.dedup();
        Ok(WorkingHours { days, ..*self })
    }

    pub fn works_on(&self, day: chrono::Weekday) -> bool {
        self.days.contains(&Weekday::from(day))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct UserInput {
    pub name: String,
    pub email: String,
    pub role: Role,
    pub time_zone: String,
    pub working_hours: WorkingHours,
}

impl UserInput {
    pub fn normalize(self) -> Result<UserInput, ValidationErrors> {
        let mut c = Checker::new();
        let name = c.check(validation::required_text("name", &self.name));
        let email = c.check(validation::email("email", &self.email));
        let tz = c.check(validation::time_zone("time_zone", &self.time_zone));
        let hours = c.check(self.working_hours.check("working_hours"));
        c.finish()?;
        Ok(UserInput {
            name: name.unwrap_or_default(),
            email: email.unwrap_or_default(),
            role: self.role,
            time_zone: tz.map(|t| t.name().to_owned()).unwrap_or_default(),
            working_hours: hours.unwrap_or_default(),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct User {
    pub id: Uuid,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub time_zone: String,
    pub working_hours: WorkingHours,
}

impl User {
    pub fn create(id: Uuid, input: UserInput) -> Result<Self, ValidationErrors> {
        let i = input.normalize()?;
        Ok(User {
            id,
            name: i.name,
            email: i.email,
            role: i.role,
            time_zone: i.time_zone,
            working_hours: i.working_hours,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn working_hours_must_be_a_window() {
        let bad = WorkingHours {
            days: vec![Weekday::Mon],
            start_minute: 600,
            end_minute: 540,
        };
        assert_eq!(
            bad.check("working_hours").unwrap_err().field,
            "working_hours"
        );
        let none = WorkingHours {
            days: vec![],
            ..WorkingHours::default()
        };
        assert!(
            none.check("working_hours").is_err(),
            "no working day is refused"
        );
    }
}
