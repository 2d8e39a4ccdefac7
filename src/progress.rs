//! How far reading has got, shown on a terminal while `plan`, `apply` and
//! `snapshot` read the live systems: a large org takes long enough to read
//! that silence looks like a hang.
//!
//! The readers only bump counters here, so they need no handle passed
//! through every layer; the counters cost nothing when nothing is shown.
//! Shown only when a command asked for it, stderr is a terminal, and logs
//! are text: never in the daemon, a pipe, or JSON logs.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

static WANTED: AtomicBool = AtomicBool::new(false);
static TEAMS_TOTAL: AtomicUsize = AtomicUsize::new(0);
static TEAMS_READ: AtomicUsize = AtomicUsize::new(0);
static ROLES_TOTAL: AtomicUsize = AtomicUsize::new(0);
static ROLES_READ: AtomicUsize = AtomicUsize::new(0);

/// Asks for progress on the terminal for the rest of this process (the
/// interactive commands call it; the daemon does not).
pub fn show_on_terminal() {
    WANTED.store(true, Ordering::Relaxed);
}

/// Whether progress is shown: asked for, on a terminal, with text logs.
pub fn shown() -> bool {
    WANTED.load(Ordering::Relaxed)
        && std::io::stderr().is_terminal()
        && !crate::console::json_logs()
}

/// More teams to read (managed teams, then child teams as they are found).
pub fn teams_found(count: usize) {
    TEAMS_TOTAL.fetch_add(count, Ordering::Relaxed);
}

/// One team's members read in full.
pub fn team_read() {
    TEAMS_READ.fetch_add(1, Ordering::Relaxed);
}

/// More roles to read.
pub fn roles_found(count: usize) {
    ROLES_TOTAL.fetch_add(count, Ordering::Relaxed);
}

/// One managed role's trust policy read.
pub fn role_read() {
    ROLES_READ.fetch_add(1, Ordering::Relaxed);
}

/// Shows reading progress until dropped, when [`shown`]. Starting one resets
/// the counters, so each read of the systems counts from zero.
pub struct Reading {
    ticker: Option<tokio::task::JoinHandle<()>>,
}

impl Reading {
    pub fn start() -> Reading {
        for counter in [&TEAMS_TOTAL, &TEAMS_READ, &ROLES_TOTAL, &ROLES_READ] {
            counter.store(0, Ordering::Relaxed);
        }
        let ticker = shown().then(|| {
            tokio::spawn(async {
                let mut tick = tokio::time::interval(Duration::from_millis(200));
                loop {
                    tick.tick().await;
                    if let Some(line) = line() {
                        eprint!("\r{line} ");
                    }
                }
            })
        });
        Reading { ticker }
    }
}

impl Drop for Reading {
    fn drop(&mut self) {
        if let Some(ticker) = self.ticker.take() {
            ticker.abort();
            if let Some(line) = line() {
                eprintln!("\r{line} ");
            }
        }
    }
}

/// `reading: teams 3/40, roles 12/200`, naming only what is being read;
/// `None` before anything is.
fn line() -> Option<String> {
    let mut parts = Vec::new();
    let teams = TEAMS_TOTAL.load(Ordering::Relaxed);
    if teams > 0 {
        parts.push(format!(
            "teams {}/{teams}",
            TEAMS_READ.load(Ordering::Relaxed)
        ));
    }
    let roles = ROLES_TOTAL.load(Ordering::Relaxed);
    if roles > 0 {
        parts.push(format!(
            "roles {}/{roles}",
            ROLES_READ.load(Ordering::Relaxed)
        ));
    }
    (!parts.is_empty()).then(|| format!("reading: {}", parts.join(", ")))
}
