-- name: connect-redacted-reads
-- description: Reads whose responses CloudTrail redacts (the Describe, List and Get APIs on the Amazon Connect CloudTrail page), per caller and API: who reads what, how often; bulk exports stand out at the top
SELECT
    actor,
    event_name,
    count(*) AS calls,
    count(DISTINCT instance_id) AS instances,
    count(error_code) AS failed,
    min(event_time) AS first_seen,
    max(event_time) AS last_seen
FROM (
    SELECT
        COALESCE(user_arn, user_name) AS actor,
        event_name,
        connect_instance_id AS instance_id,
        error_code,
        event_time
    FROM cloudtrail
    WHERE event_source = 'connect.amazonaws.com'
      AND event_name IN ('DescribeContactFlow', 'DescribeRoutingProfile', 'DescribeUser',
                         'DescribeUserHierarchyGroup', 'DescribeUserHierarchyStructure',
                         'GetContactAttributes', 'GetCurrentMetricData', 'GetFederationToken',
                         'GetMetricData', 'ListContactFlows', 'ListHoursOfOperations',
                         'ListPhoneNumbers', 'ListPrompts', 'ListQueues', 'ListRoutingProfiles',
                         'ListRoutingProfileQueues', 'ListSecurityProfiles', 'ListTagsForResource',
                         'ListUserHierarchyGroups', 'ListUsers', 'GetTranscript')
) reads
GROUP BY actor, event_name
ORDER BY calls DESC, actor NULLS LAST, event_name
