-- name: chime-errors
-- description: Amazon Chime calls that failed, by error code and API (AddDomain's ConflictException is one)
SELECT
    error_code,
    event_source,
    event_name,
    count(*) AS calls,
    count(DISTINCT COALESCE(user_arn, user_name)) AS callers,
    min(event_time) AS first_seen,
    max(event_time) AS last_seen
FROM cloudtrail
WHERE event_source IN ('chime.amazonaws.com', 'chime-sdk-identity.amazonaws.com',
                       'chime-sdk-media-pipelines.amazonaws.com', 'chime-sdk-meetings.amazonaws.com',
                       'chime-sdk-messaging.amazonaws.com', 'chime-sdk-voice.amazonaws.com')
  AND error_code IS NOT NULL
GROUP BY error_code, event_source, event_name
ORDER BY calls DESC, error_code, event_source, event_name
