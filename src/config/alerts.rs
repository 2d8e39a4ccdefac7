//! `alerts:`: where reports are sent. Nothing here is checked until used:
//! the variables are read, and the URLs reached, when an alert goes out.

use super::{Alerts, RawAlerts};

/// The section as written.
pub(super) fn alerts(raw: &RawAlerts) -> Alerts {
    Alerts {
        slack_webhook_env: raw.slack_webhook_env.clone(),
        webhook_url_env: raw.webhook_url_env.clone(),
        pushgateway_url: raw.pushgateway_url.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{section, source};
    use super::*;

    #[test]
    fn alerts_table() {
        for (yaml, kept) in [
            ("{}", Alerts::default()),
            (
                "{slack_webhook_env: SLACK, webhook_url_env: HOOK, pushgateway_url: 'http://pgw:9091'}",
                Alerts {
                    slack_webhook_env: Some("SLACK".into()),
                    webhook_url_env: Some("HOOK".into()),
                    pushgateway_url: Some("http://pgw:9091".into()),
                },
            ),
        ] {
            let raw: RawAlerts = section(&source(yaml));
            assert_eq!(alerts(&raw), kept, "{yaml}");
        }
    }
}
