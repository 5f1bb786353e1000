//! Staged rows added to a tile straight through SQLite, in memory: the tile (or, for a new tile,
//! an empty one GDAL made once per schema) is loaded into an in-memory database, the rows go in
//! through one prepared INSERT, and the database is written out in one piece. This skips, per
//! tile, GDAL's GeoPackage creation and per-feature bookkeeping and SQLite's journal on disk;
//! the tables, triggers and blobs are GDAL's own, so GDAL reads the tile as if it wrote it.

use crate::gpkg::quoted;
use crate::stage::Column;
use crate::tilestore::TileRows;
use anyhow::{anyhow, Context};
use gdal::vector::{FieldValue, OGRFieldType};
use iwp_core::config::Config;
use rusqlite::types::{ToSqlOutput, Value, ValueRef};
use rusqlite::Connection;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Tiles larger than this are added to through GDAL on disk instead of in memory.
const IN_MEMORY_MAX: u64 = 256 << 20;

/// What adding a file's rows to a tile did.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Added {
    /// Rows added (0 when the tile already held the file's rows and was left as it is).
    pub rows: usize,
    /// Rows in the tile after the write.
    pub features: u64,
    /// Sum of staging_area over the rows added.
    pub area: f64,
}

/// True when every input column is of a type bound here as GDAL's GeoPackage driver writes it
/// (integers, reals, strings, dates); other files go through GDAL.
pub(crate) fn handles(columns: &[Column]) -> bool {
    const BOUND: [OGRFieldType::Type; 5] = [
        OGRFieldType::OFTInteger,
        OGRFieldType::OFTInteger64,
        OGRFieldType::OFTReal,
        OGRFieldType::OFTString,
        OGRFieldType::OFTDate,
    ];
    columns.iter().all(|c| BOUND.contains(&c.kind))
}

/// Empty tiles made by GDAL, one per schema, kept for the life of the process.
static TEMPLATES: Mutex<Vec<(String, Arc<Vec<u8>>)>> = Mutex::new(Vec::new());

/// The bytes of an empty tile with the layer, the file's columns and the staging columns.
fn template(config: &Config, columns: &[Column]) -> anyhow::Result<Arc<Vec<u8>>> {
    let key = format!("{}|{}|{:?}|{:?}", config.layer_name, config.tms.crs, columns, config.props);
    let mut templates = TEMPLATES.lock().map_err(|_| anyhow!("tile templates poisoned"))?;
    if let Some((_, bytes)) = templates.iter().find(|(k, _)| *k == key) {
        return Ok(bytes.clone());
    }
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mem = format!("/vsimem/iwp-tile-template-{}-{n}.gpkg", std::process::id());
    {
        let mut ds = crate::tilestore::create_tile(config, Path::new(&mem))?;
        crate::tilestore::add_columns(config, &mut ds, columns)?;
    }
    let bytes = Arc::new(gdal::vsi::get_vsi_mem_file_bytes_owned(&mem)?);
    templates.push((key, bytes.clone()));
    Ok(bytes)
}

