//! A roster kept in a repository, read by a long-running process: the
//! second read is conditional and costs no rate limit. Alone in its file
//! because it sets the token in the process environment.

mod github_support;

use github_support::*;
use lapse::github::ResponseCache;

/// Answers logged from `from` on, by status.
fn statuses_since(world: &World, from: usize) -> Vec<u16> {
    world.github.requests()[from..]
        .iter()
        .map(|r| r.status)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_roster_in_a_repository_is_read_again_conditionally_by_a_long_running_process() {
    let world = world();
    let files = files(world.github.base_url(), Auth::Token, ROSTER);
    let config_path = files.config();
    let config = std::fs::read_to_string(&config_path).unwrap();
    std::fs::write(
        &config_path,
        config.replace(
            "roster: users.yaml",
            "roster: github:acme/access/users.yaml",
        ),
    )
    .unwrap();
    world.github.file("acme", "access", "users.yaml", ROSTER);
    // SAFETY: this file holds one test, so no other thread reads the environment meanwhile.
    unsafe { std::env::set_var(TOKEN_ENV, TOKEN) };
    let kept = lapse::engine::Kept {
        github_responses: Some(ResponseCache::new()),
    };
    let now = lapse::when::parse_time(NOW, lapse::when::DayEdge::Start).unwrap();

    let first = lapse::engine::load_inputs(&config_path, now, &kept)
        .await
        .unwrap_or_else(|d| panic!("{d}"));
    let second = lapse::engine::load_inputs(&config_path, now, &kept)
        .await
        .unwrap_or_else(|d| panic!("{d}"));

    assert_eq!(statuses_since(&world, 0), vec![200, 304]);
    assert_eq!((first.roster_requests, second.roster_requests), (1, 1));
    assert_eq!(
        first.loaded.roster.people.len(),
        second.loaded.roster.people.len()
    );
    assert_eq!(world.github.rate_limit().used, 1);
}
