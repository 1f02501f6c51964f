-- name: connect-errors
-- description: Amazon Connect calls that failed, access denials first, by API, error and caller
SELECT
    error_code,
    event_name,
    actor,
    count(*) AS calls,
    min(event_time) AS first_seen,
    max(event_time) AS last_seen
FROM (
    SELECT error_code, event_name, COALESCE(user_arn, user_name) AS actor, event_time
    FROM cloudtrail
    WHERE event_source = 'connect.amazonaws.com'
      AND error_code IS NOT NULL
) failures
GROUP BY error_code, event_name, actor
ORDER BY CASE WHEN error_code LIKE '%AccessDenied%' OR error_code LIKE '%Unauthorized%' THEN 0 ELSE 1 END,
         calls DESC, error_code, event_name, actor NULLS LAST
