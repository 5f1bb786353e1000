use iwp_core::jobs::{parse_line, read_jobs, result_from, Results};
use std::io::{Cursor, Write};
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
struct Sink(Arc<Mutex<Vec<u8>>>);
impl Write for Sink {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn reads_lines_skips_blanks_and_reports_bad_ones() {
    let input = "{\"path\":\"a.shp\",\"bytes\":3}\n\n[1,2]\n{not json\n{\"path\":\"b.shp\"}\n";
    let items: Vec<_> = read_jobs(Cursor::new(input)).map(|r| r.unwrap()).collect();
    assert_eq!(items.len(), 4);
    assert_eq!(items[0].as_ref().unwrap().str("path"), Some("a.shp"));
    assert_eq!(items[0].as_ref().unwrap().num("bytes"), Some(3.0));
    let bad = items[1].as_ref().unwrap_err();
    assert_eq!(bad.line, 3);
    assert!(bad.why.contains("an array"), "{}", bad.why);
    assert!(items[2].as_ref().unwrap_err().why.contains("malformed JSON"));
    assert_eq!(items[3].as_ref().unwrap().line, 5);
}

#[test]
fn results_pass_unknown_fields_and_count_failures() {
    let sink = Sink::default();
    let results = Results::to_writer(Box::new(sink.clone()));
    let job = parse_line(1, r#"{"path":"in.shp","bytes":10,"run":"2023-a","note":{"k":1}}"#).unwrap().unwrap();
    let mut out = result_from(&job.fields, &["bytes"]);
    out.insert("path".into(), "staged/13/1/2.gpkg".into());
    results.ok(out).unwrap();
    results.error(job.fields.clone(), "cannot open in.shp: no such file").unwrap();
    let bad = parse_line(7, "{oops").unwrap().unwrap_err();
    results.bad_line(&bad).unwrap();
    assert_eq!((results.ok_count(), results.failed_count()), (1, 2));
    assert_eq!(results.exit_code("test"), std::process::ExitCode::from(1));

    let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines[0].to_string(), r#"{"path":"staged/13/1/2.gpkg","run":"2023-a","note":{"k":1},"status":"ok"}"#);
    assert_eq!(lines[1]["status"], "error");
    assert_eq!(lines[1]["run"], "2023-a");
    assert_eq!(lines[1]["error"], "cannot open in.shp: no such file");
    assert_eq!(lines[2]["line"], 7);
    assert!(lines[2]["error"].as_str().unwrap().starts_with("line 7: not a job line"));
}

#[test]
fn all_ok_exits_zero() {
    let results = Results::to_writer(Box::new(Sink::default()));
    results.ok(Default::default()).unwrap();
    assert_eq!(results.exit_code("test"), std::process::ExitCode::SUCCESS);
}
