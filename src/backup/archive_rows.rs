//! Every table's rows read from `pg_dump`'s custom-format archive itself
//! as it streams by: on its way from `pg_dump` into the store in `backup
//! create`, and on its way from the store into `pg_restore`. A row is one
//! line of a table's `COPY` data; its fingerprint is the sum of each
//! line's 64-bit xxh3 hash (independent of the rows' order), so the
//! server scans nothing twice and the check costs a fraction of a core
//! beside the copy.
//!
//! The archive is read as `pg_restore` reads it (format versions 1.12 to
//! 1.16, PostgreSQL 11 to 18): a header, the table of contents, then one
//! data block per table. Only uncompressed archives (`-Z0`) are read; any
//! other shape is an error the caller answers by asking the server.

use super::manifest::TableRows;
use std::collections::HashMap;
use std::io::Read;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

/// The oldest and newest archive versions read (minor number of 1.x).
const VERSIONS: std::ops::RangeInclusive<u8> = 12..=16;
/// A block of one table's data (`BLK_DATA`).
const BLOCK_DATA: u8 = 1;
/// A block of large objects (`BLK_BLOBS`).
const BLOCK_LARGE_OBJECTS: u8 = 3;
/// How many copied chunks may wait for the reading thread.
const QUEUED_CHUNKS: usize = 32;

/// The prefix of fingerprints read from the archive.
pub(crate) const FINGERPRINT_PREFIX: &str = "xxh3:";

/// The rows being read on their own thread from what a [`Teed`] reader
/// passes on.
pub(crate) struct ArchiveRows {
    reading: JoinHandle<Result<Vec<TableRows>, String>>,
}

impl ArchiveRows {
    /// `inner`, every byte read from it also handed to a thread that reads
    /// the archive's rows.
    pub(crate) fn tee<R: Read>(inner: R) -> (Teed<R>, ArchiveRows) {
        let (sender, receiver) = sync_channel(QUEUED_CHUNKS);
        let reading = std::thread::spawn(move || {
            read_archive(ChannelReader {
                receiver,
                chunk: Vec::new(),
                at: 0,
            })
        });
        let teed = Teed {
            inner,
            sender: Some(sender),
        };
        (teed, ArchiveRows { reading })
    }

    /// The tables' rows, once the [`Teed`] reader is closed or dropped.
    pub(crate) fn finish(self) -> Result<Vec<TableRows>, String> {
        self.reading
            .join()
            .unwrap_or_else(|_| Err("the archive's reader stopped".into()))
    }
}

/// A reader that passes a copy of what it reads to [`ArchiveRows`].
pub(crate) struct Teed<R> {
    inner: R,
    sender: Option<SyncSender<Vec<u8>>>,
}

impl<R> Teed<R> {
    /// Tells the rows' reader that the archive is complete.
    pub(crate) fn close(&mut self) {
        self.sender = None;
    }
}

impl<R: Read> Read for Teed<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 {
            self.close();
        } else if let Some(sender) = &self.sender {
            // A reader that gave up (an archive it cannot read) is not the
            // copy's problem: the rows are then asked of the server.
            if sender.send(buf[..n].to_vec()).is_err() {
                self.sender = None;
            }
        }
        Ok(n)
    }
}

