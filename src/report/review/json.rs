//! The review for scripts: the model as it stands, versioned like the report.

use serde::Serialize;

use super::Review;

#[derive(Serialize)]
struct JsonReview<'a> {
    version: u32,
    command: &'static str,
    #[serde(flatten)]
    review: &'a Review,
}

pub fn render(review: &Review) -> String {
    let json = JsonReview {
        version: 1,
        command: "review",
        review,
    };
    let mut out = serde_json::to_string_pretty(&json).expect("a review always serialises");
    out.push('\n');
    out
}
