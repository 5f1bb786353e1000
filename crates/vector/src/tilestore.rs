//! Staged tiles on disk: one GeoPackage per z-max tile, layer named after the tile's y, input
//! columns then the staging columns. Rows of one input file are added to a tile in one atomic
//! step (copy or create under a temporary name, write, flush, rename) while the tile's folder is
//! locked, so processes and threads can stage into the same tree. A file whose rows a tile
//! already holds is not added twice.

use crate::stage::StagedFile;
use crate::tile_sql::Added;
use crate::vector;
use anyhow::{anyhow, Context};
use gdal::vector::{Feature, Geometry, LayerAccess, LayerOptions, OGRFieldType, OGRwkbGeometryType};
use gdal::{Dataset, DriverManager};
use iwp_core::config::Config;
use iwp_core::files::AtomicOutput;
use iwp_core::tms::Tile;
use std::path::{Path, PathBuf};

/// What writing one tile did.
#[derive(Debug, Clone)]
pub struct TileWrite {
    /// The z-max tile written.
    pub tile: Tile,
    /// The tile's GeoPackage.
    pub path: PathBuf,
    /// Rows added by this write (0 when the tile already held the file's rows).
    pub added: usize,
    /// Rows in the tile after the write.
    pub features: u64,
    /// Sum of staging_area over the rows added.
    pub area: f64,
    /// The writer that wrote it.
    pub by: TileWriter,
}

/// A staging column: name, type, boolean or not.
struct StagingColumn {
    name: String,
    kind: OGRFieldType::Type,
    boolean: bool,
}

/// The staging columns' names, in the order tiles hold them.
pub(crate) fn staging_column_names(config: &Config) -> Vec<String> {
    staging_columns(config).into_iter().map(|c| c.name).collect()
}

fn staging_columns(config: &Config) -> Vec<StagingColumn> {
    let p = &config.props;
    let col = |name: &str, kind, boolean| StagingColumn { name: name.to_string(), kind, boolean };
    let mut cols = Vec::new();
    if config.deduplicate_method.is_some() {
        cols.push(col(&p.duplicated, OGRFieldType::OFTInteger, true));
    }
    cols.extend([
        col(&p.area, OGRFieldType::OFTReal, false),
        col(&p.centroid_x, OGRFieldType::OFTReal, false),
        col(&p.centroid_y, OGRFieldType::OFTReal, false),
        col(&p.filename, OGRFieldType::OFTString, false),
        col(&p.identifier, OGRFieldType::OFTString, false),
        col(&p.centroid_tile, OGRFieldType::OFTString, false),
        col(&p.tile, OGRFieldType::OFTString, false),
        col(&p.centroid_within_tile, OGRFieldType::OFTInteger, true),
    ]);
    cols
}

/// Adds a field (name, type, subtype) to a live layer.
fn add_field(
    layer: &gdal::vector::Layer,
    name: &str,
    kind: OGRFieldType::Type,
    subtype: gdal_sys::OGRFieldSubType::Type,
) -> anyhow::Result<()> {
    let c_name = std::ffi::CString::new(name)?;
    // SAFETY: the field definition is created, used on a live layer and destroyed here.
    let err = unsafe {
        let defn = gdal_sys::OGR_Fld_Create(c_name.as_ptr(), kind);
        gdal_sys::OGR_Fld_SetSubType(defn, subtype);
        let err = gdal_sys::OGR_L_CreateField(layer.c_layer(), defn, 1);
        gdal_sys::OGR_Fld_Destroy(defn);
        err
    };
    if err != gdal_sys::OGRErr::OGRERR_NONE {
        return Err(anyhow!("cannot add field `{name}` (OGR error {err})"));
    }
    Ok(())
}

/// Adds to a live layer the columns it lacks (by name), with their types and subtypes.
pub(crate) fn add_missing_columns(layer: &gdal::vector::Layer, columns: &[crate::stage::Column]) -> anyhow::Result<()> {
    for c in columns {
        if layer.defn().field_index(&c.name).is_err() {
            add_field(layer, &c.name, c.kind, c.subtype)?;
        }
    }
    Ok(())
}

