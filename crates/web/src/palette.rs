//! Palettes: 256 colours interpolated between a statistic's CSS colour stops plus the nodata
//! colour, as the reference builds them with coloraide 0.18: stops evenly spaced, interpolated in
//! CIE LCh (D50) with premultiplied alpha and the shorter hue arc, converted to sRGB with
//! chroma-reduction gamut mapping (lch-chroma, ΔE2000 JND 2), printed with 3 digits of precision
//! and truncated to 8 bits.

use anyhow::{anyhow, bail};
use iwp_core::colour::{self, Colour, Space};
use iwp_core::config::{Colormap, PaletteSpec};

/// A palette: `rgba[i]` for value index 0..=255, `rgba[256]` the nodata colour.
#[derive(Debug, Clone, PartialEq)]
pub struct Palette {
    /// 257 RGBA colours: indices 0..=255 for values from the low to the high end of the range,
    /// [`NODATA_INDEX`] (256) for no data.
    pub rgba: Vec<[u8; 4]>,
}

/// Index of the nodata colour in [`Palette::rgba`].
pub const NODATA_INDEX: usize = 256;

impl Palette {
    /// The palette of CSS colour stops (at least one) and a nodata colour.
    pub fn from_css(stops: &[String], nodata: &str) -> anyhow::Result<Palette> {
        if stops.is_empty() {
            bail!("a palette needs at least one colour");
        }
        let lch: Vec<Lcha> = stops.iter().map(|s| colour::parse(s).map(to_lch)).collect::<Result<_, _>>()?;
        let nodata = colour::parse(nodata)?;
        let mut rgba: Vec<[u8; 4]> =
            (0..256).map(|i| serialize(&fit(&to_srgb(interpolate(&lch, i as f64 / 256.0))))).collect();
        rgba.push(serialize(&fit(&to_srgb(to_lch(nodata)))));
        Ok(Palette { rgba })
    }

    /// The palette a statistic configures: its colours, or an error for a named colormap.
    pub fn of(spec: &PaletteSpec, nodata: &str) -> anyhow::Result<Palette> {
        match spec {
            PaletteSpec::Colours(c) => Palette::from_css(c, nodata),
            PaletteSpec::Colormap(map) => Palette::from_colormap(*map, nodata),
            // A single string that is not a colormap is a one-colour palette, as in the reference.
            PaletteSpec::Colour(name) => Palette::from_css(std::slice::from_ref(name), nodata)
                .map_err(|e| anyhow!("palette `{name}` is neither a known colormap nor a colour: {e}")),
        }
    }
}

impl Palette {
    /// The palette of a named colormap: entry i is the map at i/255, opaque. The 256-entry
    /// tables of viridis & co. come from d3-scale-chromatic via colorous (they agree with
    /// matplotlib's at the ends and to a few units between); `gray` is i, i, i.
    fn from_colormap(map: Colormap, nodata: &str) -> anyhow::Result<Palette> {
        let entry: Box<dyn Fn(usize) -> [u8; 3]> = match gradient(map) {
            Some(g) => Box::new(move |i| {
                let c = g.eval_rational(i, 256);
                [c.r, c.g, c.b]
            }),
            None => Box::new(|i| [i as u8; 3]),
        };
        let nodata = colour::parse(nodata)?;
        let mut rgba: Vec<[u8; 4]> = (0..256)
            .map(|i| {
                let [r, g, b] = entry(i);
                [r, g, b, 255]
            })
            .collect();
        rgba.push(serialize(&fit(&to_srgb(to_lch(nodata)))));
        Ok(Palette { rgba })
    }
}

/// The colorous gradient of a colormap (None for `gray`, which is computed).
fn gradient(map: Colormap) -> Option<colorous::Gradient> {
    Some(match map {
        Colormap::Viridis => colorous::VIRIDIS,
        Colormap::Plasma => colorous::PLASMA,
        Colormap::Inferno => colorous::INFERNO,
        Colormap::Magma => colorous::MAGMA,
        Colormap::Cividis => colorous::CIVIDIS,
        Colormap::Greys => colorous::GREYS,
        Colormap::Gray => return None,
    })
}

