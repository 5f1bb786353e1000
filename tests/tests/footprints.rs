//! Footprint dedup through the footprint index, on generated data: the index is built once and
//! each file reads only the footprints near its own; the flags equal a brute-force check of every
//! footprint pair done here with GDAL's own geometry operations; the lookup gives the same rows
//! however the config, input and footprint paths are spelled; a job line's `footprint` wins; a
//! stale index is rebuilt (footprints added, removed, other rules) or refused (a footprint changed
//! in place), never used.

use gdal::spatial_ref::{AxisMappingStrategy, CoordTransform, SpatialRef};
use gdal::vector::{Feature, Geometry, LayerAccess, OGRFieldType};
use iwp_tests::{bin, lines, run_with, staged_rows, synth};
use iwp_vector::vector::FieldSpec;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

/// Runs iwp-stage in `cwd` with `args` (and job lines on stdin).
fn stage(cwd: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    run_with(Command::new(bin("iwp-stage")).args(args).current_dir(cwd), stdin)
}

fn ok(o: &Output) -> &Output {
    assert!(o.status.success(), "exit {:?}: {}", o.status.code(), String::from_utf8_lossy(&o.stderr));
    o
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Lists the inputs and stages them into `out`; returns (list stdout, stage output).
fn list_and_stage(cwd: &Path, config: &str, out: &Path, extra: &[&str]) -> (String, Output) {
    let listed = text(&ok(&stage(cwd, &["-c", config, "--list", "-q"], None)).stdout);
    let mut args = vec!["-c", config, "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    let o = stage(cwd, &args, Some(&listed));
    (listed, o)
}

fn srs(code: u32) -> SpatialRef {
    let mut s = SpatialRef::from_epsg(code).unwrap();
    s.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
    s
}

/// Every footprint under `dir` (GeoPackages): input file name -> (Date, shape in its CRS).
fn footprints(dir: &Path) -> BTreeMap<String, (String, Geometry)> {
    let mut out = BTreeMap::new();
    for p in iwp_tests::files_under(dir).into_iter().filter(|p| p.extension().is_some_and(|e| e == "gpkg")) {
        let ds = gdal::Dataset::open(&p).unwrap();
        let mut layer = ds.layer(0).unwrap();
        let f = layer.features().next().unwrap();
        let date = f.field_as_string(f.field_index("Date").unwrap()).unwrap().unwrap();
        let rel = p.strip_prefix(dir).unwrap().with_extension("shp").to_string_lossy().into_owned();
        out.insert(rel, (date, f.geometry().unwrap().clone()));
    }
    out
}

#[test]
fn built_once_each_file_reads_its_neighbours_and_flags_equal_every_pair_checked() {
    let d = tempfile::tempdir().unwrap();
    synth(d.path(), "6000", "24", &[]);
    let cfg = d.path().join("config.json");
    let cfg = cfg.to_str().unwrap();
    let first = lines(&ok(&stage(d.path(), &["-c", cfg, "--index-footprints", "-q"], None)).stdout);
    assert_eq!((first[0]["built"].clone(), first[0]["footprints"].clone()), (true.into(), 24.into()));
    let again = lines(&ok(&stage(d.path(), &["-c", cfg, "--index-footprints", "-q"], None)).stdout);
    assert_eq!(again[0]["built"], false, "a fresh index is not built again");
    let out = d.path().join("staged");
    let (_, o) = list_and_stage(d.path(), cfg, &out, &["-v", "--log-format", "json"]);
    ok(&o);
    // Each file read only the footprints whose boxes meet its own: a few neighbours, not all 23.
    let logs = lines(&o.stderr);
    assert!(!logs.iter().any(|l| l["fields"]["message"].as_str().unwrap_or("").contains("building")));
    let read: Vec<(u64, u64)> = logs
        .iter()
        .filter_map(|l| {
            let m = l["fields"]["message"].as_str()?;
            let (_, rest) = m.split_once(": ")?;
            let (n, rest) = rest.split_once(" other footprints read")?;
            let higher = rest.split(", ").nth(1)?.split(' ').next()?;
            Some((n.parse().ok()?, higher.parse().ok()?))
        })
        .collect();
    assert_eq!(read.len(), 24, "one dedup line per file");
    assert!(read.iter().all(|(n, _)| *n <= 8), "neighbours only: {read:?}");
    assert!(read.iter().any(|(_, h)| *h > 0), "some footprints overlap a higher-ranked one: {read:?}");

    // Brute force: every staged polygon (back in the data's CRS) against every footprint pair.
    let fps = footprints(&d.path().join("footprints"));
    let to_data = CoordTransform::new(&srs(4326), &srs(3413)).unwrap();
    let rank = |name: &str| (std::cmp::Reverse(fps[name].0.clone()), name.to_string());
    let (mut checked, mut flagged, mut wrong) = (std::collections::HashSet::new(), 0, Vec::new());
    for rel in iwp_tests::relative_files(&out, "gpkg") {
        let ds = gdal::Dataset::open(out.join(&rel)).unwrap();
        let mut layer = ds.layer(0).unwrap();
        for f in layer.features() {
            let id = f.field_as_string(f.field_index("staging_identifier").unwrap()).unwrap().unwrap();
            if !checked.insert(id.clone()) {
                continue;
            }
            let file = f.field_as_string(f.field_index("staging_filename").unwrap()).unwrap().unwrap();
            let got = f.field_as_integer(f.field_index("staging_duplicated").unwrap()).unwrap().unwrap() == 1;
            let mut g = f.geometry().unwrap().clone();
            g.transform_inplace(&to_data).unwrap();
            let own = &fps[&file].1;
            let expected = !g.intersects(own)
                || fps.keys().filter(|o| **o != file && rank(o) < rank(&file)).any(|o| {
                    let overlap = own.intersection(&fps[o].1);
                    overlap.is_some_and(|x| !x.is_empty() && g.intersects(&x))
                });
            flagged += usize::from(got);
            if got != expected {
                wrong.push((id, file, got));
            }
        }
    }
    assert!(checked.len() > 5000 && flagged > 100, "{} polygons, {flagged} flagged", checked.len());
    assert!(
        wrong.is_empty(),
        "{} of {} flags differ from the brute force: {:?}",
        wrong.len(),
        checked.len(),
        &wrong[..wrong.len().min(5)]
    );
}

#[test]
fn paths_spelled_any_way_give_the_same_rows_and_a_job_footprint_wins() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    synth(&data, "2000", "6", &[]);
    let baseline = d.path().join("base");
    ok(&list_and_stage(d.path(), data.join("config.json").to_str().unwrap(), &baseline, &["-q"]).1);
    let rows = staged_rows(&baseline);
    assert!(rows.values().map(BTreeMap::len).sum::<usize>() > 2000);

    // Listed with the absolute config, staged with a relative one from elsewhere through `..`.
    let elsewhere = d.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let listed =
        text(&ok(&stage(d.path(), &["-c", data.join("config.json").to_str().unwrap(), "--list"], None)).stdout);
    let out = d.path().join("rel");
    ok(&stage(&elsewhere, &["-c", "../data/config.json", "--out", out.to_str().unwrap(), "-q"], Some(&listed)));
    assert_eq!(staged_rows(&out), rows, "absolute list, relative config");

    // The config in a linked folder, the inputs and footprints through links, listed relatively.
    let linked = d.path().join("linked");
    std::fs::create_dir(&linked).unwrap();
    std::os::unix::fs::symlink(data.join("input"), linked.join("in")).unwrap();
    std::os::unix::fs::symlink(data.join("footprints"), linked.join("fp")).unwrap();
    let mut config: Value = serde_json::from_str(&std::fs::read_to_string(data.join("config.json")).unwrap()).unwrap();
    config["dir_input"] = "in".into();
    config["dir_footprints"] = "./sub/../fp".into();
    std::fs::create_dir(linked.join("sub")).unwrap();
    std::fs::write(linked.join("config.json"), config.to_string()).unwrap();
    std::os::unix::fs::symlink(&linked, d.path().join("cfglink")).unwrap();
    let out = d.path().join("linked-out");
    ok(&list_and_stage(d.path(), "cfglink/config.json", &out, &["-q"]).1);
    assert_eq!(staged_rows(&out), rows, "linked config, inputs and footprints");

    // Job lines naming the inputs through `..` and the data folder by its real path.
    let odd: String = listed
        .lines()
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).unwrap();
            let p = v["path"].as_str().unwrap().replace("/data/input/", "/data/input/../input/./");
            v["path"] = p.into();
            v.as_object_mut().unwrap().remove("footprint");
            v.to_string() + "\n"
        })
        .collect();
    let out = d.path().join("odd");
    ok(&stage(d.path(), &["-c", "cfglink/config.json", "--out", out.to_str().unwrap(), "-q"], Some(&odd)));
    assert_eq!(staged_rows(&out), rows, "job paths with `..`, no footprint field, linked config");

    // A job line's footprint wins: the first file given a footprint far from its polygons (at
    // the pole, outside dir_footprints) has every polygon flagged.
    let first: Value = serde_json::from_str(listed.lines().next().unwrap()).unwrap();
    let far = d.path().join("far.gpkg");
    {
        let date = FieldSpec { name: "Date", kind: OGRFieldType::OFTString, width: 80 };
        let ds = iwp_vector::vector::create_polygon_file(&far, "far", &srs(3413), &[date]).unwrap();
        let layer = ds.layer(0).unwrap();
        let mut f = Feature::new(layer.defn()).unwrap();
        f.set_field_string(0, "2030-01-01").unwrap();
        f.set_geometry(Geometry::from_wkt("POLYGON ((0 0, 1000 0, 1000 1000, 0 1000, 0 0))").unwrap()).unwrap();
        f.create(&layer).unwrap();
    }
    let mut job = first.clone();
    job["footprint"] = far.to_str().unwrap().into();
    let out = d.path().join("override");
    let o = stage(
        d.path(),
        &["-c", "cfglink/config.json", "--out", out.to_str().unwrap(), "-q"],
        Some(&(job.to_string() + "\n")),
    );
    assert!(!lines(&ok(&o).stdout).is_empty());
    let flags: Vec<String> = staged_rows(&out).values().flat_map(|r| r.values().cloned()).collect();
    assert!(
        !flags.is_empty() && flags.iter().all(|r| r.contains("\"staging_duplicated\": \"Some(IntegerValue(1))\"")),
        "every polygon outside the job's footprint is flagged"
    );
    let own: Vec<String> = rows
        .values()
        .flat_map(|r| r.values().cloned())
        .filter(|r| r.contains(first["path"].as_str().unwrap().rsplit('/').next().unwrap()))
        .collect();
    assert!(
        own.iter().any(|r| r.contains("\"staging_duplicated\": \"Some(IntegerValue(0))\"")),
        "with its own footprint some are kept"
    );
}