/// Path of a staged tile under `dir`.
pub fn tile_path(config: &Config, dir: &Path, tile: Tile) -> PathBuf {
    config.tile_paths.path(dir, None, tile, &config.ext_staged)
}

/// Counts a tile's rows that came from `filename`.
fn rows_of_file(layer: &mut gdal::vector::Layer, column: &str, filename: &str) -> anyhow::Result<u64> {
    if layer.defn().field_index(column).is_err() {
        return Ok(0);
    }
    layer.set_attribute_filter(&format!("\"{column}\" = '{}'", filename.replace('\'', "''")))?;
    let n = layer.feature_count();
    layer.clear_attribute_filter();
    Ok(n)
}

/// How rows reach a tile's GeoPackage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TileWriter {
    /// Straight through SQLite in memory where it can ([`crate::tile_sql`]), else GDAL.
    Sqlite,
    /// GDAL, feature by feature.
    Gdal,
}

/// The rows of a staged file bound for one tile.
#[derive(Clone, Copy)]
pub struct TileRows<'a> {
    /// The staged file.
    pub file: &'a StagedFile,
    /// The z-max tile.
    pub tile: Tile,
    /// Indices of the file's rows that meet the tile.
    pub rows: &'a [usize],
    /// True to replace rows the tile already holds from this file; false to leave such a tile.
    pub force: bool,
}

/// Adds rows to their tile under `dir` by the writer given, durably, under the lock of the
/// tile's folder. (iwp-stage writes a file's tiles together: [`lock_folders`],
/// [`prepare_tile`], one flush, [`PreparedTile::put_in_place`].)
pub fn write_tile(config: &Config, dir: &Path, rows: TileRows, by: TileWriter) -> anyhow::Result<TileWrite> {
    let _lock = lock_folders(config, dir, &[rows.tile])?;
    let prepared = prepare_tile(config, dir, rows, by)?;
    if let Some(out) = prepared.out {
        out.commit()?;
    }
    Ok(prepared.write)
}

/// The folders of `tiles` under `dir`, created and locked, each once and in order (so processes
/// locking overlapping sets cannot deadlock); the locks hold until the files are dropped.
pub fn lock_folders(config: &Config, dir: &Path, tiles: &[Tile]) -> anyhow::Result<Vec<std::fs::File>> {
    let folders: std::collections::BTreeSet<PathBuf> =
        tiles.iter().filter_map(|t| tile_path(config, dir, *t).parent().map(Path::to_path_buf)).collect();
    folders
        .iter()
        .map(|folder| {
            std::fs::create_dir_all(folder).with_context(|| format!("cannot create {}", folder.display()))?;
            let lock = std::fs::File::open(folder).with_context(|| format!("cannot open {}", folder.display()))?;
            lock.lock().with_context(|| format!("cannot lock {}", folder.display()))?;
            Ok(lock)
        })
        .collect()
}

/// A tile's new content, written under a temporary name beside it and not yet in place.
pub struct PreparedTile {
    write: TileWrite,
    /// The new content; None when the tile already held the file's rows and stays as it is.
    out: Option<AtomicOutput>,
}

impl PreparedTile {
    /// True when the tile changes (its new content has to reach the disk before it is put in place).
    pub fn changes(&self) -> bool {
        self.out.is_some()
    }

    /// Renames the new content onto the tile (the caller has flushed it to disk first).
    pub fn put_in_place(self) -> anyhow::Result<TileWrite> {
        if let Some(out) = self.out {
            out.commit_unsynced()?;
        }
        Ok(self.write)
    }
}

