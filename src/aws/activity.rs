//! Observed absence: when each IAM user of the users account last signed in
//! to the console or used an access key.
//!
//! IAM's credential report answers that for every user in about three
//! requests. Only where the report is denied or unavailable does lapse read
//! user by user (ListUsers pages, then ListAccessKeys and
//! GetAccessKeyLastUsed per user and key), and it says so.

use std::time::{Duration, Instant};

use aws_sdk_iam::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_iam::primitives::DateTime as SdkDateTime;
use aws_sdk_iam::types::{ReportStateType, User};
use chrono::{DateTime, TimeZone, Utc};

use super::accounts::AccountClient;
use super::{bounded, describe, is_access_denied};
use crate::state::{AccessKey, IamUser};

/// `AwsState::activity_source` when the credential report was read.
pub const FROM_CREDENTIAL_REPORT: &str = "credential_report";
/// `AwsState::activity_source` when users were read one by one.
pub const FROM_PER_USER: &str = "per_user";

/// How long to wait for IAM to finish generating a report before reading
/// user by user instead. Small accounts take seconds.
const REPORT_WAIT: Duration = Duration::from_secs(60);
const FIRST_POLL: Duration = Duration::from_millis(500);
const LONGEST_POLL: Duration = Duration::from_secs(4);

/// The largest page ListUsers gives.
const LIST_USERS_PAGE: i32 = 1000;

/// Every user of the account with their activity, and where it came from.
pub async fn read(
    client: &AccountClient,
    concurrency: usize,
) -> Result<(Vec<IamUser>, &'static str), String> {
    let (mut users, source) = match credential_report(client).await? {
        Ok(users) => (users, FROM_CREDENTIAL_REPORT),
        Err(why) => {
            tracing::warn!(
                account = %client.account.id,
                "the IAM credential report is unavailable ({why}); reading activity user by user instead, at two or more requests per user"
            );
            (per_user(client, concurrency).await?, FROM_PER_USER)
        }
    };
    for user in &users {
        check_account(client, &user.arn)?;
    }
    users.sort_by(|a, b| a.arn.cmp(&b.arn));
    Ok((users, source))
}

/// The report's users; `Ok(Err(why))` when the report cannot be had here
/// (denied, not generated in time, unreadable), so lapse may read per user.
async fn credential_report(client: &AccountClient) -> Result<Result<Vec<IamUser>, String>, String> {
    let alias = &client.account.alias;
    let deadline = Instant::now() + REPORT_WAIT;
    let mut pause = FIRST_POLL;
    loop {
        match client.iam.generate_credential_report().send().await {
            Ok(out) if out.state() == Some(&ReportStateType::Complete) => break,
            Ok(_) => {}
            Err(e) if report_unavailable(&e) => return Ok(Err(describe(&e))),
            Err(e) => {
                return Err(format!(
                    "cannot generate the credential report of account `{alias}`: {}",
                    describe(&e)
                ));
            }
        }
        if Instant::now() + pause > deadline {
            return Ok(Err(format!(
                "IAM had not finished generating it after {} s",
                REPORT_WAIT.as_secs()
            )));
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(LONGEST_POLL);
    }
    let report = match client.iam.get_credential_report().send().await {
        Ok(report) => report,
        Err(e) if report_unavailable(&e) => return Ok(Err(describe(&e))),
        Err(e) => {
            return Err(format!(
                "cannot read the credential report of account `{alias}`: {}",
                describe(&e)
            ));
        }
    };
    let Some(content) = report.content() else {
        return Ok(Err("GetCredentialReport returned no content".into()));
    };
    Ok(std::str::from_utf8(content.as_ref())
        .map_err(|e| format!("the report is not UTF-8: {e}"))
        .and_then(parse_credential_report)
        .map_err(|e| format!("unreadable report: {e}")))
}

/// The errors after which reading user by user may still work.
fn report_unavailable<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> bool {
    is_access_denied(error)
        || matches!(
            error.code(),
            Some("ReportNotPresent" | "ReportExpired" | "ReportInProgress" | "LimitExceeded")
        )
}

/// Parses IAM's credential report (CSV with a header line). The
/// `<root_account>` row is left out: the root user is no roster person.
pub fn parse_credential_report(csv: &str) -> Result<Vec<IamUser>, String> {
    let mut lines = csv.lines().filter(|l| !l.trim().is_empty());
    let header = split_csv_line(lines.next().ok_or("the report is empty")?);
    let column = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| format!("the report has no `{name}` column"))
    };
    let (user_at, arn_at) = (column("user")?, column("arn")?);
    if (user_at, arn_at) != (0, 1) {
        return Err("the report does not start with the `user` and `arn` columns".into());
    }
    let created_at = column("user_creation_time")?;
    let password_at = column("password_last_used")?;
    let keys_at = [1, 2]
        .map(|n| {
            Ok::<_, String>((
                column(&format!("access_key_{n}_last_rotated"))?,
                column(&format!("access_key_{n}_last_used_date"))?,
            ))
        })
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;

    let mut users = Vec::new();
    for (number, line) in lines.enumerate() {
        let row = fix_unquoted_commas(split_csv_line(line), header.len())
            .ok_or_else(|| format!("row {} does not have {} columns", number + 2, header.len()))?;
        let arn = &row[arn_at];
        if arn.ends_with(":root") {
            continue;
        }
        let time = |at: usize| {
            report_time(&row[at]).map_err(|e| format!("row {} ({arn}): {e}", number + 2))
        };
        let created = time(created_at)?
            .ok_or_else(|| format!("row {} ({arn}) has no user_creation_time", number + 2))?;
        let mut access_keys = Vec::new();
        for &(rotated_at, used_at) in &keys_at {
            let last_used = time(used_at)?;
            if row[rotated_at] != "N/A" || last_used.is_some() {
                access_keys.push(AccessKey {
                    id: None,
                    last_used,
                });
            }
        }
        users.push(IamUser {
            arn: arn.clone(),
            created,
            password_last_used: time(password_at)?,
            access_keys,
        });
    }
    Ok(users)
}

