//! The SLA compliance report: by month and severity (in the profile's time zone), overall
//! or for one account, each account's whole record, and its CSV export. The numbers are
//! rapport-domain's (`sla::compliance_report`, `sla::compliance_total`) over the clocks
//! computed from each request's history.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rapport_domain::sla::{ComplianceRow, compliance_report, compliance_total};
use serde::Serialize;
use uuid::Uuid;

use crate::accounts::{account_by_id, user_by_id};
use crate::error::Result;
use crate::requests::all_clocks;
use crate::store::Store;

/// One account's whole record.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AccountCompliance {
    pub account_id: Uuid,
    pub account_name: String,
    pub total: ComplianceRow,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SlaReport {
    /// The zone months are counted in (the profile's).
    pub time_zone: String,
    /// `None`: every account.
    pub account_id: Option<Uuid>,
    pub account_name: Option<String>,
    /// By month, then all severities (`severity: null`) and each severity.
    pub rows: Vec<ComplianceRow>,
    pub total: ComplianceRow,
    /// Every account with requests under an SLA, worst compliance first.
    pub by_account: Vec<AccountCompliance>,
}

/// The CSV export: a file name and the text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CsvExport {
    pub file_name: String,
    pub csv: String,
}

impl Store {
    /// The report at `now`, overall or for `account_id`.
    pub async fn sla_report(
        &self,
        account_id: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> Result<SlaReport> {
        let mut conn = self.reader.acquire().await?;
        let account_name = match account_id {
            Some(a) => Some(account_by_id(&mut conn, a).await?.name),
            None => None,
        };
        let zone_name = match Store::me(&mut conn).await {
            Ok(me) => user_by_id(&mut conn, me).await?.map(|u| u.time_zone),
            Err(_) => None,
        }
        .unwrap_or_else(|| "UTC".to_owned());
        let tz: chrono_tz::Tz = zone_name.parse().unwrap_or(chrono_tz::UTC);
        let clocks = all_clocks(&mut conn, account_id, now).await?;
        let mine: Vec<_> = clocks.iter().map(|c| c.2.clone()).collect();
        let mut per: BTreeMap<Uuid, (String, Vec<rapport_domain::sla::SlaClock>)> = BTreeMap::new();
        for (id, name, clock) in clocks {
            if clock.state.is_some() {
                per.entry(id)
                    .or_insert_with(|| (name, Vec::new()))
                    .1
                    .push(clock);
            }
        }
        let mut by_account: Vec<AccountCompliance> = per
            .into_iter()
            .map(|(account_id, (account_name, cs))| AccountCompliance {
                account_id,
                account_name,
                total: compliance_total(&cs),
            })
            .collect();
        by_account.sort_by(|a, b| {
            a.total
                .compliance_pct
                .unwrap_or(101.0)
                .total_cmp(&b.total.compliance_pct.unwrap_or(101.0))
                .then_with(|| a.account_name.cmp(&b.account_name))
        });
        Ok(SlaReport {
            time_zone: tz.name().to_owned(),
            account_id,
            account_name,
            rows: compliance_report(&mine, tz),
            total: compliance_total(&mine),
            by_account,
        })
    }

    /// The report as CSV: the month × severity lines, then each account's whole record.
    pub async fn sla_report_csv(
        &self,
        account_id: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> Result<CsvExport> {
        let r = self.sla_report(account_id, now).await?;
        let scope = r
            .account_name
            .clone()
            .unwrap_or_else(|| "All accounts".to_owned());
        let mut out = String::from(
            "scope,month,severity,met,missed,breached,running,compliance_pct,median_first_response_minutes\r\n",
        );
        for row in &r.rows {
            line(&mut out, &scope, row);
        }
        line(&mut out, &scope, &r.total);
        for a in &r.by_account {
            line(&mut out, &a.account_name, &a.total);
        }
        let slug = crate::store::slug(&scope, usize::MAX);
        Ok(CsvExport {
            file_name: format!("sla-report-{slug}-{}.csv", now.format("%Y-%m-%d")),
            csv: out,
        })
    }
}

fn line(out: &mut String, scope: &str, row: &ComplianceRow) {
    let sev = row.severity.map_or("all", |s| s.as_str());
    let pct = row
        .compliance_pct
        .map_or(String::new(), |p| format!("{p:.1}"));
    let median = row
        .median_first_response_secs
        .map_or(String::new(), |s| format!("{:.1}", s as f64 / 60.0));
    out.push_str(&format!(
        "{},{},{},{},{},{},{},{},{}\r\n",
        cell(scope),
        cell(&row.month),
        sev,
        row.met,
        row.missed,
        row.breached,
        row.running,
        pct,
        median
    ));
}

/// A CSV cell: quoted, quotes doubled; a leading `= + - @` is defused so a spreadsheet
/// never reads a name as a formula.
fn cell(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    format!("\"{}\"", s.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    #[test]
    fn cells_are_quoted_and_formulas_defused() {
        assert_eq!(super::cell("Acme, \"Inc\""), "\"Acme, \"\"Inc\"\"\"");
        assert_eq!(super::cell("=HYPERLINK(x)"), "\"'=HYPERLINK(x)\"");
    }
}
