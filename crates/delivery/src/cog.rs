//! Cloud-Optimized GeoTIFFs made by GDAL from a level's GeoTIFF tiles: an area's (cut to it,
//! nodata outside, in the tiles' CRS or warped to another), and a whole level's; and the band
//! summaries of a raster file, read back in windows.

use crate::gdal_apps::{self, MemFile, Progress};
use anyhow::Context;
use gdal::raster::GdalDataType;
use gdal::spatial_ref::SpatialRef;
use gdal::vector::Geometry;
use gdal::{Dataset, Metadata};
use iwp_core::config::Config;
use iwp_core::files::AtomicOutput;
use iwp_core::lines::BandFigures;
use iwp_core::tms::{Bounds, Tile};
use iwp_vector::vector;
use std::path::{Path, PathBuf};

/// The COG creation options: lossless, 256-pixel blocks (so any COG over one block has
/// overviews), averaged overviews.
pub const COG_OPTIONS: [&str; 6] =
    ["COMPRESS=DEFLATE", "PREDICTOR=YES", "BLOCKSIZE=256", "RESAMPLING=AVERAGE", "BIGTIFF=IF_SAFER", "NUM_THREADS=1"];

/// A raster written: its grid and CRS.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    /// Pixel columns and rows.
    pub size: [u64; 2],
    /// Geotransform (GDAL order).
    pub transform: [f64; 6],
    /// CRS, `EPSG:code` where it has one, else WKT.
    pub crs: String,
}

/// The tiles of level `z` whose box meets `area` (in the tiles' CRS) and whose file (`path_of`)
/// exists, with their files. Candidates are not listed: a column whose folder (as `path_of`
/// lays tiles out) does not exist is passed over whole, so the work follows the data, not the
/// area's box.
pub fn tiles_meeting(
    config: &Config,
    z: u8,
    area: &Geometry,
    path_of: impl Fn(Tile) -> PathBuf,
) -> anyhow::Result<Vec<(Tile, PathBuf)>> {
    let env = area.envelope();
    let b = Bounds { left: env.MinX, bottom: env.MinY, right: env.MaxX, top: env.MaxY };
    let Some((xs, ys)) = config.tms.range_covering(b, z) else { return Ok(Vec::new()) };
    let mut found = Vec::new();
    for x in xs {
        let (first, last) = (path_of(Tile::new(x, *ys.start(), z)), path_of(Tile::new(x, *ys.end(), z)));
        if first.parent() == last.parent() && first.parent().is_some_and(|d| !d.is_dir()) {
            continue;
        }
        for y in ys.clone() {
            let tile = Tile::new(x, y, z);
            let path = path_of(tile);
            let tb = config.tms.bounds(tile);
            if path.is_file() && Geometry::bbox(tb.left, tb.bottom, tb.right, tb.top)?.intersects(area) {
                found.push((tile, path));
            }
        }
    }
    Ok(found)
}

/// `EPSG:code` for a CRS that has one, else its WKT2 (2019).
pub fn crs_name(srs: &SpatialRef) -> anyhow::Result<String> {
    let mut srs = srs.clone();
    let _ = srs.auto_identify_epsg();
    if let (Some("EPSG"), Ok(code)) = (srs.auth_name().as_deref(), srs.auth_code()) {
        return Ok(format!("EPSG:{code}"));
    }
    let mut options = gdal::cpl::CslStringList::new();
    options.set_name_value("FORMAT", "WKT2_2019")?;
    let mut text: *mut std::ffi::c_char = std::ptr::null_mut();
    // SAFETY: the CRS and options are live; GDAL allocates the text, freed here with CPLFree.
    unsafe {
        let err =
            gdal_sys::OSRExportToWktEx(srs.to_c_hsrs(), &mut text, options.as_ptr() as *const *const std::ffi::c_char);
        let wkt = (!text.is_null()).then(|| std::ffi::CStr::from_ptr(text).to_string_lossy().into_owned());
        gdal_sys::VSIFree(text.cast());
        anyhow::ensure!(err == gdal_sys::OGRErr::OGRERR_NONE, "cannot write the CRS as WKT2");
        wkt.context("cannot write the CRS as WKT2")
    }
}

/// Where an area's COG goes and how: the level's tiles, the area in their CRS (and in
/// longitude/latitude for the cutline), an optional CRS to warp to.
pub struct AreaRaster<'a> {
    /// The run's config.
    pub config: &'a Config,
    /// The level.
    pub z: u8,
    /// The tiles to read.
    pub tiles: &'a [(Tile, PathBuf)],
    /// The area in the tiles' CRS.
    pub area: &'a Geometry,
    /// The area in longitude and latitude (the cutline GDAL reads).
    pub area_lonlat: &'a Geometry,
    /// The CRS to warp to (GDAL user input); None keeps the tiles' grid.
    pub t_srs: Option<&'a str>,
}

