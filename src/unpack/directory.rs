//! The end of the zip, read before the zip reader sees it: the end-of-central-directory record
//! (and, for zip64, its locator and record) is found with two bounded reads, and an entry count
//! or a central directory size over the budgets is refused before a single directory record is
//! parsed. The zip reader keeps every record in memory (about 600 bytes each, a million empty
//! entries took 611 MiB), so this is what bounds memory on a hostile directory.
//!
//! The zip reader, when it rejects the directory an end record names, retries every earlier
//! end record it finds in the file. So the checked directory is the only one it may parse: no
//! end-record signature may appear between the directory's start and its end record, and the
//! reader parses through a [`Fence`] that reads zeros before the directory's start.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::{Budgets, UnpackError};
use crate::fs::io;

const EOCD_SIGNATURE: u32 = 0x0605_4b50;
const EOCD_LEN: u64 = 22;
const MAX_COMMENT: u64 = 0xffff;
const LOCATOR_SIGNATURE: u32 = 0x0706_4b50;
const LOCATOR_LEN: u64 = 20;
const EOCD64_SIGNATURE: u32 = 0x0606_4b50;
const EOCD64_LEN: u64 = 56;
/// Most bytes allowed between a zip64 end record's start and its locator (the record plus its
/// "extensible data", which no bundle needs).
const MAX_EOCD64_SPAN: u64 = 64 * 1024;
/// Fixed part of a central directory record.
pub(super) const CDFH_LEN: u64 = 46;

/// Bytes of extra fields and comment per entry that the central directory size bound allows
/// (on average over the budgeted entry count). Info-ZIP writes 24 to 28 bytes of extra fields
/// per entry, Python none, a zip64 entry up to 28 more.
pub const DIRECTORY_EXTRA_PER_ENTRY: u64 = 128;

/// Largest central directory [`Budgets`] allow: `max_entries × (46 + max_path_len + 1 +
/// DIRECTORY_EXTRA_PER_ENTRY)` bytes, i.e. every budgeted entry with a name of the longest
/// allowed length (plus a directory's `/`) and [`DIRECTORY_EXTRA_PER_ENTRY`] bytes of extra
/// fields and comment. With the default budgets: 20000 × 687 = 13,740,000 bytes.
pub fn max_directory_size(budgets: &Budgets) -> u64 {
    (budgets.max_entries as u64)
        .saturating_mul(CDFH_LEN + budgets.max_path_len as u64 + 1 + DIRECTORY_EXTRA_PER_ENTRY)
}

/// Where the central directory is, as its end record(s) say, checked against the budgets.
#[derive(Debug, Clone, Copy)]
pub(super) struct Directory {
    /// Absolute offset of the first record in the file.
    pub(super) start: u64,
    pub(super) size: u64,
    pub(super) entries: u64,
    /// Bytes before the zip's own offset 0 (data prepended to the archive).
    pub(super) archive_offset: u64,
    /// Absolute offset of the (classic) end-of-central-directory record.
    pub(super) end_record: u64,
}

fn malformed(reason: &'static str) -> UnpackError {
    UnpackError::MalformedDirectory { reason }
}

fn u16_at(b: &[u8], at: usize) -> u64 {
    u64::from(u16::from_le_bytes([b[at], b[at + 1]]))
}

