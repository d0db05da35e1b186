//! The rules of issues 5, 6 and 7 working together, as the client and the server will
//! call them: one test binary (fast to link), one module per feature.

mod incident;
mod onboarding;
mod review;
#[cfg(feature = "ts")]
mod ts_decls;
