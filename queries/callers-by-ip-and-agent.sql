-- name: callers-by-ip-and-agent
-- description: Calls by source IP address and kind of client (console, CLI, SDK, AWS service), with first and last seen
SELECT
    source_ip_address,
    client,
    count(*) AS calls,
    count(DISTINCT actor) AS principals,
    min(event_time) AS first_seen,
    max(event_time) AS last_seen
FROM (
    SELECT
        source_ip_address,
        COALESCE(user_arn, user_name) AS actor,
        event_time,
        CASE
            WHEN user_agent IS NULL THEN 'unknown'
            WHEN user_agent LIKE 'Mozilla/%' OR user_agent LIKE '%console%' OR user_agent LIKE '[%' THEN 'console'
            WHEN user_agent LIKE 'aws-cli/%' THEN 'cli'
            WHEN user_agent LIKE '%.amazonaws.com' OR user_agent LIKE 'AWS Internal%' THEN 'aws service'
            WHEN user_agent LIKE '%aws-sdk%' OR user_agent LIKE 'Boto3/%' OR user_agent LIKE 'Botocore/%'
                 OR user_agent LIKE 'aws-internal%' THEN 'sdk'
            ELSE 'other'
        END AS client
    FROM cloudtrail
) calls
GROUP BY source_ip_address, client
ORDER BY calls DESC, source_ip_address NULLS LAST, client
