-- group: security
-- name: security-console-sign-ins-without-mfa
-- description: Successful console sign-ins without MFA (additionalEventData.MFAUsed = No), by principal and source address
SELECT
    COALESCE(user_arn, user_name, user_principal_id) AS principal,
    user_type,
    source_ip_address,
    count(*) AS sign_ins,
    min(event_time) AS first_seen,
    max(event_time) AS last_seen
FROM cloudtrail
WHERE event_name = 'ConsoleLogin'
  AND outcome = 'success'
  AND additional_event_data LIKE '%"MFAUsed":"No"%'
GROUP BY COALESCE(user_arn, user_name, user_principal_id), user_type, source_ip_address
ORDER BY sign_ins DESC, principal NULLS LAST, source_ip_address NULLS LAST
