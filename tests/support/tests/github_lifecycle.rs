//! The fake from a plain `#[test]` (as tests that run the lapse binary use it):
//! it serves without the caller having a runtime, and stops when dropped even
//! with a client connection still open.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use lapse_test_support::github::{FakeGithub, Role};

/// One HTTP/1.1 request over a fresh connection; returns the status line and
/// the open stream (kept alive by the server).
fn raw_get(base_url: &str, path: &str, token: &str) -> (String, String, TcpStream) {
    let address = base_url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).expect("connect to the fake");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: token {token}\r\n\
         Accept: application/vnd.github+json\r\nUser-Agent: lapse-test\r\n\r\n"
    )
    .unwrap();
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    // Read until the whole JSON body (a complete array) has arrived.
    loop {
        let n = stream.read(&mut buffer).expect("read the response");
        received.extend_from_slice(&buffer[..n]);
        let text = String::from_utf8_lossy(&received);
        if n == 0 || text.trim_end().ends_with(']') || text.trim_end().ends_with('}') {
            break;
        }
    }
    let text = String::from_utf8_lossy(&received).into_owned();
    let status = text.lines().next().unwrap_or_default().to_owned();
    (status, text, stream)
}

#[test]
fn serves_plain_tests_and_stops_on_drop() {
    let github = FakeGithub::start();
    github.personal_token("ghp_plain");
    github
        .org("alphagov")
        .team("gov-uk-production-admin")
        .member("janedoe", Role::Member);
    let base_url = github.base_url().to_owned();

    let (status, text, open_connection) = raw_get(
        &base_url,
        "/orgs/alphagov/teams/gov-uk-production-admin/members",
        "ghp_plain",
    );
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(text.contains("\"login\":\"janedoe\""), "{text}");
    assert!(
        text.to_ascii_lowercase()
            .contains("x-ratelimit-remaining: 4999")
    );

    let (status, _, _) = raw_get(&base_url, "/orgs/alphagov/teams", "ghp_wrong");
    assert_eq!(status, "HTTP/1.1 401 Unauthorized");
    assert_eq!(github.request_count(), 2);

    let started = Instant::now();
    drop(github);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "an open keep-alive connection must not hold up shutdown"
    );
    drop(open_connection);
    let address = base_url.trim_start_matches("http://");
    assert!(
        TcpStream::connect(address).is_err(),
        "the port is closed after drop"
    );
}

#[test]
fn two_fakes_run_side_by_side_on_their_own_ports() {
    let first = FakeGithub::start();
    let second = FakeGithub::start();
    assert_ne!(first.base_url(), second.base_url());
    first.personal_token("ghp_first");
    second.personal_token("ghp_second");
    first.org("one").team("t");
    second.org("two").team("t");

    let (status, _, _) = raw_get(first.base_url(), "/orgs/one/teams", "ghp_first");
    assert_eq!(status, "HTTP/1.1 200 OK");
    let (status, _, _) = raw_get(second.base_url(), "/orgs/one/teams", "ghp_second");
    assert_eq!(status, "HTTP/1.1 404 Not Found");
}
