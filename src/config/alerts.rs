//! `alerts:`: where reports are sent. The variables are read, and the URLs
//! reached, only when an alert goes out; here the names are checked to be
//! names (a webhook URL pasted in their place is a secret) and the gateway
//! URL to be one lapse may send to.

use super::env_names::env_name;
use super::urls::endpoint_url;
use super::{Alerts, Check, RawAlerts};

/// The section, checked field by field.
pub(super) fn alerts(check: &mut Check, raw: &RawAlerts) -> Alerts {
    if let Some(url) = &raw.pushgateway_url {
        endpoint_url(check, "alerts.pushgateway_url", url);
    }
    Alerts {
        slack_webhook_env: raw
            .slack_webhook_env
            .as_ref()
            .map(|e| env_name(check, "alerts.slack_webhook_env", e)),
        webhook_url_env: raw
            .webhook_url_env
            .as_ref()
            .map(|e| env_name(check, "alerts.webhook_url_env", e)),
        pushgateway_url: raw
            .pushgateway_url
            .as_ref()
            .map(|u| u.value.trim().to_string()),
        detail: raw.detail,
    }
}

#[cfg(test)]
mod tests {
    use super::super::AlertDetail;
    use super::super::tests::{check, said, section, source};
    use super::*;

    #[test]
    fn alerts_table() {
        for (yaml, kept, told) in [
            ("{}", Alerts::default(), vec![]),
            (
                "{slack_webhook_env: SLACK, webhook_url_env: HOOK, pushgateway_url: 'https://pgw:9091'}",
                Alerts {
                    slack_webhook_env: Some("SLACK".into()),
                    webhook_url_env: Some("HOOK".into()),
                    pushgateway_url: Some("https://pgw:9091".into()),
                    detail: Default::default(),
                },
                vec![],
            ),
            (
                "{pushgateway_url: 'http://127.0.0.1:9091'}",
                Alerts {
                    pushgateway_url: Some("http://127.0.0.1:9091".into()),
                    ..Alerts::default()
                },
                vec![],
            ),
            (
                "{pushgateway_url: 'http://pgw:9091'}",
                Alerts {
                    pushgateway_url: Some("http://pgw:9091".into()),
                    ..Alerts::default()
                },
                vec![
                    "error: alerts.pushgateway_url `http://pgw:9091/` sends requests unencrypted to another machine",
                ],
            ),
            (
                "{slack_webhook_env: 'https://hooks.slack.com/services/T0/B0/x', webhook_url_env: 'DRIFT URL'}",
                Alerts {
                    slack_webhook_env: Some("https://hooks.slack.com/services/T0/B0/x".into()),
                    webhook_url_env: Some("DRIFT URL".into()),
                    pushgateway_url: None,
                    detail: Default::default(),
                },
                vec![
                    "error: `alerts.slack_webhook_env` must name an environment variable, not hold a value",
                    "error: `alerts.webhook_url_env` must name an environment variable, not hold a value",
                ],
            ),
        ] {
            let source = source(yaml);
            let raw: RawAlerts = section(&source);
            let mut run = check(&source);
            assert_eq!(alerts(&mut run, &raw), kept, "{yaml}");
            assert_eq!(said(run), told, "{yaml}");
        }
    }

    #[test]
    fn detail_table() {
        for (yaml, detail) in [
            ("{}", Some(AlertDetail::Summary)),
            ("{detail: summary}", Some(AlertDetail::Summary)),
            ("{detail: full}", Some(AlertDetail::Full)),
            ("{detail: Full}", None),
            ("{detail: dates}", None),
        ] {
            let parsed = crate::yaml::parse::<RawAlerts>(&source(yaml)).ok();
            assert_eq!(parsed.map(|a| a.detail), detail, "{yaml}");
        }
    }
}
