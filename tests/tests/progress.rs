//! iwp-progress against real concurrent writers: shell processes append result lines at random
//! moments (some in two pieces), one is killed in the middle of a line, a later writer appends to
//! the killed one's file; counts, `--failed`, exit codes and a live `--wait` are checked. Then
//! generated stages (by path, and tiles at a zoom) against a model of what their lines mean: the
//! summary, the human summary's failures, `--failed` and the exit status, the job list read from
//! a file and from stdin. Then the redo loop with iwp-stage on generated data with broken inputs,
//! and the terminal view in tmux.

use iwp_tests::{bin, lines, run, Rand};
use serde_json::Value;
use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const JOBS: usize = 120;

fn job_path(i: usize) -> String {
    format!("in/f{i:03}.shp")
}

/// The ok result lines of job i: two parts for multiples of 7, else one.
fn ok_lines(i: usize) -> Vec<String> {
    let p = job_path(i);
    let parts: &[&str] = if i.is_multiple_of(7) { &["a", "b"] } else { &["a"] };
    parts
        .iter()
        .map(|part| {
            format!(
                r#"{{"tms":"WorldCRS84Quad","z":15,"x":{i},"y":{part:?},"path":"staged/{i}/{part}.gpkg","source":"{p}","parts":{},"status":"ok","secs":0.{i:03}}}"#,
                parts.len()
            )
        })
        .collect()
}