/// Writes a tile with the rows added under a temporary name beside it, by the writer given;
/// the caller holds the lock of the tile's folder ([`lock_folders`]).
pub fn prepare_tile(config: &Config, dir: &Path, rows: TileRows, by: TileWriter) -> anyhow::Result<PreparedTile> {
    let TileRows { file, tile, .. } = rows;
    let path = tile_path(config, dir, tile);
    // The work, then its errors labelled with the tile.
    let prepared = (|| -> anyhow::Result<PreparedTile> {
        let out = AtomicOutput::new(&path)?;
        let fast = by == TileWriter::Sqlite
            && config.deduplicate_method != Some(iwp_core::config::DedupMethod::Neighbor)
            && crate::tile_sql::handles(&file.columns);
        let added = match fast {
            true => crate::tile_sql::add_rows(config, rows, &path, out.path())?,
            false => None,
        };
        let (added, by) = match added {
            Some(a) => (a, TileWriter::Sqlite),
            None => (add_rows_by_gdal(config, rows, &path, out.path())?, TileWriter::Gdal),
        };
        let write =
            TileWrite { tile, path: path.clone(), added: added.rows, features: added.features, area: added.area, by };
        // A tile that already held the file's rows is left as it is (the copy dropped unused).
        Ok(PreparedTile { write, out: (added.rows > 0).then_some(out) })
    })();
    prepared.map_err(|e| {
        // GDAL's own reason (e.g. SQLite's "database or disk is full") and the tile.
        if let Some(full) = iwp_core::files::full_disk_note(&path) {
            return e.context(format!("tile {}: {full}", path.display()));
        }
        match vector::last_gdal_error() {
            Some(why) => e.context(format!("tile {}: {why}", path.display())),
            None => e.context(format!("tile {}", path.display())),
        }
    })
}

/// [`crate::tile_sql::add_rows`] through GDAL: the tile copied to `temp` (or made there), the
/// columns it lacks added, the rows appended feature by feature.
fn add_rows_by_gdal(config: &Config, rows: TileRows, path: &Path, temp: &Path) -> anyhow::Result<Added> {
    let TileRows { file, tile, rows, force } = rows;
    let fname_col = &config.props.filename;
    let mut ds = if path.exists() {
        std::fs::copy(path, temp).with_context(|| format!("cannot copy {}", path.display()))?;
        let ds = vector::open_gpkg_for_update(temp)
            .with_context(|| format!("cannot open staged tile {}", path.display()))?;
        let mut layer = ds.layer(0)?;
        let already = rows_of_file(&mut layer, fname_col, &file.filename)?;
        if already > 0 && !force {
            return Ok(Added { rows: 0, features: layer.feature_count(), area: 0.0 });
        }
        if force {
            let layer_name = layer.name();
            let sql =
                format!("DELETE FROM \"{layer_name}\" WHERE \"{fname_col}\" = '{}'", file.filename.replace('\'', "''"));
            ds.execute_sql(&sql, None, gdal::vector::sql::Dialect::DEFAULT)?;
        }
        ds
    } else {
        create_tile(config, temp)?
    };
    add_columns(config, &mut ds, &file.columns)?;
    let (rows, area) = append_rows(config, &mut ds, file, tile, rows)?;
    if config.deduplicate_method == Some(iwp_core::config::DedupMethod::Neighbor) {
        crate::neighbors::flag_tile(config, &ds).with_context(|| format!("neighbour dedup of {}", path.display()))?;
    }
    let features = ds.layer(0)?.feature_count();
    Ok(Added { rows, features, area })
}

/// A new, empty staged tile at `path` (a file or a /vsimem/ name): the layer in the TMS CRS.
pub(crate) fn create_tile(config: &Config, path: &Path) -> anyhow::Result<Dataset> {
    let driver = DriverManager::get_driver_by_name("GPKG")?;
    let mut ds = driver.create_vector_only(path)?;
    let srs = vector::registered_srs(config.tms.crs)?;
    ds.create_layer(LayerOptions {
        name: &config.layer_name,
        srs: Some(&srs),
        ty: OGRwkbGeometryType::wkbPolygon,
        options: Some(&["SPATIAL_INDEX=NO"]),
    })?;
    Ok(ds)
}

