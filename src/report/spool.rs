//! Rendered text of each host, kept outside the heap until the report is written: hosts finish in
//! any order, documents list them in inventory order, and a fleet of 10,000 hosts should not hold
//! 10,000 rendered entries in memory. Pieces go to an anonymous temporary file (gone when the
//! run ends, however it ends), or to memory when no temporary file can be made.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};

/// Each host's piece of text by index, written in any order, read back in index order.
#[derive(Default)]
pub(crate) struct Spool {
    store: Option<Store>,
    /// Offset and length of each host's piece, by host index.
    pieces: Vec<Option<(u64, usize)>>,
}

enum Store {
    File { file: File, end: u64 },
    Memory(Vec<u8>),
}

impl Spool {
    /// Keeps `bytes` as the piece of host `index` (an empty piece is kept as none).
    pub(crate) fn put(&mut self, index: usize, bytes: &[u8]) -> io::Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        let store = self
            .store
            .get_or_insert_with(|| match tempfile::tempfile() {
                Ok(file) => Store::File { file, end: 0 },
                Err(error) => {
                    tracing::debug!(
                        "no temporary file for the report ({error}); keeping it in memory"
                    );
                    Store::Memory(Vec::new())
                }
            });
        let offset = match store {
            Store::File { file, end } => {
                let offset = *end;
                file.seek(SeekFrom::Start(offset))?;
                file.write_all(bytes)?;
                *end += bytes.len() as u64;
                offset
            }
            Store::Memory(memory) => {
                let offset = memory.len() as u64;
                memory.extend_from_slice(bytes);
                offset
            }
        };
        if self.pieces.len() <= index {
            self.pieces.resize(index + 1, None);
        }
        self.pieces[index] = Some((offset, bytes.len()));
        Ok(())
    }

    /// Calls `each` with every piece in index order.
    pub(crate) fn for_each(
        &mut self,
        mut each: impl FnMut(&[u8]) -> io::Result<()>,
    ) -> io::Result<()> {
        let Some(store) = &mut self.store else {
            return Ok(());
        };
        let mut buffer = Vec::new();
        for (offset, length) in self.pieces.iter().flatten() {
            match store {
                Store::File { file, .. } => {
                    buffer.resize(*length, 0);
                    file.seek(SeekFrom::Start(*offset))?;
                    file.read_exact(&mut buffer)?;
                    each(&buffer)?;
                }
                Store::Memory(memory) => {
                    let start = usize::try_from(*offset).unwrap_or(usize::MAX);
                    each(&memory[start..start + length])?;
                }
            }
        }
        Ok(())
    }

    /// Writes every piece to `out` in index order.
    pub(crate) fn copy_to(&mut self, out: &mut dyn Write) -> io::Result<()> {
        self.for_each(|piece| out.write_all(piece))
    }

    /// How many hosts have a piece.
    pub(crate) fn len(&self) -> usize {
        self.pieces.iter().flatten().count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_come_back_in_index_order_whatever_order_they_went_in() {
        let mut spool = Spool::default();
        spool.put(2, b"two\n").unwrap();
        spool.put(0, b"zero\n").unwrap();
        spool.put(1, b"").unwrap();
        spool.put(3, b"three\n").unwrap();
        let mut out = Vec::new();
        spool.copy_to(&mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "zero\ntwo\nthree\n");
        assert_eq!(spool.len(), 3);
    }

    #[test]
    fn an_empty_spool_writes_nothing() {
        let mut out = Vec::new();
        Spool::default().copy_to(&mut out).unwrap();
        assert!(out.is_empty());
    }
}
