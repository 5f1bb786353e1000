//! Slurm hostlists: `gpub[059-061,070]`, `cn[1-3],gpub07`, `a[1-2]b[3-4]`.
//!
//! Items are separated by commas outside brackets. A bracket holds comma-separated numbers or
//! ranges `lo-hi`; numbers are zero-padded to the width of `lo` as written. Several brackets in
//! one name expand as a product in Slurm's order (the last varies fastest). Order and repeats are kept, as
//! `scontrol show hostnames` does.

use thiserror::Error;

/// The most hosts one expression may expand to.
pub const MAX_HOSTS: usize = 1_000_000;

/// A malformed hostlist.
#[derive(Debug, Error, PartialEq)]
#[error("invalid hostlist `{list}`: {why}")]
pub struct HostlistError {
    /// The hostlist as given.
    pub list: String,
    /// What is wrong with it.
    pub why: String,
}

/// Expands a hostlist expression into host names.
///
/// ```
/// use iwp_core::hostlist::expand;
/// assert_eq!(expand("gpub[059-061,070]").unwrap(), ["gpub059", "gpub060", "gpub061", "gpub070"]);
/// assert_eq!(expand("a[1-2]b[3-4]").unwrap(), ["a1b3", "a1b4", "a2b3", "a2b4"]);
/// assert!(expand("gpub[3-1]").is_err());
/// ```
pub fn expand(list: &str) -> Result<Vec<String>, HostlistError> {
    let err = |why: String| HostlistError { list: list.to_string(), why };
    let mut hosts = Vec::new();
    for item in split_items(list).map_err(err)? {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        let names = expand_item(item).map_err(|why| err(format!("in `{item}`: {why}")))?;
        hosts.extend(names);
        if hosts.len() > MAX_HOSTS {
            return Err(err(format!("expands to more than {MAX_HOSTS} hosts")));
        }
    }
    if hosts.is_empty() {
        return Err(err("no host names".into()));
    }
    Ok(hosts)
}

/// Splits on commas that are outside brackets.
fn split_items(list: &str) -> Result<Vec<&str>, String> {
    let mut items = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, c) in list.char_indices() {
        match c {
            '[' if depth > 0 => return Err(format!("nested `[` at position {i}")),
            '[' => depth += 1,
            ']' if depth == 0 => return Err(format!("`]` without `[` at position {i}")),
            ']' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&list[start..i]);
                start = i + 1;
            }
            c if c.is_whitespace() => return Err(format!("white space at position {i}")),
            _ => {}
        }
    }
    if depth != 0 {
        return Err("`[` is never closed".into());
    }
    items.push(&list[start..]);
    Ok(items)
}

/// Expands one name with zero or more bracket groups, in Slurm's order: the last group varies
/// fastest, then the others with the first varying fastest among them.
fn expand_item(item: &str) -> Result<Vec<String>, String> {
    let mut literals = Vec::new();
    let mut groups: Vec<Vec<String>> = Vec::new();
    let mut rest = item;
    while let Some(open) = rest.find('[') {
        let close = rest[open..].find(']').ok_or("`[` is never closed")? + open;
        literals.push(&rest[..open]);
        groups.push(expand_ranges(&rest[open + 1..close])?);
        rest = &rest[close + 1..];
    }
    let total = groups.iter().try_fold(1usize, |n, g| n.checked_mul(g.len()).filter(|&n| n <= MAX_HOSTS));
    let total = total.ok_or(format!("expands to more than {MAX_HOSTS} hosts"))?;
    let Some((last, others)) = groups.split_last() else { return Ok(vec![item.to_string()]) };
    let mut names = Vec::with_capacity(total);
    for k in 0..total / last.len() {
        let mut prefix = String::new();
        let mut rem = k;
        for (lit, group) in literals.iter().zip(others) {
            prefix.push_str(lit);
            prefix.push_str(&group[rem % group.len()]);
            rem /= group.len();
        }
        prefix.push_str(literals[others.len()]);
        names.extend(last.iter().map(|v| format!("{prefix}{v}{rest}")));
    }
    Ok(names)
}

/// Expands the inside of one bracket: `059-061,070`.
fn expand_ranges(inner: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for part in inner.split(',') {
        let (lo, hi) = part.split_once('-').unwrap_or((part, part));
        let number = |s: &str| -> Result<u64, String> {
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!("`{part}` is not a number or a range lo-hi"));
            }
            s.parse().map_err(|_| format!("`{s}` is too large"))
        };
        let (a, b) = (number(lo)?, number(hi)?);
        if b < a {
            return Err(format!("range `{part}` runs backwards"));
        }
        if (b - a) as usize >= MAX_HOSTS {
            return Err(format!("range `{part}` has more than {MAX_HOSTS} numbers"));
        }
        let width = lo.len();
        out.extend((a..=b).map(|v| format!("{v:0width$}")));
    }
    Ok(out)
}

/// One job line per node, in order; the first node is the head.
pub fn node_lines(nodes: &[String]) -> impl Iterator<Item = crate::lines::Node> + '_ {
    nodes.iter().enumerate().map(|(index, node)| crate::lines::Node { node: node.clone(), index, head: index == 0 })
}
