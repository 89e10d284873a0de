//! Ansible host ranges in inventory host names: `build-[01:20]`, `db-[a:c]`, `web[0:10:2]`.
//!
//! Follows Ansible's `expand_hostname_range`: ranges expand left to right (a cartesian product in
//! that order), a zero-padded start fixes the width, letters step through `a..z` then `A..Z`, and
//! an optional third field is the stride. Unlike Ansible, a range whose start lies after its end
//! is an error rather than silently expanding to no hosts.

/// The most names one pattern may expand to.
pub const MAX_EXPANDED_HOSTS: usize = 100_000;

/// Python's `string.ascii_letters`, the alphabet Ansible's letter ranges walk through.
const ASCII_LETTERS: &[u8; 52] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// Why a host pattern could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostRangeError {
    /// A `[` with no `]` after it.
    #[error("host pattern {pattern:?}: unclosed '[' (a range looks like [01:20])")]
    UnclosedBracket { pattern: String },
    /// A `]` before the first `[`.
    #[error("host pattern {pattern:?}: ']' without a matching '['")]
    UnopenedBracket { pattern: String },
    /// Not `begin:end` or `begin:end:step`.
    #[error("host pattern {pattern:?}: range [{range}] must be begin:end or begin:end:step")]
    BadShape { pattern: String, range: String },
    /// `[1:]`.
    #[error("host pattern {pattern:?}: range [{range}] has no end value")]
    MissingEnd { pattern: String, range: String },
    /// A bound that is neither a number nor a single letter.
    #[error(
        "host pattern {pattern:?}: range bound {bound:?} is neither a number nor a single letter"
    )]
    InvalidBound { pattern: String, bound: String },
    /// One bound a letter, the other a number.
    #[error(
        "host pattern {pattern:?}: range [{range}] mixes a letter and a number; \
         use [a:f] or [1:6]"
    )]
    MixedBounds { pattern: String, range: String },
    /// `[5:1]`, `[c:a]`.
    #[error("host pattern {pattern:?}: range [{range}] starts after it ends")]
    StartAfterEnd { pattern: String, range: String },
    /// A zero-padded start and an end of another width, e.g. `[01:100]`.
    #[error(
        "host pattern {pattern:?}: range [{range}] has a zero-padded start, \
         so begin and end must have the same number of digits"
    )]
    UnequalWidth { pattern: String, range: String },
    /// `[0:10:0]`.
    #[error("host pattern {pattern:?}: range [{range}] has a step of zero")]
    ZeroStride { pattern: String, range: String },
    /// A step that is not a positive whole number.
    #[error("host pattern {pattern:?}: range [{range}] needs a positive whole number as its step")]
    InvalidStride { pattern: String, range: String },
    /// `web1:99999`.
    #[error("host pattern {pattern:?}: port {port:?} must be between 1 and 65535")]
    BadPort { pattern: String, port: String },
    /// The expansion would be too large.
    #[error("host pattern {pattern:?} expands to more than {limit} host names")]
    TooManyNames { pattern: String, limit: usize },
}

/// A host pattern as written in an inventory: the names it expands to and its port, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPattern {
    pub names: Vec<String>,
    pub port: Option<u16>,
}

/// Reads a host pattern as Ansible's `parse_address` does: `name`, `name:port`,
/// `web[01:03]:2222`, `[2001:db8::20]:2222` (brackets around an address with a port), or a bare
/// IPv6 address; then expands ranges in the name.
pub fn parse_host_pattern(pattern: &str) -> Result<HostPattern, HostRangeError> {
    let (name, port) = split_port(pattern);
    let port = port
        .map(|port| {
            port.parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or_else(|| HostRangeError::BadPort {
                    pattern: pattern.to_string(),
                    port: port.to_string(),
                })
        })
        .transpose()?;
    let names = if name.parse::<std::net::Ipv6Addr>().is_ok() {
        // An IPv6 address: brackets in it are not ranges.
        vec![name.to_string()]
    } else {
        expand_host_pattern(name)?
    };
    Ok(HostPattern { names, port })
}

