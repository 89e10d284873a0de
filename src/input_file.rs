//! Local input files (inventory, known_hosts, key files) read with a size cap, and refused unless
//! they are regular files: `/dev/zero` is not read to exhaustion and a FIFO does not block the run.
//!
//! Errors are plain `io::Error`s so each caller keeps its own error type and message.

use std::io::{self, Read};
use std::path::Path;

/// Inventories beyond this are refused (a fleet of 100 000 hosts fits in a few MiB).
pub const INVENTORY_LIMIT: u64 = 16 * 1024 * 1024;
/// known_hosts files beyond this are refused.
pub const KNOWN_HOSTS_LIMIT: u64 = 16 * 1024 * 1024;
/// Private key files beyond this are refused (an RSA 16384 key is under 13 KiB).
pub const KEY_LIMIT: u64 = 1024 * 1024;

/// Why a file was refused before reading it.
#[derive(Debug, thiserror::Error)]
pub enum InputFileError {
    #[error("not a regular file")]
    NotRegular,
    #[error("larger than {limit} bytes")]
    TooLarge { limit: u64 },
}

/// Reads `path` as UTF-8 text if it is a regular file of at most `limit` bytes. `/dev/null`
/// reads as empty, as OpenSSH users point `UserKnownHostsFile` at it.
pub fn read_to_string(path: &Path, limit: u64) -> io::Result<String> {
    if path == Path::new("/dev/null") {
        return Ok(String::new());
    }
    let file = open_regular(path)?;
    let mut text = String::new();
    // One byte more than allowed tells a file that grew past the cap after the size check.
    file.take(limit.saturating_add(1))
        .read_to_string(&mut text)?;
    if u64::try_from(text.len()).unwrap_or(u64::MAX) > limit {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            InputFileError::TooLarge { limit },
        ));
    }
    Ok(text)
}

/// Opens `path` for reading, refusing anything but a regular file.
fn open_regular(path: &Path) -> io::Result<std::fs::File> {
    // The type is checked on the path first: opening a FIFO for reading would block.
    if !std::fs::metadata(path)?.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            InputFileError::NotRegular,
        ));
    }
    let file = std::fs::File::open(path)?;
    // And again on what was opened, in case the path was swapped in between.
    if !file.metadata()?.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            InputFileError::NotRegular,
        ));
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_zero_is_refused_as_not_a_regular_file() {
        let error = read_to_string(Path::new("/dev/zero"), 10).unwrap_err();
        assert_eq!(error.to_string(), "not a regular file");
    }

    #[test]
    fn dev_null_reads_as_empty() {
        assert_eq!(read_to_string(Path::new("/dev/null"), 10).unwrap(), "");
    }

    #[test]
    fn fifo_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(status.success());
        let error = read_to_string(&fifo, 10).unwrap_err();
        assert_eq!(error.to_string(), "not a regular file");
    }

    #[test]
    fn file_over_the_cap_is_refused_and_one_at_the_cap_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, "12345").unwrap();
        assert_eq!(read_to_string(&path, 5).unwrap(), "12345");
        let error = read_to_string(&path, 4).unwrap_err();
        assert_eq!(error.to_string(), "larger than 4 bytes");
    }
}
