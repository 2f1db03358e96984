//! Every layer's forward against a naive f64 reference, and its backward against central
//! differences of that reference (input gradient and every parameter).

use super::*;
use crate::rng::Rng;
use crate::tensor::Spikes;

type Reference = dyn Fn(&[f64], &[Vec<f64>]) -> Vec<f64>;

fn random(n: usize, rng: &mut Rng) -> Vec<f32> {
    (0..n).map(|_| rng.normal()).collect()
}

/// Runs forward/backward of `layer` on `input` and checks them against `reference`
/// (a function of the flat input and the layer's parameters, in f64).
fn check(layer: &mut dyn Layer, input: Activation, reference: &Reference, check_input_grad: bool) {
    check_in(Context::new(Mode::Train, 0), layer, input, reference, check_input_grad)
}

/// `check` with a prepared training context (e.g. one carrying dendritic context vectors).
fn check_in(mut ctx: Context, layer: &mut dyn Layer, input: Activation, reference: &Reference, check_input_grad: bool) {
    let mut rng = Rng::new(99);
    let x: Vec<f64> = input.dense().data().iter().map(|&v| v as f64).collect();
    let params: Vec<Vec<f64>> = layer.params().iter().map(|p| p.value.data().iter().map(|&v| v as f64).collect()).collect();
    let y = layer.forward(input, &mut ctx).into_dense();
    let expected = reference(&x, &params);
    assert_eq!(y.len(), expected.len(), "{}: output size", layer.kind());
    for (k, (a, b)) in y.data().iter().zip(&expected).enumerate() {
        assert!((*a as f64 - b).abs() < 1e-4 * (1.0 + b.abs()), "{} forward[{k}] = {a}, reference {b}", layer.kind());
    }
    let w = random(y.len(), &mut rng);
    let loss = |x: &[f64], p: &[Vec<f64>]| reference(x, p).iter().zip(&w).map(|(a, b)| a * *b as f64).sum::<f64>();
    let dx = layer.backward(Tensor::from_vec(y.shape(), w.clone()).unwrap(), check_input_grad);
    let eps = 1e-4;
    // At most ~40 probed coordinates per tensor keeps the test fast on large layers.
    let probes = |n: usize| (0..n).step_by((n / 40).max(1));
    if check_input_grad {
        let dx = dx.expect("input gradient requested");
        for k in probes(x.len()) {
            let (mut xp, mut xm) = (x.clone(), x.clone());
            xp[k] += eps;
            xm[k] -= eps;
            let fd = (loss(&xp, &params) - loss(&xm, &params)) / (2.0 * eps);
            let got = dx.data()[k] as f64;
            assert!((fd - got).abs() < 1e-3 * (1.0 + fd.abs()), "{} dx[{k}] = {got}, finite difference {fd}", layer.kind());
        }
    }
    for (pi, p) in layer.params().iter().enumerate() {
        for k in probes(p.value.len()) {
            let (mut pp, mut pm) = (params.clone(), params.clone());
            pp[pi][k] += eps;
            pm[pi][k] -= eps;
            let fd = (loss(&x, &pp) - loss(&x, &pm)) / (2.0 * eps);
            let got = p.grad.data()[k] as f64;
            assert!((fd - got).abs() < 1e-3 * (1.0 + fd.abs()), "{} d{}[{k}] = {got}, finite difference {fd}", layer.kind(), p.name);
        }
    }
}

fn linear_reference(rows: usize, inputs: usize, outputs: usize) -> Box<Reference> {
    Box::new(move |x, p| {
        let mut y = vec![0.0; rows * outputs];
        for r in 0..rows {
            for j in 0..outputs {
                y[r * outputs + j] = p[1][j] + (0..inputs).map(|i| x[r * inputs + i] * p[0][i * outputs + j]).sum::<f64>();
            }
        }
        y
    })
}

#[test]
fn linear_dense_input() {
    let mut rng = Rng::new(1);
    let (t, b, i, o) = (3, 2, 7, 5);
    let mut layer = Linear::new(i, o, true, &mut rng);
    let x = Tensor::from_vec(&[t, b, i], random(t * b * i, &mut rng)).unwrap();
    check(&mut layer, Activation::Dense(x), &*linear_reference(t * b, i, o), true);
}