impl AreaRaster<'_> {
    /// Writes the area's COG at `target`: every band, NaN (nodata) outside the area and where no
    /// tile is; in the tiles' CRS on their own pixel grid (pixels copied), or warped by GDAL.
    pub fn write(&self, target: &Path) -> anyhow::Result<Grid> {
        let config = self.config;
        let sources: Vec<PathBuf> = self.tiles.iter().map(|(_, p)| p.clone()).collect();
        // Memory files first: they are removed after the datasets reading them are closed.
        let (mosaic_file, cutline, warped_file) =
            (MemFile::new("mosaic", ".vrt"), MemFile::new("cutline", ".geojson"), MemFile::new("warped", ".vrt"));
        let mosaic = gdal_apps::build_vrt(mosaic_file.path(), &sources, &["-vrtnodata".into(), "nan".into()])?;
        let feature = format!(
            r#"{{"type":"FeatureCollection","features":[{{"type":"Feature","properties":{{}},"geometry":{}}}]}}"#,
            self.area_lonlat.json()?
        );
        gdal::vsi::create_mem_file(cutline.path(), feature.into_bytes())?;
        let mut args: Vec<String> =
            ["-of", "VRT", "-cutline", &cutline.path().display().to_string(), "-dstnodata", "nan", "-r", "near"]
                .map(String::from)
                .to_vec();
        match self.t_srs {
            None => {
                let res = config.tms.span(self.z) / f64::from(config.tile_size[0]);
                let (ox, oy) = config.tms.origin;
                let env = self.area.envelope();
                let mt = mosaic.geo_transform()?;
                let (mw, mh) = mosaic.raster_size();
                // The area's box snapped out to the pixel grid, within the tiles read.
                let left = (ox + ((env.MinX - ox) / res).floor() * res).max(mt[0]);
                let right = (ox + ((env.MaxX - ox) / res).ceil() * res).min(mt[0] + mw as f64 * mt[1]);
                let top = (oy - ((oy - env.MaxY) / res).floor() * res).min(mt[3]);
                let bottom = (oy - ((oy - env.MinY) / res).ceil() * res).max(mt[3] + mh as f64 * mt[5]);
                args.extend(["-tr".into(), res.to_string(), res.to_string()]);
                args.extend(
                    ["-te", &left.to_string(), &bottom.to_string(), &right.to_string(), &top.to_string()]
                        .map(String::from),
                );
            }
            Some(t) => {
                vector::srs(t)?;
                args.extend(["-t_srs", t, "-crop_to_cutline"].map(String::from));
            }
        }
        let progress = Progress::new(&format!("COG {}", target.display()));
        let warped = gdal_apps::warp(warped_file.path(), &mosaic, &args, None)?;
        name_bands(&warped, &config.layer_names())?;
        write_cog(&warped, target, Some(&progress))
    }
}

/// Names a dataset's bands (their descriptions) in order.
pub fn name_bands(ds: &Dataset, names: &[&str]) -> anyhow::Result<()> {
    for (i, name) in names.iter().enumerate().take(ds.raster_count()) {
        ds.rasterband(i + 1)?.set_description(name)?;
    }
    Ok(())
}

/// Writes `source` as a COG at `target` (atomically), returning its grid.
pub fn write_cog(source: &Dataset, target: &Path, progress: Option<&Progress>) -> anyhow::Result<Grid> {
    let out = AtomicOutput::new(target)?;
    let mut args: Vec<String> = vec!["-of".into(), "COG".into()];
    for o in COG_OPTIONS {
        args.extend(["-co".into(), o.into()]);
    }
    let ds = gdal_apps::translate(out.path(), source, &args, progress)?;
    let grid = grid_of(&ds)?;
    drop(ds);
    out.commit().with_context(|| format!("cannot write {}", target.display()))?;
    Ok(grid)
}

/// A dataset's grid and CRS.
pub fn grid_of(ds: &Dataset) -> anyhow::Result<Grid> {
    let (w, h) = ds.raster_size();
    let crs = match ds.spatial_ref() {
        Ok(s) => crs_name(&s)?,
        Err(_) => String::new(),
    };
    Ok(Grid { size: [w as u64, h as u64], transform: ds.geo_transform()?, crs })
}

/// Each band's name (its description) and smallest, largest value and sum over the pixels that
/// are not NaN (None for a band with none), read in windows of 1024 x 1024.
pub fn band_figures(path: &Path) -> anyhow::Result<Vec<(String, Option<BandFigures>)>> {
    const WINDOW: usize = 1024;
    let ds = Dataset::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let (w, h) = ds.raster_size();
    let mut out = Vec::new();
    for band in ds.rasterbands() {
        let band = band?;
        anyhow::ensure!(band.band_type() != GdalDataType::Unknown, "band of unknown type");
        let mut f: Option<BandFigures> = None;
        for y in (0..h).step_by(WINDOW) {
            for x in (0..w).step_by(WINDOW) {
                let size = (WINDOW.min(w - x), WINDOW.min(h - y));
                let buf = band.read_as::<f64>((x as isize, y as isize), size, size, None)?;
                for &v in buf.data().iter().filter(|v| !v.is_nan()) {
                    f = Some(f.map_or(BandFigures::of(v), |b| b.merge(BandFigures::of(v))));
                }
            }
        }
        out.push((band.description()?, f));
    }
    Ok(out)
}
