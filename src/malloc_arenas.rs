//! glibc's allocator, sized for a controller: at most two arenas. glibc's default (eight per
//! core) gives each of tokio's blocking threads (name lookups, key files) an arena of its own,
//! and each keeps its freed memory: 4 of 43 MB at 10,000 hosts (`bench/stream-memory.sh`). A
//! `MALLOC_ARENA_MAX` in the environment is left to decide.

/// The most arenas glibc may make.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MOST: libc::c_int = 2;

/// Limits glibc's arenas unless the environment already does; elsewhere, nothing to do.
pub fn limit() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets an allocator parameter; it is called before any thread starts.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, MOST);
        }
    }
}
