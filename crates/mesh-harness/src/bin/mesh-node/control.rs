//! The control protocol: commands read from stdin (one per line, words separated by spaces) and
//! events written to stdout (one JSON object per line, flushed).

use std::io::Write;
use std::str::FromStr;
use std::time::Instant;

use p2panda_core::PublicKey;
use serde_json::{Map, Value};

/// One command of the control protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `author TOPIC PUBKEY_HEX`: `author` writes a log for `topic`.
    Author {
        /// The topic's name.
        topic: String,
        /// The author.
        author: PublicKey,
    },
    /// `join TOPIC`: subscribe to the topic.
    Join(String),
    /// `publish TOPIC TEXT...`: gossip the rest of the line on a joined topic.
    Publish {
        /// The topic's name.
        topic: String,
        /// The payload.
        text: String,
    },
    /// `write TOPIC N`: append `count` operations to the node's own log.
    Write {
        /// The topic's name.
        topic: String,
        /// How many operations.
        count: usize,
    },
    /// `leave TOPIC`: end the subscription.
    Leave(String),
    /// `stats`: the node's readings.
    Stats,
    /// `peers`: the number of known peers.
    Peers,
    /// `shutdown`: stop the node and exit.
    Shutdown,
}

impl Command {
    /// Parses one line; `Ok(None)` for a blank one. The error says what is wrong.
    pub fn parse(line: &str) -> Result<Option<Self>, String> {
        let line = line.trim_end_matches(['\r', '\n']);
        let Some((name, rest)) = split_word(line) else {
            return Ok(None);
        };
        let command = match name {
            "author" => {
                let (topic, author) = two_words(rest, "author TOPIC PUBKEY_HEX")?;
                let author = PublicKey::from_str(author).map_err(|e| format!("PUBKEY_HEX: {e}"))?;
                Self::Author { topic, author }
            }
            "join" => Self::Join(one_word(rest, "join TOPIC")?),
            "publish" => {
                let usage = "publish TOPIC TEXT...";
                let (topic, text) = split_word(rest)
                    .filter(|(_, text)| !text.is_empty())
                    .ok_or_else(|| format!("usage: {usage}"))?;
                Self::Publish {
                    topic: topic.to_owned(),
                    text: text.to_owned(),
                }
            }
            "write" => {
                let (topic, count) = two_words(rest, "write TOPIC N")?;
                let count = count.parse().map_err(|e| format!("N: {e}"))?;
                Self::Write { topic, count }
            }
            "leave" => Self::Leave(one_word(rest, "leave TOPIC")?),
            "stats" => no_words(rest, Self::Stats)?,
            "peers" => no_words(rest, Self::Peers)?,
            "shutdown" => no_words(rest, Self::Shutdown)?,
            other => return Err(format!("unknown command {other:?}")),
        };
        Ok(Some(command))
    }

    /// The command's name, as `error` events name it.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Author { .. } => "author",
            Self::Join(_) => "join",
            Self::Publish { .. } => "publish",
            Self::Write { .. } => "write",
            Self::Leave(_) => "leave",
            Self::Stats => "stats",
            Self::Peers => "peers",
            Self::Shutdown => "shutdown",
        }
    }
}

/// The first word of `text` and what follows it (without the spaces between); `None` if blank.
fn split_word(text: &str) -> Option<(&str, &str)> {
    let text = text.trim_start();
    if text.is_empty() {
        return None;
    }
    let (word, rest) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
    Some((word, rest.trim_start()))
}

/// Exactly one word.
fn one_word(rest: &str, usage: &str) -> Result<String, String> {
    match rest.split_whitespace().collect::<Vec<_>>()[..] {
        [word] => Ok(word.to_owned()),
        _ => Err(format!("usage: {usage}")),
    }
}

/// Exactly two words: the first owned, the second borrowed for parsing.
fn two_words<'a>(rest: &'a str, usage: &str) -> Result<(String, &'a str), String> {
    match rest.split_whitespace().collect::<Vec<_>>()[..] {
        [first, second] => Ok((first.to_owned(), second)),
        _ => Err(format!("usage: {usage}")),
    }
}

/// `command` if nothing follows it.
fn no_words(rest: &str, command: Command) -> Result<Command, String> {
    match rest.trim() {
        "" => Ok(command),
        _ => Err(format!("{} takes no arguments", command.name())),
    }
}

/// Writes events to stdout: one JSON object per line with `event` and `t_ms` (milliseconds
/// since the process started), flushed after each. Cheap to copy into tasks.
#[derive(Debug, Clone, Copy)]
pub struct Events {
    start: Instant,
}

impl Events {
    /// Events timed from `start`.
    pub fn new(start: Instant) -> Self {
        Self { start }
    }

    /// Writes the event `name` with `fields` (a JSON object; anything else adds no field).
    ///
    /// A stdout that is gone (the driver died) is ignored: the node is shut down by the end of
    /// its stdin instead.
    pub fn emit(&self, name: &str, fields: Value) {
        let line = self.line(name, fields);
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}").and_then(|()| out.flush());
    }

    /// An `error` event for `command`.
    pub fn error(&self, command: &str, message: impl std::fmt::Display) {
        let message = message.to_string();
        self.emit(
            "error",
            serde_json::json!({ "command": command, "message": message }),
        );
    }

    /// The JSON line of an event.
    fn line(&self, name: &str, fields: Value) -> String {
        let mut object = Map::new();
        object.insert("event".to_owned(), name.into());
        let t_ms = self.start.elapsed().as_millis() as u64;
        object.insert("t_ms".to_owned(), t_ms.into());
        if let Value::Object(fields) = fields {
            object.extend(fields);
        }
        Value::Object(object).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<Option<Command>, String> {
        Command::parse(line)
    }

    #[test]
    fn commands_parse() {
        let key = p2panda_core::PrivateKey::new().public_key();
        assert_eq!(
            parse(&format!("author t {}\n", key.to_hex())),
            Ok(Some(Command::Author {
                topic: "t".into(),
                author: key
            }))
        );
        assert_eq!(parse("join t"), Ok(Some(Command::Join("t".into()))));
        assert_eq!(
            parse("publish t  hello  world \r\n"),
            Ok(Some(Command::Publish {
                topic: "t".into(),
                text: "hello  world ".into()
            }))
        );
        assert_eq!(
            parse("write t 3"),
            Ok(Some(Command::Write {
                topic: "t".into(),
                count: 3
            }))
        );
        assert_eq!(parse(" leave t "), Ok(Some(Command::Leave("t".into()))));
        assert_eq!(parse("stats"), Ok(Some(Command::Stats)));
        assert_eq!(parse("peers"), Ok(Some(Command::Peers)));
        assert_eq!(parse("shutdown\n"), Ok(Some(Command::Shutdown)));
        assert_eq!(parse("   \n"), Ok(None));
    }

    #[test]
    fn bad_commands_say_why() {
        for line in [
            "frobnicate",
            "join",
            "join a b",
            "publish t",
            "write t x",
            "author t nothex",
            "stats now",
        ] {
            assert!(parse(line).is_err(), "{line:?} parsed");
        }
    }

    #[test]
    fn events_carry_name_time_and_fields() {
        let line = Events::new(Instant::now()).line("peers", serde_json::json!({ "count": 2 }));
        let value: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(value["event"], "peers");
        assert_eq!(value["count"], 2);
        assert!(value["t_ms"].is_u64());
        assert!(!line.contains('\n'));
    }
}
