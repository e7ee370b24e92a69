//! PNG charts without system fonts or C libraries: a raster [`Canvas`] with an embedded
//! 8x8 bitmap font, and [`Panel`]s (line or scatter charts with axes, ticks, reference lines
//! and a legend) laid side by side in a [`Figure`].
//!
//! Made for the two pictures flash-rec draws: training curves (RMSE per epoch with the
//! Cinematch and Netflix Prize lines, and the loss) and a 2-D projection of item factors
//! coloured by genre.

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod canvas;
mod figure;
mod ticks;

pub use canvas::{Canvas, Rgb};
pub use figure::{Figure, HorizontalLine, Panel, Series, SeriesStyle};

/// A palette of distinguishable colours for series and groups.
pub const PALETTE: [Rgb; 10] = [
    Rgb(31, 119, 180),
    Rgb(255, 127, 14),
    Rgb(44, 160, 44),
    Rgb(214, 39, 40),
    Rgb(148, 103, 189),
    Rgb(140, 86, 75),
    Rgb(227, 119, 194),
    Rgb(127, 127, 127),
    Rgb(188, 189, 34),
    Rgb(23, 190, 207),
];
