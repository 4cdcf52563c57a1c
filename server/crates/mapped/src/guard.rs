//! The SIGBUS guard (Linux and Android): a process-wide signal handler and
//! a fixed registry of the address ranges of live maps.
//!
//! Reading a page of a file map past the file's current end raises SIGBUS,
//! which kills the process by default. The handler looks the faulting
//! address up in the registry; inside a live map it replaces the map from
//! the faulting page to its end with anonymous zero pages, marks the map
//! truncated and returns, so the read runs again and sees zeros. Any other
//! SIGBUS is handed back to the handler that was installed before ours (by
//! default: death by SIGBUS, as without the guard).
//!
//! The handler only loads and stores atomics in static memory and makes two
//! system calls (`mmap`, and `sigaction`/`raise` to hand a signal on): no
//! allocation, no lock, nothing that another thread could hold when the
//! signal arrives.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Once, OnceLock};

/// How many maps can be guarded at once. Past that, [`register`] says no and
/// the caller reads the file into memory instead (a copy cannot fault).
pub const CAPACITY: usize = 1024;

struct Slot {
    /// Owned by a live map (claimed with a compare-exchange).
    taken: AtomicBool,
    /// A sequence lock over `start`/`end`: odd while they are being
    /// written, so the handler uses a pair only if it read the same even
    /// value before and after it.
    sequence: AtomicUsize,
    start: AtomicUsize,
    end: AtomicUsize,
    truncated: AtomicBool,
}

impl Slot {
    const fn new() -> Slot {
        Slot {
            taken: AtomicBool::new(false),
            sequence: AtomicUsize::new(0),
            start: AtomicUsize::new(0),
            end: AtomicUsize::new(0),
            truncated: AtomicBool::new(false),
        }
    }

    fn set_range(&self, start: usize, end: usize) {
        self.sequence.fetch_add(1, SeqCst);
        self.start.store(start, SeqCst);
        self.end.store(end, SeqCst);
        self.sequence.fetch_add(1, SeqCst);
    }

    /// The registered range, if it was stable while read.
    fn range(&self) -> Option<(usize, usize)> {
        let before = self.sequence.load(SeqCst);
        if before % 2 == 1 {
            return None;
        }
        let range = (self.start.load(SeqCst), self.end.load(SeqCst));
        (self.sequence.load(SeqCst) == before).then_some(range)
    }
}

static REGISTRY: [Slot; CAPACITY] = [const { Slot::new() }; CAPACITY];
/// Slots at and past this index have never been taken: the handler stops there.
static USED: AtomicUsize = AtomicUsize::new(0);
/// Maps found truncated since the process started.
static TRUNCATIONS: AtomicUsize = AtomicUsize::new(0);
static PAGE_SIZE: AtomicUsize = AtomicUsize::new(0);
/// The SIGBUS action before ours, to hand other faults back to.
static PREVIOUS: OnceLock<libc::sigaction> = OnceLock::new();
static INSTALL: Once = Once::new();
static INSTALLED: AtomicBool = AtomicBool::new(false);

/// A map's place in the registry; dropping it unregisters the range (the
/// map must be unmapped only after that).
pub struct Registration {
    slot: usize,
}

impl Registration {
    /// Whether the handler zero-filled part of this map.
    pub fn was_truncated(&self) -> bool {
        REGISTRY[self.slot].truncated.load(SeqCst)
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let slot = &REGISTRY[self.slot];
        slot.set_range(0, 0);
        slot.truncated.store(false, SeqCst);
        slot.taken.store(false, SeqCst);
    }
}

/// Guards the `len` bytes mapped at `start` (a page-aligned file map),
/// installing the handler on first use. `None` when the registry is full
/// or the handler could not be installed: the caller must not keep the map.
pub fn register(start: usize, len: usize) -> Option<Registration> {
    install();
    if !INSTALLED.load(SeqCst) || len == 0 {
        return None;
    }
    let slot = (0..CAPACITY).find(|&index| {
        REGISTRY[index]
            .taken
            .compare_exchange(false, true, SeqCst, SeqCst)
            .is_ok()
    })?;
    REGISTRY[slot].truncated.store(false, SeqCst);
    REGISTRY[slot].set_range(start, start + len);
    USED.fetch_max(slot + 1, SeqCst);
    Some(Registration { slot })
}

