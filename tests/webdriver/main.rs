//! WebDriver tests of the real Rapport window: the built app (RAPPORT_APP_BIN) driven
//! through tauri-driver and WebKitWebDriver, as a user would click and type. Run them with
//! `make webdriver` (it builds the UI and the app and provides the display with xvfb-run);
//! one test at a time (`--test-threads=1`): each starts its own app and driver.

mod common;
mod first_start;
mod form_walk;
mod incident;
mod intake;
mod keyboard;
mod layout;
mod lifecycle;
mod list;
mod living_demo;
mod needs_attention;
mod notes;
mod onboarding_session;
mod oncall;
mod one_clock;
mod package_smoke;
mod quarter_review;
mod requests_desk;
mod screenshot;
mod settings;
mod sync;
mod validation;
mod xss;
