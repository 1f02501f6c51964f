-- group: security
-- name: security-unusual-regions
-- description: Activity by region, the quietest first (an attacker often works where nobody looks); leave out the regions you use with usual
-- param: usual = | regions you use, comma-separated (e.g. us-east-1,eu-west-1); default: none, every region listed
SELECT
    aws_region,
    count(*) AS calls,
    count(DISTINCT COALESCE(user_arn, user_name, user_principal_id)) AS principals,
    count(DISTINCT event_name) AS apis,
    min(event_time) AS first_seen,
    max(event_time) AS last_seen
FROM cloudtrail
WHERE aws_region IS NOT NULL
  AND NOT (',' || replace({{usual}}, ' ', '') || ',' LIKE '%,' || aws_region || ',%')
GROUP BY aws_region
ORDER BY calls, aws_region
