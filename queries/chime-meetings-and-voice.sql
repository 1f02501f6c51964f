-- name: chime-meetings-and-voice
-- description: Amazon Chime meeting and Voice Connector activity per day and API: calls, meetings, voice connectors, failures
SELECT
    event_date,
    event_source,
    event_name,
    count(*) AS calls,
    count(DISTINCT chime_meeting_id) AS meetings,
    count(DISTINCT chime_voice_connector_id) AS voice_connectors,
    count(error_code) AS failed
FROM cloudtrail
WHERE event_source IN ('chime.amazonaws.com', 'chime-sdk-identity.amazonaws.com',
                       'chime-sdk-media-pipelines.amazonaws.com', 'chime-sdk-meetings.amazonaws.com',
                       'chime-sdk-messaging.amazonaws.com', 'chime-sdk-voice.amazonaws.com')
  AND (chime_meeting_id IS NOT NULL OR chime_voice_connector_id IS NOT NULL
       OR event_name LIKE '%Meeting%' OR event_name LIKE '%Attendee%'
       OR event_name LIKE '%VoiceConnector%' OR event_name LIKE '%MediaCapturePipeline%')
GROUP BY event_date, event_source, event_name
ORDER BY event_date NULLS LAST, event_source, event_name
