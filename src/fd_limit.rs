//! The open-files limit: one SSH connection per host in flight needs one descriptor, so a run
//! with thousands of forks raises its soft `RLIMIT_NOFILE` to the hard limit at start, as
//! OpenSSH-based fleet tools commonly need their users to do by hand.

/// Descriptors kept for everything that is not a host connection (stdio, logs, known_hosts,
/// the agent, the runtime).
const RESERVED: u64 = 64;

/// Raises the soft open-files limit to the hard one and returns how many hosts can be in
/// flight at once, or `None` when the limits cannot be read.
pub fn raise_to_hard_limit() -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we own; RLIMIT_NOFILE is a valid resource.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return None;
    }
    if limit.rlim_cur < limit.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: limit.rlim_max,
            rlim_max: limit.rlim_max,
        };
        // SAFETY: as above; raising the soft limit up to the hard one needs no privilege.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            limit = raised;
        }
    }
    Some(limit.rlim_cur.saturating_sub(RESERVED))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_soft_limit_ends_at_the_hard_limit() {
        let in_flight = raise_to_hard_limit().expect("limits readable");
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: as in raise_to_hard_limit.
        assert_eq!(
            unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) },
            0
        );
        assert_eq!(limit.rlim_cur, limit.rlim_max);
        assert_eq!(in_flight, limit.rlim_cur.saturating_sub(RESERVED));
    }
}