/// How many maps were found truncated (and zero-filled) so far.
pub fn truncations() -> usize {
    TRUNCATIONS.load(SeqCst)
}

/// Maps registered now (for tests: every drop must give its slot back).
#[cfg(test)]
pub fn live() -> usize {
    REGISTRY[..USED.load(SeqCst)]
        .iter()
        .filter(|slot| slot.taken.load(SeqCst))
        .count()
}

fn install() {
    INSTALL.call_once(|| {
        // SAFETY: plain libc calls on zero-initialised C structs; the
        // handler below is async-signal-safe (see the module comment).
        unsafe {
            let page = libc::sysconf(libc::_SC_PAGESIZE);
            if page <= 0 {
                return;
            }
            PAGE_SIZE.store(page as usize, SeqCst);
            let mut previous: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(libc::SIGBUS, std::ptr::null(), &mut previous) != 0 {
                return;
            }
            let _ = PREVIOUS.set(previous);
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_sigbus as *const () as libc::sighandler_t;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
            libc::sigemptyset(&mut action.sa_mask);
            if libc::sigaction(libc::SIGBUS, &action, std::ptr::null_mut()) == 0 {
                INSTALLED.store(true, SeqCst);
            }
        }
    });
}

extern "C" fn on_sigbus(signal: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo to an SA_SIGINFO handler;
    // errno is thread-local and restored so the interrupted code never sees
    // our system calls' errors.
    unsafe {
        let errno = libc::__errno_location();
        let saved = *errno;
        // si_code > 0: raised by the kernel for a fault (not kill/raise).
        let from_fault = (*info).si_code > 0;
        if !(from_fault && zero_fill((*info).si_addr() as usize)) {
            hand_on(signal, from_fault);
        }
        *errno = saved;
    }
}

/// Replaces the guarded map holding `address` with zero pages from the
/// faulting page to the map's end. False when no live map holds it.
fn zero_fill(address: usize) -> bool {
    let page = PAGE_SIZE.load(SeqCst);
    let used = USED.load(SeqCst);
    for slot in &REGISTRY[..used] {
        let Some((start, end)) = slot.range() else {
            continue;
        };
        if !(start..end).contains(&address) {
            continue;
        }
        let from = address & !(page - 1);
        let to = (end + page - 1) & !(page - 1);
        // SAFETY: [from, to) lies inside a live read-only file map that the
        // faulting thread is reading; MAP_FIXED swaps its pages for
        // anonymous zero pages of the same protection, and the map's owner
        // unmaps the whole range as before when it is dropped.
        let result = unsafe {
            libc::mmap(
                from as *mut libc::c_void,
                to - from,
                libc::PROT_READ,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                -1,
                0,
            )
        };
        if result == libc::MAP_FAILED {
            return false;
        }
        if !slot.truncated.swap(true, SeqCst) {
            TRUNCATIONS.fetch_add(1, SeqCst);
        }
        return true;
    }
    false
}

/// Puts the previous action back for a SIGBUS that is not ours: a fault
/// then happens again when the handler returns and meets that action (by
/// default it kills the process, as it would have without us); a signal
/// sent with kill/raise is raised again for it.
///
/// # Safety
/// Called from the signal handler only.
unsafe fn hand_on(signal: libc::c_int, from_fault: bool) {
    // SAFETY: sigaction and raise are async-signal-safe; a zeroed
    // sigaction is SIG_DFL with an empty mask.
    unsafe {
        let default: libc::sigaction = std::mem::zeroed();
        let previous = PREVIOUS.get().unwrap_or(&default);
        libc::sigaction(signal, previous, std::ptr::null_mut());
        if !from_fault {
            libc::raise(signal);
        }
    }
}
