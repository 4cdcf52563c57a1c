//! Link options of the release binary, which should stay small (< 30 MB)
//! while its backtraces still name our files and lines:
//! - The release profile keeps line tables for our crates and splits the rest
//!   into `neuride.dwp`, but split DWARF leaves the line programs and range
//!   lists in the executable (about 8 MB): `--compress-debug-sections=zlib`
//!   makes them about 2 MB. Rust's backtraces read compressed sections, and so
//!   do gdb and addr2line.
//! - `--icf=all`: generic code instantiated for types of the same layout
//!   compiles to the same bytes; the linker keeps one copy.
//! - `--discard-all`: the names of the 40,000 local (non-exported) functions,
//!   4 MB of symbol table. A backtrace still gives every frame of our crates
//!   as file:line:column from the line tables, and std's frames by name; our
//!   own frames lose their function names (line tables do not carry them).
//! - Packed relative relocations (`-z pack-relative-relocs`, DT_RELR) when
//!   the C library loads them (glibc >= 2.36): the position-independent
//!   binary's 55,000 pointer fixups (string tables such as the ONNX operator
//!   schemas) take 1.3 MB as classic RELA entries and a few kB packed.
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let release = std::env::var("PROFILE").as_deref() == Ok("release");
    let linux = std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux");
    if !(release && linux) {
        return;
    }
    for arg in ["--compress-debug-sections=zlib", "--icf=all"] {
        println!("cargo:rustc-link-arg-bins=-Wl,{arg}");
    }
    // NEURIDE_KEEP_SYMBOLS=1 keeps the function names, for profiling with
    // perf (which reads them from the symbol table).
    println!("cargo:rerun-if-env-changed=NEURIDE_KEEP_SYMBOLS");
    if std::env::var_os("NEURIDE_KEEP_SYMBOLS").is_none_or(|v| v.is_empty() || v == "0") {
        println!("cargo:rustc-link-arg-bins=-Wl,--discard-all");
    }
    if glibc_loads_relr() {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}

/// True when building natively against glibc 2.36 or newer, the first that
/// applies DT_RELR relocations (older ones would refuse to start the binary).
fn glibc_loads_relr() -> bool {
    let native = std::env::var("HOST").ok() == std::env::var("TARGET").ok();
    let gnu = std::env::var("CARGO_CFG_TARGET_ENV").as_deref() == Ok("gnu");
    if !(native && gnu) {
        return false;
    }
    // SAFETY: gnu_get_libc_version returns a static NUL-terminated string.
    let version = unsafe { std::ffi::CStr::from_ptr(libc::gnu_get_libc_version()) };
    let mut parts = version
        .to_str()
        .unwrap_or("")
        .split('.')
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (major, minor) >= (2, 36)
}
