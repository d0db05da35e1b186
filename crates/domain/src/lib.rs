//! rapport-domain: the entities of Rapport, the rules the product brief decides, and the
//! sync wire types shared by the desktop client and the central service.
//!
//! Pure: no IO, no clock (rules take `now`), no async runtime, no database.

pub mod account;
pub mod authz;
pub mod contact;
pub mod email;
pub mod health;
pub mod ics;
pub mod intake;
pub mod limits;
pub mod links;
pub mod note;
pub mod onboarding;
pub mod oncall;
pub mod quarter;
pub mod rca;
pub mod request;
pub mod review;
pub mod rules;
pub mod schedule;
pub mod sla;
pub mod sync;
pub mod triage;
pub mod user;
pub mod validation;
pub mod write_plan;

pub use account::{Account, AccountInput, LifecycleStage, Plan};
pub use contact::{Contact, ContactInput};
pub use note::{Note, NoteInput, NoteLink, NoteLinkKind};
pub use user::{Role, User, UserInput, Weekday, WorkingHours};
pub use validation::{FieldError, ValidationErrors};
