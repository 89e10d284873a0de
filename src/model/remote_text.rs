//! Text from a remote host kept in a report, bounded so a hostile host cannot bloat it.

/// Remote strings kept for the report (engine version, error messages) are cut to this many
/// characters.
pub const REMOTE_STRING_LIMIT: usize = 256;

/// Cuts remote text kept in the report to [`REMOTE_STRING_LIMIT`] characters, marking the cut.
pub fn bounded_remote_string(text: &str) -> String {
    match text.char_indices().nth(REMOTE_STRING_LIMIT) {
        Some((end, _)) => format!("{}… ({} bytes in all)", &text[..end], text.len()),
        None => text.to_string(),
    }
}
