//! Property tests (proptest) of the parsers that read what people and scripts write: job lines,
//! config overrides and whole configs, shard specs, Slurm hostlists, progress inputs. None may
//! panic; what they accept must mean what it says. Failing cases proptest finds are kept in
//! proptest-regressions/ and replayed first; the cases found so far are also written out below.

use iwp_core::config::{parse_override, Config};
use iwp_core::jobs::parse_line;
use iwp_core::progress::{KeyKind, Progress, Weight};
use iwp_core::shard::Shard;
use proptest::prelude::*;
use serde_json::{json, Map, Value};

/// JSON values up to a small depth, with the awkward ones (huge, negative, fractional numbers,
/// unicode and empty strings, nulls) well represented.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|v| json!(v)),
        any::<f64>().prop_filter("finite", |v| v.is_finite()).prop_map(|v| json!(v)),
        prop_oneof![Just(0u8), Just(13), Just(255)].prop_map(|v| json!(v)),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// The config keys the tools read, so random values hit real checks.
const KEYS: [&str; 16] = [
    "z_range",
    "tile_size",
    "tms_id",
    "statistics",
    "simplify_tolerance",
    "deduplicate_method",
    "deduplicate_keep_rules",
    "deduplicate_at",
    "dir_input",
    "ext_input",
    "input_crs",
    "tile_path_structure",
    "deduplicate_overlap_tolerance",
    "deduplicate_centroid_tolerance",
    "version",
    "unknown_key",
];

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 2000,
        failure_persistence: Some(Box::new(proptest::test_runner::FileFailurePersistence::Direct("proptest-regressions/fuzz.txt"))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn job_lines_never_panic_and_objects_round_trip(text in ".{0,200}") {
        match parse_line(7, &text) {
            None => prop_assert!(text.trim().is_empty()),
            Some(Ok(job)) => {
                prop_assert_eq!(job.line, 7);
                let again = parse_line(7, &Value::Object(job.fields.clone()).to_string());
                prop_assert_eq!(again.map(|r| r.map(|j| j.fields)).unwrap().unwrap(), job.fields);
            }
            Some(Err(bad)) => {
                prop_assert_eq!(bad.line, 7);
                prop_assert!(bad.error_fields()["error"].as_str().unwrap().starts_with("line 7: not a job line"));
            }
        }
    }

    #[test]
    fn job_line_objects_are_read_whatever_they_hold(fields in prop::collection::btree_map("[a-z_]{1,10}", json_value(), 0..8)) {
        let map: Map<String, Value> = fields.into_iter().collect();
        let text = Value::Object(map.clone()).to_string();
        let job = parse_line(1, &text).unwrap().unwrap();
        prop_assert_eq!(job.fields, map);
    }

    #[test]
    fn configs_of_any_values_load_or_name_the_key(entries in prop::collection::vec((0..KEYS.len(), json_value()), 1..5)) {
        let overrides: Vec<(String, Value)> = entries.into_iter().map(|(k, v)| (KEYS[k].to_string(), v)).collect();
        match Config::load(None, &overrides) {
            Ok(c) => {
                prop_assert!(c.z_min <= c.z_max);
                prop_assert!(!c.statistics.is_empty());
                prop_assert!(c.tile_size.iter().all(|&s| s > 0));
            }
            Err(e) => {
                let msg = e.to_string();
                prop_assert!(overrides.iter().any(|(k, _)| msg.contains(k.as_str())) || msg.contains("config"), "{}", msg);
            }
        }
    }

    #[test]
    fn overrides_never_panic(text in ".{0,60}") {
        if let Ok((key, _)) = parse_override(&text) {
            prop_assert!(!key.is_empty() && text.contains('='));
        }
    }

    #[test]
    fn shard_specs_never_panic(text in "[0-9a-z/ ]{0,12}") {
        if let Ok(Shard::Part { index, count }) = text.parse::<Shard>() {
            prop_assert!(index < count);
        }
    }

    #[test]
    fn hostlists_never_panic(text in "[a-z0-9,\\[\\]\\-]{0,24}") {
        if let Ok(hosts) = iwp_core::hostlist::expand(&text) {
            prop_assert!(hosts.iter().all(|h| !h.is_empty()));
        }
    }

    #[test]
    fn progress_reads_any_job_list(lines in prop::collection::vec(".{0,40}", 0..20)) {
        let text = lines.join("\n");
        if let Ok(p) = Progress::from_reader(std::io::Cursor::new(text.clone().into_bytes()), None, &Weight::Auto) {
            let c = p.counts();
            prop_assert_eq!(c.ok + c.failed + c.running + c.pending, c.jobs);
        }
        let _ = Progress::from_reader(std::io::Cursor::new(text.into_bytes()), Some(KeyKind::Tile(Some(3))), &Weight::Count);
    }
}

/// Cases the properties above found (kept as plain tests so they stay covered).
#[test]
fn found_cases() {
    // A hostlist of a huge range must be refused, not expanded.
    assert!(iwp_core::hostlist::expand("n[0-99999999999]").is_err());
    // Floats in job lines (band sums, sizes) come back bit for bit (serde_json's float_roundtrip).
    let v = -5.0450038826202924e-86_f64;
    let job = parse_line(1, &json!({"a": [v]}).to_string()).unwrap().unwrap();
    assert_eq!(job.fields["a"][0].as_f64().unwrap().to_bits(), v.to_bits());
    // A job line that is a JSON string, number or array is not a job line.
    for text in ["\"x\"", "3", "[1]", "null"] {
        assert!(matches!(parse_line(1, text), Some(Err(_))), "{text}");
    }
}
