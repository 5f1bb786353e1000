//! A statistic's legend as an SVG image: its palette as a colour bar from the low to the high end
//! of its value range, the two values written under the ends, the nodata colour beside.

use crate::palette::{Palette, NODATA_INDEX};

/// Width and height of a legend, in pixels.
pub const SIZE: (u32, u32) = (300, 56);

/// The legend of statistic `name` coloured by `palette` over `range` (low, high values).
pub fn svg(name: &str, palette: &Palette, range: (f64, f64)) -> String {
    let (w, h) = SIZE;
    let bar = 256;
    let colour = |c: [u8; 4]| format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2]);
    let opacity = |c: [u8; 4]| f64::from(c[3]) / 255.0;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" \
         font-family=\"sans-serif\" font-size=\"11\">\n<title>{}</title>\n<rect width=\"{w}\" height=\"{h}\" \
         fill=\"white\" fill-opacity=\"0.85\"/>\n<text x=\"4\" y=\"13\">{}</text>\n",
        esc(name),
        esc(name)
    );
    for (i, c) in palette.rgba[..NODATA_INDEX].iter().enumerate() {
        s.push_str(&format!(
            "<rect x=\"{}\" y=\"18\" width=\"1.05\" height=\"16\" fill=\"{}\" fill-opacity=\"{:.3}\"/>\n",
            4 + i,
            colour(*c),
            opacity(*c)
        ));
    }
    let nodata = palette.rgba[NODATA_INDEX];
    s.push_str(&format!(
        "<rect x=\"{}\" y=\"18\" width=\"16\" height=\"16\" fill=\"{}\" fill-opacity=\"{:.3}\" stroke=\"#888\"/>\n\
         <text x=\"{}\" y=\"48\" font-size=\"9\">no data</text>\n",
        bar + 14,
        colour(nodata),
        opacity(nodata),
        bar + 8
    ));
    s.push_str(&format!(
        "<text x=\"4\" y=\"48\">{}</text>\n<text x=\"{}\" y=\"48\" text-anchor=\"end\">{}</text>\n</svg>\n",
        number(range.0),
        4 + bar,
        number(range.1)
    ));
    s
}

/// A value as a short label: integers as such, others with up to 3 significant decimals.
fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// Escapes text for XML.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bar_of_every_colour_and_the_range_ends() {
        let palette = Palette::from_css(&["#000000".into(), "#ff0000".into()], "#ffffff00").unwrap();
        let s = svg("iwp_coverage", &palette, (0.0, 0.5));
        assert_eq!(s.matches("height=\"16\"").count(), 257, "256 colours and the nodata one");
        assert!(s.contains(">0</text>") && s.contains(">0.5</text>") && s.contains(">iwp_coverage</text>"));
        assert!(s.contains("fill=\"#000000\"") && s.contains("fill-opacity=\"0.000\""));
        assert!(roxmltree::Document::parse(&s).is_ok(), "well-formed");
    }
}
