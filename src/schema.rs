//! JSON Schemas for the roster and the config, generated from the very types
//! lapse deserialises, so editors validate what lapse will accept.

use schemars::generate::SchemaSettings;

fn render(schema: schemars::Schema) -> String {
    let mut text = serde_json::to_string_pretty(&schema).expect("schemas serialise");
    text.push('\n');
    text
}

/// The schema of `users.yaml`.
pub fn roster() -> String {
    render(
        SchemaSettings::draft07()
            .into_generator()
            .into_root_schema_for::<crate::roster::RawRoster>(),
    )
}

/// The schema of `lapse.yaml`.
pub fn config() -> String {
    render(
        SchemaSettings::draft07()
            .into_generator()
            .into_root_schema_for::<crate::config::RawConfig>(),
    )
}
