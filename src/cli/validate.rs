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
                "{}: {} people, {} access levels; {} warnings",
                common.config.display(),
                loaded.roster.people.len(),
                config.levels.len(),
                loaded.warnings.warnings()
            );
            Exit::Success
        }
        Err(diags) => {
            print!("{diags}");
            println!(
                "{} errors, {} warnings: nothing was changed",
                diags.errors(),
                diags.warnings()
            );
            Exit::Error
        }
    }
}
