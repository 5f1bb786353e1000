//! iwp-extract's unit: one area, made into a COG of a level's GeoTIFFs and a GeoPackage of its
//! staged polygons, named by product, level and area, with the result line's counts and bytes.

use crate::area::Area;
use crate::cog::{self, AreaRaster};
use crate::polygons;
use iwp_core::config::Config;
use iwp_core::lines::{Bands, Extract, Status};
use iwp_vector::vector;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Extracts with one config, output CRS and overwrite rule.
pub struct Extractor<'a> {
    /// The run's config.
    pub config: &'a Config,
    /// The COG's CRS (GDAL user input); None keeps the tiles' CRS and grid.
    pub t_srs: Option<&'a str>,
    /// Write files that already exist again.
    pub force: bool,
}

/// The files of one extract.
struct Targets {
    cog: PathBuf,
    gpkg: PathBuf,
}

impl Extractor<'_> {
    /// The file names: `PRODUCT_zZ_AREA[_CRS].tif` and `PRODUCT_polygons_AREA.gpkg` in
    /// dir_extracts (PRODUCT: the config's layer_name).
    fn targets(&self, z: u8, name: &str) -> anyhow::Result<Targets> {
        let product = &self.config.layer_name;
        let crs = match self.t_srs {
            Some(t) => format!("_{}", crs_tag(t)?),
            None => String::new(),
        };
        let dir = &self.config.dir_extracts;
        Ok(Targets {
            cog: dir.join(format!("{product}_z{z}_{name}{crs}.tif")),
            gpkg: dir.join(format!("{product}_polygons_{name}.gpkg")),
        })
    }

    /// Extracts the area of `job`; the result line is the job's with what was written.
    pub fn run(&self, job: &Extract) -> anyhow::Result<Extract> {
        let start = Instant::now();
        let config = self.config;
        let z = job.z.unwrap_or(config.z_max);
        anyhow::ensure!(
            (config.z_min..=config.z_max).contains(&z),
            "z {z} is outside z_range [{}, {}]",
            config.z_min,
            config.z_max
        );
        let area = Area::of_job(job)?;
        let in_tiles = area.in_crs(&vector::srs(config.tms.crs)?)?;
        let lonlat = area.in_lonlat()?;
        let env = lonlat.envelope();
        let lonlat_bbox = [env.MinX, env.MinY, env.MaxX, env.MaxY];
        let tiles = cog::tiles_meeting(config, z, &in_tiles, |t| iwp_rasters::geotiff::tile_path(config, t))?;
        let staged = cog::tiles_meeting(config, config.z_max, &in_tiles, |t| {
            iwp_vector::tilestore::tile_path(config, &config.dir_staged, t)
        })?;
        if tiles.is_empty() && staged.is_empty() {
            anyhow::bail!(
                "the area (longitude, latitude {lonlat_bbox:?}) meets no GeoTIFF of level {z} under {} and no staged \
                 tile under {}: it is outside the data",
                config.dir_geotiff.display(),
                config.dir_staged.display()
            );
        }
        let targets = self.targets(z, &area.name)?;
        let mut out = job.clone();
        out.z = Some(z);
        out.lonlat_bbox = Some(lonlat_bbox);
        let skip = !self.force
            && (tiles.is_empty() || iwp_core::files::is_complete(&targets.cog))
            && (staged.is_empty() || iwp_core::files::is_complete(&targets.gpkg));
        if !tiles.is_empty() {
            let grid = if skip {
                cog::grid_of(&gdal::Dataset::open(&targets.cog)?)?
            } else {
                let raster =
                    AreaRaster { config, z, tiles: &tiles, area: &in_tiles, area_lonlat: &lonlat, t_srs: self.t_srs };
                raster.write(&targets.cog)?
            };
            for (name, figures) in cog::band_figures(&targets.cog)? {
                if let Some(f) = figures {
                    out.set_band(&name, f);
                }
            }
            out.cog = Some(targets.cog.display().to_string());
            out.crs = Some(grid.crs);
            out.size = Some(grid.size);
            out.transform = Some(grid.transform);
            out.tiles = Some(tiles.len() as u64);
        }
        if !staged.is_empty() {
            if skip {
                let (polygons, flagged) = polygons::count(config, &targets.gpkg)?;
                let kept = !config.drops_duplicates_at(iwp_core::config::DedupAt::Extract);
                out.polygons = Some(polygons);
                out.duplicates = flagged.filter(|_| kept);
                out.duplicates_kept = Some(kept);
            } else {
                let p = polygons::write(config, &staged, &in_tiles, &targets.gpkg)?;
                out.polygons = Some(p.polygons);
                out.duplicates = Some(p.duplicates);
                out.duplicates_kept = Some(p.duplicates_kept);
            }
            out.gpkg = Some(targets.gpkg.display().to_string());
        }
        let size = |p: &Option<String>| p.as_ref().and_then(|p| Path::new(p).metadata().ok()).map_or(0, |m| m.len());
        out.bytes = Some(size(&out.cog) + size(&out.gpkg));
        out.skipped = Some(skip);
        out.secs = Some((start.elapsed().as_secs_f64() * 1000.0).round() / 1000.0);
        out.status = Some(Status::Ok);
        Ok(out)
    }
}

/// A CRS as a file name part: `epsgCODE`, else `crs` and a hash of its WKT.
fn crs_tag(definition: &str) -> anyhow::Result<String> {
    let name = cog::crs_name(&vector::srs(definition)?)?;
    Ok(match name.strip_prefix("EPSG:") {
        Some(code) => format!("epsg{code}"),
        None => format!("crs{:016x}", xxhash_rust::xxh3::xxh3_64(name.as_bytes())),
    })
}
