//! Web tiles: one PNG (indexed; RGBA above 256 colours) per GeoTIFF band, each value mapped
//! through its statistic's palette over the value range of its zoom level, as the reference's
//! WebImage does it.

use crate::palette::{Palette, NODATA_INDEX};
use anyhow::{bail, Context};
use iwp_core::config::{Config, Statistic};
use iwp_core::tms::{Bounds, Tile};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Per (statistic, zoom): the smallest min and largest max of the GeoTIFF bands of that level.
#[derive(Debug, Default, Clone)]
pub struct LevelRanges {
    ranges: BTreeMap<(String, u8), (f64, f64)>,
}

impl LevelRanges {
    /// Takes a band's min and max at zoom `z` into account.
    pub fn add(&mut self, stat: &str, z: u8, min: f64, max: f64) {
        let e = self.ranges.entry((stat.to_string(), z)).or_insert((f64::INFINITY, f64::NEG_INFINITY));
        e.0 = e.0.min(min);
        e.1 = e.1.max(max);
    }

    /// The level's (min, max) of a statistic, if any band was seen.
    pub fn get(&self, stat: &str, z: u8) -> Option<(f64, f64)> {
        self.ranges.get(&(stat.to_string(), z)).copied()
    }
}

/// The colour range of a statistic at zoom `z`: `z_config[z].val_range` entries, else the
/// general `val_range` entries, else (null) the level's min or max.
pub fn value_range(stat: &Statistic, z: u8, levels: &LevelRanges) -> anyhow::Result<(f64, f64)> {
    let per_z = stat.z_config.get(&z.to_string()).map(|c| c.val_range).unwrap_or([None, None]);
    let level = levels.get(&stat.name, z);
    let pick = |k: usize| per_z[k].or(stat.val_range[k]).or(level.map(|l| if k == 0 { l.0 } else { l.1 }));
    match (pick(0), pick(1)) {
        (Some(lo), Some(hi)) => Ok((lo, hi)),
        _ => {
            bail!("statistic {}: no value range at z{z} (val_range has null and no band figures were seen)", stat.name)
        }
    }
}

/// Palette indexes of a band: values equal to `nodata` get the nodata colour; others are clamped
/// to [min, max] and scaled with the reference's float expression, then truncated. When
/// min == max (the reference fails there), every value gets the first colour.
pub fn palette_indexes(band: &[f64], min: f64, max: f64, nodata: Option<f64>) -> Vec<u16> {
    band.iter().map(|&v| palette_index(v, (min, max), nodata) as u16).collect()
}

/// The palette index of one value (see [`palette_indexes`]).
#[inline]
fn palette_index(v: f64, (min, max): (f64, f64), nodata: Option<f64>) -> usize {
    if Some(v) == nodata || v.is_nan() {
        return NODATA_INDEX;
    }
    if max == min {
        return 0;
    }
    (((v.clamp(min, max) - min) * (255.0 / (max - min))) as usize).min(NODATA_INDEX)
}

/// A PNG of a band in its palette's colours, lossless: indexed with the tile's own palette
/// (PLTE and tRNS, the colours in order of first use) when the tile has at most 256 colours,
/// else RGBA. Decoders give the same RGBA pixels either way; an indexed tile is a quarter of
/// the bytes to filter and compress.
pub fn encode_png(
    band: &[f64],
    width: usize,
    height: usize,
    range: (f64, f64),
    nodata: Option<f64>,
    palette: &Palette,
) -> anyhow::Result<Vec<u8>> {
    if let Some(colours) = TileColours::of(band, range, nodata, palette) {
        return colours.encode(width, height);
    }
    let mut rgba = Vec::with_capacity(width * height * 4);
    for &v in band {
        rgba.extend_from_slice(&palette.rgba[palette_index(v, range, nodata)]);
    }
    write_png(width, height, png::ColorType::Rgba, &rgba, |_| {})
}

