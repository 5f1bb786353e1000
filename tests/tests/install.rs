//! `make install`: every tool, its man page and its bash, zsh and fish completions, generated from
//! the tool's own argument definitions; `--version` names the commit the tools were built from.

use iwp_tests::{bin, have, run};
use std::path::Path;
use std::process::Command;

const TOOLS: &[&str] = &[
    "iwp-stage",
    "iwp-merge",
    "iwp-raster",
    "iwp-webtile",
    "iwp-3dtiles",
    "iwp-pack",
    "iwp-progress",
    "iwp-nodes",
    "iwp-synth",
    "iwp-extract",
    "iwp-mosaic",
    "iwp-catalog",
];

/// The long options a tool's `--help` lists.
fn long_options(tool: &str) -> Vec<String> {
    let help = String::from_utf8(run(tool, &["--help"], None).stdout).unwrap();
    let mut opts: Vec<String> = help
        .split(|c: char| c.is_whitespace() || c == ',' || c == '[' || c == ']' || c == '<' || c == '=')
        .filter(|w| w.starts_with("--") && w.len() > 2 && w[2..].chars().all(|c| c.is_ascii_lowercase() || c == '-'))
        .map(String::from)
        .collect();
    opts.sort();
    opts.dedup();
    opts
}

#[test]
fn make_install_puts_tools_man_pages_and_completions_under_the_prefix() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let prefix = tempfile::tempdir().unwrap();
    // CARGO=true: the tools are built already (by `make test`), install only copies and generates.
    let out = Command::new("make")
        .current_dir(root)
        .args(["-s", "install", &format!("PREFIX={}", prefix.path().display()), "CARGO=true"])
        .output()
        .unwrap();
    assert!(out.status.success(), "make install: {}", String::from_utf8_lossy(&out.stderr));
    let share = prefix.path().join("share");
    for tool in TOOLS {
        let installed = prefix.path().join("bin").join(tool);
        assert_eq!(std::fs::read(&installed).unwrap(), std::fs::read(bin(tool)).unwrap(), "{tool}: the built binary");

        // The man page: a section-1 page listing every long option of --help (roff escapes `-`).
        let man = std::fs::read_to_string(share.join(format!("man/man1/{tool}.1"))).unwrap();
        assert!(man.contains(&format!(".TH {tool} 1")), "{tool}: man header");
        let plain = man.replace("\\-", "-");
        let opts = long_options(tool);
        assert!(opts.iter().any(|o| o == "--help") && opts.len() >= 3, "{tool}: options read from --help: {opts:?}");
        for o in &opts {
            assert!(plain.contains(o.as_str()), "{tool}: man page lacks {o}");
        }

        // bash: sourcing registers a completion that completes an option from a prefix.
        let bash = share.join(format!("bash-completion/completions/{tool}"));
        let script = format!(
            "source '{}' && f=$(complete -p {tool} | sed -E 's/.* -F ([^ ]+) .*/\\1/') && \
             COMP_WORDS=({tool} --hel) && COMP_CWORD=1 && COMP_LINE='{tool} --hel' && COMP_POINT=${{#COMP_LINE}} && \
             $f {tool} --hel {tool} && printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            bash.display()
        );
        let out = Command::new("bash").args(["-c", &script]).output().unwrap();
        let words = String::from_utf8_lossy(&out.stdout);
        assert!(
            words.lines().any(|w| w == "--help"),
            "{tool}: bash completes --hel to --help: {words:?} {}",
            String::from_utf8_lossy(&out.stderr)
        );

        for (shell, file) in
            [("zsh", format!("zsh/site-functions/_{tool}")), ("fish", format!("fish/vendor_completions.d/{tool}.fish"))]
        {
            let text = std::fs::read_to_string(share.join(&file)).unwrap();
            assert!(text.contains(tool) && text.contains("help"), "{tool}: {shell} completion");
            if have(shell) {
                let check = Command::new(shell).args(["-n", share.join(&file).to_str().unwrap()]).output().unwrap();
                assert!(check.status.success(), "{tool}: {shell} -n: {}", String::from_utf8_lossy(&check.stderr));
            }
        }
    }
}

#[test]
fn version_names_the_commit() {
    let commit = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    for tool in TOOLS {
        let out = run(tool, &["--version"], None);
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(text.trim(), format!("{tool} {}", iwp_version::VERSION), "{tool}");
        match &commit {
            Some(c) => assert!(text.contains(&format!("(commit {c})")), "{tool}: {text} names HEAD {c}"),
            None => eprintln!("SKIP commit check: not a git checkout"),
        }
    }
}
