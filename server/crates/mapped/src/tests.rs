use super::*;
use std::io::Write;
use std::sync::Mutex;

/// Tests that fill the registry would make other tests' maps copies:
/// every test that maps takes this lock.
static REGISTRY_LOCK: Mutex<()> = Mutex::new(());

fn lock() -> std::sync::MutexGuard<'static, ()> {
    REGISTRY_LOCK
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A temporary file of `len` bytes, none of them zero.
fn file_of(len: usize) -> (tempfile::NamedTempFile, Vec<u8>) {
    let bytes: Vec<u8> = (0..len).map(|i| (i % 251) as u8 + 1).collect();
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(&bytes).unwrap();
    file.flush().unwrap();
    (file, bytes)
}

/// A temporary file of `len` bytes (none of them zero) and a map of it.
fn mapped_file_of(len: usize) -> (tempfile::NamedTempFile, Vec<u8>, Map) {
    let (file, bytes) = file_of(len);
    let map = Map::new(file.as_file()).unwrap();
    (file, bytes, map)
}

/// Truncates `path` to `len` through another handle, as a writer would.
fn truncate(path: &Path, len: u64) {
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .unwrap()
        .set_len(len)
        .unwrap();
}

#[test]
fn a_map_truncated_to_nothing_reads_zeros_and_says_so() {
    let _lock = lock();
    let (file, original, map) = mapped_file_of(5 * 4096 + 123);
    let bytes = map.bytes();
    assert!(map.is_mapped());
    assert_eq!(&map[..], &original[..]);
    assert!(!map.was_truncated());
    let before = truncations();

    truncate(file.path(), 0);
    assert!(
        bytes.iter().all(|&b| b == 0),
        "a truncated page read non-zero"
    );
    assert_eq!(bytes.len(), original.len(), "the map keeps its length");
    assert!(map.was_truncated());
    assert!(truncations() > before);
}

#[test]
fn a_map_cut_short_keeps_the_bytes_before_the_cut() {
    let _lock = lock();
    let (file, original, map) = mapped_file_of(6 * 4096);
    truncate(file.path(), 100);
    assert_eq!(&map[..100], &original[..100]);
    assert!(map[100..].iter().all(|&b| b == 0));
    assert!(map.was_truncated());
}

#[test]
fn threads_reading_one_truncated_map_all_see_zeros() {
    let _lock = lock();
    let (file, _, map) = mapped_file_of(64 * 4096);
    truncate(file.path(), 0);
    let sums: Vec<u64> = std::thread::scope(|scope| {
        let readers: Vec<_> = (0..4)
            .map(|reader| {
                let map = &map;
                scope.spawn(move || {
                    // Each starts at a different page, so several fault at once.
                    let start = reader * 16 * 4096;
                    map[start..]
                        .iter()
                        .chain(&map[..start])
                        .map(|&b| u64::from(b))
                        .sum()
                })
            })
            .collect();
        readers.into_iter().map(|r| r.join().unwrap()).collect()
    });
    assert_eq!(sums, [0, 0, 0, 0]);
    assert!(map.was_truncated());
}

#[test]
fn an_untouched_map_is_not_truncated_and_a_copy_never_is() {
    let _lock = lock();
    let (file, original, map) = mapped_file_of(3 * 4096);
    let contents = read(file.path()).unwrap();
    assert!(
        contents.file().is_none(),
        "a small file is read, not mapped"
    );
    truncate(file.path(), 0);
    // Nothing read the map since the cut: nothing was computed from zeros.
    assert!(!map.was_truncated());
    assert_eq!(&contents.bytes[..], &original[..]);
    assert!(!contents.was_truncated());
}

#[test]
fn empty_files_are_empty_maps() {
    let _lock = lock();
    let file = tempfile::NamedTempFile::new().unwrap();
    let map = Map::new(file.as_file()).unwrap();
    assert!(map.is_empty() && !map.is_mapped() && !map.was_truncated());
    assert!(map.bytes().is_empty());
    assert!(read(file.path()).unwrap().bytes.is_empty());
}

