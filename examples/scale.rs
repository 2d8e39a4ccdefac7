//! Prints the planner's figures at org scale, peak memory included:
//! `cargo run --release --example scale [PEOPLE]`.

#[path = "../benches/support/scale.rs"]
mod scale;

use std::time::Instant;

/// The process's peak resident memory in MiB (Linux).
fn peak_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn main() {
    let people: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(50_000);
    let config = scale::config();
    let text = scale::roster_yaml(people);
    let start = Instant::now();
    let source = lapse::diag::Source {
        name: "users.yaml".into(),
        text,
    };
    let roster = lapse::roster::load_source(&source, &config, scale::now())
        .unwrap()
        .roster;
    let validate = start.elapsed();
    let actual = scale::actual(people);
    let before = peak_mib();
    let start = Instant::now();
    let plan = lapse::plan::plan(&config, &roster, &actual, scale::now());
    let planned = start.elapsed();
    println!("people                 {people}");
    println!("grants                 {}", scale::grant_count(&actual));
    println!("roster bytes           {}", source.text.len());
    println!("validate               {:.3} s", validate.as_secs_f64());
    println!("plan                   {:.3} s", planned.as_secs_f64());
    println!(
        "findings               {} ({} revocations)",
        plan.findings.len(),
        plan.revocations().count()
    );
    println!("peak memory before plan {before:.0} MiB");
    println!("peak memory            {:.0} MiB", peak_mib());
}
