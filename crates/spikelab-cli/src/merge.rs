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
/// Per-seed fields, concatenated in the order the reports are given. Only the test error curves
/// are required: the released reference code's reports (bench/reference/curves_to_report.py)
/// have no cosines, training errors, times or operation counts, so a field is carried when every
/// report has it and left out when none has.
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
    if seeds.is_empty() {
        return Err(Error::Other("the reports list no seeds: nothing to merge".into()));
    }
    let mut merged = json!({ "merged_from": paths, "seeds": seeds });
    if let Some(hosts) = hosts(&reports) {
        merged["hosts"] = hosts;
    }
    // A field the reports lack stays out (the released code's reports name no dataset or network).
    for field in SAME_RUN.into_iter().filter(|f| !first[*f].is_null()) {
        merged[field] = first[field].clone();
    }
    for field in PER_SEED {
        if field != "test_error_curves" && !in_every_report(paths, &reports, field)? {
            continue;
        }
        let values: Vec<Value> = reports.iter().flat_map(|r| r[field].as_array().cloned().unwrap_or_default()).collect();
        if values.len() != seeds.len() {
            return Err(Error::Other(format!("`{field}` has {} entries for {} seeds: a report is incomplete", values.len(), seeds.len())));
        }
        merged[field] = Value::Array(values);
    }
    // Operation counts are per training sample, so the merged figure weighs each report by its seeds.
    let ops_per_sample = if in_every_report(paths, &reports, "train_dense_macs_per_sample")? {
        let weighted = reports.iter().map(|r| r["train_dense_macs_per_sample"].as_f64().unwrap_or(f64::NAN) * r["seeds"].as_array().map_or(0, Vec::len) as f64).sum::<f64>();
        let ops_per_sample = weighted / seeds.len() as f64;
        merged["train_dense_macs_per_sample"] = json!(ops_per_sample);
        merged["train_energy_uj_per_sample"] = json!(energy_uj_per_sample(ops_per_sample));
        Some(ops_per_sample)
    } else {
        None
    };
    let curves = |field: &str| -> Result<Option<Vec<Vec<f64>>>> {
        if merged[field].is_null() {
            return Ok(None);
        }
        serde_json::from_value(merged[field].clone()).map(Some).map_err(|e| Error::Other(format!("`{field}`: {e}")))
    };
    let errors = curves("test_error_curves")?.expect("test error curves are required above");
    if errors.iter().any(Vec::is_empty) {
        return Err(Error::Other("a seed's test error curve is empty: a report is incomplete".into()));
    }
    let cosines = curves("test_cosine_curves")?;
    let cost_per_epoch = first["training_cost"]["cost_per_epoch"].as_f64().unwrap_or(f64::NAN);
    let summary = SeedSummary::new(first["task"].as_str().unwrap_or(""), cost_per_epoch, &errors, cosines.as_deref());
    summary.write_into(&mut merged);
    let description = first["description"].as_str().unwrap_or("");
    let human = format!("{}merged from {} reports\n", summary.human(description, ops_per_sample), paths.len());
    if let Some(dir) = out {
        write_report(dir, &merged, description, &errors)?;
    }
    crate::report::emit(&merged, &human, json_out);
    Ok(())
}

/// Where the runs ran, each machine once (a report's `host`, or a merged report's `hosts`); a
/// null stands for reports that do not say (older ones), so that a list never looks complete
/// when it is not. None when no report says.
fn hosts(reports: &[Value]) -> Option<Value> {
    let mut hosts: Vec<Value> = Vec::new();
    for report in reports {
        let theirs = match &report["hosts"] {
            Value::Array(listed) => listed.clone(),
            _ => vec![report["host"].clone()],
        };
        for host in theirs {
            if !hosts.contains(&host) {
                hosts.push(host);
            }
        }
    }
    hosts.iter().any(|h| !h.is_null()).then_some(Value::Array(hosts))
}

/// Whether every report has `field`: false when none has it, an error naming a report without it
/// when only some have it (reports of different kinds, which cannot be merged field by field).
fn in_every_report(paths: &[PathBuf], reports: &[Value], field: &str) -> Result<bool> {
    let with = |r: &Value| !r[field].is_null();
    match (reports.iter().position(with), reports.iter().position(|r| !with(r))) {
        (Some(has), Some(lacks)) => Err(Error::Other(format!("{} has `{field}` and {} has not: merge reports written the same way", paths[has].display(), paths[lacks].display()))),
        (_, None) => Ok(true),
        (None, _) => Ok(false),
    }
}
