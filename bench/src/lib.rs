//! Shared pieces of the benchmark binaries.

/// Peak resident set size of this process so far, in KiB (Linux `VmHWM`).
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Current resident set size in KiB (Linux `VmRSS`).
pub fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// The median (upper middle for an even count); 0 for none.
pub fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs.get(xs.len() / 2).copied().unwrap_or(0.0)
}

/// The value at fraction `q` (0..=1) of the sorted samples; 0 for none.
pub fn quantile(mut xs: Vec<f64>, q: f64) -> f64 {
    xs.sort_by(f64::total_cmp);
    let i = ((xs.len().saturating_sub(1)) as f64 * q).round() as usize;
    xs.get(i).copied().unwrap_or(0.0)
}

/// One machine-readable result line, read by `cargo xtask bench`.
pub struct BenchLine;

impl BenchLine {
    /// Print `BENCH {"section": section, ..value}` on stdout.
    pub fn print(section: &str, mut value: serde_json::Value) {
        if let Some(o) = value.as_object_mut() {
            o.insert("section".into(), section.into());
        }
        println!("BENCH {value}");
    }
}

/// CPU time used by this process so far (user + system, every thread, finished ones included), in milliseconds.
pub fn cpu_ms() -> f64 {
    let mut u = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the struct it is given; RUSAGE_SELF is always valid.
    let u = unsafe {
        if libc::getrusage(libc::RUSAGE_SELF, u.as_mut_ptr()) != 0 {
            return f64::NAN;
        }
        u.assume_init()
    };
    let tv = |t: libc::timeval| t.tv_sec as f64 * 1e3 + t.tv_usec as f64 / 1e3;
    tv(u.ru_utime) + tv(u.ru_stime)
}
