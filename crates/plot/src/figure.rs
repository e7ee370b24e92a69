//! Charts with axes, ticks, reference lines and a legend, laid side by side.

use std::path::Path;

use crate::canvas::{text_width, Canvas, Rgb, GLYPH};
use crate::ticks::{nice_ticks, tick_label};

const MARGIN_LEFT: i32 = 90;
const MARGIN_RIGHT: i32 = 24;
const MARGIN_TOP: i32 = 48;
const MARGIN_BOTTOM: i32 = 56;
const TEXT_SCALE: i32 = 2;
const SMALL_SCALE: i32 = 1;

/// How a series is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeriesStyle {
    /// Points joined by a line, each marked.
    Line,
    /// Unjoined dots.
    Dots,
}

/// One named set of points.
#[derive(Clone, Debug)]
pub struct Series {
    /// Legend entry.
    pub name: String,
    /// `(x, y)` in data units.
    pub points: Vec<(f64, f64)>,
    /// Colour.
    pub color: Rgb,
    /// Line or dots.
    pub style: SeriesStyle,
}

/// A labelled, dashed horizontal reference line (a target to beat, say).
#[derive(Clone, Debug)]
pub struct HorizontalLine {
    /// The y value.
    pub y: f64,
    /// Label written just above the line.
    pub label: String,
    /// Colour.
    pub color: Rgb,
}

/// One chart.
#[derive(Clone, Debug, Default)]
pub struct Panel {
    /// Title above the chart.
    pub title: String,
    /// Label under the x axis.
    pub x_label: String,
    /// Label beside the y axis.
    pub y_label: String,
    /// The data.
    pub series: Vec<Series>,
    /// Reference lines.
    pub lines: Vec<HorizontalLine>,
}

/// Panels side by side, each `panel_width x height` pixels.
#[derive(Clone, Debug)]
pub struct Figure {
    /// The charts, left to right.
    pub panels: Vec<Panel>,
    /// Width of each panel.
    pub panel_width: u32,
    /// Height of the figure.
    pub height: u32,
}

impl Figure {
    /// Draws every panel.
    pub fn render(&self) -> Canvas {
        let width = self.panel_width * self.panels.len().max(1) as u32;
        let mut canvas = Canvas::new(width, self.height);
        for (index, panel) in self.panels.iter().enumerate() {
            let left = index as i32 * self.panel_width as i32;
            panel.draw(&mut canvas, left, self.panel_width as i32, self.height as i32);
        }
        canvas
    }

    /// Renders and writes a PNG file atomically.
    pub fn save_png(&self, path: &Path) -> std::io::Result<()> {
        self.render().save_png(path)
    }
}

/// Maps data coordinates to pixels inside a plot rectangle.
struct Frame {
    left: i32,
    top: i32,
    width: i32,
    height: i32,
    x: (f64, f64),
    y: (f64, f64),
}

impl Frame {
    fn px(&self, x: f64) -> i32 {
        self.left + ((x - self.x.0) / (self.x.1 - self.x.0) * self.width as f64).round() as i32
    }

    fn py(&self, y: f64) -> i32 {
        let fraction = (y - self.y.0) / (self.y.1 - self.y.0);
        self.top + self.height - (fraction * self.height as f64).round() as i32
    }
}

impl Panel {
    fn draw(&self, canvas: &mut Canvas, left: i32, width: i32, height: i32) {
        let frame = Frame {
            left: left + MARGIN_LEFT,
            top: MARGIN_TOP,
            width: width - MARGIN_LEFT - MARGIN_RIGHT,
            height: height - MARGIN_TOP - MARGIN_BOTTOM,
            x: padded(self.series.iter().flat_map(|s| s.points.iter().map(|p| p.0))),
            y: padded(
                self.series
                    .iter()
                    .flat_map(|s| s.points.iter().map(|p| p.1))
                    .chain(self.lines.iter().map(|l| l.y)),
            ),
        };
        let title_x = left + (width - text_width(&self.title, TEXT_SCALE)) / 2;
        canvas.text(title_x, 12, &self.title, Rgb::BLACK, TEXT_SCALE);
        self.draw_axes(canvas, &frame);
        for line in &self.lines {
            let y = frame.py(line.y);
            canvas.line((frame.left, y), (frame.left + frame.width, y), line.color, 2, Some(6));
            let label_x = frame.left + frame.width - text_width(&line.label, SMALL_SCALE) - 4;
            canvas.text(label_x, y - GLYPH - 3, &line.label, line.color, SMALL_SCALE);
        }
        for series in &self.series {
            draw_series(canvas, &frame, series);
        }
        self.draw_legend(canvas, &frame);
    }

