//! End-to-end: a small spiking network must learn, resume exactly, and stop on NaN.

use spikelab::data::NoiseTest;
use spikelab::data::{load, Dataset, DatasetName, Encoder};
use spikelab::io::Checkpoint;
use spikelab::nn::{KWinnersSpec, LayerSpec, ModelSpec, NeuronSpec, ResetSpec, Sequential};
use spikelab::train::{Loss, OptimizerSpec, Schedule, TrainSettings, Trainer};
use std::path::Path;

fn small_split(train: usize, test: usize) -> (Dataset, Dataset) {
    let mut split = load(DatasetName::Embedded, None).unwrap();
    split.train.truncate(train);
    split.test.truncate(test);
    (split.train, split.test)
}

fn model(hidden: usize) -> ModelSpec {
    let lif = || LayerSpec::Lif(NeuronSpec { tau: Some(2.0), detach_reset: Some(true), ..Default::default() });
    ModelSpec {
        input: vec![784],
        layers: vec![
            LayerSpec::Linear { out: hidden, bias: true, kept_weights: None, mask: None, input_density: None },
            lif(),
            LayerSpec::Linear { out: 10, bias: true, kept_weights: None, mask: None, input_density: None },
            lif(),
        ],
    }
}

fn settings(epochs: usize, encoder: Encoder, lr: f32) -> TrainSettings {
    TrainSettings {
        epochs,
        batch_size: 32,
        time_steps: 4,
        seed: 3,
        loss: Loss::CountCe,
        optimizer: OptimizerSpec { lr, ..Default::default() },
        schedule: Schedule::Constant,
        encoder,
        first_epoch_batch_size: None,
        recompute: false,
    }
}

#[test]
fn small_network_learns_well_above_chance() {
    let (train, test) = small_split(2000, 500);
    for encoder in [Encoder::Direct, Encoder::Rate { max_rate: 1.0 }] {
        let net = Sequential::from_spec(&model(64), 1).unwrap();
        let mut trainer = Trainer::new(net, settings(3, encoder, 2e-3)).unwrap();
        for _ in 0..3 {
            trainer.train_epoch(&train, |_| {}).unwrap();
        }
        let eval = trainer.evaluate(&test, 100).unwrap();
        // Chance is 10%; this net reaches about 85% here. 70% leaves room for seeds, not for bugs.
        assert!(eval.accuracy > 0.70, "{}: accuracy {}", encoder.name(), eval.accuracy);
        assert!(eval.spike_rates.iter().all(|&r| r > 0.0 && r < 1.0), "{:?}", eval.spike_rates);
        assert!(eval.ops.neuron_updates > 0);
    }
}

#[test]
fn resume_from_checkpoint_is_bit_identical() {
    let (train, _) = small_split(300, 10);
    let spec = model(32);
    let run = |epochs: usize| {
        let mut t = Trainer::new(Sequential::from_spec(&spec, 5).unwrap(), settings(2, Encoder::Rate { max_rate: 0.8 }, 1e-3)).unwrap();
        for _ in 0..epochs {
            t.train_epoch(&train, |_| {}).unwrap();
        }
        t
    };
    let straight = run(2);
    let half = run(1);
    let bytes = Checkpoint::capture(&half, "config").to_bytes().unwrap();
    let restored = Checkpoint::from_bytes(&bytes, Path::new("mem")).unwrap();
    assert_eq!((restored.epoch(), restored.config()), (1, "config"));
    let mut resumed = Trainer::new(Sequential::from_spec(&spec, 99).unwrap(), settings(2, Encoder::Rate { max_rate: 0.8 }, 1e-3)).unwrap();
    restored.restore(&mut resumed).unwrap();
    resumed.train_epoch(&train, |_| {}).unwrap();
    assert_eq!(resumed.optimizer.steps, straight.optimizer.steps);
    for ((name, a), (_, b)) in straight.net.named_params().iter().zip(resumed.net.named_params()) {
        assert!(a.value.data() == b.value.data(), "{name} differs after resume");
    }
}

