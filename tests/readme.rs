//! The README's samples are what the binary prints: a change to the output
//! fails here until the README follows. Each sample is the fenced block
//! after a `<!-- checked: NAME -->` marker.

use std::path::Path;
use std::process::Command;

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap()
}

/// The body of the fenced block that follows `<!-- checked: NAME -->`.
fn sample(readme: &str, name: &str) -> String {
    let marker = format!("<!-- checked: {name} -->");
    let after = &readme[readme
        .find(&marker)
        .unwrap_or_else(|| panic!("README has no {marker}"))..];
    let open = after.find("```").expect("a fenced block after the marker");
    let body_start = open + after[open..].find('\n').unwrap() + 1;
    let body_end = body_start + after[body_start..].find("```").expect("a closing fence");
    after[body_start..body_end].to_string()
}

fn example(file: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("config/example")
        .join(file)
}

fn lapse(args: &[&str], dir: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_lapse"))
        .args(args)
        .current_dir(dir)
        .env("LAPSE_LOG_FORMAT", "text")
        .env("NO_COLOR", "1")
        .env_remove("GITHUB_TOKEN")
        .output()
        .expect("the binary runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Whether `sample`'s lines stand, in order and next to each other, in `output`.
fn contains_lines(output: &str, sample: &str) -> bool {
    let out: Vec<&str> = output.lines().map(str::trim_end).collect();
    let want: Vec<&str> = sample.lines().map(str::trim_end).collect();
    out.windows(want.len()).any(|w| w == want.as_slice())
}

#[test]
fn the_sample_error_is_what_validate_prints_for_the_sample_roster() {
    let readme = readme();
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(example("lapse.yaml"), dir.path().join("lapse.yaml")).unwrap();
    std::fs::write(
        dir.path().join("users.yaml"),
        sample(&readme, "roster-input"),
    )
    .unwrap();
    let printed = lapse(
        &["validate", "--config", "lapse.yaml", "--now", "2026-11-22"],
        dir.path(),
    );
    let shown = sample(&readme, "roster-error");
    assert!(
        contains_lines(&printed, &shown),
        "README's sample error:\n{shown}\nlapse printed:\n{printed}"
    );
}

#[test]
fn the_sample_report_is_what_plan_prints_for_the_bundled_example() {
    let readme = readme();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let printed = lapse(
        &[
            "plan",
            "--config",
            "config/example/lapse.yaml",
            "--state",
            "config/example/snapshot.json",
            "--now",
            "2026-11-22",
        ],
        root,
    );
    for name in ["example-report", "example-summary"] {
        let shown = sample(&readme, name);
        assert!(
            contains_lines(&printed, &shown),
            "README's sample report ({name}):\n{shown}\nlapse printed:\n{printed}"
        );
    }
}
