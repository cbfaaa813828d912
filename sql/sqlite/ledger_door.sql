-- ledger_door: per UTC order day, what the door of the embedded order log saw (the
-- ledger's first half; the lake's half is sql/duckdb/ledger.sql).
--
-- ?1 first day, ?2 last day (YYYY-MM-DD, inclusive); ?3 the dispatcher's checkpoint: an
-- event after it is accepted but not yet landed.
--
-- accepted:       orders appended to the log, each order_id once
-- duplicates:     identical re-posts of an accepted order, answered 202 and counted once
-- conflicts:      re-posts with a different payload, refused and kept in quarantine; the
--                 first version stands
-- not_yet_landed: accepted orders the dispatcher has not delivered to the lake yet
-- Duplicates and conflicts count on the order day of the version that stands.
WITH accepted AS (
    SELECT seq, order_id, enqueued_at_us,
           substr(json_extract(body, '$.order_ts'), 1, 10) AS order_day
    FROM events
),
in_range AS (
    SELECT * FROM accepted WHERE order_day BETWEEN ?1 AND ?2
),
door AS (
    SELECT order_day,
           count(*)                                          AS accepted,
           sum(seq > ?3)                                     AS not_yet_landed,
           min(CASE WHEN seq > ?3 THEN enqueued_at_us END)   AS oldest_not_landed_us
    FROM in_range
    GROUP BY order_day
),
duplicate_days AS (
    SELECT o.order_day, count(*) AS duplicates
    FROM duplicates AS d JOIN in_range AS o ON o.order_id = d.order_id
    GROUP BY o.order_day
),
conflict_days AS (
    SELECT o.order_day, count(*) AS conflicts
    FROM quarantine AS q JOIN in_range AS o ON o.order_id = q.order_id
    GROUP BY o.order_day
)
SELECT door.order_day,
       door.accepted,
       coalesce(duplicate_days.duplicates, 0),
       coalesce(conflict_days.conflicts, 0),
       door.not_yet_landed,
       door.oldest_not_landed_us
FROM door
LEFT JOIN duplicate_days ON duplicate_days.order_day = door.order_day
LEFT JOIN conflict_days ON conflict_days.order_day = door.order_day
ORDER BY door.order_day;