/// Splits `name:port`; the name may hold ranges (`[1:3]`), and `[address]:port` brackets an
/// address that contains colons.
fn split_port(pattern: &str) -> (&str, Option<&str>) {
    let is_port = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if let Some(inner) = pattern.strip_prefix('[')
        && let Some((address, port)) = inner.rsplit_once("]:")
        && address.contains(':')
        && address.matches(':').count() > 1
        && is_port(port)
    {
        return (address, Some(port));
    }
    // A colon outside brackets separates the port, if it is the only one.
    let mut depth = 0usize;
    let mut colons = Vec::new();
    for (at, c) in pattern.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            ':' if depth == 0 => colons.push(at),
            _ => {}
        }
    }
    match colons.as_slice() {
        [at] if is_port(&pattern[at + 1..]) => (&pattern[..*at], Some(&pattern[at + 1..])),
        _ => (pattern, None),
    }
}

/// Expands every `[begin:end]` / `[begin:end:step]` range in `pattern`, in order.
///
/// A name without `[` is returned as it is. Numeric ranges keep the width of a zero-padded start
/// (`[01:20]` → `01`…`20`; `[1:20]` → `1`…`20`); an empty start means `0` as in Ansible. Letter
/// ranges take single letters (`[a:c]`, `[y:B]` → `y z A B`). Several ranges multiply:
/// `rack[1:2]-node[01:03]` → `rack1-node01, rack1-node02, rack1-node03, rack2-node01, …`.
pub fn expand_host_pattern(pattern: &str) -> Result<Vec<String>, HostRangeError> {
    if !pattern.contains('[') {
        return Ok(vec![pattern.to_string()]);
    }
    let segments = parse_segments(pattern)?;

    let too_many = || HostRangeError::TooManyNames {
        pattern: pattern.to_string(),
        limit: MAX_EXPANDED_HOSTS,
    };
    let mut total: usize = 1;
    for segment in &segments {
        if let Segment::Range(range) = segment {
            total = range
                .len()
                .and_then(|len| total.checked_mul(len))
                .filter(|&t| t <= MAX_EXPANDED_HOSTS)
                .ok_or_else(too_many)?;
        }
    }

    let mut names = vec![String::new()];
    for segment in &segments {
        match segment {
            Segment::Literal(text) => names.iter_mut().for_each(|n| n.push_str(text)),
            Segment::Range(range) => {
                names = names
                    .iter()
                    .flat_map(|prefix| range.values().map(move |v| format!("{prefix}{v}")))
                    .collect();
            }
        }
    }
    Ok(names)
}

/// A pattern split into literal text and ranges.
enum Segment<'a> {
    Literal(&'a str),
    Range(Range),
}

/// One validated range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Range {
    /// `start..=end` by `step`, left-padded with zeros to `width` (0 = no padding).
    Numeric {
        start: u64,
        end: u64,
        step: u64,
        width: usize,
    },
    /// Indexes into [`ASCII_LETTERS`].
    Letters { start: usize, end: usize, step: u64 },
}

impl Range {
    /// How many values the range yields (`None` if that does not fit in `usize`).
    fn len(&self) -> Option<usize> {
        let (span, step) = match *self {
            Range::Numeric {
                start, end, step, ..
            } => (end - start, step),
            Range::Letters { start, end, step } => (u64::try_from(end - start).ok()?, step),
        };
        usize::try_from(span / step).ok()?.checked_add(1)
    }

    /// The values, in order.
    fn values(&self) -> Box<dyn Iterator<Item = String> + '_> {
        match *self {
            Range::Numeric {
                start,
                end,
                step,
                width,
            } => {
                let step = usize::try_from(step).unwrap_or(usize::MAX);
                Box::new(
                    (start..=end)
                        .step_by(step)
                        .map(move |n| format!("{n:0width$}")),
                )
            }
            Range::Letters { start, end, step } => {
                let step = usize::try_from(step).unwrap_or(usize::MAX);
                Box::new(
                    ASCII_LETTERS
                        .get(start..=end)
                        .unwrap_or_default()
                        .iter()
                        .step_by(step)
                        .map(|&c| char::from(c).to_string()),
                )
            }
        }
    }
}

