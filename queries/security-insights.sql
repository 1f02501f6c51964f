-- group: security
-- name: security-insights
-- description: CloudTrail Insights: unusual rates of API calls or errors, when they started and ended, how far above the baseline, and who made most of the calls
SELECT
    event_time,
    insight_state,
    insight_type,
    insight_event_source,
    insight_event_name,
    insight_error_code,
    insight_average,
    insight_baseline_average,
    insight_duration,
    insight_top_user_arn
FROM cloudtrail
WHERE insight_type IS NOT NULL
ORDER BY event_time, insight_event_source, insight_event_name, insight_state
