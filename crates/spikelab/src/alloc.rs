//! The allocator spikelab's programs install: mimalloc, with large blocks aligned to cache
//! lines and freed memory kept for reuse.
//!
//! ```text
//! #[global_allocator]
//! static GLOBAL: spikelab::alloc::SpikelabAllocator = spikelab::alloc::SpikelabAllocator;
//! fn main() { spikelab::alloc::keep_freed_memory(); /* … */ }
//! ```
//!
//! Why: the event kernels load weight rows as whole 64-byte vectors, and a row that straddles
//! two cache lines costs two loads (the forward event kernel took 9.9 instead of 7.8 ms, 27%
//! more, on weights 4 bytes off a cache-line boundary: 784 → 800, 3200 rows, density 0.2,
//! measured here during development). Training also frees and re-allocates the same
//! multi-megabyte buffers every batch; returning them to the OS and faulting them back in
//! (page clearing) cost 9–17% of training time. mimalloc with purging off avoids that, but it
//! kept freed multi-megabyte blocks without reusing them (peak RSS 40% above the live peak at
//! T = 400), so blocks of `HUGE` bytes and more are mapped directly and kept in a small cache
//! that hands them to the next request of about the same size: the next batch's identical
//! buffers. The kernels stay correct with any allocator.

use libmimalloc_sys as mi;
use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

/// Blocks of at least this many bytes start on a cache line.
const LARGE: usize = 4096;
const CACHE_LINE: usize = 64;
/// Blocks of at least this many bytes are mapped directly (see `huge`).
const HUGE: usize = 4 << 20;

pub struct SpikelabAllocator;

fn alignment(size: usize, align: usize) -> usize {
    if size >= LARGE {
        align.max(CACHE_LINE)
    } else {
        align
    }
}

// SAFETY: a block is either mapped (`is_huge`: page-aligned, so at least the layout's
// alignment, which `is_huge` bounds by a page) or comes from mimalloc's aligned entry points
// with at least the layout's alignment. `dealloc` and `realloc` receive the layout the block
// was made with, so `is_huge` routes them to the allocator that made it; mimalloc frees any of
// its blocks with `mi_free` and reallocates them with `mi_realloc_aligned`.
fn is_huge(size: usize, align: usize) -> bool {
    cfg!(target_os = "linux") && size >= HUGE && align <= huge::PAGE
}

unsafe impl GlobalAlloc for SpikelabAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if is_huge(layout.size(), layout.align()) {
            return huge::alloc(layout.size(), false);
        }
        mi::mi_malloc_aligned(layout.size(), alignment(layout.size(), layout.align())) as *mut u8
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if is_huge(layout.size(), layout.align()) {
            return huge::alloc(layout.size(), true);
        }
        mi::mi_zalloc_aligned(layout.size(), alignment(layout.size(), layout.align())) as *mut u8
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if is_huge(layout.size(), layout.align()) {
            return huge::free(ptr, layout.size());
        }
        mi::mi_free(ptr as *mut c_void)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if !is_huge(layout.size(), layout.align()) && !is_huge(new_size, layout.align()) {
            return mi::mi_realloc_aligned(ptr as *mut c_void, new_size, alignment(new_size, layout.align())) as *mut u8;
        }
        // Into, out of or within the mapped blocks: move.
        let new = self.alloc(Layout::from_size_align_unchecked(new_size, layout.align()));
        if !new.is_null() {
            std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
            self.dealloc(ptr, layout);
        }
        new
    }
}

/// Directly mapped blocks with a cache of freed ones. Training allocates the same few
/// multi-megabyte buffers every batch; a freed mapping is kept (its pages stay resident) and
/// handed to the next request it fits without wasting more than a quarter of itself.
#[cfg(target_os = "linux")]
mod huge {
    use std::ffi::{c_int, c_long, c_void};
    use std::sync::Mutex;

    pub const PAGE: usize = 4096;
    /// Freed mappings kept; beyond this the oldest is unmapped.
    const CACHED: usize = 8;

    extern "C" {
        fn mmap(addr: *mut c_void, len: usize, prot: c_int, flags: c_int, fd: c_int, offset: c_long) -> *mut c_void;
        fn munmap(addr: *mut c_void, len: usize) -> c_int;
    }
    const PROT_READ_WRITE: c_int = 0x1 | 0x2;
    const MAP_PRIVATE_ANONYMOUS: c_int = 0x02 | 0x20;

