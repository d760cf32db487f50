//! `History::plot`: a PNG with the training and validation curves of each quantity, text
//! drawn with the embedded font; errors, not panics, for an empty history or a bad path.
use keras::History;
use std::collections::BTreeMap;

fn history() -> History {
    let mut history = BTreeMap::new();
    history.insert("loss".to_string(), vec![0.9, 0.6, 0.45, 0.4]);
    history.insert("val_loss".to_string(), vec![1.0, 0.7, 0.6, 0.62]);
    history.insert("accuracy".to_string(), vec![0.5, 0.7, 0.8, 0.85]);
    history.insert("val_accuracy".to_string(), vec![0.45, 0.65, 0.7, 0.7]);
    History { epochs: vec![0, 1, 2, 3], history }
}

fn dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("lol_plot_{}_{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn plot_draws_both_curves_of_each_quantity_with_text() {
    let path = dir("ok").join("history.png");
    history().plot(&path).unwrap();
    let img = image::open(&path).unwrap().to_rgb8();
    // Two quantities (loss, accuracy): two panels side by side.
    let (pw, ph) = History::PLOT_PANEL_SIZE;
    assert_eq!(img.dimensions(), (2 * pw, ph));
    let count = |c: (u8, u8, u8)| img.pixels().filter(|p| p.0 == [c.0, c.1, c.2]).count();
    let count_in = |c: (u8, u8, u8), x0: u32, x1: u32| {
        img.enumerate_pixels().filter(|(x, _, p)| (x0..x1).contains(x) && p.0 == [c.0, c.1, c.2]).count()
    };
    for (name, c) in [("train", History::PLOT_TRAIN_COLOR), ("val", History::PLOT_VAL_COLOR)] {
        // Each colour's curve (and legend line) in each panel.
        assert!(count_in(c, 0, pw) > 100, "{name} curve missing from the loss panel");
        assert!(count_in(c, pw, 2 * pw) > 100, "{name} curve missing from the accuracy panel");
    }
    // Text: anti-aliased grey pixels (neither background, curve colour nor pure black).
    let grey = img.pixels().filter(|p| p.0[0] == p.0[1] && p.0[1] == p.0[2] && (30..220).contains(&p.0[0])).count();
    assert!(grey > 500, "only {grey} grey text pixels");
    assert!(count((255, 255, 255)) > img.pixels().len() / 2, "the background is not white");
    // No temporary file is left next to the PNG.
    let left: Vec<_> = std::fs::read_dir(path.parent().unwrap()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left, ["history.png"]);
}

#[test]
fn one_epoch_and_a_lone_val_key_still_plot() {
    let mut history = BTreeMap::new();
    history.insert("loss".to_string(), vec![0.5]);
    history.insert("val_mae".to_string(), vec![f64::NAN]);
    let path = dir("one").join("one.png");
    History { epochs: vec![0], history }.plot(&path).unwrap();
    let img = image::open(&path).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (2 * History::PLOT_PANEL_SIZE.0, History::PLOT_PANEL_SIZE.1));
    let c = History::PLOT_TRAIN_COLOR;
    let marker = img.enumerate_pixels().filter(|(x, y, p)| p.0 == [c.0, c.1, c.2] && *x < 400 && *y > 40).count();
    assert!(marker > 5, "the single epoch's point is not drawn ({marker} pixels)");
}

#[test]
fn empty_history_and_missing_directory_are_errors_naming_the_method_and_path() {
    let path = dir("err").join("empty.png");
    let msg = History::default().plot(&path).unwrap_err().to_string();
    assert!(msg.starts_with("History::plot: ") && msg.contains(&path.display().to_string()), "{msg}");
    assert!(!path.exists());
    let missing = dir("err").join("no_such_dir").join("h.png");
    let msg = history().plot(&missing).unwrap_err().to_string();
    assert!(msg.starts_with("History::plot: ") && msg.contains(&missing.display().to_string()), "{msg}");
}
