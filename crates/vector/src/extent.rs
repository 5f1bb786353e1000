//! Where staged polygons may be: inside the input CRS's area of use (else the coordinates are
//! corrupt or the CRS is wrong), and, in tile matrix sets that wrap around the globe
//! (WorldCRS84Quad, WebMercatorQuad), split at the antimeridian instead of spanning the world.

use crate::geom::Polygon;
use gdal::spatial_ref::SpatialRef;
use geo::BooleanOps;
use iwp_core::tms::Tms;
use rayon::prelude::*;

/// Degrees a polygon may lie outside its CRS's area of use (the area is advisory: data just
/// beyond it is common and fine; far beyond it is not).
const AREA_MARGIN_DEG: f64 = 10.0;

/// Points per task when checking them against the area of use.
const POINTS_CHUNK: usize = 16384;

/// The number of `points` (in `srs`) farther than the margin outside the CRS's area of use, and
/// the area's description; None when the CRS declares no area.
pub fn outside_area_of_use(srs: &SpatialRef, points: &[(f64, f64)]) -> anyhow::Result<Option<(usize, String)>> {
    // A CRS read from a .prj rarely names its EPSG code, and without it PROJ knows no area.
    let identified = srs.area_of_use().is_none().then(|| {
        let mut s = SpatialRef::from_wkt(&srs.to_wkt().ok()?).ok()?;
        s.auto_identify_epsg().ok()?;
        SpatialRef::from_epsg(s.auth_code().ok()? as u32).ok()
    });
    let Some(area) = srs.area_of_use().or_else(|| identified.flatten()?.area_of_use()) else { return Ok(None) };
    let m = AREA_MARGIN_DEG;
    let lon_ok = |lon: f64| {
        let (w, e) = (area.west_lon_degree, area.east_lon_degree);
        if e - w >= 360.0 - 2.0 * m {
            true
        } else if w <= e {
            (w - m..=e + m).contains(&lon)
        } else {
            lon >= w - m || lon <= e + m
        }
    };
    let lat_ok = |lat: f64| (area.south_lat_degree - m..=area.north_lat_degree + m).contains(&lat);
    // Points are moved to longitude, latitude in chunks on rayon's threads, each chunk with its
    // own transformation (GDAL's are not shared between threads).
    let wkt = srs.to_wkt()?;
    let outside_in = |chunk: &[(f64, f64)]| -> anyhow::Result<usize> {
        let t = crate::vector::transform_between(&wkt, "EPSG:4326")?;
        let mut pts = chunk.to_vec();
        if crate::vector::transform_points(&t, &mut pts).is_err() {
            // Some point has no image: one by one from the points as given (the failed call may
            // have moved some), those count as outside (NaN).
            for (p, given) in pts.iter_mut().zip(chunk) {
                let mut one = [*given];
                *p = if crate::vector::transform_points(&t, &mut one).is_ok() { one[0] } else { (f64::NAN, f64::NAN) };
            }
        }
        Ok(pts
            .iter()
            .filter(|(lon, lat)| !(lon.is_finite() && lat.is_finite() && lon_ok(*lon) && lat_ok(*lat)))
            .count())
    };
    let out = points.par_chunks(POINTS_CHUNK).map(outside_in).sum::<anyhow::Result<usize>>()?;
    // The description's first sentence (some list every country) and the bounds.
    let short = area.name.split(". ").next().unwrap_or(&area.name).trim_end_matches('.');
    let name = format!(
        "{short} (lon {}..{}, lat {}..{})",
        area.west_lon_degree, area.east_lon_degree, area.south_lat_degree, area.north_lat_degree
    );
    Ok(Some((out, name)))
}

/// True for tile matrix sets whose x wraps around the globe.
pub fn wraps(tms: &Tms) -> bool {
    matches!(tms.id, "WorldCRS84Quad" | "WebMercatorQuad")
}

/// The width of the tile matrix set's world, in its CRS units.
fn world_width(tms: &Tms) -> f64 {
    tms.span0 * f64::from(tms.matrix0.0)
}

/// True when a polygon (in the TMS CRS) of a wrapping tile matrix set spans more than half the
/// world's width: it crosses the antimeridian and is split there.
pub fn crosses_antimeridian(tms: &Tms, polygon: &Polygon) -> bool {
    wraps(tms) && {
        let b = polygon.bounds();
        b.right - b.left > world_width(tms) / 2.0
    }
}

/// A polygon (in the TMS CRS) as pieces that do not cross the antimeridian: itself when it does
/// not span more than half the world's width, else its parts west and east of the line.
pub fn split_at_antimeridian(tms: &Tms, polygon: Polygon) -> Vec<Polygon> {
    if !crosses_antimeridian(tms, &polygon) {
        return vec![polygon];
    }
    let width = world_width(tms);
    let (left, b) = (tms.origin.0, polygon.bounds());
    // Points west of the middle go one world east: the polygon then straddles the east edge.
    let middle = left + width / 2.0;
    let shifted: Vec<Vec<(f64, f64)>> = polygon
        .rings
        .iter()
        .map(|r| r.iter().map(|&(x, y)| if x < middle { (x + width, y) } else { (x, y) }).collect())
        .collect();
    let geo_polygon = Polygon { rings: shifted }.to_geo();
    let (bottom, top) = (tms.origin.1 - tms.span0 * f64::from(tms.matrix0.1), tms.origin.1);
    let mut pieces = Vec::new();
    for (from, to, shift) in [(left, left + width, 0.0), (left + width, left + 2.0 * width, -width)] {
        let cell = geo::Rect::new((from, bottom.min(b.bottom)), (to, top.max(b.top))).to_polygon();
        for p in geo_polygon.intersection(&cell) {
            let ring = |l: &geo::LineString<f64>| l.coords().map(|c| (c.x + shift, c.y)).collect::<Vec<_>>();
            let mut rings = vec![ring(p.exterior())];
            rings.extend(p.interiors().iter().map(ring));
            if rings[0].len() >= 4 {
                pieces.push(Polygon { rings });
            }
        }
    }
    pieces
}
