use iwp_core::hostlist::expand;

fn names(list: &str) -> Vec<String> {
    expand(list).unwrap_or_else(|e| panic!("{list}: {e}"))
}

#[test]
fn expands_ranges_lists_and_padding() {
    assert_eq!(names("gpub[059-061,070]"), ["gpub059", "gpub060", "gpub061", "gpub070"]);
    assert_eq!(names("cn[1-3],gpub07"), ["cn1", "cn2", "cn3", "gpub07"]);
    assert_eq!(names("a[1-2]b[3-4]"), ["a1b3", "a1b4", "a2b3", "a2b4"]);
    let three = ["a1b1c1", "a1b1c2", "a2b1c1", "a2b1c2", "a1b2c1", "a1b2c2", "a2b2c1", "a2b2c2"];
    assert_eq!(names("a[1-2]b[1-2]c[1-2]"), three);
    assert_eq!(names("a[8-010]"), ["a8", "a9", "a10"]);
    assert_eq!(names("a[01-3]"), ["a01", "a02", "a03"]);
    assert_eq!(names("single"), ["single"]);
    assert_eq!(names("a[1-3],a2"), ["a1", "a2", "a3", "a2"]);
}

#[test]
fn rejects_malformed_lists_with_the_reason() {
    for (list, why) in [
        ("gpub[059-", "never closed"),
        ("a[3-1]", "backwards"),
        ("a[x]", "not a number"),
        ("a[1-2", "never closed"),
        ("a]", "without `[`"),
        ("a[[1]]", "nested"),
        ("a[]", "not a number"),
        ("", "no host names"),
        ("a[0-99999999]", "more than"),
    ] {
        let err = expand(list).expect_err(list).to_string();
        assert!(err.contains(why) && err.contains(list), "{list}: {err}");
    }
}
