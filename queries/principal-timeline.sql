-- name: principal-timeline
-- description: Everything one principal did, in order: every service, not just Connect and Chime
-- param: principal | ARN, user name, principal id, or the ARN or name of the role behind a session
SELECT
    event_time,
    event_source,
    event_name,
    aws_region,
    source_ip_address,
    user_agent,
    error_code,
    event_id
FROM cloudtrail
WHERE user_arn = {{principal}}
   OR user_name = {{principal}}
   OR user_principal_id = {{principal}}
   OR session_issuer_arn = {{principal}}
   OR session_issuer_user_name = {{principal}}
ORDER BY event_time NULLS LAST, event_id NULLS LAST
