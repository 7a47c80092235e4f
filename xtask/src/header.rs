//! A patch's header as `git format-patch` writes it: the subject, then the fields every patch in
//! `series/` carries (docs/patch-workflow.md): Problem, Cause, Fix, Test, Upstream-Status.

/// The fields every patch header must carry, in order.
pub const FIELDS: [&str; 5] = ["Problem", "Cause", "Fix", "Test", "Upstream-Status"];

/// What the generated index takes from a cause: whole clauses up to about two lines of text.
const SUMMARY_CHARS: usize = 240;

/// The parsed header of one patch.
#[derive(Debug, Default)]
pub struct Header {
    /// The subject line, unfolded, without `[PATCH]`.
    pub subject: String,
    /// The header text before the diff (subject and body), for searching it.
    pub text: String,
    fields: Vec<(&'static str, String)>,
}

impl Header {
    /// Parses the text of a patch file; only what comes before the diff is read.
    pub fn parse(patch: &str) -> Header {
        let text = patch.split("\n---\n").next().unwrap_or("");
        let (mail, body) = text.split_once("\n\n").unwrap_or((text, ""));
        Header {
            subject: subject(mail),
            text: text.to_string(),
            fields: fields(body),
        }
    }

    /// A field's text with its lines joined, if the header has it.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The cause in about two lines: its first clauses, ending with " ..." when shortened.
    pub fn cause_summary(&self) -> Option<String> {
        self.field("Cause").map(|cause| capitalise(&summary(cause)))
    }

    /// The first test path (`a::b::test_name`) the Test field names, if any.
    pub fn first_test(&self) -> Option<String> {
        let test = self.field("Test")?;
        test.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
            .map(|word| word.trim_end_matches(':'))
            .find(|word| is_test_path(word))
            .map(str::to_string)
    }
}

/// The subject from the mail headers, unfolded, with a leading `[PATCH ...]` removed.
fn subject(mail: &str) -> String {
    let mut lines = mail.lines().skip_while(|l| !l.starts_with("Subject:"));
    let Some(first) = lines.next() else {
        return String::new();
    };
    let mut subject = first["Subject:".len()..].trim().to_string();
    for folded in lines.take_while(|l| l.starts_with([' ', '\t'])) {
        subject.push(' ');
        subject.push_str(folded.trim());
    }
    match subject.strip_prefix('[').and_then(|s| s.split_once("] ")) {
        Some((_, rest)) => rest.to_string(),
        None => subject,
    }
}

/// The known fields of a header body; a field runs until the next one starts a line.
fn fields(body: &str) -> Vec<(&'static str, String)> {
    let mut fields: Vec<(&'static str, String)> = Vec::new();
    for line in body.lines() {
        let started = FIELDS.iter().find_map(|name| {
            let rest = line.strip_prefix(name)?.strip_prefix(':')?;
            Some((*name, rest.trim().to_string()))
        });
        match (started, fields.last_mut()) {
            (Some(field), _) => fields.push(field),
            (None, Some((_, text))) if !line.trim().is_empty() => {
                text.push(' ');
                text.push_str(line.trim());
            }
            _ => {}
        }
    }
    fields
}

/// Whole clauses of `text` (ending in ". " or "; ") that fit in [`SUMMARY_CHARS`]; at least one.
fn summary(text: &str) -> String {
    let text = text.trim();
    if text.len() <= SUMMARY_CHARS {
        return text.to_string();
    }
    let mut end = 0;
    for (at, _) in text.match_indices(['.', ';']) {
        let after = at + 1;
        let boundary = text[after..].starts_with(' ') && !ends_with_abbreviation(&text[..after]);
        if !boundary {
            continue;
        }
        if after > SUMMARY_CHARS && end > 0 {
            break;
        }
        end = after;
    }
    if end == 0 {
        return text.to_string();
    }
    let clause = text[..end].trim_end_matches(';');
    let clause = clause.trim_end_matches('.');
    format!("{clause} ...")
}

fn ends_with_abbreviation(text: &str) -> bool {
    ["e.g.", "i.e.", "etc.", "vs."]
        .iter()
        .any(|a| text.ends_with(a))
}

/// Upper-cases the first letter when the first word is a plain lowercase word (not a path or
/// an identifier, which keep their spelling).
fn capitalise(text: &str) -> String {
    let first_word = text.split(' ').next().unwrap_or("");
    if !first_word
        .chars()
        .all(|c| c.is_ascii_lowercase() || c == '\'')
    {
        return text.to_string();
    }
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_ascii_uppercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

/// `module::path::test_name`: at least two segments, each an identifier, the last one a test's
/// name (not `tests` itself, not a glob like `prefix_*`).
fn is_test_path(word: &str) -> bool {
    let segments: Vec<&str> = word.split("::").collect();
    let identifier = |s: &&str| {
        !s.is_empty()
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !s.starts_with(|c: char| c.is_ascii_digit())
    };
    let last = segments.last().copied().unwrap_or("");
    segments.len() >= 2
        && segments.iter().all(identifier)
        && !["test", "tests"].contains(&last)
        && !last.ends_with('_')
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATCH: &str = "From 0000 Mon Sep 17 00:00:00 2001\nFrom: a <a@b>\nDate: x\n\
        Subject: [PATCH] net: forget a peer when its dial fails or its last\n connection closes\n\n\
        Problem: peers stay.\nCause: the dialer only logs a failed dial;\nnothing removes it.\n\
        Fix: remove it.\nTest: net::test::{a, b} and net::test::dial_failure_forgets_pending_peer\n\
        (upstream: times out).\nUpstream-Status: not yet forwarded\n---\n src/net.rs | 2 +-\n";

    #[test]
    fn parses_subject_and_fields() {
        let header = Header::parse(PATCH);
        assert_eq!(
            header.subject,
            "net: forget a peer when its dial fails or its last connection closes"
        );
        assert_eq!(
            header.field("Cause"),
            Some("the dialer only logs a failed dial; nothing removes it.")
        );
        assert_eq!(header.field("Upstream-Status"), Some("not yet forwarded"));
        assert!(!header.text.contains("src/net.rs |"));
    }

    #[test]
    fn the_first_test_path_skips_module_groups() {
        assert_eq!(
            Header::parse(PATCH).first_test().as_deref(),
            Some("net::test::dial_failure_forgets_pending_peer")
        );
        assert!(!is_test_path("gossip::tests::lone_bootstrap_node_"));
        assert!(!is_test_path("memory::capacity_tests::"));
    }

    #[test]
    fn a_long_cause_is_cut_after_a_whole_clause() {
        let long = format!("first clause, e.g. this; {}. Rest.", "x".repeat(300));
        assert_eq!(summary(&long), "first clause, e.g. this ...");
        assert_eq!(capitalise("the map"), "The map");
        assert_eq!(capitalise("src/net.rs keeps"), "src/net.rs keeps");
    }
}
