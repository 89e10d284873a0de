//! The simulator's own cost, read with getrusage at exit, so a benchmark can show how much of
//! the machine the simulator took away from the controller.

/// CPU seconds and peak resident memory of this process.
#[derive(Debug, Clone, Copy)]
pub struct Usage {
    pub user_seconds: f64,
    pub system_seconds: f64,
    pub max_rss_kb: i64,
}

/// Reads this process's resource usage; `None` if the kernel refuses (it should not).
pub fn own_usage() -> Option<Usage> {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes a complete rusage into the pointer it is given, which is valid
    // and large enough; the value is only read when the call succeeded.
    let usage = unsafe {
        if libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) != 0 {
            return None;
        }
        usage.assume_init()
    };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Some(Usage {
        user_seconds: seconds(usage.ru_utime),
        system_seconds: seconds(usage.ru_stime),
        max_rss_kb: usage.ru_maxrss,
    })
}
