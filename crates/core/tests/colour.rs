use iwp_core::colour::{parse, Colour, Space};

fn close(a: &Colour, space: Space, coords: [f64; 3], alpha: f64) {
    assert_eq!(a.space, space, "{a:?}");
    for (x, y) in a.coords.iter().zip(coords) {
        assert!((x - y).abs() < 1e-12, "{a:?} vs {coords:?}");
    }
    assert!((a.alpha - alpha).abs() < 1e-12, "{a:?}");
}

#[test]
fn parses_every_syntax_the_configs_use() {
    close(
        &parse("#66339952").unwrap(),
        Space::Srgb,
        [0x66 as f64 / 255.0, 0x33 as f64 / 255.0, 0x99 as f64 / 255.0],
        0x52 as f64 / 255.0,
    );
    close(&parse("#FFF").unwrap(), Space::Srgb, [1.0, 1.0, 1.0], 1.0);
    close(&parse("#ffffff00").unwrap(), Space::Srgb, [1.0, 1.0, 1.0], 0.0);
    close(&parse("rgb(102 51 153 / 0.1)").unwrap(), Space::Srgb, [0.4, 0.2, 0.6], 0.1);
    close(&parse("rgba(102, 51, 153, 0.5)").unwrap(), Space::Srgb, [0.4, 0.2, 0.6], 0.5);
    close(&parse("rgb(100% 0% 50% / 25%)").unwrap(), Space::Srgb, [1.0, 0.0, 0.5], 0.25);
    close(&parse("lch(85% 100 85)").unwrap(), Space::Lch, [85.0, 100.0, 85.0], 1.0);
    close(&parse("lab(50 20 -30)").unwrap(), Space::Lab, [50.0, 20.0, -30.0], 1.0);
    close(&parse("hsl(120 100% 50%)").unwrap(), Space::Srgb, [0.0, 1.0, 0.0], 1.0);
    close(&parse("hsla(240, 100%, 50%, 0.5)").unwrap(), Space::Srgb, [0.0, 0.0, 1.0], 0.5);
    close(&parse("red").unwrap(), Space::Srgb, [1.0, 0.0, 0.0], 1.0);
    close(&parse("RebeccaPurple").unwrap(), Space::Srgb, [0.4, 0.2, 0.6], 1.0);
    close(&parse("transparent").unwrap(), Space::Srgb, [0.0, 0.0, 0.0], 0.0);
}

#[test]
fn rejects_what_is_not_a_colour() {
    for bad in ["#12345", "#ggg", "rgb(1 2)", "rgb(1 2 3", "blurple", "rgb(1 2 3 / 2)", "foo(1 2 3)", ""] {
        let e = parse(bad).expect_err(bad);
        assert!(e.to_string().contains(bad), "{e}");
    }
}
