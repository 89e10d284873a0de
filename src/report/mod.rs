//! Outcomes rendered for people (tables, Markdown, host-prefixed object lists) and for programs
//! (JSON with a `schema_version`, NDJSON, CSV, Prometheus text), one module per format, each
//! built host by host as the fleet finishes them and written to any `io::Write`; and saved JSON
//! reports read back and summed. Deciding the exit code is [`crate::app`]'s.

pub mod csv;
pub mod json;
pub mod metrics;
pub mod render;
pub mod run_info;
pub mod saved;
mod spool;
pub mod table;

#[cfg(test)]
mod documents_tests;

use std::io;
use std::time::Duration;

/// Makes remote or inventory text (daemon messages, stderr, names) safe to show to a person:
/// control characters (Unicode Cc) and line or paragraph separators (Zl, Zp) become spaces, and
/// invisible format characters (Cf: bidi overrides such as U+202E, zero-width characters) are
/// dropped, so a host cannot move the cursor, forge lines or reorder what the report says.
/// JSON output is not sanitised: it carries the exact text, escaped by the JSON encoder.
pub fn sanitize(text: &str) -> String {
    let breaks_line = |c: char| c.is_control() || c == '\u{2028}' || c == '\u{2029}';
    if !text
        .chars()
        .any(|c| is_format_character(c) || breaks_line(c))
    {
        // The common case, a whole table of plain names: one copy.
        return text.trim().to_string();
    }
    text.chars()
        .filter(|c| !is_format_character(*c))
        .map(|c| if breaks_line(c) { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_string()
}

/// Unicode general category Cf (Format), as of Unicode 15.1.
fn is_format_character(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{0600}'..='\u{0605}'
            | '\u{061C}'
            | '\u{06DD}'
            | '\u{070F}'
            | '\u{0890}'..='\u{0891}'
            | '\u{08E2}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{110BD}'
            | '\u{110CD}'
            | '\u{13430}'..='\u{1343F}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0001}'
            | '\u{E0020}'..='\u{E007F}'
    )
}

/// A reader that went away (`fleetprune df | head -1`) is not an error: the run ends quietly with
/// the exit code its hosts earned, as ripgrep and the coreutils do.
pub fn quiet_closed_pipe(result: io::Result<()>) -> io::Result<()> {
    match result {
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
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
    fn sanitize_drops_bidi_overrides_and_breaks_forged_lines() {
        assert_eq!(sanitize("evil\u{202E}txt.exe"), "eviltxt.exe");
        assert_eq!(
            sanitize("ok\r\nhost99   ok\u{2028}x\u{2029}y\u{200B}z"),
            "ok  host99   ok x yz"
        );
    }

    #[test]
    fn seconds_have_one_decimal() {
        assert_eq!(seconds(Duration::from_millis(1234)), "1.2s");
    }
}