/// A report time, or `None` for the report's ways of saying "never" or
/// "not known" (`N/A`, `no_information`, `not_supported`).
fn report_time(text: &str) -> Result<Option<DateTime<Utc>>, String> {
    match text {
        "" | "N/A" | "no_information" | "not_supported" => Ok(None),
        _ => DateTime::parse_from_rfc3339(text)
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|e| format!("`{text}` is not a time: {e}")),
    }
}

/// Splits one CSV line, honouring double quotes.
fn split_csv_line(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                fields.last_mut().expect("one field").push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(String::new()),
            (c, _) => fields.last_mut().expect("one field").push(c),
        }
    }
    fields
}

/// IAM user names may contain commas, which an unquoting writer leaves bare
/// in both the `user` and the `arn` column (the ARN ends with the name). With
/// `2k` fields too many, the first `k + 1` are the name and the next `k + 1`
/// the ARN.
fn fix_unquoted_commas(mut row: Vec<String>, columns: usize) -> Option<Vec<String>> {
    if row.len() == columns {
        return Some(row);
    }
    let extra = row.len().checked_sub(columns)?;
    if extra % 2 != 0 {
        return None;
    }
    let parts = extra / 2 + 1;
    let rest = row.split_off(2 * parts);
    let arn = row.split_off(parts).join(",");
    let user = row.join(",");
    if !arn.ends_with(&user) {
        return None;
    }
    Some([user, arn].into_iter().chain(rest).collect())
}

/// Reads every user, then each one's access keys and their last use.
async fn per_user(client: &AccountClient, concurrency: usize) -> Result<Vec<IamUser>, String> {
    let alias = &client.account.alias;
    let mut listed: Vec<User> = Vec::new();
    let mut marker = None;
    loop {
        let page = client
            .iam
            .list_users()
            .max_items(LIST_USERS_PAGE)
            .set_marker(marker.take())
            .send()
            .await
            .map_err(|e| {
                format!(
                    "cannot list the users of account `{alias}`: {}",
                    describe(&e)
                )
            })?;
        listed.extend(page.users().iter().cloned());
        if !page.is_truncated() {
            break;
        }
        marker = Some(
            page.marker()
                .ok_or_else(|| {
                    format!("ListUsers in account `{alias}` said there is more but gave no marker")
                })?
                .to_string(),
        );
    }
    bounded(listed, concurrency, |user| {
        user_activity(client.clone(), user)
    })
    .await
}

async fn user_activity(client: AccountClient, user: User) -> Result<IamUser, String> {
    let name = user.user_name();
    let mut key_ids = Vec::new();
    let mut marker = None;
    loop {
        let page = client
            .iam
            .list_access_keys()
            .user_name(name)
            .set_marker(marker.take())
            .send()
            .await
            .map_err(|e| {
                format!(
                    "cannot list the access keys of {}: {}",
                    user.arn(),
                    describe(&e)
                )
            })?;
        key_ids.extend(
            page.access_key_metadata()
                .iter()
                .filter_map(|k| k.access_key_id().map(str::to_string)),
        );
        match page.marker().filter(|_| page.is_truncated()) {
            Some(next) => marker = Some(next.to_string()),
            None => break,
        }
    }
    let mut access_keys = Vec::new();
    for id in key_ids {
        let used = client
            .iam
            .get_access_key_last_used()
            .access_key_id(&id)
            .send()
            .await
            .map_err(|e| {
                format!(
                    "cannot read when access key {id} was last used: {}",
                    describe(&e)
                )
            })?;
        let last_used = used
            .access_key_last_used()
            .and_then(|u| u.last_used_date())
            .map(chrono_of)
            .transpose()?;
        access_keys.push(AccessKey {
            id: Some(id),
            last_used,
        });
    }
    Ok(IamUser {
        arn: user.arn().to_string(),
        created: chrono_of(user.create_date())?,
        password_last_used: user.password_last_used().map(chrono_of).transpose()?,
        access_keys,
    })
}

