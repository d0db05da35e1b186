//! Who may do what: the role × action rules, shared by the central service (which enforces
//! them) and the desktop (which greys out what the server would refuse).
//!
//! Two questions are asked of every write, in this order:
//! 1. **team**: is the record in one of the user's teams? (answered by the server from its
//!    data; a "no" is [`Denial::Team`], whatever the role);
//! 2. **role**: may the user's role do this action at all? ([`allows`]).

use serde::{Deserialize, Serialize};

use crate::sync::{EntityKind, MutationOp};
use crate::user::Role;

/// Everything a user can ask the central service to do, as far as roles are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Create, edit, disable users; reset their passwords.
    ManageUsers,
    /// Create teams; add and remove members.
    ManageTeams,
    /// Pull (read) the accounts of one's teams and what hangs off them.
    ReadTeamData,
    /// Create, edit and delete accounts.
    WriteAccount,
    /// Create, edit and delete an account's contacts.
    WriteContact,
    /// Write, edit, pin and delete notes.
    WriteNote,
    /// Book onboarding and other sessions.
    BookSession,
    /// Book (request, schedule, complete) quarterly reviews.
    BookReview,
    /// Confirm or change a request's severity after triage.
    ChangeSeverity,
    /// Open requests, add to their timeline (responses, updates, calls), move their status.
    WriteRequest,
    /// Draft and edit root-cause analyses.
    WriteRca,
    /// Publish a root-cause analysis.
    PublishRca,
    /// Edit one's own profile (name, time zone, working hours).
    EditOwnProfile,
    /// Edit the on-call setup: the escalation policy, the rotation, who opts in to follow
    /// the sun, the teams' webhooks.
    ManageOnCall,
    /// Put someone on call for another for a window (an override), or remove one.
    OverrideOnCall,
}

impl Action {
    pub const ALL: [Action; 15] = [
        Action::ManageUsers,
        Action::ManageTeams,
        Action::ReadTeamData,
        Action::WriteAccount,
        Action::WriteContact,
        Action::WriteNote,
        Action::BookSession,
        Action::BookReview,
        Action::ChangeSeverity,
        Action::WriteRequest,
        Action::WriteRca,
        Action::PublishRca,
        Action::EditOwnProfile,
        Action::ManageOnCall,
        Action::OverrideOnCall,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::ManageUsers => "manage_users",
            Action::ManageTeams => "manage_teams",
            Action::ReadTeamData => "read_team_data",
            Action::WriteAccount => "write_account",
            Action::WriteContact => "write_contact",
            Action::WriteNote => "write_note",
            Action::BookSession => "book_session",
            Action::BookReview => "book_review",
            Action::ChangeSeverity => "change_severity",
            Action::WriteRequest => "write_request",
            Action::WriteRca => "write_rca",
            Action::PublishRca => "publish_rca",
            Action::EditOwnProfile => "edit_own_profile",
            Action::ManageOnCall => "manage_on_call",
            Action::OverrideOnCall => "override_on_call",
        }
    }
}

/// The role rule. Admins may do everything (within their teams for team data); the others:
///
/// | action | csm | account_rep | support_lead |
/// |---|---|---|---|
/// | manage users / teams | no | no | no |
/// | read team data, write notes, write contacts, edit own profile | yes | yes | yes |
/// | write requests (open, respond, update), draft RCAs | yes | yes | yes |
/// | write accounts | yes | yes | no (they read them) |
/// | book sessions / reviews | yes | yes | no |
/// | change severity after triage, publish RCA | no | no | yes |
/// | manage on call (policy, rotation, webhooks) | no | no | no |
/// | override on call (cover for someone) | no | no | yes |
pub fn allows(role: Role, action: Action) -> bool {
    use Action as A;
    match role {
        Role::Admin => true,
        Role::Csm | Role::AccountRep => matches!(
            action,
            A::ReadTeamData
                | A::WriteAccount
                | A::WriteContact
                | A::WriteNote
                | A::BookSession
                | A::BookReview
                | A::WriteRequest
                | A::WriteRca
                | A::EditOwnProfile
        ),
        Role::SupportLead => matches!(
            action,
            A::ReadTeamData
                | A::WriteContact
                | A::WriteNote
                | A::ChangeSeverity
                | A::WriteRequest
                | A::WriteRca
                | A::PublishRca
                | A::EditOwnProfile
                | A::OverrideOnCall
        ),
    }
}