    fn draw_axes(&self, canvas: &mut Canvas, frame: &Frame) {
        let (right, bottom) = (frame.left + frame.width, frame.top + frame.height);
        let x_ticks = nice_ticks(frame.x.0, frame.x.1, 6);
        let y_ticks = nice_ticks(frame.y.0, frame.y.1, 6);
        let step = |ticks: &[f64]| if ticks.len() > 1 { ticks[1] - ticks[0] } else { 1.0 };
        let (x_step, y_step) = (step(&x_ticks), step(&y_ticks));

        for &tick in &y_ticks {
            let y = frame.py(tick);
            canvas.line((frame.left, y), (right, y), Rgb::GRID, 1, None);
            let label = tick_label(tick, y_step);
            let x = frame.left - text_width(&label, SMALL_SCALE) - 6;
            canvas.text(x, y - GLYPH / 2, &label, Rgb::BLACK, SMALL_SCALE);
        }
        for &tick in &x_ticks {
            let x = frame.px(tick);
            canvas.line((x, frame.top), (x, bottom), Rgb::GRID, 1, None);
            let label = tick_label(tick, x_step);
            let label_x = x - text_width(&label, SMALL_SCALE) / 2;
            canvas.text(label_x, bottom + 6, &label, Rgb::BLACK, SMALL_SCALE);
        }
        for (from, to) in [
            ((frame.left, frame.top), (right, frame.top)),
            ((frame.left, bottom), (right, bottom)),
            ((frame.left, frame.top), (frame.left, bottom)),
            ((right, frame.top), (right, bottom)),
        ] {
            canvas.line(from, to, Rgb::BLACK, 1, None);
        }

        let x_label_x = frame.left + (frame.width - text_width(&self.x_label, TEXT_SCALE)) / 2;
        canvas.text(x_label_x, bottom + 24, &self.x_label, Rgb::BLACK, TEXT_SCALE);
        let y_label_y = frame.top + (frame.height + text_width(&self.y_label, TEXT_SCALE)) / 2;
        canvas.text_vertical(
            frame.left - MARGIN_LEFT + 6,
            y_label_y,
            &self.y_label,
            Rgb::BLACK,
            TEXT_SCALE,
        );
    }

    /// One row of entries right-aligned in the band between the title and the frame: outside
    /// the data, so it never hides a curve or a reference line's label.
    fn draw_legend(&self, canvas: &mut Canvas, frame: &Frame) {
        const MARKER: i32 = 16;
        const GAP: i32 = 18;
        let entry_width = |series: &Series| MARKER + text_width(&series.name, SMALL_SCALE);
        let total: i32 = self.series.iter().map(|s| entry_width(s) + GAP).sum::<i32>() - GAP;
        let mut x = frame.left + frame.width - total;
        let y = frame.top - GLYPH - 6;
        for series in &self.series {
            canvas.dot(x + 5, y + GLYPH / 2, 4, series.color);
            canvas.text(x + MARKER, y, &series.name, Rgb::BLACK, SMALL_SCALE);
            x += entry_width(series) + GAP;
        }
    }
}

fn draw_series(canvas: &mut Canvas, frame: &Frame, series: &Series) {
    let pixels: Vec<(i32, i32)> =
        series.points.iter().map(|&(x, y)| (frame.px(x), frame.py(y))).collect();
    match series.style {
        SeriesStyle::Line => {
            for pair in pixels.windows(2) {
                canvas.line(pair[0], pair[1], series.color, 3, None);
            }
            for &(x, y) in &pixels {
                canvas.dot(x, y, 3, series.color);
            }
        }
        SeriesStyle::Dots => {
            for &(x, y) in &pixels {
                canvas.dot(x, y, 2, series.color);
            }
        }
    }
}

/// The range of `values` widened by 5% on each side (and made non-empty).
fn padded(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (low, high) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if !low.is_finite() {
        return (0.0, 1.0);
    }
    let span = if high > low { high - low } else { low.abs().max(1.0) };
    (low - 0.05 * span, high + 0.05 * span)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reference_line_is_drawn_at_its_height() {
        let panel = Panel {
            title: "t".into(),
            series: vec![Series {
                name: "s".into(),
                points: vec![(1.0, 0.0), (2.0, 1.0)],
                color: Rgb(0, 0, 255),
                style: SeriesStyle::Line,
            }],
            lines: vec![HorizontalLine { y: 0.5, label: "half".into(), color: Rgb(255, 0, 0) }],
            ..Panel::default()
        };
        let figure = Figure { panels: vec![panel], panel_width: 400, height: 300 };
        let canvas = figure.render();
        // The dashed red line crosses the middle of the plot area.
        let middle = MARGIN_TOP + (300 - MARGIN_TOP - MARGIN_BOTTOM) / 2;
        let red = (MARGIN_LEFT..380)
            .filter(|&x| {
                (middle - 2..=middle + 2).any(|y| canvas.pixel(x, y) == Some(Rgb(255, 0, 0)))
            })
            .count();
        assert!(red > 100, "{red} red pixels");
    }
}
