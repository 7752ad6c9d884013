//! Checks for what samael's build script needs (`xmlsec1-config`, `pkg-config` with xmlsec1,
//! libxml2 and OpenSSL, and libclang for bindgen) and fails with the install command if any is
//! missing. `SPORTELLO_SKIP_SYSDEPS_CHECK=1` skips it (a system laid out in a way this does not
//! know: samael's own build then says what it lacks).

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo::rerun-if-env-changed=SPORTELLO_SKIP_SYSDEPS_CHECK");
    println!("cargo::rerun-if-env-changed=LIBCLANG_PATH");
    println!("cargo::rerun-if-env-changed=PKG_CONFIG_PATH");
    if env::var_os("SPORTELLO_SKIP_SYSDEPS_CHECK").is_some_and(|v| v != "0") {
        return;
    }
    let mut missing: Vec<(&str, &str)> = Vec::new();
    let runs = |cmd: &str, args: &[&str]| {
        Command::new(cmd)
            .args(args)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let pkg_config = runs("pkg-config", &["--version"]);
    if !pkg_config {
        missing.push(("pkg-config", "pkg-config"));
    }
    // With pkg-config, ask it; without, look for the libraries' .pc files, so that one message
    // names everything missing.
    let has = |module: &str| {
        if pkg_config {
            runs("pkg-config", &["--exists", module])
        } else {
            pc_file_exists(module)
        }
    };
    if !runs("xmlsec1-config", &["--cflags"]) || !has("xmlsec1") {
        missing.push(("libxmlsec1-dev", "libxmlsec1"));
    }
    if !has("libxml-2.0") {
        missing.push(("libxml2-dev", "libxml2"));
    }
    if !has("openssl") {
        missing.push(("libssl-dev", "openssl"));
    }
    if !libclang_found() {
        missing.push(("libclang-dev", "llvm"));
    }
    if missing.is_empty() {
        return;
    }
    let debian: Vec<&str> = missing.iter().map(|m| m.0).collect();
    let brew: Vec<&str> = missing.iter().map(|m| m.1).collect();
    println!(
        "cargo::error=Sportello's SAML support (samael) needs system libraries that are missing: {}.",
        debian.join(", ")
    );
    if Path::new("/etc/debian_version").exists() {
        let root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
        let sudo = if root { "" } else { "sudo " };
        println!(
            "cargo::error=Install them with: {sudo}apt-get update && {sudo}apt-get install -y \
             --no-install-recommends {}",
            debian.join(" ")
        );
    } else if cfg!(target_os = "macos") {
        println!(
            "cargo::error=Install them with: brew install {}",
            brew.join(" ")
        );
    } else {
        println!(
            "cargo::error=Install them with your package manager (Debian names: {}).",
            debian.join(" ")
        );
    }
    if Path::new("/etc/debian_version").exists() {
        println!(
            "cargo::error=Or run `bash infra/demo.sh`, which installs them and starts the demo \
             portal."
        );
    }
}

/// Whether a pkg-config module's `.pc` file is in one of the usual places.
fn pc_file_exists(module: &str) -> bool {
    [
        "/usr/lib/x86_64-linux-gnu/pkgconfig",
        "/usr/lib/aarch64-linux-gnu/pkgconfig",
        "/usr/lib/pkgconfig",
        "/usr/lib64/pkgconfig",
        "/usr/share/pkgconfig",
        "/usr/local/lib/pkgconfig",
        "/opt/homebrew/lib/pkgconfig",
    ]
    .iter()
    .any(|d| Path::new(d).join(format!("{module}.pc")).exists())
}

/// Whether bindgen will find libclang: the places clang-sys looks first.
fn libclang_found() -> bool {
    let mut dirs: Vec<PathBuf> = Vec::new();
    if let Some(p) = env::var_os("LIBCLANG_PATH") {
        let p = PathBuf::from(p);
        if p.is_file() {
            return true;
        }
        dirs.push(p);
    }
    if let Ok(o) = Command::new("llvm-config").arg("--libdir").output()
        && o.status.success()
    {
        dirs.push(PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    }
    for parent in [
        "/usr/lib",
        "/usr/local/lib",
        "/usr/lib64",
        "/usr/lib/x86_64-linux-gnu",
        "/usr/lib/aarch64-linux-gnu",
        "/opt/homebrew/opt/llvm/lib",
        "/usr/local/opt/llvm/lib",
        "/Library/Developer/CommandLineTools/usr/lib",
        "/Applications/Xcode.app/Contents/Developer/Toolchains/XcodeDefault.xctoolchain/usr/lib",
    ] {
        dirs.push(PathBuf::from(parent));
    }
    // Debian and Fedora keep one folder per LLVM version.
    for root in ["/usr/lib", "/usr/lib64"] {
        if let Ok(entries) = std::fs::read_dir(root) {
            for e in entries.flatten() {
                if e.file_name().to_string_lossy().starts_with("llvm") {
                    dirs.push(e.path().join("lib"));
                }
            }
        }
    }
    dirs.iter().any(|d| has_libclang(d))
}

/// The development link of libclang (`libclang.so`, `libclang-14.so`, `libclang.dylib`), which
/// comes with the headers bindgen also needs; a versioned `libclang.so.1` alone (the runtime
/// package) and `libclang-cpp` do not count.
fn has_libclang(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().any(|e| {
        let name = e.file_name().to_string_lossy().into_owned();
        match name.strip_prefix("libclang") {
            Some(".so" | ".dylib") => true,
            Some(rest) => rest
                .strip_prefix('-')
                .and_then(|r| r.strip_suffix(".so"))
                .is_some_and(|v| {
                    !v.is_empty() && v.chars().all(|c| c.is_ascii_digit() || c == '.')
                }),
            None => false,
        }
    })
}
