//! Small helpers around GDAL vector files: drivers by extension, layers with a schema, WKB.

use gdal::spatial_ref::{AxisMappingStrategy, SpatialRef};
use gdal::vector::{FieldDefn, Layer, LayerAccess, LayerOptions, OGRFieldType, OGRwkbGeometryType};
use gdal::{Dataset, DriverManager};
use std::path::Path;

/// A field of a layer schema: name, OGR type and width (0 = driver default).
#[derive(Debug, Clone, Copy)]
pub struct FieldSpec {
    /// The field's name.
    pub name: &'static str,
    /// Its OGR field type.
    pub kind: OGRFieldType::Type,
    /// Its width in characters or digits (0 = the driver's default).
    pub width: i32,
}

/// The OGR driver name for a file extension (`.shp`, `.gpkg`, `.geojson`, `.fgb`).
pub fn driver_for(path: &Path) -> anyhow::Result<&'static str> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    Ok(match ext.as_str() {
        "shp" => "ESRI Shapefile",
        "gpkg" => "GPKG",
        "geojson" | "json" => "GeoJSON",
        "fgb" => "FlatGeobuf",
        _ => anyhow::bail!(
            "{}: no vector driver for extension `.{ext}` (use .shp, .gpkg, .geojson or .fgb)",
            path.display()
        ),
    })
}

/// The error for a file GDAL could not open: GDAL's own message when it gave one (without the
/// binding's wording around it), else that it is not a file GDAL can read.
pub fn open_error(path: &Path, e: gdal::errors::GdalError) -> anyhow::Error {
    if !path.exists() {
        return anyhow::anyhow!("cannot open {}: no such file", path.display());
    }
    let why = match &e {
        gdal::errors::GdalError::NullPointer { msg, .. } if !msg.trim().is_empty() => msg.trim().to_string(),
        gdal::errors::GdalError::NullPointer { .. } => "not a file GDAL can read (corrupt or of another format)".into(),
        other => other.to_string(),
    };
    anyhow::anyhow!("cannot open {}: {why}", path.display())
}

/// GDAL's last error message on this thread, if any (its error codes alone say little).
pub fn last_gdal_error() -> Option<String> {
    // SAFETY: CPLGetLastErrorMsg returns a pointer to a thread-local, NUL-terminated string
    // that stays valid until the next GDAL call on this thread; it is copied at once.
    let msg = unsafe { std::ffi::CStr::from_ptr(gdal_sys::CPLGetLastErrorMsg()) };
    let msg = msg.to_string_lossy().trim().to_string();
    (!msg.is_empty()).then_some(msg)
}

/// Opens a file with GDAL, with [`open_error`]'s message when it cannot.
pub fn open(path: &Path) -> anyhow::Result<Dataset> {
    Dataset::open(path).map_err(|e| open_error(path, e))
}

/// Opens a vector file read-only with the one driver its extension names (no probing of every
/// driver), or any driver when the extension is not one [`driver_for`] knows.
pub fn open_vector(path: &Path) -> anyhow::Result<Dataset> {
    let Ok(driver) = driver_for(path) else { return open(path) };
    let options = gdal::DatasetOptions {
        open_flags: gdal::GdalOpenFlags::GDAL_OF_READONLY | gdal::GdalOpenFlags::GDAL_OF_VECTOR,
        allowed_drivers: Some(&[driver]),
        ..Default::default()
    };
    Dataset::open_ex(path, options).map_err(|e| open_error(path, e))
}

/// Opens a GeoPackage for writing (vector, GPKG driver only), with [`open_error`]'s message when
/// it cannot.
pub fn open_gpkg_for_update(path: &Path) -> anyhow::Result<Dataset> {
    let options = gdal::DatasetOptions {
        open_flags: gdal::GdalOpenFlags::GDAL_OF_UPDATE | gdal::GdalOpenFlags::GDAL_OF_VECTOR,
        allowed_drivers: Some(&["GPKG"]),
        ..Default::default()
    };
    Dataset::open_ex(path, options).map_err(|e| open_error(path, e))
}

/// A spatial reference from EPSG or any GDAL user input, in traditional GIS (x = lon) order.
pub fn srs(definition: &str) -> anyhow::Result<SpatialRef> {
    let mut srs = SpatialRef::from_definition(definition)
        .map_err(|e| anyhow::anyhow!("`{definition}` is not a CRS GDAL knows: {e}"))?;
    srs.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
    Ok(srs)
}

