-- name: connect-contact-flow-changes
-- description: Who created Amazon Connect contact flows, changed their content or renamed them
-- param: contact_flow = | only this contact flow id (empty: every flow)
-- param: instance = | only this Connect instance id (empty: every instance)
SELECT
    event_time,
    event_name,
    connect_instance_id AS instance_id,
    connect_contact_flow_id AS contact_flow_id,
    COALESCE(user_arn, user_name) AS actor,
    source_ip_address,
    error_code,
    event_id
FROM cloudtrail
WHERE event_source = 'connect.amazonaws.com'
  AND event_name IN ('CreateContactFlow', 'UpdateContactFlowContent', 'UpdateContactFlowName')
  AND ({{contact_flow}} = '' OR connect_contact_flow_id = {{contact_flow}})
  AND ({{instance}} = '' OR connect_instance_id = {{instance}})
ORDER BY event_time, event_id NULLS LAST
