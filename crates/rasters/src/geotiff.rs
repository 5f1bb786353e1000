//! Statistics GeoTIFFs: one Float64 band per statistic (description = statistic name), the tile's
//! bounds in the TMS CRS, no NoData (zeros are data, as in the reference), lossless compression.
//! Also per-band summaries and the rasters summary CSV.

use crate::bandstats::{summarize, BandSummary};
use anyhow::Context;
use gdal::raster::{Buffer, RasterCreationOptions};
use gdal::spatial_ref::SpatialRef;
use gdal::{DriverManager, Metadata};
use iwp_core::tms::{Bounds, Tile, Tms};
use std::cell::RefCell;
use std::path::{Path, PathBuf};

/// Lossless compression of the GeoTIFFs. Measured on the golden z13 tile 1418/909 (reference:
/// 263,471 bytes uncompressed): ZSTD level 1 89,312 bytes, with the floating-point predictor
/// 100,395; DEFLATE level 1 89,391, with the predictor 101,264. The predictor does not pay on
/// these bands (exact zeros between full-precision coverage values), so it is off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Compression {
    /// ZSTD level 1.
    Zstd,
    /// DEFLATE level 1.
    Deflate,
    /// None: what the reference writes.
    None,
}

impl Compression {
    fn options(self, width: usize, height: usize) -> Vec<String> {
        let mut o: Vec<String> = match self {
            Compression::Zstd => vec!["COMPRESS=ZSTD".into(), "ZSTD_LEVEL=1".into()],
            Compression::Deflate => vec!["COMPRESS=DEFLATE".into(), "ZLEVEL=1".into()],
            Compression::None => return vec![],
        };
        // Band by band, one block per tile: both compress better than pixel-interleaved 8 KiB
        // strips (TIFF tiles must be multiples of 16 pixels).
        o.push("INTERLEAVE=BAND".into());
        if width.is_multiple_of(16) && height.is_multiple_of(16) {
            o.extend(["TILED=YES".into(), format!("BLOCKXSIZE={width}"), format!("BLOCKYSIZE={height}")]);
        }
        o
    }
}

/// A tile's bands in memory: names and row-major values, `width` x `height` each.
#[derive(Debug, Clone, PartialEq)]
pub struct TileRaster {
    /// Band names (the statistics' names), in band order.
    pub names: Vec<String>,
    /// Band values: one row-major list of `width` x `height` pixels per band.
    pub bands: Vec<Vec<f64>>,
    /// Pixel columns.
    pub width: usize,
    /// Pixel rows (row 0 at the top).
    pub height: usize,
}

/// Writes a tile's GeoTIFF atomically (temporary name, then rename). The bands are lent to GDAL
/// and given back unchanged (GDAL reads them; no copy is made).
pub fn write(
    path: &Path,
    tms: &Tms,
    bounds: Bounds,
    raster: &mut TileRaster,
    compression: Compression,
) -> anyhow::Result<()> {
    // Built in GDAL's memory filesystem, then written out in one piece: GDAL's many small writes
    // and seeks go to memory, the disk sees one file write and a rename.
    with_memory_file(|mem| {
        build_in(mem, tms, bounds, raster, compression).with_context(|| format!("cannot make {}", path.display()))?;
        let write = |bytes: &[u8]| iwp_core::files::write_atomic_unsynced(path, bytes);
        gdal::vsi::call_on_mem_file_bytes(mem, write)?.with_context(|| format!("cannot write {}", path.display()))
    })
}

