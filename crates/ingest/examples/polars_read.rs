//! The baseline of the prepare benchmark: polars alone reading a ratings CSV into a
//! DataFrame (schema inferred, all cores), printing `rows seconds`.
//!
//! `cargo run --release --example polars_read -- FILE`

use std::time::Instant;

use polars::prelude::*;

fn main() -> PolarsResult<()> {
    let path = std::env::args().nth(1).expect("usage: polars_read FILE");
    let started = Instant::now();
    let frame = CsvReadOptions::default()
        .with_has_header(true)
        .try_into_reader_with_file_path(Some(path.into()))?
        .finish()?;
    println!("{} {:.6}", frame.height(), started.elapsed().as_secs_f64());
    Ok(())
}
