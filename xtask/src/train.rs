//! `cargo xtask train`: data to results in one command.
//!
//! Download when missing, prepare (cached), train, evaluate, then write
//! `results/<dataset>/metrics.json`, `training_curves.png` and, with movie features,
//! `item_factors_pca.png`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use serde_json::json;

use crate::download::{self, Dataset, DownloadArgs};
use crate::{flash, workspace_root};

/// The synthetic data set `--dataset synthetic` trains on.
const SYNTHETIC: [(&str, &str); 4] =
    [("--users", "20000"), ("--items", "8000"), ("--ratings", "2000000"), ("--seed", "42")];

/// Options of `cargo xtask train`.
#[derive(clap::Args, Debug)]
pub struct TrainArgs {
    /// ml-latest-small, ml-latest, synthetic, or a folder (MovieLens layout) or ratings file.
    #[arg(long, default_value = "ml-latest-small")]
    pub dataset: String,
    /// Tune lam, tau, gamma and k with this many trials first, and train with the best.
    #[arg(long)]
    pub tune: Option<usize>,
    /// Training flags passed to `flash-rec train` (see `flash-rec train --help`), e.g.
    /// `--factors 64 --seed-formulation`; they follow `--dataset` and `--tune`.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, value_name = "TRAINING FLAGS")]
    pub training_flags: Vec<String>,
}

pub fn run(args: TrainArgs) -> Result<()> {
    let source = locate_source(&args.dataset)?;
    flash::build()?;
    let name = source.name();
    let cache = workspace_root().join("data").join("cache").join(&name);
    let results = workspace_root().join("results").join(&name);
    std::fs::create_dir_all(&results)
        .with_context(|| format!("cannot create {}", results.display()))?;
    let text = |p: &Path| p.display().to_string();

    eprintln!("== prepare {} -> {}", source.describe(), cache.display());
    let started = Instant::now();
    let mut prepare_args = vec!["prepare".to_string()];
    prepare_args.extend(source.prepare_flags());
    prepare_args.extend(["--out".into(), text(&cache)]);
    let prepared = flash::run_json(&prepare_args)?;
    let prepare_seconds = started.elapsed().as_secs_f64();

    let mut training_flags = args.training_flags.clone();
    let mut tuning = serde_json::Value::Null;
    if let Some(trials) = args.tune {
        eprintln!("== tune: {trials} trials on a validation split carved from train");
        tuning = flash::run_json(&[
            "tune".into(),
            "--data".into(),
            text(&cache),
            "--trials".into(),
            trials.to_string(),
        ])?;
        training_flags.extend(best_params_as_flags(&tuning["best"]["params"])?);
    }

    let model = results.join("model.flash");
    eprintln!("== train {}", training_flags.join(" "));
    let mut train_args =
        vec!["train".into(), "--data".into(), text(&cache), "--model".into(), text(&model)];
    train_args.extend(training_flags);
    let started = Instant::now();
    let trained = flash::run_json(&train_args)?;
    let train_seconds = started.elapsed().as_secs_f64();

    eprintln!("== evaluate");
    let evaluation = flash::run_json(&[
        "eval".into(),
        "--data".into(),
        text(&cache),
        "--model".into(),
        text(&model),
    ])?;
    eprintln!("== plot");
    flash::run(&[
        "plot".into(),
        "--model".into(),
        text(&model),
        "--data".into(),
        text(&cache),
        "--out".into(),
        text(&results),
    ])?;

    let metrics = json!({
        "dataset": name,
        "data": prepared,
        "params": trained["params"],
        "epochs": trained["epochs"],
        "evaluation": evaluation,
        "tuning": tuning,
        "seconds": { "prepare": prepare_seconds, "train_command": train_seconds },
    });
    let metrics_path = results.join("metrics.json");
    let pretty = serde_json::to_string_pretty(&metrics)?;
    std::fs::write(&metrics_path, pretty + "\n")
        .with_context(|| format!("cannot write {}", metrics_path.display()))?;

    print_summary(&name, &trained, &evaluation, &results);
    Ok(())
}

