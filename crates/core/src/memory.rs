//! How the C allocator treats freed memory, for tools that allocate and free blocks of the same
//! sizes tile after tile.

/// Keeps freed blocks in the process for the next allocation: no block up to 32 MiB is mapped
/// on its own, and free memory is handed back to the system only above 256 MiB. Otherwise
/// glibc returns a tile's freed bands (0.5 MiB each) and the next tile's are fresh pages,
/// faulted in and zeroed by the kernel one by one. Peak RSS is unchanged: what is kept is
/// what the last tiles used.
pub fn reuse_freed_blocks() {
    #[cfg(target_env = "gnu")]
    // SAFETY: mallopt only sets allocator parameters; called before the tool's threads start.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 256 << 20);
    }
}
