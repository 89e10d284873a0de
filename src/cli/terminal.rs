//! Whether a stream gets colour (only a terminal, and never when `NO_COLOR` is set to a non-empty
//! value, <https://no-color.org>), how wide stdout's terminal is, and how an error message that
//! may echo a file's or an argument's text is made safe for a terminal.

use std::io::IsTerminal;

/// Colour on `stream`: a terminal, and no `NO_COLOR`.
pub fn colour(stream: &impl IsTerminal) -> bool {
    stream.is_terminal() && !no_color(std::env::var_os("NO_COLOR"))
}

/// Columns for tables on stdout: `COLUMNS` when set, else the terminal's width; `None` when stdout
/// is not a terminal (a pipe or a file gets full rows).
pub fn terminal_width() -> Option<usize> {
    if let Some(columns) = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|c| *c > 0)
    {
        return Some(columns);
    }
    if !std::io::stdout().is_terminal() {
        return None;
    }
    // SAFETY: TIOCGWINSZ fills a winsize struct we own; the fd is stdout's, open for the process.
    let mut size: libc::winsize = unsafe { std::mem::zeroed() };
    let found = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut size) } == 0;
    (found && size.ws_col > 0).then_some(usize::from(size.ws_col))
}

/// Error messages longer than this many characters keep only their head and tail.
pub const MESSAGE_LIMIT: usize = 400;

/// An error message as it may reach a terminal: controls, line and paragraph separators and
/// Unicode format characters (bidi overrides) go as in remote text ([`crate::report::sanitize`]),
/// and a message echoing a huge input keeps its first and last 200 characters with how many were
/// left out. Errors stay typed; this is only how they are shown.
pub fn terminal_message(message: &str) -> String {
    let clean = crate::report::sanitize(message);
    let length = clean.chars().count();
    if length <= MESSAGE_LIMIT {
        return clean;
    }
    let keep = MESSAGE_LIMIT / 2;
    let head: String = clean.chars().take(keep).collect();
    let tail: String = clean.chars().skip(length - keep).collect();
    format!(
        "{head}… ({} of {length} characters left out) …{tail}",
        length - 2 * keep
    )
}

fn no_color(value: Option<std::ffi::OsString>) -> bool {
    value.is_some_and(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_color_counts_only_when_not_empty() {
        assert!(no_color(Some("1".into())));
        assert!(!no_color(Some("".into())));
        assert!(!no_color(None));
    }

    #[test]
    fn messages_lose_control_and_bidi_characters() {
        assert_eq!(
            terminal_message("farm.yaml:3:5: all.hosts.a\u{1b}[2J\rb\nc\u{202E}d: bad"),
            "farm.yaml:3:5: all.hosts.a [2J b cd: bad"
        );
    }

    #[test]
    fn a_message_echoing_a_huge_input_keeps_its_head_and_tail() {
        let message = format!("--limit \"{}\": no host", ",".repeat(10_000));
        let shown = terminal_message(&message);
        assert!(shown.chars().count() < 500, "{shown}");
        assert!(shown.starts_with("--limit \",,,"), "{shown}");
        assert!(
            shown.contains("… (9619 of 10019 characters left out) …"),
            "{shown}"
        );
        assert!(shown.ends_with(",,\": no host"), "{shown}");
        let short = "--limit \"web\": no host";
        assert_eq!(terminal_message(short), short);
    }
}
