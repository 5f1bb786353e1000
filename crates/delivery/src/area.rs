//! The area of an extract: a box in any CRS, or the union of the polygons of a vector file; kept
//! in its own CRS and given, densified, in any other.

use anyhow::Context;
use gdal::spatial_ref::{CoordTransform, SpatialRef};
use gdal::vector::{Geometry, LayerAccess};
use iwp_core::lines::Extract;
use iwp_vector::vector;
use std::path::Path;

/// Segments per extent diagonal that edges are cut into before a change of CRS, so that a
/// straight edge in one CRS follows its curve in the other.
const DENSIFY_STEPS: f64 = 512.0;

/// An extract's area.
pub struct Area {
    /// Its name, as file names use it.
    pub name: String,
    geometry: Geometry,
    srs: SpatialRef,
}

impl Area {
    /// The area a job line names: its `bbox` (in `bbox_crs`, default EPSG:4326) or its `area`
    /// file; named by `name`, else by the file or the box.
    pub fn of_job(job: &Extract) -> anyhow::Result<Area> {
        let (geometry, srs, default_name) = match (&job.bbox, &job.area) {
            (Some(b), None) => {
                let crs = job.bbox_crs.as_deref().unwrap_or("EPSG:4326");
                let [w, s, e, n] = *b;
                anyhow::ensure!(
                    w < e && s < n && b.iter().all(|v| v.is_finite()),
                    "bbox {b:?} is not min x, min y, max x, max y with min < max"
                );
                let srs = vector::srs(crs)?;
                let prefix = match job.bbox_crs.as_deref() {
                    Some(c) => format!("{}_", clean_name(c)),
                    None => String::new(),
                };
                (Geometry::bbox(w, s, e, n)?, srs, format!("{prefix}bbox_{w}_{s}_{e}_{n}"))
            }
            (None, Some(file)) => {
                anyhow::ensure!(job.bbox_crs.is_none(), "bbox_crs is for a bbox; an area file says its own CRS");
                let (geometry, srs) = read_polygons(Path::new(file))?;
                let stem = Path::new(file).file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
                (geometry, srs, stem)
            }
            (Some(_), Some(_)) => anyhow::bail!("give the area as bbox or as an area file, not both"),
            (None, None) => anyhow::bail!("no area: give bbox (with bbox_crs) or area (a polygon file)"),
        };
        let name = clean_name(job.name.as_deref().unwrap_or(&default_name));
        anyhow::ensure!(!name.is_empty(), "the area's name is empty");
        Ok(Area { name, geometry, srs })
    }

    /// The area in the CRS `srs`, its edges densified first.
    pub fn in_crs(&self, srs: &SpatialRef) -> anyhow::Result<Geometry> {
        densified(&self.geometry, &CoordTransform::new(&self.srs, srs).context("cannot transform the area")?)
    }

    /// The area in longitude and latitude (EPSG:4326), refused when it wraps: an area given in
    /// another CRS across the antimeridian or around a pole has no one polygon in longitude and
    /// latitude.
    pub fn in_lonlat(&self) -> anyhow::Result<Geometry> {
        let g = self.in_crs(&vector::srs("EPSG:4326")?)?;
        anyhow::ensure!(
            !wraps(&g),
            "the area crosses the antimeridian or holds a pole in longitude, latitude: give it as two areas, one on \
             each side of 180°"
        );
        Ok(g)
    }

    /// The area's west, south, east, north in longitude and latitude.
    pub fn lonlat_bbox(&self) -> anyhow::Result<[f64; 4]> {
        let env = self.in_lonlat()?.envelope();
        Ok([env.MinX, env.MinY, env.MaxX, env.MaxY])
    }
}

/// `g` transformed by `to`, its edges first cut into segments of 1/[`DENSIFY_STEPS`] of its
/// box's diagonal.
fn densified(g: &Geometry, to: &CoordTransform) -> anyhow::Result<Geometry> {
    let env = g.envelope();
    let step = ((env.MaxX - env.MinX).hypot(env.MaxY - env.MinY) / DENSIFY_STEPS).max(f64::MIN_POSITIVE);
    let dense = g.clone();
    // SAFETY: the geometry is owned here; OGR changes it in place.
    unsafe { gdal_sys::OGR_G_Segmentize(dense.c_geometry(), step) };
    dense.transform(to).context("cannot transform the area")
}

/// True when two consecutive vertices of a ring of `g` (longitude, latitude) are over 180° of
/// longitude apart: the ring wrapped at the antimeridian.
fn wraps(g: &Geometry) -> bool {
    if g.geometry_count() > 0 {
        return (0..g.geometry_count()).any(|i| wraps(&g.get_geometry(i)));
    }
    let mut points = Vec::new();
    g.get_points(&mut points);
    points.windows(2).any(|w| (w[0].0 - w[1].0).abs() > 180.0)
}

/// The union of the polygons of every layer of a vector file, in the first layer's CRS
/// (EPSG:4326 when it has none).
fn read_polygons(path: &Path) -> anyhow::Result<(Geometry, SpatialRef)> {
    let ds = vector::open_vector(path).with_context(|| format!("cannot read the area file {}", path.display()))?;
    let mut target: Option<SpatialRef> = None;
    let mut union: Option<Geometry> = None;
    for mut layer in ds.layers() {
        let srs = match layer.spatial_ref() {
            Some(mut s) => {
                s.set_axis_mapping_strategy(gdal::spatial_ref::AxisMappingStrategy::TraditionalGisOrder);
                s
            }
            None => vector::srs("EPSG:4326")?,
        };
        let to = match &target {
            None => {
                target = Some(srs);
                None
            }
            Some(t) => Some(CoordTransform::new(&srs, t)?),
        };
        for (i, feature) in layer.features().enumerate() {
            let Some(g) = feature.geometry() else { continue };
            let kind = gdal::vector::geometry_type_flatten(g.geometry_type());
            anyhow::ensure!(
                kind == gdal_sys::OGRwkbGeometryType::wkbPolygon
                    || kind == gdal_sys::OGRwkbGeometryType::wkbMultiPolygon,
                "area file {}: feature {} is a {}, not a polygon",
                path.display(),
                i + 1,
                g.geometry_name()
            );
            let g = match &to {
                Some(t) => densified(g, t)?,
                None => g.clone(),
            };
            union = Some(match union {
                None => g,
                Some(u) => u.union(&g).context("cannot join the area's polygons")?,
            });
        }
    }
    let union = union.with_context(|| format!("area file {} holds no polygon", path.display()))?;
    Ok((union, target.expect("a layer gave a polygon")))
}

