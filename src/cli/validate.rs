//! `lapse validate`: the config and roster checked, every problem printed.

use chrono::Utc;

use crate::engine::{Inputs, Kept, load_inputs};
use crate::exit::Exit;

use super::Common;

pub fn run(common: &Common) -> Exit {
    let now = common.now.unwrap_or_else(Utc::now);
    let runtime = tokio::runtime::Handle::current();
    let result = tokio::task::block_in_place(|| {
        runtime.block_on(load_inputs(&common.config, now, &Kept::default()))
    });
    match result {
        Ok(Inputs { config, loaded, .. }) => {
            print!("{}", loaded.warnings);
            println!(
                "{}: {}, {}; {}",
                common.config.display(),
                count(loaded.roster.people.len(), "person", "people"),
                count(config.levels.len(), "access level", "access levels"),
                count(loaded.warnings.warnings(), "warning", "warnings")
            );
            Exit::Success
        }
        Err(diags) => {
            print!("{diags}");
            println!(
                "{}, {}: nothing was changed",
                count(diags.errors(), "error", "errors"),
                count(diags.warnings(), "warning", "warnings")
            );
            Exit::Error
        }
    }
}

/// `1 error`, `2 errors`.
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
