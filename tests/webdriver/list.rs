//! The accounts list: header clicks sort, filters narrow, "Clear filters" restores.

use anyhow::{Context, Result, ensure};
use rapport_tests::{Workspace, by_testid};

use crate::common::{launch_demo, rendered_names, wait_account_count};

fn sorted_case_insensitive(names: &[String]) -> Vec<String> {
    let mut sorted = names.to_vec();
    sorted.sort_by_key(|n| n.to_lowercase());
    sorted
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_list_sorts_and_filters() -> Result<()> {
    let mut ws = Workspace::new()?;
    let app = launch_demo(&mut ws).await?;
    let total = wait_account_count(&app, |_| true).await?;

    let first = rendered_names(&app).await?;
    ensure!(
        first == sorted_case_insensitive(&first),
        "sorted by name at first: {first:?}"
    );
    app.click(&by_testid("sort-name")).await?;
    let down = app
        .poll(
            "the name sort to flip",
            rapport_tests::driver::WAIT,
            async |_| {
                let names = rendered_names(&app).await?;
                Ok((names.first() != first.first()).then_some(names))
            },
        )
        .await?;
    let mut expected = sorted_case_insensitive(&down);
    expected.reverse();
    ensure!(down == expected, "a second click sorts Z to A: {down:?}");

    // Filter by plan: fewer rows, each showing that plan.
    let plan = app.find(&by_testid("filter-plan")).await?;
    plan.select_by_value("standard").await?;
    let standard = wait_account_count(&app, |n| n < total).await?;
    ensure!(standard > 0, "the demo has Standard accounts");
    let plans = app
        .js(
            "return Array.from(document.querySelectorAll('[data-testid=account-row] .c-plan'))
               .map(c => c.textContent.trim())",
            vec![],
        )
        .await?;
    let plans: Vec<String> = serde_json::from_value(plans)?;
    ensure!(
        plans.iter().all(|p| p == "Standard"),
        "only Standard rows: {plans:?}"
    );

    // Stage too, then clear both.
    let stage = app.find(&by_testid("filter-stage")).await?;
    stage.select_by_value("churned").await?;
    let narrower = wait_account_count(&app, |n| n <= standard).await?;
    app.click(&by_testid("filters-clear")).await?;
    wait_account_count(&app, |n| n == total)
        .await
        .context("Clear filters shows every account")?;
    ensure!(narrower <= standard, "a second filter narrows further");
    app.quit().await
}