#[test]
fn linear_spike_input_event_and_dense_paths() {
    // Narrow (one partial register tile) and wide (a full tile plus a partial one) layers, each
    // path at the density where its default threshold sends it.
    for (density, o, event) in [(0.05f32, 6, true), (0.4, 6, false), (0.3, 70, true), (0.7, 70, false)] {
        let mut rng = Rng::new(2);
        let (t, b, i) = (4, 3, 130);
        let mut layer = Linear::new(i, o, true, &mut rng);
        let values: Vec<f32> = (0..t * b * i).map(|_| (rng.uniform() < density) as u8 as f32).collect();
        let spikes = Spikes::from_dense(&Tensor::from_vec(&[t, b, i], values).unwrap(), 1);
        assert_eq!(spikes.density() < layer.event_density, event);
        check(&mut layer, Activation::Spikes(spikes), &*linear_reference(t * b, i, o), true);
    }
}

#[allow(clippy::too_many_arguments)]
fn conv_reference(images: usize, c: usize, h: usize, w: usize, co: usize, k: usize, s: usize, pad: usize) -> Box<Reference> {
    let ho = (h + 2 * pad - k) / s + 1;
    let wo = (w + 2 * pad - k) / s + 1;
    Box::new(move |x, p| {
        let mut y = vec![0.0; images * co * ho * wo];
        for n in 0..images {
            for o in 0..co {
                for oy in 0..ho {
                    for ox in 0..wo {
                        let mut acc = p[1][o];
                        for ci in 0..c {
                            for ky in 0..k {
                                for kx in 0..k {
                                    let (yy, xx) = ((oy * s + ky) as isize - pad as isize, (ox * s + kx) as isize - pad as isize);
                                    if yy >= 0 && xx >= 0 && (yy as usize) < h && (xx as usize) < w {
                                        acc += x[((n * c + ci) * h + yy as usize) * w + xx as usize] * p[0][o * c * k * k + (ci * k + ky) * k + kx];
                                    }
                                }
                            }
                        }
                        y[((n * co + o) * ho + oy) * wo + ox] = acc;
                    }
                }
            }
        }
        y
    })
}

/// Spike input through the event path (sparse) and the unpacked GEMM path (dense), against the
/// same f64 reference: padding wider than the kernel reach, strides, a kernel tap count
/// (`C·k²`) below the output channel count.
#[test]
fn conv2d_spike_input_event_and_dense_paths() {
    for &(c, h, w, co, k, s, pad) in &[(2, 6, 5, 3, 3, 1, 1), (1, 7, 7, 12, 3, 2, 2), (3, 5, 6, 2, 2, 1, 0)] {
        for (density, event) in [(0.1f32, true), (0.7, false), (0.0, true)] {
            let mut rng = Rng::new(4);
            let (t, b) = (2, 9);
            let mut layer = Conv2d::new(c, co, k, s, pad, true, &mut rng);
            let values: Vec<f32> = (0..t * b * c * h * w).map(|_| (rng.uniform() < density) as u8 as f32).collect();
            let spikes = Spikes::from_dense(&Tensor::from_vec(&[t, b, c, h, w], values).unwrap(), 3);
            assert_eq!(spikes.density() < layer.event_density, event);
            check(&mut layer, Activation::Spikes(spikes), &*conv_reference(t * b, c, h, w, co, k, s, pad), true);
        }
    }
}

#[test]
fn conv2d_with_stride_and_padding() {
    for &(c, h, w, co, k, s, pad) in &[(2, 6, 5, 3, 3, 1, 0), (1, 7, 7, 2, 3, 2, 1), (3, 5, 6, 2, 2, 1, 1)] {
        let mut rng = Rng::new(3);
        let (t, b) = (2, 9); // 18 images: crosses the 8-image backward chunks
        let mut layer = Conv2d::new(c, co, k, s, pad, true, &mut rng);
        let x = Tensor::from_vec(&[t, b, c, h, w], random(t * b * c * h * w, &mut rng)).unwrap();
        check(&mut layer, Activation::Dense(x), &*conv_reference(t * b, c, h, w, co, k, s, pad), true);
    }
}