    /// (address, mapped length) of freed mappings, oldest first.
    static CACHE: Mutex<Vec<(usize, usize)>> = Mutex::new(Vec::new());

    fn mapped_len(size: usize) -> usize {
        size.div_ceil(PAGE) * PAGE
    }

    pub unsafe fn alloc(size: usize, zeroed: bool) -> *mut u8 {
        let len = mapped_len(size);
        let reused = {
            let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
            let best = (0..cache.len()).filter(|&i| cache[i].1 >= len && cache[i].1 - len <= cache[i].1 / 4).min_by_key(|&i| cache[i].1);
            best.map(|i| cache.remove(i))
        };
        if let Some((addr, cached_len)) = reused {
            // The request owns the whole mapping until it is freed; `free` gets the length back
            // from `size`, so remember the difference by unmapping the tail.
            if cached_len > len {
                munmap((addr + len) as *mut c_void, cached_len - len);
            }
            if zeroed {
                std::ptr::write_bytes(addr as *mut u8, 0, size);
            }
            return addr as *mut u8;
        }
        // Fresh anonymous mappings are zero-filled by the kernel.
        let p = mmap(std::ptr::null_mut(), len, PROT_READ_WRITE, MAP_PRIVATE_ANONYMOUS, -1, 0);
        if p as isize == -1 {
            std::ptr::null_mut()
        } else {
            p as *mut u8
        }
    }

    pub unsafe fn free(ptr: *mut u8, size: usize) {
        let evicted = {
            let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
            cache.push((ptr as usize, mapped_len(size)));
            (cache.len() > CACHED).then(|| cache.remove(0))
        };
        if let Some((addr, len)) = evicted {
            munmap(addr as *mut c_void, len);
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod huge {
    pub const PAGE: usize = 4096;
    pub unsafe fn alloc(_: usize, _: bool) -> *mut u8 {
        unreachable!("mapped blocks are Linux-only")
    }
    pub unsafe fn free(_: *mut u8, _: usize) {
        unreachable!("mapped blocks are Linux-only")
    }
}

/// Tells mimalloc never to return freed pages to the OS (call once, first thing in `main`).
pub fn keep_freed_memory() {
    // `mi_option_purge_delay` (index 15 in mimalloc v2 and v3's `mi_option_e`; not named by the
    // Rust bindings); -1 means never purge.
    const PURGE_DELAY: mi::mi_option_t = 15;
    // SAFETY: sets a process-wide allocator option; valid at any time.
    unsafe { mi::mi_option_set(PURGE_DELAY, -1) };
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Small, cache-line and mapped blocks: aligned, zeroed when asked (also when a freed
    /// mapping is reused), and contents kept across reallocation in both directions.
    #[test]
    fn blocks_are_aligned_zeroed_and_survive_realloc() {
        let a = SpikelabAllocator;
        unsafe {
            for &size in &[24usize, LARGE, HUGE, HUGE + 12345] {
                let layout = Layout::from_size_align(size, 8).unwrap();
                let p = a.alloc_zeroed(layout);
                assert!(!p.is_null());
                assert_eq!(p as usize % alignment(size, 8), 0, "size {size}");
                assert!(std::slice::from_raw_parts(p, size).iter().all(|&b| b == 0), "size {size}");
                std::ptr::write_bytes(p, 0xAB, size);
                a.dealloc(p, layout);
                // Likely the same mapping again: it must come back zeroed.
                let q = a.alloc_zeroed(layout);
                assert!(std::slice::from_raw_parts(q, size).iter().all(|&b| b == 0), "reused, size {size}");
                a.dealloc(q, layout);
            }
            let small = Layout::from_size_align(1000, 8).unwrap();
            let p = a.alloc(small);
            std::ptr::write_bytes(p, 7, 1000);
            let big = a.realloc(p, small, 2 * HUGE);
            assert!(std::slice::from_raw_parts(big, 1000).iter().all(|&b| b == 7));
            std::ptr::write_bytes(big, 9, 2 * HUGE);
            let back = a.realloc(big, Layout::from_size_align(2 * HUGE, 8).unwrap(), 500);
            assert!(std::slice::from_raw_parts(back, 500).iter().all(|&b| b == 9));
            a.dealloc(back, Layout::from_size_align(500, 8).unwrap());
        }
    }
}
