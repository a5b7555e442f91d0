//! A redb storage backend for crash tests: a disk with a *durable* image (what survives a power
//! cut) and a *volatile* one (what the running process sees, the OS page cache).
//!
//! Writes land in the volatile image and are queued; `sync_data` makes the volatile image
//! durable. [`TestDisk::power_cut`] gives the durable image only (every write not followed by a
//! sync is lost); [`TestDisk::capture_syncs`] keeps, before each sync, both that and a torn
//! image (a random half of the unsynced writes made it: a disk that wrote some pages back on its
//! own, in any order). [`TestDisk::fail_writes`] makes
//! every write, resize and sync fail with ENOSPC from then on, until switched off.
//!
//! A [`TestDisk`] is a handle: clones share the images; [`TestDisk::backend`] gives the
//! `StorageBackend` redb uses.

use std::io;
use std::sync::{Arc, Mutex, MutexGuard};

#[derive(Debug, Default)]
struct Images {
    durable: Vec<u8>,
    volatile: Vec<u8>,
    /// Writes (and resizes, as a write of nothing at the new length) since the last sync.
    pending: Vec<Pending>,
    syncs: u64,
    fail: bool,
    failed_ops: u64,
    /// When on, the images a power cut would leave just before each sync are kept.
    capture: bool,
    captures: Vec<Capture>,
    rng: u64,
}

/// What a power cut just before a sync would leave.
#[derive(Debug, Clone)]
pub struct Capture {
    /// Syncs completed before the cut.
    pub after_syncs: u64,
    /// The durable image (every unsynced write lost).
    pub clean: Vec<u8>,
    /// The durable image plus a random half of the unsynced writes.
    pub torn: Vec<u8>,
}

#[derive(Debug, Clone)]
enum Pending {
    Write(u64, Vec<u8>),
    SetLen(u64),
}

/// See the module docs.
#[derive(Debug, Clone, Default)]
pub struct TestDisk(Arc<Mutex<Images>>);

impl TestDisk {
    /// An empty disk.
    pub fn new() -> Self {
        Self::default()
    }

    /// A disk whose durable and volatile images are `image` (a machine booting after a cut).
    pub fn from_image(image: Vec<u8>) -> Self {
        TestDisk(Arc::new(Mutex::new(Images {
            durable: image.clone(),
            volatile: image,
            ..Images::default()
        })))
    }

    fn lock(&self) -> MutexGuard<'_, Images> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The backend redb writes through.
    pub fn backend(&self) -> TestBackend {
        TestBackend(self.clone())
    }

    /// How many syncs completed.
    pub fn syncs(&self) -> u64 {
        self.lock().syncs
    }

    /// Keeps (or stops keeping) what a power cut just before each sync would leave.
    pub fn capture_syncs(&self, on: bool) {
        let mut images = self.lock();
        images.capture = on;
        if images.rng == 0 {
            images.rng = 0x9e37_79b9_7f4a_7c15;
        }
    }

    /// The captures so far (taken out).
    pub fn take_captures(&self) -> Vec<Capture> {
        std::mem::take(&mut self.lock().captures)
    }

    /// What a power cut now leaves: the durable image.
    pub fn power_cut(&self) -> Vec<u8> {
        self.lock().durable.clone()
    }

    /// What the process sees now (a process crash without a power cut leaves this).
    pub fn volatile(&self) -> Vec<u8> {
        self.lock().volatile.clone()
    }

    /// From now on (until `fail_writes(false)`) every write, resize and sync fails with ENOSPC.
    pub fn fail_writes(&self, fail: bool) {
        self.lock().fail = fail;
    }

    /// How many operations failed.
    pub fn failed_ops(&self) -> u64 {
        self.lock().failed_ops
    }
}

fn torn(images: &Images, mut keep: impl FnMut() -> bool) -> Vec<u8> {
    let mut image = images.durable.clone();
    for p in images.pending.iter().filter(|_| keep()) {
        p.apply(&mut image);
    }
    image
}

impl Pending {
    /// Writes this onto `image`.
    fn apply(&self, image: &mut Vec<u8>) {
        match self {
            Pending::Write(offset, data) => {
                let (start, end) = (*offset as usize, *offset as usize + data.len());
                if image.len() < end {
                    image.resize(end, 0);
                }
                image[start..end].copy_from_slice(data);
            }
            Pending::SetLen(len) => image.resize(*len as usize, 0),
        }
    }
}

/// The `StorageBackend` of a [`TestDisk`].
#[derive(Debug)]
pub struct TestBackend(TestDisk);

fn no_space() -> io::Error {
    io::Error::from_raw_os_error(28) // ENOSPC
}

impl TestBackend {
    fn mutate(&self, f: impl FnOnce(&mut Images)) -> io::Result<()> {
        let mut images = self.0.lock();
        if images.fail {
            images.failed_ops += 1;
            return Err(no_space());
        }
        f(&mut images);
        Ok(())
    }
}

impl redb::StorageBackend for TestBackend {
    fn len(&self) -> io::Result<u64> {
        Ok(self.0.lock().volatile.len() as u64)
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> io::Result<()> {
        let images = self.0.lock();
        let start = usize::try_from(offset).map_err(|_| io::ErrorKind::InvalidInput)?;
        let src = images
            .volatile
            .get(start..start + out.len())
            .ok_or(io::ErrorKind::UnexpectedEof)?;
        out.copy_from_slice(src);
        Ok(())
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        self.mutate(|i| {
            i.volatile.resize(len as usize, 0);
            i.pending.push(Pending::SetLen(len));
        })
    }

    fn sync_data(&self) -> io::Result<()> {
        self.mutate(|i| {
            if i.capture {
                let mut rng = i.rng;
                let torn = torn(i, || {
                    // xorshift64
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    rng & 1 == 1
                });
                i.rng = rng;
                i.captures.push(Capture {
                    after_syncs: i.syncs,
                    clean: i.durable.clone(),
                    torn,
                });
            }
            // The unsynced writes, in order, make the durable image the volatile one (cheaper
            // than copying the image at every commit).
            for p in std::mem::take(&mut i.pending) {
                p.apply(&mut i.durable);
            }
            i.syncs += 1;
        })
    }

    fn write(&self, offset: u64, data: &[u8]) -> io::Result<()> {
        self.mutate(|i| {
            let (start, end) = (offset as usize, offset as usize + data.len());
            if i.volatile.len() < end {
                i.volatile.resize(end, 0);
            }
            i.volatile[start..end].copy_from_slice(data);
            i.pending.push(Pending::Write(offset, data.to_vec()));
        })
    }
}
