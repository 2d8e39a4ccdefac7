//! The review for people: a document to file with the audit evidence or
//! post as a pull-request comment. Every value that came from the config,
//! the roster or the systems is escaped, so a name cannot hide a row.

use std::fmt::Write as _;

use super::{
    Holder, Observed, Review, activity_words, held_as_words, level_words, not_a_person,
    requirement_words, temporary_words,
};
use crate::hygiene::{markdown_code as code, markdown_text as cell};
use crate::model::Action;
use crate::when::show;

pub fn render(review: &Review) -> String {
    let mut out = String::new();
    header(&mut out, review);
    counts(&mut out, review);
    let _ = writeln!(out, "\n### Holders");
    if review.holders.is_empty() {
        let _ = writeln!(out, "\nNobody holds any managed team or role.");
    }
    for ((system, target), holders) in review.by_target() {
        let _ = writeln!(out, "\n#### `{}` ({system})\n", code(target));
        let _ = writeln!(
            out,
            "| principal | held as | person | grounds | attestations | temporary grant | last IAM activity | finding |"
        );
        let _ = writeln!(out, "| --- | --- | --- | --- | --- | --- | --- | --- |");
        for h in holders {
            holder_row(&mut out, h);
        }
    }
    missing(&mut out, review);
    if !review.notes.is_empty() {
        let _ = writeln!(out, "\n### Notes\n");
        for n in &review.notes {
            let _ = writeln!(out, "- {}", cell(n));
        }
    }
    out
}

fn header(out: &mut String, review: &Review) {
    let h = &review.header;
    let _ = writeln!(out, "## lapse access review\n");
    let _ = writeln!(out, "| | |\n| --- | --- |");
    let _ = writeln!(
        out,
        "| generated_at | {} |",
        super::time_words(h.generated_at)
    );
    let _ = writeln!(out, "| now | {} |", super::time_words(h.now));
    let _ = writeln!(out, "| run_id | `{}` |", code(&h.run_id));
    let _ = writeln!(out, "| lapse version | {} |", cell(&h.lapse_version));
    let _ = writeln!(
        out,
        "| roster | `{}`, sha256 `{}` |",
        code(&h.roster.source),
        h.roster.sha256
    );
    if let Some(git) = &h.roster.git {
        let at = match &git.reference {
            Some(r) => format!("at ref `{}`", code(r)),
            None => "on the default branch".into(),
        };
        let _ = writeln!(out, "| roster in git | blob `{}` {at} |", git.blob_sha);
    }
    let _ = writeln!(
        out,
        "| config | `{}`, sha256 `{}` |",
        code(&h.config.path),
        h.config.sha256
    );
    let observed = match &h.observed {
        Observed::Live => "live, from the systems".to_string(),
        Observed::Snapshot { path } => format!("snapshot `{}`", code(path)),
    };
    let _ = writeln!(out, "| observed | {observed} |");
}

fn counts(out: &mut String, review: &Review) {
    let c = &review.header.counts;
    let _ = writeln!(out, "\n### Counts\n");
    let _ = writeln!(
        out,
        "| level | standing | temporary | grants held |\n| --- | --- | --- | --- |"
    );
    for l in &c.levels {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            cell(&l.level),
            l.standing,
            l.temporary,
            l.grants_held
        );
    }
    let _ = writeln!(
        out,
        "\n| system | teams or roles | holders | pending invitations | drift | missing |\n| --- | --- | --- | --- | --- | --- |"
    );
    for s in &c.systems {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            s.system, s.targets, s.holders, s.invitations, s.drift, s.missing
        );
    }
}

fn holder_row(out: &mut String, h: &Holder) {
    let (person, grounds, attestations, temporary) = match &h.person {
        Some(p) => {
            let person = match &p.name {
                Some(name) => format!("{}<br>{}", cell(name), cell(&p.email)),
                None => cell(&p.email),
            };
            let mut grounds: Vec<String> = p
                .levels
                .iter()
                .map(|g| {
                    format!(
                        "{}, requires {}",
                        cell(&level_words(g)),
                        cell(&requirement_words(g))
                    )
                })
                .collect();
            if grounds.is_empty() {
                grounds.push("the roster gives them no level that grants this".into());
            }
            if let Some(since) = p.absent_since {
                grounds.push(format!("absent since {}", show(since)));
            }
            if h.protected {
                grounds.push("protected (safety.protected)".into());
            }
            let temporary: Vec<String> = p
                .levels
                .iter()
                .filter_map(|g| g.temporary.as_ref().map(|t| (g, t)))
                .map(|(g, t)| format!("{}: {}", cell(&g.level), cell(&temporary_words(t))))
                .collect();
            (
                person,
                grounds.join("<br>"),
                cell(&p.attestations.join(", ")),
                temporary.join("<br>"),
            )
        }
        None => (
            "—".into(),
            not_a_person(h).into(),
            String::new(),
            String::new(),
        ),
    };
    let findings: Vec<String> = h
        .findings
        .iter()
        .map(|f| {
            let action = if f.action == Action::Revoke {
                ", **revoke**"
            } else {
                ""
            };
            format!("{}{action}: {}", f.kind, cell(&f.reason))
        })
        .collect();
    let _ = writeln!(
        out,
        "| `{}` | {} | {person} | {grounds} | {attestations} | {temporary} | {} | {} |",
        code(&h.principal),
        cell(&held_as_words(h)),
        activity_words(h.activity.as_ref()),
        findings.join("<br>")
    );
}

fn missing(out: &mut String, review: &Review) {
    if review.missing.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n### Entitled but not held\n");
    let _ = writeln!(
        out,
        "| system | target | principal | person | reason |\n| --- | --- | --- | --- | --- |"
    );
    for m in &review.missing {
        let _ = writeln!(
            out,
            "| {} | `{}` | `{}` | {} | {} |",
            m.system,
            code(&m.target),
            code(&m.principal),
            cell(&m.person),
            cell(&m.reason)
        );
    }
}