/// A transformation between CRSs given by definitions (WKT, `EPSG:…`), both in traditional GIS
/// order; make one per thread (GDAL's transformations are not shared between threads).
pub fn transform_between(from: &str, to: &str) -> anyhow::Result<gdal::spatial_ref::CoordTransform> {
    Ok(gdal::spatial_ref::CoordTransform::new(&srs(from)?, &srs(to)?)?)
}

/// The CRS of `definition` as files should register it: by its EPSG code where it has one
/// (OGC:CRS84, lon/lat on WGS 84, as EPSG:4326 in longitude, latitude order), so that a
/// GeoPackage's gpkg_spatial_ref_sys names organization EPSG and srs_id the code.
pub fn registered_srs(definition: &str) -> anyhow::Result<SpatialRef> {
    if definition.eq_ignore_ascii_case("OGC:CRS84") {
        return srs("EPSG:4326");
    }
    srs(definition)
}

/// Creates a new vector file at `path` (driver from the extension) with one polygon layer.
pub fn create_polygon_file(
    path: &Path,
    layer: &str,
    srs: &SpatialRef,
    fields: &[FieldSpec],
) -> anyhow::Result<Dataset> {
    let driver = DriverManager::get_driver_by_name(driver_for(path)?)?;
    let mut ds = driver.create_vector_only(path)?;
    let lyr = ds.create_layer(LayerOptions {
        name: layer,
        srs: Some(srs),
        ty: OGRwkbGeometryType::wkbPolygon,
        options: None,
    })?;
    add_fields(&lyr, fields)?;
    Ok(ds)
}

/// Adds fields to a layer.
pub fn add_fields(layer: &Layer, fields: &[FieldSpec]) -> anyhow::Result<()> {
    for f in fields {
        let defn = FieldDefn::new(f.name, f.kind)?;
        if f.width > 0 {
            defn.set_width(f.width);
        }
        defn.add_to_layer(layer)?;
    }
    Ok(())
}

/// ISO WKB (little-endian) of a polygon from closed rings of (x, y).
pub fn polygon_wkb(rings: &[Vec<(f64, f64)>]) -> Vec<u8> {
    let points: usize = rings.iter().map(Vec::len).sum();
    let mut out = Vec::with_capacity(9 + rings.len() * 4 + points * 16);
    write_polygon_wkb(&mut out, rings);
    out
}

/// Appends the ISO WKB (little-endian) of a polygon from its closed rings to `out`.
pub fn write_polygon_wkb(out: &mut Vec<u8>, rings: &[Vec<(f64, f64)>]) {
    out.push(1u8);
    out.extend_from_slice(&3u32.to_le_bytes());
    out.extend_from_slice(&(rings.len() as u32).to_le_bytes());
    for ring in rings {
        out.extend_from_slice(&(ring.len() as u32).to_le_bytes());
        for &(x, y) in ring {
            out.extend_from_slice(&x.to_le_bytes());
            out.extend_from_slice(&y.to_le_bytes());
        }
    }
}

/// ISO WKB (little-endian) of a multipolygon from its polygons' closed rings.
pub fn multipolygon_wkb<'a>(polygons: impl ExactSizeIterator<Item = &'a [Vec<(f64, f64)>]>) -> Vec<u8> {
    let mut out = vec![1u8];
    out.extend_from_slice(&6u32.to_le_bytes());
    out.extend_from_slice(&(polygons.len() as u32).to_le_bytes());
    for rings in polygons {
        out.extend_from_slice(&polygon_wkb(rings));
    }
    out
}

/// Makes reads of `layer` parse only the columns in `keep` (and the geometry when `geometry`);
/// the others are skipped. Field indexes stay as they are.
pub fn read_only(layer: &Layer, keep: &[&str], geometry: bool) {
    let mut skip: Vec<String> =
        layer.defn().fields().map(|f| f.name()).filter(|n| !keep.contains(&n.as_str())).collect();
    if !geometry {
        skip.push("OGR_GEOMETRY".into());
    }
    let skip = gdal::cpl::CslStringList::from_iter(skip);
    // SAFETY: the layer is live and the list a valid NULL-terminated string list, which OGR copies.
    unsafe { gdal_sys::OGR_L_SetIgnoredFields(layer.c_layer(), skip.as_ptr() as *mut *const std::ffi::c_char) };
}