/// Splits at each `[`…`]` (the first `]` after each `[`, as Ansible does).
fn parse_segments(pattern: &str) -> Result<Vec<Segment<'_>>, HostRangeError> {
    let mut segments = Vec::new();
    let mut rest = pattern;
    while let Some(open) = rest.find('[') {
        let (head, after_open) = (&rest[..open], &rest[open + 1..]);
        if head.contains(']') {
            return Err(HostRangeError::UnopenedBracket {
                pattern: pattern.to_string(),
            });
        }
        let close = after_open
            .find(']')
            .ok_or_else(|| HostRangeError::UnclosedBracket {
                pattern: pattern.to_string(),
            })?;
        segments.push(Segment::Literal(head));
        segments.push(Segment::Range(parse_range(pattern, &after_open[..close])?));
        rest = &after_open[close + 1..];
    }
    // A stray ']' after the last range stays part of the name, as in Ansible.
    segments.push(Segment::Literal(rest));
    Ok(segments)
}

/// Parses `begin:end[:step]`.
fn parse_range(pattern: &str, body: &str) -> Result<Range, HostRangeError> {
    let pattern_s = || pattern.to_string();
    let range_s = || body.to_string();
    let fields: Vec<&str> = body.split(':').collect();
    let (begin, end, step) = match fields.as_slice() {
        [b, e] => (*b, *e, None),
        [b, e, s] => (*b, *e, Some(*s)),
        _ => {
            return Err(HostRangeError::BadShape {
                pattern: pattern_s(),
                range: range_s(),
            });
        }
    };
    // Ansible: an empty begin means 0.
    let begin = if begin.is_empty() { "0" } else { begin };
    if end.is_empty() {
        return Err(HostRangeError::MissingEnd {
            pattern: pattern_s(),
            range: range_s(),
        });
    }
    let step = match step {
        None => 1,
        Some(s) if !is_digits(s) => {
            return Err(HostRangeError::InvalidStride {
                pattern: pattern_s(),
                range: range_s(),
            });
        }
        Some(s) => match s.parse::<u64>() {
            Ok(0) => {
                return Err(HostRangeError::ZeroStride {
                    pattern: pattern_s(),
                    range: range_s(),
                });
            }
            Ok(n) => n,
            Err(_) => {
                return Err(HostRangeError::InvalidStride {
                    pattern: pattern_s(),
                    range: range_s(),
                });
            }
        },
    };
    // Ansible: a begin with a leading zero fixes the width, and the end must match it.
    let width = if begin.starts_with('0') && begin.len() > 1 {
        if begin.len() != end.len() {
            return Err(HostRangeError::UnequalWidth {
                pattern: pattern_s(),
                range: range_s(),
            });
        }
        begin.len()
    } else {
        0
    };

    let start_after_end = || HostRangeError::StartAfterEnd {
        pattern: pattern_s(),
        range: range_s(),
    };
    match (letter_index(begin), letter_index(end)) {
        (Some(start), Some(end)) if start > end => Err(start_after_end()),
        (Some(start), Some(end)) => Ok(Range::Letters { start, end, step }),
        (Some(_), None) if is_digits(end) => Err(HostRangeError::MixedBounds {
            pattern: pattern_s(),
            range: range_s(),
        }),
        (None, Some(_)) if is_digits(begin) => Err(HostRangeError::MixedBounds {
            pattern: pattern_s(),
            range: range_s(),
        }),
        _ => {
            let number = |bound: &str| {
                bound
                    .parse::<u64>()
                    .ok()
                    .filter(|_| is_digits(bound))
                    .ok_or_else(|| HostRangeError::InvalidBound {
                        pattern: pattern_s(),
                        bound: bound.to_string(),
                    })
            };
            let (start, end) = (number(begin)?, number(end)?);
            if start > end {
                return Err(start_after_end());
            }
            Ok(Range::Numeric {
                start,
                end,
                step,
                width,
            })
        }
    }
}

