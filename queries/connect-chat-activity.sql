-- name: connect-chat-activity
-- description: Amazon Connect chat per day: chats started (StartChatContact) and the participant APIs (connections, messages, events, transcripts, disconnects)
SELECT
    event_date,
    event_name,
    connect_instance_id AS instance_id,
    count(*) AS calls,
    count(DISTINCT connect_contact_id) AS contacts,
    count(error_code) AS failed
FROM cloudtrail
WHERE event_source = 'connect.amazonaws.com'
  AND event_name IN ('StartChatContact', 'CreateParticipantConnection', 'SendMessage', 'SendEvent',
                     'GetTranscript', 'DisconnectParticipant')
GROUP BY event_date, event_name, connect_instance_id
ORDER BY event_date NULLS LAST, event_name, instance_id NULLS LAST
