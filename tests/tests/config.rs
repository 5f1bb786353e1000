//! Config loading: golden and production configs, defaults, paths, overrides, clear errors.

use iwp_core::config::{parse_override, Config, ConfigError, DedupAt, DedupMethod, PaletteSpec, Resampling, WeightBy};
use iwp_tests::{golden, root};
use serde_json::{json, Value};
use std::path::Path;

fn write(dir: &Path, value: &Value) -> std::path::PathBuf {
    let p = dir.join("config.json");
    std::fs::write(&p, value.to_string()).unwrap();
    p
}

fn load_json(value: Value) -> Result<Config, ConfigError> {
    let dir = tempfile::tempdir().unwrap();
    Config::load(Some(&write(dir.path(), &value)), &[])
}

fn err_of(value: Value) -> String {
    load_json(value).expect_err("config should be refused").to_string()
}

#[test]
fn loads_both_golden_configs() {
    let Some(g) = golden() else { return };
    for case in ["complete-workflow", "footprint-dedup"] {
        let dir = g.join(case);
        let c = Config::load(Some(&dir.join("config.json")), &[]).unwrap();
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        assert_eq!(c.tms.id, "WorldCRS84Quad");
        assert_eq!((c.z_min, c.z_max), (6, 13));
        assert_eq!(c.tile_size, [128, 128]);
        assert_eq!(c.dir_input, dir.join("input"));
        assert_eq!(c.dir_staged, dir.join("staged-vectors"));
        assert_eq!(c.dir_web_tiles, dir.join("web-tiles"));
        assert_eq!(c.simplify_tolerance, Some(0.0001), "reference default");
        let names: Vec<&str> = c.statistics.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["iwp_count", "iwp_coverage"]);
        assert_eq!(c.statistics[0].weight_by, WeightBy::Count);
        assert_eq!(c.statistics[1].resampling_method, Resampling::Average);
        assert_eq!(c.statistics[0].val_range, [Some(0.0), None]);
        assert_eq!(c.statistics[0].nodata_val, None);
        assert_eq!(c.statistics[0].nodata_color, "#ffffff00");
        let PaletteSpec::Colours(p) = &c.statistics[0].palette else { panic!("list palette") };
        assert_eq!(p[2], "lch(85% 100 85)");
        if case == "footprint-dedup" {
            assert_eq!(c.deduplicate_method, Some(DedupMethod::Footprints));
            assert_eq!(c.dir_footprints, dir.join("footprints"));
            assert_eq!(c.ext_footprints, ".shp");
            assert!(c.drops_duplicates_at(DedupAt::Raster) && !c.drops_duplicates_at(DedupAt::Staging));
            assert_eq!(c.deduplicate_keep_rules[0].property, "Date");
            assert!(c.deduplicate_keep_rules[0].larger && c.deduplicate_clip_to_footprint);
        } else {
            assert_eq!(c.deduplicate_method, None);
            assert!(!c.drops_duplicates_at(DedupAt::Raster));
        }
    }
}

#[test]
fn loads_the_production_iwp_config() {
    let path = root().join("examples/ice-wedge-polygons.json");
    let c = Config::load(Some(&path), &[]).unwrap();
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    assert_eq!((c.z_min, c.z_max, c.tms.id), (0, 16, "WorldCRS84Quad"));
    assert_eq!(c.simplify_tolerance, Some(0.1));
    assert_eq!(c.tile_size, [256, 256]);
    assert_eq!(c.ext_footprints, ".gpkg", "reference default");
    assert_eq!(c.geometric_error, Some(57.0));
    assert_eq!(c.deduplicate_at, [DedupAt::Raster, DedupAt::Tiles3d]);
    assert_eq!(c.statistics[0].nodata_val, Some(0.0));
    assert_eq!(c.filename_rasters_summary, root().join("examples/records/raster_summary.csv"));
}

