//! The allocator spikelab's programs install: mimalloc, with large blocks aligned to cache
//! lines and freed memory kept for reuse.
//!
//! ```ignore
//! #[global_allocator]
//! static GLOBAL: spikelab::alloc::SpikelabAllocator = spikelab::alloc::SpikelabAllocator;
//! fn main() { spikelab::alloc::keep_freed_memory(); /* … */ }
//! ```
//!
//! Why: the event kernels load weight rows as whole 64-byte vectors, and a row that straddles
//! two cache lines costs two loads (the forward kernel ran 27% slower on 16-byte-aligned
//! weights here, `cargo run --release --example kernel_rates`). Training also frees and
//! re-allocates the same multi-megabyte buffers every batch; returning them to the OS and
//! faulting them back in (page clearing) cost ~9% of training time. The kernels stay correct
//! with any allocator.

use libmimalloc_sys as mi;
use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

/// Blocks of at least this many bytes start on a cache line.
const LARGE: usize = 4096;
const CACHE_LINE: usize = 64;

pub struct SpikelabAllocator;

fn alignment(size: usize, align: usize) -> usize {
    if size >= LARGE {
        align.max(CACHE_LINE)
    } else {
        align
    }
}

// SAFETY: every block comes from mimalloc's aligned entry points with an alignment at least
// the layout's, so it satisfies the layout; mimalloc frees any of its blocks with `mi_free`
// and reallocates them with `mi_realloc_aligned`, whatever alignment they were made with.
unsafe impl GlobalAlloc for SpikelabAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        mi::mi_malloc_aligned(layout.size(), alignment(layout.size(), layout.align())) as *mut u8
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        mi::mi_zalloc_aligned(layout.size(), alignment(layout.size(), layout.align())) as *mut u8
    }

    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        mi::mi_free(ptr as *mut c_void)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        mi::mi_realloc_aligned(ptr as *mut c_void, new_size, alignment(new_size, layout.align())) as *mut u8
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