/// A colour in CIE LCh (D50) with alpha; hue NaN when achromatic.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Lcha {
    l: f64,
    c: f64,
    h: f64,
    alpha: f64,
}

/// Chroma below which coloraide treats the hue as undefined.
const ACHROMATIC: f64 = 2e-10;

const D50: (f64, f64) = (0.34570, 0.35850);
const D65: (f64, f64) = (0.31270, 0.32900);
const RGB_TO_XYZ: [[f64; 3]; 3] = [
    [0.41239079926595923, 0.35758433938387807, 0.1804807884018343],
    [0.21263900587151022, 0.7151686787677561, 0.07219231536073371],
    [0.019330818715591818, 0.11919477979462599, 0.9505321522496607],
];
const XYZ_TO_RGB: [[f64; 3]; 3] = [
    [3.240969941904524, -1.5373831775700946, -0.4986107602930036],
    [-0.9692436362808795, 1.8759675015077202, 0.04155505740717561],
    [0.05563007969699365, -0.20397695888897652, 1.0569715142428784],
];
const BRADFORD: [[f64; 3]; 3] = [[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367], [0.0389, -0.0685, 1.0296]];

fn xy_to_xyz((x, y): (f64, f64)) -> [f64; 3] {
    [x / y, 1.0, (1.0 - x - y) / y]
}

fn mul(m: &[[f64; 3]; 3], v: [f64; 3]) -> [f64; 3] {
    [0, 1, 2].map(|r| m[r][0] * v[0] + m[r][1] * v[1] + m[r][2] * v[2])
}

fn matmul(a: &[[f64; 3]; 3], b: &[[f64; 3]; 3]) -> [[f64; 3]; 3] {
    [0, 1, 2].map(|r| [0, 1, 2].map(|c| a[r][0] * b[0][c] + a[r][1] * b[1][c] + a[r][2] * b[2][c]))
}

fn inverse(m: &[[f64; 3]; 3]) -> [[f64; 3]; 3] {
    let det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
        + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
    let c = |r1: usize, c1: usize, r2: usize, c2: usize| m[r1][c1] * m[r2][c2] - m[r1][c2] * m[r2][c1];
    [
        [c(1, 1, 2, 2), -c(0, 1, 2, 2), c(0, 1, 1, 2)],
        [-c(1, 0, 2, 2), c(0, 0, 2, 2), -c(0, 0, 1, 2)],
        [c(1, 0, 2, 1), -c(0, 0, 2, 1), c(0, 0, 1, 1)],
    ]
    .map(|row| row.map(|v| v / det))
}

/// Bradford adaptation from white `from` to white `to` (von Kries in the Bradford cone space).
fn adaptation(from: (f64, f64), to: (f64, f64)) -> [[f64; 3]; 3] {
    let (a, b) = (mul(&BRADFORD, xy_to_xyz(from)), mul(&BRADFORD, xy_to_xyz(to)));
    let scale = [[b[0] / a[0], 0.0, 0.0], [0.0, b[1] / a[1], 0.0], [0.0, 0.0, b[2] / a[2]]];
    matmul(&inverse(&BRADFORD), &matmul(&scale, &BRADFORD))
}

const EPSILON: f64 = 216.0 / 24389.0;
const KAPPA: f64 = 24389.0 / 27.0;

fn xyz_d50_to_lab(xyz: [f64; 3]) -> [f64; 3] {
    let w = xy_to_xyz(D50);
    let f = [0, 1, 2].map(|i| {
        let v = xyz[i] / w[i];
        if v > EPSILON {
            v.cbrt()
        } else {
            (KAPPA * v + 16.0) / 116.0
        }
    });
    [116.0 * f[1] - 16.0, 500.0 * (f[0] - f[1]), 200.0 * (f[1] - f[2])]
}

