//! OpenSSH's `match_pattern`: `*` matches any run of characters, `?` exactly one. Shared by the
//! ssh config reader (`Host` and `Match` patterns) and known_hosts host patterns.

/// Whether `text` matches `pattern`, comparing characters exactly.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let (pattern, text) = (pattern.as_bytes(), text.as_bytes());
    let (mut p, mut t) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == b'?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == b'*' {
            backtrack = Some((p, t));
            p += 1;
        } else if let Some((star, matched)) = backtrack {
            p = star + 1;
            t = matched + 1;
            backtrack = Some((star, matched + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|c| *c == b'*')
}

/// Whether `pattern` contains a wildcard (a plain name can be looked up instead of matched).
pub fn has_wildcard(pattern: &str) -> bool {
    pattern.contains(['*', '?'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_follow_openssh() {
        assert!(wildcard_match("web-??", "web-01"));
        assert!(!wildcard_match("web-??", "web-001"));
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match("a*b*c", "axxbyyc"));
        assert!(!wildcard_match("a*b", "ac"));
        assert!(wildcard_match("[10.0.0.?]:*", "[10.0.0.5]:2222"));
    }
}
