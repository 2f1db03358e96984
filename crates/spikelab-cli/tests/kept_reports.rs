//! The reports kept in docs/results: they stay readable, reprint the figures docs/results.md
//! quotes for them, and serve as real data for `merge` and `compare`.

mod common;

use common::{fails_with, last_json, run_json, scratch, spikelab, stderr};
use std::path::Path;
use std::process::Output;

/// The reports kept in docs/results stay readable and still give the cost ratios that
/// docs/results.md quotes for them; a new folder needs its quoted ratio here.
#[test]
fn kept_reports_reprint_the_documented_ratios() {
    let quoted = [
        ("rbm-mnist-10k-released", 0.297),
        ("rbm-mnist-10k-spikelab", 0.135),
        ("rbm-mnist-50k-released", 1.524),
        ("rbm-mnist-50k-spikelab", 1.239),
        ("snn-mnist-rates", 0.967),
        ("snn-mnist-rates-100", 0.533),
        ("snn-mnist-rates-100-baseline", 0.481),
        ("snn-mnist-rates-100-baseline-seed-29", 0.437),
        ("snn-mnist-rates-100-baseline-seed-31", 0.423),
        ("snn-mnist-rates-100-baseline-seeds-1-17", 0.486),
        ("snn-mnist-rates-100-baseline-seeds-19-23", 0.589),
        ("snn-mnist-rates-100-seeds-1-7", 0.545),
        ("snn-mnist-rates-baseline", 0.923),
        ("snn-nettalk", 0.982),
    ];
    let kept = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/results");
    let mut folders: Vec<String> = std::fs::read_dir(&kept).unwrap().map(|e| e.unwrap()).filter(|e| e.path().is_dir()).map(|e| e.file_name().into_string().unwrap()).collect();
    folders.sort();
    // Folders of single runs, not of a comparison: checked in their own test below.
    folders.retain(|f| f != "smlp-bp-share-100");
    assert_eq!(folders, quoted.iter().map(|(f, _)| f.to_string()).collect::<Vec<_>>(), "every kept folder has its quoted ratio");
    for (folder, ratio) in quoted {
        let dir = kept.join(folder);
        let baseline = ["plain.json", "nosbp.json"].iter().map(|f| dir.join(f)).find(|p| p.is_file()).expect("a baseline report");
        let v = run_json(&["compare", dir.join("sbp.json").to_str().unwrap(), baseline.to_str().unwrap(), "--json"]);
        assert_eq!(format!("{:.3}", v["ratio"].as_f64().unwrap()), format!("{ratio:.3}"), "{folder}");
        // The seeds' spread: a bootstrap interval around the ratio, the same on every run; none
        // for a single seed.
        if v["cost_a"]["per_seed"].as_array().unwrap().len() == 1 {
            assert!(v["ratio_interval_95"].is_null(), "{folder}: {v}");
        } else {
            let interval = [0, 1].map(|i| v["ratio_interval_95"][i].as_f64().unwrap());
            assert!(interval[0] < ratio && ratio < interval[1], "{folder}: {interval:?}");
        }
        let again = spikelab(&["compare", dir.join("sbp.json").to_str().unwrap(), baseline.to_str().unwrap(), "--json"]);
        assert_eq!(String::from_utf8(again.stdout).unwrap(), serde_json::to_string(&v).unwrap() + "\n", "{folder}");
    }
    // The SNN's five seeds and its later ones, merged per side: the seven-seed ratio against
    // the † baseline, and the ten-, twelve-, thirteen- and fourteen-seed ones against the real
    // baseline.
    let dir = scratch("kept-more-seeds");
    let (five, ten) = ("snn-mnist-rates-100-baseline", "snn-mnist-rates-100-baseline-seeds-1-17");
    for (folders, ratio) in [
        (&["snn-mnist-rates-100", "snn-mnist-rates-100-seeds-1-7"][..], "0.554"),
        (&[five, ten][..], "0.550"),
        (&[five, ten, "snn-mnist-rates-100-baseline-seeds-19-23"][..], "0.526"),
        (&[five, ten, "snn-mnist-rates-100-baseline-seeds-19-23", "snn-mnist-rates-100-baseline-seed-29"][..], "0.520"),
        (&[five, ten, "snn-mnist-rates-100-baseline-seeds-19-23", "snn-mnist-rates-100-baseline-seed-29", "snn-mnist-rates-100-baseline-seed-31"][..], "0.531"),
    ] {
        let mut merged = Vec::new();
        for side in ["sbp.json", "nosbp.json"] {
            let out = dir.join(folders.last().unwrap()).join(side.replace(".json", ""));
            let parts: Vec<String> = folders.iter().map(|f| kept.join(f).join(side).to_str().unwrap().to_string()).collect();
            let mut args: Vec<&str> = vec!["merge"];
            args.extend(parts.iter().map(String::as_str));
            args.extend(["--out", out.to_str().unwrap()]);
            let o = spikelab(&args);
            assert!(o.status.success(), "{}", stderr(&o));
            merged.push(out.join("report.json"));
        }
        let v = run_json(&["compare", merged[0].to_str().unwrap(), merged[1].to_str().unwrap(), "--json"]);
        assert_eq!(format!("{:.3}", v["ratio"].as_f64().unwrap()), ratio, "{folders:?}: {v}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `merge` joins the released reference code's reports, which carry only test error curves (no
/// cosines, training errors, times or operation counts): the kept released RBM report, split in
/// two and merged, gives back its accuracy and its cost ratio.
#[test]
fn merge_joins_reports_without_cosines() {
    let dir = scratch("merge-released");
    let kept = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/results/rbm-mnist-50k-released");
    let whole: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(kept.join("sbp.json")).unwrap()).unwrap();
    let seeds = whole["seeds"].as_array().unwrap().len();
    let mut halves = Vec::new();
    for (name, range) in [("first", 0..seeds / 2), ("rest", seeds / 2..seeds)] {
        let mut half = whole.clone();
        for field in ["seeds", "test_error_curves"] {
            half[field] = serde_json::Value::Array(whole[field].as_array().unwrap()[range.clone()].to_vec());
        }
        let path = dir.join(format!("{name}.json"));
        std::fs::write(&path, half.to_string()).unwrap();
        halves.push(path);
    }
    let merged_dir = dir.join("merged");
    let merged = run_json(&["merge", halves[0].to_str().unwrap(), halves[1].to_str().unwrap(), "--json", "--out", merged_dir.to_str().unwrap()]);
    assert_eq!((&merged["seeds"], &merged["test_error_curves"]), (&whole["seeds"], &whole["test_error_curves"]));
    assert_eq!(merged["accuracy"]["best_epoch"], whole["accuracy"]["best_epoch"]);
    for stat in ["mean", "std"] {
        let (got, want) = (merged["accuracy"][stat].as_f64().unwrap(), whole["accuracy"][stat].as_f64().unwrap());
        assert!((got - want).abs() < 1e-9, "accuracy {stat}: {got} against {want}");
    }
    for absent in ["cosine_similarity", "test_cosine_curves", "train_error_curves", "seconds_per_run", "train_dense_macs_per_sample", "dataset", "network", "hosts"] {
        assert!(merged[absent].is_null(), "{absent} in {merged}");
    }
    let o = spikelab(&["compare", merged_dir.join("report.json").to_str().unwrap(), kept.join("plain.json").to_str().unwrap(), "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let direct = spikelab(&["compare", kept.join("sbp.json").to_str().unwrap(), kept.join("plain.json").to_str().unwrap(), "--json"]);
    let ratio = |o: Output| last_json(&o)["ratio"].as_f64().unwrap();
    assert_eq!(ratio(o), ratio(direct));
    // A field only some reports have cannot be merged: the error names a report without it.
    let mut with_cosines: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&halves[0]).unwrap()).unwrap();
    with_cosines["test_cosine_curves"] = with_cosines["test_error_curves"].clone();
    std::fs::write(&halves[0], with_cosines.to_string()).unwrap();
    fails_with(&["merge", halves[0].to_str().unwrap(), halves[1].to_str().unwrap()], &["`test_cosine_curves`", "rest.json", "has not"]);
    let empty = dir.join("empty.json");
    std::fs::write(&empty, r#"{"task": "sbp-rbm", "seeds": [], "test_error_curves": []}"#).unwrap();
    fails_with(&["merge", empty.to_str().unwrap(), empty.to_str().unwrap()], &["no seeds"]);
    fails_with(&["compare", empty.to_str().unwrap(), halves[1].to_str().unwrap()], &["empty.json", "no seed's curve"]);
    fails_with(&["compare", halves[1].to_str().unwrap(), halves[1].to_str().unwrap(), "--cosine"], &["rest.json", "no `test_cosine_curves`"]);
    std::fs::write(&empty, r#"{"task": "sbp-rbm", "seeds": [1], "test_error_curves": [["0.5"]]}"#).unwrap();
    fails_with(&["compare", empty.to_str().unwrap(), halves[1].to_str().unwrap()], &["empty.json", "lists of numbers"]);
    let other = dir.join("other.json");
    std::fs::write(&empty, r#"{"task": "sbp-rbm", "seeds": [1], "test_error_curves": [[]]}"#).unwrap();
    std::fs::write(&other, r#"{"task": "sbp-rbm", "seeds": [2], "test_error_curves": [[0.5]]}"#).unwrap();
    fails_with(&["merge", empty.to_str().unwrap(), other.to_str().unwrap()], &["curve is empty"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A group of reports shares one set of error levels, as the paper's comparison groups did: a
/// third report whose best error is worse raises the lowest level, the first two costs move
/// with it, and each report's cost over the group's levels is the same in any order.
#[test]
fn compare_costs_a_group_over_its_joint_levels() {
    let kept = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/results");
    let sbp = kept.join("snn-mnist-rates-100-baseline/sbp.json");
    let baseline = kept.join("snn-mnist-rates-100-baseline/nosbp.json");
    // The same baseline over 25 epochs: its best seed-mean error, 4.17 %, is above the 100-epoch runs'.
    let short = kept.join("snn-mnist-rates-baseline/nosbp.json");
    let compare = |reports: &[&Path], out: Option<&Path>| {
        let mut args: Vec<&str> = vec!["compare"];
        args.extend(reports.iter().map(|p| p.to_str().unwrap()));
        args.push("--json");
        if let Some(dir) = out {
            args.extend(["--out", dir.to_str().unwrap()]);
        }
        run_json(&args)
    };
    let dir = scratch("compare-group");
    let pair = compare(&[&sbp, &baseline], None);
    let group = compare(&[&sbp, &baseline, &short], Some(&dir));
    let reversed = compare(&[&short, &baseline, &sbp], None);
    let level = |v: &serde_json::Value| format!("{:.4}", v["levels"][0].as_f64().unwrap());
    // The figures docs/results.md quotes for the pair and the group.
    assert_eq!((level(&pair), format!("{:.3}", pair["ratio"].as_f64().unwrap())), ("0.0364".into(), "0.481".into()));
    assert_eq!((level(&group), format!("{:.3}", group["ratio"].as_f64().unwrap())), ("0.0417".into(), "0.712".into()));
    assert!(pair["further"].is_null() && group["further"].as_array().unwrap().len() == 1, "{group}");
    assert_eq!(group["levels"], reversed["levels"]);
    assert_eq!((&group["cost_a"], &group["cost_b"], &group["further"][0]["cost"]), (&reversed["further"][0]["cost"], &reversed["cost_b"], &reversed["cost_a"]));
    let over = group["further"][0]["cost_over_b"].as_f64().unwrap();
    assert!((over - group["further"][0]["cost"]["mean"].as_f64().unwrap() / group["cost_b"]["mean"].as_f64().unwrap()).abs() < 1e-12);
    // The figure has a bar, with its value, for each of the three.
    let svg = std::fs::read_to_string(dir.join("cost.svg")).unwrap();
    for cost in [&group["cost_a"], &group["cost_b"], &group["further"][0]["cost"]] {
        let label = format!("{:.3e}", cost["mean"].as_f64().unwrap());
        assert!(svg.contains(&label), "{label} not in cost.svg");
    }
    // The two baseline runs share a description, so their legend rows also name their files;
    // the SBP run's row is its description alone.
    for file in ["snn-mnist-rates-100-baseline/nosbp.json", "snn-mnist-rates-baseline/nosbp.json"] {
        assert!(svg.contains(file), "{file} not in cost.svg");
    }
    assert!(!svg.contains("snn-mnist-rates-100-baseline/sbp.json"));
    let seven = [sbp.to_str().unwrap(); 7];
    fails_with(&[&["compare"][..], &seven[..]].concat(), &["2 to 6 reports", "not 7"]);
    let rbm = kept.join("rbm-mnist-50k-spikelab/sbp.json");
    fails_with(&["compare", sbp.to_str().unwrap(), baseline.to_str().unwrap(), rbm.to_str().unwrap()], &["rbm-mnist-50k-spikelab/sbp.json", "compare runs of one system"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The BP-share curve's 100-epoch runs (one seed a point) stay readable and give the best
/// accuracies and epochs docs/results.md quotes.
#[test]
fn kept_bp_share_runs_give_the_quoted_accuracies() {
    let kept = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/results/smlp-bp-share-100");
    for (bp_every, best, epoch) in [(1, 98.69, 60), (2, 98.74, 58), (4, 98.71, 92), (0, 93.69, 54)] {
        let path = kept.join(format!("bp-every-{bp_every}.json"));
        let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(format!("{:.2}", v["accuracy"]["mean"].as_f64().unwrap()), format!("{best:.2}"), "{}", path.display());
        assert_eq!(v["accuracy"]["best_epoch"], epoch, "{}", path.display());
        assert_eq!(v["seeds"], serde_json::json!([90]), "{}", path.display());
        assert_eq!(v["network"]["bp_every"], bp_every, "{}: {}", path.display(), v["network"]);
    }
}
