-- name: connect-tag-changes
-- description: Tags added to or removed from Amazon Connect resources (TagResource, UntagResource)
SELECT
    event_time,
    event_name,
    connect_resource_arn AS resource_arn,
    connect_instance_id AS instance_id,
    COALESCE(user_arn, user_name) AS actor,
    error_code,
    event_id
FROM cloudtrail
WHERE event_source = 'connect.amazonaws.com'
  AND event_name IN ('TagResource', 'UntagResource')
ORDER BY event_time, event_id NULLS LAST
