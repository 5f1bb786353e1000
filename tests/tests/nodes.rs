//! iwp-nodes against Slurm's own `scontrol show hostnames`, plus its job lines and errors.

use iwp_tests::{have, lines, run, run_with};
use std::process::Command;

/// Valid hostlists; each must expand exactly as scontrol does.
const LISTS: &[&str] = &[
    "gpub[059-061,070]",
    "cn[1-3],gpub07",
    "a[1-2]b[3-4]",
    "a[1-2]b[1-2]c[1-2]",
    "a[1-3]b[1-2]c[1-2]d[0-1]",
    "rack[1-2]-node[01-03]",
    "a[8-010]",
    "a[01-3]",
    "node1",
    "login01,login02",
    "n[1-10]",
    "n[001-012]",
    "gpu[1,3,5-7]",
    "c[1-2],d[3-4],e5",
    "x[0-0]",
    "a[1-3],a2",
    "m[1-2],m[1-2]",
    "h[9-11]",
    "cn[0998-1002]",
    "big[1-100]",
    "cpu-[1-4]",
    "gpub[059-061,070],cn[1-2]",
    "[1-2]",
    "a,,b",
    "dt-login[01-03,10]",
];

fn ours(list: &str) -> Vec<String> {
    let out = run("iwp-nodes", &[list], None);
    assert!(out.status.success(), "{list}: {}", String::from_utf8_lossy(&out.stderr));
    lines(&out.stdout).iter().map(|v| v["node"].as_str().unwrap().to_string()).collect()
}

#[test]
fn agrees_with_scontrol_show_hostnames() {
    if !have("scontrol") {
        if std::env::var("IWP_REQUIRE_SLURM").as_deref() == Ok("1") {
            panic!("scontrol not found and IWP_REQUIRE_SLURM=1");
        }
        eprintln!("SKIP: scontrol not installed; hostlist agreement not checked");
        return;
    }
    // scontrol needs a slurm.conf to start, though expanding a hostlist asks no daemon.
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("slurm.conf");
    std::fs::write(&conf, "ClusterName=t\nSlurmctldHost=localhost\nNodeName=localhost CPUs=1\nPartitionName=p Nodes=localhost\nAuthType=auth/none\nCredType=cred/none\n").unwrap();
    for list in LISTS {
        let out = run_with(Command::new("scontrol").env("SLURM_CONF", &conf).args(["show", "hostnames", list]), None);
        let theirs: Vec<String> = String::from_utf8_lossy(&out.stdout).lines().map(String::from).collect();
        assert!(
            out.status.success() && !theirs.is_empty(),
            "scontrol failed on {list}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(ours(list), theirs, "{list}");
    }
    assert!(LISTS.len() >= 20);
}

#[test]
fn lines_flag_the_head_and_number_the_nodes() {
    let out = run("iwp-nodes", &["gpub[059-061,070]"], None);
    let v = lines(&out.stdout);
    assert_eq!(v.len(), 4);
    assert_eq!(v[0]["node"], "gpub059");
    assert_eq!(v[0]["head"], true);
    assert_eq!(v[3]["index"], 3);
    assert_eq!(v[3]["head"], false);
}

#[test]
fn reads_slurm_job_nodelist_prints_head_and_writes_nodes_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("nodes_array.txt");
    let out = run_with(
        Command::new(iwp_tests::bin("iwp-nodes")).env("SLURM_JOB_NODELIST", "cn[07-09]").args([
            "--head",
            "--nodes-file",
            file.to_str().unwrap(),
        ]),
        None,
    );
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "cn07\n");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "cn07\ncn08\ncn09\n");
}

#[test]
fn rejects_malformed_lists_with_exit_2() {
    for (list, why) in [("gpub[059-", "never closed"), ("a[3-1]", "backwards"), ("a[1-x]", "not a number")] {
        let out = run("iwp-nodes", &[list], None);
        assert_eq!(out.status.code(), Some(2), "{list}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(list) && err.contains(why), "{err}");
        assert!(out.stdout.is_empty());
    }
    let out = run_with(Command::new(iwp_tests::bin("iwp-nodes")).env_remove("SLURM_JOB_NODELIST"), None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("SLURM_JOB_NODELIST"));
}
