-- The on-call pages this desktop notified (OS notification and in-app alert), one row per
-- request and page instant, so a restart or the next sync never notifies the same page twice.
-- A later page of the same request (the escalation went on) is a new row and notifies again.
CREATE TABLE oncall_page_alerts (
    request_id TEXT NOT NULL,
    paged_at   TEXT NOT NULL,
    shown_at   TEXT NOT NULL,
    PRIMARY KEY (request_id, paged_at)
);
