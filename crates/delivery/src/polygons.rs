//! The GeoPackage of an area's polygons, from the staged z-max tiles: every polygon meeting the
//! area once, every column kept, duplicates left out or kept flagged as the config says;
//! streamed feature by feature. Staging writes a polygon whole into every tile it meets, so the
//! tiles meeting the area hold every polygon meeting it: each is taken from the tile holding its
//! centroid, or, when that tile is not among them (a polygon reaching into the area from
//! outside), from the first of them that holds it (by `staging_identifier`).

use crate::gdal_apps::Progress;
use anyhow::Context;
use gdal::vector::{Geometry, LayerAccess};
use gdal::{Dataset, DriverManager};
use iwp_core::config::{Config, DedupAt};
use iwp_core::files::AtomicOutput;
use iwp_core::tms::Tile;
use iwp_vector::vector;
use std::collections::HashSet;
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
    let (_, first) = staged.first().context("no staged tile to read")?;
    let mut writer = Writer::new(&mut dst, &vector::open_vector(first)?, &config.layer_name)?;
    let mut rows = Rows { owners: staged.iter().map(|(t, _)| t.to_string()).collect(), foreign: HashSet::new() };
    for (i, (tile, path)) in staged.iter().enumerate() {
        let src = vector::open_vector(path)?;
        let b = config.tms.bounds(*tile);
        // A tile inside the area: every row whose centroid it holds meets the area, untested.
        let inside = area.contains(&Geometry::bbox(b.left, b.bottom, b.right, b.top)?);
        writer
            .copy(config, &src, (area, inside), drop_dups, &mut rows, &mut figures)
            .with_context(|| format!("reading {}", path.display()))?;
        progress.at((i + 1) as f64 / staged.len() as f64);
    }
    writer.finish()?;
    drop(dst);
    out.commit().with_context(|| format!("cannot write {}", target.display()))?;
    Ok(figures)
}

/// Which rows are taken once: polygons whose centroid tile is one of the tiles read (`owners`,
/// as `staging_centroid_tile` writes tiles) come from that tile; others (`foreign`, by
/// identifier) from the first tile that holds them.
struct Rows {
    owners: HashSet<String>,
    foreign: HashSet<String>,
}

/// The rows of an area's GeoPackage, and of them those flagged as duplicates (None when it has
/// no flag column).
pub fn count(config: &Config, gpkg: &Path) -> anyhow::Result<(u64, Option<u64>)> {
    let ds = vector::open_vector(gpkg)?;
    let mut layer = ds.layer(0)?;
    let rows = layer.feature_count();
    let flag = &config.props.duplicated;
    if layer.defn().field_index(flag).is_err() {
        return Ok((rows, None));
    }
    layer.set_attribute_filter(&format!("\"{}\" = 1", flag.replace('"', "\"\"")))?;
    Ok((rows, Some(layer.feature_count())))
}

/// The output layer, filled in transactions; it borrows the output dataset its handles belong to.
struct Writer<'a> {
    ds: gdal_sys::GDALDatasetH,
    layer: gdal_sys::OGRLayerH,
    pending: u64,
    _dataset: std::marker::PhantomData<&'a mut Dataset>,
}

impl<'a> Writer<'a> {
    /// Creates the output layer with the CRS, geometry type and columns of `src`'s first layer.
    fn new(dst: &'a mut Dataset, src: &Dataset, name: &str) -> anyhow::Result<Writer<'a>> {
        let src_layer = src.layer(0)?;
        let srs = src_layer.spatial_ref();
        let ty = src_layer
            .defn()
            .geom_fields()
            .next()
            .map(|g| g.field_type())
            .unwrap_or(gdal_sys::OGRwkbGeometryType::wkbUnknown);
        let layer = dst.create_layer(gdal::vector::LayerOptions { name, srs: srs.as_ref(), ty, options: None })?;
        // SAFETY: the layer belongs to `dst`, which the writer borrows.
        let layer = unsafe { layer.c_layer() };
        let writer = Writer { ds: dst.c_dataset(), layer, pending: 0, _dataset: std::marker::PhantomData };
        writer.start()?;
        Ok(writer)
    }

    fn start(&self) -> anyhow::Result<()> {
        // SAFETY: the dataset is live (borrowed).
        let err = unsafe { gdal_sys::GDALDatasetStartTransaction(self.ds, 0) };
        anyhow::ensure!(
            err == gdal_sys::OGRErr::OGRERR_NONE,
            "cannot start a transaction: {:?}",
            vector::last_gdal_error()
        );
        Ok(())
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

    /// Copies the rows of `src` that are taken here ([`Rows`]) and whose polygon meets `area`
    /// (untested for rows whose centroid is in the tile when the tile is `inside` the area).
    fn copy(
        &mut self,
        config: &Config,
        src: &Dataset,
        (area, inside): (&Geometry, bool),
        drop_dups: bool,
        rows: &mut Rows,
        f: &mut Polygons,
    ) -> anyhow::Result<()> {
        let mut layer = src.layer(0)?;
        // SAFETY: the layer lives through this call.
        self.add_missing_columns(unsafe { layer.c_layer() })?;
        let defn = layer.defn();
        let column =
            |name: &str| defn.field_index(name).map_err(|_| anyhow::anyhow!("no column `{name}`: not a staged tile"));
        let props = &config.props;
        let (within_at, tile_at) = (column(&props.centroid_within_tile)?, column(&props.centroid_tile)?);
        let id_at = column(&props.identifier)?;
        let dup_at = defn.field_index(&props.duplicated).ok();
        if !inside {
            let env = area.envelope();
            layer.set_spatial_filter_rect(env.MinX, env.MinY, env.MaxX, env.MaxY);
        }
        for feature in layer.features() {
            let Some(g) = feature.geometry() else { continue };
            let owned = feature.field_as_integer(within_at)?.unwrap_or(0) != 0;
            if !owned {
                let owner = feature.field_as_string(tile_at)?.unwrap_or_default();
                if rows.owners.contains(&owner) {
                    continue;
                }
                let id = feature.field_as_string(id_at)?.unwrap_or_default();
                if !rows.foreign.insert(id) {
                    continue;
                }
            }
            if (!owned || !inside) && !g.intersects(area) {
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
        // SAFETY: the dataset is live (borrowed) and in a transaction.
        let err = unsafe { gdal_sys::GDALDatasetCommitTransaction(self.ds) };
        anyhow::ensure!(err == gdal_sys::OGRErr::OGRERR_NONE, "cannot commit: {:?}", vector::last_gdal_error());
        self.pending = 0;
        if again {
            self.start()?;
        }
        Ok(())
    }

    fn finish(mut self) -> anyhow::Result<()> {
        self.commit(false)
    }
}