/// Adds to a tile's layer the input columns and staging columns it lacks, in that order.
pub(crate) fn add_columns(config: &Config, ds: &mut Dataset, columns: &[crate::stage::Column]) -> anyhow::Result<()> {
    let layer = ds.layer(0)?;
    let defn = layer.defn();
    add_missing_columns(&layer, columns)?;
    for c in &staging_columns(config) {
        if defn.field_index(&c.name).is_err() {
            let sub =
                if c.boolean { gdal_sys::OGRFieldSubType::OFSTBoolean } else { gdal_sys::OGRFieldSubType::OFSTNone };
            add_field(&layer, &c.name, c.kind, sub)?;
        }
    }
    Ok(())
}

fn append_rows(
    config: &Config,
    ds: &mut Dataset,
    file: &StagedFile,
    tile: Tile,
    rows: &[usize],
) -> anyhow::Result<(usize, f64)> {
    let staging = staging_columns(config);
    let tx = ds.start_transaction()?;
    let layer = tx.layer(0)?;
    let defn = layer.defn();
    let input_idx: Vec<usize> = file.columns.iter().map(|c| defn.field_index(&c.name)).collect::<Result<_, _>>()?;
    let staging_idx: Vec<usize> = staging.iter().map(|c| defn.field_index(&c.name)).collect::<Result<_, _>>()?;
    let tile_text = tile.to_string();
    let mut area = 0.0;
    for &r in rows {
        let row = &file.rows[r];
        let mut f = Feature::new(defn)?;
        for (k, value) in file.values[row.feature].iter().enumerate() {
            if let Some(v) = value {
                f.set_field(input_idx[k], v)?;
            }
        }
        let centroid_tile = row.centroid_tile.map(|t| t.to_string()).unwrap_or_default();
        let mut s = staging_idx.iter();
        if config.deduplicate_method.is_some() {
            f.set_field_integer(*s.next().unwrap_or(&0), i32::from(row.duplicated.unwrap_or(false)))?;
        }
        let mut next = || *s.next().expect("staging column");
        f.set_field_double(next(), row.area)?;
        f.set_field_double(next(), row.centroid.0)?;
        f.set_field_double(next(), row.centroid.1)?;
        f.set_field_string(next(), &file.filename)?;
        f.set_field_string(next(), &row.identifier)?;
        f.set_field_string(next(), &centroid_tile)?;
        f.set_field_string(next(), &tile_text)?;
        f.set_field_integer(next(), i32::from(row.centroid_tile == Some(tile)))?;
        f.set_geometry(Geometry::from_wkb(&vector::polygon_wkb(&row.polygon.rings))?)?;
        f.create(&layer)?;
        area += row.area;
    }
    tx.commit()?;
    Ok((rows.len(), area))
}

/// Appends rows to the staging summary CSV (header when new), under a lock on the file.
pub fn append_summary(config: &Config, filename: &str, writes: &[TileWrite]) -> anyhow::Result<()> {
    const HEADER: [&str; 12] = [
        "filename",
        "num_polygons",
        "area_polygons",
        "datetime",
        "tile_x",
        "tile_y",
        "tile_z",
        "tile_top",
        "tile_right",
        "tile_bottom",
        "tile_left",
        "tms_identifier",
    ];
    let now = chrono::Local::now().format("%Y-%m-%d %H:%M:%S%.6f").to_string();
    let records: Vec<Vec<String>> = writes
        .iter()
        .filter(|t| t.added > 0)
        .map(|t| {
            let b = config.tms.bounds(t.tile);
            vec![
                filename.to_string(),
                t.added.to_string(),
                t.area.to_string(),
                now.clone(),
                t.tile.x.to_string(),
                t.tile.y.to_string(),
                t.tile.z.to_string(),
                b.top.to_string(),
                b.right.to_string(),
                b.bottom.to_string(),
                b.left.to_string(),
                config.tms.id.to_string(),
            ]
        })
        .collect();
    iwp_core::files::append_csv(&config.filename_staging_summary, &HEADER, &records)
        .with_context(|| format!("staging summary {}", config.filename_staging_summary.display()))
}
