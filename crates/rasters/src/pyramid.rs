//! Lower zoom levels: a parent tile's band from its four children's, each parent pixel reduced
//! exactly from the 2x2 block of child pixels under it (what the reference's GDAL resampling
//! computes, without its float noise). A missing child counts as zeros.

use anyhow::{bail, Context};
use iwp_core::config::Resampling;
use rayon::prelude::*;

/// A band of a child tile, or None when that child does not exist.
pub type ChildBand<'a> = Option<&'a [f64]>;

/// The parent band (`width` x `height`) from the children in `Tile::children` order: (2x, 2y),
/// (2x, 2y+1), (2x+1, 2y), (2x+1, 2y+1), i.e. top-left, bottom-left, top-right, bottom-right.
/// Sum, average, nearest, max, min, mode and rms are computed exactly here; the others go
/// through GDAL's warper, as in the reference.
pub fn parent_band(
    method: Resampling,
    children: [ChildBand; 4],
    width: usize,
    height: usize,
) -> anyhow::Result<Vec<f64>> {
    let reduce: fn([f64; 4]) -> f64 = match method {
        Resampling::Sum => |b| b[0] + b[1] + b[2] + b[3],
        Resampling::Average => |b| (b[0] + b[1] + b[2] + b[3]) / 4.0,
        // GDAL's nearest at 2:1 takes the bottom-right pixel of the block.
        Resampling::Nearest => |b| b[3],
        Resampling::Max => |b| b.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        Resampling::Min => |b| b.iter().copied().fold(f64::INFINITY, f64::min),
        Resampling::Mode => mode,
        Resampling::Rms => |b| ((b[0] * b[0] + b[1] * b[1] + b[2] * b[2] + b[3] * b[3]) / 4.0).sqrt(),
        other => return gdal_resample(other, children, width, height),
    };
    let (half_w, half_h) = (width / 2, height / 2);
    let mut out = vec![0.0; width * height];
    for (k, child) in children.iter().enumerate() {
        // A missing child is a block of zeros, which every method reduces to 0.
        let Some(child) = child else { continue };
        fill_quadrant(&mut out, k, width, half_w, half_h, |r, c| {
            // The 2x2 block in the child under parent pixel (r, c) of this quadrant, row-major.
            let at = |dr: usize, dc: usize| child[(2 * r + dr) * width + 2 * c + dc];
            reduce([at(0, 0), at(0, 1), at(1, 0), at(1, 1)])
        });
    }
    Ok(out)
}

/// A parent band by GDAL's warper (kernels such as bilinear or cubic reach beyond the 2x2 block):
/// the children mosaicked into a 2w x 2h in-memory raster (zeros where missing) and warped onto
/// the w x h parent grid with `method`, no NoData, as rasterio's reproject does for the reference.
pub fn gdal_resample(
    method: Resampling,
    children: [ChildBand; 4],
    width: usize,
    height: usize,
) -> anyhow::Result<Vec<f64>> {
    use gdal_sys::GDALResampleAlg::*;
    let alg = match method {
        Resampling::Bilinear => GRA_Bilinear,
        Resampling::Cubic => GRA_Cubic,
        Resampling::CubicSpline => GRA_CubicSpline,
        Resampling::Lanczos => GRA_Lanczos,
        Resampling::Med => GRA_Med,
        Resampling::Q1 => GRA_Q1,
        Resampling::Q3 => GRA_Q3,
        Resampling::Nearest => GRA_NearestNeighbour,
        Resampling::Average => GRA_Average,
        Resampling::Mode => GRA_Mode,
        Resampling::Max => GRA_Max,
        Resampling::Min => GRA_Min,
        Resampling::Sum => GRA_Sum,
        Resampling::Rms => GRA_RMS,
        Resampling::Gauss => {
            bail!("resampling method `gauss` cannot make parent tiles (GDAL's warper has no such method)")
        }
    };
    let (w2, h2) = (2 * width, 2 * height);
    let mut mosaic = vec![0.0; w2 * h2];
    for (k, child) in children.iter().enumerate() {
        let Some(child) = child else { continue };
        let (row0, col0) = ((k % 2) * height, (k / 2) * width);
        for r in 0..height {
            mosaic[(row0 + r) * w2 + col0..(row0 + r) * w2 + col0 + width]
                .copy_from_slice(&child[r * width..(r + 1) * width]);
        }
    }
    let mem = gdal::DriverManager::get_driver_by_name("MEM")?;
    let mut src = mem.create_with_band_type::<f64, _>("", w2, h2, 1)?;
    src.set_geo_transform(&[0.0, 0.5, 0.0, 0.0, 0.0, -0.5])?;
    src.rasterband(1)?.write((0, 0), (w2, h2), &mut gdal::raster::Buffer::new((w2, h2), mosaic))?;
    let mut dst = mem.create_with_band_type::<f64, _>("", width, height, 1)?;
    dst.set_geo_transform(&[0.0, 1.0, 0.0, 0.0, 0.0, -1.0])?;
    // SAFETY: both datasets are live; no SRS means no reprojection, only resampling.
    let err = unsafe {
        gdal_sys::GDALReprojectImage(
            src.c_dataset(),
            std::ptr::null(),
            dst.c_dataset(),
            std::ptr::null(),
            alg,
            0.0,
            0.0,
            None,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        )
    };
    if err != gdal_sys::CPLErr::CE_None {
        bail!("GDAL could not resample with `{}`", method.as_str());
    }
    let band = dst.rasterband(1)?;
    Ok(band.read_as::<f64>((0, 0), (width, height), (width, height), None)?.into_shape_and_vec().1)
}

