//! The series the alert rules select on: every vector selector of every `expr:` in
//! `ops/alerts.yml`, with its label matchers, and whether a scrape holds a series it matches.

use regex::Regex;

/// A label matcher of a selector: `label op "value"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matcher {
    /// The label.
    pub label: String,
    /// `=`, `!=`, `=~` or `!~`.
    pub op: String,
    /// The value or regular expression.
    pub value: String,
}

impl Matcher {
    /// Whether a series whose label has `value` (`None`: no such label) satisfies the matcher.
    pub fn matches(&self, value: Option<&str>) -> bool {
        let value = value.unwrap_or("");
        // PromQL anchors regular expressions at both ends.
        let re = || Regex::new(&format!("^(?:{})$", self.value)).expect("matcher regex");
        match self.op.as_str() {
            "=" => value == self.value,
            "!=" => value != self.value,
            "=~" => re().is_match(value),
            "!~" => !re().is_match(value),
            op => panic!("unknown matcher operator {op}"),
        }
    }
}

/// A vector selector: a metric name and its matchers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    /// The alert whose expression holds it.
    pub alert: String,
    /// The metric name.
    pub name: String,
    /// Its label matchers.
    pub matchers: Vec<Matcher>,
}

impl Selector {
    /// Whether a scraped series (`name{labels}` as written in an exposition) matches it.
    pub fn matches(&self, series: &str) -> bool {
        let (name, labels) = split_series(series);
        name == self.name
            && self.matchers.iter().all(|m| {
                let value = labels
                    .iter()
                    .find(|(l, _)| *l == m.label)
                    .map(|(_, v)| v.as_str());
                m.matches(value)
            })
    }
}

/// Words of PromQL that are not metric names.
const KEYWORDS: &[&str] = &[
    "and",
    "or",
    "unless",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "offset",
];

/// Every selector of every rule in `yaml` (the text of an alert rules file).
pub fn selectors(yaml: &str) -> Vec<Selector> {
    let mut alert = String::new();
    let mut out = Vec::new();
    for line in yaml.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix("- alert:") {
            alert = name.trim().to_owned();
        } else if let Some(expr) = line.strip_prefix("expr:") {
            out.extend(
                expr_selectors(expr.trim())
                    .into_iter()
                    .map(|(name, matchers)| Selector {
                        alert: alert.clone(),
                        name,
                        matchers,
                    }),
            );
        }
    }
    out
}

/// The selectors of one expression: identifiers that are neither functions, keywords, label
/// names nor durations, with the matchers in the braces that follow them.
fn expr_selectors(expr: &str) -> Vec<(String, Vec<Matcher>)> {
    let chars: Vec<char> = expr.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '[' {
            // A range: skip the duration.
            while i < chars.len() && chars[i] != ']' {
                i += 1;
            }
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += 1;
            }
        } else if c.is_ascii_alphabetic() || c == '_' || c == ':' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || "_:".contains(chars[i])) {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let mut next = i;
            while next < chars.len() && chars[next].is_whitespace() {
                next += 1;
            }
            let follows = chars.get(next).copied();
            if follows == Some('(') || KEYWORDS.contains(&word.as_str()) {
                continue;
            }
            let mut matchers = Vec::new();
            if follows == Some('{') {
                let close = (next..chars.len())
                    .find(|&k| chars[k] == '}')
                    .expect("unclosed selector");
                let inner: String = chars[next + 1..close].iter().collect();
                matchers = parse_matchers(&inner);
                i = close + 1;
            }
            out.push((word, matchers));
            continue;
        }
        i += 1;
    }
    out
}

/// `label="value", label=~"re"` into matchers.
fn parse_matchers(text: &str) -> Vec<Matcher> {
    let re = Regex::new(r#"([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"([^"]*)""#).unwrap();
    re.captures_iter(text)
        .map(|c| Matcher {
            label: c[1].to_owned(),
            op: c[2].to_owned(),
            value: c[3].to_owned(),
        })
        .collect()
}

/// A scraped series `name{a="x",b="y"}` as its name and labels.
fn split_series(series: &str) -> (&str, Vec<(&str, String)>) {
    let Some((name, rest)) = series.split_once('{') else {
        return (series, Vec::new());
    };
    let labels = Regex::new(r#"([a-zA-Z_][a-zA-Z0-9_]*)="([^"]*)""#)
        .unwrap()
        .captures_iter(rest.trim_end_matches('}'))
        .map(|c| (c.get(1).unwrap().as_str(), c[2].to_owned()))
        .collect();
    (name, labels)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_of_an_expression() {
        let sel = selectors(
            "- alert: A\n  expr: mesh_structure_size{kind=\"limit\"} / mesh_structure_bound{kind=\"limit\"} > 0.8\n\
             - alert: B\n  expr: deriv(heap_bytes[1h]) > 1048576 / 3600 or rate(x_total[15m]) > 1\n",
        );
        let names: Vec<_> = sel
            .iter()
            .map(|s| (s.alert.as_str(), s.name.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("A", "mesh_structure_size"),
                ("A", "mesh_structure_bound"),
                ("B", "heap_bytes"),
                ("B", "x_total"),
            ]
        );
        assert!(sel[0].matches(r#"mesh_structure_size{structure="p",kind="limit"}"#));
        assert!(!sel[0].matches(r#"mesh_structure_size{structure="p",kind="capacity"}"#));
        assert!(sel[2].matches("heap_bytes"));
    }

    #[test]
    fn regex_matchers_are_anchored() {
        let sel = &selectors("- alert: C\n  expr: s{structure=~\".*incoming_pending\"} > 1\n")[0];
        assert!(sel.matches(r#"s{structure="iroh_quinn_proto_incoming_pending",kind="limit"}"#));
        assert!(!sel.matches(r#"s{structure="incoming_pending_x"}"#));
    }
}
