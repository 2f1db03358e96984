//! The `spikelab` binary as a user meets it: outputs, files, resume, and errors.

mod common;

use common::{fails_with, run_json, scratch, spikelab, stderr, write_config};
use std::path::{Path, PathBuf};

const TINY: &str = r#"
task = "train"
[data]
dataset = "embedded"
train_limit = 600
test_limit = 200
[model]
input = [784]
layers = [
  { type = "linear", out = 32 },
  { type = "lif" },
  { type = "linear", out = 10 },
  { type = "lif" },
]
[train]
epochs = 1
batch_size = 50
time_steps = 3
encoder = { kind = "rate" }
loss = { kind = "count-ce" }
"#;

#[test]
fn train_json_outputs_and_files_then_eval_and_resume() {
    let dir = scratch("train");
    let config = write_config(&dir, TINY);
    let out = dir.join("out");
    let o = spikelab(&["train", "--config", config.to_str().unwrap(), "--out", out.to_str().unwrap(), "--json", "--threads", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let stdout = String::from_utf8(o.stdout).unwrap();
    let last = stdout.lines().last().unwrap();
    let v: serde_json::Value = serde_json::from_str(last).unwrap();
    for key in ["test_accuracy", "train_seconds", "samples_per_second", "epochs", "spike_rates", "energy_pj_per_sample"] {
        assert!(!v[key].is_null(), "missing {key} in {last}");
    }
    for key in ["dense_mac", "sparse_ac", "neuron_updates"] {
        assert!(v["ops"][key].as_u64().is_some(), "missing ops.{key}");
    }
    // The host record: what the figures were computed with.
    assert!(v["host"]["rustc"].as_str().unwrap().starts_with("rustc ") && v["host"]["simd"].is_array(), "{last}");
    let acc = v["test_accuracy"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&acc));
    assert_eq!(v["spike_rates"].as_object().unwrap().len(), 2);
    for file in ["config.toml", "metrics.jsonl", "checkpoint.safetensors", "curve.png", "curve.svg", "raster.png", "raster.svg", "report.json"] {
        assert!(out.join(file).is_file(), "{file} not written");
    }
    assert!(std::fs::read(out.join("curve.png")).unwrap().starts_with(b"\x89PNG"));

    let ckpt = out.join("checkpoint.safetensors");
    let v2 = run_json(&["eval", "--checkpoint", ckpt.to_str().unwrap(), "--json"]);
    assert_eq!(v2["test_accuracy"], v["test_accuracy"], "eval of the checkpoint must reproduce the run's accuracy");

    let changed = write_config(&dir, &TINY.replace("time_steps = 3", "time_steps = 4"));
    let o = spikelab(&["run", changed.to_str().unwrap(), "--out", out.to_str().unwrap(), "--resume", "--epochs", "2"]);
    assert_eq!(o.status.code(), Some(1), "resuming with a different config must be refused");
    assert!(stderr(&o).contains("differs from the config"), "{}", stderr(&o));
    let o = spikelab(&["train", "--out", out.to_str().unwrap(), "--resume", "--epochs", "2", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("resuming after epoch 1"), "{}", stderr(&o));
    let metrics = std::fs::read_to_string(out.join("metrics.jsonl")).unwrap();
    assert_eq!(metrics.lines().count(), 2);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_configs_and_inputs_give_one_clear_error() {
    let dir = scratch("errors");
    let config = write_config(&dir, &TINY.replace("epochs = 1", "epochs = 1\nlearning_rate = 0.1"));
    fails_with(&["train", "--config", config.to_str().unwrap()], &["learning_rate", "run.toml"]);
    let config = write_config(&dir, &TINY.replace("{ type = \"lif\" },\n  { type = \"linear\", out = 10 }", "{ type = \"lif\", tau = -3.0 },\n  { type = \"linear\", out = 10 }"));
    fails_with(&["train", "--config", config.to_str().unwrap()], &["model.layers[1].tau"]);
    let config = write_config(&dir, &TINY.replace("out = 10", "out = 7"));
    fails_with(&["train", "--config", config.to_str().unwrap()], &["7 outputs", "10 classes"]);
    fails_with(&["train", "--config", "/nonexistent/x.toml"], &["/nonexistent/x.toml"]);
    fails_with(&["train", "--dataset", "mnist", "--data-dir", "/nonexistent-data"], &["/nonexistent-data", "--data-dir"]);
    let bad = dir.join("bad.safetensors");
    std::fs::write(&bad, b"garbage").unwrap();
    fails_with(&["eval", "--checkpoint", bad.to_str().unwrap()], &["bad.safetensors"]);
    fails_with(&["train", "--threads", "0"], &["--threads"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn exploding_training_stops_and_keeps_the_last_checkpoint() {
    let dir = scratch("nan");
    let out = dir.join("out");
    // Epoch 1 trains normally; the step schedule then lifts Adam's rate to 3e38, which
    // overflows the weights within two steps.
    let exploding = TINY.replace("epochs = 1", "epochs = 3\nschedule = { kind = \"step\", every = 1, gamma = 3e38 }\noptimizer = { kind = \"adam\", lr = 1.0 }");
    let config = write_config(&dir, &exploding);
    let o = spikelab(&["train", "--config", config.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("training stopped") && err.contains("epoch 2") && err.contains("checkpoint is kept"), "{err}");
    assert_eq!(std::fs::read_to_string(out.join("metrics.jsonl")).unwrap().lines().count(), 1);
    // The kept checkpoint is the intact epoch-1 one.
    let o = spikelab(&["eval", "--checkpoint", out.join("checkpoint.safetensors").to_str().unwrap(), "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `bench train` on every shipped benchmark config (a few small batches each): one JSON line
/// with the figures the peer comparison reads, and a clear error for a config it cannot time.
#[test]
fn bench_train_reports_throughput_and_memory_for_every_config() {
    let configs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/configs");
    let mut names: Vec<PathBuf> = std::fs::read_dir(&configs).unwrap().map(|e| e.unwrap().path()).collect();
    names.sort();
    assert_eq!(names.len(), 5, "{names:?}");
    for config in &names {
        let v = run_json(&["bench", "train", "--config", config.to_str().unwrap(), "--batches", "1", "--batch-size", "4", "--json"]);
        assert_eq!(v["samples"], 4, "{v}");
        assert!(v["samples_per_second"].as_f64().unwrap() > 0.0, "{v}");
        assert!(v["peak_rss_bytes"].as_u64().unwrap() >= v["baseline_rss_bytes"].as_u64().unwrap(), "{v}");
        assert!(v["gemm_gflops"].as_f64().unwrap() > 0.0 && v["dense_equivalent_gflops"].as_f64().unwrap() > 0.0, "{v}");
        assert!(v["host"]["cpu"].is_string(), "{v}");
    }
    let dir = scratch("bench");
    let config = write_config(&dir, TINY);
    fails_with(&["bench", "train", "--config", config.to_str().unwrap(), "--batches", "100"], &["600 training samples", "100 timed batches"]);
    fails_with(&["bench", "train", "--config", config.to_str().unwrap(), "--batches", "0"], &["--batches"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The simulation tasks (single-neuron experiments, the CUBA network) run from their configs, with
/// the simulation fields in the JSON, and reject bad settings by name.
#[test]
fn simulations_run_and_reject_bad_settings() {
    let experiments = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments");
    for (file, key) in [("tvlif2hh-vs-hh.toml", "max_abs_dv_mv"), ("hh-accuracy.toml", "default_within_tolerance"), ("slif2hh-waveforms.toml", "results")] {
        let v = run_json(&["run", experiments.join(file).to_str().unwrap(), "--json"]);
        for k in ["wall_seconds", "simulated_seconds", "neurons", "synapses", "mean_rate_hz", "host", key] {
            assert!(!v[k].is_null(), "{file}: no {k} in {v}");
        }
    }
    let dir = scratch("neuron");
    let base = std::fs::read_to_string(experiments.join("tvlif2hh-vs-hh.toml")).unwrap();
    let config = write_config(&dir, &base.replace("dt = [0.001, 0.01]", "dt = [-0.01]"));
    fails_with(&["run", config.to_str().unwrap()], &["dt", "-0.01"]);
    let config = write_config(&dir, &base.replace("integrator = \"rk4\"", "integrator = \"leapfrog\""));
    fails_with(&["run", config.to_str().unwrap()], &["leapfrog"]);
    let config = write_config(&dir, &base.replace("kind = \"sine\"", "kind = \"chirp\""));
    fails_with(&["run", config.to_str().unwrap()], &["chirp"]);
    let config = write_config(&dir, &base.replace("integrator = \"rk4\"", "integrator = \"exponential-euler\""));
    fails_with(&["run", config.to_str().unwrap()], &["integrator", "euler or rk4"]);
    let config = write_config(&dir, &base);
    fails_with(&["run", config.to_str().unwrap(), "--epochs", "3"], &["--epochs", "tvlif2hh-vs-hh"]);
    // The CUBA network, shortened: the simulation fields, and its errors by key.
    let cuba = std::fs::read_to_string(experiments.join("cuba.toml")).unwrap().replace("duration = 10000.0", "duration = 200.0");
    let config = write_config(&dir, &cuba);
    let v = run_json(&["run", config.to_str().unwrap(), "--json"]);
    assert_eq!((v["neurons"].as_u64(), v["steps"].as_u64()), (Some(4000), Some(2000)), "{v}");
    assert!(v["synapses"].as_u64().unwrap() > 300_000 && v["mean_rate_hz"].as_f64().unwrap() > 0.0, "{v}");
    let config = write_config(&dir, &cuba.replace("pre = [3200, 4000]", "pre = [3200, 4500]"));
    fails_with(&["run", config.to_str().unwrap()], &["projections[1].pre"]);
    let config = write_config(&dir, &cuba.replace("to = \"P\"\npre = [0, 3200]", "to = \"Q\"\npre = [0, 3200]"));
    fails_with(&["run", config.to_str().unwrap()], &["projections[0].to", "\"Q\""]);
    let config = write_config(&dir, &cuba.replace("dt = 0.1", "dt = -0.1"));
    fails_with(&["run", config.to_str().unwrap()], &["dt"]);
    let config = write_config(&dir, &cuba.replace("tau_m = 20.0", "tau_m = 20.0, tau_membrane = 3.0"));
    fails_with(&["run", config.to_str().unwrap()], &["tau_membrane"]);
    let config = write_config(&dir, &cuba.replace("model = \"lif\"", "model = \"hodgkin\""));
    fails_with(&["run", config.to_str().unwrap()], &["hodgkin", "tv-lif2hh"]);
    // `sim` with recordings writes the report, the plots and the recorded data.
    let recorded = format!("{cuba}\n[record]\nspikes = {{ population = \"P\", neurons = 50 }}\nvoltage = {{ population = \"P\", neurons = [0, 3999] }}\nstate = [{{ population = \"P\", variable = \"ge\", neurons = [7] }}]\n");
    let config = write_config(&dir, &recorded);
    let out = dir.join("out");
    let o = spikelab(&["sim", "--config", config.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    for f in ["report.json", "sim_raster.png", "sim_raster.svg", "sim_P_v.png", "sim_P_v.svg", "sim_P_ge.png", "sim_P_ge.svg", "sim_spikes.csv"] {
        assert!(out.join(f).is_file(), "missing {f}");
    }
    let state = std::fs::read_to_string(out.join("sim_state.csv")).unwrap();
    let mut lines = state.lines();
    assert_eq!(lines.next(), Some("time_ms,P.v[0],P.v[3999],P.ge[7]"));
    assert_eq!(lines.count(), 2_000, "one row per step: 200 ms at 0.1 ms");
    let config = write_config(&dir, &recorded.replace("variable = \"ge\"", "variable = \"w\""));
    fails_with(&["sim", "--config", config.to_str().unwrap()], &["record.state[0].variable", "\"w\"", "v, ge, gi"]);
    let config = write_config(&dir, &recorded.replace("neurons = [0, 3999]", "neurons = [0, 4000]"));
    fails_with(&["sim", "--config", config.to_str().unwrap()], &["record.voltage.neurons", "4000"]);
    let config = write_config(&dir, &recorded.replace("population = \"P\", neurons = 50", "population = \"X\", neurons = 50"));
    fails_with(&["sim", "--config", config.to_str().unwrap()], &["record.spikes.population", "\"X\""]);
    fails_with(&["sim", "--config", experiments.join("../experiments/mnist-mlp.toml").to_str().unwrap()], &["not a simulation task"]);
    fails_with(&["run", experiments.join("hh-accuracy.toml").to_str().unwrap(), "--out", out.to_str().unwrap()], &["--out", "hh-accuracy"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A plastic network (the STDP experiment, shortened) reports its final weights: their summary
/// in the JSON, every synapse in `sim_weights.csv`, a histogram; bad starting weights are named.
#[test]
fn plastic_networks_report_their_final_weights() {
    let experiments = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments");
    let song = std::fs::read_to_string(experiments.join("stdp-song2000.toml")).unwrap().replace("late_window = 20000.0", "late_window = 500.0");
    let dir = scratch("weights");
    let weights_after = |duration: &str| {
        let config = write_config(&dir, &song.replace("duration = 100000.0", &format!("duration = {duration}")));
        let out = dir.join(format!("out-{duration}"));
        let report = run_json(&["run", config.to_str().unwrap(), "--json", "--out", out.to_str().unwrap()]);
        let csv = std::fs::read_to_string(out.join("sim_weights.csv")).unwrap();
        let mut lines = csv.lines();
        assert_eq!(lines.next(), Some("projection,pre,post,weight"));
        let weights: Vec<f64> = lines.map(|l| l.rsplit(',').next().unwrap().parse().unwrap()).collect();
        assert!(out.join("sim_weights_0.png").is_file() && out.join("sim_projection0_w.svg").is_file());
        let state = std::fs::read_to_string(out.join("sim_state.csv")).unwrap();
        assert!(state.starts_with("time_ms,projection0.w[0],projection0.w[1],projection0.w[2],projection0.w[3]\n"), "{state}");
        let last: Vec<f64> = state.lines().last().unwrap().split(',').skip(1).map(|x| x.parse().unwrap()).collect();
        (report, weights, last)
    };
    let (_, start, _) = weights_after("600.0");
    let (v, end, sampled) = weights_after("2000.0");
    assert_eq!(sampled, end[..4], "the last sample (at 2000 ms, every 100 ms) is the final weights");
    let w = &v["weights"][0];
    assert_eq!((w["projection"].as_u64(), w["plasticity"]["rule"].as_str(), w["weight"]["uniform"][1].as_f64()), (Some(0), Some("stdp"), Some(0.6)), "{w}");
    let late = v["late_rates_hz"]["neuron"].as_f64().unwrap();
    let late_spikes = late * 0.5;
    assert!(late_spikes >= 1.0 && (late_spikes - late_spikes.round()).abs() < 1e-9, "a whole number of spikes in the last 500 ms: {late} Hz");
    let summary = &w["final"];
    assert_eq!(summary["synapses"].as_u64(), Some(1000));
    assert_eq!(summary["histogram"].as_array().unwrap().iter().map(|n| n.as_u64().unwrap()).sum::<u64>(), 1000);
    assert_eq!(end.len(), 1000);
    let mean = end.iter().sum::<f64>() / 1000.0;
    assert!((summary["mean"].as_f64().unwrap() - mean).abs() < 1e-9 && end.iter().all(|w| (0.0..=0.6).contains(w)), "{summary}");
    let moved = start.iter().zip(&end).filter(|(a, b)| (*a - *b).abs() > 1e-6).count();
    assert!(moved > 900, "only {moved} of 1000 weights moved from 0.6 s to 2 s of STDP");
    let config = write_config(&dir, &song.replace("uniform = [0.0, 0.6]", "uniform = [0.0, 0.9]"));
    fails_with(&["run", config.to_str().unwrap()], &["projections[0].weight", "[0, 0.9] is outside the rule's bounds [0, 0.6]"]);
    let config = write_config(&dir, &song.replace("late_window = 500.0", "late_window = 200000.0"));
    fails_with(&["run", config.to_str().unwrap()], &["late_window", "200000"]);
    let config = write_config(&dir, &song.replace("uniform = [0.0, 0.6]", "normal = [0.0, 0.6]"));
    fails_with(&["run", config.to_str().unwrap()], &["normal", "uniform"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The SBP SNN task on a slice of the embedded MNIST subset: two seeds, the report's fields,
/// `compare` of two reports, and its flag and config errors.
#[test]
fn sbp_snn_runs_over_seeds_and_compares() {
    let dir = scratch("sbp");
    let experiments = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments");
    let shrink = |text: String| {
        text.replace("dataset = \"mnist\"", "dataset = \"embedded\"\ntrain_samples = 300\ntest_samples = 100")
            .replace("epochs = 100", "epochs = 2")
            .replace("layers = [784, 500, 10]", "layers = [784, 40, 10]\nduration = 1.0")
    };
    let mut reports = Vec::new();
    for name in ["sbp-snn-mnist.toml", "sbp-snn-mnist-nosbp.toml"] {
        let config = write_config(&dir, &shrink(std::fs::read_to_string(experiments.join(name)).unwrap()));
        let out = dir.join(name.replace(".toml", ""));
        let v = run_json(&["run", config.to_str().unwrap(), "--seeds", "2", "--json", "--out", out.to_str().unwrap()]);
        assert_eq!(v["seeds"].as_array().unwrap().len(), 2, "{v}");
        assert_eq!(v["test_error_curves"][1].as_array().unwrap().len(), 2, "{v}");
        let accuracy = v["accuracy"]["mean"].as_f64().unwrap();
        assert!(accuracy > 30.0 && accuracy <= 100.0, "{v}");
        assert!(v["training_cost"]["mean"].as_f64().unwrap() > 0.0 && v["train_dense_macs_per_sample"].as_f64().unwrap() > 0.0, "{v}");
        // The accuracy curves: per seed and their mean, named by the config's description.
        let svg = std::fs::read_to_string(out.join("accuracy.svg")).unwrap();
        assert!(svg.contains(&format!("{} (2 seeds)", v["description"].as_str().unwrap())) && out.join("accuracy.png").exists());
        reports.push(out.join("report.json"));
    }
    // The same two seeds run apart and merged: the two-seed run's figures, to the bit.
    let mut parts = Vec::new();
    for seed in [0, 3] {
        let text = shrink(std::fs::read_to_string(experiments.join("sbp-snn-mnist.toml")).unwrap()).replace("seeds = [0, 3, 42, 512, 2020]", &format!("seeds = [{seed}]"));
        let out = dir.join(format!("seed{seed}"));
        let o = spikelab(&["run", write_config(&dir, &text).to_str().unwrap(), "--out", out.to_str().unwrap()]);
        assert!(o.status.success(), "{}", stderr(&o));
        parts.push(out.join("report.json"));
    }
    let merged_dir = dir.join("merged");
    let merged = run_json(&["merge", parts[0].to_str().unwrap(), parts[1].to_str().unwrap(), "--json", "--out", merged_dir.to_str().unwrap()]);
    let both: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&reports[0]).unwrap()).unwrap();
    for field in ["seeds", "accuracy", "cosine_similarity", "training_cost", "test_error_curves", "test_cosine_curves", "train_error_curves", "train_dense_macs_per_sample"] {
        assert_eq!(merged[field], both[field], "{field}");
    }
    // Both parts ran here: one machine, listed once.
    assert!(both["host"]["cpu"].is_string(), "{both}");
    assert_eq!(merged["hosts"], serde_json::json!([both["host"]]));
    // A report that does not say where it ran is listed as unknown, not left out.
    let mut silent: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&parts[1]).unwrap()).unwrap();
    silent.as_object_mut().unwrap().remove("host");
    let silent_path = dir.join("seed3-without-host.json");
    std::fs::write(&silent_path, silent.to_string()).unwrap();
    let mixed = run_json(&["merge", parts[0].to_str().unwrap(), silent_path.to_str().unwrap(), "--json"]);
    assert_eq!(mixed["hosts"], serde_json::json!([both["host"], null]));
    assert!(merged_dir.join("report.json").is_file() && merged_dir.join("accuracy.svg").is_file());
    fails_with(&["merge", parts[0].to_str().unwrap(), reports[0].to_str().unwrap()], &["seed 0", "more than one report"]);
    fails_with(&["merge", parts[0].to_str().unwrap(), reports[1].to_str().unwrap()], &["differs", "`description`", "one config"]);
    fails_with(&["merge", parts[0].to_str().unwrap()], &["at least two reports"]);
    let plots = dir.join("compare");
    let v = run_json(&["compare", reports[0].to_str().unwrap(), reports[1].to_str().unwrap(), "--json", "--out", plots.to_str().unwrap()]);
    assert!(v["ratio"].as_f64().unwrap() > 0.0 && v["levels"].as_array().unwrap().len() == 5, "{v}");
    // compare.json is the printed report; the cost bars carry both methods' costs.
    let saved: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(plots.join("compare.json")).unwrap()).unwrap();
    assert_eq!(saved, v);
    let svg = std::fs::read_to_string(plots.join("cost.svg")).unwrap();
    for cost in ["cost_a", "cost_b"] {
        let label = format!("{:.3e}", v[cost]["mean"].as_f64().unwrap());
        assert!(svg.contains(&label), "{label} not in cost.svg");
    }
    assert!(svg.contains(&format!("ratio {:.3}", v["ratio"].as_f64().unwrap())) && plots.join("cost.png").exists());
    let v = run_json(&["compare", reports[0].to_str().unwrap(), reports[1].to_str().unwrap(), "--cosine", "--json"]);
    assert!(v["error"] == "1 - cosine" && v["ratio"].as_f64().unwrap() > 0.0, "{v}");
    let config = write_config(&dir, &shrink(std::fs::read_to_string(experiments.join("sbp-snn-mnist.toml")).unwrap()));
    fails_with(&["run", config.to_str().unwrap(), "--seeds", "9"], &["--seeds", "5 seeds"]);
    fails_with(&["run", config.to_str().unwrap(), "--time-steps", "9"], &["--time-steps", "sbp-snn"]);
    let config = write_config(&dir, &shrink(std::fs::read_to_string(experiments.join("sbp-snn-mnist.toml")).unwrap()).replace("[784, 40, 10]", "[700, 40, 10]"));
    fails_with(&["run", config.to_str().unwrap()], &["snn.layers", "784 inputs"]);
    fails_with(&["compare", config.to_str().unwrap(), reports[1].to_str().unwrap()], &["not a JSON report"]);
    let config = write_config(&dir, &shrink(std::fs::read_to_string(experiments.join("sbp-snn-mnist.toml")).unwrap()).replace("learning_rates = [0.1, 0.05]", "learning_rates = [1e4, 1e4]"));
    fails_with(&["run", config.to_str().unwrap(), "--seeds", "1"], &["epoch 1", "the weights diverged", "lower the learning rates"]);
    fails_with(&["run", experiments.join("mnist-mlp.toml").to_str().unwrap(), "--seeds", "2"], &["--seeds"]);
    // The RBM system: one seed, then a comparison across systems is refused.
    let rbm = shrink(std::fs::read_to_string(experiments.join("sbp-rbm-mnist.toml")).unwrap()).replace("epochs = 30", "epochs = 2").replace("\nduration = 1.0", "");
    let config = write_config(&dir, &rbm);
    let out = dir.join("rbm");
    let v = run_json(&["run", config.to_str().unwrap(), "--seeds", "1", "--json", "--out", out.to_str().unwrap()]);
    assert!(v["accuracy"]["mean"].as_f64().unwrap() > 30.0 && v["network"]["energy"]["kind"] == "sbp", "{v}");
    fails_with(&["compare", out.join("report.json").to_str().unwrap(), reports[1].to_str().unwrap()], &["compare runs of one system"]);
    let config = write_config(&dir, &rbm.replace("[rbm]", "[snn]"));
    fails_with(&["run", config.to_str().unwrap()], &["unknown field"]);
    let config = write_config(&dir, rbm.split("[rbm]").next().unwrap());
    fails_with(&["run", config.to_str().unwrap()], &["[rbm]"]);
    // The S-MLP system, tiny: one seed, two epochs of 30 iterations.
    let smlp = std::fs::read_to_string(experiments.join("sbp-smlp-mnist.toml"))
        .unwrap()
        .replace("dataset = \"mnist\"", "dataset = \"embedded\"\ntrain_samples = 300\ntest_samples = 100")
        .replace("epochs = 100", "epochs = 2")
        .replace("layers = [784, 500, 10]", "layers = [784, 20, 10]")
        .replace("time_steps = 20", "time_steps = 5")
        .replace("batch_size = 100", "batch_size = 10");
    let config = write_config(&dir, &smlp);
    let v = run_json(&["run", config.to_str().unwrap(), "--seeds", "1", "--json"]);
    let curve = &v["test_error_curves"][0];
    assert!(curve[1].as_f64() < curve[0].as_f64() && v["accuracy"]["mean"].as_f64().unwrap() > 20.0 && v["network"]["bp_every"] == 10 && v["network"]["sbp_hook"] == "per-step", "{v}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `[noise_test] best_epoch`: the epoch of highest test accuracy is the one metrics.jsonl shows,
/// its saved state is what gets noise-tested (level 0 repeats its accuracy), the last epoch's
/// figures stay the run's own, and a resumed run keeps a best epoch from before the resume.
#[test]
fn best_epoch_is_the_most_accurate_one_and_survives_resume() {
    let dir = scratch("best-epoch");
    // A learning rate high enough that accuracy swings: with seed 1 epoch 5 beats epoch 6.
    let text = TINY
        .replace("  { type = \"lif\" },\n  { type = \"linear\", out = 10 },\n  { type = \"lif\" },", "  { type = \"relu\" },\n  { type = \"linear\", out = 10 },")
        .replace("epochs = 1", "epochs = 6")
        .replace("time_steps = 3", "time_steps = 1")
        .replace("kind = \"rate\"", "kind = \"direct\"")
        .replace("count-ce", "rate-ce")
        + "optimizer = { kind = \"sgd\", lr = 1.0 }\n[noise_test]\nlevels = [0.0, 0.3]\nbest_epoch = true\n";
    let config = write_config(&dir, &text);
    let run = |out: &Path, extra: &[&str]| -> serde_json::Value {
        let mut args = vec!["run", config.to_str().unwrap(), "--seed", "1", "--threads", "1", "--json", "--out", out.to_str().unwrap()];
        args.extend_from_slice(extra);
        run_json(&args)
    };
    let straight = dir.join("straight");
    let v = run(&straight, &[]);
    let accuracies: Vec<f64> =
        std::fs::read_to_string(straight.join("metrics.jsonl")).unwrap().lines().map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["test_accuracy"].as_f64().unwrap()).collect();
    let top = accuracies.iter().cloned().fold(f64::MIN, f64::max);
    let best = &v["best_epoch"];
    let epoch = best["epoch"].as_u64().unwrap() as usize;
    assert_eq!(epoch, 1 + accuracies.iter().position(|&a| a == top).unwrap(), "{v}");
    assert!(epoch < 6 && accuracies[5] < top, "the test needs a best epoch before the last: {accuracies:?}");
    assert_eq!(best["test_accuracy"].as_f64().unwrap(), top);
    let clean = |n: &serde_json::Value| n["correct"][0].as_f64().unwrap() / 200.0;
    assert_eq!(clean(&best["noise_test"]), top, "the noise test ran on another state than the best epoch's: {v}");
    assert_eq!(clean(&v["noise_test"]), v["test_accuracy"].as_f64().unwrap(), "{v}");
    assert_eq!(v["test_accuracy"].as_f64().unwrap(), accuracies[5], "the last epoch's figures are the run's: {v}");

    let resumed = dir.join("resumed");
    run(&resumed, &["--epochs", &epoch.to_string()]);
    let r = run_json(&["train", "--out", resumed.to_str().unwrap(), "--resume", "--epochs", "6", "--threads", "1", "--json"]);
    assert_eq!(r["best_epoch"], v["best_epoch"], "resumed {r}\nstraight {v}");
    std::fs::remove_file(resumed.join("best-epoch.safetensors")).unwrap();
    fails_with(&["train", "--out", resumed.to_str().unwrap(), "--resume", "--epochs", "7"], &["best-epoch.safetensors is missing"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The sparsity experiments, shrunk to the embedded subset: the Sparse CNN-2 with its noise
/// test, permuted-MNIST continual learning with dendritic layers, `bench sparse`, and their
/// config errors.
#[test]
fn sparse_experiments_run_and_reject_bad_settings() {
    let dir = scratch("sparse");
    let experiments = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments");
    let cnn = std::fs::read_to_string(experiments.join("sparse-cnn2-mnist.toml"))
        .unwrap()
        .replace("dataset = \"mnist\"", "dataset = \"embedded\"\ntrain_limit = 300\ntest_limit = 100")
        .replace("epochs = 10", "epochs = 1")
        .replace("[noise_test]", "[noise_test]\nlevels = [0.0, 0.25, 0.5]");
    let config = write_config(&dir, &cnn);
    let v = run_json(&["run", config.to_str().unwrap(), "--json"]);
    let correct: Vec<u64> = v["noise_test"]["correct"].as_array().unwrap().iter().map(|c| c.as_u64().unwrap()).collect();
    assert_eq!(correct.len(), 3, "{v}");
    assert_eq!(correct[0], (v["test_accuracy"].as_f64().unwrap() * 100.0).round() as u64, "{v}");
    assert_eq!(v["noise_test"]["score"].as_u64().unwrap(), correct.iter().sum::<u64>(), "{v}");
    let config = write_config(&dir, &cnn.replace("k = 400", "k = 5000"));
    fails_with(&["run", config.to_str().unwrap()], &["model.layers[3].k", "4608"]);
    let config = write_config(&dir, &cnn.replace("kept_weights = 0.3", "kept_weights = 30"));
    fails_with(&["run", config.to_str().unwrap()], &["model.layers[8].kept_weights"]);
    let config = write_config(&dir, &cnn.replace("levels = [0.0, 0.25, 0.5]", "levels = [2.0]"));
    fails_with(&["run", config.to_str().unwrap()], &["noise_test.levels"]);

    let pmnist = std::fs::read_to_string(experiments.join("dendrites-pmnist-10.toml"))
        .unwrap()
        .replace("dataset = \"mnist\"", "dataset = \"embedded\"\ntrain_limit = 1000\ntest_limit = 200")
        .replace("out = 2048", "out = 256")
        .replace("tasks = 10", "tasks = 3")
        .replace("segments = 10", "segments = 3")
        .replace("batch_size = 256", "batch_size = 50")
        .replace("lr = 5e-4", "lr = 2e-3");
    let config = write_config(&dir, &pmnist);
    let v = run_json(&["run", config.to_str().unwrap(), "--json"]);
    assert_eq!(v["task_accuracy"].as_array().unwrap().len(), 3, "{v}");
    assert!(v["mean_accuracy"].as_f64().unwrap() > 0.3 && v["context_accuracy"].as_f64().unwrap() > 0.9, "{v}");
    assert!(v["host"]["cpu"].is_string(), "{v}");
    fails_with(&["run", config.to_str().unwrap(), "--batch-size", "9"], &["--batch-size", "permuted-mnist"]);
    let config = write_config(&dir, &pmnist.replace("tasks = 3", "tasks = 0"));
    fails_with(&["run", config.to_str().unwrap()], &["continual.tasks"]);
    // A dendritic net outside the continual task has no context to give it.
    let no_context = TINY.replace("{ type = \"linear\", out = 32 }", "{ type = \"dendritic-linear\", out = 32, segments = 2, context = 784 }");
    let config = write_config(&dir, &no_context);
    fails_with(&["run", config.to_str().unwrap()], &["dendritic", "context"]);

    let v = run_json(&["bench", "sparse", "--inputs", "64", "--units", "320", "--active", "20", "--kept", "0.5,0.1", "--json"]);
    assert_eq!(v["rows"].as_array().unwrap().len(), 2, "{v}");
    assert!(v["host"]["cpu"].is_string(), "{v}");
    // Enough groups to fill the packed rows' 16-lane blocks: then packing stores less than
    // (unit, weight) pairs.
    assert!(v["rows"][1]["packed_bytes"].as_u64() < v["rows"][1]["plain_bytes"].as_u64(), "{v}");
    fails_with(&["bench", "sparse", "--active", "5000"], &["--active"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Every config in experiments/ passes `spikelab check`; a broken one is named with its key,
/// beside a good one, and the command fails.
#[test]
fn check_passes_every_experiment_config_and_names_a_broken_one() {
    let experiments = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments");
    let mut files: Vec<String> =
        std::fs::read_dir(&experiments).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|x| x == "toml")).map(|p| p.to_str().unwrap().to_string()).collect();
    files.sort();
    assert!(files.len() >= 30, "{files:?}");
    let args: Vec<&str> = std::iter::once("check").chain(files.iter().map(String::as_str)).collect();
    let o = spikelab(&args);
    let stdout = String::from_utf8(o.stdout.clone()).unwrap();
    assert!(o.status.success(), "{stdout}{}", stderr(&o));
    assert_eq!(stdout.lines().filter(|l| l.starts_with("ok ")).count(), files.len(), "{stdout}");
    assert!(stdout.contains("sbp-rbm-mnist.toml: sbp-rbm: layers [784, 500, 10], 5 seeds × 30 epochs"), "{stdout}");
    assert!(stdout.contains("stdp-song2000.toml: network: 1 neurons, 1000 synapses, 100000 ms at dt = 0.1 ms; plastic: projections[0] stdp"), "{stdout}");
    assert!(stdout.contains("stp-brian2-example.toml: network: 20 neurons, 20 synapses, 1000 ms at dt = 0.1 ms; short-term plasticity: projections[0] (U 0.1, tau_f 100 ms, tau_d 1 ms, release first), projections[1] (U 0.6, tau_f 10 ms, tau_d 100 ms, release first)"), "{stdout}");
    // Every without-SBP twin runs without SBP, and its SBP config with it: the SNN twins once
    // ran the symmetric rule with SBP, because an absent `sbp` took the struct's default.
    let line = |name: &str| stdout.lines().find(|l| l.contains(&format!("/{name}: "))).unwrap_or_else(|| panic!("{name}: {stdout}")).to_string();
    let twins: Vec<&String> = files.iter().filter(|f| f.ends_with("-nosbp.toml")).collect();
    assert!(twins.len() >= 4, "{twins:?}");
    for twin in twins {
        let name = Path::new(twin).file_name().unwrap().to_str().unwrap();
        let (without, with) = (line(name), line(&name.replace("-nosbp", "")));
        if name.starts_with("sbp-snn") {
            assert!(without.contains("\"sbp\":false") && with.contains("\"sbp\":true"), "{without}\n{with}");
        } else {
            assert!(without.contains("\"kind\":\"hopfield\"") && with.contains("\"kind\":\"sbp\""), "{without}\n{with}");
        }
    }

    let dir = scratch("check");
    let good = write_config(&dir, TINY);
    let rbm = std::fs::read_to_string(experiments.join("sbp-rbm-mnist.toml")).unwrap();
    let broken = dir.join("broken-rbm.toml");
    std::fs::write(&broken, rbm.replace("learning_rates = [0.1, 0.05]", "learning_rates = [0.1]")).unwrap();
    let o = spikelab(&["check", good.to_str().unwrap(), broken.to_str().unwrap()]);
    let stdout = String::from_utf8(o.stdout.clone()).unwrap();
    assert!(!o.status.success(), "{stdout}");
    assert!(stdout.lines().any(|l| l.starts_with("ok ") && l.contains("run.toml: train:")), "{stdout}");
    assert!(stdout.lines().any(|l| l.starts_with("FAILED") && l.contains("broken-rbm.toml") && l.contains("learning_rates")), "{stdout}");
    assert!(stderr(&o).contains("1 of 2 configs failed"), "{}", stderr(&o));
    std::fs::remove_dir_all(&dir).unwrap();
}
