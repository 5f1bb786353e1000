//! GDAL's utilities (gdalbuildvrt, gdalwarp, gdal_translate) called through their library API
//! with the options of their command lines, reporting progress to a bar.

use gdal::cpl::CslStringList;
use gdal::Dataset;
use indicatif::ProgressBar;
use std::ffi::{c_char, c_int, c_void, CString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::ptr::null_mut;
use std::sync::atomic::{AtomicU64, Ordering};

/// Arguments as GDAL's option parsers take them (GDAL's drivers registered first: these calls
/// open files by name, which the crate's own calls would have registered them for; the last
/// error cleared, so that a failure reports its own).
fn argv(args: &[String]) -> anyhow::Result<CslStringList> {
    static REGISTERED: std::sync::Once = std::sync::Once::new();
    REGISTERED.call_once(gdal::DriverManager::register_all);
    // SAFETY: clears this thread's last GDAL error, so a failure reports its own.
    unsafe { gdal_sys::CPLErrorReset() };
    let mut list = CslStringList::new();
    for a in args {
        list.add_string(a)?;
    }
    Ok(list)
}

fn c_path(path: &Path) -> anyhow::Result<CString> {
    Ok(CString::new(path.as_os_str().as_bytes())?)
}

/// Progress of one long GDAL step: a bar on a terminal, and once the step has taken over
/// [`Progress::QUIET_SECS`], a log line every tenth of the way (for batch jobs, whose standard
/// error is a file).
pub struct Progress {
    what: String,
    bar: ProgressBar,
    logged: AtomicU64,
    started: std::time::Instant,
}

impl Progress {
    /// Progress of the step `what`.
    pub fn new(what: &str) -> Progress {
        let bar = iwp_core::logging::progress_bar(1000, what);
        Progress { what: what.to_string(), bar, logged: AtomicU64::new(0), started: std::time::Instant::now() }
    }

    /// Seconds a step runs before its progress is logged.
    pub const QUIET_SECS: f64 = 2.0;

    /// Reports `done` (0 to 1) of the step.
    pub fn at(&self, done: f64) {
        let permille = (done.clamp(0.0, 1.0) * 1000.0) as u64;
        self.bar.set_position(permille);
        let tenth = permille / 100;
        let long = self.started.elapsed().as_secs_f64() > Self::QUIET_SECS;
        if long && tenth < 10 && tenth > self.logged.fetch_max(tenth, Ordering::Relaxed) {
            tracing::info!("{}: {}0 %", self.what, tenth);
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

/// GDAL's progress callback: reports to the [`Progress`] and never cancels.
unsafe extern "C" fn progress(done: f64, _message: *const c_char, to: *mut c_void) -> c_int {
    if !to.is_null() {
        // SAFETY: the pointer is the `&Progress` the caller lent for the call's duration.
        unsafe { &*(to as *const Progress) }.at(done);
    }
    1
}

/// The dataset GDAL returned, or its last error with `what`.
fn returned(handle: gdal_sys::GDALDatasetH, what: &str) -> anyhow::Result<Dataset> {
    if handle.is_null() {
        let why = iwp_vector::vector::last_gdal_error().unwrap_or_else(|| "GDAL gave no reason".into());
        anyhow::bail!("{what}: {why}");
    }
    // SAFETY: a non-null handle GDAL just returned and nobody else owns.
    Ok(unsafe { Dataset::from_c_dataset(handle) })
}

/// A VRT mosaic at `dest` (a path, or a /vsimem/ name) of the raster files `sources`, opened
/// one at a time by GDAL (none stays open), with gdalbuildvrt's `args`.
pub fn build_vrt(dest: &Path, sources: &[PathBuf], args: &[String]) -> anyhow::Result<Dataset> {
    let list = argv(args)?;
    let names: Vec<CString> = sources.iter().map(|p| c_path(p)).collect::<anyhow::Result<_>>()?;
    let pointers: Vec<*const c_char> = names.iter().map(|n| n.as_ptr()).collect();
    let dest_c = c_path(dest)?;
    // SAFETY: the argument list outlives the call; GDAL copies what it keeps.
    let options = unsafe { gdal_sys::GDALBuildVRTOptionsNew(list.as_ptr(), null_mut()) };
    anyhow::ensure!(!options.is_null(), "gdalbuildvrt options {args:?} are not valid");
    let mut usage = 0;
    // SAFETY: names and options live through the call; a null dataset list means "open by name".
    let handle = unsafe {
        let h = gdal_sys::GDALBuildVRT(
            dest_c.as_ptr(),
            pointers.len() as c_int,
            null_mut(),
            pointers.as_ptr(),
            options,
            &mut usage,
        );
        gdal_sys::GDALBuildVRTOptionsFree(options);
        h
    };
    returned(handle, &format!("cannot build a VRT of {} files", sources.len()))
}

/// gdalwarp of `source` to `dest` with `args`, progress on `bar`.
pub fn warp(dest: &Path, source: &Dataset, args: &[String], bar: Option<&Progress>) -> anyhow::Result<Dataset> {
    let list = argv(args)?;
    let dest_c = c_path(dest)?;
    // SAFETY: as in build_vrt.
    let options = unsafe { gdal_sys::GDALWarpAppOptionsNew(list.as_ptr(), null_mut()) };
    anyhow::ensure!(!options.is_null(), "gdalwarp options {args:?} are not valid");
    let mut sources = [source.c_dataset()];
    let mut usage = 0;
    // SAFETY: the bar, the source and the options outlive the call.
    let handle = unsafe {
        if let Some(bar) = bar {
            gdal_sys::GDALWarpAppOptionsSetProgress(options, Some(progress), bar as *const _ as *mut c_void);
        }
        let h = gdal_sys::GDALWarp(dest_c.as_ptr(), null_mut(), 1, sources.as_mut_ptr(), options, &mut usage);
        gdal_sys::GDALWarpAppOptionsFree(options);
        h
    };
    returned(handle, "cannot warp")
}

/// gdal_translate of `source` to `dest` with `args`, progress on `bar`.
pub fn translate(dest: &Path, source: &Dataset, args: &[String], bar: Option<&Progress>) -> anyhow::Result<Dataset> {
    let list = argv(args)?;
    let dest_c = c_path(dest)?;
    // SAFETY: as in build_vrt.
    let options = unsafe { gdal_sys::GDALTranslateOptionsNew(list.as_ptr(), null_mut()) };
    anyhow::ensure!(!options.is_null(), "gdal_translate options {args:?} are not valid");
    let mut usage = 0;
    // SAFETY: the bar, the source and the options outlive the call.
    let handle = unsafe {
        if let Some(bar) = bar {
            gdal_sys::GDALTranslateOptionsSetProgress(options, Some(progress), bar as *const _ as *mut c_void);
        }
        let h = gdal_sys::GDALTranslate(dest_c.as_ptr(), source.c_dataset(), options, &mut usage);
        gdal_sys::GDALTranslateOptionsFree(options);
        h
    };
    returned(handle, &format!("cannot write {}", dest.display()))
}

/// A GDAL memory file (`/vsimem/`), with a name no other is given, removed when dropped.
pub struct MemFile(PathBuf);

impl MemFile {
    /// A new name for a memory file of `what`, ending in `suffix`.
    pub fn new(what: &str, suffix: &str) -> MemFile {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        MemFile(PathBuf::from(format!("/vsimem/iwp-{what}-{}-{n}{suffix}", std::process::id())))
    }

    /// Its name.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for MemFile {
    fn drop(&mut self) {
        let _ = gdal::vsi::unlink_mem_file(&self.0);
    }
}
