//! Outcomes rendered for people (tables, docker-style lists) and for programs (one JSON document
//! with a `schema_version`), written to any `io::Write`. Deciding the exit code is [`crate::app`]'s.

pub mod human_size;
pub mod json;
pub mod table;

use std::time::Duration;

pub use human_size::human_size;

/// Replaces control characters in remote text (daemon messages, stderr) before it reaches a
/// terminal, so a host cannot move the cursor or change colours in our report.
pub fn sanitize(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_string()
}

/// `1.2s`, as a table cell.
pub fn seconds(duration: Duration) -> String {
    format!("{:.1}s", duration.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_removes_terminal_escapes() {
        assert_eq!(sanitize("bad\u{1b}[2Jthing\n"), "bad [2Jthing");
    }

    #[test]
    fn seconds_have_one_decimal() {
        assert_eq!(seconds(Duration::from_millis(1234)), "1.2s");
    }
}