/// The result lines of job i in the first run: an error for every 10th from 3, else ok lines.
fn result_lines(i: usize) -> Vec<String> {
    let p = job_path(i);
    if i % 10 == 3 {
        return vec![format!(r#"{{"path":"{p}","bytes":{i},"status":"error","error":"cannot read {p}"}}"#)];
    }
    ok_lines(i)
}

/// Quotes a string for sh.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// A writer: a shell script appending `lines` to `file` with random pauses, some lines in two
/// pieces; `tail` is written last without a newline (then the writer waits to be killed).
fn writer(dir: &Path, file: &str, lines: &[String], tail: Option<&str>, rand: &mut Rand) -> Child {
    let mut script = String::new();
    for l in lines {
        if rand.below(4) == 0 {
            let (a, b) = l.split_at(l.len() / 2);
            script += &format!("printf '%s' {} >> {file}; sleep 0.0{}\n", sh_quote(a), rand.below(9) + 1);
            script += &format!("printf '%s\\n' {} >> {file}\n", sh_quote(b));
        } else {
            script += &format!("printf '%s\\n' {} >> {file}\n", sh_quote(l));
        }
        script += &format!("sleep 0.0{}\n", rand.below(6));
    }
    if let Some(t) = tail {
        script += &format!("printf '%s' {} >> {file}\nexec sleep 60\n", sh_quote(t));
    }
    Command::new("sh").arg("-c").arg(script).current_dir(dir).stdin(Stdio::null()).spawn().expect("start writer")
}

fn progress(dir: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["--jobs", "jobs.ndjson", "stage.*.ndjson", "--interval", "0.2"];
    args.extend_from_slice(extra);
    iwp_tests::run_with(Command::new(bin("iwp-progress")).args(&args).current_dir(dir), None)
}

fn summary(out: &std::process::Output) -> Value {
    lines(&out.stdout).into_iter().find(|l| l["summary"] == true).expect("a summary line")
}

#[test]
fn concurrent_writers_a_kill_and_a_redo() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let jobs: String = (0..JOBS).map(|i| format!("{{\"path\":\"{}\",\"bytes\":{}}}\n", job_path(i), 100 + i)).collect();
    fs::write(d.join("jobs.ndjson"), jobs).unwrap();

    // A live follower started before any result exists; it must end only after the redo.
    let live = Command::new(bin("iwp-progress"))
        .args(["--jobs", "jobs.ndjson", "stage.*.ndjson", "--wait", "--interval", "0.2", "--timeout", "120"])
        .current_dir(d)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    // Four writers take jobs i % 4; writer 3 stops at job 35 (two parts): part a whole, part b
    // half written when it is killed.
    let mut rand = Rand(11);
    let mut children = Vec::new();
    let mut written: BTreeSet<usize> = BTreeSet::new();
    for w in 0..4 {
        let mine: Vec<usize> = (0..JOBS).filter(|i| i % 4 == w).collect();
        let (done, tail) = if w == 3 {
            let stop = mine.iter().position(|&i| i == 35).unwrap();
            let b = &result_lines(35)[1];
            (&mine[..stop], Some((result_lines(35)[0].clone(), b[..b.len() / 2].to_string())))
        } else {
            (&mine[..], None)
        };
        written.extend(done.iter().copied());
        let mut lines: Vec<String> = done.iter().flat_map(|&i| result_lines(i)).collect();
        if let Some((a, _)) = &tail {
            lines.push(a.clone());
        }
        let file = format!("stage.host{}.{w}.ndjson", w % 2);
        children.push(writer(d, &file, &lines, tail.as_ref().map(|t| t.1.as_str()), &mut rand));
    }
    // Writers 0..2 finish; writer 3 is killed once its half line is on disk.
    for c in children.iter_mut().take(3) {
        assert!(c.wait().unwrap().success());
    }
    let half = &result_lines(35)[1];
    let half = &half[..half.len() / 2];
    let deadline = Instant::now() + Duration::from_secs(60);
    while !fs::read_to_string(d.join("stage.host1.3.ndjson")).unwrap_or_default().ends_with(half) {
        assert!(Instant::now() < deadline, "writer 3 never reached its half line");
        std::thread::sleep(Duration::from_millis(20));
    }
    // SIGKILL to the writer (its `sleep` child stays behind and writes nothing).
    children[3].kill().unwrap();
    let _ = children[3].wait();

    // What the lines say: failed = errors written, running = job 35, pending = the rest.
    let failed: BTreeSet<usize> = written.iter().copied().filter(|i| i % 10 == 3).collect();
    let ok = written.len() - failed.len();
    let once = progress(d, &["--once"]);
    assert_eq!(once.status.code(), Some(3), "incomplete: {}", String::from_utf8_lossy(&once.stderr));
    let s = summary(&once);
    assert_eq!(s["jobs"], JOBS);
    assert_eq!(s["ok"], ok);
    assert_eq!(s["failed"], failed.len());
    assert_eq!(s["running"], 1, "job 35 has one of its two parts");
    assert_eq!(s["pending"], JOBS - written.len() - 1);
    assert_eq!(s["unreadable_lines"], 0, "the half line is not read as a line");
    assert_eq!(s["tasks"].as_array().unwrap().len(), 4);
    let hosts: BTreeSet<&str> = s["tasks"].as_array().unwrap().iter().map(|t| t["host"].as_str().unwrap()).collect();
    assert_eq!(hosts, BTreeSet::from(["host0", "host1"]));
    let per_host = s["hosts"].as_array().unwrap();
    assert_eq!(per_host.len(), 2);
    assert_eq!(per_host.iter().map(|h| h["task_files"].as_u64().unwrap()).sum::<u64>(), 4);
    let lines_written: u64 = (0..JOBS).filter(|i| written.contains(i)).map(|i| result_lines(i).len() as u64).sum();
    let counted: u64 =
        per_host.iter().map(|h| h["ok_lines"].as_u64().unwrap() + h["error_lines"].as_u64().unwrap()).sum();
    assert_eq!(counted, lines_written + 1, "every whole line, with job 35's first part");
    let slowest = written.iter().copied().filter(|i| !failed.contains(i)).max().unwrap();
    assert_eq!(s["slowest"][0]["job"], job_path(slowest), "the largest secs");

    // --failed: every job without a full ok result, in job-list order, as the job lines were.
    let redo = progress(d, &["--failed"]);
    assert_eq!(redo.status.code(), Some(0));
    let redo_lines: Vec<String> = String::from_utf8(redo.stdout).unwrap().lines().map(String::from).collect();
    let want: Vec<String> = (0..JOBS)
        .filter(|i| failed.contains(i) || !written.contains(i))
        .map(|i| format!("{{\"path\":\"{}\",\"bytes\":{}}}", job_path(i), 100 + i))
        .collect();
    assert_eq!(redo_lines, want);
    assert!(progress(d, &["--wait", "--timeout", "1"]).status.code() == Some(3), "--timeout while incomplete");

    // The redo: its first line goes into the killed writer's file, right after the half line
    // (a rerun appending with >>), the others into a new task file.
    let redo_results: Vec<String> = redo_lines
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .flat_map(|j| ok_lines(j["path"].as_str().unwrap()[4..7].parse().unwrap()))
        .collect();
    let mut first = writer(d, "stage.host1.3.ndjson", &redo_results[..1], None, &mut rand);
    assert!(first.wait().unwrap().success());
    let mut rest = writer(d, "stage.host0.redo.ndjson", &redo_results[1..], None, &mut rand);
    assert!(rest.wait().unwrap().success());

    let out = live.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let all = lines(&out.stdout);
    let statuses: Vec<&Value> = all.iter().filter(|l| l.get("summary").is_none()).collect();
    assert!(!statuses.is_empty(), "status lines while following (stderr is not a terminal)");
    assert!(statuses.iter().any(|l| l["ok"].as_u64().unwrap() < JOBS as u64), "seen before the end");
    let s = summary(&out);
    assert_eq!((s["ok"].as_u64(), s["failed"].as_u64(), s["pending"].as_u64()), (Some(JOBS as u64), Some(0), Some(0)));
    assert_eq!(s["unreadable_lines"], 0, "the glued line was recovered");
    assert_eq!(s["tasks"].as_array().unwrap().len(), 5);

    // Bad usage: exit 2 with a message.
    let bad = run("iwp-progress", &["--jobs", "/nonexistent/jobs.ndjson", "x.ndjson", "--once"], None);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("/nonexistent/jobs.ndjson"));
}