#[test]
fn defaults_are_the_references() {
    let c = Config::load(None, &[]).unwrap();
    assert_eq!(c.tms.id, "WGS1984Quad");
    assert_eq!((c.z_min, c.z_max), (0, 13));
    assert_eq!(c.tile_size, [256, 256]);
    assert_eq!(c.dir_input, Path::new("input"));
    assert_eq!(c.ext_footprints, ".gpkg");
    assert_eq!(c.simplify_tolerance, Some(0.0001));
    assert_eq!(c.deduplicate_overlap_tolerance, Some(0.5));
    assert_eq!(c.deduplicate_distance_crs.as_deref(), Some("EPSG:3857"));
    assert!(c.deduplicate_overlap_both && c.deduplicate_clip_to_footprint);
    assert_eq!(c.props.duplicated, "staging_duplicated");
    let names: Vec<&str> = c.statistics.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["polygon_count", "coverage"]);
    assert_eq!(c.statistics[1].val_range, [Some(0.0), Some(1.0)]);
    assert_eq!(c.statistics[1].palette, PaletteSpec::Colours(vec!["#FFFFFF".into(), "#000000".into()]));
    assert!(!c.switches["overwrite"]);
    // An explicit null switches simplification off; a missing key keeps the default.
    assert_eq!(load_json(json!({"simplify_tolerance": null})).unwrap().simplify_tolerance, None);
}

#[test]
fn paths_resolve_against_the_config_folder_and_overrides_against_the_working_dir() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), &json!({"dir_input": "in", "dir_staged": "/abs/staged", "dir_geotiff": "tifs"}));
    let overrides = [parse_override("dir_geotiff=elsewhere").unwrap(), parse_override("z_range=[3,9]").unwrap()];
    let c = Config::load(Some(&p), &overrides).unwrap();
    assert_eq!(c.dir_input, dir.path().join("in"));
    assert_eq!(c.dir_staged, Path::new("/abs/staged"));
    assert_eq!(c.dir_geotiff, Path::new("elsewhere"));
    assert_eq!((c.z_min, c.z_max), (3, 9));
    assert_eq!(parse_override("title=My title").unwrap().1, json!("My title"));
    assert!(parse_override("novalue").is_err());
}

#[test]
fn unknown_keys_are_warned_about() {
    let c = load_json(json!({"dir_output": "x", "statistics": [{"name": "a", "weight_by": "count",
        "property": "centroids_per_pixel", "aggregation_method": "sum", "resampling_method": "sum", "colour": 1}]}))
    .unwrap();
    assert_eq!(c.warnings.len(), 2, "{:?}", c.warnings);
    assert!(c.warnings[0].contains("`dir_output`"));
    assert!(c.warnings[1].contains("`colour`") && c.warnings[1].contains("statistics[0]"));
}