fn pool_reference(planes: usize, h: usize, w: usize, k: usize, s: usize, max: bool) -> Box<Reference> {
    let (ho, wo) = ((h - k) / s + 1, (w - k) / s + 1);
    Box::new(move |x, _| {
        let mut y = Vec::new();
        for p in 0..planes {
            for oy in 0..ho {
                for ox in 0..wo {
                    let window = (0..k * k).map(|q| x[(p * h + oy * s + q / k) * w + ox * s + q % k]);
                    y.push(if max { window.fold(f64::NEG_INFINITY, f64::max) } else { window.sum::<f64>() / (k * k) as f64 });
                }
            }
        }
        y
    })
}

#[test]
fn max_and_average_pooling() {
    for max in [true, false] {
        for &(h, w, k, s) in &[(4, 4, 2, 2), (5, 7, 3, 2), (6, 6, 2, 1)] {
            let mut rng = Rng::new(4);
            let (t, b, c) = (2, 2, 3);
            let kind = if max { PoolKind::Max } else { PoolKind::Avg };
            let mut layer = Pool2d::new(kind, k, s);
            let x = Tensor::from_vec(&[t, b, c, h, w], random(t * b * c * h * w, &mut rng)).unwrap();
            check(&mut layer, Activation::Dense(x), &*pool_reference(t * b * c, h, w, k, s, max), true);
        }
    }
}

#[test]
fn max_pooling_keeps_spikes_as_spikes() {
    let x = Tensor::from_vec(&[1, 1, 1, 2, 2], vec![0.0, 1.0, 0.0, 0.0]).unwrap();
    let mut layer = Pool2d::new(PoolKind::Max, 2, 2);
    let y = layer.forward(Activation::Spikes(Spikes::from_dense(&x, 3)), &mut Context::new(Mode::Eval, 0));
    let Activation::Spikes(s) = y else { panic!("max pooling of spikes must give spikes") };
    assert_eq!(s.count_ones(), 1);
}

/// Max pooling on spike bits gives the dense path's output and gradient exactly.
#[test]
fn max_pooling_spikes_matches_the_dense_path() {
    for &(h, w, k, st, density) in &[(4, 4, 2, 2, 0.3f32), (5, 7, 3, 2, 0.2), (6, 6, 2, 1, 0.5), (9, 8, 2, 2, 0.0)] {
        let mut rng = Rng::new(6);
        let (t, b, c) = (2, 3, 5);
        let values: Vec<f32> = (0..t * b * c * h * w).map(|_| (rng.uniform() < density) as u8 as f32).collect();
        let x = Tensor::from_vec(&[t, b, c, h, w], values).unwrap();
        let run = |input: Activation| {
            let mut layer = Pool2d::new(PoolKind::Max, k, st);
            let y = layer.forward(input, &mut Context::new(Mode::Train, 0)).into_dense();
            let g: Vec<f32> = (0..y.len()).map(|i| (i % 7) as f32 - 3.0).collect();
            let dx = layer.backward(Tensor::from_vec(y.shape(), g).unwrap(), true).unwrap();
            (y, dx)
        };
        let (y_dense, dx_dense) = run(Activation::Dense(x.clone()));
        let (y_bits, dx_bits) = run(Activation::Spikes(Spikes::from_dense(&x, 3)));
        assert_eq!(y_dense.data(), y_bits.data(), "{h}x{w} k{k} s{st}");
        assert_eq!(dx_dense.data(), dx_bits.data(), "{h}x{w} k{k} s{st}");
    }
}

#[test]
fn flatten_is_a_reshape() {
    let mut rng = Rng::new(5);
    let x = Tensor::from_vec(&[2, 3, 2, 2, 2], random(48, &mut rng)).unwrap();
    check(&mut Flatten::default(), Activation::Dense(x), &|x, _| x.to_vec(), true);
}

