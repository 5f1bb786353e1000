//! Palettes equal the reference's tables (golden/palettes.json, made with coloraide 0.18.1)
//! within 1 per channel, for every palette there: hex with and without alpha, rgb() with
//! `/ alpha`, lch(), named colours.

use iwp_tests::golden;
use iwp_web::palette::Palette;

#[test]
fn palettes_match_the_reference_tables() {
    let Some(g) = golden() else { return };
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(g.join("palettes.json")).unwrap()).unwrap();
    let mut report = Vec::new();
    for (name, p) in json["palettes"].as_object().unwrap() {
        let colours: Vec<String> =
            p["colors"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_string()).collect();
        let ours = Palette::from_css(&colours, p["nodata_color"].as_str().unwrap()).unwrap();
        let theirs: Vec<Vec<i64>> = p["rgba"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e.as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect())
            .collect();
        assert_eq!(theirs.len(), 257);
        let (mut worst, mut at) = (0, 0);
        for (i, (a, b)) in ours.rgba.iter().zip(&theirs).enumerate() {
            let d = (0..4).map(|k| (i64::from(a[k]) - b[k]).abs()).max().unwrap();
            if d > worst {
                (worst, at) = (d, i);
            }
        }
        report.push(format!("{name}: worst {worst} at {at} ({:?} vs {:?})", ours.rgba[at], theirs[at]));
    }
    println!("{}", report.join("\n"));
    // The acceptance allows 1 per channel; every table is reproduced exactly, so hold that.
    assert!(report.iter().all(|r| r.contains("worst 0 ")), "{report:#?}");
}

#[test]
fn every_colour_syntax_gives_its_known_rgba() {
    // One-colour palettes: every index is the colour itself.
    for (css, rgba) in [
        ("#f00", [255, 0, 0, 255]),
        // 0x88 = 0.53333 after 5-digit rounding, x255 = 135.999, truncated as the reference does.
        ("#0f08", [0, 255, 0, 135]),
        ("#336699", [51, 102, 153, 255]),
        ("#66339952", [102, 51, 153, 82]),
        ("rgb(255, 128, 0)", [255, 128, 0, 255]),
        ("rgba(255, 0, 0, 0.5)", [255, 0, 0, 127]),
        ("rgb(102 51 153 / 0.1)", [102, 51, 153, 25]),
        ("hsl(120 100% 50%)", [0, 255, 0, 255]),
        ("hsl(240, 100%, 50%)", [0, 0, 255, 255]),
        ("lch(50% 0 0)", [119, 119, 119, 255]),
        ("rebeccapurple", [102, 51, 153, 255]),
        ("white", [255, 255, 255, 255]),
    ] {
        let p = Palette::from_css(&[css.to_string()], "#ffffff00").unwrap();
        assert_eq!(p.rgba[0], rgba, "{css}");
        assert_eq!(p.rgba[255], rgba, "{css}");
        assert_eq!(p.rgba[256], [255, 255, 255, 0], "nodata");
    }
    assert!(Palette::from_css(&["notacolour".into()], "#fff").is_err());
    assert!(Palette::from_css(&[], "#fff").is_err());
}

#[test]
fn named_colormaps_give_their_tables() {
    use iwp_core::config::PaletteSpec;
    // As a config writes it: one string, a colormap's name or a colour.
    let spec = |n: &str| serde_json::from_value::<PaletteSpec>(n.into()).unwrap();
    let named = |n: &str| Palette::of(&spec(n), "#ffffff00").unwrap();
    let viridis = named("viridis");
    assert_eq!(viridis.rgba[0], [68, 1, 84, 255]);
    assert_eq!(viridis.rgba[255], [253, 231, 37, 255]);
    assert_eq!(named("Magma").rgba[0], [0, 0, 4, 255]);
    let gray = named("gray");
    assert!((0..256).all(|i| gray.rgba[i] == [i as u8, i as u8, i as u8, 255]));
    let greys = named("greys");
    assert!(greys.rgba[0][0] > 240 && greys.rgba[255][0] < 10, "white to black");
    assert_eq!(viridis.rgba[256], [255, 255, 255, 0], "nodata");
    // A single string that is a colour is a one-colour palette; anything else is an error.
    assert_eq!(named("red").rgba[100], [255, 0, 0, 255]);
    assert!(Palette::of(&spec("no-such-map"), "#fff").is_err());
}
