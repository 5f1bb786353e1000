//! Web styles: the colours of each statistic's web tiles (a list of CSS colours, a named
//! colormap, or one colour) and of no data.

use serde::{Deserialize, Deserializer};

/// A colormap a palette may name (single string, any case).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Colormap {
    /// `viridis` (d3-scale-chromatic's table, via colorous).
    Viridis,
    /// `plasma` (d3-scale-chromatic's table, via colorous).
    Plasma,
    /// `inferno` (d3-scale-chromatic's table, via colorous).
    Inferno,
    /// `magma` (d3-scale-chromatic's table, via colorous).
    Magma,
    /// `cividis` (d3-scale-chromatic's table, via colorous).
    Cividis,
    /// `greys`, white to black (d3-scale-chromatic's table, via colorous).
    Greys,
    /// Grey levels i, i, i.
    Gray,
}

/// The colormap names, in [`Colormap`]'s order.
pub const COLORMAPS: &[&str] = &["viridis", "plasma", "inferno", "magma", "cividis", "greys", "gray"];

impl Colormap {
    /// The colormap of a name (any case).
    pub fn named(name: &str) -> Option<Colormap> {
        use Colormap::*;
        let k = COLORMAPS.iter().position(|c| c.eq_ignore_ascii_case(name))?;
        Some([Viridis, Plasma, Inferno, Magma, Cividis, Greys, Gray][k])
    }
}

/// True when `name` names one of the [`COLORMAPS`] (any case).
pub fn is_colormap(name: &str) -> bool {
    Colormap::named(name).is_some()
}

/// A palette: a list of CSS colours, a named colormap, or a single colour (a one-colour palette,
/// as in the reference).
#[derive(Debug, Clone, PartialEq)]
pub enum PaletteSpec {
    /// A list of CSS colour stops, evenly spaced from the low to the high end of the range.
    Colours(Vec<String>),
    /// A named colormap (a single string that names one).
    Colormap(Colormap),
    /// A single CSS colour (a single string that names no colormap): a one-colour palette.
    Colour(String),
}

impl<'de> Deserialize<'de> for PaletteSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Written {
            List(Vec<String>),
            One(String),
        }
        Ok(match Written::deserialize(d)? {
            Written::List(list) => PaletteSpec::Colours(list),
            Written::One(name) => Colormap::named(&name).map_or(PaletteSpec::Colour(name), PaletteSpec::Colormap),
        })
    }
}

/// The reference's default palette (white to black).
pub fn default_palette() -> PaletteSpec {
    PaletteSpec::Colours(vec!["#FFFFFF".into(), "#000000".into()])
}

/// The reference's default colour of no data (transparent white).
pub fn default_nodata_color() -> String {
    "#ffffff00".into()
}

/// Checks statistic `i`'s palette; on error returns (key path, reason).
pub fn check_palette(palette: &PaletteSpec, i: usize) -> Result<(), (String, String)> {
    let key = format!("statistics[{i}].palette");
    match palette {
        PaletteSpec::Colours(list) if list.is_empty() => Err((key, "an empty list has no colours".into())),
        PaletteSpec::Colours(list) => {
            for (j, c) in list.iter().enumerate() {
                crate::colour::parse(c).map_err(|e| (format!("{key}[{j}]"), e.to_string()))?;
            }
            Ok(())
        }
        PaletteSpec::Colormap(_) => Ok(()),
        PaletteSpec::Colour(name) => crate::colour::parse(name)
            .map(|_| ())
            .map_err(|e| (key, format!("not a known colormap ({COLORMAPS:?}) and {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_single_string_is_a_colormap_when_it_names_one_else_a_colour() {
        let p = |v: serde_json::Value| serde_json::from_value::<PaletteSpec>(v).unwrap();
        assert_eq!(p("Viridis".into()), PaletteSpec::Colormap(Colormap::Viridis));
        assert_eq!(p("gray".into()), PaletteSpec::Colormap(Colormap::Gray));
        assert_eq!(p("#ff0000".into()), PaletteSpec::Colour("#ff0000".into()));
        assert_eq!(p(serde_json::json!(["red", "blue"])), PaletteSpec::Colours(vec!["red".into(), "blue".into()]));
        assert!(check_palette(&PaletteSpec::Colour("virdis".into()), 0).unwrap_err().1.contains("viridis"));
        assert!(COLORMAPS.iter().all(|c| is_colormap(c) && is_colormap(&c.to_uppercase())));
    }
}
