//! The GeoPackage of an area's polygons, from the staged z-max tiles: every polygon meeting the
//! area once (from the tile holding its centroid), every column kept, duplicates left out or
//! kept flagged as the config says; streamed feature by feature.

use crate::gdal_apps::Progress;
use anyhow::Context;
use gdal::vector::{Geometry, LayerAccess};
use gdal::{Dataset, DriverManager};
use iwp_core::config::{Config, DedupAt};
use iwp_core::files::AtomicOutput;
use iwp_core::tms::Tile;
use iwp_vector::vector;
use std::path::{Path, PathBuf};

/// Features written between commits of the output's transaction.
const FEATURES_PER_COMMIT: u64 = 50_000;

/// What an area's GeoPackage holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Polygons {
    /// Polygons written.
    pub polygons: u64,
    /// Duplicates among the area's polygons (left out, or written with their flag).
    pub duplicates: u64,
    /// True when the duplicates were written.
    pub duplicates_kept: bool,
}

/// Writes the polygons of the staged tiles `staged` that meet `area` (in the tiles' CRS) to a new
/// GeoPackage at `target` (atomically), layer `layer_name`.
pub fn write(config: &Config, staged: &[(Tile, PathBuf)], area: &Geometry, target: &Path) -> anyhow::Result<Polygons> {
    let out = AtomicOutput::new(target)?;
    let driver = DriverManager::get_driver_by_name("GPKG")?;
    let mut dst = driver.create_vector_only(out.path())?;
    let drop_dups = config.drops_duplicates_at(DedupAt::Extract);
    let mut figures = Polygons { duplicates_kept: !drop_dups, ..Default::default() };
    let progress = Progress::new(&format!("polygons {}", target.display()));
    let mut writer: Option<Writer> = None;
    for (i, (tile, path)) in staged.iter().enumerate() {
        let src = vector::open_vector(path)?;
        let b = config.tms.bounds(*tile);
        // A tile inside the area: every row meets it, no row is tested.
        let test = (!area.contains(&Geometry::bbox(b.left, b.bottom, b.right, b.top)?)).then_some(area);
        let w = match &mut writer {
            Some(w) => w,
            None => writer.insert(Writer::new(&mut dst, &src, &config.layer_name)?),
        };
        w.copy(config, &src, test, drop_dups, &mut figures).with_context(|| format!("reading {}", path.display()))?;
        progress.at((i + 1) as f64 / staged.len() as f64);
    }
    if let Some(w) = writer {
        w.finish()?;
    }
    drop(dst);
    out.commit().with_context(|| format!("cannot write {}", target.display()))?;
    Ok(figures)
}

/// The output layer, filled in transactions.
struct Writer {
    ds: gdal_sys::GDALDatasetH,
    layer: gdal_sys::OGRLayerH,
    pending: u64,
}

impl Writer {
    /// Creates the output layer with the CRS, geometry type and columns of `src`'s first layer.
    fn new(dst: &mut Dataset, src: &Dataset, name: &str) -> anyhow::Result<Writer> {
        let src_layer = src.layer(0)?;
        let srs = src_layer.spatial_ref();
        let ty = src_layer
            .defn()
            .geom_fields()
            .next()
            .map(|g| g.field_type())
            .unwrap_or(gdal_sys::OGRwkbGeometryType::wkbUnknown);
        let layer = dst.create_layer(gdal::vector::LayerOptions { name, srs: srs.as_ref(), ty, options: None })?;
        // SAFETY: the handles belong to datasets that outlive the writer (both are held by `write`).
        let layer = unsafe { layer.c_layer() };
        let ds = dst.c_dataset();
        // SAFETY: a dataset just created.
        unsafe { gdal_sys::GDALDatasetStartTransaction(ds, 0) };
        Ok(Writer { ds, layer, pending: 0 })
    }

