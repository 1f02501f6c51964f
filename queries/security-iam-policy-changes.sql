-- group: security
-- name: security-iam-policy-changes
-- description: IAM policy and permission changes: policies created, versioned, attached, detached, put and deleted, permissions boundaries and trust policies, with who did it and the request
SELECT
    event_time,
    event_name,
    COALESCE(user_arn, user_name, user_principal_id) AS principal,
    outcome,
    error_code,
    request_parameters
FROM cloudtrail
WHERE event_source = 'iam.amazonaws.com'
  AND (event_name LIKE '%Policy'
       OR event_name LIKE '%PolicyVersion'
       OR event_name LIKE '%PermissionsBoundary'
       OR event_name IN ('AddUserToGroup', 'RemoveUserFromGroup'))
  AND event_name NOT LIKE 'Get%'
  AND event_name NOT LIKE 'List%'
  AND event_name NOT LIKE 'Simulate%'
ORDER BY event_time, event_name, principal NULLS LAST
