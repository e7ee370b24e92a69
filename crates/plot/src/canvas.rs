//! A white RGB raster with lines, dots and bitmap text, saved as PNG.

use std::path::Path;

use font8x8::UnicodeFonts;

/// An RGB colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    /// Black.
    pub const BLACK: Rgb = Rgb(0, 0, 0);
    /// Light grey, for grid lines.
    pub const GRID: Rgb = Rgb(225, 225, 225);
    /// White.
    pub const WHITE: Rgb = Rgb(255, 255, 255);
}

/// Pixels of one glyph side at scale 1.
pub const GLYPH: i32 = 8;

/// An RGB image being drawn.
pub struct Canvas {
    width: u32,
    height: u32,
    pixels: Vec<u8>,
}

impl Canvas {
    /// A white canvas.
    pub fn new(width: u32, height: u32) -> Self {
        Canvas { width, height, pixels: vec![255; (width * height * 3) as usize] }
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// The colour at `(x, y)`, `None` outside the canvas.
    pub fn pixel(&self, x: i32, y: i32) -> Option<Rgb> {
        let index = self.index(x, y)?;
        Some(Rgb(self.pixels[index], self.pixels[index + 1], self.pixels[index + 2]))
    }

    fn index(&self, x: i32, y: i32) -> Option<usize> {
        let inside = x >= 0 && y >= 0 && (x as u32) < self.width && (y as u32) < self.height;
        inside.then(|| ((y as u32 * self.width + x as u32) * 3) as usize)
    }

    /// Colours one pixel; outside the canvas nothing happens.
    pub fn set(&mut self, x: i32, y: i32, color: Rgb) {
        if let Some(index) = self.index(x, y) {
            self.pixels[index..index + 3].copy_from_slice(&[color.0, color.1, color.2]);
        }
    }

    /// A filled square of side `2 * radius + 1` centred on `(x, y)`.
    pub fn dot(&mut self, x: i32, y: i32, radius: i32, color: Rgb) {
        for dy in -radius..=radius {
            for dx in -radius..=radius {
                self.set(x + dx, y + dy, color);
            }
        }
    }

    /// A straight line `thickness` pixels wide; with `dash = Some(n)` drawn n on, n off.
    pub fn line(
        &mut self,
        from: (i32, i32),
        to: (i32, i32),
        color: Rgb,
        thickness: i32,
        dash: Option<i32>,
    ) {
        let (dx, dy) = (to.0 - from.0, to.1 - from.1);
        let steps = dx.abs().max(dy.abs()).max(1);
        let radius = (thickness - 1) / 2;
        for step in 0..=steps {
            if dash.is_some_and(|n| (step / n) % 2 == 1) {
                continue;
            }
            let x = from.0 + (dx as f64 * step as f64 / steps as f64).round() as i32;
            let y = from.1 + (dy as f64 * step as f64 / steps as f64).round() as i32;
            self.dot(x, y, radius, color);
        }
    }

    /// Text with its top-left corner at `(x, y)`, each glyph `8 * scale` pixels square.
    /// Characters without a glyph are drawn as `?`.
    pub fn text(&mut self, x: i32, y: i32, text: &str, color: Rgb, scale: i32) {
        for (position, c) in text.chars().enumerate() {
            let glyph = font8x8::BASIC_FONTS.get(c).or_else(|| font8x8::BASIC_FONTS.get('?'));
            let Some(rows) = glyph else { continue };
            let left = x + position as i32 * GLYPH * scale;
            for (row, bits) in rows.iter().enumerate() {
                for col in 0..GLYPH {
                    if bits & (1 << col) != 0 {
                        for sy in 0..scale {
                            for sx in 0..scale {
                                self.set(
                                    left + col * scale + sx,
                                    y + row as i32 * scale + sy,
                                    color,
                                );
                            }
                        }
                    }
                }
            }
        }
    }

    /// Text rotated a quarter turn counter-clockwise (for a vertical axis label), with its
    /// bottom-left corner at `(x, y)`.
    pub fn text_vertical(&mut self, x: i32, y: i32, text: &str, color: Rgb, scale: i32) {
        let width = text_width(text, scale);
        let mut horizontal = Canvas::new(width.max(1) as u32, (GLYPH * scale) as u32);
        horizontal.text(0, 0, text, color, scale);
        for hy in 0..horizontal.height as i32 {
            for hx in 0..horizontal.width as i32 {
                if let Some(pixel) = horizontal.pixel(hx, hy).filter(|p| *p != Rgb::WHITE) {
                    self.set(x + hy, y - hx, pixel);
                }
            }
        }
    }

    /// Writes the canvas as a PNG file, atomically.
    pub fn save_png(&self, path: &Path) -> std::io::Result<()> {
        let mut encoded = Vec::new();
        {
            let mut encoder = png::Encoder::new(&mut encoded, self.width, self.height);
            encoder.set_color(png::ColorType::Rgb);
            encoder.set_depth(png::BitDepth::Eight);
            let mut writer = encoder.write_header().map_err(std::io::Error::other)?;
            writer.write_image_data(&self.pixels).map_err(std::io::Error::other)?;
        }
        flash_matrix::write_atomically(path, |out| std::io::Write::write_all(out, &encoded))
            .map_err(std::io::Error::other)
    }
}

/// Width in pixels of `text` at `scale`.
pub fn text_width(text: &str, scale: i32) -> i32 {
    text.chars().count() as i32 * GLYPH * scale
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drawing_colours_the_expected_pixels() {
        let mut canvas = Canvas::new(40, 20);
        canvas.line((0, 0), (39, 0), Rgb::BLACK, 1, None);
        assert_eq!(canvas.pixel(20, 0), Some(Rgb::BLACK));
        assert_eq!(canvas.pixel(20, 1), Some(Rgb::WHITE));
        canvas.text(0, 8, "I", Rgb::BLACK, 1);
        let inked = (0..8).flat_map(|x| (8..16).map(move |y| (x, y)));
        assert!(inked.filter(|&(x, y)| canvas.pixel(x, y) == Some(Rgb::BLACK)).count() > 5);
        assert_eq!(canvas.pixel(100, 100), None);
    }

    #[test]
    fn png_round_trips_through_the_decoder() {
        let dir = std::env::temp_dir().join(format!("flash-plot-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("x.png");
        let mut canvas = Canvas::new(3, 2);
        canvas.set(1, 1, Rgb(10, 20, 30));
        canvas.save_png(&path).unwrap();
        let decoder =
            png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&path).unwrap()));
        let mut reader = decoder.read_info().unwrap();
        let mut buffer = vec![0; reader.output_buffer_size().unwrap()];
        reader.next_frame(&mut buffer).unwrap();
        assert_eq!(&buffer[12..15], &[10, 20, 30]);
    }
}