fn lab_to_xyz_d50([l, a, b]: [f64; 3]) -> [f64; 3] {
    let fy = (l + 16.0) / 116.0;
    let (fx, fz) = (a / 500.0 + fy, fy - b / 200.0);
    let e3 = 6.0 / 29.0;
    let xyz = [
        if fx > e3 { fx.powi(3) } else { (116.0 * fx - 16.0) / KAPPA },
        if l > 8.0 { fy.powi(3) } else { l / KAPPA },
        if fz > e3 { fz.powi(3) } else { (116.0 * fz - 16.0) / KAPPA },
    ];
    let w = xy_to_xyz(D50);
    [xyz[0] * w[0], xyz[1] * w[1], xyz[2] * w[2]]
}

fn linear(c: f64) -> f64 {
    if c.abs() > 0.04045 {
        ((c.abs() + 0.055) / 1.055).powf(2.4).copysign(c)
    } else {
        c / 12.92
    }
}

fn gamma(c: f64) -> f64 {
    if c.abs() > 0.0031308 {
        (1.055 * c.abs().powf(1.0 / 2.4) - 0.055).copysign(c)
    } else {
        12.92 * c
    }
}

fn srgb_to_lab(rgb: [f64; 3]) -> [f64; 3] {
    let xyz65 = mul(&RGB_TO_XYZ, rgb.map(linear));
    xyz_d50_to_lab(mul(&adaptation(D65, D50), xyz65))
}

fn lab_to_srgb(lab: [f64; 3]) -> [f64; 3] {
    let xyz65 = mul(&adaptation(D50, D65), lab_to_xyz_d50(lab));
    mul(&XYZ_TO_RGB, xyz65).map(gamma)
}

fn lab_to_lch([l, a, b]: [f64; 3]) -> (f64, f64, f64) {
    let c = (a * a + b * b).sqrt();
    let h = if c < ACHROMATIC { f64::NAN } else { b.atan2(a).to_degrees().rem_euclid(360.0) };
    (l, c, h)
}

fn lch_to_lab(l: f64, c: f64, h: f64) -> [f64; 3] {
    if h.is_nan() {
        return [l, 0.0, 0.0];
    }
    [l, c * h.to_radians().cos(), c * h.to_radians().sin()]
}

/// Any parsed colour in LCh (D50).
fn to_lch(c: Colour) -> Lcha {
    let (l, ch, h) = match c.space {
        Space::Srgb => lab_to_lch(srgb_to_lab(c.coords)),
        Space::Lab => lab_to_lch(c.coords),
        Space::Lch => {
            let [l, ch, h] = c.coords;
            (l, ch, if ch < ACHROMATIC { f64::NAN } else { h })
        }
    };
    Lcha { l, c: ch, h, alpha: c.alpha }
}

/// The colour at `t` in 0..1 along evenly spaced stops (coloraide's piecewise interpolation).
fn interpolate(stops: &[Lcha], t: f64) -> Lcha {
    if stops.len() == 1 {
        return stops[0];
    }
    let n = stops.len() - 1;
    // Stop positions accumulate as coloraide computes them, in percent.
    let mut positions = vec![0.0];
    let mut last = 0.0;
    for _ in 0..n {
        last += 100.0 / n as f64;
        positions.push(last / 100.0);
    }
    let k = (1..=n).find(|&k| t <= positions[k]).unwrap_or(n);
    let span = positions[k] - positions[k - 1];
    let p = if span != 0.0 { (t - positions[k - 1]) / span } else { 1.0 };
    lerp(stops[k - 1], stops[k], p)
}