#[test]
fn read_maps_big_files_and_guards_them() {
    let _lock = lock();
    let file = tempfile::NamedTempFile::new().unwrap();
    file.as_file().set_len(MAP_FROM).unwrap();
    let contents = read(file.path()).unwrap();
    assert!(contents.file().is_some());
    assert!(contents.map().unwrap().is_mapped());
    assert_eq!(contents.bytes.len() as u64, MAP_FROM);
    truncate(file.path(), 0);
    assert_eq!(contents.bytes[MAP_FROM as usize - 1], 0);
    assert!(contents.was_truncated());
}

#[cfg(any(target_os = "linux", target_os = "android"))]
#[test]
fn a_full_registry_copies_and_dropped_maps_free_their_slots() {
    let _lock = lock();
    let (file, original) = file_of(4096);
    let maps: Vec<Map> = (0..guard::CAPACITY + 8)
        .map(|_| Map::new(file.as_file()).unwrap())
        .collect();
    assert!(maps.iter().all(|map| map[..] == original[..]));
    let copies = maps.iter().filter(|map| !map.is_mapped()).count();
    assert!(copies >= 8, "{copies} copies past the registry's capacity");
    assert_eq!(guard::live(), guard::CAPACITY);
    drop(maps);
    assert_eq!(guard::live(), 0, "every dropped map unregisters");
    assert!(Map::new(file.as_file()).unwrap().is_mapped());
}

/// Runs this test binary again as a child running only `test`, with
/// `CHILD_ROLE` set so that test plays the child.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn run_child(test: &str) -> std::process::ExitStatus {
    std::process::Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--test-threads=1", "--nocapture"])
        .env(CHILD_ROLE, "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap()
}

#[cfg(any(target_os = "linux", target_os = "android"))]
const CHILD_ROLE: &str = "NEURIDE_MAPPED_TEST_CHILD";

/// In the child: maps `file` without a guard, cuts the file under the map
/// and reads every byte, which must fault.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn fault_unguarded(file: &tempfile::NamedTempFile) -> u64 {
    // SAFETY: the point of the test: this map must fault.
    let plain = unsafe { memmap2::Mmap::map(file.as_file()) }.unwrap();
    truncate(file.path(), 0);
    plain.iter().map(|&b| u64::from(b)).sum()
}

/// Runs `test` in a child process, which must die of SIGBUS.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn assert_child_dies_of_sigbus(test: &str) {
    use std::os::unix::process::ExitStatusExt;
    let status = run_child(test);
    assert_eq!(
        status.signal(),
        Some(libc::SIGBUS),
        "child ended with {status}"
    );
}

#[cfg(any(target_os = "linux", target_os = "android"))]
#[test]
fn a_fault_outside_any_guarded_map_still_kills() {
    if std::env::var_os(CHILD_ROLE).is_some() {
        // The guard is installed by a map of our own...
        let (ours, _) = file_of(4096);
        let _guarded = Map::new(ours.as_file()).unwrap();
        // ...but this map is not ours, so its fault is not either.
        let (theirs, _) = file_of(4 * 4096);
        let sum = fault_unguarded(&theirs);
        println!("survived a fault outside our maps ({sum})");
        return;
    }
    assert_child_dies_of_sigbus("tests::a_fault_outside_any_guarded_map_still_kills");
}

#[cfg(any(target_os = "linux", target_os = "android"))]
#[test]
fn a_fault_after_a_guarded_map_was_dropped_still_kills() {
    if std::env::var_os(CHILD_ROLE).is_some() {
        let (file, _) = file_of(4 * 4096);
        let guarded = Map::new(file.as_file()).unwrap();
        drop(guarded);
        // The same pages mapped again, without the guard: its slot is gone.
        let sum = fault_unguarded(&file);
        println!("survived a fault in a map no longer guarded ({sum})");
        return;
    }
    assert_child_dies_of_sigbus("tests::a_fault_after_a_guarded_map_was_dropped_still_kills");
}