#[test]
fn dropout_uses_one_mask_for_every_step_and_scales_gradients_alike() {
    let (t, b, f, p) = (5, 4, 50, 0.3f32);
    let mut layer = Dropout::new(p, 0);
    let y = layer.forward(Activation::Dense(Tensor::full(&[t, b, f], 1.0)), &mut Context::new(Mode::Train, 7)).into_dense();
    let first = &y.data()[..b * f];
    for step in y.data().chunks(b * f) {
        assert_eq!(step, first, "mask differs between time steps");
    }
    let kept = first.iter().filter(|&&v| v > 0.0).count() as f32 / (b * f) as f32;
    assert!((kept - (1.0 - p)).abs() < 0.1, "kept {kept}");
    assert!(first.iter().all(|&v| v == 0.0 || (v - 1.0 / (1.0 - p)).abs() < 1e-6));
    // The layer is linear in its input: the gradient is the same mask.
    let dx = layer.backward(Tensor::full(&[t, b, f], 1.0), true).unwrap();
    assert_eq!(dx.data(), y.data());
    let eval = Dropout::new(p, 0).forward(Activation::Dense(Tensor::full(&[t, b, f], 1.0)), &mut Context::new(Mode::Eval, 7));
    assert!(eval.into_dense().data().iter().all(|&v| v == 1.0));
}

#[test]
fn spiking_layer_learns_plif_time_constant_gradient() {
    // The PLIF parameter gradient travels through SpikingLayer's Param (checked at kernel level
    // in neuron::gradcheck_tests); here: the layer exposes it and applies updates.
    let spec = NeuronSpec { tau: Some(3.0), ..Default::default() };
    let mut layer = SpikingLayer::new(LayerSpec::Plif(spec).build_neuron_for_test());
    assert_eq!(layer.params().len(), 1);
    let x = Tensor::full(&[4, 2, 3], 0.8);
    let mut ctx = Context::new(Mode::Train, 0);
    ctx.fire = crate::neuron::FireMode::Smooth;
    layer.forward(Activation::Dense(x), &mut ctx);
    layer.backward(Tensor::full(&[4, 2, 3], 1.0), false);
    assert!(layer.params()[0].grad.data()[0] != 0.0);
    layer.params_mut()[0].value.data_mut()[0] = 0.0; // sigmoid(0) = 1/2 → τ = 2
    layer.params_updated();
    assert_eq!(layer.model.parameters(), vec![0.0]);
}

#[test]
fn sequential_checks_shapes_and_names_the_layer() {
    let spec = ModelSpec { input: vec![1, 8, 8], layers: vec![LayerSpec::Linear { out: 4, bias: true, kept_weights: None, mask: None, input_density: None }] };
    let err = Sequential::from_spec(&spec, 0).unwrap_err().to_string();
    assert!(err.contains("model.layers[0]") && err.contains("flatten"), "{err}");
    let spec = ModelSpec {
        input: vec![1, 8, 8],
        layers: vec![
            LayerSpec::Conv2d { out_channels: 2, kernel: 3, stride: 1, padding: 1, bias: true, kept_weights: None, mask: None },
            LayerSpec::Lif(NeuronSpec::default()),
            LayerSpec::MaxPool2d { kernel: 2, stride: None },
            LayerSpec::Flatten,
            LayerSpec::Linear { out: 3, bias: true, kept_weights: None, mask: None, input_density: None },
            LayerSpec::Li(NeuronSpec::default()),
        ],
    };
    let mut net = Sequential::from_spec(&spec, 0).unwrap();
    assert_eq!(net.output_shape(), &[3]);
    assert_eq!(net.spiking_layer_names(), vec!["layers.1.lif".to_string()]);
    let bad = net.forward(Activation::Dense(Tensor::zeros(&[2, 1, 64])), &mut Context::new(Mode::Eval, 0));
    assert!(bad.is_err());
    let ok = net.forward(Activation::Dense(Tensor::full(&[2, 1, 1, 8, 8], 1.0)), &mut Context::new(Mode::Train, 0)).unwrap();
    assert_eq!(ok.shape(), &[2, 1, 3]);
    net.backward(Tensor::full(&[2, 1, 3], 1.0));
    assert!(net.named_params().iter().any(|(n, p)| n == "layers.0.weight" && p.grad.data().iter().any(|&g| g != 0.0)));
}