/// The action a sync mutation of `entity` needs (both upsert and delete need the same one).
pub fn action_for(entity: EntityKind, _op: MutationOp) -> Action {
    match entity {
        EntityKind::Account => Action::WriteAccount,
        EntityKind::Contact => Action::WriteContact,
        EntityKind::Note => Action::WriteNote,
        EntityKind::User => Action::EditOwnProfile,
        EntityKind::OnboardingSession => Action::BookSession,
        EntityKind::Review => Action::BookReview,
        EntityKind::Request | EntityKind::RequestEvent => Action::WriteRequest,
        EntityKind::Rca => Action::WriteRca,
    }
}

/// Why a write was refused, before any field is looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denial {
    /// The user's role may not do this action.
    Role { role: Role, action: Action },
    /// The record belongs to a team the user is not in.
    Team,
}

impl Denial {
    /// The refusal a push answers with.
    pub fn rejection(self) -> crate::sync::Rejection {
        use crate::sync::{RejectCode, Rejection};
        match self {
            Denial::Role { role, action } => Rejection::new(
                RejectCode::ForbiddenRole,
                format!(
                    "a {} may not {}",
                    role.as_str(),
                    action.as_str().replace('_', " ")
                ),
            ),
            Denial::Team => Rejection::new(
                RejectCode::ForbiddenTeam,
                "this record belongs to a team you are not in",
            ),
        }
    }
}

/// Checks the role rule: `Ok` or the denial naming role and action.
pub fn check(role: Role, action: Action) -> Result<(), Denial> {
    if allows(role, action) {
        Ok(())
    } else {
        Err(Denial::Role { role, action })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every cell of the role × action table, written out so a change to the rules shows
    /// here as a changed line.
    #[test]
    fn every_cell_of_the_role_action_table() {
        use Action as A;
        // (action, csm, account_rep, support_lead, admin)
        let table: [(Action, bool, bool, bool, bool); 15] = [
            (A::ManageUsers, false, false, false, true),
            (A::ManageTeams, false, false, false, true),
            (A::ReadTeamData, true, true, true, true),
            (A::WriteAccount, true, true, false, true),
            (A::WriteContact, true, true, true, true),
            (A::WriteNote, true, true, true, true),
            (A::BookSession, true, true, false, true),
            (A::BookReview, true, true, false, true),
            (A::ChangeSeverity, false, false, true, true),
            (A::WriteRequest, true, true, true, true),
            (A::WriteRca, true, true, true, true),
            (A::PublishRca, false, false, true, true),
            (A::EditOwnProfile, true, true, true, true),
            (A::ManageOnCall, false, false, false, true),
            (A::OverrideOnCall, false, false, true, true),
        ];
        assert_eq!(
            table.len(),
            Action::ALL.len(),
            "the table covers every action"
        );
        for (action, csm, rep, lead, admin) in table {
            for (role, want) in [
                (Role::Csm, csm),
                (Role::AccountRep, rep),
                (Role::SupportLead, lead),
                (Role::Admin, admin),
            ] {
                assert_eq!(
                    allows(role, action),
                    want,
                    "{} may {}: {want}",
                    role.as_str(),
                    action.as_str()
                );
                assert_eq!(check(role, action).is_ok(), want);
            }
        }
    }

    #[test]
    fn every_entity_maps_to_an_action() {
        for kind in EntityKind::ALL {
            for op in [MutationOp::Upsert, MutationOp::Delete] {
                let a = action_for(kind, op);
                assert!(Action::ALL.contains(&a));
            }
        }
    }
}