#[test]
fn tiles_at_a_zoom_and_malformed_job_lines() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A raster level step: jobs are z15 tiles, results z14 parents (4 children -> 1 parent).
    let jobs: String = (0..4)
        .flat_map(|x| (0..4).map(move |y| format!("{{\"z\":15,\"x\":{x},\"y\":{y},\"path\":\"g/{x}/{y}.tif\"}}\n")))
        .collect();
    fs::write(d.join("jobs.ndjson"), format!("{jobs}not json\n")).unwrap();
    let results = "{\"z\":14,\"x\":0,\"y\":0,\"status\":\"ok\"}\n{\"z\":14,\"x\":1,\"y\":0,\"status\":\"ok\"}\n\
                   {\"z\":14,\"x\":0,\"y\":1,\"status\":\"error\",\"error\":\"child of the wrong size\"}\n\
                   {\"line\":17,\"input\":\"not json\",\"status\":\"error\",\"error\":\"line 17: not a job line\"}\n";
    fs::write(d.join("stage.a.0.ndjson"), results).unwrap();
    let out = progress(d, &["--once", "--zoom", "14"]);
    let s = summary(&out);
    assert_eq!((s["jobs"].as_u64(), s["ok"].as_u64(), s["failed"].as_u64()), (Some(5), Some(2), Some(2)));
    assert_eq!(s["pending"], 1);
    assert_eq!(out.status.code(), Some(3), "one parent has no result yet");
    let redo = String::from_utf8(progress(d, &["--failed", "--zoom", "14"]).stdout).unwrap();
    // The first job line of each unit to redo: parent (0,1) via child (0,2), (1,1) via (2,2), and the bad line.
    assert_eq!(
        redo.lines().collect::<Vec<_>>(),
        [r#"{"z":15,"x":0,"y":2,"path":"g/0/2.tif"}"#, r#"{"z":15,"x":2,"y":2,"path":"g/2/2.tif"}"#, "not json"]
    );
}

/// What a result line means: not a JSON object, or a result for a unit (None: no job's).
#[derive(Debug, Clone)]
enum Effect {
    Unreadable,
    Result { unit: Option<usize>, failed: bool, part: String, parts: Option<u64>, secs: f64, error: String },
}

/// A result line's meaning, worked out from its fields: the part is its `path`, else the line.
fn effect(unit: Option<usize>, v: &Value) -> Effect {
    Effect::Result {
        unit,
        failed: v["status"] == "error",
        part: v["path"].as_str().map_or_else(|| v.to_string(), String::from),
        parts: v["parts"].as_u64(),
        secs: v["secs"].as_f64().unwrap_or(0.0),
        error: v["error"].as_str().unwrap_or_default().to_string(),
    }
}

/// A generated stage: the job list's lines, its units in order (key, first line as written
/// trimmed, size), and the result files in name order (4 task files, then a redo file).
struct Stage {
    jobs: Vec<String>,
    units: Vec<(String, String, f64)>,
    duplicate_jobs: usize,
    files: Vec<(String, Vec<(String, Effect)>)>,
}

