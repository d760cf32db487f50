//! `History::plot`: training curves as a PNG, one panel per quantity.

use crate::logs::History;
use lolcore::safetensors::write_atomically;
use lolcore::{Error, Result};
use plotters::prelude::*;
use std::path::Path;
use std::sync::OnceLock;

/// DejaVu Sans (Bitstream Vera license, `keras/assets/DejaVuSans-LICENSE.txt`), embedded
/// so that plotting needs no system fonts.
const FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
const OP: &str = "History::plot";

/// One curve: its key, whether it is a validation curve, its `(epoch, value)` points.
type Series<'a> = (&'a str, bool, Vec<(f64, f64)>);

impl History {
    /// The size in pixels of one panel of [`History::plot`]; panels go two to a row.
    pub const PLOT_PANEL_SIZE: (u32, u32) = (560, 400);
    /// The RGB colour of training curves in [`History::plot`] (matplotlib's `C0`).
    pub const PLOT_TRAIN_COLOR: (u8, u8, u8) = (31, 119, 180);
    /// The RGB colour of validation curves in [`History::plot`] (matplotlib's `C1`).
    pub const PLOT_VAL_COLOR: (u8, u8, u8) = (255, 127, 14);

    /// Draws the history as a PNG at `path`: a panel for `loss`, one for each metric (and
    /// `lr`), each with its training curve and its `val_` curve, a legend, and `epoch` on
    /// the x axis; panels of [`History::PLOT_PANEL_SIZE`] two to a row. Non-finite values are left out.
    /// The file is written atomically (a temporary file in the same folder, renamed).
    ///
    /// Keras has no such method; it is what users write with matplotlib from
    /// `history.history`.
    ///
    /// ```no_run
    /// # fn demo(history: &keras::History) -> keras::Result<()> {
    /// history.plot("training.png")?;
    /// # Ok(()) }
    /// ```
    pub fn plot(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let groups = self.panels();
        if self.is_empty() || groups.is_empty() {
            return Err(Error::arg(OP, format!("nothing to plot to {}: the history is empty", path.display())));
        }
        register_font()?;
        let cols = groups.len().min(2);
        let rows = groups.len().div_ceil(2);
        let (w, h) = (Self::PLOT_PANEL_SIZE.0 * cols as u32, Self::PLOT_PANEL_SIZE.1 * rows as u32);
        let mut pixels = vec![0u8; w as usize * h as usize * 3];
        self.draw(&groups, &mut pixels, (w, h), (rows, cols))
            .map_err(|e| Error::msg(format!("{OP}: drawing {} failed: {e}", path.display())))?;
        write_atomically(path, |f| {
            use image::ImageEncoder;
            image::codecs::png::PngEncoder::new(f)
                .write_image(&pixels, w, h, image::ExtendedColorType::Rgb8)
                .map_err(std::io::Error::other)
        })
        .map_err(|e| e.context(OP))
    }

    /// `(quantity, [(key, is_validation)])`: `loss` first, then metrics by name, `lr` last.
    fn panels(&self) -> Vec<(String, Vec<(String, bool)>)> {
        let mut groups: Vec<(String, Vec<(String, bool)>)> = vec![];
        for key in self.history.keys() {
            let (base, val) = match key.strip_prefix("val_") {
                Some(b) => (b, true),
                None => (key.as_str(), false),
            };
            match groups.iter_mut().find(|(b, _)| b == base) {
                Some((_, keys)) => keys.push((key.clone(), val)),
                None => groups.push((base.to_string(), vec![(key.clone(), val)])),
            }
        }
        for (_, keys) in groups.iter_mut() {
            keys.sort_by_key(|(_, val)| *val);
        }
        groups.sort_by_key(|(b, _)| (b != "loss", b == "lr", b.clone()));
        groups
    }

    fn draw(
        &self,
        groups: &[(String, Vec<(String, bool)>)],
        pixels: &mut [u8],
        size: (u32, u32),
        grid: (usize, usize),
    ) -> std::result::Result<(), Box<dyn std::error::Error>> {
        let root = BitMapBackend::with_buffer(pixels, size).into_drawing_area();
        root.fill(&WHITE)?;
        for (area, (base, keys)) in root.split_evenly(grid).iter().zip(groups) {
            let series: Vec<Series<'_>> = keys
                .iter()
                .map(|(k, val)| {
                    let ys = self.get(k).unwrap_or(&[]);
                    let pts = self.epochs.iter().zip(ys).filter(|(_, y)| y.is_finite());
                    (k.as_str(), *val, pts.map(|(&e, &y)| (e as f64, y)).collect())
                })
                .collect();
            let all = || series.iter().flat_map(|(_, _, p)| p.iter());
            let (x0, x1) = padded(all().map(|p| p.0), 0.0);
            let (y0, y1) = padded(all().map(|p| p.1), 0.05);
            let mut chart = ChartBuilder::on(area)
                .caption(base, ("sans-serif", 22))
                .margin(12)
                .x_label_area_size(40)
                .y_label_area_size(64)
                .build_cartesian_2d(x0..x1, y0..y1)?;
            chart
                .configure_mesh()
                .x_desc("epoch")
                .y_desc(base.as_str())
                .x_labels(((x1 - x0).round() as usize + 1).clamp(2, 12))
                .x_label_formatter(&epoch_label)
                .light_line_style(WHITE)
                .label_style(("sans-serif", 14))
                .draw()?;
            for (key, val, pts) in series {
                let (r, g, b) = if val { Self::PLOT_VAL_COLOR } else { Self::PLOT_TRAIN_COLOR };
                let color = RGBColor(r, g, b);
                chart.draw_series(pts.iter().map(|&p| Circle::new(p, 3, color.filled())))?;
                chart
                    .draw_series(LineSeries::new(pts, color.stroke_width(2)))?
                    .label(key)
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
            }
            chart
                .configure_series_labels()
                .label_font(("sans-serif", 14))
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .draw()?;
        }
        root.present()?;
        Ok(())
    }
}

/// The range of `values` widened by `pad` of its span each side; a span of zero (one
/// epoch, a constant) is widened to show the value in the middle.
fn padded(values: impl Iterator<Item = f64>, pad: f64) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| (l.min(v), h.max(v)));
    if lo > hi {
        return (0.0, 1.0);
    }
    let span = hi - lo;
    if span > 0.0 {
        (lo - span * pad, hi + span * pad)
    } else {
        let d = (lo.abs() * 0.1).max(0.5);
        (lo - d, hi + d)
    }
}

/// Whole epochs as integers; the ticks plotters puts between them stay unlabelled.
fn epoch_label(x: &f64) -> String {
    if (x - x.round()).abs() < 1e-6 {
        format!("{}", x.round())
    } else {
        String::new()
    }
}

/// Registers the embedded font as plotters' `sans-serif`, once.
fn register_font() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| plotters::style::register_font("sans-serif", FontStyle::Normal, FONT).is_ok());
    if ok {
        Ok(())
    } else {
        Err(Error::msg(format!("{OP}: the embedded font could not be read")))
    }
}
