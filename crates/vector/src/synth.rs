//! Generated IWP-like sample data, deterministic from a seed.
//!
//! One global network of ice-wedge-like polygon cells (a jittered lattice, every edge bent
//! twice, cells shrunk to leave troughs; cells about 5–30 m across) lies on EPSG:3413 near
//! Prudhoe Bay. Each "image" takes a block of cells with its own small vertex noise, as two
//! detections of the same ground differ, and neighbouring images overlap. Every image is one
//! shapefile with the real IWP attribute columns plus one footprint file (its rectangle, with
//! Date and Sensor). A PDG config for the generated tree is written beside it.

use crate::vector::{self, FieldSpec};
use anyhow::Context;
use gdal::vector::{Feature, Geometry, LayerAccess, OGRFieldType};
use iwp_core::lines::InputFile;
pub use iwp_core::rand::Rand;
use iwp_core::rand::{mix, to_unit, GOLDEN_GAMMA};
use rayon::prelude::*;
use serde_json::json;
use shapefile::dbase;
use std::path::{Path, PathBuf};

/// What to generate.
#[derive(Debug, Clone)]
pub struct SynthSpec {
    /// Seed of every random choice; the same spec gives the same bytes.
    pub seed: u64,
    /// Total polygons over all files.
    pub polygons: u64,
    /// Number of input files (images).
    pub files: u32,
    /// Mean lattice spacing in metres (cell size before jitter).
    pub spacing: f64,
    /// Fraction of an image's width and height shared with its neighbour.
    pub overlap: f64,
    /// EPSG:3413 coordinates of the lattice's south-west corner.
    pub origin: (f64, f64),
    /// Extension of footprint files (`.gpkg` or `.shp`).
    pub footprint_ext: String,
    /// z_range of the config written beside the data.
    pub z_range: [u8; 2],
}

impl Default for SynthSpec {
    fn default() -> Self {
        SynthSpec {
            seed: 1,
            polygons: 10_000,
            files: 4,
            spacing: 14.0,
            overlap: 0.1,
            origin: (-2_121_000.0, 521_000.0),
            footprint_ext: ".gpkg".into(),
            z_range: [11, 15],
        }
    }
}

/// One generated image: where its cells are and what it is called.
#[derive(Debug, Clone, PartialEq)]
pub struct ImagePlan {
    /// The image's number, 0-based (with the seed, it picks the image's cells and vertex noise).
    pub index: u32,
    /// Sensor name, `WV02` or `WV03` (the `Sensor` attribute).
    pub sensor: &'static str,
    /// Acquisition date as YYYYMMDD.
    pub date: String,
    /// Acquisition time as HHMMSS.
    pub time: String,
    /// Image name, as the `Image` attribute holds it.
    pub image: String,
    /// Path of the input file relative to the input folder.
    pub rel_path: PathBuf,
    /// First lattice column of the image's block.
    pub i0: i64,
    /// First lattice row of the image's block.
    pub j0: i64,
    /// The block's width, in lattice columns.
    pub cols: i64,
    /// The block's height, in lattice rows.
    pub rows: i64,
    /// Polygons the file holds.
    pub polygons: u64,
}

/// What was written for one image.
#[derive(Debug, Clone)]
pub struct Written {
    /// The input shapefile.
    pub input: PathBuf,
    /// Its footprint file.
    pub footprint: PathBuf,
    /// Polygons the input holds.
    pub polygons: u64,
    /// Bytes of the .shp file.
    pub bytes: u64,
}

impl Written {
    /// The job line iwp-stage reads for this image.
    pub fn job_line(&self) -> InputFile {
        InputFile {
            path: self.input.display().to_string(),
            footprint: Some(self.footprint.display().to_string()),
            bytes: Some(self.bytes),
            polygons: Some(self.polygons),
            ..InputFile::default()
        }
    }
}

