-- group: security
-- name: security-root-activity
-- description: What the root user of each account did (root should sign in rarely, and call APIs almost never): calls by account and API, with outcome, sources and first and last seen
SELECT
    COALESCE(user_account_id, recipient_account_id) AS account,
    event_source,
    event_name,
    outcome,
    count(*) AS calls,
    count(DISTINCT source_ip_address) AS sources,
    min(event_time) AS first_seen,
    max(event_time) AS last_seen
FROM cloudtrail
WHERE user_type = 'Root'
GROUP BY COALESCE(user_account_id, recipient_account_id), event_source, event_name, outcome
ORDER BY first_seen, account NULLS LAST, event_source, event_name, outcome
