//! Home directories as OpenSSH and Ansible find them: `$HOME`, else the password database
//! (so `HOME` unset, as under some service managers, still works), and `~` / `~user` at the
//! start of a path.

use std::ffi::{CStr, CString, OsString};
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};

/// The current user's home: `$HOME` when set and not empty, else the password database.
pub fn home_dir() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .or_else(|| password_entry_home(Lookup::Uid(current_uid())))
}

/// `~/x` -> home/x, `~user/x` -> user's home/x; other paths, and unknown users, unchanged.
pub fn expand_tilde(path: &Path) -> PathBuf {
    let Some(text) = path.to_str() else {
        return path.to_path_buf();
    };
    let Some(rest) = text.strip_prefix('~') else {
        return path.to_path_buf();
    };
    let (user, tail) = rest.split_once('/').unwrap_or((rest, ""));
    let home = if user.is_empty() {
        home_dir()
    } else {
        CString::new(user)
            .ok()
            .and_then(|name| password_entry_home(Lookup::Name(name)))
    };
    match home {
        Some(home) if tail.is_empty() => home,
        Some(home) => home.join(tail),
        None => path.to_path_buf(),
    }
}

enum Lookup {
    Uid(libc::uid_t),
    Name(CString),
}

fn current_uid() -> libc::uid_t {
    // SAFETY: getuid has no preconditions and cannot fail.
    unsafe { libc::getuid() }
}

/// `pw_dir` of a password database entry, through the reentrant lookups.
fn password_entry_home(lookup: Lookup) -> Option<PathBuf> {
    let mut buffer = vec![0 as libc::c_char; 16 * 1024];
    // SAFETY: an all-zero passwd (null pointers, zero ids) is a valid value to be overwritten.
    let mut entry: libc::passwd = unsafe { std::mem::zeroed() };
    let mut found: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the call; the buffer outlives the use of `entry`,
    // whose strings point into it.
    let status = unsafe {
        match &lookup {
            Lookup::Uid(uid) => libc::getpwuid_r(
                *uid,
                &mut entry,
                buffer.as_mut_ptr(),
                buffer.len(),
                &mut found,
            ),
            Lookup::Name(name) => libc::getpwnam_r(
                name.as_ptr(),
                &mut entry,
                buffer.as_mut_ptr(),
                buffer.len(),
                &mut found,
            ),
        }
    };
    if status != 0 || found.is_null() || entry.pw_dir.is_null() {
        return None;
    }
    // SAFETY: pw_dir is a NUL-terminated string inside `buffer`, checked non-null above.
    let dir = unsafe { CStr::from_ptr(entry.pw_dir) };
    let dir = OsString::from_vec(dir.to_bytes().to_vec());
    (!dir.is_empty()).then(|| PathBuf::from(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tilde_user_expands_through_the_password_database() {
        // root exists on every system the tests run on.
        let root_home = password_entry_home(Lookup::Name(CString::new("root").unwrap())).unwrap();
        assert_eq!(
            expand_tilde(Path::new("~root/.ssh/id")),
            root_home.join(".ssh/id")
        );
        assert_eq!(expand_tilde(Path::new("~root")), root_home);
    }

    #[test]
    fn tilde_of_unknown_user_and_plain_paths_stay_as_written() {
        let unknown = Path::new("~no-such-user-fleetprune/k");
        assert_eq!(expand_tilde(unknown), unknown);
        assert_eq!(expand_tilde(Path::new("/k/~x")), Path::new("/k/~x"));
    }

    #[test]
    fn current_user_has_a_password_database_home() {
        assert!(password_entry_home(Lookup::Uid(current_uid())).is_some());
    }
}