fn u32_at(b: &[u8], at: usize) -> u64 {
    u64::from(u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut x = [0u8; 8];
    x.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(x)
}

fn read_at(file: &mut File, zip_path: &Path, at: u64, buf: &mut [u8]) -> Result<(), UnpackError> {
    let op = "reading end of central directory of";
    file.seek(SeekFrom::Start(at)).map_err(io(op, zip_path))?;
    file.read_exact(buf).map_err(io(op, zip_path))?;
    Ok(())
}

/// Finds the central directory the way the zip reader will choose it (the last end record
/// whose comment fits in the file; its zip64 record when its count or offset is saturated and
/// a locator precedes it) and refuses it when it claims more entries than
/// `budgets.max_entries` ([`UnpackError::TooManyEntries`]) or more bytes than
/// [`max_directory_size`] ([`UnpackError::DirectoryTooLarge`]). Reads at most the last 64 KiB
/// and the zip64 record; allocates nothing proportional to the directory.
pub(super) fn locate(
    file: &mut File,
    zip_path: &Path,
    budgets: &Budgets,
) -> Result<Directory, UnpackError> {
    let len = file.metadata().map_err(io("inspecting", zip_path))?.len();
    if len < EOCD_LEN {
        return Err(malformed("no end-of-central-directory record"));
    }
    let tail_start = len.saturating_sub(EOCD_LEN + MAX_COMMENT);
    let mut tail = vec![0u8; (len - tail_start) as usize];
    read_at(file, zip_path, tail_start, &mut tail)?;
    let eocd_at = (0..=tail.len() - EOCD_LEN as usize)
        .rev()
        .find(|&i| {
            u32_at(&tail, i) == u64::from(EOCD_SIGNATURE)
                && tail_start + i as u64 + EOCD_LEN + u16_at(&tail, i + 20) <= len
        })
        .ok_or(malformed("no end-of-central-directory record"))?;
    let eocd = &tail[eocd_at..eocd_at + EOCD_LEN as usize];
    let eocd_pos = tail_start + eocd_at as u64;

    let classic_entries = u16_at(eocd, 8).max(u16_at(eocd, 10));
    let classic_size = u32_at(eocd, 12);
    let classic_offset = u32_at(eocd, 16);
    let may_be_zip64 = u16_at(eocd, 10) == 0xffff || classic_offset == 0xffff_ffff;

    let mut end = (eocd_pos, classic_entries, classic_size, classic_offset);
    if may_be_zip64 && eocd_pos >= LOCATOR_LEN {
        let locator_pos = eocd_pos - LOCATOR_LEN;
        let mut locator = [0u8; LOCATOR_LEN as usize];
        read_at(file, zip_path, locator_pos, &mut locator)?;
        if u32_at(&locator, 0) == u64::from(LOCATOR_SIGNATURE) {
            end = zip64_end(file, zip_path, locator_pos, u64_at(&locator, 8))?;
        }
    }
    let (records_end, entries, size, offset) = end;

    if entries > budgets.max_entries as u64 {
        return Err(UnpackError::TooManyEntries {
            count: usize::try_from(entries).unwrap_or(usize::MAX),
            limit: budgets.max_entries,
        });
    }
    let limit = max_directory_size(budgets);
    if size > limit {
        return Err(UnpackError::DirectoryTooLarge { size, limit });
    }
    if entries.saturating_mul(CDFH_LEN) > size {
        return Err(malformed(
            "central directory is smaller than its entry count needs",
        ));
    }
    // The directory ends where its end record starts; with data prepended to the archive its
    // recorded offset is short by the prefix, which is then the archive offset.
    let start = records_end.checked_sub(size).ok_or(malformed(
        "central directory is larger than the file before its end record",
    ))?;
    let archive_offset = start.checked_sub(offset).ok_or(malformed(
        "central directory offset is past where the directory is",
    ))?;
    let directory = Directory {
        start,
        size,
        entries,
        archive_offset,
        end_record: eocd_pos,
    };
    no_other_end_record(file, zip_path, &directory)?;
    Ok(directory)
}

/// Refuses an end-of-central-directory signature anywhere between the directory's start and
/// its end record. When the zip reader rejects the directory an end record names, it retries
/// the next end record before it; the [`Fence`] hides everything before the directory, and this
/// leaves nothing after it, so the reader parses this directory or none. Streams the range
/// (at most the directory size bound plus 64 KiB) through one 64 KiB buffer.
fn no_other_end_record(
    file: &mut File,
    zip_path: &Path,
    directory: &Directory,
) -> Result<(), UnpackError> {
    let op = "reading central directory of";
    let signature = EOCD_SIGNATURE.to_le_bytes();
    let mut at = directory.start;
    file.seek(SeekFrom::Start(at)).map_err(io(op, zip_path))?;
    let mut buf = vec![0u8; 64 * 1024];
    // The last 3 bytes of the previous chunk, so a signature split across chunks is found.
    let mut carry = 0usize;
    while at < directory.end_record {
        let want = ((directory.end_record - at) as usize).min(buf.len() - carry);
        file.read_exact(&mut buf[carry..carry + want])
            .map_err(io(op, zip_path))?;
        let filled = carry + want;
        if buf[..filled].windows(4).any(|w| w == signature) {
            return Err(malformed(
                "an end-of-central-directory signature inside the central directory",
            ));
        }
        at += want as u64;
        carry = filled.min(3);
        buf.copy_within(filled - carry..filled, 0);
    }
    Ok(())
}

/// Reads the zip64 end record named by the locator at `locator_pos`: right before the locator
/// when it has no extensible data, else at the locator's recorded offset. Returns (record
/// position, entries, directory size, directory offset).
fn zip64_end(
    file: &mut File,
    zip_path: &Path,
    locator_pos: u64,
    recorded: u64,
) -> Result<(u64, u64, u64, u64), UnpackError> {
    let mut record = [0u8; EOCD64_LEN as usize];
    for pos in [locator_pos.checked_sub(EOCD64_LEN), Some(recorded)]
        .into_iter()
        .flatten()
    {
        if pos.saturating_add(EOCD64_LEN) > locator_pos || locator_pos - pos > MAX_EOCD64_SPAN {
            continue;
        }
        read_at(file, zip_path, pos, &mut record)?;
        if u32_at(&record, 0) == u64::from(EOCD64_SIGNATURE) {
            let entries = u64_at(&record, 24).max(u64_at(&record, 32));
            return Ok((pos, entries, u64_at(&record, 40), u64_at(&record, 48)));
        }
    }
    Err(malformed(
        "zip64 end-of-central-directory record not found where its locator says",
    ))
}

/// A reader that reads zeros before a movable floor, so that while the zip reader parses the
/// central directory it sees nothing before the directory [`locate`] checked; setting the
/// floor to 0 (see [`Fence::lift`]) makes it a plain reader for the extraction.
pub(super) struct Fence<R> {
    inner: R,
    pos: u64,
    floor: Arc<AtomicU64>,
}

/// Lifts a [`Fence`] it was made with.
pub(super) struct FenceHandle(Arc<AtomicU64>);

impl FenceHandle {
    pub(super) fn lift(&self) {
        self.0.store(0, Ordering::Relaxed);
    }
}

impl<R: Seek> Fence<R> {
    pub(super) fn new(mut inner: R, floor: u64) -> io::Result<(Fence<R>, FenceHandle)> {
        let pos = inner.stream_position()?;
        let floor = Arc::new(AtomicU64::new(floor));
        Ok((
            Fence {
                inner,
                pos,
                floor: Arc::clone(&floor),
            },
            FenceHandle(floor),
        ))
    }
}

impl<R: Read + Seek> Read for Fence<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let floor = self.floor.load(Ordering::Relaxed);
        if self.pos < floor {
            let n = (floor - self.pos).min(buf.len() as u64) as usize;
            buf[..n].fill(0);
            self.pos += n as u64;
            self.inner.seek(SeekFrom::Start(self.pos))?;
            return Ok(n);
        }
        let n = self.inner.read(buf)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl<R: Seek> Seek for Fence<R> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        self.pos = self.inner.seek(to)?;
        Ok(self.pos)
    }
}
