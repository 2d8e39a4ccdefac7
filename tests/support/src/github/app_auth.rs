//! GitHub App authentication: the app signs a short-lived JWT (RS256) with its
//! private key and trades it at `POST /app/installations/{id}/access_tokens`
//! for an installation token that then works like any other token.
//!
//! The checks and their messages follow GitHub's: `iss` names the app (its id,
//! as a number or a string), `iat` is an integer not in the future, `exp` is in
//! the future but at most 10 minutes ahead.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::Value;

use super::permissions;
use super::state::{IssuedToken, MintedToken, State};

/// GitHub's upper bound on how far ahead a JWT may expire.
const MAX_JWT_LIFETIME_SECS: i64 = 10 * 60;

/// Why a token exchange was refused: status and GitHub's message.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub status: u16,
    pub message: &'static str,
}

const UNDECODABLE: Refusal = Refusal {
    status: 401,
    message: "A JSON web token could not be decoded",
};

#[derive(Deserialize)]
struct AppClaims {
    iss: Option<Value>,
    iat: Option<Value>,
    exp: Option<Value>,
}

/// The claims, read before the signature is checked, only to learn which
/// app's key to check it with.
fn unverified_claims(jwt: &str) -> Option<AppClaims> {
    let payload = jwt.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn issuer_app_id(iss: &Value) -> Option<u64> {
    match iss {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// Verifies the app JWT and, for an installation of that app, issues a token
/// narrowed as `body` asks (see `permissions`), and records it.
pub(crate) fn exchange(
    state: &mut State,
    jwt: &str,
    installation_id: u64,
    body: &Value,
) -> Result<MintedToken, Refusal> {
    let claims = unverified_claims(jwt).ok_or(UNDECODABLE)?;
    let app_id = claims.iss.as_ref().and_then(issuer_app_id).ok_or(Refusal {
        status: 401,
        message: "'Issuer' claim ('iss') must be an Integer",
    })?;
    let app = state.credentials.apps.get(&app_id).ok_or(Refusal {
        status: 404,
        message: "Integration not found",
    })?;

    let key = DecodingKey::from_rsa_pem(app.public_key_pem.as_bytes()).map_err(|_| UNDECODABLE)?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    jsonwebtoken::decode::<Value>(jwt, &key, &validation).map_err(|_| UNDECODABLE)?;

    let now = Utc::now().timestamp();
    let iat = claims.iat.as_ref().and_then(Value::as_i64);
    if iat.is_none_or(|iat| iat > now) {
        return Err(Refusal {
            status: 401,
            message: "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued",
        });
    }
    let exp = claims.exp.as_ref().and_then(Value::as_i64);
    match exp {
        Some(exp) if exp > now + MAX_JWT_LIFETIME_SECS => {
            return Err(Refusal {
                status: 401,
                message: "'Expiration time' claim ('exp') is too far in the future",
            });
        }
        Some(exp) if exp > now => {}
        _ => {
            return Err(Refusal {
                status: 401,
                message: "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires",
            });
        }
    }
    if !app.installations.contains(&installation_id) {
        return Err(Refusal {
            status: 404,
            message: "Not Found",
        });
    }

    let grant = permissions::grant(state, body)?;

    let credentials = &mut state.credentials;
    credentials.installation_tokens_issued += 1;
    let token = installation_token_string(credentials.installation_tokens_issued);
    let expires_at = Utc::now() + credentials.installation_token_lifetime;
    let minted = MintedToken {
        token: token.clone(),
        installation_id,
        body: body.clone(),
        permissions: grant.permissions.clone(),
        repositories: body["repositories"].as_array().map(|names| {
            names
                .iter()
                .filter_map(|n| n.as_str().map(str::to_owned))
                .collect()
        }),
    };
    credentials.installation_tokens.insert(
        token,
        IssuedToken {
            installation_id,
            expires_at,
            permissions: grant.permissions,
            repositories: grant.repositories,
        },
    );
    credentials.minted.push(minted.clone());
    Ok(minted)
}

/// `ghs_` and 36 characters, like GitHub's installation tokens; unique per
/// fake and per issue so a test can tell a refreshed token from the old one.
fn installation_token_string(serial: u64) -> String {
    let seed = format!(
        "{serial}:{}:{}",
        std::process::id(),
        Utc::now().timestamp_nanos_opt().unwrap_or_default()
    );
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, seed.as_bytes());
    let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("ghs_{}", &hex[..36])
}