/// A feature's geometry when it has one that is not empty: the gdal crate gives a feature
/// without geometry a null one, which GDAL's calls would report as an error.
pub fn present_geometry<'a>(feature: &'a gdal::vector::Feature) -> Option<&'a gdal::vector::Geometry> {
    // SAFETY: reads the handle only.
    feature.geometry().filter(|g| !unsafe { g.c_geometry() }.is_null() && !g.is_empty())
}

/// Number of features of the first layer of a vector file.
pub fn feature_count(path: &Path) -> anyhow::Result<u64> {
    let ds = Dataset::open(path)?;
    let layer = ds.layer(0)?;
    Ok(layer.feature_count())
}

/// Reprojects points in place with `t`; fails when a point has no finite image.
pub fn transform_points(t: &gdal::spatial_ref::CoordTransform, pts: &mut [(f64, f64)]) -> anyhow::Result<()> {
    let mut xs: Vec<f64> = pts.iter().map(|p| p.0).collect();
    let mut ys: Vec<f64> = pts.iter().map(|p| p.1).collect();
    let mut zs = vec![0.0; xs.len()];
    t.transform_coords(&mut xs, &mut ys, &mut zs)?;
    for (p, (x, y)) in pts.iter_mut().zip(xs.into_iter().zip(ys)) {
        if !x.is_finite() || !y.is_finite() {
            anyhow::bail!("a coordinate has no image in the target CRS");
        }
        *p = (x, y);
    }
    Ok(())
}

#[link(name = "sqlite3")]
extern "C" {
    fn sqlite3_config(op: std::ffi::c_int, ...) -> std::ffi::c_int;
}

/// Settings for GDAL that every tool wants, applied once at start:
/// - GeoPackages: SQLite neither syncs nor journals (tiles are written under temporary names,
///   flushed once and renamed, so SQLite's own crash protection only costs time here), and
///   SpatiaLite is not loaded into every connection (none of its SQL functions is used; loading it
///   doubles the time to open a tile);
/// - SQLite's memory statistics off: their one global mutex, taken by every allocation, queued
///   threads writing tiles;
/// - no directory listing when opening a file (GDAL lists the folder to find side-car files, which
///   costs time proportional to the tiles in a folder) and no .aux.xml side-cars.
///
/// Call first thing in main, before anything opens SQLite (PROJ does, to read its database).
pub fn tune_gdal() {
    const SQLITE_CONFIG_MEMSTATUS: std::ffi::c_int = 9;
    // SAFETY: a plain configuration call; before SQLite's initialisation it takes effect, after
    // it returns SQLITE_MISUSE and changes nothing.
    let rc = unsafe { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0 as std::ffi::c_int) };
    if rc != 0 {
        tracing::debug!("SQLite already initialised: memory statistics stay on (rc {rc})");
    }
    let _ = gdal::config::set_config_option("OGR_SQLITE_SYNCHRONOUS", "OFF");
    let _ = gdal::config::set_config_option("OGR_SQLITE_JOURNAL", "OFF");
    let _ = gdal::config::set_config_option("SPATIALITE_LOAD", "NO");
    let _ = gdal::config::set_config_option("GDAL_DISABLE_READDIR_ON_OPEN", "EMPTY_DIR");
    let _ = gdal::config::set_config_option("GDAL_PAM_ENABLED", "NO");
    // Creation options are fixed in the code (and tested); checking them against the driver's
    // option list parses its XML on every GeoTIFF.
    let _ = gdal::config::set_config_option("GDAL_VALIDATE_CREATION_OPTIONS", "NO");
}

/// A box in `tms`'s CRS as a longitude/latitude box: the box itself for a geographic set, else
/// its edges densified (21 points each) through PROJ. West may exceed east for a box across the
/// antimeridian.
pub fn lonlat_bounds(tms: &iwp_core::tms::Tms, b: iwp_core::tms::Bounds) -> anyhow::Result<iwp_core::tms::Bounds> {
    if tms.geographic {
        return Ok(b);
    }
    let t = gdal::spatial_ref::CoordTransform::new(&srs(tms.crs)?, &srs("OGC:CRS84")?)?;
    let [left, bottom, right, top] = t.transform_bounds(&[b.left, b.bottom, b.right, b.top], 21)?;
    Ok(iwp_core::tms::Bounds { left, bottom, right, top })
}
