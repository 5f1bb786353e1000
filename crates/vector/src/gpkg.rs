//! GeoPackage feature tables read straight from SQLite: one SELECT of the columns a caller needs,
//! geometry blobs decoded by geozero. Staged tiles are read this way because an OGR open (schema
//! parsing, layer set-up) cost more than rasterizing the tile.

use crate::geom::PolygonList;
use anyhow::{anyhow, bail, Context};
use geozero::error::Result as GeoResult;
use geozero::wkb::{process_wkb_type_geom, WkbDialect};
use geozero::GeomProcessor;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};

/// The first feature table of a GeoPackage open for reading; its schema through `Deref`.
pub struct FeatureTable {
    conn: Connection,
    path: PathBuf,
    schema: TableSchema,
}

/// A GeoPackage's first feature table (as OGR's layer 0): its name, geometry column and other columns.
pub struct TableSchema {
    /// The table (OGR's layer) name.
    pub name: String,
    /// The geometry column.
    pub geometry: String,
    /// Every column of the table, in order.
    pub columns: Vec<String>,
    /// Each column's declared type (e.g. `DATETIME`), in the same order.
    pub types: Vec<String>,
}

impl TableSchema {
    /// The first feature table of the GeoPackage open in `conn`.
    pub fn describe(conn: &Connection) -> rusqlite::Result<TableSchema> {
        let (name, geometry): (String, String) = conn.query_row(
            "SELECT g.table_name, g.column_name FROM gpkg_geometry_columns g \
             JOIN gpkg_contents c ON c.table_name = g.table_name \
             WHERE c.data_type = 'features' ORDER BY c.rowid LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let mut stmt = conn.prepare(&format!("PRAGMA table_info({})", quoted(&name)))?;
        let names = stmt.query_map([], |r| Ok((r.get::<_, String>(1)?, r.get::<_, String>(2)?)))?;
        let (columns, types) = names.collect::<Result<Vec<_>, _>>()?.into_iter().unzip();
        Ok(TableSchema { name, geometry, columns, types })
    }

    /// The column named `name`, compared without case as OGR does, with its declared type.
    pub fn column_like(&self, name: &str) -> Option<(&str, &str)> {
        let k = self.columns.iter().position(|c| c.eq_ignore_ascii_case(name))?;
        Some((&self.columns[k], &self.types[k]))
    }

    /// True when the table has a column of this name.
    pub fn has_column(&self, name: &str) -> bool {
        self.columns.iter().any(|c| c == name)
    }
}

impl std::ops::Deref for FeatureTable {
    type Target = TableSchema;
    fn deref(&self) -> &TableSchema {
        &self.schema
    }
}

/// Files up to this size are read whole into memory; larger ones are read page by page.
const IN_MEMORY_MAX: u64 = 64 << 20;

/// A `file:` URI opening `path` as immutable (`%`, `?` and `#` escaped).
pub(crate) fn immutable_uri(path: &Path) -> String {
    let text = path.to_string_lossy().replace('%', "%25").replace('?', "%3f").replace('#', "%23");
    format!("file:{text}?immutable=1")
}

/// Quotes an SQL identifier.
pub(crate) fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

impl FeatureTable {
    /// Opens a GeoPackage read-only and finds its first feature table (as OGR's layer 0).
    pub fn open(path: &Path) -> anyhow::Result<FeatureTable> {
        FeatureTable::open_reading_whole(path, IN_MEMORY_MAX)
    }

    /// [`FeatureTable::open`], reading the file whole into memory when it has at most
    /// `whole_max` bytes (tests use it to take either path).
    pub fn open_reading_whole(path: &Path, whole_max: u64) -> anyhow::Result<FeatureTable> {
        let fail = |e: &dyn std::fmt::Display| anyhow!("cannot open {} as a GeoPackage: {e}", path.display());
        let file = std::fs::File::open(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => fail(&"no such file"),
            _ => fail(&e),
        })?;
        let meta = file.metadata().map_err(|e| fail(&e))?;
        if !meta.is_file() {
            return Err(fail(&"not a file"));
        }
        let conn = if meta.len() <= whole_max {
            // The whole file read in one call into an in-memory database: tiles are read once
            // and never changed in place (writers rename a new file over them), so this is a
            // consistent snapshot without a read call per page or any locking.
            let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
            let mut conn = Connection::open_in_memory_with_flags(flags).map_err(|e| fail(&e))?;
            conn.deserialize_read_exact("main", file, meta.len() as usize, true).map_err(|e| fail(&e))?;
            conn
        } else {
            // Immutable, for the same reason: no locks, no checks for journals beside the file.
            let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
            Connection::open_with_flags(immutable_uri(path), flags).map_err(|e| fail(&e))?
        };
        let schema = TableSchema::describe(&conn).map_err(|e| fail(&e))?;
        Ok(FeatureTable { conn, path: path.to_path_buf(), schema })
    }