/// Fraction of lattice cells an image detects.
const KEEP: f64 = 0.92;
/// Node jitter as a fraction of the spacing (keeps each node in its own box, so rings stay simple).
const NODE_JITTER: f64 = 0.35;
/// Sideways bend of edge points as a fraction of the edge length.
const BEND: f64 = 0.12;
/// Trough half-width in metres: how far cells shrink away from their neighbours.
const TROUGH: f64 = 0.8;
/// Per-image vertex noise in metres.
const IMAGE_NOISE: f64 = 0.25;

/// A uniform number in [0, 1) from a key (SplitMix64 finaliser over the mixed key).
fn unit(seed: u64, key: [i64; 4]) -> f64 {
    to_unit(key.iter().fold(seed, |z, &k| mix((z ^ (k as u64)).wrapping_add(GOLDEN_GAMMA))))
}

/// Splits the work into images laid out on a grid of overlapping blocks.
pub fn plan(spec: &SynthSpec) -> Vec<ImagePlan> {
    let files = spec.files.max(1);
    let grid_cols = (f64::from(files)).sqrt().ceil() as u32;
    let per_file = spec.polygons / u64::from(files);
    let extra = spec.polygons % u64::from(files);
    let biggest = per_file + u64::from(extra > 0);
    let cols = ((biggest as f64 / KEEP).sqrt().ceil() as i64).max(1);
    let rows = (biggest as f64 / KEEP / cols as f64).ceil() as i64 + 2;
    let step_i = ((cols as f64) * (1.0 - spec.overlap)).round().max(1.0) as i64;
    let step_j = ((rows as f64) * (1.0 - spec.overlap)).round().max(1.0) as i64;
    (0..files)
        .map(|k| {
            let (a, b) = (i64::from(k % grid_cols), i64::from(k / grid_cols));
            let r = |n: i64| unit(spec.seed, [0x1a9e, i64::from(k), n, 0]);
            let sensor = if r(0) < 0.5 { "WV02" } else { "WV03" };
            let year = 2011 + (r(1) * 12.0) as u32;
            let month = 6 + (r(2) * 4.0) as u32;
            let day = 1 + (r(3) * 28.0) as u32;
            let secs = (r(4) * 86400.0) as u32;
            let date = format!("{year:04}{month:02}{day:02}");
            let time = format!("{:02}{:02}{:02}", secs / 3600, secs / 60 % 60, secs % 60);
            let catalog = (r(5) * (1u64 << 40) as f64) as u64;
            let image = format!("{sensor}_{date}{time}_10300100{catalog:010X}_u16rf3413_pansh");
            ImagePlan {
                index: k,
                sensor,
                date,
                time,
                rel_path: PathBuf::from(format!("row_{b:03}")).join(format!("{image}_iwp.shp")),
                image,
                i0: a * step_i,
                j0: b * step_j,
                cols,
                rows,
                polygons: per_file + u64::from(u64::from(k) < extra),
            }
        })
        .collect()
}

/// Node (i, j) of the global lattice.
fn node(spec: &SynthSpec, i: i64, j: i64) -> (f64, f64) {
    let s = spec.spacing;
    let jx = (unit(spec.seed, [1, i, j, 0]) - 0.5) * 2.0 * NODE_JITTER * s;
    let jy = (unit(spec.seed, [1, i, j, 1]) - 0.5) * 2.0 * NODE_JITTER * s;
    (spec.origin.0 + i as f64 * s + jx, spec.origin.1 + j as f64 * s + jy)
}

/// The two bent interior points of the edge from `p` to `q`, keyed canonically so both cells
/// sharing the edge agree.
fn edge_points(spec: &SynthSpec, key: [i64; 3], p: (f64, f64), q: (f64, f64)) -> [(f64, f64); 2] {
    let (dx, dy) = (q.0 - p.0, q.1 - p.1);
    let (nx, ny) = (-dy, dx);
    let at = |t: f64, n: i64| {
        let off = (unit(spec.seed, [2, key[0], key[1], key[2] * 2 + n]) - 0.5) * 2.0 * BEND;
        (p.0 + dx * t + nx * off, p.1 + dy * t + ny * off)
    };
    [at(1.0 / 3.0, 0), at(2.0 / 3.0, 1)]
}

