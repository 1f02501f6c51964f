-- group: security
-- name: security-failed-sign-ins-by-source
-- description: Failed sign-ins (ConsoleLogin, CheckMfa, SwitchRole; they fail without an error code) by source address: how many, for how many principals, first and last
SELECT
    source_ip_address,
    count(*) AS failures,
    count(DISTINCT COALESCE(user_arn, user_name, user_principal_id)) AS principals,
    min(event_time) AS first_seen,
    max(event_time) AS last_seen
FROM cloudtrail
WHERE event_name IN ('ConsoleLogin', 'CheckMfa', 'SwitchRole')
  AND outcome = 'failure'
GROUP BY source_ip_address
ORDER BY failures DESC, source_ip_address NULLS LAST