impl Stage {
    fn new(files: [&str; 5]) -> Stage {
        let files = files.iter().map(|f| (f.to_string(), Vec::new())).collect();
        Stage { jobs: Vec::new(), units: Vec::new(), duplicate_jobs: 0, files }
    }

    /// Adds a job line that is not JSON; its unit's key is `line:N` (N counting non-blank lines).
    fn bad_job(&mut self, text: &str) -> usize {
        self.jobs.push(text.to_string());
        self.units.push((format!("line:{}", self.jobs.len()), text.to_string(), 0.0));
        self.units.len() - 1
    }

    /// Writes `unit`'s results as one of the cases to tell apart (pending, failed, failed twice,
    /// failed then redone, running, a rerun's repeated part, parts without a path, ok, ok with
    /// a part repeated after); `id` holds the fields that name the job.
    fn results(&mut self, rand: &mut Rand, unit: usize, id: &Value) {
        let line = |fields: Value| {
            let mut m = id.as_object().unwrap().clone();
            m.extend(fields.as_object().unwrap().clone());
            let v = Value::Object(m);
            (v.to_string(), effect(Some(unit), &v))
        };
        let mut secs = || if rand.below(25) == 0 { 9.5 } else { rand.below(8000) as f64 / 1000.0 };
        let ok = |k: u64, parts: u64, s: f64| {
            line(serde_json::json!({"path": format!("out/{unit}/{k}"), "parts": parts, "status": "ok", "secs": s}))
        };
        let err = |msg: String, s: f64| line(serde_json::json!({"status": "error", "error": msg, "secs": s}));
        let (f, parts, case) = (unit % 4, 1 + unit as u64 % 3, (unit * 7 + unit / 10) % 10);
        let files = &mut self.files;
        match case {
            0 => {}
            1 => files[f].1.push(err(format!("bad input {unit}"), secs())),
            2 => {
                files[f].1.push(err(format!("bad input {unit}"), secs()));
                files[4].1.push(err(format!("still bad {unit}"), secs()));
            }
            3 => {
                files[f].1.push(err(format!("bad input {unit}"), secs()));
                files[4].1.extend((0..parts).map(|k| ok(k, parts, secs())));
            }
            4 => files[f].1.extend((1..parts.max(2)).map(|k| ok(k, parts.max(2), secs()))),
            5 => {
                // A rerun's line for a part already there: counted once, the job still runs.
                files[f].1.extend((1..parts.max(2)).map(|k| ok(k, parts.max(2), secs())));
                files[(f + 1) % 4].1.push(ok(1, parts.max(2), 0.001));
            }
            6 => {
                // Parts without a path: the same line in other spacing is the same part.
                let a = line(serde_json::json!({"parts": 2, "status": "ok", "n": 1}));
                files[f].1.push((a.0.replace(',', ", "), a.1.clone()));
                files[f].1.push(a);
                if unit.is_multiple_of(3) {
                    files[f].1.push(line(serde_json::json!({"parts": 2, "status": "ok", "n": 2, "secs": secs()})));
                }
            }
            7 => {
                files[f].1.extend((0..parts).map(|k| ok(k, parts, secs())));
                files[(f + 1) % 4].1.push(ok(0, parts, 0.001));
            }
            _ => files[f].1.extend((0..parts).map(|k| ok(k, parts, secs()))),
        }
    }

    /// Lines every stage has: results of no job, lines that are not JSON, a glued line after a
    /// killed writer's half line, an error message longer than a read chunk, a half last line.
    fn odd_lines(&mut self, glued: usize, long: usize, id: impl Fn(usize) -> Value) {
        let other = serde_json::json!({"path": "elsewhere/x", "z": 3, "x": 0, "y": 0, "status": "ok"});
        self.files[0].1.push((other.to_string(), effect(None, &other)));
        self.files[1].1.push(("garbage".into(), Effect::Unreadable));
        self.files[1].1.push(("[1,2]".into(), Effect::Unreadable));
        let mut v = id(glued);
        v["status"] = "error".into();
        v["error"] = "after a kill".into();
        self.files[2].1.push((format!("{{\"path\":\"half{}", v), effect(Some(glued), &v)));
        let mut v = id(long);
        v["status"] = "error".into();
        v["error"] = "x".repeat(1_500_000).into();
        self.files[3].1.push((v.to_string(), effect(Some(long), &v)));
    }