/// A tile's own palette: its distinct colours and each pixel's slot among them.
struct TileColours {
    colours: Vec<[u8; 4]>,
    pixels: Vec<u8>,
}

impl TileColours {
    /// The colours of a band's pixels, or None when it has more than 256.
    fn of(band: &[f64], range: (f64, f64), nodata: Option<f64>, palette: &Palette) -> Option<TileColours> {
        // Per palette index, its slot in the tile's palette (u16::MAX: not seen yet).
        let mut slot_of = [u16::MAX; NODATA_INDEX + 1];
        let mut colours: Vec<[u8; 4]> = Vec::new();
        let mut pixels = Vec::with_capacity(band.len());
        for &v in band {
            let i = palette_index(v, range, nodata);
            if slot_of[i] == u16::MAX {
                let colour = palette.rgba[i];
                slot_of[i] = match colours.iter().position(|c| *c == colour) {
                    Some(k) => k as u16,
                    None if colours.len() == 256 => return None,
                    None => {
                        colours.push(colour);
                        colours.len() as u16 - 1
                    }
                };
            }
            pixels.push(slot_of[i] as u8);
        }
        Some(TileColours { colours, pixels })
    }

    fn encode(&self, width: usize, height: usize) -> anyhow::Result<Vec<u8>> {
        write_png(width, height, png::ColorType::Indexed, &self.pixels, |encoder| {
            encoder.set_palette(self.colours.iter().flat_map(|c| [c[0], c[1], c[2]]).collect::<Vec<u8>>());
            // Always given, so decoders expand the tile to RGBA even when every colour is opaque.
            encoder.set_trns(self.colours.iter().map(|c| c[3]).collect::<Vec<u8>>());
        })
    }
}

/// An 8-bit PNG of `data` (rows of `width` pixels of `color`), with `setup` applied to the
/// encoder (palette chunks): fdeflate with adaptive row filters (the png crate's `Fast`).
fn write_png(
    width: usize,
    height: usize,
    color: png::ColorType,
    data: &[u8],
    setup: impl FnOnce(&mut png::Encoder<&mut Vec<u8>>),
) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, width as u32, height as u32);
        encoder.set_color(color);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::Fast);
        setup(&mut encoder);
        encoder.write_header()?.write_image_data(data)?;
    }
    Ok(out)
}

/// Path of a web tile: `dir_web_tiles/STAT/TMS/Z/X/Y.png` (the tile path structure with style = stat).
pub fn tile_path(config: &Config, stat: &str, tile: Tile) -> PathBuf {
    config.tile_paths.path(&config.dir_web_tiles, Some(stat), tile, &config.ext_web_tiles)
}

/// A web tile that was written or found.
#[derive(Debug, Clone)]
pub struct WebTile {
    /// The statistic it shows.
    pub stat: String,
    /// The PNG file.
    pub path: PathBuf,
    /// True when the PNGs of its GeoTIFF all existed and were left as they were.
    pub skipped: bool,
}

/// Writes the PNGs of one GeoTIFF (every statistic), skipping existing ones unless `force`.
pub fn write_tiles(
    config: &Config,
    palettes: &[Palette],
    levels: &LevelRanges,
    tile: Tile,
    geotiff: &Path,
    force: bool,
) -> anyhow::Result<Vec<WebTile>> {
    let paths: Vec<PathBuf> = config.statistics.iter().map(|s| tile_path(config, &s.name, tile)).collect();
    if !force && paths.iter().all(|p| iwp_core::files::is_complete(p)) {
        return Ok(config
            .statistics
            .iter()
            .zip(paths)
            .map(|(s, path)| WebTile { stat: s.name.clone(), path, skipped: true })
            .collect());
    }
    let raster = iwp_rasters::geotiff::read(geotiff)?;
    if raster.bands.len() != config.statistics.len() {
        bail!(
            "{} has {} bands; the config has {} statistics",
            geotiff.display(),
            raster.bands.len(),
            config.statistics.len()
        );
    }
    let mut out = Vec::new();
    for (k, (stat, path)) in config.statistics.iter().zip(paths).enumerate() {
        let range = value_range(stat, tile.z, levels)?;
        let png = encode_png(&raster.bands[k], raster.width, raster.height, range, stat.nodata_val, &palettes[k])?;
        iwp_core::files::write_atomic_unsynced(&path, &png)
            .with_context(|| format!("cannot write {}", path.display()))?;
        out.push(WebTile { stat: stat.name.clone(), path, skipped: false });
    }
    Ok(out)
}

