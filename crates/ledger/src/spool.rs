//! The spool: an append-only local file that holds batches a store refused (a PostgreSQL
//! that is down, a SQLite file that is locked), so they survive a restart and are replayed in
//! order when the store accepts writes again. The recorder spools ledger [`Record`]s in
//! `ledger-N.spool`; the eval store's capture writer spools its captures and shadow results
//! in `eval-N.spool` beside them (any serde type, under its own file name).
//!
//! Format: a sequence of entries, one per batch, each
//! `length: u32 LE | crc32(payload): u32 LE | payload`, the payload being the batch as a JSON
//! array of items. Every append is one `write` followed by `fsync`, so after a crash the
//! file is a run of whole entries possibly followed by one torn entry; reading stops at the
//! first entry whose length runs past the end or whose checksum does not match. At open that
//! torn tail is moved aside to `<spool>.torn-<unix seconds>` (kept for inspection, never
//! replayed) and cut off, so later appends stay readable.
//!
//! Invariants:
//! - Entries are replayed in the order they were appended; the file is emptied only after the
//!   store committed every entry in it. An entry committed and then sent again (a crash after
//!   the commit, before the truncate) is harmless: the store skips request ids it already
//!   holds, and only new rows reach the rollups.
//! - One process owns a spool file: it claims `<name>-N.spool` with a lock file holding its
//!   pid (a lock whose process is gone is stale and taken over), so replicas sharing a
//!   directory never truncate each other's records.
//!
//! Must not know which store it feeds.

use crate::Record;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// An entry longer than this is taken for a torn length field, not a batch.
const MAX_ENTRY: u32 = 256 << 20;
/// How many spool files one directory may hold (one per process sharing it).
const MAX_SLOTS: u32 = 64;

/// Lock files this process holds (two recorders in one process, as in tests, must not share).
static CLAIMED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// A claimed spool file of batches of `T` (ledger records unless named otherwise).
pub struct Spool<T = Record> {
    path: PathBuf,
    lock: PathBuf,
    file: File,
    bytes: u64,
    records: u64,
    /// Entries before this offset are committed (a replay that stopped half way resumes here).
    replayed: u64,
    items: PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for Spool<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Spool({}, {} bytes)", self.path.display(), self.bytes)
    }
}

/// What a scan of the file found.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Scan {
    /// End of the last whole entry.
    pub valid: u64,
    pub entries: u64,
    pub records: u64,
}

impl Spool<Record> {
    /// Claims the first free `ledger-N.spool` in `dir`: the recorder's spool.
    pub(crate) fn claim(dir: &Path) -> io::Result<Spool> {
        Spool::claim_named(dir, "ledger")
    }
}

impl<T: Serialize + DeserializeOwned> Spool<T> {
    /// Claims the first free `<name>-N.spool` in `dir` (creating it), cuts off a torn tail
    /// and counts what a previous run left. `name` keeps stores sharing a directory apart.
    pub fn claim_named(dir: &Path, name: &str) -> io::Result<Spool<T>> {
        std::fs::create_dir_all(dir)?;
        let dir = &dir.canonicalize()?;
        for slot in 0..MAX_SLOTS {
            let lock = dir.join(format!("{name}-{slot}.lock"));
            if !take_lock(&lock)? {
                continue;
            }
            let path = dir.join(format!("{name}-{slot}.spool"));
            return match Spool::open(path, lock.clone()) {
                Ok(s) => Ok(s),
                Err(e) => {
                    release(&lock);
                    Err(e)
                }
            };
        }
        Err(io::Error::other(format!(
            "all {MAX_SLOTS} spool slots in {} are held by running processes",
            dir.display()
        )))
    }

    fn open(path: PathBuf, lock: PathBuf) -> io::Result<Spool<T>> {
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)?;
        let len = file.metadata()?.len();
        let scan = scan::<T>(&mut file)?;
        if scan.valid < len {
            set_aside(&mut file, &path, scan.valid, len)?;
        }
        Ok(Spool {
            path,
            lock,
            file,
            bytes: scan.valid,
            records: scan.records,
            replayed: 0,
            items: PhantomData,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn is_empty(&self) -> bool {
        self.bytes == 0
    }

    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Items (records) in the spool not yet replayed.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Appends one batch durably (written and fsynced before this returns).
    pub fn append(&mut self, batch: &[T]) -> io::Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let entry = encode(batch)?;
        if let Err(e) = self
            .file
            .write_all(&entry)
            .and_then(|_| self.file.sync_data())
        {
            // A partial write would make every later entry unreadable: cut it off again.
            let _ = self.file.set_len(self.bytes);
            return Err(e);
        }
        self.bytes += entry.len() as u64;
        self.records += batch.len() as u64;
        Ok(())
    }

    /// Hands each entry not yet committed to `commit`, oldest first; empties the file once
    /// all are committed. Stops at the first refusal (the entry is offered again next time).
    /// Returns how many records were handed over and accepted.
    pub fn replay<E>(
        &mut self,
        commit: &mut dyn FnMut(&[T]) -> Result<(), E>,
    ) -> Result<Result<u64, E>, io::Error> {
        let mut done = 0u64;
        while self.replayed < self.bytes {
            self.file.seek(SeekFrom::Start(self.replayed))?;
            let Some((batch, len)) = read_entry::<T>(&mut self.file)? else {
                // Cannot happen for a file only this process appends to; keep the data.
                return Err(io::Error::other(format!(
                    "the spool {} is unreadable at byte {}",
                    self.path.display(),
                    self.replayed
                )));
            };
            if let Err(e) = commit(&batch) {
                return Ok(Err(e));
            }
            self.replayed += len;
            self.records = self.records.saturating_sub(batch.len() as u64);
            done += batch.len() as u64;
        }
        self.clear()?;
        Ok(Ok(done))
    }

    /// Empties the file (every entry is committed).
    fn clear(&mut self) -> io::Result<()> {
        self.file.set_len(0)?;
        self.file.sync_data()?;
        self.bytes = 0;
        self.records = 0;
        self.replayed = 0;
        Ok(())
    }
}

impl<T> Drop for Spool<T> {
    fn drop(&mut self) {
        release(&self.lock);
    }
}

fn claimed() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    CLAIMED.lock().unwrap_or_else(|p| p.into_inner())
}