/// The position of a single ASCII letter in [`ASCII_LETTERS`].
fn letter_index(bound: &str) -> Option<usize> {
    match bound.as_bytes() {
        [c] => ASCII_LETTERS.iter().position(|l| l == c),
        _ => None,
    }
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand(pattern: &str) -> Vec<String> {
        match expand_host_pattern(pattern) {
            Ok(names) => names,
            Err(err) => panic!("{pattern:?} should expand: {err}"),
        }
    }

    fn err(pattern: &str) -> HostRangeError {
        match expand_host_pattern(pattern) {
            Ok(names) => panic!("{pattern:?} should fail, got {names:?}"),
            Err(err) => err,
        }
    }

    #[test]
    fn host_pattern_splits_port_after_name_and_ranges() {
        let parsed = parse_host_pattern("web[1:2]:2222").unwrap();
        assert_eq!(parsed.names, ["web1", "web2"]);
        assert_eq!(parsed.port, Some(2222));
        assert_eq!(parse_host_pattern("web1").unwrap().port, None);
    }

    #[test]
    fn host_pattern_reads_bracketed_ipv6_with_port_and_bare_ipv6() {
        let parsed = parse_host_pattern("[2001:db8::20]:2222").unwrap();
        assert_eq!(parsed.names, ["2001:db8::20"]);
        assert_eq!(parsed.port, Some(2222));
        let bare = parse_host_pattern("2001:db8::1").unwrap();
        assert_eq!(
            (bare.names, bare.port),
            (vec!["2001:db8::1".to_string()], None)
        );
    }

    #[test]
    fn host_pattern_rejects_port_out_of_range() {
        assert!(matches!(
            parse_host_pattern("web1:70000"),
            Err(HostRangeError::BadPort { .. })
        ));
    }

    #[test]
    fn host_range_plain_name_returns_itself() {
        assert_eq!(expand("build-01"), ["build-01"]);
        assert_eq!(expand("web.example.com"), ["web.example.com"]);
    }

    #[test]
    fn host_range_keeps_zero_padding_of_start() {
        let names = expand("build-[01:20]");
        assert_eq!(names.len(), 20);
        assert_eq!(names[0], "build-01");
        assert_eq!(names[8], "build-09");
        assert_eq!(names[19], "build-20");
    }

    #[test]
    fn host_range_expands_unpadded_numbers() {
        assert_eq!(expand("web[1:3]"), ["web1", "web2", "web3"]);
        assert_eq!(expand("web[9:10]"), ["web9", "web10"]);
        assert_eq!(expand("web[0:1]"), ["web0", "web1"]);
    }

    #[test]
    fn host_range_empty_start_means_zero() {
        assert_eq!(expand("n[:2]"), ["n0", "n1", "n2"]);
    }

    #[test]
    fn host_range_keeps_text_after_range() {
        assert_eq!(
            expand("web[1:2].example.com"),
            ["web1.example.com", "web2.example.com"]
        );
    }

    #[test]
    fn host_range_expands_letters() {
        assert_eq!(expand("db-[a:c]"), ["db-a", "db-b", "db-c"]);
        assert_eq!(expand("db-[A:C]"), ["db-A", "db-B", "db-C"]);
    }

    #[test]
    fn host_range_letters_run_from_lower_to_upper_case() {
        // Python's string.ascii_letters order: a..z then A..Z.
        assert_eq!(expand("x[y:B]"), ["xy", "xz", "xA", "xB"]);
    }

    #[test]
    fn host_range_applies_stride() {
        assert_eq!(expand("n[0:10:2]"), ["n0", "n2", "n4", "n6", "n8", "n10"]);
        assert_eq!(expand("n[01:10:3]"), ["n01", "n04", "n07", "n10"]);
        assert_eq!(expand("n[1:4:5]"), ["n1"]);
        assert_eq!(expand("db-[a:e:2]"), ["db-a", "db-c", "db-e"]);
    }

    #[test]
    fn host_range_expands_several_ranges_in_order() {
        assert_eq!(
            expand("rack[1:2]-node[01:03]"),
            [
                "rack1-node01",
                "rack1-node02",
                "rack1-node03",
                "rack2-node01",
                "rack2-node02",
                "rack2-node03",
            ]
        );
        assert_eq!(expand("[a:b][1:2]"), ["a1", "a2", "b1", "b2"]);
    }

    #[test]
    fn host_range_rejects_start_after_end() {
        assert!(matches!(
            err("web[5:1]"),
            HostRangeError::StartAfterEnd { .. }
        ));
        assert!(matches!(
            err("db-[c:a]"),
            HostRangeError::StartAfterEnd { .. }
        ));
        assert_eq!(
            err("web[5:1]").to_string(),
            "host pattern \"web[5:1]\": range [5:1] starts after it ends"
        );
    }

    #[test]
    fn host_range_rejects_mixed_letter_and_number() {
        assert!(matches!(
            err("db-[a:3]"),
            HostRangeError::MixedBounds { .. }
        ));
        assert!(matches!(
            err("db-[1:c]"),
            HostRangeError::MixedBounds { .. }
        ));
    }

    #[test]
    fn host_range_rejects_invalid_bounds() {
        assert_eq!(
            err("db-[x1:3]"),
            HostRangeError::InvalidBound {
                pattern: "db-[x1:3]".into(),
                bound: "x1".into()
            }
        );
        assert!(matches!(
            err("db-[ab:c]"),
            HostRangeError::InvalidBound { .. }
        ));
        assert!(matches!(
            err("db-[-1:3]"),
            HostRangeError::InvalidBound { .. }
        ));
        assert!(matches!(
            err("db-[1:99999999999999999999]"),
            HostRangeError::InvalidBound { .. }
        ));
    }

    #[test]
    fn host_range_rejects_zero_stride() {
        assert!(matches!(
            err("n[0:10:0]"),
            HostRangeError::ZeroStride { .. }
        ));
        assert!(matches!(err("n[a:c:0]"), HostRangeError::ZeroStride { .. }));
    }

    #[test]
    fn host_range_rejects_invalid_stride() {
        assert!(matches!(
            err("n[0:10:x]"),
            HostRangeError::InvalidStride { .. }
        ));
        assert!(matches!(
            err("n[0:10:]"),
            HostRangeError::InvalidStride { .. }
        ));
        assert!(matches!(
            err("n[0:10:-1]"),
            HostRangeError::InvalidStride { .. }
        ));
    }

    #[test]
    fn host_range_rejects_unclosed_bracket() {
        assert_eq!(
            err("web[1:3"),
            HostRangeError::UnclosedBracket {
                pattern: "web[1:3".into()
            }
        );
        assert!(matches!(
            err("web[1:2]-x[1"),
            HostRangeError::UnclosedBracket { .. }
        ));
    }

    #[test]
    fn host_range_rejects_close_before_open() {
        assert!(matches!(
            err("web]1[1:2]"),
            HostRangeError::UnopenedBracket { .. }
        ));
    }

    #[test]
    fn host_range_rejects_bad_shape() {
        assert!(matches!(err("web[1]"), HostRangeError::BadShape { .. }));
        assert!(matches!(
            err("web[1:2:3:4]"),
            HostRangeError::BadShape { .. }
        ));
        assert!(matches!(err("web[]"), HostRangeError::BadShape { .. }));
    }

    #[test]
    fn host_range_rejects_missing_end() {
        assert!(matches!(err("web[1:]"), HostRangeError::MissingEnd { .. }));
    }

    #[test]
    fn host_range_rejects_unequal_padded_width() {
        assert!(matches!(
            err("n[01:100]"),
            HostRangeError::UnequalWidth { .. }
        ));
        // Without a leading zero the widths may differ.
        assert_eq!(expand("n[8:010]"), ["n8", "n9", "n10"]);
    }

    #[test]
    fn host_range_rejects_more_than_limit() {
        assert_eq!(expand("n[1:100000]").len(), MAX_EXPANDED_HOSTS);
        assert_eq!(
            err("n[0:100000]"),
            HostRangeError::TooManyNames {
                pattern: "n[0:100000]".into(),
                limit: MAX_EXPANDED_HOSTS
            }
        );
        assert!(matches!(
            err("a[1:1000]b[1:1000]"),
            HostRangeError::TooManyNames { .. }
        ));
        assert!(matches!(
            err("n[0:18446744073709551615]"),
            HostRangeError::TooManyNames { .. }
        ));
    }
}