/// A PNG's pixels as 8-bit RGBA, whatever its colour type (an indexed web tile is expanded
/// through its palette): width, height and the rows of pixels.
pub fn read_png_rgba(path: &Path) -> anyhow::Result<(u32, u32, Vec<u8>)> {
    let file = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut decoder = png::Decoder::new(std::io::BufReader::new(file));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::ALPHA);
    let mut reader = decoder.read_info().with_context(|| format!("{} is not a PNG", path.display()))?;
    let mut buf = vec![0; reader.output_buffer_size().unwrap_or(0)];
    let info = reader.next_frame(&mut buf).with_context(|| format!("cannot decode {}", path.display()))?;
    if (info.color_type, info.bit_depth) != (png::ColorType::Rgba, png::BitDepth::Eight) {
        bail!("{} does not decode to 8-bit RGBA", path.display());
    }
    buf.truncate(info.buffer_size());
    Ok((info.width, info.height, buf))
}

/// Largest preview mosaic, in pixels per side.
const PREVIEW_MAX: usize = 8192;

/// One mosaic PNG of a statistic's web tiles at a level (the tiles' bounding block; missing
/// tiles transparent), written to `dir_web_tiles/STAT/preview-zZ.png`.
pub fn write_preview(config: &Config, stat: &str, tiles: &[Tile]) -> anyhow::Result<PathBuf> {
    let Some(first) = tiles.first() else { bail!("no tiles for a preview") };
    let z = first.z;
    let (x0, x1) = tiles.iter().fold((u32::MAX, 0), |a, t| (a.0.min(t.x), a.1.max(t.x)));
    let (y0, y1) = tiles.iter().fold((u32::MAX, 0), |a, t| (a.0.min(t.y), a.1.max(t.y)));
    let (tw, th) = (config.tile_size[1] as usize, config.tile_size[0] as usize);
    let (w, h) = ((x1 - x0 + 1) as usize * tw, (y1 - y0 + 1) as usize * th);
    if w > PREVIEW_MAX || h > PREVIEW_MAX {
        bail!("a preview of z{z} would be {w}x{h} pixels (at most {PREVIEW_MAX}); pick a lower level");
    }
    let mut canvas = vec![0u8; w * h * 4];
    for t in tiles.iter().filter(|t| t.z == z) {
        let path = tile_path(config, stat, *t);
        let (width, height, buf) = read_png_rgba(&path)?;
        if (width as usize, height as usize) != (tw, th) {
            bail!("{} is not a {tw}x{th} tile", path.display());
        }
        let (ox, oy) = ((t.x - x0) as usize * tw, (t.y - y0) as usize * th);
        for r in 0..th {
            let dst = ((oy + r) * w + ox) * 4;
            canvas[dst..dst + tw * 4].copy_from_slice(&buf[r * tw * 4..(r + 1) * tw * 4]);
        }
    }
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, w as u32, h as u32);
        encoder.set_color(png::ColorType::Rgba);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.write_header()?.write_image_data(&canvas)?;
    }
    let path = config.dir_web_tiles.join(stat).join(format!("preview-z{z}.png"));
    iwp_core::files::write_atomic(&path, &out).with_context(|| format!("cannot write {}", path.display()))?;
    let (top_left, bottom_right) = (config.tms.bounds(Tile::new(x0, y0, z)), config.tms.bounds(Tile::new(x1, y1, z)));
    let bounds =
        Bounds { left: top_left.left, top: top_left.top, right: bottom_right.right, bottom: bottom_right.bottom };
    let tif = path.with_extension("tif");
    write_rgba_geotiff(&tif, config.tms.epsg, bounds, (w, h), &canvas)
        .with_context(|| format!("cannot write {}", tif.display()))?;
    Ok(path)
}

