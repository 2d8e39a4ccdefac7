//! The audit trail in S3: one object per record under
//! `PREFIX/RUN_ID/NNNN-PHASE.json`, written before the change it announces.
//! S3 objects cannot be appended to, and with Object Lock on the bucket
//! they cannot be altered either, so the trail outlives whoever can reach
//! the cluster.

use super::{Record, S3Location, Sink};

pub struct S3Sink {
    location: S3Location,
    client: aws_sdk_s3::Client,
}

impl S3Sink {
    pub fn new(location: S3Location, client: aws_sdk_s3::Client) -> S3Sink {
        S3Sink { location, client }
    }

    /// A sink with credentials from the standard AWS chain, in `region`,
    /// at `endpoint_url` when one is configured (an emulator: addressed by
    /// path, since it has no bucket subdomains).
    pub async fn connect(
        location: S3Location,
        region: Option<&str>,
        endpoint_url: Option<&str>,
    ) -> S3Sink {
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
        if let Some(region) = region {
            loader = loader.region(aws_config::Region::new(region.to_string()));
        }
        if let Some(url) = endpoint_url {
            loader = loader.endpoint_url(url);
        }
        let sdk = loader.load().await;
        let config = aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(endpoint_url.is_some())
            .build();
        S3Sink::new(location, aws_sdk_s3::Client::from_conf(config))
    }

    /// The key of one record: ordered within its run by sequence number.
    pub fn key(&self, record: &Record<'_>) -> String {
        let name = format!(
            "{}/{:04}-{}.json",
            record.run_id, record.sequence, record.event.phase
        );
        match self.location.prefix.trim_matches('/') {
            "" => name,
            prefix => format!("{prefix}/{name}"),
        }
    }
}

impl Sink for S3Sink {
    /// Blocks until S3 has the object: the change waits on its record. The
    /// revokers run on the multi-threaded runtime, which lets a task block.
    fn write(&self, record: &Record<'_>, line: &str) -> Result<(), String> {
        let key = self.key(record);
        let put = self
            .client
            .put_object()
            .bucket(&self.location.bucket)
            .key(&key)
            .content_type("application/json")
            .body(line.as_bytes().to_vec().into())
            .send();
        let handle = tokio::runtime::Handle::current();
        tokio::task::block_in_place(|| {
            handle.block_on(async {
                put.await.map(|_| ()).map_err(|e| {
                    format!(
                        "cannot write audit object s3://{}/{key}: {}",
                        self.location.bucket,
                        crate::aws::describe(&e)
                    )
                })
            })
        })
    }

    fn describe(&self) -> String {
        format!("s3://{}/{}", self.location.bucket, self.location.prefix)
    }
}
