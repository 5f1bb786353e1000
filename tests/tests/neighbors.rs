//! Neighbour dedup on generated overlapping images: the staging_duplicated flags of every tile
//! equal a brute-force evaluation of the reference's rule (REFERENCE-NOTES §4.2) written here,
//! and staging the files on two "nodes" then merging gives the same flags as one process.

use gdal::vector::{FieldValue, LayerAccess};
use geo::{Area, BooleanOps};
use iwp_tests::{files_under, run, synth};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// A staged row: file, polygon, stored area and centroid, perimeter (the keep rule), flag.
struct Row {
    id: String,
    file: String,
    polygon: geo::Polygon<f64>,
    area: f64,
    centroid: (f64, f64),
    perimeter: f64,
    flagged: bool,
}

/// The tolerances of a run: overlap share of both areas, and centroid distance in EPSG:3857.
#[derive(Clone, Copy)]
struct Rule {
    overlap: Option<f64>,
    centroid_m: Option<f64>,
}

fn tile_rows(path: &Path) -> Vec<Row> {
    let ds = gdal::Dataset::open(path).unwrap();
    let mut layer = ds.layer(0).unwrap();
    let mut out = Vec::new();
    for f in layer.features() {
        let get = |n: &str| f.field(f.field_index(n).unwrap()).unwrap();
        let text = |n: &str| match get(n) {
            Some(FieldValue::StringValue(s)) => s,
            other => panic!("{n}: {other:?}"),
        };
        let real = |n: &str| match get(n) {
            Some(FieldValue::RealValue(v)) => v,
            other => panic!("{n}: {other:?}"),
        };
        let g = f.geometry().unwrap();
        let rings: Vec<geo::LineString<f64>> = (0..g.geometry_count())
            .map(|i| {
                let mut pts = Vec::new();
                g.get_geometry(i).get_points(&mut pts);
                pts.into_iter().map(|p| (p.0, p.1)).collect()
            })
            .collect();
        let mut rings = rings.into_iter();
        out.push(Row {
            id: text("staging_identifier"),
            file: text("staging_filename"),
            polygon: geo::Polygon::new(rings.next().unwrap(), rings.collect()),
            area: real("staging_area"),
            centroid: (real("staging_centroid_x"), real("staging_centroid_y")),
            perimeter: real("Perimeter"),
            flagged: get("staging_duplicated") == Some(FieldValue::IntegerValue(1)),
        });
    }
    out
}

/// A lon/lat point in EPSG:3857 metres (spherical Mercator).
fn mercator((lon, lat): (f64, f64)) -> (f64, f64) {
    let r = 6378137.0;
    (r * lon.to_radians(), r * (std::f64::consts::FRAC_PI_4 + lat.to_radians() / 2.0).tan().ln())
}

/// The reference's rule, straight from its description: pairs of files in name order, rows already
/// removed left out, every pair of polygons with a polygonal intersection whose share of both
/// areas is > the overlap tolerance and whose centroids lie within the distance tolerance; the
/// smaller perimeter loses (keep rule Perimeter larger), a tie loses the later file.
fn brute_force(rows: &[Row], rule: Rule) -> BTreeSet<String> {
    let files: BTreeSet<&str> = rows.iter().map(|r| r.file.as_str()).collect();
    let files: Vec<&str> = files.into_iter().collect();
    let mut removed = BTreeSet::new();
    for a in 0..files.len() {
        for b in a + 1..files.len() {
            let live = |f: &str| rows.iter().filter(|r| r.file == f && !removed.contains(&r.id)).collect::<Vec<_>>();
            let (g1, g2) = (live(files[a]), live(files[b]));
            let mut lost = Vec::new();
            for r1 in &g1 {
                for r2 in &g2 {
                    let i = r1.polygon.intersection(&r2.polygon).unsigned_area();
                    let overlap_ok = rule.overlap.is_none_or(|t| i / r1.area > t && i / r2.area > t);
                    let (m1, m2) = (mercator(r1.centroid), mercator(r2.centroid));
                    let near = rule.centroid_m.is_none_or(|t| (m1.0 - m2.0).hypot(m1.1 - m2.1) <= t);
                    if i > 0.0 && overlap_ok && near {
                        lost.push(if r2.perimeter > r1.perimeter { r1.id.clone() } else { r2.id.clone() });
                    }
                }
            }
            removed.extend(lost);
        }
    }
    removed
}