    /// The table's CRS as GDAL would name it: `EPSG:n` for an EPSG code, else its WKT
    /// definition; None when undefined.
    pub fn crs(&self) -> anyhow::Result<Option<String>> {
        let (org, code, definition): (Option<String>, Option<i64>, Option<String>) = self
            .conn
            .query_row(
                "SELECT s.organization, s.organization_coordsys_id, s.definition FROM gpkg_geometry_columns g \
                 JOIN gpkg_spatial_ref_sys s ON s.srs_id = g.srs_id WHERE g.table_name = ?1",
                [&self.name],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .with_context(|| format!("{}: no CRS record for table {}", self.path.display(), self.name))?;
        Ok(match (org, code, definition) {
            (Some(org), Some(code), _) if org.eq_ignore_ascii_case("EPSG") && code > 0 => Some(format!("EPSG:{code}")),
            (_, _, Some(d)) if !d.trim().is_empty() && !d.eq_ignore_ascii_case("undefined") => Some(d),
            _ => None,
        })
    }

    /// Calls `each` with every row's polygons (a MultiPolygon's parts; none for other or empty
    /// geometries) and the values of `columns`, in row order.
    pub fn for_each_row(
        &self,
        columns: &[&str],
        mut each: impl FnMut(&PolygonList, &Values) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        if let Some(missing) = columns.iter().find(|c| !self.has_column(c)) {
            bail!("{}: no column `{missing}` in table {}", self.path.display(), self.name);
        }
        let list: Vec<String> =
            std::iter::once(self.geometry.as_str()).chain(columns.iter().copied()).map(quoted).collect();
        let sql = format!("SELECT {} FROM {} ORDER BY rowid", list.join(", "), quoted(&self.name));
        let context = || format!("cannot read {}", self.path.display());
        let mut stmt = self.conn.prepare(&sql).with_context(context)?;
        let mut rows = stmt.query([]).with_context(context)?;
        // One polygon list for every row.
        let mut polygons = PolygonList::default();
        while let Some(row) = rows.next().with_context(context)? {
            polygons.clear();
            if let ValueRef::Blob(blob) = row.get_ref(0)? {
                read_blob(blob, &mut polygons)
                    .with_context(|| format!("{}: bad geometry blob", self.path.display()))?;
            }
            each(&polygons, &Values(row))?;
        }
        Ok(())
    }
}

/// The values a row has in the columns asked for.
pub struct Values<'a>(&'a rusqlite::Row<'a>);

impl Values<'_> {
    /// The value in the `k`-th column asked for.
    pub fn get(&self, k: usize) -> anyhow::Result<ValueRef<'_>> {
        Ok(self.0.get_ref(k + 1)?)
    }
}

/// A column value as a number: integers and reals; NULL is None; text or blobs are errors.
pub fn number(value: ValueRef) -> anyhow::Result<Option<f64>> {
    Ok(match value {
        ValueRef::Null => None,
        ValueRef::Integer(v) => Some(v as f64),
        ValueRef::Real(v) => Some(v),
        ValueRef::Text(t) => bail!("column value {:?} is not a number", String::from_utf8_lossy(t)),
        ValueRef::Blob(_) => bail!("column value is a blob, not a number"),
    })
}

/// Adds the polygons of a GeoPackage geometry blob to `list`: a Polygon, or a MultiPolygon's
/// parts; other types (and polygons inside collections) give none. Empty rings are dropped.
fn read_blob(blob: &[u8], list: &mut PolygonList) -> anyhow::Result<()> {
    let mut collector = Polygons { list, in_polygon: false, collections: 0 };
    process_wkb_type_geom(&mut std::io::Cursor::new(blob), &mut collector, WkbDialect::Geopackage)?;
    Ok(())
}

/// Adds the polygons of plain WKB (a Polygon or a MultiPolygon's parts) to `list`.
pub fn read_wkb(wkb: &[u8], list: &mut PolygonList) -> anyhow::Result<()> {
    let mut collector = Polygons { list, in_polygon: false, collections: 0 };
    process_wkb_type_geom(&mut std::io::Cursor::new(wkb), &mut collector, WkbDialect::Wkb)?;
    Ok(())
}

/// Collects polygon rings from geozero's events.
struct Polygons<'a> {
    list: &'a mut PolygonList,
    in_polygon: bool,
    collections: usize,
}

impl GeomProcessor for Polygons<'_> {
    fn xy(&mut self, x: f64, y: f64, _idx: usize) -> GeoResult<()> {
        if self.in_polygon {
            self.list.push_point((x, y));
        }
        Ok(())
    }

    fn polygon_begin(&mut self, _tagged: bool, _size: usize, _idx: usize) -> GeoResult<()> {
        if self.collections == 0 {
            self.in_polygon = true;
            self.list.begin_polygon();
        }
        Ok(())
    }

    fn polygon_end(&mut self, _tagged: bool, _idx: usize) -> GeoResult<()> {
        if self.in_polygon {
            self.in_polygon = false;
            self.list.end_polygon();
        }
        Ok(())
    }

    fn linestring_end(&mut self, _tagged: bool, _idx: usize) -> GeoResult<()> {
        if self.in_polygon {
            self.list.end_ring();
        }
        Ok(())
    }

    fn geometrycollection_begin(&mut self, _size: usize, _idx: usize) -> GeoResult<()> {
        self.collections += 1;
        Ok(())
    }

    fn geometrycollection_end(&mut self, _idx: usize) -> GeoResult<()> {
        self.collections -= 1;
        Ok(())
    }
}