    fn write(&self, dir: &Path) {
        fs::write(dir.join("jobs.ndjson"), self.jobs.join("\n") + "\n\n \n").unwrap();
        for (name, lines) in &self.files {
            let text: String = lines.iter().map(|(l, _)| format!("{l}\n")).collect();
            fs::write(dir.join(name), text + "{\"path\":\"a half line").unwrap();
        }
    }

    /// The summary fields, `--failed` lines and exit status the model says; `sized` weighs
    /// jobs by their size.
    fn expected(&self, sized: bool) -> (Value, Vec<String>, i32) {
        let n = self.units.len();
        let (mut parts, mut ok, mut errors) = (vec![1u64; n], vec![BTreeSet::new(); n], vec![0; n]);
        let (mut last_error, mut secs) = (vec![String::new(); n], vec![0.0f64; n]);
        let (mut other, mut all_unreadable, mut tasks) = (0, 0, Vec::new());
        for (name, lines) in &self.files {
            let (mut ok_lines, mut error_lines, mut unreadable) = (0, 0, 0);
            for (_, e) in lines {
                let Effect::Result { unit, failed, part, parts: p, secs: s, error } = e else {
                    unreadable += 1;
                    continue;
                };
                if *failed {
                    error_lines += 1
                } else {
                    ok_lines += 1
                }
                let Some(u) = *unit else {
                    other += 1;
                    continue;
                };
                parts[u] = parts[u].max(p.unwrap_or(0));
                secs[u] = secs[u].max(*s);
                if *failed {
                    errors[u] += 1;
                    last_error[u] = error.clone();
                } else {
                    ok[u].insert(part.clone());
                }
            }
            all_unreadable += unreadable;
            tasks.push(serde_json::json!({"file": name, "ok_lines": ok_lines, "error_lines": error_lines, "unreadable_lines": unreadable}));
        }
        let status = |u: usize| match (ok[u].len() as u64 >= parts[u], errors[u] > 0, ok[u].is_empty()) {
            (true, _, _) => "ok",
            (_, true, _) => "failed",
            (_, _, true) => "pending",
            _ => "running",
        };
        let count = |s: &str| (0..n).filter(|&u| status(u) == s).count();
        let weight = |u: usize| if sized { self.units[u].2 } else { 1.0 };
        let (total, done) = (0..n).fold((0.0, 0.0), |(t, d), u| {
            (t + weight(u), if matches!(status(u), "ok" | "failed") { d + weight(u) } else { d })
        });
        let round = |v: f64, f: f64| (v * f).round() / f;
        let mut slowest: Vec<usize> = (0..n).filter(|&u| secs[u] > 0.0).collect();
        slowest.sort_by(|&a, &b| secs[b].total_cmp(&secs[a]).then(self.units[a].0.cmp(&self.units[b].0)));
        let name = |u: usize| self.units[u].0.clone();
        let want = serde_json::json!({
            "jobs": n, "ok": count("ok"), "failed": count("failed"), "running": count("running"), "pending": count("pending"),
            "done_pct": round(100.0 * done / total, 10.0),
            "work_secs": round(secs.iter().sum(), 1000.0),
            "slowest": slowest.iter().take(5).map(|&u| serde_json::json!({"job": name(u), "secs": secs[u]})).collect::<Vec<_>>(),
            "failures": (0..n).filter(|&u| status(u) == "failed").take(20)
                .map(|u| serde_json::json!({"job": name(u), "error": last_error[u]})).collect::<Vec<_>>(),
            "other_lines": other, "duplicate_jobs": self.duplicate_jobs, "tasks": tasks,
            "unreadable_lines": all_unreadable,
        });
        let redo = (0..n).filter(|&u| status(u) != "ok").map(|u| self.units[u].1.clone()).collect();
        let exit = if count("running") + count("pending") > 0 {
            3
        } else if count("failed") > 0 {
            1
        } else {
            0
        };
        (want, redo, exit)
    }