/// Adds the rows to the tile at `existing` (or a new tile) and writes the result to `temp`;
/// None when GDAL has to do it (the tile lacks columns, or is too large to hold in memory).
/// With `force`, the file's rows the tile holds are replaced.
pub(crate) fn add_rows(
    config: &Config,
    bound: TileRows,
    existing: &Path,
    temp: &Path,
) -> anyhow::Result<Option<Added>> {
    let TileRows { file, rows, force, .. } = bound;
    let mut conn = Connection::open_in_memory()?;
    match std::fs::File::open(existing) {
        Ok(f) => {
            let len = f.metadata()?.len();
            if len > IN_MEMORY_MAX {
                return Ok(None);
            }
            conn.deserialize_read_exact("main", f, len as usize, false)?;
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let bytes = template(config, &file.columns)?;
            conn.deserialize_read_exact("main", bytes.as_slice(), bytes.len(), false)?;
        }
        Err(e) => return Err(e.into()),
    }
    let table = crate::gpkg::TableSchema::describe(&conn).map_err(|e| anyhow!("not a staged tile: {e}"))?;
    let srs_id: i32 =
        conn.query_row("SELECT srs_id FROM gpkg_geometry_columns WHERE table_name = ?1", [&table.name], |r| r.get(0))?;
    // The tile's own spelling of each column (OGR matches names without case).
    let staging = crate::tilestore::staging_column_names(config);
    let mut names = Vec::new();
    for wanted in file.columns.iter().map(|c| c.name.as_str()).chain(staging.iter().map(String::as_str)) {
        match table.column_like(wanted) {
            Some((name, _)) => names.push(name.to_string()),
            None => return Ok(None),
        }
    }
    let t = quoted(&table.name);
    let fname_col = quoted(table.column_like(&config.props.filename).map(|c| c.0).unwrap_or_default());
    let count = |conn: &Connection| -> rusqlite::Result<u64> {
        conn.query_row(&format!("SELECT count(*) FROM {t}"), [], |r| r.get::<_, i64>(0)).map(|n| n as u64)
    };
    let already: i64 =
        conn.query_row(&format!("SELECT count(*) FROM {t} WHERE {fname_col} = ?1"), [&file.filename], |r| r.get(0))?;
    if already > 0 && !force {
        return Ok(Some(Added { rows: 0, features: count(&conn)?, area: 0.0 }));
    }
    let tx = conn.transaction()?;
    if already > 0 {
        tx.execute(&format!("DELETE FROM {t} WHERE {fname_col} = ?1"), [&file.filename])?;
    }
    // GDAL's triggers counting features would run an UPDATE per row; the count is set once
    // below, so they are dropped for the inserts and made again from their own SQL.
    let triggers: Vec<(String, String)> = {
        let mut stmt = tx.prepare(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?1 \
             AND name LIKE 'trigger\\_%\\_feature\\_count\\_%' ESCAPE '\\'",
        )?;
        let rows = stmt.query_map([&table.name], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for (name, _) in &triggers {
        tx.execute(&format!("DROP TRIGGER {}", quoted(name)), [])?;
    }
    let target = Target { table: &t, geometry: &quoted(&table.geometry), names: &names, srs_id };
    let (area, extent) = insert(config, &tx, &target, bound)?;
    for (_, sql) in &triggers {
        tx.execute(sql, [])?;
    }
    // The extent grown by the rows' bounds (exact; GDAL stores it rounded to 15 or 16 digits).
    tx.execute(
        "UPDATE gpkg_contents SET min_x = min(coalesce(min_x, ?1), ?1), min_y = min(coalesce(min_y, ?2), ?2), \
         max_x = max(coalesce(max_x, ?3), ?3), max_y = max(coalesce(max_y, ?4), ?4), \
         last_change = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE lower(table_name) = lower(?5)",
        rusqlite::params![extent.left, extent.bottom, extent.right, extent.top, table.name],
    )?;
    // GDAL's triggers keep gpkg_ogr_contents' count, but only once it is known (a new tile's is NULL).
    let features = count(&tx)?;
    tx.execute(
        "UPDATE gpkg_ogr_contents SET feature_count = ?1 WHERE lower(table_name) = lower(?2)",
        rusqlite::params![features as i64, table.name],
    )?;
    tx.commit()?;
    let bytes = conn.serialize("main")?;
    iwp_core::files::write_starting_writeback(temp, &bytes)
        .with_context(|| format!("cannot write {}", temp.display()))?;
    Ok(Some(Added { rows: rows.len(), features, area }))
}

/// The table the rows go into: its quoted name and geometry column, the tile's spelling of the
/// input and staging columns in binding order, and the geometries' srs_id.
struct Target<'a> {
    table: &'a str,
    geometry: &'a str,
    names: &'a [String],
    srs_id: i32,
}

/// Inserts the rows; returns the sum of their areas and their extent.
fn insert(
    config: &Config,
    tx: &rusqlite::Transaction,
    target: &Target,
    rows: TileRows,
) -> anyhow::Result<(f64, iwp_core::tms::Bounds)> {
    let TileRows { file, tile, rows, .. } = rows;
    let columns: Vec<String> =
        std::iter::once(target.geometry.to_string()).chain(target.names.iter().map(|n| quoted(n))).collect();
    let marks = vec!["?"; columns.len()].join(", ");
    let mut stmt = tx.prepare(&format!("INSERT INTO {} ({}) VALUES ({marks})", target.table, columns.join(", ")))?;
    let tile_text = tile.to_string();
    let dedup = config.deduplicate_method.is_some();
    let mut extent = iwp_core::tms::Bounds { left: f64::MAX, bottom: f64::MAX, right: f64::MIN, top: f64::MIN };
    let mut area = 0.0;
    let mut blob = Vec::new();
    for &r in rows {
        let row = &file.rows[r];
        let b = row.polygon.bounds();
        gpkg_blob(&mut blob, target.srs_id, &b, &row.polygon.rings);
        extent = iwp_core::tms::Bounds {
            left: extent.left.min(b.left),
            bottom: extent.bottom.min(b.bottom),
            right: extent.right.max(b.right),
            top: extent.top.max(b.top),
        };
        let mut k = 1;
        let mut bind = |v: ToSqlOutput| -> rusqlite::Result<()> {
            stmt.raw_bind_parameter(k, v)?;
            k += 1;
            Ok(())
        };
        bind(ToSqlOutput::Borrowed(ValueRef::Blob(&blob)))?;
        for value in &file.values[row.feature] {
            bind(field_value(value.as_ref()))?;
        }
        let int = |v: bool| ToSqlOutput::Owned(Value::Integer(i64::from(v)));
        let text = |s: &str| ToSqlOutput::Owned(Value::Text(s.to_string()));
        if dedup {
            bind(int(row.duplicated.unwrap_or(false)))?;
        }
        bind(ToSqlOutput::Owned(Value::Real(row.area)))?;
        bind(ToSqlOutput::Owned(Value::Real(row.centroid.0)))?;
        bind(ToSqlOutput::Owned(Value::Real(row.centroid.1)))?;
        bind(ToSqlOutput::Borrowed(ValueRef::Text(file.filename.as_bytes())))?;
        bind(ToSqlOutput::Borrowed(ValueRef::Text(row.identifier.as_bytes())))?;
        bind(text(&row.centroid_tile.map(|t| t.to_string()).unwrap_or_default()))?;
        bind(ToSqlOutput::Borrowed(ValueRef::Text(tile_text.as_bytes())))?;
        bind(int(row.centroid_tile == Some(tile)))?;
        stmt.raw_execute()?;
        area += row.area;
    }
    Ok((area, extent))
}

/// An attribute value as GDAL's GeoPackage driver stores it (dates as `YYYY-MM-DD` text).
fn field_value(value: Option<&FieldValue>) -> ToSqlOutput<'_> {
    match value {
        None => ToSqlOutput::Owned(Value::Null),
        Some(FieldValue::IntegerValue(v)) => ToSqlOutput::Owned(Value::Integer(i64::from(*v))),
        Some(FieldValue::Integer64Value(v)) => ToSqlOutput::Owned(Value::Integer(*v)),
        Some(FieldValue::RealValue(v)) => ToSqlOutput::Owned(Value::Real(*v)),
        Some(FieldValue::StringValue(s)) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
        Some(FieldValue::DateValue(d)) => ToSqlOutput::Owned(Value::Text(d.format("%Y-%m-%d").to_string())),
        // Not reached: `handles` sends files with other types through GDAL.
        Some(_) => ToSqlOutput::Owned(Value::Null),
    }
}

/// A GeoPackage geometry blob of a polygon into `out`: the header (version 0, little-endian,
/// XY envelope, as GDAL writes it) and the polygon's WKB.
fn gpkg_blob(out: &mut Vec<u8>, srs_id: i32, b: &iwp_core::tms::Bounds, rings: &[Vec<(f64, f64)>]) {
    out.clear();
    out.extend_from_slice(b"GP");
    out.push(0);
    out.push(0b0000_0011);
    out.extend_from_slice(&srs_id.to_le_bytes());
    for v in [b.left, b.right, b.bottom, b.top] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    crate::vector::write_polygon_wkb(out, rings);
}