/// A time-constant input given once (`[1, B, …]` with `time_steps = T`) trains exactly like the
/// same input repeated T times: same outputs, same parameter gradients (up to summation
/// order), with the time-local layers in front run once. Covers a conv front end and an MLP
/// whose last layer is time-local (output repeated at the end).
#[test]
fn time_constant_input_runs_the_front_once_with_the_same_gradients() {
    let lif = || LayerSpec::Lif(NeuronSpec { tau: Some(2.0), ..Default::default() });
    let conv = ModelSpec {
        input: vec![1, 6, 6],
        layers: vec![
            LayerSpec::Conv2d { out_channels: 3, kernel: 3, stride: 1, padding: 1, bias: true, kept_weights: None, mask: None },
            LayerSpec::MaxPool2d { kernel: 2, stride: None },
            lif(),
            LayerSpec::Flatten,
            LayerSpec::Linear { out: 4, bias: true, kept_weights: None, mask: None, input_density: None },
            lif(),
        ],
    };
    let readout = ModelSpec { input: vec![5], layers: vec![LayerSpec::Linear { out: 3, bias: true, kept_weights: None, mask: None, input_density: None }] };
    for spec in [conv, readout] {
        let (steps, batch) = (5, 3);
        let mut rng = Rng::new(12);
        let per_sample: usize = spec.input.iter().product();
        let once: Vec<f32> = (0..batch * per_sample).map(|_| 2.0 * rng.uniform()).collect();
        let mut shape = vec![1, batch];
        shape.extend_from_slice(&spec.input);
        let run = |input: Tensor, time_steps: usize| {
            let mut net = Sequential::from_spec(&spec, 3).unwrap();
            let mut ctx = Context::new(Mode::Train, 0);
            ctx.time_steps = time_steps;
            let out = net.forward(Activation::Dense(input), &mut ctx).unwrap().into_dense();
            let grad = Tensor::from_vec(out.shape(), (0..out.len()).map(|i| ((i * 7) % 5) as f32 - 2.0).collect()).unwrap();
            net.backward(grad);
            let grads: Vec<f32> = net.named_params().iter().flat_map(|(_, p)| p.grad.data().to_vec()).collect();
            (out, grads, ctx.ops.dense_mac)
        };
        let single = Tensor::from_vec(&shape, once.clone()).unwrap();
        let (out_once, grads_once, macs_once) = run(single.clone(), steps);
        let (out_full, grads_full, macs_full) = run(single.repeat_leading(steps), 0);
        assert_eq!(out_once.shape(), out_full.shape());
        for (a, b) in out_once.data().iter().zip(out_full.data()) {
            assert!((a - b).abs() <= 1e-5 * (1.0 + b.abs()), "output {a} vs {b}");
        }
        for (a, b) in grads_once.iter().zip(&grads_full) {
            assert!((a - b).abs() <= 1e-4 * (1.0 + b.abs()), "gradient {a} vs {b}");
        }
        assert!(macs_once < macs_full, "the front ran once: {macs_once} vs {macs_full} MACs");
    }
}