/// Sets every pixel of quadrant `k` (children order) of the parent from `value(row, col)`, with
/// row and column counted within the quadrant.
fn fill_quadrant(
    out: &mut [f64],
    k: usize,
    width: usize,
    half_w: usize,
    half_h: usize,
    value: impl Fn(usize, usize) -> f64,
) {
    let (row0, col0) = ((k % 2) * half_h, (k / 2) * half_w);
    for r in 0..half_h {
        for c in 0..half_w {
            out[(row0 + r) * width + col0 + c] = value(r, c);
        }
    }
}

/// The most frequent value of a block; ties go to the value seen first (top-left first), as GDAL.
fn mode(b: [f64; 4]) -> f64 {
    let mut best = (b[0], 0);
    for (i, v) in b.iter().enumerate() {
        if b[..i].contains(v) {
            continue;
        }
        let n = b.iter().filter(|w| *w == v).count();
        if n > best.1 {
            best = (*v, n);
        }
    }
    best.0
}

/// A parent tile's raster from its children's GeoTIFFs on disk (missing children are zeros),
/// each band reduced by its statistic's resampling method. Errors when no child exists.
pub fn parent_raster(
    config: &iwp_core::config::Config,
    tile: iwp_core::tms::Tile,
) -> anyhow::Result<crate::geotiff::TileRaster> {
    // Children read in parallel: the smallest levels have few tiles.
    let children = tile
        .children()
        .par_iter()
        .map(|child| {
            let path = crate::geotiff::tile_path(config, *child);
            let child = path.exists().then(|| crate::geotiff::read(&path)).transpose()?;
            if let Some(c) = &child {
                check_child(config, c).with_context(|| format!("child {}", path.display()))?;
            }
            Ok(child)
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    if children.iter().all(Option::is_none) {
        bail!("no child GeoTIFF of {tile} under {}", config.dir_geotiff.display());
    }
    parent_from(config, [children[0].as_ref(), children[1].as_ref(), children[2].as_ref(), children[3].as_ref()])
}

/// Refuses a child raster whose bands or size are not the config's.
fn check_child(config: &iwp_core::config::Config, c: &crate::geotiff::TileRaster) -> anyhow::Result<()> {
    let (width, height) = (config.tile_size[1] as usize, config.tile_size[0] as usize);
    let bands = config.statistics.len();
    if c.bands.len() != bands || c.width != width || c.height != height {
        bail!(
            "it has {} bands of {}x{} pixels; the config asks for {bands} of {width}x{height}",
            c.bands.len(),
            c.width,
            c.height
        );
    }
    Ok(())
}

/// A parent's raster from its children's rasters (in `Tile::children` order; None = missing).
pub fn parent_from(
    config: &iwp_core::config::Config,
    children: [Option<&crate::geotiff::TileRaster>; 4],
) -> anyhow::Result<crate::geotiff::TileRaster> {
    let (width, height) = (config.tile_size[1] as usize, config.tile_size[0] as usize);
    let names: Vec<String> = config.statistics.iter().map(|s| s.name.clone()).collect();
    for c in children.iter().flatten() {
        check_child(config, c)?;
    }
    // Bands reduced in parallel.
    let bands = config
        .statistics
        .par_iter()
        .enumerate()
        .map(|(k, stat)| {
            let child = |i: usize| children[i].map(|c| c.bands[k].as_slice());
            parent_band(stat.resampling_method, [child(0), child(1), child(2), child(3)], width, height)
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(crate::geotiff::TileRaster { names, bands, width, height })
}

/// A tile's raster made by [`build_down`]'s visitor, or None when it failed.
pub type Built = Option<crate::geotiff::TileRaster>;

/// Builds `tile` after every needed tile below it, depth first (the four children in parallel),
/// handing each tile the rasters of its children; `visit` makes and writes the tile and returns
/// its raster. Each raster lives only until its parent is made, so memory stays at a few tiles per
/// level per thread, and no child is read back from disk.
pub fn build_down<F>(
    tile: iwp_core::tms::Tile,
    z_max: u8,
    needed: &std::collections::HashSet<iwp_core::tms::Tile>,
    visit: &F,
) -> Built
where
    F: Fn(iwp_core::tms::Tile, [Option<&crate::geotiff::TileRaster>; 4]) -> Built + Sync,
{
    if tile.z >= z_max {
        return visit(tile, [None, None, None, None]);
    }
    let kids: Vec<Built> = tile
        .children()
        .par_iter()
        .map(|k| if needed.contains(k) { build_down(*k, z_max, needed, visit) } else { None })
        .collect();
    visit(tile, [kids[0].as_ref(), kids[1].as_ref(), kids[2].as_ref(), kids[3].as_ref()])
}