/// The chunks a [`Teed`] reader passed on, read back in order.
struct ChannelReader {
    receiver: Receiver<Vec<u8>>,
    chunk: Vec<u8>,
    at: usize,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.at == self.chunk.len() {
            match self.receiver.recv() {
                Ok(chunk) => (self.chunk, self.at) = (chunk, 0),
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.chunk.len() - self.at);
        buf[..n].copy_from_slice(&self.chunk[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// Reads a whole archive and returns its tables' rows, in the order of
/// their names.
pub(crate) fn read_archive(input: impl Read) -> Result<Vec<TableRows>, String> {
    let mut archive = Archive::open(std::io::BufReader::with_capacity(1 << 16, input))?;
    let tables = archive.table_data_entries()?;
    let mut rows: HashMap<i64, Rows> = HashMap::new();
    while let Some(kind) = archive.next_block_kind()? {
        let id = archive.int()?;
        match kind {
            BLOCK_DATA => {
                let table = rows.entry(id).or_default();
                archive.data(|bytes| table.add(bytes))?;
                table.end_of_data()?;
            }
            BLOCK_LARGE_OBJECTS => {
                while archive.int()? != 0 {
                    archive.data(|_| ())?;
                }
            }
            other => return Err(format!("a data block of unknown kind {other}")),
        }
    }
    let mut out: Vec<TableRows> = tables
        .into_iter()
        .map(|(id, table)| {
            let found = rows.remove(&id).unwrap_or_default();
            TableRows {
                table,
                rows: found.count,
                fingerprint: format!("{FINGERPRINT_PREFIX}{:016x}", found.sum),
            }
        })
        .collect();
    out.sort_by(|a, b| a.table.cmp(&b.table));
    Ok(out)
}

/// One table's rows so far: how many, the sum of their hashes, the start
/// of a line that continues in the next chunk, and whether the end-of-data
/// line `\.` was read (what follows it is not rows; a row that reads `\.`
/// is written `\\.`).
#[derive(Default)]
struct Rows {
    count: i64,
    sum: u64,
    partial: Vec<u8>,
    ended: bool,
}

impl Rows {
    fn add(&mut self, mut bytes: &[u8]) {
        while let Some(end) = memchr::memchr(b'\n', bytes) {
            if self.partial.is_empty() {
                self.line(&bytes[..end]);
            } else {
                let mut line = std::mem::take(&mut self.partial);
                line.extend_from_slice(&bytes[..end]);
                self.line(&line);
                line.clear();
                self.partial = line;
            }
            bytes = &bytes[end + 1..];
        }
        if !self.ended {
            self.partial.extend_from_slice(bytes);
        }
    }

    fn line(&mut self, line: &[u8]) {
        if self.ended {
            return;
        }
        if line == b"\\." {
            self.ended = true;
            return;
        }
        self.sum = self.sum.wrapping_add(xxhash_rust::xxh3::xxh3_64(line));
        self.count += 1;
    }

    fn end_of_data(&self) -> Result<(), String> {
        match self.partial.is_empty() {
            true => Ok(()),
            false => Err("a table's data ends inside a row".into()),
        }
    }
}

/// An archive being read: its version and the sizes of its integers.
struct Archive<R> {
    input: R,
    minor: u8,
    int_size: usize,
    offset_size: usize,
}

impl<R: Read> Archive<R> {
    /// Reads the header, up to the table of contents.
    fn open(mut input: R) -> Result<Self, String> {
        let mut magic = [0u8; 5];
        input
            .read_exact(&mut magic)
            .map_err(|e| format!("no archive header: {e}"))?;
        if &magic != b"PGDMP" {
            return Err("not a pg_dump custom-format archive".into());
        }
        let mut archive = Archive {
            input,
            minor: 0,
            int_size: 4,
            offset_size: 8,
        };
        let (major, minor, _revision) = (archive.byte()?, archive.byte()?, archive.byte()?);
        if major != 1 || !VERSIONS.contains(&minor) {
            return Err(format!("archive format {major}.{minor} is not read"));
        }
        archive.minor = minor;
        archive.int_size = usize::from(archive.byte()?);
        archive.offset_size = usize::from(archive.byte()?);
        if !(1..=8).contains(&archive.int_size) || !(1..=8).contains(&archive.offset_size) {
            return Err("the archive's integer sizes are out of range".into());
        }
        if archive.byte()? != 1 {
            return Err("not a custom-format archive".into());
        }
        let compressed = match minor >= 15 {
            true => i64::from(archive.byte()?),
            false => archive.int()?,
        };
        if compressed != 0 {
            return Err("the archive is compressed".into());
        }
        for _ in 0..7 {
            archive.int()?; // the time it was made
        }
        for _ in 0..3 {
            archive.string()?; // database, server and pg_dump versions
        }
        Ok(archive)
    }

    /// Reads the table of contents: the `TABLE DATA` entries' ids and
    /// their tables' names.
    fn table_data_entries(&mut self) -> Result<Vec<(i64, String)>, String> {
        let count = self.int()?;
        let mut tables = Vec::new();
        for _ in 0..count {
            let id = self.int()?;
            self.int()?; // has a data dumper
            self.string()?; // catalog table oid
            self.string()?; // oid
            let tag = self.string()?.unwrap_or_default();
            let desc = self.string()?.unwrap_or_default();
            self.int()?; // section
            for _ in 0..3 {
                self.string()?; // definition, drop and COPY statements
            }
            let namespace = self.string()?.unwrap_or_default();
            self.string()?; // tablespace
            if self.minor >= 14 {
                self.string()?; // table access method
            }
            if self.minor >= 16 {
                self.int()?; // relkind
            }
            self.string()?; // owner
            self.string()?; // "false": tables WITH OIDS are gone
            while self.string()?.is_some() {} // dependencies
            self.byte()?; // where its data is: the offset's state
            self.skip(self.offset_size)?;
            if desc == "TABLE DATA" {
                tables.push((id, qualified(&namespace, &tag)));
            }
        }
        Ok(tables)
    }

    /// The kind of the next data block; `None` at the archive's end.
    fn next_block_kind(&mut self) -> Result<Option<u8>, String> {
        let mut kind = [0u8; 1];
        match self.input.read(&mut kind) {
            Ok(0) => Ok(None),
            Ok(_) => Ok(Some(kind[0])),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Hands one data stream's chunks to `each`, up to its end mark.
    fn data(&mut self, mut each: impl FnMut(&[u8])) -> Result<(), String> {
        let mut buffer = vec![0u8; 1 << 16];
        loop {
            let mut left = usize::try_from(self.int()?).map_err(|_| "a negative chunk length")?;
            if left == 0 {
                return Ok(());
            }
            while left > 0 {
                let take = left.min(buffer.len());
                self.input
                    .read_exact(&mut buffer[..take])
                    .map_err(|e| format!("a data block is cut short: {e}"))?;
                each(&buffer[..take]);
                left -= take;
            }
        }
    }

    fn byte(&mut self) -> Result<u8, String> {
        let mut byte = [0u8; 1];
        self.input
            .read_exact(&mut byte)
            .map_err(|e| format!("the archive is cut short: {e}"))?;
        Ok(byte[0])
    }

    fn skip(&mut self, n: usize) -> Result<(), String> {
        for _ in 0..n {
            self.byte()?;
        }
        Ok(())
    }

    /// An integer: a sign byte, then `int_size` bytes, least significant
    /// first.
    fn int(&mut self) -> Result<i64, String> {
        let negative = self.byte()? != 0;
        let mut value: i64 = 0;
        for i in 0..self.int_size {
            value |= i64::from(self.byte()?) << (8 * i);
        }
        Ok(if negative {
            value.wrapping_neg()
        } else {
            value
        })
    }

    /// A string: its length (negative for none), then its bytes.
    fn string(&mut self) -> Result<Option<String>, String> {
        let length = self.int()?;
        if length < 0 {
            return Ok(None);
        }
        let length = usize::try_from(length).map_err(|_| "a string too long")?;
        if length > 1 << 28 {
            return Err("a string longer than 256 MiB in the table of contents".into());
        }
        let mut bytes = vec![0u8; length];
        self.input
            .read_exact(&mut bytes)
            .map_err(|e| format!("the archive is cut short: {e}"))?;
        Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
    }
}

/// `schema.table` as `format('%I.%I')` writes it for names that need no
/// keyword quoting: quoted unless lower-case letters, digits and `_`.
pub(crate) fn qualified(schema: &str, table: &str) -> String {
    format!("{}.{}", identifier(schema), identifier(table))
}

fn identifier(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    match plain {
        true => name.to_string(),
        false => format!("\"{}\"", name.replace('"', "\"\"")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_split_across_chunks_hashes_as_one_line() {
        let mut whole = Rows::default();
        whole.add(b"1\talpha\n2\tbeta\n");
        let mut split = Rows::default();
        split.add(b"1\tal");
        split.add(b"pha\n2\t");
        split.add(b"beta\n");
        assert_eq!((whole.count, whole.sum), (split.count, split.sum));
        assert_eq!(whole.count, 2);
        assert!(split.end_of_data().is_ok());
        let mut marked = Rows::default();
        marked.add(b"1\talpha\n2\tbeta\n\\");
        marked.add(b".\n\n\n");
        assert_eq!((marked.count, marked.sum), (whole.count, whole.sum));
        let mut empty_rows = Rows::default();
        empty_rows.add(b"\n\n\\\\.\n");
        assert_eq!(
            empty_rows.count, 3,
            "empty rows and a row reading \\. count"
        );
        let mut cut = Rows::default();
        cut.add(b"1\tal");
        assert!(cut.end_of_data().is_err());
    }

    #[test]
    fn the_order_of_rows_does_not_change_the_fingerprint_but_a_value_does() {
        let sum = |text: &[u8]| {
            let mut rows = Rows::default();
            rows.add(text);
            rows.sum
        };
        assert_eq!(sum(b"1\ta\n2\tb\n"), sum(b"2\tb\n1\ta\n"));
        assert_ne!(sum(b"1\ta\n2\tb\n"), sum(b"1\ta\n2\tc\n"));
    }

    #[test]
    fn names_are_quoted_where_they_need_it() {
        assert_eq!(qualified("public", "t_1"), "public.t_1");
        assert_eq!(qualified("My", "a\"b"), "\"My\".\"a\"\"b\"");
    }

    #[test]
    fn what_is_not_an_archive_is_an_error_not_a_panic() {
        assert!(read_archive(&b"PGDMP"[..]).is_err());
        assert!(read_archive(&b"hello world"[..]).is_err());
        assert!(read_archive(&b""[..]).is_err());
        assert!(read_archive(&b"PGDMP\x01\x10\x00\x04\x08\x01\x00"[..]).is_err());
    }
}