fn flags_by_tile(dir: &Path) -> BTreeMap<String, BTreeSet<String>> {
    files_under(dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "gpkg"))
        .map(|p| {
            let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
            (rel, tile_rows(&p).into_iter().filter(|r| r.flagged).map(|r| r.id).collect())
        })
        .collect()
}

/// Generated data with a neighbour-dedup config (`--set` each of `sets`): the common arguments of
/// every tool run and the staging job lines.
struct Case {
    args: Vec<String>,
    listed: String,
}

impl Case {
    fn new(d: &Path, polygons: &str, files: &str, sets: &[&str]) -> Case {
        synth(d, polygons, files, &["--z-range", "11", "13"]);
        let mut args = vec!["-c".to_string(), d.join("config.json").to_string_lossy().into_owned()];
        for s in sets {
            args.extend(["--set".to_string(), s.to_string()]);
        }
        let listed =
            String::from_utf8_lossy(&run("iwp-stage", &with_args(&args, &["--list"]), None).stdout).into_owned();
        Case { args, listed }
    }

    /// Stages the job lines `input` into `out`.
    fn stage(&self, input: &str, out: &Path) {
        let o = run("iwp-stage", &with_args(&self.args, &["--out", out.to_str().unwrap()]), Some(input));
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
}

/// `args` followed by `more`, as the &str slice `run` takes.
fn with_args<'a>(args: &'a [String], more: &[&'a str]) -> Vec<&'a str> {
    args.iter().map(String::as_str).chain(more.iter().copied()).collect()
}

/// Checks every staged tile under `out` against the brute force; returns (tiles with rows of
/// several files, rows flagged).
fn check_tiles(out: &Path, rule: Rule) -> (usize, usize) {
    let (mut several, mut flagged) = (0, 0);
    for p in files_under(out).into_iter().filter(|p| p.extension().is_some_and(|e| e == "gpkg")) {
        let rows = tile_rows(&p);
        let ours: BTreeSet<String> = rows.iter().filter(|r| r.flagged).map(|r| r.id.clone()).collect();
        assert_eq!(ours, brute_force(&rows, rule), "{}", p.display());
        several += usize::from(rows.iter().map(|r| &r.file).collect::<BTreeSet<_>>().len() > 1);
        flagged += ours.len();
    }
    (several, flagged)
}

#[test]
fn neighbour_flags_match_the_brute_force_rule_and_do_not_depend_on_nodes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let case = Case::new(
        d,
        "3000",
        "4",
        &[
            "deduplicate_method=neighbor",
            r#"deduplicate_keep_rules=[["Perimeter","larger"]]"#,
            "deduplicate_overlap_tolerance=0.5",
            "deduplicate_overlap_both=true",
            "deduplicate_at=[\"raster\"]",
        ],
    );
    let one = d.join("one");
    case.stage(&case.listed, &one);
    let (tiles_checked, total_flagged) = check_tiles(&one, Rule { overlap: Some(0.5), centroid_m: None });
    println!("{tiles_checked} tiles with rows of several files, {total_flagged} rows flagged");
    assert!(tiles_checked > 0 && total_flagged > 100);

    // Two "nodes" (files 1,3 and 2,4), merged: the same flags tile by tile.
    let lines: Vec<&str> = case.listed.lines().collect();
    for (node, pick) in [("n1", [0, 2]), ("n2", [1, 3])] {
        case.stage(&format!("{}\n{}\n", lines[pick[0]], lines[pick[1]]), &d.join(node));
    }
    let merged = d.join("merged");
    let (n1, n2) = (d.join("n1"), d.join("n2"));
    let more = ["--from", n1.to_str().unwrap(), n2.to_str().unwrap(), "--into", merged.to_str().unwrap()];
    let m = run("iwp-merge", &with_args(&case.args, &more), None);
    assert!(m.status.success(), "{}", String::from_utf8_lossy(&m.stderr));
    assert_eq!(flags_by_tile(&merged), flags_by_tile(&one));
}

#[test]
fn the_centroid_tolerance_is_measured_in_the_distance_crs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let case = Case::new(
        d,
        "1500",
        "3",
        &[
            "deduplicate_method=neighbor",
            r#"deduplicate_keep_rules=[["Perimeter","larger"]]"#,
            "deduplicate_overlap_tolerance=null",
            "deduplicate_centroid_tolerance=2.0",
            "deduplicate_distance_crs=EPSG:3857",
        ],
    );
    let out = d.join("staged");
    case.stage(&case.listed, &out);
    let (_, flagged) = check_tiles(&out, Rule { overlap: None, centroid_m: Some(2.0) });
    assert!(flagged > 10, "{flagged} flagged");
}
