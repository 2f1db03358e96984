//! `spikelab merge A B …`: one report from runs of the same config over different seeds, so the
//! seeds of a long experiment can run in separate processes (one per core or machine) and still
//! be read the paper's way — the best epoch of the seed-mean curve, and the training cost over
//! the seeds' joint error levels — exactly as if one `spikelab run --seeds N` had run them all.

use crate::local::{energy_uj_per_sample, read_report, write_report, SeedSummary};
use serde_json::{json, Value};
use spikelab::{Error, Result};
use std::path::{Path, PathBuf};

/// Fields that must agree between the merged reports: they describe the config and the data.
const SAME_RUN: [&str; 7] = ["task", "description", "dataset", "epochs", "network", "train_samples", "test_samples"];
/// Per-seed fields, concatenated in the order the reports are given.
const PER_SEED: [&str; 4] = ["test_error_curves", "test_cosine_curves", "train_error_curves", "seconds_per_run"];

pub fn merge(paths: &[PathBuf], json_out: bool, out: Option<&Path>) -> Result<()> {
    if paths.len() < 2 {
        return Err(Error::Other("merge needs at least two reports".into()));
    }
    let reports: Vec<Value> = paths.iter().map(|p| read_report(p)).collect::<Result<_>>()?;
    let first = &reports[0];
    for (path, report) in paths.iter().zip(&reports).skip(1) {
        if let Some(field) = SAME_RUN.iter().find(|f| report[**f] != first[**f]) {
            return Err(Error::Other(format!("{} differs from {} in `{field}` ({} against {}): merge runs of one config", path.display(), paths[0].display(), report[*field], first[*field])));
        }
        if report["training_cost"]["cost_per_epoch"] != first["training_cost"]["cost_per_epoch"] {
            return Err(Error::Other(format!("{} differs from {} in the cost per epoch: merge runs of one config", path.display(), paths[0].display())));
        }
    }
    let mut seeds: Vec<u64> = Vec::new();
    for (path, report) in paths.iter().zip(&reports) {
        for seed in report["seeds"].as_array().into_iter().flatten() {
            let seed = seed.as_u64().ok_or_else(|| Error::Other(format!("{}: seeds must be integers", path.display())))?;
            if seeds.contains(&seed) {
                return Err(Error::Other(format!("{}: seed {seed} is in more than one report", path.display())));
            }
            seeds.push(seed);
        }
    }
    let mut merged = json!({ "merged_from": paths, "seeds": seeds });
    for field in SAME_RUN {
        merged[field] = first[field].clone();
    }
    for field in PER_SEED {
        let values: Vec<Value> = reports.iter().flat_map(|r| r[field].as_array().cloned().unwrap_or_default()).collect();
        if values.len() != seeds.len() {
            return Err(Error::Other(format!("`{field}` has {} entries for {} seeds: a report is incomplete", values.len(), seeds.len())));
        }
        merged[field] = Value::Array(values);
    }
    // Operation counts are per training sample, so the merged figure weighs each report by its seeds.
    let weighted = reports.iter().map(|r| r["train_dense_macs_per_sample"].as_f64().unwrap_or(f64::NAN) * r["seeds"].as_array().map_or(0, Vec::len) as f64).sum::<f64>();
    let ops_per_sample = weighted / seeds.len() as f64;
    merged["train_dense_macs_per_sample"] = json!(ops_per_sample);
    merged["train_energy_uj_per_sample"] = json!(energy_uj_per_sample(ops_per_sample));
    let curves = |field: &str| -> Result<Vec<Vec<f64>>> { serde_json::from_value(merged[field].clone()).map_err(|e| Error::Other(format!("`{field}`: {e}"))) };
    let errors = curves("test_error_curves")?;
    let cost_per_epoch = first["training_cost"]["cost_per_epoch"].as_f64().unwrap_or(f64::NAN);
    let summary = SeedSummary::new(first["task"].as_str().unwrap_or(""), cost_per_epoch, &errors, &curves("test_cosine_curves")?);
    summary.write_into(&mut merged);
    let description = first["description"].as_str().unwrap_or("");
    let human = format!("{}merged from {} reports\n", summary.human(description, ops_per_sample), paths.len());
    if let Some(dir) = out {
        write_report(dir, &merged, description, &errors)?;
    }
    crate::report::emit(&merged, &human, json_out);
    Ok(())
}