#[test]
fn non_finite_loss_stops_training_with_a_clear_message() {
    let (train, _) = small_split(256, 10);
    // Spiking readout (bounded loss): caught through the parameters. Adam steps by about the
    // learning rate, so a rate near f32::MAX overflows the weights within two steps.
    let mut t = Trainer::new(Sequential::from_spec(&model(16), 1).unwrap(), settings(1, Encoder::Direct, 3e38)).unwrap();
    let err = (0..3).find_map(|_| t.train_epoch(&train, |_| {}).err()).expect("a learning rate of 3e38 must blow up");
    let msg = err.to_string();
    assert!(msg.contains("training stopped") && msg.contains("epoch"), "{msg}");
    // Membrane readout: an infinite weight makes the loss itself non-finite.
    let mut spec = model(16);
    spec.layers[3] = LayerSpec::Li(NeuronSpec::default());
    let mut s = settings(1, Encoder::Direct, 1e-3);
    s.loss = Loss::MembraneMeanCe;
    let mut t = Trainer::new(Sequential::from_spec(&spec, 1).unwrap(), s).unwrap();
    t.net.layers[2].params_mut()[1].value.data_mut()[0] = f32::INFINITY; // the readout bias
    let err = t.train_epoch(&train, |_| {}).unwrap_err().to_string();
    assert!(err.contains("loss became") && err.contains("batch 1 of"), "{err}");
}

#[test]
fn corrupt_and_truncated_checkpoints_are_rejected() {
    let t = Trainer::new(Sequential::from_spec(&model(8), 1).unwrap(), settings(1, Encoder::Direct, 1e-3)).unwrap();
    let bytes = Checkpoint::capture(&t, "c").to_bytes().unwrap();
    for (name, bad) in [
        ("empty.safetensors", Vec::new()),
        ("cut.safetensors", bytes[..bytes.len() / 2].to_vec()),
        ("header.safetensors", bytes[..20].to_vec()),
        ("garbage.safetensors", b"this is not a checkpoint at all".to_vec()),
    ] {
        let err = Checkpoint::from_bytes(&bad, Path::new(name)).unwrap_err().to_string();
        assert!(err.contains(name), "{name}: {err}");
    }
    // A checkpoint of another architecture names the mismatching tensor.
    let other = Checkpoint::from_bytes(&bytes, Path::new("x")).unwrap();
    let mut bigger = Trainer::new(Sequential::from_spec(&model(9), 1).unwrap(), settings(1, Encoder::Direct, 1e-3)).unwrap();
    let err = other.restore(&mut bigger).unwrap_err().to_string();
    assert!(err.contains("model.layers.0.weight"), "{err}");
}

#[test]
fn soft_reset_network_with_li_readout_trains() {
    let (train, test) = small_split(1000, 200);
    let spec = ModelSpec {
        input: vec![784],
        layers: vec![
            LayerSpec::Linear { out: 48, bias: true, kept_weights: None, mask: None, input_density: None },
            LayerSpec::Alif(NeuronSpec { reset: Some(ResetSpec::Subtract), ..Default::default() }),
            LayerSpec::Linear { out: 10, bias: true, kept_weights: None, mask: None, input_density: None },
            LayerSpec::Li(NeuronSpec::default()),
        ],
    };
    let mut s = settings(2, Encoder::Latency { threshold: 0.2 }, 2e-3);
    s.loss = Loss::MembraneMaxCe;
    let mut t = Trainer::new(Sequential::from_spec(&spec, 2).unwrap(), s).unwrap();
    for _ in 0..2 {
        t.train_epoch(&train, |_| {}).unwrap();
    }
    let acc = t.evaluate(&test, 100).unwrap().accuracy;
    assert!(acc > 0.5, "accuracy {acc}");
}

/// Training results do not depend on the thread count: every parallel sum runs over fixed
/// chunks in a fixed order. Checked bitwise on 1, 2 and 3 threads for a spiking MLP (event
/// and dense paths, rate input) and a small convolutional net (event convolution, pooling).
#[test]
fn training_is_bit_identical_on_any_thread_count() {
    let (train, _) = small_split(96, 1);
    let lif = || LayerSpec::Lif(NeuronSpec { decay: Some(0.9), reset: Some(ResetSpec::Subtract), ..Default::default() });
    let conv = ModelSpec {
        input: vec![1, 28, 28],
        layers: vec![
            LayerSpec::Conv2d { out_channels: 4, kernel: 3, stride: 1, padding: 1, bias: true, kept_weights: None, mask: None },
            lif(),
            LayerSpec::MaxPool2d { kernel: 2, stride: None },
            LayerSpec::Conv2d { out_channels: 6, kernel: 3, stride: 2, padding: 1, bias: true, kept_weights: None, mask: None },
            lif(),
            LayerSpec::Flatten,
            LayerSpec::Linear { out: 10, bias: true, kept_weights: None, mask: None, input_density: None },
            lif(),
        ],
    };
    for (spec, encoder) in [(model(70), Encoder::Rate { max_rate: 0.6 }), (conv, Encoder::Direct)] {
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| {
                let mut t = Trainer::new(Sequential::from_spec(&spec, 7).unwrap(), settings(2, encoder, 2e-3)).unwrap();
                t.train_epoch(&train, |_| {}).unwrap();
                t.train_epoch(&train, |_| {}).unwrap();
                t.net.named_params().iter().flat_map(|(_, p)| p.value.data().to_vec()).map(f32::to_bits).collect::<Vec<u32>>()
            })
        };
        let one = run(1);
        assert_eq!(one, run(2), "1 vs 2 threads");
        assert_eq!(one, run(3), "1 vs 3 threads");
    }
}