/// Builds the GeoTIFF of `raster` as the memory file `mem`.
fn build_in(
    mem: &Path,
    tms: &Tms,
    bounds: Bounds,
    raster: &mut TileRaster,
    compression: Compression,
) -> anyhow::Result<()> {
    let size = (raster.width, raster.height);
    let driver = DriverManager::get_driver_by_name("GTiff")?;
    let options = RasterCreationOptions::from_iter(compression.options(raster.width, raster.height));
    let mut ds =
        driver.create_with_band_type_with_options::<f64, _>(mem, size.0, size.1, raster.bands.len(), &options)?;
    let (pw, ph) = ((bounds.right - bounds.left) / size.0 as f64, (bounds.top - bounds.bottom) / size.1 as f64);
    ds.set_geo_transform(&[bounds.left, pw, 0.0, bounds.top, 0.0, -ph])?;
    with_srs(tms.epsg, |srs| ds.set_spatial_ref(srs))??;
    for (i, (name, values)) in raster.names.iter().zip(raster.bands.iter_mut()).enumerate() {
        let mut band = ds.rasterband(i + 1)?;
        band.set_description(name)?;
        // The crate's write takes an owned buffer: the band is moved in and back out.
        let mut buffer = Buffer::new(size, std::mem::take(values));
        let done = band.write((0, 0), size, &mut buffer);
        *values = buffer.into_shape_and_vec().1;
        done?;
    }
    Ok(())
}

/// Calls `f` with this thread's GeoTIFF memory file, made once with room for a large tile:
/// each GeoTIFF overwrites the last one in place (GDAL keeps a memory file's allocation when it
/// is truncated), instead of growing a new file by reallocations.
fn with_memory_file<R>(f: impl FnOnce(&Path) -> anyhow::Result<R>) -> anyhow::Result<R> {
    thread_local! {
        static MEMORY_FILE: RefCell<Option<PathBuf>> = const { RefCell::new(None) };
    }
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    const ROOM: usize = 4 << 20;
    let mem = MEMORY_FILE.with_borrow_mut(|slot| -> anyhow::Result<PathBuf> {
        if slot.is_none() {
            let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let mem = PathBuf::from(format!("/vsimem/iwp-{}-{n}.tif", std::process::id()));
            gdal::vsi::create_mem_file(&mem, vec![0; ROOM])?;
            *slot = Some(mem);
        }
        Ok(slot.clone().expect("just made"))
    })?;
    f(&mem)
}

/// Calls `f` with this thread's spatial reference for an EPSG code (built once per thread: a
/// PROJ database lookup per tile cost more than writing its header).
fn with_srs<R>(epsg: u32, f: impl FnOnce(&SpatialRef) -> R) -> anyhow::Result<R> {
    thread_local! {
        static CACHE: RefCell<Vec<(u32, SpatialRef)>> = const { RefCell::new(Vec::new()) };
    }
    CACHE.with_borrow_mut(|cache| {
        if !cache.iter().any(|(e, _)| *e == epsg) {
            cache.push((epsg, SpatialRef::from_epsg(epsg)?));
        }
        let srs = cache.iter().find(|(e, _)| *e == epsg).map(|(_, s)| s).expect("just added");
        Ok(f(srs))
    })
}

/// Reads a tile's GeoTIFF: every band as f64, with the band descriptions.
pub fn read(path: &Path) -> anyhow::Result<TileRaster> {
    let ds = iwp_vector::vector::open(path)?;
    let (width, height) = ds.raster_size();
    let mut names = Vec::new();
    let mut bands = Vec::new();
    for i in 1..=ds.raster_count() {
        let band = ds.rasterband(i)?;
        names.push(band.description()?);
        let buffer = band.read_as::<f64>((0, 0), (width, height), (width, height), None)?;
        bands.push(buffer.into_shape_and_vec().1);
    }
    Ok(TileRaster { names, bands, width, height })
}

/// Header of the rasters summary CSV (the reference's columns).
pub const SUMMARY_HEADER: [&str; 12] =
    ["stat", "bounds", "min", "max", "mean", "median", "std", "var", "sum", "path", "tile", "z"];

