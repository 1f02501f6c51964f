-- group: security
-- name: security-access-denied-by-principal
-- description: Calls refused for lack of permission (AccessDenied, UnauthorizedOperation and their kin) by principal and service: someone probing, or a role missing a permission
SELECT
    COALESCE(user_arn, user_name, user_principal_id) AS principal,
    event_source,
    count(*) AS denied,
    count(DISTINCT event_name) AS apis,
    min(event_time) AS first_seen,
    max(event_time) AS last_seen
FROM cloudtrail
WHERE error_code LIKE '%AccessDenied%'
   OR error_code LIKE '%UnauthorizedOperation%'
   OR error_code LIKE '%UnauthorizedAccess%'
   OR error_code = 'NotAuthorized'
GROUP BY COALESCE(user_arn, user_name, user_principal_id), event_source
ORDER BY denied DESC, principal NULLS LAST, event_source