/// A small Sparse-CNN-style net: k-winners with boosting after a convolution and a linear layer
/// with 30% of its weights kept.
fn sparse_model() -> ModelSpec {
    let kwinners = |k| LayerSpec::KWinners(KWinnersSpec { k: Some(k), boost_strength: Some(1.5), boost_strength_factor: Some(0.85), duty_cycle_period: Some(100), ..Default::default() });
    ModelSpec {
        input: vec![1, 28, 28],
        layers: vec![
            LayerSpec::Normalize { mean: 0.1307, std: 0.3081 },
            LayerSpec::Conv2d { out_channels: 4, kernel: 5, stride: 1, padding: 0, bias: true, kept_weights: None, mask: None },
            LayerSpec::MaxPool2d { kernel: 2, stride: None },
            kwinners(60),
            LayerSpec::Flatten,
            LayerSpec::Linear { out: 40, bias: true, kept_weights: Some(0.3), mask: None, input_density: None },
            kwinners(8),
            LayerSpec::Linear { out: 10, bias: true, kept_weights: None, mask: None, input_density: None },
        ],
    }
}

#[test]
fn sparse_net_learns_resumes_with_its_duty_cycles_and_degrades_under_noise() {
    let (train, test) = small_split(600, 300);
    let mut s = settings(2, Encoder::Direct, 0.05);
    s.optimizer = OptimizerSpec { kind: spikelab::train::OptimizerKind::Sgd, lr: 0.05, ..Default::default() };
    s.loss = Loss::RateCe;
    s.time_steps = 1;
    s.first_epoch_batch_size = Some(8);
    let run = |epochs: usize| {
        let mut t = Trainer::new(Sequential::from_spec(&sparse_model(), 5).unwrap(), s.clone()).unwrap();
        for _ in 0..epochs {
            t.train_epoch(&train, |_| {}).unwrap();
        }
        t
    };
    let mut straight = run(2);
    let half = run(1);
    let bytes = Checkpoint::capture(&half, "config").to_bytes().unwrap();
    let restored = Checkpoint::from_bytes(&bytes, Path::new("mem")).unwrap();
    let mut resumed = Trainer::new(Sequential::from_spec(&sparse_model(), 5).unwrap(), s.clone()).unwrap();
    restored.restore(&mut resumed).unwrap();
    resumed.train_epoch(&train, |_| {}).unwrap();
    for ((name, a), (_, b)) in straight.net.named_params().iter().zip(resumed.net.named_params()) {
        assert!(a.value.data() == b.value.data(), "{name} differs after resume");
    }
    let (duty, duty_resumed) = (straight.net.named_buffers(), resumed.net.named_buffers());
    assert_eq!(duty.len(), 6, "three buffers per k-winners layer");
    for ((name, a), (_, b)) in duty.iter().zip(&duty_resumed) {
        assert!(a.data() == b.data(), "{name} differs after resume");
    }
    // Removed weights stayed removed through training.
    let hidden = &straight.net.layers[5].params()[0].value;
    assert_eq!(hidden.data().iter().filter(|w| **w != 0.0).count(), 40 * 173, "round(0.3 · 576) = 173 per unit");
    let clean = straight.evaluate(&test, 100).unwrap().accuracy;
    assert!(clean > 0.6, "accuracy {clean}");
    let test_levels = NoiseTest { levels: vec![0.0, 0.5], ..Default::default() };
    let correct = straight.noise_test(&test, 100, &test_levels).unwrap();
    assert_eq!(correct[0], (clean * 300.0).round() as usize, "level 0 is the clean test");
    assert!(correct[1] < correct[0], "half the pixels replaced must cost accuracy: {correct:?}");
}