/// Rasters summary rows of one GeoTIFF, one per band.
pub fn summary_records(
    raster: &TileRaster,
    summaries: &[BandSummary],
    bounds: Bounds,
    path: &Path,
    tile: Tile,
) -> Vec<Vec<String>> {
    let b = format!(
        "[{}, {}, {}, {}]",
        py_float(bounds.left),
        py_float(bounds.right),
        py_float(bounds.bottom),
        py_float(bounds.top)
    );
    raster
        .names
        .iter()
        .zip(summaries)
        .map(|(name, s)| {
            let mut r = vec![name.clone(), b.clone()];
            r.extend([s.min, s.max, s.mean, s.median, s.std, s.var, s.sum].map(py_float));
            r.extend([path.display().to_string(), tile.to_string(), tile.z.to_string()]);
            r
        })
        .collect()
}

/// A float as Python's `repr` writes it: shortest round-trip digits, `.0` on whole numbers,
/// exponent form below 1e-4 and from 1e16.
pub fn py_float(v: f64) -> String {
    if !v.is_finite() {
        return if v.is_nan() {
            "nan".into()
        } else if v > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        };
    }
    let a = v.abs();
    if a != 0.0 && !(1e-4..1e16).contains(&a) {
        // Rust gives "1e-5" / "1.5e16"; Python "1e-05" / "1.5e+16".
        let s = format!("{v:e}");
        let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let exp: i32 = exp.parse().unwrap_or(0);
        return format!("{mantissa}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs());
    }
    let s = format!("{v}");
    if s.contains('.') {
        s
    } else {
        format!("{s}.0")
    }
}

/// A GeoTIFF tile that was written (or found complete): where, and its bands' summaries.
#[derive(Debug, Clone)]
pub struct Written {
    /// The tile, at z-max or a lower level.
    pub tile: Tile,
    /// The GeoTIFF file.
    pub path: std::path::PathBuf,
    /// Band names (the statistics' names), in band order.
    pub names: Vec<String>,
    /// Each band's summary, in band order.
    pub summaries: Vec<BandSummary>,
    /// True when the file existed and was left as it was.
    pub skipped: bool,
}

impl Written {
    /// Summarizes a raster written to (or read from) `path`.
    pub fn of(tile: Tile, path: &Path, raster: &TileRaster, skipped: bool) -> Written {
        Written {
            tile,
            path: path.to_path_buf(),
            names: raster.names.clone(),
            summaries: raster.bands.iter().map(|b| summarize(b)).collect(),
            skipped,
        }
    }
}

/// The GeoTIFF path of a tile (`dir_geotiff/[tms/]z/x/y.tif`, no style part).
pub fn tile_path(config: &iwp_core::config::Config, tile: Tile) -> std::path::PathBuf {
    config.tile_paths.path(&config.dir_geotiff, None, tile, ".tif")
}

/// Writes a tile's raster unless a complete file is there (then reads it, unless `force`), and
/// appends its rows to the rasters summary. Returns what was written and the raster itself.
pub fn write_tile(
    config: &iwp_core::config::Config,
    tile: Tile,
    compression: Compression,
    force: bool,
    make: impl FnOnce() -> anyhow::Result<TileRaster>,
) -> anyhow::Result<(Written, TileRaster)> {
    let path = tile_path(config, tile);
    if !force && iwp_core::files::is_complete(&path) {
        if let Ok(existing) = read(&path) {
            return Ok((Written::of(tile, &path, &existing, true), existing));
        }
        tracing::warn!("{} is unreadable: writing it again", path.display());
    }
    let mut raster = make()?;
    let bounds = config.tms.bounds(tile);
    write(&path, config.tms, bounds, &mut raster, compression)?;
    let written = Written::of(tile, &path, &raster, false);
    let records = summary_records(&raster, &written.summaries, bounds, &path, tile);
    iwp_core::files::append_csv(&config.filename_rasters_summary, &SUMMARY_HEADER, &records)
        .with_context(|| format!("rasters summary {}", config.filename_rasters_summary.display()))?;
    Ok((written, raster))
}
