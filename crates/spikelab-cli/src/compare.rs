//! `spikelab compare A B`: two methods' training costs over the error levels of the pair, the
//! paper's cost ratio, and how far that ratio moves when each side's seeds are drawn again.

use crate::local::{error_cap, read_report, seed_curves};
use serde_json::{json, Value};
use spikelab::energy::training_cost::{pair_costs, ratio_interval, Method, TrainingCost};
use spikelab::{Error, Result};
use std::path::Path;

/// Seed resamplings behind the ratio's interval in `spikelab compare` (a fixed bootstrap seed,
/// so a repeat prints the same interval).
const BOOTSTRAP_RESAMPLES: usize = 2000;

/// `spikelab compare A B`: both methods' training costs over the error levels of the pair, and
/// the ratio A / B; with `out`, also `compare.json` and the curves and cost bars as
/// `cost.png`/`cost.svg` there.
pub fn compare(a: &Path, b: &Path, cosine_error: bool, json_out: bool, out: Option<&Path>) -> Result<()> {
    let reports = [read_report(a)?, read_report(b)?];
    let key = if cosine_error { "test_cosine_curves" } else { "test_error_curves" };
    if let Some(i) = reports.iter().position(|r| !r[key].is_array()) {
        return Err(Error::Other(format!("{}: the report has no `{key}` ({})", [a, b][i].display(), reports[i]["description"])));
    }
    let mut curves: Vec<Vec<Vec<f64>>> = [a, b]
        .iter()
        .zip(&reports)
        .map(|(path, r)| serde_json::from_value(r[key].clone()).map_err(|e| Error::Other(format!("{}: `{key}` must be lists of numbers, one per seed ({e})", path.display()))))
        .collect::<Result<_>>()?;
    if let Some(i) = curves.iter().position(|c| c.is_empty() || c.iter().any(Vec::is_empty)) {
        return Err(Error::Other(format!("{}: `{key}` holds no seed's curve, or an empty one", [a, b][i].display())));
    }
    if cosine_error {
        // The error is 1 − the mean cosine of outputs with targets.
        curves.iter_mut().flatten().flatten().for_each(|c| *c = 1.0 - *c);
    }
    if reports[0]["task"] != reports[1]["task"] {
        return Err(Error::Other(format!("{} is an {} report and {} an {} report: compare runs of one system", a.display(), reports[0]["task"], b.display(), reports[1]["task"])));
    }
    let cap = error_cap(reports[0]["task"].as_str().unwrap_or(""));
    let methods: Vec<Method> = reports.iter().zip(&curves).map(|(r, cv)| Method { cost_per_epoch: r["training_cost"]["cost_per_epoch"].as_f64().unwrap_or(0.0), curves: cv }).collect();
    let costs = pair_costs(&methods[0], &methods[1], cap);
    let (levels, ratio) = (costs[0].levels, costs[0].mean / costs[1].mean);
    // With one seed a side there is nothing to resample.
    let interval = (curves[0].len() > 1 || curves[1].len() > 1).then(|| ratio_interval(&methods[0], &methods[1], cap, BOOTSTRAP_RESAMPLES, 0));
    let report = json!({ "a": a, "b": b, "error": if cosine_error { "1 - cosine" } else { "nearest code" }, "levels": levels, "cost_a": costs[0], "cost_b": costs[1], "ratio": ratio,
        "ratio_interval_95": interval.map(|(lo, hi)| [lo, hi]), "bootstrap_resamples": BOOTSTRAP_RESAMPLES,
        "accuracy_a": reports[0]["accuracy"], "accuracy_b": reports[1]["accuracy"] });
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
    let human = format!(
        "error levels {:?}\n{}{}  cost ratio (first / second): {:.3}{spread}\n",
        levels.map(|l| (l * 1e4).round() / 1e4),
        line(a, &reports[0], &costs[0]),
        line(b, &reports[1], &costs[1]),
        ratio
    );
    if let Some(dir) = out {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        spikelab::io::write_atomic(&dir.join("compare.json"), serde_json::to_string_pretty(&report).expect("report is JSON").as_bytes())?;
        // Accuracy curves from the error measured here (1 − cosine under --cosine).
        let name = |r: &Value, path: &Path| r["description"].as_str().map_or_else(|| path.display().to_string(), str::to_string);
        let measure = if cosine_error { "mean cosine with the target" } else { "test accuracy" };
        let methods = [seed_curves(&name(&reports[0], a), measure, &curves[0]), seed_curves(&name(&reports[1], b), measure, &curves[1])];
        let caption = match interval {
            Some((lo, hi)) => format!("training cost (ratio {ratio:.3}, bootstrap 95 %: {lo:.3}–{hi:.3})"),
            None => format!("training cost (ratio {ratio:.3})"),
        };
        crate::plot::cost_comparison(&methods, [(costs[0].mean, costs[0].std), (costs[1].mean, costs[1].std)], &caption, &dir.join("cost"))?;
    }
    crate::report::emit(&report, &human, json_out);
    Ok(())
}
