-- refresh_log: one row per summary build, for operators and for the timer's
-- past-due check (was today's 02:00 run missed while the process was down?).
CREATE TABLE IF NOT EXISTS refresh_log (
    as_of         TIMESTAMPTZ NOT NULL,
    window_start  TIMESTAMPTZ NOT NULL,
    window_end    TIMESTAMPTZ NOT NULL,
    refreshed_at  TIMESTAMPTZ NOT NULL,
    files_read    INTEGER     NOT NULL,
    report_rows   INTEGER     NOT NULL,
    duration_ms   BIGINT      NOT NULL
);