fn chrono_of(time: &SdkDateTime) -> Result<DateTime<Utc>, String> {
    Utc.timestamp_opt(time.secs(), time.subsec_nanos())
        .single()
        .ok_or_else(|| format!("IAM gave an impossible time {time}"))
}

/// A user from another account means the credentials act somewhere else
/// than the config says: fail rather than judge strangers' activity.
fn check_account(client: &AccountClient, arn: &str) -> Result<(), String> {
    let account = arn.split(':').nth(4);
    if account == Some(client.account.id.as_str()) {
        Ok(())
    } else {
        Err(format!(
            "reading the users account {} gave user {arn}, which is in another account: check aws.users_account.assume_role_arn and the base credentials",
            client.account.id
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated";

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn reads_users_keys_and_the_ways_iam_says_never() {
        let csv = format!(
            "{HEADER}\n\
<root_account>,arn:aws:iam::111111111111:root,2020-01-01T00:00:00+00:00,not_supported,2026-11-01T00:00:00+00:00,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n\
jane,arn:aws:iam::111111111111:user/jane,2026-01-02T03:04:05+00:00,true,no_information,2026-01-02T03:04:05+00:00,N/A,false,true,2026-01-02T03:04:05+00:00,2026-09-30T12:00:00+00:00,eu-west-2,sts,false,2026-02-01T00:00:00+00:00,N/A,N/A,N/A,false,N/A,false,N/A\n\
sam,arn:aws:iam::111111111111:user/ops/sam,2026-03-01T00:00:00+00:00,false,N/A,N/A,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n"
        );
        let users = parse_credential_report(&csv).unwrap();
        assert_eq!(
            users,
            vec![
                IamUser {
                    arn: "arn:aws:iam::111111111111:user/jane".into(),
                    created: at("2026-01-02T03:04:05Z"),
                    password_last_used: None,
                    access_keys: vec![
                        AccessKey {
                            id: None,
                            last_used: Some(at("2026-09-30T12:00:00Z"))
                        },
                        // Inactive and never used, but it exists.
                        AccessKey {
                            id: None,
                            last_used: None
                        },
                    ],
                },
                IamUser {
                    arn: "arn:aws:iam::111111111111:user/ops/sam".into(),
                    created: at("2026-03-01T00:00:00Z"),
                    password_last_used: None,
                    access_keys: vec![],
                },
            ]
        );
    }

    #[test]
    fn a_name_with_commas_is_read_quoted_or_bare() {
        let rest = "2026-01-02T03:04:05+00:00,true,2026-10-01T00:00:00+00:00,N/A,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A";
        for row in [
            format!("\"a,b\",\"arn:aws:iam::111111111111:user/a,b\",{rest}"),
            format!("a,b,arn:aws:iam::111111111111:user/a,b,{rest}"),
        ] {
            let users = parse_credential_report(&format!("{HEADER}\n{row}\n")).unwrap();
            assert_eq!(users.len(), 1, "{row}");
            assert_eq!(users[0].arn, "arn:aws:iam::111111111111:user/a,b");
            assert_eq!(
                users[0].password_last_used,
                Some(at("2026-10-01T00:00:00Z"))
            );
        }
    }

    #[test]
    fn a_report_lapse_cannot_read_is_an_error_not_an_empty_list() {
        assert!(parse_credential_report("").is_err());
        assert!(parse_credential_report("user,arn\nx,y\n").is_err());
        let short = format!(
            "{HEADER}\njane,arn:aws:iam::111111111111:user/jane,2026-01-02T03:04:05+00:00\n"
        );
        assert!(
            parse_credential_report(&short)
                .unwrap_err()
                .contains("columns")
        );
        let bad_time = format!(
            "{HEADER}\njane,arn:aws:iam::111111111111:user/jane,yesterday,true,N/A,N/A,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n"
        );
        assert!(
            parse_credential_report(&bad_time)
                .unwrap_err()
                .contains("yesterday")
        );
    }
}
