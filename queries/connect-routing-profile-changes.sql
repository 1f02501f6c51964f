-- name: connect-routing-profile-changes
-- description: Who created, changed or deleted Amazon Connect routing profiles, and their queues
-- param: routing_profile = | only this routing profile id (empty: every routing profile)
-- param: instance = | only this Connect instance id (empty: every instance)
SELECT
    event_time,
    event_name,
    connect_instance_id AS instance_id,
    connect_routing_profile_id AS routing_profile_id,
    COALESCE(user_arn, user_name) AS actor,
    source_ip_address,
    error_code,
    event_id
FROM cloudtrail
WHERE event_source = 'connect.amazonaws.com'
  AND event_name IN ('CreateRoutingProfile', 'DeleteRoutingProfile', 'UpdateRoutingProfileName',
                     'UpdateRoutingProfileConcurrency', 'UpdateRoutingProfileQueues',
                     'AssociateRoutingProfileQueues', 'DisassociateRoutingProfileQueues')
  AND ({{routing_profile}} = '' OR connect_routing_profile_id = {{routing_profile}})
  AND ({{instance}} = '' OR connect_instance_id = {{instance}})
ORDER BY event_time, event_id NULLS LAST