    /// Adds the columns of `src_defn` the output lacks (matched by name).
    fn add_missing_columns(&self, src_layer: gdal_sys::OGRLayerH) -> anyhow::Result<()> {
        // SAFETY: both layers are live; OGR copies the field definitions.
        unsafe {
            let src_defn = gdal_sys::OGR_L_GetLayerDefn(src_layer);
            let dst_defn = gdal_sys::OGR_L_GetLayerDefn(self.layer);
            for k in 0..gdal_sys::OGR_FD_GetFieldCount(src_defn) {
                let field = gdal_sys::OGR_FD_GetFieldDefn(src_defn, k);
                if gdal_sys::OGR_FD_GetFieldIndex(dst_defn, gdal_sys::OGR_Fld_GetNameRef(field)) < 0 {
                    let err = gdal_sys::OGR_L_CreateField(self.layer, field, 1);
                    anyhow::ensure!(
                        err == gdal_sys::OGRErr::OGRERR_NONE,
                        "cannot add a column: {:?}",
                        vector::last_gdal_error()
                    );
                }
            }
        }
        Ok(())
    }

    /// Copies the rows of `src` whose centroid is in their tile and whose polygon meets `area`
    /// (every such row when None).
    fn copy(
        &mut self,
        config: &Config,
        src: &Dataset,
        area: Option<&Geometry>,
        drop_dups: bool,
        f: &mut Polygons,
    ) -> anyhow::Result<()> {
        let mut layer = src.layer(0)?;
        // SAFETY: the layer lives through this call.
        self.add_missing_columns(unsafe { layer.c_layer() })?;
        let defn = layer.defn();
        let within = &config.props.centroid_within_tile;
        anyhow::ensure!(defn.field_index(within).is_ok(), "no column `{within}`: not a staged tile");
        let dup_at = defn.field_index(&config.props.duplicated).ok();
        layer.set_attribute_filter(&format!("\"{}\" = 1", within.replace('"', "\"\"")))?;
        if let Some(area) = area {
            let env = area.envelope();
            layer.set_spatial_filter_rect(env.MinX, env.MinY, env.MaxX, env.MaxY);
        }
        for feature in layer.features() {
            let Some(g) = feature.geometry() else { continue };
            if area.is_some_and(|a| !g.intersects(a)) {
                continue;
            }
            let dup = match dup_at {
                Some(k) => feature.field_as_integer(k)?.unwrap_or(0) != 0,
                None => false,
            };
            f.duplicates += u64::from(dup);
            if dup && drop_dups {
                continue;
            }
            // SAFETY: the output layer and the source feature are live; the new feature is
            // destroyed here after OGR copied it.
            unsafe {
                let out = gdal_sys::OGR_F_Create(gdal_sys::OGR_L_GetLayerDefn(self.layer));
                let err = match gdal_sys::OGR_F_SetFrom(out, feature.c_feature(), 1) {
                    gdal_sys::OGRErr::OGRERR_NONE => gdal_sys::OGR_L_CreateFeature(self.layer, out),
                    e => e,
                };
                gdal_sys::OGR_F_Destroy(out);
                anyhow::ensure!(
                    err == gdal_sys::OGRErr::OGRERR_NONE,
                    "cannot write a polygon: {:?}",
                    vector::last_gdal_error()
                );
            }
            f.polygons += 1;
            self.pending += 1;
            if self.pending >= FEATURES_PER_COMMIT {
                self.commit(true)?;
            }
        }
        Ok(())
    }

    fn commit(&mut self, again: bool) -> anyhow::Result<()> {
        // SAFETY: the dataset is live and in a transaction.
        unsafe {
            let err = gdal_sys::GDALDatasetCommitTransaction(self.ds);
            anyhow::ensure!(err == gdal_sys::OGRErr::OGRERR_NONE, "cannot commit: {:?}", vector::last_gdal_error());
            if again {
                gdal_sys::GDALDatasetStartTransaction(self.ds, 0);
            }
        }
        self.pending = 0;
        Ok(())
    }

    fn finish(mut self) -> anyhow::Result<()> {
        self.commit(false)
    }
}