fn release(lock: &Path) {
    claimed().retain(|p| p != lock);
    let _ = std::fs::remove_file(lock);
}

/// Takes `lock` for this process: creates it with our pid, or takes it over when the process
/// named in it is gone (or is this process's previous life under the same pid, as in a
/// container). False when a live process, or another recorder of this one, holds it.
fn take_lock(lock: &Path) -> io::Result<bool> {
    let me = std::process::id();
    let mut claimed = claimed();
    if claimed.iter().any(|p| p == lock) {
        return Ok(false);
    }
    for _ in 0..2 {
        match OpenOptions::new().write(true).create_new(true).open(lock) {
            Ok(mut f) => {
                f.write_all(me.to_string().as_bytes())?;
                f.sync_data()?;
                claimed.push(lock.to_path_buf());
                return Ok(true);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                let holder = std::fs::read_to_string(lock).unwrap_or_default();
                match holder.trim().parse::<u32>() {
                    Ok(pid) if pid != me && alive(pid) => return Ok(false),
                    // Stale (or ours from a previous life with the same pid): take it over.
                    _ => std::fs::remove_file(lock)?,
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(false)
}

/// Whether a process with this pid runs (Linux: its `/proc` entry exists). Where `/proc` is
/// missing every holder counts as alive, so a directory is never shared by mistake.
fn alive(pid: u32) -> bool {
    if !Path::new("/proc/self").exists() {
        return true;
    }
    Path::new(&format!("/proc/{pid}")).exists()
}

/// Copies the torn bytes `[from, to)` beside the spool and cuts them off.
fn set_aside(file: &mut File, path: &Path, from: u64, to: u64) -> io::Result<()> {
    let mut torn = Vec::new();
    file.seek(SeekFrom::Start(from))?;
    file.take(to - from).read_to_end(&mut torn)?;
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let aside = path.with_extension(format!("spool.torn-{secs}"));
    std::fs::write(&aside, &torn)?;
    tracing::error!(
        spool = %path.display(),
        torn_bytes = to - from,
        kept_in = %aside.display(),
        "the spool ends in an incomplete entry (a crash during a write); it is set aside and not replayed"
    );
    file.set_len(from)?;
    file.sync_data()
}

/// One entry's bytes.
pub(crate) fn encode<T: Serialize>(batch: &[T]) -> io::Result<Vec<u8>> {
    let payload = serde_json::to_vec(batch).map_err(io::Error::other)?;
    let len = u32::try_from(payload.len())
        .ok()
        .filter(|l| *l <= MAX_ENTRY)
        .ok_or_else(|| io::Error::other("a batch too large for one spool entry"))?;
    let mut out = Vec::with_capacity(payload.len() + 8);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&crc32(&payload).to_le_bytes());
    out.extend_from_slice(&payload);
    Ok(out)
}

/// Reads the entry at the reader's position: the batch and the entry's length in bytes, or
/// `None` at the end or at a torn entry.
fn read_entry<T: DeserializeOwned>(r: &mut impl Read) -> io::Result<Option<(Vec<T>, u64)>> {
    let mut head = [0u8; 8];
    if !read_full(r, &mut head)? {
        return Ok(None);
    }
    let len = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
    let sum = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
    if len > MAX_ENTRY {
        return Ok(None);
    }
    let mut payload = vec![0u8; len as usize];
    if !read_full(r, &mut payload)? || crc32(&payload) != sum {
        return Ok(None);
    }
    match serde_json::from_slice::<Vec<T>>(&payload) {
        Ok(batch) => Ok(Some((batch, u64::from(len) + 8))),
        Err(_) => Ok(None),
    }
}

/// Fills `buf`; false when the input ends first.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<bool> {
    let mut at = 0;
    while at < buf.len() {
        match r.read(&mut buf[at..]) {
            Ok(0) => return Ok(false),
            Ok(n) => at += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

/// Reads every whole entry from the start.
pub(crate) fn scan<T: DeserializeOwned>(r: &mut (impl Read + Seek)) -> io::Result<Scan> {
    r.seek(SeekFrom::Start(0))?;
    let mut out = Scan::default();
    let mut reader = io::BufReader::new(r);
    while let Some((batch, len)) = read_entry::<T>(&mut reader)? {
        out.valid += len;
        out.entries += 1;
        out.records += batch.len() as u64;
    }
    Ok(out)
}

/// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), bitwise: a spool entry is
/// checksummed once when written and once when read, so table-free speed is plenty.
pub(crate) fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

#[cfg(test)]
#[path = "spool_tests.rs"]
mod tests;