fn print_summary(
    name: &str,
    trained: &serde_json::Value,
    evaluation: &serde_json::Value,
    results: &Path,
) {
    let epochs = trained["epochs"].as_array().map_or(0, |e| e.len());
    let seconds: f64 = trained["epochs"]
        .as_array()
        .map_or(0.0, |e| e.iter().filter_map(|x| x["seconds"].as_f64()).sum());
    println!();
    println!("dataset      {name}");
    println!("epochs       {epochs} ({seconds:.3} s of training)");
    for (key, value) in evaluation.as_object().into_iter().flatten() {
        match value.as_f64() {
            Some(number) if value.is_f64() => println!("{key:<12} {number:.4}"),
            _ => println!("{key:<12} {value}"),
        }
    }
    println!("results      {}", results.display());
}

/// The best trial's parameters as `flash-rec train` flags.
fn best_params_as_flags(params: &serde_json::Value) -> Result<Vec<String>> {
    let mut flags = Vec::new();
    for (key, flag) in
        [("factors", "--factors"), ("lambda", "--lambda"), ("tau", "--tau"), ("gamma", "--gamma")]
    {
        let value = params.get(key).with_context(|| format!("tuning gave no {key}"))?;
        flags.extend([flag.to_string(), value.to_string()]);
    }
    Ok(flags)
}

/// What to prepare from.
enum TrainSource {
    MovieLens { name: String, dir: PathBuf },
    RatingsFile { name: String, file: PathBuf },
}

impl TrainSource {
    fn name(&self) -> String {
        match self {
            TrainSource::MovieLens { name, .. } | TrainSource::RatingsFile { name, .. } => {
                name.clone()
            }
        }
    }

    fn describe(&self) -> String {
        match self {
            TrainSource::MovieLens { dir, .. } => dir.display().to_string(),
            TrainSource::RatingsFile { file, .. } => file.display().to_string(),
        }
    }

    fn prepare_flags(&self) -> Vec<String> {
        match self {
            TrainSource::MovieLens { dir, .. } => {
                vec!["--movielens".into(), dir.display().to_string()]
            }
            TrainSource::RatingsFile { file, .. } => {
                vec!["--ratings".into(), file.display().to_string()]
            }
        }
    }
}

fn locate_source(dataset: &str) -> Result<TrainSource> {
    let known = match dataset {
        "ml-latest-small" => Some(Dataset::MlLatestSmall),
        "ml-latest" => Some(Dataset::MlLatest),
        _ => None,
    };
    if let Some(known) = known {
        let dir = download::data_dir(None).join(known.name());
        if !dir.join("ratings.csv").is_file() {
            eprintln!("== {} not found in {}: downloading", known.name(), dir.display());
            download::run(DownloadArgs { dataset: known, dir: None })?;
        }
        return Ok(TrainSource::MovieLens { name: dataset.into(), dir });
    }
    if dataset == "synthetic" {
        let file = workspace_root().join("data").join("synthetic").join("ratings.csv");
        if !file.is_file() {
            flash::build()?;
            std::fs::create_dir_all(file.parent().expect("a parent"))
                .context("cannot create data/synthetic")?;
            let mut synth = vec!["synth".to_string()];
            synth.extend(
                SYNTHETIC.iter().flat_map(|(flag, value)| [flag.to_string(), value.to_string()]),
            );
            synth.extend(["--out".into(), file.display().to_string()]);
            eprintln!("== generating {}", file.display());
            flash::run(&synth)?;
        }
        return Ok(TrainSource::RatingsFile { name: "synthetic".into(), file });
    }
    let path = PathBuf::from(dataset);
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "custom".into());
    if path.join("ratings.csv").is_file() && path.join("movies.csv").is_file() {
        Ok(TrainSource::MovieLens { name, dir: path })
    } else if path.is_file() {
        Ok(TrainSource::RatingsFile { name, file: path })
    } else {
        bail!("--dataset {dataset}: not a known data set, a MovieLens folder or a ratings file")
    }
}
