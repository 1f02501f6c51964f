-- name: connect-console-sign-ins
-- description: Sign-ins to the Amazon Connect console (GetFederationToken) per user: how many, first and last, from how many addresses
SELECT
    actor,
    instance_id,
    count(*) AS sign_ins,
    count(error_code) AS failed,
    count(DISTINCT source_ip_address) AS source_ips,
    min(event_time) AS first_seen,
    max(event_time) AS last_seen
FROM (
    SELECT
        COALESCE(user_arn, user_name) AS actor,
        connect_instance_id AS instance_id,
        source_ip_address,
        error_code,
        event_time
    FROM cloudtrail
    WHERE event_source = 'connect.amazonaws.com'
      AND event_name = 'GetFederationToken'
) sign_ins
GROUP BY actor, instance_id
ORDER BY sign_ins DESC, actor NULLS LAST, instance_id NULLS LAST
