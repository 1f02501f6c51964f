//! The SQS queue the watcher reads: long polls, visibility extensions and deletions, through
//! the AWS SDK's SQS client with credentials, region and endpoint as the SDK finds them
//! (`--profile`, `AWS_REGION`, `AWS_ENDPOINT_URL_SQS`, …).

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::environment::EnvironmentVariableRegionProvider;
use aws_config::meta::region::RegionProviderChain;
use aws_config::profile::region::ProfileFileRegionProvider;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::DisplayErrorContext;
use aws_sdk_sqs::types::{
    ChangeMessageVisibilityBatchRequestEntry, DeleteMessageBatchRequestEntry,
};
use aws_smithy_http_client::tls;
use aws_types::region::Region;

use crate::error::{Error, Result};

/// SQS takes at most this many messages per receive, change or delete call.
const PER_CALL: usize = 10;

/// A message received: its id, the handle to acknowledge it with, its body.
#[derive(Debug, Clone)]
pub struct Received {
    pub id: String,
    pub receipt: String,
    pub body: String,
}

pub struct Queue {
    client: Client,
    url: String,
}

impl Queue {
    /// A client for the queue at `url`. The region: `AWS_REGION`, else the profile's, else the
    /// queue URL's (`https://sqs.REGION.amazonaws.com/…`).
    pub async fn connect(url: &str, profile: Option<&str>) -> Result<Self> {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(Error::Usage(format!(
                "--queue '{url}' is not a queue URL: give it as https://sqs.REGION.amazonaws.com/ACCOUNT/NAME"
            )));
        }
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(
                tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https();
        let mut profile_region = ProfileFileRegionProvider::builder();
        if let Some(name) = profile {
            profile_region = profile_region.profile_name(name);
        }
        let region = RegionProviderChain::first_try(EnvironmentVariableRegionProvider::new())
            .or_else(profile_region.build())
            .or_else(region_of(url).map(Region::new));
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(http)
            .region(region);
        if let Some(name) = profile {
            loader = loader.profile_name(name);
        }
        let config = loader.load().await;
        Ok(Queue {
            client: Client::new(&config),
            url: url.to_string(),
        })
    }

    /// Waits up to `wait` (at most 20 s) for messages; hides what it gets for `visibility`.
    pub async fn receive(&self, wait: Duration, visibility: Duration) -> Result<Vec<Received>> {
        let answer = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(PER_CALL as i32)
            .wait_time_seconds(wait.as_secs().min(20) as i32)
            .visibility_timeout(seconds(visibility))
            .send()
            .await
            .map_err(|e| self.failed("receive messages from", &DisplayErrorContext(e)))?;
        Ok(answer
            .messages
            .unwrap_or_default()
            .into_iter()
            .filter_map(|m| {
                Some(Received {
                    id: m.message_id?,
                    receipt: m.receipt_handle?,
                    body: m.body.unwrap_or_default(),
                })
            })
            .collect())
    }

    /// Hides these messages for `visibility` more, from now.
    pub async fn extend(&self, receipts: &[String], visibility: Duration) -> Result<()> {
        for chunk in receipts.chunks(PER_CALL) {
            let entries = chunk.iter().enumerate().map(|(i, receipt)| {
                ChangeMessageVisibilityBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(receipt)
                    .visibility_timeout(seconds(visibility))
                    .build()
                    .expect("id and receipt handle are set")
            });
            self.client
                .change_message_visibility_batch()
                .queue_url(&self.url)
                .set_entries(Some(entries.collect()))
                .send()
                .await
                .map_err(|e| {
                    self.failed(
                        "extend the visibility of messages on",
                        &DisplayErrorContext(e),
                    )
                })?;
        }
        Ok(())
    }

    /// Deletes these messages (acknowledges them); returns how many SQS did not delete, with
    /// why (they come back after their visibility timeout and are converted once anyway).
    pub async fn delete(&self, receipts: &[String]) -> Result<Vec<String>> {
        let mut failures = Vec::new();
        for chunk in receipts.chunks(PER_CALL) {
            let entries = chunk.iter().enumerate().map(|(i, receipt)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(receipt)
                    .build()
                    .expect("id and receipt handle are set")
            });
            let answer = self
                .client
                .delete_message_batch()
                .queue_url(&self.url)
                .set_entries(Some(entries.collect()))
                .send()
                .await
                .map_err(|e| self.failed("delete messages from", &DisplayErrorContext(e)))?;
            failures.extend(
                answer
                    .failed
                    .into_iter()
                    .map(|f| f.message.unwrap_or(f.code)),
            );
        }
        Ok(failures)
    }

    fn failed(&self, what: &str, error: &impl std::fmt::Display) -> Error {
        let detail = error.to_string();
        let detail: String = detail.chars().take(300).collect();
        Error::Failed(format!(
            "cannot {what} the queue {}: {detail}; check the URL, the region, and that the \
             credentials may use it (sqs:ReceiveMessage, sqs:ChangeMessageVisibility, sqs:DeleteMessage)",
            self.url
        ))
    }
}

fn seconds(duration: Duration) -> i32 {
    duration.as_secs().clamp(0, 12 * 3600) as i32
}

/// The region in an SQS queue URL: `https://sqs.REGION.amazonaws.com/…`.
fn region_of(url: &str) -> Option<String> {
    let host = url::Url::parse(url).ok()?.host_str()?.to_string();
    let mut parts = host.split('.');
    match (parts.next(), parts.next()) {
        (Some("sqs"), Some(region)) if region.contains('-') => Some(region.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_urls_name_their_region() {
        assert_eq!(
            region_of("https://sqs.eu-west-2.amazonaws.com/111122223333/trail").as_deref(),
            Some("eu-west-2")
        );
        assert_eq!(region_of("http://127.0.0.1:9324/1/q"), None);
        assert_eq!(region_of("https://queue.amazonaws.com/1/q"), None);
    }
}
