//! CSS colour strings as PDG palettes write them: hex, rgb()/rgba(), hsl()/hsla(), hwb(), lab(),
//! lch() and named colours. Values stay in their own space (lab/lch are not forced into sRGB),
//! so palettes can interpolate them the way the reference does.

use thiserror::Error;

/// The space a parsed colour's coordinates are in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Space {
    /// Gamma-encoded sRGB, channels 0..1.
    Srgb,
    /// CIE Lab (D50): L 0..100, a, b.
    Lab,
    /// CIE LCh(ab) (D50): L 0..100, chroma, hue in degrees.
    Lch,
}

/// A colour: three coordinates in `space` plus alpha 0..1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Colour {
    /// The space the coordinates are in.
    pub space: Space,
    /// The three coordinates: r, g, b (0..1) for sRGB; L, a, b for Lab; L, C, h for LCh.
    pub coords: [f64; 3],
    /// Opacity, 0 (transparent) to 1 (opaque).
    pub alpha: f64,
}

/// A string that is not a colour.
#[derive(Debug, Error, PartialEq)]
#[error("`{text}` is not a CSS colour: {why}")]
pub struct ColourError {
    /// The text as given.
    pub text: String,
    /// What is wrong with it.
    pub why: String,
}

impl Colour {
    /// An sRGB colour from 0..1 channels.
    pub fn srgb(r: f64, g: f64, b: f64, alpha: f64) -> Colour {
        Colour { space: Space::Srgb, coords: [r, g, b], alpha }
    }
}

/// Parses one CSS colour string.
pub fn parse(text: &str) -> Result<Colour, ColourError> {
    let err = |why: &str| ColourError { text: text.to_string(), why: why.to_string() };
    let s = text.trim().to_ascii_lowercase();
    if let Some(hex) = s.strip_prefix('#') {
        return parse_hex(hex).ok_or_else(|| err("hex colours have 3, 4, 6 or 8 hex digits"));
    }
    if let Some(open) = s.find('(') {
        let name = s[..open].trim();
        let inner = s[open + 1..].strip_suffix(')').ok_or_else(|| err("missing closing `)`"))?;
        return parse_function(name, inner).map_err(|why| err(&why));
    }
    if s == "transparent" {
        return Ok(Colour::srgb(0.0, 0.0, 0.0, 0.0));
    }
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphabetic()) {
        if let Ok(c) = csscolorparser::parse(&s) {
            let [r, g, b, _] = c.to_rgba8();
            return Ok(Colour::srgb(f64::from(r) / 255.0, f64::from(g) / 255.0, f64::from(b) / 255.0, 1.0));
        }
        return Err(err("unknown colour name"));
    }
    Err(err("expected #hex, a colour function such as rgb(...) or lch(...), or a colour name"))
}

fn parse_hex(hex: &str) -> Option<Colour> {
    if !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let digits: Vec<u8> = match hex.len() {
        3 | 4 => hex.chars().map(|c| u8::from_str_radix(&c.to_string().repeat(2), 16).ok()).collect::<Option<_>>()?,
        6 | 8 => {
            (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok()).collect::<Option<_>>()?
        }
        _ => return None,
    };
    let ch = |i: usize| f64::from(digits[i]) / 255.0;
    let alpha = if digits.len() == 4 { ch(3) } else { 1.0 };
    Some(Colour::srgb(ch(0), ch(1), ch(2), alpha))
}

/// A number argument with its unit suffix: `%`, `deg`, or none.
struct Arg {
    value: f64,
    percent: bool,
}

fn parse_args(inner: &str) -> Result<(Vec<Arg>, Option<Arg>), String> {
    let (main, alpha) = match inner.split_once('/') {
        Some((m, a)) => (m, Some(a.trim())),
        None => (inner, None),
    };
    let mut tokens: Vec<&str> = main.split(|c: char| c == ',' || c.is_whitespace()).filter(|t| !t.is_empty()).collect();
    let mut alpha_token = alpha;
    if alpha_token.is_none() && main.contains(',') && tokens.len() == 4 {
        alpha_token = tokens.pop();
    }
    let one = |t: &str| -> Result<Arg, String> {
        let (num, percent) = match t.strip_suffix('%') {
            Some(n) => (n, true),
            None => (t.strip_suffix("deg").unwrap_or(t), false),
        };
        let value: f64 = num.parse().map_err(|_| format!("`{t}` is not a number"))?;
        if !value.is_finite() {
            return Err(format!("`{t}` is not finite"));
        }
        Ok(Arg { value, percent })
    };
    let args = tokens.iter().map(|t| one(t)).collect::<Result<Vec<_>, _>>()?;
    let alpha = alpha_token.map(one).transpose()?;
    Ok((args, alpha))
}

fn parse_function(name: &str, inner: &str) -> Result<Colour, String> {
    let (args, alpha) = parse_args(inner)?;
    if args.len() != 3 {
        return Err(format!("{name}() takes 3 values (and an optional alpha), got {}", args.len()));
    }
    let alpha = match alpha {
        Some(a) if a.percent => a.value / 100.0,
        Some(a) => a.value,
        None => 1.0,
    };
    if !(0.0..=1.0).contains(&alpha) {
        return Err(format!("alpha {alpha} is outside 0..1"));
    }
    // Percentages scale to each coordinate's reference range (CSS Color 4).
    let scaled = |a: &Arg, full: f64| {
        if a.percent {
            a.value / 100.0 * full
        } else {
            a.value
        }
    };
    let colour = match name {
        "rgb" | "rgba" => {
            let c = |a: &Arg| {
                if a.percent {
                    a.value / 100.0
                } else {
                    a.value / 255.0
                }
            };
            Colour::srgb(c(&args[0]), c(&args[1]), c(&args[2]), alpha)
        }
        "hsl" | "hsla" => {
            let (r, g, b) = hsl_to_srgb(args[0].value, args[1].value / 100.0, args[2].value / 100.0);
            Colour::srgb(r, g, b, alpha)
        }
        "hwb" => {
            let (w, bl) = (args[1].value / 100.0, args[2].value / 100.0);
            let (r, g, b) = hwb_to_srgb(args[0].value, w, bl);
            Colour::srgb(r, g, b, alpha)
        }
        "lab" => Colour {
            space: Space::Lab,
            coords: [scaled(&args[0], 100.0), scaled(&args[1], 125.0), scaled(&args[2], 125.0)],
            alpha,
        },
        "lch" => Colour {
            space: Space::Lch,
            coords: [scaled(&args[0], 100.0), scaled(&args[1], 150.0), args[2].value],
            alpha,
        },
        _ => return Err(format!("unknown colour function `{name}()`")),
    };
    Ok(colour)
}

fn hsl_to_srgb(h: f64, s: f64, l: f64) -> (f64, f64, f64) {
    let h = h.rem_euclid(360.0);
    let f = |n: f64| {
        let k = (n + h / 30.0) % 12.0;
        let a = s * l.min(1.0 - l);
        l - a * (k - 3.0).min(9.0 - k).clamp(-1.0, 1.0)
    };
    (f(0.0), f(8.0), f(4.0))
}

fn hwb_to_srgb(h: f64, w: f64, b: f64) -> (f64, f64, f64) {
    if w + b >= 1.0 {
        let grey = w / (w + b);
        return (grey, grey, grey);
    }
    let (r, g, bl) = hsl_to_srgb(h, 1.0, 0.5);
    let f = |c: f64| c * (1.0 - w - b) + w;
    (f(r), f(g), f(bl))
}
