//! One staged z-max tile as one 3D Tiles content: the rows whose centroid lies in the tile (each
//! polygon is drawn once, in the tile holding its centroid), less duplicates where the config
//! drops them, triangulated flat at a height, coloured through a palette, every staged column a
//! typed feature property.

use crate::glb::{self, Column, PropertyTable};
use crate::mesh::Mesh;
use anyhow::{bail, Context};
use iwp_core::config::{Config, DedupAt};
use iwp_core::tms::Tile;
use iwp_vector::gpkg::{number, FeatureTable};
use iwp_web::palette::Palette;
use iwp_web::webtile::palette_indexes;
use rusqlite::types::ValueRef;
use std::path::Path;

/// How the polygons look: their height and colour.
pub struct Style {
    /// Metres over the ellipsoid, or the column holding each polygon's height.
    pub height: Height,
    /// The column whose value picks the colour.
    pub colour_by: String,
    /// The values at the palette's first and last colour (clamped between).
    pub range: (f64, f64),
    /// 256 colours and the nodata colour (for a missing value).
    pub palette: Palette,
    /// GLB (3D Tiles 1.1) or B3DM (1.0).
    pub format: glb::Format,
}

/// Where a polygon's height comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Height {
    /// The same height for every polygon, metres over the ellipsoid.
    Fixed(f64),
    /// A numeric column (a missing value is 0 m).
    Column(String),
}

/// A content made of one staged tile.
pub struct Content {
    /// The content's bytes, GLB or B3DM (none when no polygon's centroid lies in the tile).
    pub glb: Vec<u8>,
    /// Features (polygons) in it.
    pub features: usize,
    /// Triangles in it.
    pub triangles: usize,
    /// Rows left out as duplicates.
    pub duplicates: usize,
    /// Longitude/latitude box of its vertices (west, south, east, north, degrees), None when
    /// empty.
    pub bounds: Option<[f64; 4]>,
    /// Lowest height of its polygons, metres (0 when empty).
    pub min_height: f64,
    /// Highest height of its polygons, metres (0 when empty).
    pub max_height: f64,
}

/// The metadata type of a column declared as `declared` in the GeoPackage.
fn kind_of(declared: &str) -> fn(usize) -> Column {
    let t = declared.to_ascii_uppercase();
    if t == "BOOLEAN" {
        |n| Column::Boolean(Vec::with_capacity(n))
    } else if t.contains("INT") {
        |n| Column::Int64(Vec::with_capacity(n))
    } else if t.contains("REAL") || t.contains("FLOA") || t.contains("DOUB") {
        |n| Column::Float64(Vec::with_capacity(n))
    } else {
        |n| Column::Text(Vec::with_capacity(n))
    }
}

/// A metadata identifier for a column name: letters, digits and `_`, not starting with a digit.
pub fn identifier(name: &str) -> String {
    let mut id: String = name.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    if !id.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        id.insert(0, '_');
    }
    id
}

/// Adds a row's value to its column (a value of another type than declared is refused).
fn push(column: &mut Column, value: ValueRef) -> anyhow::Result<()> {
    match (column, value) {
        (Column::Float64(v), x) => v.push(number(x)?),
        (Column::Int64(v), ValueRef::Integer(i)) => v.push(Some(i)),
        (Column::Int64(v), ValueRef::Null) => v.push(None),
        (Column::Boolean(v), ValueRef::Integer(i)) => v.push(Some(i != 0)),
        (Column::Boolean(v), ValueRef::Null) => v.push(None),
        (Column::Text(v), ValueRef::Text(t)) => v.push(Some(String::from_utf8_lossy(t).into_owned())),
        (Column::Text(v), ValueRef::Null) => v.push(None),
        (Column::Text(v), ValueRef::Integer(i)) => v.push(Some(i.to_string())),
        (Column::Text(v), ValueRef::Real(r)) => v.push(Some(r.to_string())),
        (_, other) => bail!("a value of type {:?} where the column's declared type differs", other.data_type()),
    }
    Ok(())
}