/// The closed ring of cell (i, j) as image `image` sees it (counter-clockwise, simple).
pub fn cell_ring(spec: &SynthSpec, image: u32, i: i64, j: i64) -> Vec<(f64, f64)> {
    let (a, b, c, d) = (node(spec, i, j), node(spec, i + 1, j), node(spec, i + 1, j + 1), node(spec, i, j + 1));
    let south = edge_points(spec, [i, j, 0], a, b);
    let east = edge_points(spec, [i + 1, j, 1], b, c);
    let north = edge_points(spec, [i, j + 1, 0], d, c);
    let west = edge_points(spec, [i, j, 1], a, d);
    let mut ring = vec![a, south[0], south[1], b, east[0], east[1], c, north[1], north[0], d, west[1], west[0]];
    let noise = |k: usize, axis: i64| {
        (unit(spec.seed, [3 + i64::from(image), i, j, k as i64 * 2 + axis]) - 0.5) * 2.0 * IMAGE_NOISE
    };
    ring.iter_mut().enumerate().for_each(|(k, p)| *p = (p.0 + noise(k, 0), p.1 + noise(k, 1)));
    let mut closed = ring.clone();
    closed.push(ring[0]);
    if !(crate::geom::Polygon { rings: vec![closed] }).certainly_valid() {
        // Bends and noise folded the ring: keep the plain quad, which is always simple because
        // each node stays in its own box.
        ring = vec![a, b, c, d];
    }
    // A uniform shrink about the centroid opens the troughs and keeps the ring simple.
    let n = ring.len() as f64;
    let (cx, cy) = ring.iter().fold((0.0, 0.0), |acc, p| (acc.0 + p.0 / n, acc.1 + p.1 / n));
    let radius = ring.iter().map(|p| (p.0 - cx).hypot(p.1 - cy)).sum::<f64>() / n;
    let k = ((radius - TROUGH) / radius).max(0.5);
    ring.iter_mut().for_each(|p| *p = (cx + (p.0 - cx) * k, cy + (p.1 - cy) * k));
    ring.push(ring[0]);
    ring
}

/// Area, perimeter and area centroid of a closed ring.
pub fn ring_measures(ring: &[(f64, f64)]) -> (f64, f64, (f64, f64)) {
    let (mut a2, mut per, mut cx, mut cy) = (0.0, 0.0, 0.0, 0.0);
    let o = ring[0];
    for w in ring.windows(2) {
        let (p, q) = ((w[0].0 - o.0, w[0].1 - o.1), (w[1].0 - o.0, w[1].1 - o.1));
        let cross = p.0 * q.1 - q.0 * p.1;
        a2 += cross;
        cx += (p.0 + q.0) * cross;
        cy += (p.1 + q.1) * cross;
        per += (q.0 - p.0).hypot(q.1 - p.1);
    }
    let area = a2 / 2.0;
    (area.abs(), per, (o.0 + cx / (3.0 * a2), o.1 + cy / (3.0 * a2)))
}

/// One input row: the real IWP attribute columns, written straight to the .dbf.
struct Row<'a> {
    class: &'a str,
    img: &'a ImagePlan,
    area: f64,
    centroid: (f64, f64),
    perimeter: f64,
    length: f64,
    width: f64,
}

impl dbase::WritableRecord for Row<'_> {
    fn write_using<W: std::io::Write>(&self, w: &mut dbase::FieldWriter<'_, W>) -> Result<(), dbase::FieldError> {
        w.write_next_field_value(&self.class)?;
        w.write_next_field_value(&self.img.sensor)?;
        w.write_next_field_value(&self.img.date.as_str())?;
        w.write_next_field_value(&self.img.time.as_str())?;
        w.write_next_field_value(&self.img.image.as_str())?;
        for v in [self.area, self.centroid.0, self.centroid.1, self.perimeter, self.length, self.width] {
            w.write_next_field_value(&v)?;
        }
        Ok(())
    }
}

