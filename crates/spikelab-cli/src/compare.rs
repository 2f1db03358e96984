//! `spikelab compare A B [C …]`: the methods' training costs over the error levels of the whole
//! group, the paper's cost ratio A / B, and how far that ratio moves when the seeds are drawn
//! again. The paper computes its levels over a group of methods at once (§6 of the reference),
//! so further reports join the levels as they did there.

use crate::local::{error_cap, read_report, seed_curves};
use crate::plot::METHOD_COLORS;
use serde_json::{json, Value};
use spikelab::energy::training_cost::{joint_costs, ratio_interval, Method, TrainingCost};
use spikelab::{Error, Result};
use std::path::{Path, PathBuf};

/// Seed resamplings behind the ratio's interval in `spikelab compare` (a fixed bootstrap seed,
/// so a repeat prints the same interval).
const BOOTSTRAP_RESAMPLES: usize = 2000;

/// `spikelab compare`: every report's training cost over the error levels of all of them, and
/// the ratio first / second; with `out`, also `compare.json` and the curves and cost bars as
/// `cost.png`/`cost.svg` there.
pub fn compare(paths: &[PathBuf], cosine_error: bool, json_out: bool, out: Option<&Path>) -> Result<()> {
    if paths.len() < 2 || paths.len() > METHOD_COLORS.len() {
        return Err(Error::Other(format!("compare takes 2 to {} reports (one colour each in the cost figure), not {}", METHOD_COLORS.len(), paths.len())));
    }
    let reports: Vec<Value> = paths.iter().map(|p| read_report(p)).collect::<Result<_>>()?;
    let key = if cosine_error { "test_cosine_curves" } else { "test_error_curves" };
    if let Some(i) = reports.iter().position(|r| !r[key].is_array()) {
        return Err(Error::Other(format!("{}: the report has no `{key}` ({})", paths[i].display(), reports[i]["description"])));
    }
    let mut curves: Vec<Vec<Vec<f64>>> = paths
        .iter()
        .zip(&reports)
        .map(|(path, r)| serde_json::from_value(r[key].clone()).map_err(|e| Error::Other(format!("{}: `{key}` must be lists of numbers, one per seed ({e})", path.display()))))
        .collect::<Result<_>>()?;
    if let Some(i) = curves.iter().position(|c| c.is_empty() || c.iter().any(Vec::is_empty)) {
        return Err(Error::Other(format!("{}: `{key}` holds no seed's curve, or an empty one", paths[i].display())));
    }
    if cosine_error {
        // The error is 1 − the mean cosine of outputs with targets.
        curves.iter_mut().flatten().flatten().for_each(|c| *c = 1.0 - *c);
    }
    if let Some(i) = reports.iter().position(|r| r["task"] != reports[0]["task"]) {
        return Err(Error::Other(format!("{} is an {} report and {} an {} report: compare runs of one system", paths[0].display(), reports[0]["task"], paths[i].display(), reports[i]["task"])));
    }
    let cap = error_cap(reports[0]["task"].as_str().unwrap_or(""));
    let methods: Vec<Method> = reports.iter().zip(&curves).map(|(r, cv)| Method { cost_per_epoch: r["training_cost"]["cost_per_epoch"].as_f64().unwrap_or(0.0), curves: cv }).collect();
    let costs = joint_costs(&methods, cap);
    // Every report's mean cost over the second's: the first is the paper's ratio.
    let over_second: Vec<f64> = costs.iter().map(|c| c.mean / costs[1].mean).collect();
    let (levels, ratio) = (costs[0].levels, over_second[0]);
    // With one seed in every report there is nothing to resample.
    let interval = curves.iter().any(|c| c.len() > 1).then(|| ratio_interval(&methods, cap, BOOTSTRAP_RESAMPLES, 0));
    let mut report = json!({ "a": paths[0], "b": paths[1], "error": if cosine_error { "1 - cosine" } else { "nearest code" }, "levels": levels, "cost_a": costs[0], "cost_b": costs[1], "ratio": ratio,
        "ratio_interval_95": interval.map(|(lo, hi)| [lo, hi]), "bootstrap_resamples": BOOTSTRAP_RESAMPLES,
        "accuracy_a": reports[0]["accuracy"], "accuracy_b": reports[1]["accuracy"] });
    // Reports past the second join the levels; each is listed with its cost over them and that
    // cost over the second's.
    let further: Vec<Value> = (2..paths.len()).map(|i| json!({ "report": paths[i], "cost": costs[i], "accuracy": reports[i]["accuracy"], "cost_over_b": over_second[i] })).collect();
    if !further.is_empty() {
        report["further"] = Value::Array(further);
    }
    let line = |name: &Path, r: &Value, c: &TrainingCost| {
        format!(
            "  {}: accuracy {:.2} ± {:.2}%, cost {:.4e} ± {:.3e}{}\n",
            name.display(),
            r["accuracy"]["mean"].as_f64().unwrap_or(f64::NAN),
            r["accuracy"]["std"].as_f64().unwrap_or(f64::NAN),
            c.mean,
            c.std,
            if c.unreached > 0 { format!(" ({} of {} seed-levels not reached, each counted one epoch past the end)", c.unreached, c.per_seed.len() * c.levels.len()) } else { String::new() }
        )
    };
    let spread = interval.map_or(String::new(), |(lo, hi)| format!(" (95 % of {BOOTSTRAP_RESAMPLES} resamplings of the seeds: {lo:.3} to {hi:.3})"));
    let mut human = format!("error levels {:?}{}\n", levels.map(|l| (l * 1e4).round() / 1e4), if paths.len() > 2 { format!(" (from all {} reports)", paths.len()) } else { String::new() });
    for ((path, r), c) in paths.iter().zip(&reports).zip(&costs) {
        human += &line(path, r, c);
    }
    human += &format!("  cost ratio (first / second): {ratio:.3}{spread}\n");
    for (path, r) in paths.iter().zip(&over_second).skip(2) {
        human += &format!("  cost ratio ({} / second): {r:.3}\n", path.display());
    }
    if let Some(dir) = out {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        spikelab::io::write_atomic(&dir.join("compare.json"), serde_json::to_string_pretty(&report).expect("report is JSON").as_bytes())?;
        // Accuracy curves from the error measured here (1 − cosine under --cosine).
        // A legend names each method by its description; two runs of one config share theirs,
        // so those also name their file.
        let descriptions: Vec<Option<&str>> = reports.iter().map(|r| r["description"].as_str()).collect();
        let name = |i: usize| match descriptions[i] {
            Some(d) if descriptions.iter().filter(|&&other| other == Some(d)).count() == 1 => d.to_string(),
            Some(d) => format!("{d} ({})", paths[i].display()),
            None => paths[i].display().to_string(),
        };
        let measure = if cosine_error { "mean cosine with the target" } else { "test accuracy" };
        let plotted: Vec<_> = curves.iter().enumerate().map(|(i, c)| seed_curves(&name(i), measure, c)).collect();
        let caption = match interval {
            Some((lo, hi)) => format!("training cost (ratio {ratio:.3}, bootstrap 95 %: {lo:.3}–{hi:.3})"),
            None => format!("training cost (ratio {ratio:.3})"),
        };
        let bars: Vec<(f64, f64)> = costs.iter().map(|c| (c.mean, c.std)).collect();
        crate::plot::cost_comparison(&plotted, &bars, &caption, &dir.join("cost"))?;
    }
    crate::report::emit(&report, &human, json_out);
    Ok(())
}
