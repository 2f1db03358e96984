//! Where a run ran, written into its report. The same config and seed can end a few hundredths
//! of a percent apart on two machines (the embedded default: 96.05 % on earlier hosts, 95.80 %
//! on a later one; docs/results.md, foundation §1), so a figure carries what it was computed with.

use serde::Serialize;

#[derive(Clone, Debug, Serialize)]
pub struct Host {
    /// The processor's model name as the system reports it.
    pub cpu: String,
    /// The vector extensions the kernels dispatch on, of those this processor has.
    pub simd: Vec<&'static str>,
    /// The C library the math functions (`expf`, `logf`, …) come from.
    pub libc: String,
    /// The compiler that built this binary.
    pub rustc: &'static str,
    pub spikelab: &'static str,
}

impl Host {
    pub fn current() -> Self {
        Host { cpu: cpu_model(), simd: simd_features(), libc: libc_version(), rustc: env!("SPIKELAB_RUSTC_VERSION"), spikelab: env!("CARGO_PKG_VERSION") }
    }

    pub fn human(&self) -> String {
        let simd = if self.simd.is_empty() { "no vector extensions".to_string() } else { self.simd.join(" ") };
        format!("{} ({simd}), {}, {}", self.cpu, self.libc, self.rustc)
    }
}

fn cpu_model() -> String {
    let from_cpuinfo =
        std::fs::read_to_string("/proc/cpuinfo").ok().and_then(|info| info.lines().find(|l| l.starts_with("model name")).and_then(|l| l.split_once(':')).map(|(_, name)| name.trim().to_string()));
    from_cpuinfo.unwrap_or_else(|| format!("unknown {} processor", std::env::consts::ARCH))
}

fn simd_features() -> Vec<&'static str> {
    #[cfg(target_arch = "x86_64")]
    {
        let detected =
            [("avx512f", is_x86_feature_detected!("avx512f")), ("avx2", is_x86_feature_detected!("avx2")), ("fma", is_x86_feature_detected!("fma")), ("sse4.1", is_x86_feature_detected!("sse4.1"))];
        detected.into_iter().filter(|(_, has)| *has).map(|(name, _)| name).collect()
    }
    #[cfg(target_arch = "aarch64")]
    {
        if std::arch::is_aarch64_feature_detected!("neon") {
            vec!["neon"]
        } else {
            Vec::new()
        }
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        Vec::new()
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn libc_version() -> String {
    extern "C" {
        fn gnu_get_libc_version() -> *const std::ffi::c_char;
    }
    // SAFETY: glibc returns a pointer to a static NUL-terminated string that lives as long as
    // the process.
    let version = unsafe { std::ffi::CStr::from_ptr(gnu_get_libc_version()) };
    format!("glibc {}", version.to_string_lossy())
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn libc_version() -> String {
    format!("the {} C library of {}", std::env::consts::OS, std::env::consts::ARCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_this_build() {
        let host = Host::current();
        assert!(!host.cpu.is_empty());
        assert!(host.rustc.starts_with("rustc "), "build.rs did not record the compiler: {}", host.rustc);
        assert_eq!(host.spikelab, env!("CARGO_PKG_VERSION"));
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        assert!(host.libc.starts_with("glibc 2."), "{}", host.libc);
        assert!(host.human().contains(host.rustc));
    }
}
