//! Prints the planner's figures at org scale, peak memory included:
//! `cargo run --release --example scale [PEOPLE] [--dump PATH]`.
//!
//! `--write DIR` writes the config and roster (`DIR/lapse.yaml`,
//! `DIR/users.yaml`) and stops, for measuring `lapse validate` itself;
//! `limit` for PEOPLE fills the roster up to the largest size lapse reads;
//! `long-value` fills it with one person whose name is that long.
//!
//! `--dump PATH` writes the plan as the JSON, text and markdown reports
//! (`PATH`, `PATH.txt`, `PATH.md`) and in full, revocations and grant counts
//! included (`PATH.debug`), so a change to the planner can be shown to leave
//! its output byte for byte as it was.

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

/// Writes the plan's reports and its full debug form next to `path`.
fn dump(plan: &lapse::plan::Plan, path: &str) -> std::io::Result<()> {
    let report = lapse::report::Report {
        command: "plan".into(),
        run_id: "scale".into(),
        now: scale::now(),
        generated_at: scale::now(),
        findings: plan.findings.clone(),
        api_calls: lapse::report::ApiCalls::default(),
        notes: plan.notes.clone(),
        refused: None,
        gates_overridden: None,
    };
    use lapse::report::Format;
    std::fs::write(path, report.render(Format::Json, false))?;
    std::fs::write(format!("{path}.txt"), report.render(Format::Text, false))?;
    std::fs::write(format!("{path}.md"), report.render(Format::Markdown, false))?;
    std::fs::write(format!("{path}.debug"), format!("{plan:#?}\n"))
}

/// One person whose quoted name takes the roster to the largest size lapse reads.
fn long_value_roster() -> String {
    let head = "- email: jane@example.gov.uk\n  access: [level0]\n  name: \"";
    let tail = "\"\n";
    let fill = lapse::roster::MAX_ROSTER_BYTES as usize - head.len() - tail.len();
    format!("{head}{}{tail}", "x".repeat(fill))
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut people = 50_000;
    let mut dump_path = None;
    let mut write_dir = None;
    let mut max_bytes = usize::MAX;
    let mut one_long_value = false;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--dump" => dump_path = Some(args.next().expect("--dump needs a path")),
            "--write" => write_dir = Some(args.next().expect("--write needs a folder")),
            "limit" => {
                people = usize::MAX;
                max_bytes = lapse::roster::MAX_ROSTER_BYTES as usize;
            }
            "long-value" => one_long_value = true,
            n => {
                people = n
                    .parse()
                    .expect("PEOPLE is a number, `limit` or `long-value`")
            }
        }
    }
    if let Some(dir) = write_dir {
        let dir = std::path::Path::new(&dir);
        std::fs::create_dir_all(dir).expect("the folder is made");
        std::fs::write(dir.join("lapse.yaml"), scale::config_yaml()).expect("config written");
        let roster = if one_long_value {
            long_value_roster()
        } else {
            scale::roster_yaml_within(people, max_bytes)
        };
        let count = roster.lines().filter(|l| l.starts_with("- ")).count();
        std::fs::write(dir.join("users.yaml"), &roster).expect("roster written");
        println!(
            "wrote {count} people, {} bytes, to {}",
            roster.len(),
            dir.display()
        );
        return;
    }
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
    if let Some(path) = dump_path {
        dump(&plan, &path).expect("the dump is written");
        println!("dumped to              {path}");
    }
}
