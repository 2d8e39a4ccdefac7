//! Repository contents: how lapse reads a roster kept in GitHub
//! (`roster: github:OWNER/REPO/PATH[@REF]`).

use lapse_test_support::github::FakeGithub;
use octocrab::Octocrab;

const TOKEN: &str = "ghp_contents_test";

fn client(github: &FakeGithub) -> Octocrab {
    github.personal_token(TOKEN);
    Octocrab::builder()
        .base_uri(github.base_url())
        .unwrap()
        .personal_token(TOKEN.to_owned())
        .build()
        .unwrap()
}

fn status_of(error: &octocrab::Error) -> u16 {
    match error {
        octocrab::Error::GitHub { source, .. } => source.status_code.as_u16(),
        other => panic!("expected an error from GitHub, got {other:?}"),
    }
}

#[tokio::test]
async fn a_file_comes_back_base64_in_60_character_lines() {
    let github = FakeGithub::start();
    let roster: String = (0..20)
        .map(|i| format!("- name: Person {i}\n  email: person{i}@example.gov.uk\n"))
        .collect();
    github.file("alphagov", "access", "config/users.yaml", &roster);
    github.file("alphagov", "access", "hello.txt", "hello\n");
    let octocrab = client(&github);

    let items = octocrab
        .repos("alphagov", "access")
        .get_content()
        .path("config/users.yaml")
        .send()
        .await
        .unwrap();
    assert_eq!(items.items.len(), 1);
    let file = &items.items[0];
    assert_eq!(file.r#type, "file");
    assert_eq!(file.encoding.as_deref(), Some("base64"));
    assert_eq!(file.size as usize, roster.len());
    assert_eq!(file.path, "config/users.yaml");
    assert_eq!(file.decoded_content().as_deref(), Some(roster.as_str()));
    let content = file.content.as_deref().unwrap();
    let lines: Vec<&str> = content.split_terminator('\n').collect();
    assert!(lines.len() > 1);
    assert!(lines[..lines.len() - 1].iter().all(|l| l.len() == 60));
    assert!(content.ends_with('\n'));

    // `sha` is git's blob id (`git hash-object`).
    let hello = octocrab
        .repos("alphagov", "access")
        .get_content()
        .path("hello.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(
        hello.items[0].sha,
        "ce013625030ba8dba906f756967f9e9ca394464a"
    );
}

#[tokio::test]
async fn ref_selects_the_version_and_unknown_paths_are_404() {
    let github = FakeGithub::start();
    github.file("alphagov", "access", "users.yaml", "on main\n");
    github.file_at_ref("alphagov", "access", "v1.0", "users.yaml", "at v1.0\n");
    let octocrab = client(&github);
    let repo = || octocrab.repos("alphagov", "access");

    let tagged = repo()
        .get_content()
        .path("users.yaml")
        .r#ref("v1.0")
        .send()
        .await
        .unwrap();
    assert_eq!(
        tagged.items[0].decoded_content().as_deref(),
        Some("at v1.0\n")
    );
    let main = repo()
        .get_content()
        .path("users.yaml")
        .r#ref("main")
        .send()
        .await
        .unwrap();
    assert_eq!(
        main.items[0].decoded_content().as_deref(),
        Some("on main\n")
    );

    let missing = repo()
        .get_content()
        .path("nope.yaml")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&missing), 404);
    let bad_ref = repo()
        .get_content()
        .path("users.yaml")
        .r#ref("no-such-branch")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&bad_ref), 404);
    let no_repo = octocrab
        .repos("alphagov", "elsewhere")
        .get_content()
        .path("users.yaml")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&no_repo), 404);
}

#[tokio::test]
async fn the_raw_media_type_returns_the_bytes_and_directories_list_entries() {
    let github = FakeGithub::start();
    github.file("alphagov", "access", "config/users.yaml", "- name: Jane\n");
    github.file("alphagov", "access", "config/teams/admin.yaml", "x\n");
    let octocrab = client(&github);

    let raw = octocrab
        .repos("alphagov", "access")
        .raw_file("main".to_owned(), "config/users.yaml")
        .await
        .unwrap();
    assert_eq!(raw.status(), 200);
    assert_eq!(
        octocrab.body_to_string(raw).await.unwrap(),
        "- name: Jane\n"
    );

    let listing = octocrab
        .repos("alphagov", "access")
        .get_content()
        .path("config")
        .send()
        .await
        .unwrap();
    let entries: Vec<(&str, &str)> = listing
        .items
        .iter()
        .map(|item| (item.name.as_str(), item.r#type.as_str()))
        .collect();
    assert_eq!(entries, [("teams", "dir"), ("users.yaml", "file")]);
    assert!(listing.items.iter().all(|item| item.content.is_none()));
}

#[tokio::test]
async fn files_over_a_megabyte_come_whole_only_as_raw() {
    let github = FakeGithub::start();
    let big = "#".repeat(1024 * 1024 + 1);
    github.file("alphagov", "access", "big.yaml", &big);
    let octocrab = client(&github);

    let items = octocrab
        .repos("alphagov", "access")
        .get_content()
        .path("big.yaml")
        .send()
        .await
        .unwrap();
    let file = &items.items[0];
    assert_eq!(file.size as usize, big.len());
    assert_eq!(file.encoding.as_deref(), Some("none"));
    assert_eq!(file.content.as_deref(), Some(""));

    let raw = octocrab
        .repos("alphagov", "access")
        .raw_file("main".to_owned(), "big.yaml")
        .await
        .unwrap();
    assert_eq!(octocrab.body_to_string(raw).await.unwrap(), big);
}