/// An RGBA image (`pixels`, rows of `size.0` pixels) as a GeoTIFF covering `bounds` in EPSG
/// `epsg`: four Byte bands, the fourth alpha, deflate-compressed and tiled.
fn write_rgba_geotiff(
    path: &Path,
    epsg: u32,
    bounds: Bounds,
    size: (usize, usize),
    pixels: &[u8],
) -> anyhow::Result<()> {
    use gdal::raster::{Buffer, RasterCreationOptions};
    let out = iwp_core::files::AtomicOutput::new(path)?;
    {
        let driver = gdal::DriverManager::get_driver_by_name("GTiff")?;
        let options =
            RasterCreationOptions::from_iter(["COMPRESS=DEFLATE", "TILED=YES", "PHOTOMETRIC=RGB", "ALPHA=YES"]);
        let mut ds = driver.create_with_band_type_with_options::<u8, _>(out.path(), size.0, size.1, 4, &options)?;
        let (pw, ph) = ((bounds.right - bounds.left) / size.0 as f64, (bounds.top - bounds.bottom) / size.1 as f64);
        ds.set_geo_transform(&[bounds.left, pw, 0.0, bounds.top, 0.0, -ph])?;
        ds.set_spatial_ref(&gdal::spatial_ref::SpatialRef::from_epsg(epsg)?)?;
        for b in 0..4 {
            let band_pixels: Vec<u8> = pixels.iter().skip(b).step_by(4).copied().collect();
            let mut buffer = Buffer::new(size, band_pixels);
            ds.rasterband(b + 1)?.write((0, 0), size, &mut buffer)?;
        }
    }
    out.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes a band's PNG, decodes it, and checks every pixel is its palette colour; returns
    /// the PNG's colour type.
    fn round_trip(band: &[f64], range: (f64, f64), palette: &Palette) -> png::ColorType {
        let png = encode_png(band, 16, band.len() / 16, range, Some(0.0), palette).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.png");
        std::fs::write(&path, &png).unwrap();
        let (_, _, rgba) = read_png_rgba(&path).unwrap();
        for (k, &v) in band.iter().enumerate() {
            assert_eq!(rgba[k * 4..k * 4 + 4], palette.rgba[palette_index(v, range, Some(0.0))], "pixel {k}");
        }
        png::Decoder::new(std::io::Cursor::new(png)).read_info().unwrap().info().color_type
    }

    #[test]
    fn a_tile_of_at_most_256_colours_is_indexed_and_one_of_more_is_rgba() {
        // 257 distinct colours (an interpolated palette may repeat some).
        let palette = Palette { rgba: (0..=NODATA_INDEX).map(|i| [i as u8, (i >> 8) as u8, 7, 200]).collect() };
        // Zeros (nodata, transparent), a few values, values beyond the range (clamped).
        let few: Vec<f64> = (0..256).map(|i| [0.0, 0.25, 0.5, 1.0, 7.0, -1.0][i % 6]).collect();
        assert_eq!(round_trip(&few, (0.0, 1.0), &palette), png::ColorType::Indexed);
        // Every one of the 256 palette colours and nodata: 257 colours.
        let all: Vec<f64> = (0..512).map(|i| if i < 256 { i as f64 + 0.5 } else { 0.0 }).collect();
        assert_eq!(round_trip(&all, (0.0, 255.0), &palette), png::ColorType::Rgba);
        // The 256 colours without nodata still fit a palette.
        let most: Vec<f64> = (0..512).map(|i| (i % 256) as f64 + 0.5).collect();
        assert_eq!(round_trip(&most, (0.0, 255.0), &palette), png::ColorType::Indexed);
    }
}
