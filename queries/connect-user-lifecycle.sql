-- name: connect-user-lifecycle
-- description: Amazon Connect users created and deleted: who did it, when, which user, which instance
-- param: instance = | only this Connect instance id (empty: every instance)
SELECT
    event_time,
    event_name,
    connect_instance_id AS instance_id,
    connect_user_id AS user_id,
    COALESCE(user_arn, user_name) AS actor,
    source_ip_address,
    error_code,
    event_id
FROM cloudtrail
WHERE event_source = 'connect.amazonaws.com'
  AND event_name IN ('CreateUser', 'DeleteUser')
  AND ({{instance}} = '' OR connect_instance_id = {{instance}})
ORDER BY event_time, event_id NULLS LAST