/// The .dbf schema of input files, as the real IWP shapefiles have it.
fn input_table() -> anyhow::Result<dbase::TableWriterBuilder> {
    let name = |n: &str| dbase::FieldName::try_from(n).map_err(|e| anyhow::anyhow!("field name {n}: {e:?}"));
    let mut t = dbase::TableWriterBuilder::new();
    for (field, width) in [("Class", 80), ("Sensor", 80), ("Date", 80), ("Time", 80), ("Image", 88)] {
        t = t.add_character_field(name(field)?, width);
    }
    for field in ["Area", "CentroidX", "CentroidY", "Perimeter", "Length", "Width"] {
        t = t.add_numeric_field(name(field)?, 24, 15);
    }
    Ok(t)
}

const FOOTPRINT_FIELDS: &[FieldSpec] = &[
    FieldSpec { name: "Date", kind: OGRFieldType::OFTString, width: 80 },
    FieldSpec { name: "Sensor", kind: OGRFieldType::OFTString, width: 80 },
];

/// Writes one image's input file and footprint under `out` (`input/…`, `footprints/…`).
pub fn write_image(spec: &SynthSpec, img: &ImagePlan, out: &Path) -> anyhow::Result<Written> {
    let srs = vector::srs("EPSG:3413")?;
    let input = out.join("input").join(&img.rel_path);
    let footprint =
        out.join("footprints").join(img.rel_path.with_extension(spec.footprint_ext.trim_start_matches('.')));
    std::fs::create_dir_all(input.parent().unwrap_or(out))?;
    std::fs::create_dir_all(footprint.parent().unwrap_or(out))?;
    let stem = img.rel_path.file_stem().and_then(|s| s.to_str()).unwrap_or("iwp");
    let mut writer = shapefile::Writer::from_path(&input, input_table()?)
        .with_context(|| format!("cannot create {}", input.display()))?;
    let mut written = 0u64;
    'cells: for dj in 0..img.rows {
        for di in 0..img.cols {
            if written == img.polygons {
                break 'cells;
            }
            let (i, j) = (img.i0 + di, img.j0 + dj);
            if unit(spec.seed, [4 + i64::from(img.index), i, j, 0]) >= KEEP {
                continue;
            }
            let ring = cell_ring(spec, img.index, i, j);
            let (area, perimeter, centroid) = ring_measures(&ring);
            let (minx, maxx) = ring.iter().fold((f64::MAX, f64::MIN), |m, p| (m.0.min(p.0), m.1.max(p.0)));
            let (miny, maxy) = ring.iter().fold((f64::MAX, f64::MIN), |m, p| (m.0.min(p.1), m.1.max(p.1)));
            let (dx, dy) = (maxx - minx, maxy - miny);
            let row = Row {
                class: if unit(spec.seed, [5, i, j, 0]) < 0.6 { "1" } else { "2" },
                img,
                area,
                centroid,
                perimeter,
                length: dx.max(dy),
                width: dx.min(dy),
            };
            let points = ring.iter().map(|&(x, y)| shapefile::Point::new(x, y)).collect();
            let polygon = shapefile::Polygon::new(shapefile::PolygonRing::Outer(points));
            writer.write_shape_and_record(&polygon, &row).with_context(|| format!("writing {}", input.display()))?;
            written += 1;
        }
    }
    anyhow::ensure!(written == img.polygons, "block too small for {} polygons", img.polygons);
    drop(writer);
    let esri = srs.clone();
    esri.morph_to_esri()?;
    std::fs::write(input.with_extension("prj"), esri.to_wkt()?)?;
    std::fs::write(input.with_extension("cpg"), "UTF-8")?;
    write_footprint(spec, img, &footprint, stem, &srs)?;
    let bytes = std::fs::metadata(&input)?.len();
    Ok(Written { input, footprint, polygons: img.polygons, bytes })
}

