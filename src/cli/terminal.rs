//! Whether a stream gets colour (only a terminal, and never when `NO_COLOR` is set to a non-empty
//! value, <https://no-color.org>), and how wide stdout's terminal is.

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
}