/// The index file's modification time (changes when it is rebuilt).
fn built_at(d: &Path) -> std::time::SystemTime {
    std::fs::metadata(d.join("staged.footprint-index.sqlite")).unwrap().modified().unwrap()
}

#[test]
fn a_stale_index_is_rebuilt_or_refused_never_used() {
    let d = tempfile::tempdir().unwrap();
    let jobs = synth(d.path(), "2000", "6", &[]);
    let cfg = d.path().join("config.json");
    let cfg = cfg.to_str().unwrap();
    let listed = text(&ok(&stage(d.path(), &["-c", cfg, "--list", "-q"], None)).stdout);
    let mut t = built_at(d.path());
    let staged = |out: &str, args: &[&str]| {
        let mut all = vec!["-c", cfg, "--out", out];
        all.extend_from_slice(args);
        stage(d.path(), &all, Some(&listed))
    };
    let rebuilt = |o: &Output, t: &mut std::time::SystemTime, why: &str| {
        assert!(text(&o.stderr).contains(why), "rebuilt because {why}: {}", text(&o.stderr));
        let now = built_at(d.path());
        assert!(now > *t, "the index was written again");
        *t = now;
    };
    std::thread::sleep(std::time::Duration::from_millis(20));

    // A footprint added in a new folder: staging finds its folder's time changed and rebuilds.
    let extra = d.path().join("footprints/extra");
    std::fs::create_dir(&extra).unwrap();
    std::fs::copy(jobs[0]["footprint"].as_str().unwrap(), extra.join("copy.gpkg")).unwrap();
    let o = staged("a", &[]);
    ok(&o);
    rebuilt(&o, &mut t, "changed since it was built");

    // A footprint removed: rebuilt, and its file has no footprint any more.
    std::fs::remove_dir_all(&extra).unwrap();
    let gone = jobs[1]["footprint"].as_str().unwrap();
    std::fs::rename(gone, d.path().join("aside.gpkg")).unwrap();
    let o = staged("b", &["--force"]);
    assert_eq!(o.status.code(), Some(1));
    rebuilt(&o, &mut t, "changed since it was built");
    let errors: Vec<Value> = lines(&o.stdout).into_iter().filter(|l| l["status"] == "error").collect();
    assert_eq!(errors.len(), 1);
    assert!(errors[0]["error"].as_str().unwrap().contains("no footprint for"), "{}", errors[0]);
    std::fs::rename(d.path().join("aside.gpkg"), gone).unwrap();

    // Other keep rules: built for other rules, so rebuilt.
    let o = staged("c", &["--set", "deduplicate_keep_rules=[[\"Date\",\"smaller\"]]"]);
    ok(&o);
    rebuilt(&o, &mut t, "built for keep_rules Date larger, not Date smaller");

    // Back to the config's rules (rebuilt once more), then one footprint changed in place (its
    // folder's time unchanged): the files that read it are refused, naming it.
    ok(&staged("d", &[]));
    t = built_at(d.path());
    let changed = jobs[2]["footprint"].as_str().unwrap();
    let f = std::fs::File::options().write(true).open(changed).unwrap();
    f.set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(5)).unwrap();
    drop(f);
    let o = staged("e", &["--force"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(built_at(d.path()), t, "not rebuilt by staging");
    let errors: Vec<Value> = lines(&o.stdout).into_iter().filter(|l| l["status"] == "error").collect();
    assert!(!errors.is_empty());
    for e in &errors {
        let msg = e["error"].as_str().unwrap();
        assert!(msg.contains("changed since the footprint index") && msg.contains("--index-footprints"), "{msg}");
        assert!(msg.contains(Path::new(changed).file_name().unwrap().to_str().unwrap()), "{msg}");
    }
    // --list compares every file: it rebuilds, and staging is whole again.
    let o = ok(&stage(d.path(), &["-c", cfg, "--list"], None)).clone();
    rebuilt(&o, &mut t, "1 files changed");
    ok(&staged("f", &[]));
    assert_eq!(staged_rows(&d.path().join("f")), staged_rows(&d.path().join("d")));
}
