-- name: connect-outbound-calls
-- description: Outbound calls started (StartOutboundVoiceContact) per hour and caller, with the number dialled where CloudTrail logs it
-- param: instance = | only this Connect instance id (empty: every instance)
SELECT
    hour,
    caller,
    instance_id,
    destination,
    count(*) AS calls,
    count(error_code) AS failed
FROM (
    SELECT
        date_trunc('hour', event_time) AS hour,
        COALESCE(user_arn, user_name) AS caller,
        connect_instance_id AS instance_id,
        connect_destination_phone AS destination,
        error_code
    FROM cloudtrail
    WHERE event_source = 'connect.amazonaws.com'
      AND event_name = 'StartOutboundVoiceContact'
      AND ({{instance}} = '' OR connect_instance_id = {{instance}})
) calls
GROUP BY hour, caller, instance_id, destination
ORDER BY hour, caller NULLS LAST, instance_id NULLS LAST, destination NULLS LAST
