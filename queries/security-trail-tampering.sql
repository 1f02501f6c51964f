-- group: security
-- name: security-trail-tampering
-- description: Attempts to blind CloudTrail: trails stopped, deleted or changed, event and Insight selectors replaced, event data stores stopped or deleted
SELECT
    event_time,
    event_name,
    COALESCE(user_arn, user_name, user_principal_id) AS principal,
    source_ip_address,
    aws_region,
    outcome,
    error_code,
    request_parameters
FROM cloudtrail
WHERE event_source = 'cloudtrail.amazonaws.com'
  AND event_name IN ('StopLogging', 'DeleteTrail', 'UpdateTrail', 'PutEventSelectors',
                     'PutInsightSelectors', 'StopEventDataStoreIngestion', 'DeleteEventDataStore',
                     'UpdateEventDataStore')
ORDER BY event_time, event_name, principal NULLS LAST
