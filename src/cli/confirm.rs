//! Confirmation on a terminal before `apply` changes anything.

use std::io::IsTerminal;

use crate::engine::Confirm;
use crate::report::{Format, Report};
use crate::system::BoxFuture;

/// Shows the plan on stdout and asks on the terminal; anything but `yes`
/// declines. With no terminal there is nobody to ask, so the answer is no.
pub struct Terminal;

impl Confirm for Terminal {
    fn confirm<'a>(&'a self, report: &'a Report, revocations: usize) -> BoxFuture<'a, bool> {
        Box::pin(async move {
            print!(
                "{}",
                report.render(Format::Text, std::io::stdout().is_terminal())
            );
            confirmed(revocations).await
        })
    }
}

async fn confirmed(revocations: usize) -> bool {
    if !std::io::stdin().is_terminal() {
        tracing::error!(
            "apply needs confirmation but there is no terminal to ask on; pass --yes to apply unattended; nothing was changed"
        );
        return false;
    }
    eprint!("Revoke {revocations} grants as listed above? Type yes to go ahead: ");
    let answer = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).map(|_| line)
    })
    .await;
    match answer {
        Ok(Ok(line)) if line.trim() == "yes" => true,
        _ => {
            eprintln!("Not confirmed; nothing was changed.");
            false
        }
    }
}
