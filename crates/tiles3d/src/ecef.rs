//! Geodetic longitude, latitude and height on the WGS 84 ellipsoid to Earth-centred,
//! Earth-fixed coordinates (EPSG:4978, metres), and back.

/// WGS 84 semi-major axis, metres.
pub const A: f64 = 6_378_137.0;
/// WGS 84 flattening.
pub const F: f64 = 1.0 / 298.257_223_563;
/// First eccentricity squared.
const E2: f64 = F * (2.0 - F);

/// ECEF x, y, z (metres) of longitude and latitude in degrees at `height` metres over the
/// ellipsoid.
///
/// ```
/// let [x, y, z] = iwp_tiles3d::ecef::to_ecef(0.0, 0.0, 0.0);
/// assert_eq!((x, y, z), (6_378_137.0, 0.0, 0.0));
/// ```
pub fn to_ecef(lon: f64, lat: f64, height: f64) -> [f64; 3] {
    let (lon, lat) = (lon.to_radians(), lat.to_radians());
    let (sin_lat, cos_lat) = lat.sin_cos();
    let n = A / (1.0 - E2 * sin_lat * sin_lat).sqrt();
    [(n + height) * cos_lat * lon.cos(), (n + height) * cos_lat * lon.sin(), (n * (1.0 - E2) + height) * sin_lat]
}

/// Longitude and latitude in degrees and height in metres of an ECEF point (Bowring's method
/// refined to convergence: well below a micrometre on the Earth's surface).
pub fn from_ecef([x, y, z]: [f64; 3]) -> (f64, f64, f64) {
    let lon = y.atan2(x);
    let p = x.hypot(y);
    let mut lat = z.atan2(p * (1.0 - E2));
    let mut height = 0.0;
    for _ in 0..8 {
        let sin_lat = lat.sin();
        let n = A / (1.0 - E2 * sin_lat * sin_lat).sqrt();
        height = if lat.cos().abs() > 1e-9 { p / lat.cos() - n } else { z.abs() - n * (1.0 - E2) };
        lat = z.atan2(p * (1.0 - E2 * n / (n + height)));
    }
    (lon.to_degrees(), lat.to_degrees(), height)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poles_and_round_trips() {
        let b = A * (1.0 - F);
        let [x, y, z] = to_ecef(0.0, 90.0, 0.0);
        assert!(x.abs() < 1e-6 && y.abs() < 1e-9 && (z - b).abs() < 1e-6, "{x} {y} {z}");
        for (lon, lat, h) in [(-150.0, 70.0, 0.0), (179.999, 89.5, 12.5), (10.0, -45.0, -30.0), (-0.001, 60.0, 0.0)] {
            let (lo, la, he) = from_ecef(to_ecef(lon, lat, h));
            // 1e-9 degrees is about 0.1 mm.
            assert!((lo - lon).abs() < 1e-9 && (la - lat).abs() < 1e-9 && (he - h).abs() < 1e-6, "{lon} {lat} {h}");
        }
    }
}