    /// Runs `--once` and `--failed` (job list from the file, then from stdin) against the model.
    fn check(&self, dir: &Path, extra: &[&str], sized: bool) {
        let (want, redo, exit) = self.expected(sized);
        assert!(want["failed"].as_u64() > Some(20) && want["running"].as_u64() > Some(0), "every case: {want}");
        let stdin = self.jobs.join("\n");
        for jobs in ["jobs.ndjson", "-"] {
            let run = |mode: &str| {
                let mut args = vec!["--jobs", jobs, "stage.*.ndjson", mode];
                args.extend_from_slice(extra);
                iwp_tests::run_with(Command::new(bin("iwp-progress")).args(&args).current_dir(dir), Some(&stdin))
            };
            let once = run("--once");
            assert_eq!(once.status.code(), Some(exit), "{jobs}: {}", String::from_utf8_lossy(&once.stderr));
            let s = summary(&once);
            let mut got: serde_json::Map<String, Value> =
                want.as_object().unwrap().keys().map(|k| (k.clone(), s[k].clone())).collect();
            for t in got["tasks"].as_array_mut().unwrap() {
                t.as_object_mut().unwrap().retain(|k, _| !matches!(k.as_str(), "host" | "span_secs"));
            }
            assert_eq!(Value::Object(got), want, "{jobs} {extra:?}");
            let human = String::from_utf8_lossy(&once.stderr);
            for f in want["failures"].as_array().unwrap().iter().take(5) {
                assert!(human.contains(&format!(
                    "  failed: {}: {}\n",
                    f["job"].as_str().unwrap(),
                    f["error"].as_str().unwrap()
                )));
            }
            let failed = run("--failed");
            assert_eq!(failed.status.code(), Some(0));
            assert_eq!(String::from_utf8(failed.stdout).unwrap().lines().collect::<Vec<_>>(), redo, "{jobs} {extra:?}");
        }
    }
}

const MODEL_FILES: [&str; 5] = [
    "stage.host0.0.ndjson",
    "stage.host0.1.ndjson",
    "stage.host1.2.ndjson",
    "stage.host2.3.ndjson",
    "stage.host2.redo.ndjson",
];

