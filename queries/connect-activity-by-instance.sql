-- name: connect-activity-by-instance
-- description: Amazon Connect activity by instance, account and region: calls, callers, failures, first and last seen
SELECT
    instance_id,
    account_id,
    region,
    count(*) AS calls,
    count(DISTINCT actor) AS callers,
    count(error_code) AS failed,
    min(event_time) AS first_seen,
    max(event_time) AS last_seen
FROM (
    SELECT
        connect_instance_id AS instance_id,
        recipient_account_id AS account_id,
        aws_region AS region,
        COALESCE(user_arn, user_name) AS actor,
        error_code,
        event_time
    FROM cloudtrail
    WHERE event_source = 'connect.amazonaws.com'
) connect_events
GROUP BY instance_id, account_id, region
ORDER BY calls DESC, instance_id NULLS LAST, account_id NULLS LAST, region NULLS LAST
