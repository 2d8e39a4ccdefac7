//! The committed JSON Schemas must match the types lapse deserialises.
//! Regenerate with `UPDATE_SCHEMAS=1 cargo test --test schema`.

use std::path::Path;

fn check(file: &str, generated: String) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("config")
        .join(file);
    if std::env::var_os("UPDATE_SCHEMAS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "config/{file} is stale: run `UPDATE_SCHEMAS=1 cargo test --test schema` and commit it"
    );
}

#[test]
fn roster_schema_is_current() {
    check("users.schema.json", lapse::schema::roster());
}

#[test]
fn config_schema_is_current() {
    check("lapse.schema.json", lapse::schema::config());
}

#[test]
fn the_roster_schema_refuses_unknown_keys() {
    let schema: serde_json::Value = serde_json::from_str(&lapse::schema::roster()).unwrap();
    let text = schema.to_string();
    assert!(text.contains("\"additionalProperties\":false"), "{text}");
    assert!(text.contains("github_username") && text.contains("approved_by"));
}
