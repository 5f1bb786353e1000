//! The final summary of a stage: one NDJSON line for scripts (counts, rate, task files, hosts,
//! node-hours, the slowest jobs, the first failures) and a few lines for people.

use super::state::{duration, round, State};
use super::{hosts, node_hours, Follower, Progress};
use serde_json::{json, Value};

/// The final summary line: the status line's fields, `"summary":true`, the task files and hosts,
/// node-hours, the slowest jobs (key, seconds) and the first failures (key, error message).
pub fn summary(
    s: &State,
    p: &Progress,
    followers: &[Follower],
    slowest: &[(String, f64)],
    failures: &[(String, String)],
) -> Value {
    let mut m = s.line();
    m.insert("summary".into(), true.into());
    m.insert("work_secs".into(), round(p.work_secs(), 3).into());
    m.insert("node_hours".into(), round(node_hours(followers), 4).into());
    m.insert(
        "tasks".into(),
        followers
            .iter()
            .map(|f| {
                json!({"file": f.path.display().to_string(), "host": f.host(), "ok_lines": f.ok_lines,
                       "error_lines": f.error_lines, "unreadable_lines": f.unreadable, "span_secs": round(f.span_secs(), 1)})
            })
            .collect::<Vec<_>>()
            .into(),
    );
    m.insert("hosts".into(), serde_json::to_value(hosts(followers)).unwrap_or_default());
    m.insert(
        "slowest".into(),
        slowest.iter().map(|(k, secs)| json!({"job": k, "secs": secs})).collect::<Vec<_>>().into(),
    );
    m.insert("failures".into(), failures.iter().map(|(k, e)| json!({"job": k, "error": e})).collect::<Vec<_>>().into());
    m.insert("other_lines".into(), p.other_lines.into());
    m.insert("unreadable_lines".into(), followers.iter().map(|f| f.unreadable).sum::<usize>().into());
    m.insert("duplicate_jobs".into(), p.duplicate_jobs.into());
    Value::Object(m)
}

/// The summary for people (for stderr): counts, time, rate, task files and hosts, node-hours,
/// then the 3 slowest jobs and the first 5 failures.
pub fn human_summary(
    s: &State,
    followers: &[Follower],
    slowest: &[(String, f64)],
    failures: &[(String, String)],
) -> String {
    let c = &s.counts;
    let hosts = hosts(followers);
    let mut out = format!(
        "{}: {} jobs: {} ok, {} failed, {} running, {} pending; {} elapsed, {:.2} jobs/s; {} task files on {} hosts, ~{:.3} node-hours\n",
        s.name,
        c.jobs,
        c.ok,
        c.failed,
        c.running,
        c.pending,
        duration(s.elapsed),
        s.rate,
        followers.len(),
        hosts.len(),
        node_hours(followers)
    );
    for (k, secs) in slowest.iter().take(3) {
        out += &format!("  slow: {k} {secs:.2} s\n");
    }
    for (k, e) in failures.iter().take(5) {
        out += &format!("  failed: {k}: {e}\n");
    }
    if c.failed > 5 {
        out += &format!("  ... {} more failed (--failed lists every job to redo)\n", c.failed - 5);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::{Counts, Weight};
    use std::io::Cursor;
    use std::path::Path;

    fn slowest() -> Vec<(String, f64)> {
        ["a", "b", "c", "d"].iter().zip([9.0, 4.5, 1.25, 1.0]).map(|(k, s)| (k.to_string(), s)).collect()
    }

    fn failures(n: usize) -> Vec<(String, String)> {
        (0..n).map(|i| (format!("in/{i}.shp"), format!("cannot read in/{i}.shp"))).collect()
    }

    #[test]
    fn the_summary_for_people() {
        let counts = Counts { jobs: 20, ok: 10, failed: 7, running: 1, pending: 2, weight: 20.0, done_weight: 17.0 };
        let s = State::new("stage", counts, 754.0, None);
        let text = human_summary(&s, &[], &slowest(), &failures(7));
        let want = "stage: 20 jobs: 10 ok, 7 failed, 1 running, 2 pending; 12m34s elapsed, 0.02 jobs/s; \
                    0 task files on 0 hosts, ~0.000 node-hours\n  slow: a 9.00 s\n  slow: b 4.50 s\n  slow: c 1.25 s\n\
                    \x20 failed: in/0.shp: cannot read in/0.shp\n  failed: in/1.shp: cannot read in/1.shp\n\
                    \x20 failed: in/2.shp: cannot read in/2.shp\n  failed: in/3.shp: cannot read in/3.shp\n\
                    \x20 failed: in/4.shp: cannot read in/4.shp\n  ... 2 more failed (--failed lists every job to redo)\n";
        assert_eq!(text, want, "no task files: 0.000 node-hours, not -0.000");
        // Five failures or fewer: no "more" line; nothing slow, nothing failed: one line.
        let counts = Counts { jobs: 5, ok: 0, failed: 5, ..counts };
        assert!(!human_summary(&State::new("s", counts, 1.0, None), &[], &[], &failures(5)).contains("more failed"));
        assert_eq!(human_summary(&State::new("s", Counts::default(), 0.0, None), &[], &[], &[]).lines().count(), 1);
    }

    #[test]
    fn the_summary_line() {
        let jobs = "{\"path\":\"a\"}\n{\"path\":\"a\"}\n{\"path\":\"b\"}\n";
        let mut p = Progress::from_reader(Cursor::new(jobs.as_bytes().to_vec()), None, &Weight::Auto).unwrap();
        for (i, l) in [r#"{"path":"a","status":"ok","secs":1.5}"#, r#"{"path":"zz","status":"ok"}"#].iter().enumerate()
        {
            let (r, object) = crate::progress::parse_result(l).unwrap();
            p.add_result(&r, object, crate::progress::LineRef { file: 0, offset: i as u64 });
        }
        let followers = [Follower::new(Path::new("run/stage.h1.0.ndjson"))];
        let s = State::new("stage", p.counts(), 10.0, None);
        let line = summary(&s, &p, &followers, &slowest()[..1], &failures(1));
        let want = json!({"stage":"stage","jobs":2,"ok":1,"failed":0,"running":0,"pending":1,"done_pct":50.0,
            "elapsed_secs":10.0,"jobs_per_sec":0.1,"eta_secs":10.0,"summary":true,"work_secs":1.5,"node_hours":0.0,
            "tasks":[{"file":"run/stage.h1.0.ndjson","host":"h1","ok_lines":0,"error_lines":0,"unreadable_lines":0,"span_secs":0.0}],
            "hosts":[{"host":"h1","task_files":1,"ok_lines":0,"error_lines":0,"span_secs":0.0}],
            "slowest":[{"job":"a","secs":9.0}],"failures":[{"job":"in/0.shp","error":"cannot read in/0.shp"}],
            "other_lines":1,"unreadable_lines":0,"duplicate_jobs":1});
        assert_eq!(line, want);
        let keys: Vec<&String> = line.as_object().unwrap().keys().collect();
        assert_eq!(keys, want.as_object().unwrap().keys().collect::<Vec<_>>(), "in this order");

        // No jobs, no task files: sums are 0.0, not -0.0.
        let p = Progress::from_reader(Cursor::new(Vec::new()), None, &Weight::Auto).unwrap();
        let text = summary(&State::new("s", p.counts(), 0.0, None), &p, &[], &[], &[]).to_string();
        assert!(text.contains(r#""work_secs":0.0,"node_hours":0.0,"#), "{text}");
    }
}