#[test]
fn errors_name_the_key_and_the_problem() {
    let stat = |extra: Value| {
        let mut s = json!({"name": "a", "weight_by": "count", "property": "centroids_per_pixel",
            "aggregation_method": "sum", "resampling_method": "sum"});
        s.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        json!({ "statistics": [s] })
    };
    // An unknown choice is refused with the allowed ones listed (`expected one of ...`).
    let cases: Vec<(Value, &[&str])> = vec![
        (json!({"z_range": "0-13"}), &["`z_range`", "invalid type"]),
        (json!({"z_range": [13, 6]}), &["`z_range`", "out of order"]),
        (json!({"z_range": [0, 30]}), &["`z_range`", "no zoom 30"]),
        (json!({"tms_id": "MarsQuad"}), &["`tms_id`", "MarsQuad"]),
        (json!({"tile_size": [0, 256]}), &["`tile_size`"]),
        (json!({"simplify_tolerance": "0.1"}), &["`simplify_tolerance`", "invalid type"]),
        (json!({"simplify_tolerance": -1}), &["`simplify_tolerance`"]),
        (json!({"statistics": []}), &["`statistics`", "empty"]),
        (json!({"statistics": [{"name": "a"}]}), &["`statistics[0]`", "weight_by"]),
        (stat(json!({"palette": ["#66339952", "notacolour"]})), &["`statistics[0].palette[1]`", "notacolour"]),
        (stat(json!({"palette": "rainbowish"})), &["`statistics[0].palette`", "colormap"]),
        (stat(json!({"nodata_color": "#12"})), &["`statistics[0].nodata_color`"]),
        (stat(json!({"val_range": [1, 0]})), &["`statistics[0].val_range`"]),
        (stat(json!({"val_range": [0, "max"]})), &["`statistics[0].val_range[1]`", "invalid type"]),
        (stat(json!({"weight_by": "area"})), &["`statistics[0].property`"]),
        (stat(json!({"aggregation_method": "total"})), &["`statistics[0].aggregation_method`", "`total`", "`nunique`"]),
        (
            stat(json!({"resampling_method": "bogus"})),
            &["`statistics[0].resampling_method`", "`bogus`", "`cubic_spline`"],
        ),
        (
            json!({"deduplicate_method": "neighbors"}),
            &["`deduplicate_method`", "`neighbors`", "`neighbor`", "`footprints`"],
        ),
        (json!({"deduplicate_method": "footprints"}), &["`deduplicate_keep_rules`"]),
        (
            json!({"deduplicate_keep_rules": [["Date", "newer"]]}),
            &["`deduplicate_keep_rules[0][1]`", "`newer`", "`larger`"],
        ),
        (json!({"deduplicate_at": "raster"}), &["`deduplicate_at`", "invalid type"]),
        (json!({"deduplicate_at": ["rasters"]}), &["`deduplicate_at[0]`", "`rasters`", "`3dtiles`"]),
        (json!({"tile_path_structure": ["z", "x"]}), &["`tile_path_structure`"]),
        (json!({"overwrite": "yes"}), &["`overwrite`"]),
        (json!([1, 2]), &["top level"]),
    ];
    for (value, needles) in cases {
        let e = err_of(value.clone());
        assert!(e.contains("config.json"), "names the file: {e}");
        for n in needles {
            assert!(e.contains(n), "{value}: `{e}` lacks `{n}`");
        }
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.json"), "{\"z_range\": [0, 1],}").unwrap();
    let e = Config::load(Some(&dir.path().join("bad.json")), &[]).unwrap_err().to_string();
    assert!(e.contains("not valid JSON") && e.contains("line 1"), "{e}");
    let e = Config::load(Some(&dir.path().join("missing.json")), &[]).unwrap_err().to_string();
    assert!(e.contains("cannot read config") && e.contains("missing.json"), "{e}");
}

#[test]
fn get_prints_resolved_values_for_scripts() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(
        dir.path(),
        &json!({"dir_footprints": "fp", "z_range": [6, 13], "deduplicate_method": "footprints", "deduplicate_keep_rules": [["Date", "larger"]]}),
    );
    let cfg = cfg.to_str().unwrap();
    let get = |tool: &str, key: &str| {
        let o = iwp_tests::run(tool, &["-c", cfg, "--get", key], None);
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).trim().to_string(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let folder = dir.path().canonicalize().unwrap_or(dir.path().to_path_buf());
    let (code, fp, _) = get("iwp-stage", "dir_footprints");
    assert_eq!(code, Some(0));
    assert!(Path::new(&fp).is_absolute() && fp.ends_with("/fp"), "{fp}");
    assert!(Path::new(&fp).starts_with(&folder) || Path::new(&fp).starts_with(dir.path()), "{fp}");
    assert_eq!(get("iwp-raster", "z_max").1, "13");
    assert_eq!(get("iwp-webtile", "z_min").1, "6");
    assert_eq!(get("iwp-merge", "deduplicate_method").1, "footprints");
    assert_eq!(get("iwp-raster", "statistics").1.split(' ').count(), 2, "the two default statistics");
    let (code, _, err) = get("iwp-stage", "no_such_key");
    assert_eq!(code, Some(2));
    assert!(err.contains("no_such_key") && err.contains("dir_staged"), "{err}");
}
