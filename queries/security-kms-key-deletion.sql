-- group: security
-- name: security-kms-key-deletion
-- description: KMS keys scheduled for deletion or disabled, imported key material deleted, and deletions cancelled: data that may become unreadable
SELECT
    event_time,
    event_name,
    COALESCE(user_arn, user_name, user_principal_id) AS principal,
    aws_region,
    outcome,
    error_code,
    request_parameters
FROM cloudtrail
WHERE event_source = 'kms.amazonaws.com'
  AND event_name IN ('ScheduleKeyDeletion', 'DisableKey', 'DeleteImportedKeyMaterial',
                     'CancelKeyDeletion')
ORDER BY event_time, event_name, principal NULLS LAST