/// The content of `tile` from its staged file.
pub fn build(config: &Config, tile: Tile, staged: &Path, style: &Style) -> anyhow::Result<Content> {
    if !config.tms.geographic {
        bail!(
            "tile matrix set {}: 3D tiles are made from longitude/latitude tiles only (WorldCRS84Quad)",
            config.tms.id
        );
    }
    let table = FeatureTable::open(staged)?;
    let props = &config.props;
    let within = props.centroid_within_tile.as_str();
    if !table.has_column(within) {
        bail!("{}: no column `{within}`: not a staged tile", staged.display());
    }
    let drop_dups = config.drops_duplicates_at(DedupAt::Tiles3d) && table.has_column(&props.duplicated);
    // Every column but the geometry and the row id, as a typed property.
    let fid = ["fid", "ogc_fid"];
    let kept: Vec<usize> = (0..table.columns.len())
        .filter(|&k| {
            table.columns[k] != table.geometry && !fid.contains(&table.columns[k].to_ascii_lowercase().as_str())
        })
        .collect();
    let names: Vec<&str> = kept.iter().map(|&k| table.columns[k].as_str()).collect();
    let find = |name: &str| names.iter().position(|n| *n == name);
    let colour_at = find(&style.colour_by)
        .with_context(|| format!("{}: no column `{}` to colour by", staged.display(), style.colour_by))?;
    let height_at = match &style.height {
        Height::Column(c) => Some(find(c).with_context(|| format!("{}: no height column `{c}`", staged.display()))?),
        Height::Fixed(_) => None,
    };
    let within_at = find(within).expect("checked above");
    let dup_at = find(&props.duplicated).filter(|_| drop_dups);
    let identifier_at = find(&props.identifier);
    let mut columns: Vec<Column> = kept.iter().map(|&k| kind_of(&table.types[k])(0)).collect();
    // Rows kept, each with its polygons, read in row order, then sorted by identifier.
    struct Row {
        key: Option<String>,
        parts: iwp_vector::geom::PolygonList,
        /// The `--colour-by` value.
        colour: Option<f64>,
        /// The `--height-from` value.
        height: Option<f64>,
    }
    let mut rows: Vec<(Row, usize)> = Vec::new();
    let mut duplicates = 0;
    table.for_each_row(&names, |parts, values| {
        if !matches!(values.get(within_at)?, ValueRef::Integer(1)) || parts.is_empty() {
            return Ok(());
        }
        if dup_at.is_some_and(|d| matches!(values.get(d), Ok(ValueRef::Integer(1)))) {
            duplicates += 1;
            return Ok(());
        }
        let index = rows.len();
        for (k, column) in columns.iter_mut().enumerate() {
            push(column, values.get(k)?).with_context(|| format!("{}: column `{}`", staged.display(), names[k]))?;
        }
        let key = match identifier_at.map(|i| values.get(i)).transpose()? {
            Some(ValueRef::Text(t)) => Some(String::from_utf8_lossy(t).into_owned()),
            _ => None,
        };
        let mut own = iwp_vector::geom::PolygonList::default();
        for p in 0..parts.len() {
            own.push_from(parts, p);
        }
        let num = |i: usize| values.get(i).ok().and_then(|v| number(v).ok().flatten());
        rows.push((Row { key, parts: own, colour: num(colour_at), height: height_at.and_then(num) }, index));
        Ok(())
    })?;
    rows.sort_by(|a, b| a.0.key.cmp(&b.0.key));
    let order: Vec<usize> = rows.iter().map(|(_, i)| *i).collect();
    let columns: Vec<Column> = columns.into_iter().map(|c| reorder(c, &order)).collect();
    let table = PropertyTable { names: names.iter().map(|n| identifier(n)).collect(), columns };
    // Colours: the palette's index of each row's value.
    let values: Vec<f64> = rows.iter().map(|(r, _)| r.colour.unwrap_or(f64::NAN)).collect();
    let colours = palette_indexes(&values, style.range.0, style.range.1, None);
    let b = config.tms.bounds(tile);
    let centre_height = if let Height::Fixed(h) = style.height { h } else { 0.0 };
    let mut mesh = Mesh::new(crate::ecef::to_ecef((b.left + b.right) / 2.0, (b.top + b.bottom) / 2.0, centre_height));
    let mut bounds: Option<[f64; 4]> = None;
    let (mut min_height, mut max_height) = (f64::INFINITY, f64::NEG_INFINITY);
    for (feature, ((row, _), colour)) in rows.iter().zip(&colours).enumerate() {
        let height = match style.height {
            Height::Fixed(h) => h,
            Height::Column(_) => row.height.unwrap_or(0.0),
        };
        (min_height, max_height) = (min_height.min(height), max_height.max(height));
        let rgba = style.palette.rgba[usize::from(*colour).min(style.palette.rgba.len() - 1)];
        for p in 0..row.parts.len() {
            let rings: Vec<&[(f64, f64)]> = row.parts.rings(p).collect();
            for &(x, y) in rings[0] {
                let bb = bounds.get_or_insert([x, y, x, y]);
                *bb = [bb[0].min(x), bb[1].min(y), bb[2].max(x), bb[3].max(y)];
            }
            mesh.add_polygon(rings, height, feature as u32, rgba);
        }
    }
    let features = rows.len();
    // No triangle (no row, or only polygons without area): no content.
    if mesh.triangles() == 0 {
        (min_height, max_height, bounds) = (0.0, 0.0, None);
    }
    let glb = if bounds.is_none() { Vec::new() } else { glb::write_as(style.format, &mesh, features, &table) };
    Ok(Content { glb, features, triangles: mesh.triangles(), duplicates, bounds, min_height, max_height })
}

/// The column's values in `order`.
fn reorder(column: Column, order: &[usize]) -> Column {
    fn pick<T: Clone>(v: Vec<T>, order: &[usize]) -> Vec<T> {
        order.iter().map(|&i| v[i].clone()).collect()
    }
    match column {
        Column::Float64(v) => Column::Float64(pick(v, order)),
        Column::Int64(v) => Column::Int64(pick(v, order)),
        Column::Text(v) => Column::Text(pick(v, order)),
        Column::Boolean(v) => Column::Boolean(pick(v, order)),
    }
}
