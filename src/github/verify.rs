//! Reading back what a revocation removed: a revocation is done only once a
//! read after the write shows the grant gone. An answer to the write is not
//! proof by itself (a 204 may hide a write that did not stick; a 404 may
//! mean the grant is gone, or the team is).
//!
//! A membership is gone when reading it answers 404. GitHub also answers
//! that read for someone in a child team, so an active membership is then
//! checked against the team's direct members (see `members`): gone from
//! them, the direct membership was removed and the one through the child
//! team is a grant of its own. An invitation is gone when its teams no
//! longer read (GitHub has no read of a single invitation; its teams 404
//! with it).

use serde::Deserialize;

use super::client::Client;
use super::members::immediate_members;
use super::request::segment;
use crate::model::Outcome;

/// What a verification concludes: done, or failed with why.
pub(super) type Verdict = (Outcome, Option<String>);

fn not_verified(why: String) -> Verdict {
    (Outcome::Failed, Some(format!("not verified: {why}")))
}

#[derive(Deserialize)]
struct Membership {
    state: String,
}

/// Whether `login`'s direct membership of `team` is gone. `answered_404`:
/// the removal itself answered 404, so the team may be what is gone.
pub(super) async fn membership_gone(
    client: &Client,
    (org, team, login): (&str, &str, &str),
    target: &str,
    answered_404: bool,
) -> Verdict {
    match client
        .get_json::<Membership>(&membership_path(org, team, login))
        .await
    {
        Err(e) if e.is_not_found() && answered_404 => {
            team_still_exists(client, org, team, target).await
        }
        Err(e) if e.is_not_found() => (Outcome::Done, None),
        Err(e) => not_verified(format!("reading the membership back failed: {e}")),
        Ok(m) if m.state == "active" => {
            not_a_direct_member(client, (org, team, login), target).await
        }
        Ok(m) => not_verified(format!(
            "{login}'s membership of {target} still reads `{}` after its removal",
            m.state
        )),
    }
}

/// The membership still reads active: done if it is held only through a
/// child team, which GitHub's membership read does not tell apart.
async fn not_a_direct_member(
    client: &Client,
    (org, team, login): (&str, &str, &str),
    target: &str,
) -> Verdict {
    match immediate_members(client, org, team).await {
        Ok(direct) if direct.iter().any(|m| m.login.eq_ignore_ascii_case(login)) => not_verified(
            format!("{target} still has {login} as a direct member after the removal"),
        ),
        Ok(_) => {
            tracing::info!(target = %target, principal = %login, "the direct membership is gone; the one through a child team stays, and is reported apart");
            (Outcome::Done, None)
        }
        Err(e) => not_verified(format!(
            "reading the team's direct members back failed: {e}"
        )),
    }
}

/// The membership reads 404 and its removal answered 404: done, unless the
/// team itself is gone (then nothing could be removed, nor confirmed gone).
async fn team_still_exists(client: &Client, org: &str, team: &str, target: &str) -> Verdict {
    match client
        .get_json::<serde_json::Value>(&team_path(org, team))
        .await
    {
        Ok(_) => {
            tracing::info!(target = %target, "the membership was already gone");
            (Outcome::Done, None)
        }
        Err(e) if e.is_not_found() => (
            Outcome::Failed,
            Some(format!(
                "team {target} no longer exists (or lapse's credentials cannot see it), so the membership could be neither removed nor confirmed gone"
            )),
        ),
        Err(e) => (
            Outcome::Failed,
            Some(format!(
                "GitHub found no such membership, and checking that team {target} still exists failed: {e}"
            )),
        ),
    }
}

/// Whether invitation `id` is gone: its teams read 404.
pub(super) async fn invitation_gone(client: &Client, org: &str, id: u64) -> Verdict {
    let path = format!("/orgs/{}/invitations/{id}/teams", segment(org));
    match client.get_json::<serde_json::Value>(&path).await {
        Err(e) if e.is_not_found() => (Outcome::Done, None),
        Err(e) => not_verified(format!("reading the invitation back failed: {e}")),
        Ok(_) => not_verified(format!(
            "invitation {id} is still open after its cancellation"
        )),
    }
}

fn team_path(org: &str, team: &str) -> String {
    format!("/orgs/{}/teams/{}", segment(org), segment(team))
}

/// A person's membership of a team, direct or pending: what a removal
/// deletes and its verification reads.
pub(super) fn membership_path(org: &str, team: &str, login: &str) -> String {
    format!("{}/memberships/{}", team_path(org, team), segment(login))
}
