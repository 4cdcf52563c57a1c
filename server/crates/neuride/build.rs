//! Release builds ask the linker to compress the DWARF left in the binary.
//! The release profile keeps line tables for our crates (backtraces name the
//! file and line) and splits the rest into `neuride.dwp`, but split DWARF
//! still leaves the line programs and range lists in the executable: about
//! 8 MB, compressed to about 2 MB by `--compress-debug-sections=zlib`. Rust's
//! backtraces read compressed sections, and so do gdb and addr2line.
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let release = std::env::var("PROFILE").as_deref() == Ok("release");
    let linux = std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux");
    if release && linux {
        println!("cargo:rustc-link-arg-bins=-Wl,--compress-debug-sections=zlib");
    }
}
