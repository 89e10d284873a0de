//! Home directories and the login name as OpenSSH and Ansible find them: `$HOME`, else the
//! password database (so `HOME` unset, as under some service managers, still works), the login
//! name from the password database, and `~` / `~user` at the start of a path.

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

/// The current user's login name as ssh takes it: the password database's name for this uid
/// (not `$USER`), else `$USER` when the lookup fails.
pub fn user_name() -> Option<String> {
    password_entry(Lookup::Uid(current_uid()))
        .map(|entry| entry.name.to_string_lossy().into_owned())
        .or_else(|| std::env::var("USER").ok().filter(|u| !u.is_empty()))
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

/// The fields fleetprune uses of a password database entry.
struct PasswordEntry {
    name: OsString,
    dir: OsString,
}

/// The home directory of a password database entry, when it has one.
fn password_entry_home(lookup: Lookup) -> Option<PathBuf> {
    password_entry(lookup)
        .map(|entry| entry.dir)
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
}

/// A password database entry, through the reentrant lookups.
fn password_entry(lookup: Lookup) -> Option<PasswordEntry> {
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
    if status != 0 || found.is_null() || entry.pw_dir.is_null() || entry.pw_name.is_null() {
        return None;
    }
    // SAFETY: pw_name and pw_dir are NUL-terminated strings inside `buffer`, checked non-null.
    let (name, dir) = unsafe { (CStr::from_ptr(entry.pw_name), CStr::from_ptr(entry.pw_dir)) };
    Some(PasswordEntry {
        name: OsString::from_vec(name.to_bytes().to_vec()),
        dir: OsString::from_vec(dir.to_bytes().to_vec()),
    })
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
    fn current_user_has_a_password_database_name_and_home() {
        let entry = password_entry(Lookup::Uid(current_uid())).unwrap();
        assert!(!entry.name.is_empty());
        assert!(password_entry_home(Lookup::Uid(current_uid())).is_some());
    }
}
