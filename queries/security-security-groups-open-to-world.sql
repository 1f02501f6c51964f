-- group: security
-- name: security-security-groups-open-to-world
-- description: Security group rules opened to the whole internet (0.0.0.0/0 or ::/0), with who did it and the request
SELECT
    event_time,
    event_name,
    COALESCE(user_arn, user_name, user_principal_id) AS principal,
    aws_region,
    outcome,
    request_parameters
FROM cloudtrail
WHERE event_source = 'ec2.amazonaws.com'
  AND event_name IN ('AuthorizeSecurityGroupIngress', 'AuthorizeSecurityGroupEgress',
                     'ModifySecurityGroupRules')
  AND (request_parameters LIKE '%0.0.0.0/0%' OR request_parameters LIKE '%::/0%')
ORDER BY event_time, event_name, principal NULLS LAST