/// Gradient checkpointing computes exactly the same gradients (the segments re-run with the
/// same seed, so dropout masks and spikes repeat bit for bit) while holding less between the
/// passes: only the learning layers' inputs, as spikes where they are spikes.
#[test]
fn recompute_gives_identical_gradients_with_less_held() {
    let lif = || LayerSpec::Lif(NeuronSpec { tau: Some(2.0), ..Default::default() });
    let spec = ModelSpec {
        input: vec![1, 8, 8],
        layers: vec![
            LayerSpec::Conv2d { out_channels: 4, kernel: 3, stride: 1, padding: 1, bias: true, kept_weights: None, mask: None },
            lif(),
            LayerSpec::MaxPool2d { kernel: 2, stride: None },
            LayerSpec::Flatten,
            LayerSpec::Dropout { p: 0.3 },
            LayerSpec::Linear { out: 40, bias: true, kept_weights: None, mask: None, input_density: None },
            lif(),
            LayerSpec::Linear { out: 40, bias: true, kept_weights: None, mask: None, input_density: None },
            lif(),
            LayerSpec::Linear { out: 5, bias: true, kept_weights: None, mask: None, input_density: None },
            lif(),
        ],
    };
    let (steps, batch) = (6, 4);
    let mut rng = Rng::new(21);
    let input: Vec<f32> = (0..batch * 64).map(|_| 3.0 * rng.uniform()).collect();
    let run = |recompute: bool| {
        let mut net = Sequential::from_spec(&spec, 9).unwrap();
        net.recompute = recompute;
        let mut ctx = Context::new(Mode::Train, 77);
        ctx.time_steps = steps;
        let out = net.forward(Activation::Dense(Tensor::from_vec(&[1, batch, 1, 8, 8], input.clone()).unwrap()), &mut ctx).unwrap().into_dense();
        let held = net.saved_bytes();
        let grad = Tensor::from_vec(out.shape(), (0..out.len()).map(|i| ((i * 5) % 7) as f32 - 3.0).collect()).unwrap();
        net.backward(grad);
        let grads: Vec<u32> = net.named_params().iter().flat_map(|(_, p)| p.grad.data().to_vec()).map(f32::to_bits).collect();
        (out.into_vec(), grads, held)
    };
    let (out_plain, grads_plain, held_plain) = run(false);
    let (out_ckpt, grads_ckpt, held_ckpt) = run(true);
    assert_eq!(out_plain, out_ckpt);
    assert!(grads_plain.iter().any(|&g| f32::from_bits(g) != 0.0));
    assert_eq!(grads_plain, grads_ckpt, "bit-identical gradients");
    assert!(held_ckpt < held_plain / 2, "held {held_ckpt} vs {held_plain} bytes");
}

#[test]
fn relu_normalize_and_k_winners() {
    let mut rng = Rng::new(11);
    let (rows, n) = (6, 9);
    let x = random(rows * n, &mut rng);
    let input = || Activation::Dense(Tensor::from_vec(&[2, 3, n], x.clone()).unwrap());
    check(&mut Relu::default(), input(), &|x, _| x.iter().map(|v| v.max(0.0)).collect(), true);
    check(&mut Normalize::new(0.25, 0.5, "k").unwrap(), input(), &|x, _| x.iter().map(|v| (v - 0.25) / 0.5).collect(), true);
    // Top 3 of 9 per row by value (no boosting): the gradient passes the winners only.
    let settings = KWinnersSettings { k: 3, k_inference: 3, boost_strength: 0.0, boost_strength_factor: 1.0, duty_cycle_period: 100, local: false, ties: Ties::ExactK };
    let reference = move |x: &[f64], _: &[Vec<f64>]| {
        x.chunks(n)
            .flat_map(|row| {
                let mut order: Vec<usize> = (0..n).collect();
                order.sort_by(|&a, &b| row[b].total_cmp(&row[a]));
                (0..n).map(move |i| if order[..3].contains(&i) { row[i] } else { 0.0 }).collect::<Vec<f64>>()
            })
            .collect()
    };
    check(&mut KWinners::new(settings, &[n], "k").unwrap(), input(), &reference, true);
}

#[test]
fn masked_linear_keeps_its_zeros() {
    let mut rng = Rng::new(12);
    let (rows, i, o) = (5, 20, 7);
    let mask = WeightMask::new(o, i, 0.3, MaskKind::Random, &mut rng, "k").unwrap();
    let mut layer = Linear::new(i, o, true, &mut rng).with_mask(mask.clone());
    let dense = mask.dense();
    assert!(layer.weight.value.data().iter().enumerate().all(|(p, &w)| dense[(p % o) * i + p / o] == 1.0 || w == 0.0));
    let x = Tensor::from_vec(&[1, rows, i], random(rows * i, &mut rng)).unwrap();
    check(&mut layer, Activation::Dense(x), &*linear_reference(rows, i, o), true);
    // After an update the removed weights are zero again.
    layer.weight.value.data_mut().iter_mut().for_each(|w| *w += 1.0);
    layer.params_updated();
    assert_eq!(layer.weight.value.data().iter().filter(|w| **w != 0.0).count(), o * WeightMask::kept_count(0.3, i));
}

