//! Account notes: Markdown, pinned first, optionally linked to a session or an incident.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::validation::{FieldError, ValidationErrors};

/// Longest note body accepted (characters). Long enough for an RCA, short enough to render.
pub const MAX_NOTE_LEN: usize = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum NoteLinkKind {
    Session,
    Incident,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NoteLink {
    pub kind: NoteLinkKind,
    pub id: Uuid,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NoteInput {
    /// Markdown source.
    pub body: String,
    pub pinned: bool,
    pub link: Option<NoteLink>,
}

impl NoteInput {
    pub fn normalize(self) -> Result<NoteInput, ValidationErrors> {
        let body = self.body.trim_end().to_owned();
        if body.trim().is_empty() {
            return Err(ValidationErrors(vec![FieldError::new(
                "body",
                "must not be empty",
            )]));
        }
        if body.chars().count() > MAX_NOTE_LEN {
            return Err(ValidationErrors(vec![FieldError::new(
                "body",
                format!("must be at most {MAX_NOTE_LEN} characters"),
            )]));
        }
        Ok(NoteInput { body, ..self })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Note {
    pub id: Uuid,
    pub account_id: Uuid,
    pub author_id: Uuid,
    pub body: String,
    pub pinned: bool,
    pub link: Option<NoteLink>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Note {
    pub fn create(
        id: Uuid,
        account_id: Uuid,
        author_id: Uuid,
        input: NoteInput,
        now: DateTime<Utc>,
    ) -> Result<Self, ValidationErrors> {
        let i = input.normalize()?;
        Ok(Note {
            id,
            account_id,
            author_id,
            body: i.body,
            pinned: i.pinned,
            link: i.link,
            created_at: now,
            updated_at: now,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_body_is_refused() {
        let e = NoteInput {
            body: " \n ".into(),
            pinned: false,
            link: None,
        }
        .normalize()
        .unwrap_err();
        assert_eq!(e.first().field, "body");
    }
}
