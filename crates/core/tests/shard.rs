use iwp_core::jobs::{parse_line, Job};
use iwp_core::shard::{balance, Shard};
use std::collections::HashMap;

fn jobs(lines: &[&str]) -> Vec<Job> {
    lines.iter().enumerate().map(|(i, l)| parse_line(i + 1, l).unwrap().unwrap()).collect()
}

#[test]
fn parses_specs() {
    assert_eq!("0/1".parse::<Shard>().unwrap(), Shard::All);
    assert_eq!("2/4".parse::<Shard>().unwrap(), Shard::Part { index: 2, count: 4 });
    for bad in ["4/4", "1/0", "x/2", "3", "-1/2"] {
        assert!(bad.parse::<Shard>().is_err(), "{bad}");
    }
}

#[test]
fn reads_slurm_environment() {
    let env = |vars: &'static [(&'static str, &'static str)]| {
        let map: HashMap<_, _> = vars.iter().cloned().collect();
        Shard::from_env(move |k| map.get(k).map(|v| v.to_string()))
    };
    assert_eq!(env(&[]).unwrap(), Shard::All);
    assert_eq!(env(&[("SLURM_PROCID", "1"), ("SLURM_NTASKS", "3")]).unwrap(), Shard::Part { index: 1, count: 3 });
    let array = &[("SLURM_ARRAY_TASK_ID", "5"), ("SLURM_ARRAY_TASK_COUNT", "4"), ("SLURM_ARRAY_TASK_MIN", "3")];
    assert_eq!(env(array).unwrap(), Shard::Part { index: 2, count: 4 });
    assert!(env(&[("SLURM_PROCID", "x"), ("SLURM_NTASKS", "3")]).is_err());
    assert!(env(&[("SLURM_PROCID", "3"), ("SLURM_NTASKS", "3")]).is_err());
}

#[test]
fn shares_are_disjoint_complete_and_ordered() {
    let lines: Vec<String> = (0..101).map(|i| format!(r#"{{"id":{i}}}"#)).collect();
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let mut seen = Vec::new();
    for i in 0..4 {
        let mine = Shard::Part { index: i, count: 4 }.select(jobs(&refs), "bytes");
        assert!(mine.windows(2).all(|w| w[0].line < w[1].line), "input order kept");
        assert!((25..=26).contains(&mine.len()));
        seen.extend(mine.iter().map(|j| j.line));
    }
    seen.sort();
    assert_eq!(seen, (1..=101).collect::<Vec<_>>());
}

#[test]
fn balances_by_size() {
    let sizes = [100.0, 1.0, 1.0, 50.0, 50.0, 1.0, 1.0];
    let owner = balance(&sizes, 2);
    let load = |s: usize| -> f64 { sizes.iter().zip(&owner).filter(|(_, o)| **o == s).map(|(v, _)| v).sum() };
    assert_eq!(load(0), 102.0);
    assert_eq!(load(1), 102.0);
    // Deterministic: the same input gives the same split.
    assert_eq!(owner, balance(&sizes, 2));

    let lines = [r#"{"bytes":900}"#, r#"{"bytes":10}"#, r#"{"bytes":10}"#, r#"{"bytes":880}"#];
    let a = Shard::Part { index: 0, count: 2 }.select(jobs(&lines), "bytes");
    let b = Shard::Part { index: 1, count: 2 }.select(jobs(&lines), "bytes");
    let total = |js: &[Job]| js.iter().map(|j| j.num("bytes").unwrap()).sum::<f64>();
    assert_eq!((total(&a), total(&b)), (900.0, 900.0));
}