#[test]
fn dendritic_linear_gates_by_the_absolute_max_segment() {
    let mut rng = Rng::new(13);
    let (batch, i, o, segments, c) = (4, 6, 5, 3, 4);
    let mut layer = DendriticLinear::new(Linear::new(i, o, true, &mut rng), segments, c, 0.5, Gating::AbsMax, &mut rng);
    // Two contexts; samples 0 and 2 use the first, 1 and 3 the second.
    let contexts = Tensor::from_vec(&[2, c], random(2 * c, &mut rng)).unwrap();
    let of_sample = vec![0u32, 1, 0, 1];
    let (cv, os) = (contexts.data().iter().map(|&v| v as f64).collect::<Vec<f64>>(), of_sample.clone());
    let reference = move |x: &[f64], p: &[Vec<f64>]| {
        let mut y = vec![0.0; batch * o];
        for b in 0..batch {
            let ctx = &cv[os[b] as usize * c..(os[b] as usize + 1) * c];
            for u in 0..o {
                let d: Vec<f64> = (0..segments).map(|j| (0..c).map(|k| p[2][(u * segments + j) * c + k] * ctx[k]).sum()).collect();
                let best = (0..segments).fold(0, |m, j| if d[j].abs() > d[m].abs() { j } else { m });
                let ff = p[1][u] + (0..i).map(|k| x[b * i + k] * p[0][k * o + u]).sum::<f64>();
                y[b * o + u] = ff / (1.0 + (-d[best]).exp());
            }
        }
        y
    };
    let mut ctx = Context::new(Mode::Train, 0);
    ctx.dendrite_context = Some(std::sync::Arc::new(DendriteContext { vectors: contexts, of_sample }));
    let x = Tensor::from_vec(&[1, batch, i], random(batch * i, &mut rng)).unwrap();
    check_in(ctx, &mut layer, Activation::Dense(x), &reference, true);
    // Only winning segments received gradient, one row per unit and context at most.
    let rows = &layer.segments.rows.as_ref().unwrap().grad_rows;
    assert!(!rows.is_empty() && rows.len() <= 2 * o);
}

#[test]
fn gradients_below_k_winners_skip_only_what_k_winners_discards() {
    // linear → k-winners (3 of 40: below the zero-skipping density) → linear: the top linear
    // computes its input gradient only at the winners; the bottom linear's weight gradient
    // must still equal finite differences.
    let kwinners = LayerSpec::KWinners(KWinnersSpec { k: Some(3), boost_strength: Some(0.0), k_inference_factor: Some(1.0), ..Default::default() });
    let linear = |out| LayerSpec::Linear { out, bias: true, kept_weights: None, mask: None, input_density: None };
    let spec = ModelSpec { input: vec![6], layers: vec![linear(40), kwinners, linear(3)] };
    let mut net = Sequential::from_spec(&spec, 3).unwrap();
    let mut rng = Rng::new(21);
    let x = Tensor::from_vec(&[1, 5, 6], random(30, &mut rng)).unwrap();
    let w = random(15, &mut rng);
    let loss = |net: &mut Sequential| -> f64 {
        let mut ctx = Context::new(Mode::Eval, 0);
        net.forward(Activation::Dense(x.clone()), &mut ctx).unwrap().into_dense().data().iter().zip(&w).map(|(a, b)| (a * b) as f64).sum()
    };
    let mut ctx = Context::new(Mode::Train, 0);
    net.forward(Activation::Dense(x.clone()), &mut ctx).unwrap();
    net.zero_grad();
    net.backward(Tensor::from_vec(&[1, 5, 3], w.clone()).unwrap());
    let grad = net.layers[0].params()[0].grad.clone();
    let eps = 1e-2;
    for k in (0..grad.len()).step_by(7) {
        net.layers[0].params_mut()[0].value.data_mut()[k] += eps;
        let up = loss(&mut net);
        net.layers[0].params_mut()[0].value.data_mut()[k] -= 2.0 * eps;
        let down = loss(&mut net);
        net.layers[0].params_mut()[0].value.data_mut()[k] += eps;
        let fd = (up - down) / (2.0 * eps as f64);
        assert!((fd - grad.data()[k] as f64).abs() < 1e-2 * (1.0 + fd.abs()), "dW[{k}] = {}, finite difference {fd}", grad.data()[k]);
    }
}
