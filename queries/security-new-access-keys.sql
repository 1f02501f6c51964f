-- group: security
-- name: security-new-access-keys
-- description: New long-term credentials: IAM access keys and console passwords created, with who created them (the request names the user they are for)
SELECT
    event_time,
    event_name,
    COALESCE(user_arn, user_name, user_principal_id) AS principal,
    source_ip_address,
    outcome,
    request_parameters
FROM cloudtrail
WHERE event_source = 'iam.amazonaws.com'
  AND event_name IN ('CreateAccessKey', 'CreateLoginProfile', 'UpdateLoginProfile')
ORDER BY event_time, event_name, principal NULLS LAST