/// Jobs keyed by path (input files with sizes), with duplicate and malformed job lines, every
/// case of result lines, against a model of what the summary and --failed must say.
#[test]
fn summary_and_redo_lines_match_a_model_of_the_lines() {
    let dir = tempfile::tempdir().unwrap();
    let mut rand = Rand(23);
    let mut stage = Stage::new(MODEL_FILES);
    let path = |u: usize| format!("in/f{u:04}.shp");
    for i in 0..400 {
        let line = format!(r#"{{"path":"{}","bytes":{}}}"#, path(i), 1000 + rand.below(9000));
        stage.jobs.push(if i % 9 == 4 { format!("  {line} \r") } else { line.clone() });
        stage.units.push((path(i), line, 0.0));
        stage.units[i].2 = serde_json::from_str::<Value>(&stage.units[i].1).unwrap()["bytes"].as_f64().unwrap();
        if i % 50 == 20 {
            stage.jobs.push(format!(r#"{{"path":"{}","bytes":1}}"#, path(i)));
            stage.duplicate_jobs += 1;
        }
    }
    for i in 0..400 {
        stage.results(&mut rand, i, &serde_json::json!({"source": path(i)}));
    }
    // Job lines that are not JSON: an error line names each by number and text, one is redone.
    for (k, text) in ["not json", "[1]", "{\"path\":", "\"text\""].iter().enumerate() {
        let u = stage.bad_job(text);
        let n = stage.jobs.len();
        if k < 3 {
            let v = serde_json::json!({"line": n, "input": text, "status": "error", "error": format!("line {n}: not a job line")});
            stage.files[k].1.push((v.to_string(), effect(Some(u), &v)));
        }
        if k == 2 {
            let v = serde_json::json!({"line": n, "input": text, "status": "ok"});
            stage.files[4].1.push((v.to_string(), effect(Some(u), &v)));
        }
    }
    stage.odd_lines(17, 0, |u| serde_json::json!({"path": path(u)}));
    stage.write(dir.path());
    stage.check(dir.path(), &[], false);
    stage.check(dir.path(), &["--size-field", "bytes"], true);
}

/// A raster level step (--zoom 14 over z15 job tiles) against the same model.
#[test]
fn tiles_at_a_zoom_match_a_model_of_the_lines() {
    let dir = tempfile::tempdir().unwrap();
    let mut rand = Rand(29);
    let mut stage = Stage::new(MODEL_FILES);
    // Each unit's tile at z14 (None for the line that is not JSON).
    let mut tiles: Vec<Option<(u32, u32)>> = Vec::new();
    for x in 0..48u32 {
        for y in 0..24u32 {
            let line = format!(r#"{{"z":15,"x":{x},"y":{y},"path":"g/15/{x}/{y}.tif"}}"#);
            stage.jobs.push(line.clone());
            if !tiles.contains(&Some((x / 2, y / 2))) {
                tiles.push(Some((x / 2, y / 2)));
                stage.units.push((format!("14/{}/{}", x / 2, y / 2), line, 0.0));
            }
        }
        if x == 20 {
            stage.bad_job("{broken");
            tiles.push(None);
        }
    }
    let tile = |u: usize| tiles[u].map(|(x, y)| serde_json::json!({"z": 14, "x": x, "y": y}));
    for u in 0..tiles.len() {
        if let Some(id) = tile(u) {
            stage.results(&mut rand, u, &id);
        }
    }
    stage.odd_lines(17, 0, |u| tile(u).unwrap());
    stage.write(dir.path());
    stage.check(dir.path(), &["--zoom", "14"], false);
}

#[test]
fn slurm_durations() {
    use iwp_core::progress::parse_slurm_duration;
    assert_eq!(parse_slurm_duration("45"), Some(45.0));
    assert_eq!(parse_slurm_duration("12:03"), Some(723.0));
    assert_eq!(parse_slurm_duration("3:00:01"), Some(10801.0));
    assert_eq!(parse_slurm_duration("1-02:00:00"), Some(93600.0));
    assert_eq!(parse_slurm_duration("UNLIMITED"), None);
}

/// Per-tile feature counts of a staged tree, by path relative to it.
fn staged_counts(dir: &Path) -> Vec<(String, u64)> {
    iwp_tests::relative_files(dir, "gpkg")
        .into_iter()
        .map(|rel| {
            let n = iwp_vector::vector::feature_count(&dir.join(&rel)).unwrap();
            (rel, n)
        })
        .collect()
}

#[test]
fn redo_loop_with_iwp_stage() {
    let dir = tempfile::tempdir().unwrap();
    let (d, run_dir) = (dir.path().join("data"), dir.path().join("run"));
    fs::create_dir_all(&run_dir).unwrap();
    let files = iwp_tests::synth(&d, "6000", "6", &[]);
    assert_eq!(files.len(), 6);
    let cfg = d.join("config.json");
    let cfg = cfg.to_str().unwrap();
    let listed = run("iwp-stage", &["-c", cfg, "--list"], None);
    fs::write(run_dir.join("files.ndjson"), &listed.stdout).unwrap();
    let inputs: Vec<String> = lines(&listed.stdout).iter().map(|j| j["path"].as_str().unwrap().to_string()).collect();

    // Two inputs broken; two Slurm-like tasks stage their shares at the same time.
    for p in &inputs[1..3] {
        fs::rename(p, format!("{p}.saved")).unwrap();
        fs::write(p, b"not a shapefile").unwrap();
    }
    let task = |i: usize| {
        Command::new(bin("iwp-stage"))
            .args([
                "-c",
                cfg,
                "--input",
                run_dir.join("files.ndjson").to_str().unwrap(),
                "--shard",
                &format!("{i}/2"),
                "-q",
            ])
            .stdout(fs::File::create(run_dir.join(format!("stage.node{i}.{i}.ndjson"))).unwrap())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut tasks = [task(0), task(1)];
    let codes: Vec<i32> = tasks.iter_mut().map(|t| t.wait().unwrap().code().unwrap()).collect();
    assert!(codes.contains(&1), "a task with a broken input exits 1: {codes:?}");

    let follow = |extra: &[&str]| {
        let mut args = vec!["--jobs", "files.ndjson", "stage.*.ndjson"];
        args.extend_from_slice(extra);
        iwp_tests::run_with(Command::new(bin("iwp-progress")).args(&args).current_dir(&run_dir), None)
    };
    let once = follow(&["--once"]);
    assert_eq!(once.status.code(), Some(1), "complete, with failures");
    let s = summary(&once);
    assert_eq!((s["ok"].as_u64(), s["failed"].as_u64()), (Some(4), Some(2)));
    let redo = follow(&["--failed"]).stdout;
    let redo_paths: Vec<String> = lines(&redo).iter().map(|j| j["path"].as_str().unwrap().to_string()).collect();
    assert_eq!(redo_paths, inputs[1..3]);

    // Inputs mended, only --failed's lines staged again, then --wait says the stage is done.
    for p in &inputs[1..3] {
        fs::rename(format!("{p}.saved"), p).unwrap();
    }
    let again = run("iwp-stage", &["-c", cfg, "-q"], Some(std::str::from_utf8(&redo).unwrap()));
    assert_eq!(again.status.code(), Some(0), "{}", String::from_utf8_lossy(&again.stderr));
    fs::write(run_dir.join("stage.node0.redo.ndjson"), &again.stdout).unwrap();
    let waited = follow(&["--wait", "--timeout", "60", "-q"]);
    assert_eq!(waited.status.code(), Some(0), "{}", String::from_utf8_lossy(&waited.stdout));
    let s = summary(&waited);
    assert_eq!((s["ok"].as_u64(), s["failed"].as_u64()), (Some(6), Some(0)));
    assert!(follow(&["--failed"]).stdout.is_empty(), "nothing left to redo");

    // Nothing lost: the same tiles and rows as staging the intact inputs in one run.
    let clean = tempfile::tempdir().unwrap();
    let cd = clean.path().join("data");
    iwp_tests::synth(&cd, "6000", "6", &[]);
    let ccfg = cd.join("config.json");
    let o = run(
        "iwp-stage",
        &["-c", ccfg.to_str().unwrap(), "-q"],
        Some(std::str::from_utf8(&run("iwp-stage", &["-c", ccfg.to_str().unwrap(), "--list"], None).stdout).unwrap()),
    );
    assert!(o.status.success());
    let (ours, want) = (staged_counts(&d.join("staged")), staged_counts(&cd.join("staged")));
    assert!(!want.is_empty());
    assert_eq!(ours, want);
}

#[test]
fn terminal_view_in_tmux() {
    if !iwp_tests::have("tmux") {
        assert!(std::env::var("IWP_REQUIRE_SLURM").as_deref() != Ok("1"), "tmux missing (make deps installs it)");
        eprintln!("SKIP: tmux not found; terminal view not checked");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let jobs: String = (0..JOBS).map(|i| format!("{{\"path\":\"{}\",\"bytes\":{}}}\n", job_path(i), 100 + i)).collect();
    fs::write(d.join("jobs.ndjson"), jobs).unwrap();
    // Two tasks write half their jobs quickly, then slowly, so the view is caught mid-stage.
    let mut rand = Rand(5);
    let mut writers: Vec<Child> = (0..2)
        .map(|w| {
            let mut lines: Vec<String> = (0..JOBS).filter(|i| i % 2 == w).flat_map(result_lines).collect();
            lines.truncate(lines.len() / 2);
            writer(d, &format!("stage.node{w}.{w}.ndjson"), &lines, None, &mut rand)
        })
        .collect();
    writers.iter_mut().for_each(|w| assert!(w.wait().unwrap().success()));
    let socket = format!("iwp-test-{}", std::process::id());
    let tmux = |args: &[&str]| Command::new("tmux").args(["-L", &socket]).args(args).current_dir(d).output().unwrap();
    let cmd = format!("{} --jobs jobs.ndjson 'stage.*.ndjson' --timeout 30; sleep 30", bin("iwp-progress").display());
    assert!(tmux(&["new-session", "-d", "-s", "view", "-x", "150", "-y", "8", &cmd]).status.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let screen = loop {
        let text = String::from_utf8_lossy(&tmux(&["capture-pane", "-p", "-t", "view"]).stdout).into_owned();
        if text.contains("node1") || Instant::now() > deadline {
            break text;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let _ = tmux(&["kill-server"]);
    eprintln!("terminal view:\n{screen}");
    let _ = fs::write(iwp_tests::root().join("target/iwp-progress-view.txt"), &screen);
    assert!(screen.contains("jobs [") && screen.contains("/120 jobs"), "a bar for the stage:\n{screen}");
    assert!(screen.contains("failed") && screen.contains("eta"), "counts and ETA:\n{screen}");
    assert!(screen.contains("node0") && screen.contains("node1"), "a line per task:\n{screen}");
}