/// Premultiplied interpolation with the shorter hue arc.
fn lerp(a: Lcha, b: Lcha, p: f64) -> Lcha {
    let (mut h1, mut h2) = (a.h.rem_euclid(360.0), b.h.rem_euclid(360.0));
    if !h1.is_nan() && !h2.is_nan() {
        if h2 - h1 > 180.0 {
            h1 += 360.0;
        } else if h2 - h1 < -180.0 {
            h2 += 360.0;
        }
    }
    let pre = |c: Lcha| if c.alpha == 1.0 { (c.l, c.c) } else { (c.l * c.alpha, c.c * c.alpha) };
    let ((l1, c1), (l2, c2)) = (pre(a), pre(b));
    let mix = |x: f64, y: f64| match (x.is_nan(), y.is_nan()) {
        (true, true) => f64::NAN,
        (true, false) => y,
        (false, true) => x,
        _ => x + (y - x) * p,
    };
    let alpha = mix(a.alpha, b.alpha);
    let (mut l, mut c) = (mix(l1, l2), mix(c1, c2));
    if alpha != 0.0 && alpha != 1.0 && !alpha.is_nan() {
        l /= alpha;
        c /= alpha;
    }
    Lcha { l, c, h: mix(h1, h2), alpha }
}

/// sRGB channels (0..1, maybe out of gamut) and alpha.
fn to_srgb(c: Lcha) -> ([f64; 3], f64, Lcha) {
    (lab_to_srgb(lch_to_lab(c.l, c.c, c.h)), c.alpha, c)
}

fn in_gamut(rgb: &[f64; 3]) -> bool {
    rgb.iter().all(|v| (0.0..=1.0).contains(v))
}

fn clip(rgb: [f64; 3]) -> [f64; 3] {
    rgb.map(|v| v.clamp(0.0, 1.0))
}

/// Gamut mapping as coloraide 0.18's `lch-chroma`: halve the chroma interval until the clipped
/// colour is within ΔE2000 2 (to 0.1) of the reduced one.
fn fit(&(rgb, alpha, lch): &([f64; 3], f64, Lcha)) -> ([f64; 3], f64) {
    if in_gamut(&rgb) {
        return (rgb, alpha);
    }
    if lch.l >= 100.0 || lch.l <= 0.0 {
        return (clip(lab_to_srgb([lch.l, 0.0, 0.0])), alpha);
    }
    let srgb_of = |c: f64| lab_to_srgb(lch_to_lab(lch.l, c, lch.h));
    let (mut low, mut high) = (0.0, lch.c);
    let mut current = clip(rgb);
    let lab_of = |c: f64| lch_to_lab(lch.l, c, lch.h);
    if delta_e_2000(lab_of(lch.c), srgb_to_lab(current)) >= 2.0 {
        let mut lower_in_gamut = true;
        loop {
            let chroma = (high + low) * 0.5;
            let mapped = srgb_of(chroma);
            if lower_in_gamut && in_gamut(&mapped) {
                low = chroma;
                continue;
            }
            current = clip(mapped);
            let de = delta_e_2000(lab_of(chroma), srgb_to_lab(current));
            if de < 2.0 {
                if 2.0 - de < 0.1 {
                    break;
                }
                lower_in_gamut = false;
                low = chroma;
            } else {
                high = chroma;
            }
            if high - low < 1e-12 {
                break;
            }
        }
    }
    (current, alpha)
}

