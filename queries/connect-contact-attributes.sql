-- name: connect-contact-attributes
-- description: Contacts stopped, and contact attributes read or changed (StopContact, GetContactAttributes, UpdateContactAttributes)
-- param: contact = | only this contact id (empty: every contact)
-- param: instance = | only this Connect instance id (empty: every instance)
SELECT
    event_time,
    event_name,
    connect_instance_id AS instance_id,
    connect_contact_id AS contact_id,
    COALESCE(user_arn, user_name) AS actor,
    source_ip_address,
    error_code,
    event_id
FROM cloudtrail
WHERE event_source = 'connect.amazonaws.com'
  AND event_name IN ('StopContact', 'GetContactAttributes', 'UpdateContactAttributes')
  AND ({{contact}} = '' OR connect_contact_id = {{contact}})
  AND ({{instance}} = '' OR connect_instance_id = {{instance}})
ORDER BY event_time, event_id NULLS LAST