/// `name` with every character other than letters, digits, `.`, `-` and `_` made `_`.
fn clean_name(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '_' }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(f: impl FnOnce(&mut Extract)) -> Extract {
        let mut j = Extract::default();
        f(&mut j);
        j
    }

    #[test]
    fn a_box_is_named_by_its_corners_and_its_crs() {
        let a = Area::of_job(&job(|j| j.bbox = Some([-150.5, 68.25, -150.0, 68.5]))).unwrap();
        assert_eq!(a.name, "bbox_-150.5_68.25_-150_68.5");
        let [w, s, e, n] = a.lonlat_bbox().unwrap();
        assert!(
            (w + 150.5).abs() < 1e-12
                && (s - 68.25).abs() < 1e-12
                && (e + 150.0).abs() < 1e-12
                && (n - 68.5).abs() < 1e-12
        );
        let a = Area::of_job(&job(|j| {
            j.bbox = Some([-2.0e6, 0.0, -1.9e6, 1.0e5]);
            j.bbox_crs = Some("EPSG:3413".into());
        }))
        .unwrap();
        assert_eq!(a.name, "EPSG_3413_bbox_-2000000_0_-1900000_100000");
        let [w, s, e, n] = a.lonlat_bbox().unwrap();
        // Polar stereographic: x < 0, y = 0 is 135 W; the box spans longitudes west of it.
        assert!(w > -180.0 && e < -100.0 && s > 60.0 && n < 90.0 && w < e && s < n, "{w} {s} {e} {n}");
    }

    #[test]
    fn an_area_across_the_antimeridian_is_refused() {
        // 50 km boxes in EPSG:3413 (central meridian 45°W points down, to y < 0) at 180° and at
        // 150°W, 2,600 km from the pole.
        let at = |lon: f64| {
            let a = (lon + 45.0).to_radians();
            let r = 2.6e6;
            (r * a.sin(), -r * a.cos())
        };
        let boxed = |(x, y): (f64, f64)| {
            Area::of_job(&job(|j| {
                j.bbox = Some([x - 25e3, y - 25e3, x + 25e3, y + 25e3]);
                j.bbox_crs = Some("EPSG:3413".into());
            }))
            .unwrap()
        };
        let e = boxed(at(180.0)).in_lonlat().err().unwrap().to_string();
        assert!(e.contains("crosses the antimeridian"), "{e}");
        let b = boxed(at(-150.0)).lonlat_bbox().unwrap();
        assert!((b[0] + 150.0).abs() < 2.0 && b[2] - b[0] < 5.0, "{b:?}");
    }

    #[test]
    fn bad_areas_are_refused_with_the_reason() {
        let e = Area::of_job(&job(|j| j.bbox = Some([1.0, 0.0, 0.0, 1.0]))).err().unwrap().to_string();
        assert!(e.contains("min < max"), "{e}");
        let e = Area::of_job(&job(|j| {
            j.bbox = Some([0.0, 0.0, 1.0, 1.0]);
            j.bbox_crs = Some("EPSG:999999".into());
        }))
        .err()
        .unwrap()
        .to_string();
        assert!(e.contains("EPSG:999999") && e.contains("not a CRS"), "{e}");
        let e = Area::of_job(&job(|j| j.area = Some("/nonexistent/area.geojson".into()))).err().unwrap();
        assert!(format!("{e:#}").contains("cannot read the area file /nonexistent/area.geojson"), "{e:#}");
        let e = Area::of_job(&job(|_| {})).err().unwrap().to_string();
        assert!(e.starts_with("no area"), "{e}");
    }

    #[test]
    fn an_area_file_is_the_union_of_its_polygons() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("two boxes.geojson");
        let feature = |w: f64| {
            format!(
                r#"{{"type":"Feature","properties":{{}},"geometry":{{"type":"Polygon","coordinates":[[[{w},0],[{},0],[{},1],[{w},1],[{w},0]]]}}}}"#,
                w + 1.0,
                w + 1.0
            )
        };
        let text = format!(r#"{{"type":"FeatureCollection","features":[{},{}]}}"#, feature(0.0), feature(0.5));
        std::fs::write(&path, text).unwrap();
        let a = Area::of_job(&job(|j| j.area = Some(path.display().to_string()))).unwrap();
        assert_eq!(a.name, "two_boxes");
        assert_eq!(a.lonlat_bbox().unwrap(), [0.0, 0.0, 1.5, 1.0]);
        assert!((a.geometry.area() - 1.5).abs() < 1e-12);
        let line = dir.path().join("line.geojson");
        std::fs::write(&line, r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"LineString","coordinates":[[0,0],[1,1]]}}]}"#).unwrap();
        let e = Area::of_job(&job(|j| j.area = Some(line.display().to_string()))).err().unwrap().to_string();
        assert!(e.contains("is a LINESTRING, not a polygon"), "{e}");
    }
}
