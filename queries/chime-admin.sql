-- name: chime-admin
-- description: Amazon Chime account and user administration: accounts, invitations, PIN resets, domains, user changes
SELECT
    event_time,
    event_name,
    chime_account_id,
    chime_user_id,
    COALESCE(user_arn, user_name) AS actor,
    source_ip_address,
    error_code,
    event_id
FROM cloudtrail
WHERE event_source IN ('chime.amazonaws.com', 'chime-sdk-identity.amazonaws.com',
                       'chime-sdk-media-pipelines.amazonaws.com', 'chime-sdk-meetings.amazonaws.com',
                       'chime-sdk-messaging.amazonaws.com', 'chime-sdk-voice.amazonaws.com')
  AND event_name IN ('CreateAccount', 'UpdateAccount', 'DeleteAccount', 'UpdateAccountSettings',
                     'InviteUsers', 'ResetPersonalPIN', 'AddDomain', 'DeleteDomain', 'UpdateUser',
                     'UpdateUserSettings', 'BatchUpdateUser', 'BatchSuspendUser',
                     'BatchUnsuspendUser', 'LogoutUser', 'RegenerateSecurityToken',
                     'AssociatePhoneNumberWithUser', 'DisassociatePhoneNumberFromUser')
ORDER BY event_time, event_id NULLS LAST
