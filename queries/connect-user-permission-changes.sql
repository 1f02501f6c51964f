-- name: connect-user-permission-changes
-- description: Changes to what Amazon Connect users may do: security profiles, routing profile, hierarchy, identity and phone settings
-- param: instance = | only this Connect instance id (empty: every instance)
-- param: user = | only this Connect user id (empty: every user)
SELECT
    event_time,
    event_name,
    connect_instance_id AS instance_id,
    connect_user_id AS user_id,
    connect_routing_profile_id AS routing_profile_id,
    COALESCE(user_arn, user_name) AS actor,
    error_code,
    event_id
FROM cloudtrail
WHERE event_source = 'connect.amazonaws.com'
  AND event_name IN ('UpdateUserSecurityProfiles', 'UpdateUserRoutingProfile', 'UpdateUserHierarchy',
                     'UpdateUserIdentityInfo', 'UpdateUserPhoneConfig')
  AND ({{instance}} = '' OR connect_instance_id = {{instance}})
  AND ({{user}} = '' OR connect_user_id = {{user}})
ORDER BY event_time, event_id NULLS LAST