fn write_footprint(
    spec: &SynthSpec,
    img: &ImagePlan,
    path: &Path,
    layer: &str,
    srs: &gdal::spatial_ref::SpatialRef,
) -> anyhow::Result<()> {
    let s = spec.spacing;
    let x0 = spec.origin.0 + (img.i0 as f64 - 0.5) * s;
    let y0 = spec.origin.1 + (img.j0 as f64 - 0.5) * s;
    let x1 = spec.origin.0 + ((img.i0 + img.cols) as f64 + 0.5) * s;
    let y1 = spec.origin.1 + ((img.j0 + img.rows) as f64 + 0.5) * s;
    let ring = vec![(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)];
    let ds = vector::create_polygon_file(path, layer, srs, FOOTPRINT_FIELDS)
        .with_context(|| format!("cannot create {}", path.display()))?;
    let layer = ds.layer(0)?;
    let mut f = Feature::new(layer.defn())?;
    let date = format!("{}-{}-{}", &img.date[..4], &img.date[4..6], &img.date[6..]);
    f.set_field_string(0, &date)?;
    f.set_field_string(1, img.sensor)?;
    f.set_geometry(Geometry::from_wkb(&vector::polygon_wkb(&[ring]))?)?;
    f.create(&layer)?;
    Ok(())
}

/// The PDG config for a generated tree (production IWP statistics and footprint dedup).
pub fn config_json(spec: &SynthSpec) -> serde_json::Value {
    json!({
        "dir_input": "input",
        "ext_input": ".shp",
        "dir_footprints": "footprints",
        "ext_footprints": spec.footprint_ext,
        "dir_staged": "staged",
        "dir_geotiff": "geotiff",
        "dir_web_tiles": "web_tiles",
        "tms_id": "WorldCRS84Quad",
        "z_range": spec.z_range,
        "simplify_tolerance": 0.1,
        "statistics": [
            {"name": "iwp_count", "weight_by": "count", "property": "centroids_per_pixel",
             "aggregation_method": "sum", "resampling_method": "sum", "val_range": [0, null],
             "palette": ["#66339952", "#d93fce", "#ffcc00"], "nodata_val": 0, "nodata_color": "#ffffff00"},
            {"name": "iwp_coverage", "weight_by": "area", "property": "area_per_pixel_area",
             "aggregation_method": "sum", "resampling_method": "average", "val_range": [0, 1],
             "palette": ["#66339952", "#ffcc00"], "nodata_val": 0, "nodata_color": "#ffffff00"}
        ],
        "deduplicate_at": ["raster"],
        "deduplicate_method": "footprints",
        "deduplicate_keep_rules": [["Date", "larger"]],
        "deduplicate_clip_to_footprint": true
    })
}

/// Makes way for new data under `out`: an existing input/ or footprints/ folder is an error
/// unless `replace`, then it is removed.
pub fn clear_out(out: &Path, replace: bool) -> Result<(), String> {
    for sub in ["input", "footprints"] {
        let dir = out.join(sub);
        if dir.exists() {
            if !replace {
                return Err(format!("{} exists; pass --force to replace it", dir.display()));
            }
            std::fs::remove_dir_all(&dir).map_err(|e| format!("cannot remove {}: {e}", dir.display()))?;
        }
    }
    Ok(())
}

/// Generates every image in parallel, calling `done` as each finishes; writes `config.json`.
/// Stops at the first error, including one `done` returns (results that cannot be written).
pub fn generate(
    spec: &SynthSpec,
    out: &Path,
    done: impl Fn(&Written) -> std::io::Result<()> + Sync,
) -> anyhow::Result<Vec<Written>> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let text = serde_json::to_string_pretty(&config_json(spec))?;
    iwp_core::files::write_atomic(&out.join("config.json"), text.as_bytes())?;
    plan(spec)
        .par_iter()
        .map(|img| {
            let w = write_image(spec, img, out)?;
            done(&w).context("cannot write the result line")?;
            Ok(w)
        })
        .collect()
}