/// CIEDE2000 colour difference of two Lab colours.
fn delta_e_2000(a: [f64; 3], b: [f64; 3]) -> f64 {
    let (l1, a1, b1) = (a[0], a[1], a[2]);
    let (l2, a2, b2) = (b[0], b[1], b[2]);
    let c1 = (a1 * a1 + b1 * b1).sqrt();
    let c2 = (a2 * a2 + b2 * b2).sqrt();
    let cm = (c1 + c2) / 2.0;
    let c7 = cm.powi(7);
    let g = 0.5 * (1.0 - (c7 / (c7 + 25f64.powi(7))).sqrt());
    let (a1p, a2p) = (a1 * (1.0 + g), a2 * (1.0 + g));
    let (c1p, c2p) = ((a1p * a1p + b1 * b1).sqrt(), (a2p * a2p + b2 * b2).sqrt());
    let hue = |b: f64, a: f64| if a == 0.0 && b == 0.0 { 0.0 } else { b.atan2(a).to_degrees().rem_euclid(360.0) };
    let (h1p, h2p) = (hue(b1, a1p), hue(b2, a2p));
    let dl = l2 - l1;
    let dc = c2p - c1p;
    let dh = if c1p * c2p == 0.0 {
        0.0
    } else if (h2p - h1p).abs() <= 180.0 {
        h2p - h1p
    } else if h2p - h1p > 180.0 {
        h2p - h1p - 360.0
    } else {
        h2p - h1p + 360.0
    };
    let dhh = 2.0 * (c1p * c2p).sqrt() * (dh / 2.0).to_radians().sin();
    let lm = (l1 + l2) / 2.0;
    let cmp = (c1p + c2p) / 2.0;
    let hm = if c1p * c2p == 0.0 {
        h1p + h2p
    } else if (h1p - h2p).abs() <= 180.0 {
        (h1p + h2p) / 2.0
    } else if h1p + h2p < 360.0 {
        (h1p + h2p + 360.0) / 2.0
    } else {
        (h1p + h2p - 360.0) / 2.0
    };
    let t = 1.0 - 0.17 * (hm - 30.0).to_radians().cos()
        + 0.24 * (2.0 * hm).to_radians().cos()
        + 0.32 * (3.0 * hm + 6.0).to_radians().cos()
        - 0.20 * (4.0 * hm - 63.0).to_radians().cos();
    let lm50 = (lm - 50.0).powi(2);
    let sl = 1.0 + 0.015 * lm50 / (20.0 + lm50).sqrt();
    let sc = 1.0 + 0.045 * cmp;
    let sh = 1.0 + 0.015 * cmp * t;
    let dtheta = 30.0 * (-((hm - 275.0) / 25.0).powi(2)).exp();
    let cmp7 = cmp.powi(7);
    let rc = 2.0 * (cmp7 / (cmp7 + 25f64.powi(7))).sqrt();
    let rt = -(2.0 * dtheta).to_radians().sin() * rc;
    ((dl / sl).powi(2) + (dc / sc).powi(2) + (dhh / sh).powi(2) + rt * (dc / sc) * (dhh / sh)).sqrt()
}

/// Round half up to `p` digits of precision as coloraide's `round_to` does: `p` significant
/// digits for the whole part, `p` decimals below 1.
fn round_to(f: f64, p: i32) -> f64 {
    let whole = f.trunc();
    let digits = if whole == 0.0 { 0 } else { whole.abs().log10() as i32 + 1 };
    let (v, scale) = if digits > p { (whole, p - digits) } else { (f, p - digits) };
    let mult = 10f64.powi(scale);
    (v * mult + 0.5).floor() / mult
}

/// The colour printed as the reference prints it (channels x255 to 3 digits, alpha to 5), read
/// back and truncated to 8 bits.
fn serialize(&(rgb, alpha): &([f64; 3], f64)) -> [u8; 4] {
    let channel = |v: f64| round_to(v * 255.0, 3).clamp(0.0, 255.0) as u8;
    let a = (round_to(alpha, 5) * 255.0).clamp(0.0, 255.0) as u8;
    [channel(rgb[0]), channel(rgb[1]), channel(rgb[2]), a]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ends_are_the_stops_and_the_last_entry_is_nodata() {
        let p = Palette::from_css(&["#000000".into(), "#ffffff".into()], "#ff000080").unwrap();
        assert_eq!(p.rgba.len(), 257, "256 colours and nodata");
        assert_eq!(p.rgba[0], [0, 0, 0, 255]);
        assert!(p.rgba[255].iter().take(3).all(|&c| c >= 250), "close to the last stop: {:?}", p.rgba[255]);
        // 0x80 is alpha 0.50196 (5 digits), x255 = 127.9998, truncated as the reference does.
        assert_eq!(p.rgba[256], [255, 0, 0, 127]);
        // Grey levels rise with the index (LCh lightness interpolation).
        assert!(p.rgba.windows(2).take(255).all(|w| w[1][0] >= w[0][0]));
        let one = Palette::from_css(&["red".into()], "#fff0").unwrap();
        assert!(one.rgba[..256].iter().all(|c| *c == [255, 0, 0, 255]), "one stop: one colour");
    }
}
