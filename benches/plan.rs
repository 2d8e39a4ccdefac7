//! The planner at org scale: 50,000 people against about 500,000 grants, and
//! `validate` of a 50,000-person roster. Targets: plan < 0.5 s, validate < 1 s.
//! `cargo run --release --example scale` prints the same figures with peak memory.

#[path = "support/scale.rs"]
mod scale;

use criterion::{Criterion, criterion_group, criterion_main};

const PEOPLE: usize = 50_000;

fn plan(c: &mut Criterion) {
    let config = scale::config();
    let roster = scale::roster(&config, PEOPLE);
    let actual = scale::actual(PEOPLE);
    eprintln!(
        "plan: {PEOPLE} people, {} grants",
        scale::grant_count(&actual)
    );
    let mut group = c.benchmark_group("org_scale");
    group.sample_size(10);
    group.bench_function("plan_50k_people_500k_grants", |b| {
        b.iter(|| lapse::plan::plan(&config, &roster, &actual, scale::now()))
    });
    let text = scale::roster_yaml(PEOPLE);
    eprintln!("validate: {} bytes of roster", text.len());
    group.bench_function("validate_50k_person_roster", |b| {
        b.iter(|| {
            let source = lapse::diag::Source {
                name: "users.yaml".into(),
                text: text.clone(),
            };
            lapse::roster::load_source(&source, &config, scale::now()).unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, plan);
criterion_main!(benches);
