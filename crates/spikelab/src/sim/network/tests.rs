//! The network simulator against analytic solutions and its own contracts.

use super::*;
use crate::sim::connect::Connectivity;
use crate::sim::Stimulus;

fn lif(name: &str, size: usize, v_init: Option<[f64; 2]>) -> PopulationSpec {
    PopulationSpec {
        name: name.into(),
        size,
        neuron: NeuronSpec::Lif { tau_m: 20.0, v_rest: -60.0, v_threshold: -50.0, v_reset: -60.0, refractory: 5.0 },
        synapse: SynapseModel::Current { tau_e: 5.0, tau_i: 10.0 },
        v_init,
        input: None,
        bias: None,
        substeps: 1,
    }
}

fn set_threshold(p: &mut PopulationSpec, threshold: f64) {
    let NeuronSpec::Lif { v_threshold, .. } = &mut p.neuron else { panic!("a LIF population") };
    *v_threshold = threshold;
}

fn projection(from: &str, to: &str, weight: f64, delay: f64, connect: Connectivity) -> ProjectionSpec {
    ProjectionSpec { from: from.into(), to: to.into(), pre: None, post: None, channel: Channel::Excitatory, weight: weight.into(), delay, connect, plasticity: None, stp: None }
}

/// One input spike into a resting neuron: the membrane follows the closed form
/// v(t) = E_L + w·τe/(τe − τm)·(e^(−t/τe) − e^(−t/τm)) exactly at every step.
#[test]
fn current_synapse_response_is_the_closed_form() {
    let spec = NetworkSpec {
        sources: vec![],
        populations: vec![lif("src", 1, Some([-40.0, -40.0])), lif("dst", 1, Some([-60.0, -60.0]))],
        projections: vec![projection("src", "dst", 4.0, 0.0, Connectivity::AllToAll)],
    };
    let dt = 0.1;
    let mut net = Network::build(&spec, dt, 1).unwrap();
    net.advance(); // src fires; the weight lands after this step's integration
    assert_eq!(net.last_spikes()[0], vec![0]);
    for k in 1..=300 {
        net.advance();
        let t = k as f64 * dt;
        let expected = -60.0 + 4.0 * 5.0 / (5.0 - 20.0) * ((-t / 5.0).exp() - (-t / 20.0).exp());
        assert!((net.voltage(1, 0) - expected).abs() < 1e-9, "t = {t}: {} vs {expected}", net.voltage(1, 0));
    }
}

/// A spike with delay d reaches its target d steps later; the source stays at reset through its
/// refractory period even when driven.
#[test]
fn delays_and_refractoriness() {
    let spec = NetworkSpec {
        sources: vec![],
        populations: vec![lif("src", 1, Some([-40.0, -40.0])), lif("dst", 1, Some([-60.0, -60.0]))],
        projections: vec![projection("src", "dst", 100.0, 1.5, Connectivity::OneToOne), projection("src", "src", 100.0, 0.0, Connectivity::OneToOne)],
    };
    let mut net = Network::build(&spec, 0.1, 1).unwrap();
    let mut dst_spike = None;
    for step in 0..200 {
        net.advance();
        if step > 0 && step <= 50 {
            assert!(net.last_spikes()[0].is_empty(), "src refractory at step {step}");
            assert_eq!(net.voltage(0, 0), -60.0);
        }
        if dst_spike.is_none() && !net.last_spikes()[1].is_empty() {
            dst_spike = Some(step);
        }
        if step == 15 {
            assert_eq!(net.voltage(1, 0), -60.0, "nothing arrived before the delay");
        }
    }
    // Arrival after step 15 (1.5 ms), integrated from step 16 on; 100 mV through the synapse
    // (a 16 mV peak) crosses threshold a few ms later.
    assert!(dst_spike.is_some_and(|s| s > 15 && s < 100), "{dst_spike:?}");
}

#[test]
fn connectivity_rules_draw_what_they_promise() {
    let n = 400;
    let build = |c: Connectivity| {
        let spec = NetworkSpec { sources: vec![], populations: vec![lif("a", n, None), lif("b", n, None)], projections: vec![projection("a", "b", 1.0, 0.0, c)] };
        Network::build(&spec, 0.1, 3).unwrap()
    };
    let p = 0.05;
    let net = build(Connectivity::FixedProbability { p });
    let (mean, sd) = (p * (n * n) as f64, (p * (1.0 - p) * (n * n) as f64).sqrt());
    assert!((net.synapses() as f64 - mean).abs() < 5.0 * sd, "{} synapses, expected {mean} ± {sd}", net.synapses());
    let net = build(Connectivity::FixedInDegree { k: 7 });
    let proj = &net.projections[0];
    let mut in_degree = vec![Vec::new(); n];
    for i in 0..n {
        for &j in &proj.targets[proj.starts[i] as usize..proj.starts[i + 1] as usize] {
            in_degree[j as usize].push(i);
        }
    }
    for sources in &mut in_degree {
        let before = sources.len();
        sources.sort();
        sources.dedup();
        assert_eq!((before, sources.len()), (7, 7), "exactly k distinct sources");
    }
    assert_eq!(build(Connectivity::OneToOne).synapses(), n);
    assert_eq!(build(Connectivity::AllToAll).synapses(), n * n);
    assert_eq!(build(Connectivity::List { pairs: vec![[0, 1], [3, 2]] }).synapses(), 2);
    // Same seed, same network.
    let a = build(Connectivity::FixedProbability { p: 0.01 });
    let b = build(Connectivity::FixedProbability { p: 0.01 });
    assert_eq!(a.projections[0].targets, b.projections[0].targets);
}

#[test]
fn bad_networks_are_named() {
    let err = |spec: NetworkSpec, dt: f64| Network::build(&spec, dt, 1).err().expect("must fail").to_string();
    let one = |projections| NetworkSpec { sources: vec![], populations: vec![lif("a", 10, None)], projections };
    assert!(err(one(vec![]), -0.1).contains("dt"));
    assert!(err(one(vec![projection("a", "z", 1.0, 0.0, Connectivity::AllToAll)]), 0.1).contains("projections[0].to"));
    assert!(err(one(vec![projection("a", "a", 1.0, 0.0, Connectivity::FixedProbability { p: 1.5 })]), 0.1).contains("connect.p"));
    assert!(err(one(vec![projection("a", "a", 1.0, -1.0, Connectivity::AllToAll)]), 0.1).contains("delay"));
    let mut bad_range = projection("a", "a", 1.0, 0.0, Connectivity::AllToAll);
    bad_range.pre = Some([5, 20]);
    assert!(err(one(vec![bad_range]), 0.1).contains("projections[0].pre"));
    let spec = NetworkSpec { sources: vec![], populations: vec![lif("a", 3, None), lif("b", 4, None)], projections: vec![projection("a", "b", 1.0, 0.0, Connectivity::OneToOne)] };
    assert!(err(spec, 0.1).contains("one-to-one"));
    let mut twice = one(vec![]);
    twice.populations.push(lif("a", 2, None));
    assert!(err(twice, 0.1).contains("used twice"));
}

/// Poisson sources fire at their rate; spike-time sources at exactly their times; a constant
/// drive moves the membrane to E_L + drive (the closed form of the exact update).
#[test]
fn sources_and_drive() {
    let dt = 0.1;
    let mut target = lif("dst", 2, Some([-60.0, -60.0]));
    set_threshold(&mut target, 100.0); // never fires: the response stays visible
    let spec = NetworkSpec {
        populations: vec![target],
        sources: vec![
            SourceSpec { name: "noise".into(), size: 1000, spikes: SourceSpikes::Poisson { rate: 20.0 } },
            SourceSpec { name: "times".into(), size: 2, spikes: SourceSpikes::Times { times: vec![vec![1.0, 5.0], vec![]] } },
        ],
        projections: vec![ProjectionSpec { pre: Some([0, 1]), post: Some([0, 1]), ..projection("times", "dst", 4.0, 0.0, Connectivity::OneToOne) }],
    };
    let mut net = Network::build(&spec, dt, 5).unwrap();
    let mut times_spikes = Vec::new();
    for step in 0..10_000 {
        net.advance();
        if !net.source_fired[1].is_empty() {
            times_spikes.push((step, net.source_fired[1].clone()));
        }
    }
    assert_eq!(times_spikes, vec![(10, vec![0]), (50, vec![0])]);
    let counts = net.source_spike_counts();
    let expected = 1000.0 * 20.0 * 1.0; // 1000 neurons, 20 Hz, 1 s
    assert!((counts[0] as f64 - expected).abs() < 5.0 * expected.sqrt(), "{} Poisson spikes", counts[0]);
    assert_eq!(counts[1], 2);
    // Neuron 1 received nothing; neuron 0 got two PSPs that have long decayed.
    assert!((net.voltage(0, 1) + 60.0).abs() < 1e-12 && (net.voltage(0, 0) + 60.0).abs() < 1e-6);

    let mut driven = lif("d", 1, Some([-60.0, -60.0]));
    set_threshold(&mut driven, 100.0);
    driven.input = Some(crate::sim::Stimulus::Constant { value: 7.0 });
    let mut net = Network::build(&NetworkSpec { sources: vec![], populations: vec![driven], projections: vec![] }, dt, 1).unwrap();
    for k in 1..=500 {
        net.advance();
        let expected = -53.0 - 7.0 * (-(k as f64) * dt / 20.0).exp();
        assert!((net.voltage(0, 0) - expected).abs() < 1e-9, "step {k}");
    }
    let bad =
        NetworkSpec { sources: vec![SourceSpec { name: "s".into(), size: 2, spikes: SourceSpikes::Times { times: vec![vec![1.0]] } }], populations: vec![lif("a", 1, None)], projections: vec![] };
    assert!(Network::build(&bad, dt, 1).err().unwrap().to_string().contains("sources[0].spikes.times"));
    let into_source = NetworkSpec {
        sources: vec![SourceSpec { name: "s".into(), size: 2, spikes: SourceSpikes::Poisson { rate: 5.0 } }],
        populations: vec![lif("a", 1, None)],
        projections: vec![projection("a", "s", 1.0, 0.0, Connectivity::AllToAll)],
    };
    assert!(Network::build(&into_source, dt, 1).err().unwrap().to_string().contains("sources cannot receive"));
}

fn population(name: &str, size: usize, neuron: NeuronSpec, substeps: usize) -> PopulationSpec {
    PopulationSpec { neuron, substeps, v_init: None, ..lif(name, size, None) }
}

/// A population of a numerically integrated model inside a network steps exactly as the model
/// does on its own at dt / substeps, with `input` and per-neuron `bias` as its input current.
#[test]
fn point_models_in_networks_step_as_on_their_own() {
    use crate::neuron::adaptive::{Izhikevich, TwoVariablePopulation};
    use crate::neuron::hh::{HhParams, HhPopulation, Integrator, VoltageConvention};
    let hh = NeuronSpec::Hh { convention: VoltageConvention::RestAtMinus65, integrator: Integrator::Rk4 };
    let izh = NeuronSpec::Izhikevich { a: 0.02, b: 0.2, c: -65.0, d: 8.0, integrator: Integrator::Rk4 };
    let mut hh_pop = population("hh", 2, hh, 10);
    hh_pop.input = Some(Stimulus::Constant { value: 4.0 });
    hh_pop.bias = Some(vec![0.0, 6.0]);
    let mut izh_pop = population("izh", 2, izh, 1);
    izh_pop.bias = Some(vec![5.0, 10.0]);
    let spec = NetworkSpec { sources: vec![], populations: vec![hh_pop, izh_pop], projections: vec![] };
    let mut net = Network::build(&spec, 0.1, 1).unwrap();
    let record = |population: &str, variable: &str, neurons: Vec<usize>| crate::sim::StateRecord { population: population.into(), variable: variable.into(), neurons };
    let states = vec![record("hh", "m", vec![1]), record("izh", "w", vec![0, 1]), record("hh", "gi", vec![0])];
    let mut monitor = crate::sim::Monitor::new(&crate::sim::RecordSpec { state: states, ..Default::default() }, &net).unwrap();
    let mut alone_hh = HhPopulation::new(HhParams::standard(VoltageConvention::RestAtMinus65), Integrator::Rk4, 2).unwrap();
    let mut alone_izh = TwoVariablePopulation::new(Izhikevich::REGULAR_SPIKING, Integrator::Rk4, 2).unwrap();
    let mut flags = [false; 2];
    let (mut hh_spikes, mut izh_spikes) = ([0u64; 2], [0u64; 2]);
    for step in 0..2000 {
        net.advance();
        monitor.observe(&net, (step + 1) as f64 * 0.1);
        for _ in 0..10 {
            alone_hh.step(&[4.0, 10.0], 0.01, &mut flags);
            (0..2).for_each(|k| hh_spikes[k] += flags[k] as u64);
        }
        alone_izh.step(&[5.0, 10.0], 0.1, &mut flags);
        (0..2).for_each(|k| izh_spikes[k] += flags[k] as u64);
        for k in 0..2 {
            assert_eq!(net.voltage(0, k), alone_hh.v[k]);
            assert_eq!(net.voltage(1, k), alone_izh.v[k]);
        }
        let traces = &monitor.recording.traces;
        assert_eq!((traces[0].values[step], traces[1].values[step], traces[2].values[step]), (alone_hh.m[1], alone_izh.w[0], alone_izh.w[1]));
        assert_eq!(traces[3].values[step], 0.0, "no inhibitory input");
    }
    assert_eq!(net.variable_names(0), ["v", "m", "n", "h", "ge", "gi"]);
    let bad = crate::sim::RecordSpec { state: vec![record("izh", "m", vec![0])], ..Default::default() };
    let err = crate::sim::Monitor::new(&bad, &net).err().unwrap().to_string();
    assert!(err.contains("record.state[0].variable") && err.contains("v, w, ge, gi"), "{err}");
    assert_eq!(net.spike_counts(), vec![hh_spikes.iter().sum::<u64>(), izh_spikes.iter().sum::<u64>()]);
    assert!(hh_spikes[1] > 5 && izh_spikes[1] > izh_spikes[0] && izh_spikes[0] > 0, "{hh_spikes:?} {izh_spikes:?}");
}

/// Spikes reach point models through their synapses: a current synapse adds its decaying
/// current to an HH neuron's input, a conductance synapse pulls AdEx towards E_e, and a tv-LIF
/// with constant τ and gain under a constant drive follows the LIF closed form.
#[test]
fn synapses_drive_point_models() {
    use crate::neuron::hh::{Integrator, VoltageConvention};
    let hh = NeuronSpec::Hh { convention: VoltageConvention::RestAtMinus65, integrator: Integrator::Rk4 };
    let adex = NeuronSpec::Adex { c: 281.0, g_l: 30.0, e_l: -70.6, v_t: -50.4, delta_t: 2.0, tau_w: 144.0, a: 4.0, b: 80.5, v_reset: -70.6, v_peak: -40.4, integrator: Integrator::Rk4 };
    let mut adex_pop = population("adex", 1, adex, 1);
    adex_pop.synapse = SynapseModel::Conductance { tau_e: 5.0, tau_i: 10.0, e_e: 0.0, e_i: -80.0 };
    let spec = NetworkSpec {
        sources: vec![SourceSpec { name: "s".into(), size: 1, spikes: SourceSpikes::Times { times: vec![vec![50.0]] } }],
        populations: vec![population("hh", 2, hh, 10), adex_pop],
        projections: vec![ProjectionSpec { post: Some([0, 1]), ..projection("s", "hh", 3.0, 0.0, Connectivity::AllToAll) }, projection("s", "adex", 10.0, 0.0, Connectivity::AllToAll)],
    };
    let mut net = Network::build(&spec, 0.1, 1).unwrap();
    let (mut hh_gap, mut adex_rise) = (0.0f64, 0.0f64);
    for step in 0..1000 {
        let adex_before = net.voltage(1, 0);
        net.advance();
        hh_gap = hh_gap.max(net.voltage(0, 0) - net.voltage(0, 1));
        if step > 500 {
            adex_rise = adex_rise.max(net.voltage(1, 0) - adex_before);
        }
        if step <= 500 {
            assert_eq!(net.voltage(0, 0), net.voltage(0, 1), "identical until the spike arrives");
        }
    }
    assert!(hh_gap > 0.5, "the synaptic current depolarised the target: {hh_gap} mV");
    // 10 nS × (0 − (−70.6) mV) / 281 pF ≈ 2.5 mV/ms at the arrival: 0.25 mV per step.
    assert!(adex_rise > 0.2, "the conductance pulled AdEx towards E_e: {adex_rise} mV/step");

    let tv = NeuronSpec::TvLif { tau_m: Stimulus::Constant { value: 20.0 }, gain: Stimulus::Constant { value: 1.0 }, v_rest: -60.0, v_threshold: 100.0, v_reset: -60.0, refractory: 0.0 };
    let mut driven = population("tv", 1, tv, 1);
    driven.input = Some(Stimulus::Constant { value: 7.0 });
    let mut net = Network::build(&NetworkSpec { sources: vec![], populations: vec![driven], projections: vec![] }, 0.1, 1).unwrap();
    for k in 1..=500 {
        net.advance();
        let expected = -53.0 - 7.0 * (-(k as f64) * 0.1 / 20.0).exp();
        assert!((net.voltage(0, 0) - expected).abs() < 1e-9, "step {k}");
    }
}

/// A per-neuron bias moves each LIF neuron's resting point exactly as a drive of that size.
#[test]
fn bias_is_a_per_neuron_drive() {
    let mut biased = lif("b", 2, Some([-60.0, -60.0]));
    set_threshold(&mut biased, 100.0);
    biased.bias = Some(vec![0.0, 7.0]);
    biased.synapse = SynapseModel::Conductance { tau_e: 5.0, tau_i: 10.0, e_e: 0.0, e_i: -80.0 };
    let mut driven = biased.clone();
    driven.bias = None;
    driven.input = Some(Stimulus::Constant { value: 7.0 });
    let build = |p: PopulationSpec| Network::build(&NetworkSpec { sources: vec![], populations: vec![p], projections: vec![] }, 0.1, 1).unwrap();
    let (mut a, mut b) = (build(biased), build(driven));
    for _ in 0..500 {
        a.advance();
        b.advance();
        assert_eq!(a.voltage(0, 0), -60.0);
        assert_eq!(a.voltage(0, 1), b.voltage(0, 1));
    }
    assert!((a.voltage(0, 1) - (-53.0 - 7.0 * (-2.5f64).exp())).abs() < 1e-9, "{}", a.voltage(0, 1));
}

/// Four Poisson sources at 40 Hz onto three driven, regularly firing LIF neurons, all to all
/// with weight 0.5, through a plastic projection.
fn poisson_onto_driven(rule: crate::plasticity::PlasticitySpec) -> NetworkSpec {
    let mut post = lif("post", 3, Some([-60.0, -55.0]));
    post.input = Some(Stimulus::Constant { value: 12.0 });
    NetworkSpec {
        sources: vec![SourceSpec { name: "pre".into(), size: 4, spikes: SourceSpikes::Poisson { rate: 40.0 } }],
        populations: vec![post],
        projections: vec![ProjectionSpec { plasticity: Some(rule), ..projection("pre", "post", 0.5, 0.0, Connectivity::AllToAll) }],
    }
}

/// STDP inside the network: after a run with Poisson pre spikes and a driven, regularly firing
/// post population, every weight equals its start plus the sum of the pair window over all of
/// its (pre, post) spike pairs, computed here from the recorded spikes. With a delay the pre
/// spikes count when they reach the synapse, `delay` after they are emitted (and those still on
/// their way at the end not at all).
#[test]
fn stdp_weights_follow_the_pair_window_over_recorded_spikes() {
    use crate::plasticity::{PlasticitySpec, StdpParams, WeightDependence};
    let stdp =
        StdpParams { tau_plus: 15.0, tau_minus: 25.0, a_plus: 0.05, a_minus: 0.04, w_min: -100.0, w_max: 100.0, dependence: WeightDependence::Additive, triplet: None, pairing: Default::default() };
    let dt = 0.1;
    for (delay, delay_steps) in [(0.0, 0.0), (1.5, 15.0)] {
        let mut spec = poisson_onto_driven(PlasticitySpec::Stdp(stdp));
        spec.projections[0].delay = delay;
        let mut net = Network::build(&spec, dt, 9).unwrap();
        let (mut pre_steps, mut post_steps) = (vec![Vec::new(); 4], vec![Vec::new(); 3]);
        let steps = 3000;
        for step in 0..steps {
            net.advance();
            net.source_fired[0].iter().for_each(|&i| pre_steps[i as usize].push(step as f64 + delay_steps));
            net.last_spikes()[0].iter().for_each(|&j| post_steps[j as usize].push(step as f64));
        }
        assert!(post_steps.iter().all(|s| s.len() > 5) && pre_steps.iter().all(|s| s.len() > 3));
        let proj = &net.projections[0];
        for (i, pre) in pre_steps.iter().enumerate() {
            for s in proj.starts[i] as usize..proj.starts[i + 1] as usize {
                let j = proj.targets[s] as usize;
                let mut expected = 0.5;
                for &p in pre.iter().filter(|&&p| p < steps as f64) {
                    for &q in &post_steps[j] {
                        expected += if q >= p { stdp.a_plus * (-(q - p) * dt / stdp.tau_plus).exp() } else { -stdp.a_minus * (-(p - q) * dt / stdp.tau_minus).exp() };
                    }
                }
                assert!((proj.weights[s] - expected).abs() < 1e-9, "delay {delay}, synapse {i}→{j}: {} vs {expected}", proj.weights[s]);
            }
        }
    }
    let mut outside = poisson_onto_driven(PlasticitySpec::Stdp(stdp));
    outside.projections[0].weight = 200.0.into();
    assert!(Network::build(&outside, dt, 9).err().unwrap().to_string().contains("projections[0].weight"));
}

/// A delayed plastic projection transmits on arrival, with the weight the synapse has then: with
/// a rule that never changes a weight, the network runs as with the same projection static
/// (the same spikes; the membranes equal to rounding, the arrivals summed in another order).
#[test]
fn a_delayed_plastic_projection_transmits_as_a_static_one() {
    use crate::plasticity::{PlasticitySpec, StdpParams};
    let still = StdpParams { tau_plus: 20.0, tau_minus: 20.0, a_plus: 0.0, a_minus: 0.0, w_min: 0.0, w_max: 1.0, dependence: Default::default(), triplet: None, pairing: Default::default() };
    let mut plastic = poisson_onto_driven(PlasticitySpec::Stdp(still));
    plastic.projections[0].delay = 2.0;
    plastic.projections[0].weight = 0.9.into();
    let mut fixed = plastic.clone();
    fixed.projections[0].plasticity = None;
    let (mut a, mut b) = (Network::build(&plastic, 0.1, 3).unwrap(), Network::build(&fixed, 0.1, 3).unwrap());
    let mut post_spikes = 0;
    for _ in 0..3000 {
        a.advance();
        b.advance();
        assert_eq!(a.last_spikes(), b.last_spikes());
        post_spikes += a.last_spikes()[0].len();
        (0..3).for_each(|j| assert!((a.voltage(0, j) - b.voltage(0, j)).abs() < 1e-9));
    }
    assert!(post_spikes > 20, "{post_spikes}");
}

/// The Hebbian covariance rule inside the network: every weight equals the one a step-by-step
/// replay of the rule gives from the recorded spikes (traces decayed, this step's spikes added,
/// then η·dt·(x − θ_pre)(y − θ_post) with Oja's term), within the rule's bounds.
#[test]
fn hebbian_weights_follow_the_recorded_spikes() {
    use crate::plasticity::{HebbianParams, PlasticitySpec};
    let hebb = HebbianParams { eta: 0.004, tau_pre: 15.0, tau_post: 25.0, theta_pre: 0.3, theta_post: 0.6, oja: true, w_min: -5.0, w_max: 5.0 };
    let spec = poisson_onto_driven(PlasticitySpec::Hebbian(hebb));
    let dt = 0.1;
    let mut net = Network::build(&spec, dt, 4).unwrap();
    let (mut x, mut y) = (vec![0.0f64; 4], vec![0.0f64; 3]);
    let mut expected = vec![0.5f64; 12];
    let (mut pre_spikes, mut post_spikes) = (0, 0);
    for _ in 0..3000 {
        net.advance();
        x.iter_mut().for_each(|v| *v *= (-dt / hebb.tau_pre).exp());
        y.iter_mut().for_each(|v| *v *= (-dt / hebb.tau_post).exp());
        net.source_fired[0].iter().for_each(|&i| x[i as usize] += 1.0);
        net.last_spikes()[0].iter().for_each(|&j| y[j as usize] += 1.0);
        pre_spikes += net.source_fired[0].len();
        post_spikes += net.last_spikes()[0].len();
        let proj = &net.projections[0];
        for (i, &xi) in x.iter().enumerate() {
            for s in proj.starts[i] as usize..proj.starts[i + 1] as usize {
                let yj = y[proj.targets[s] as usize];
                let w = expected[s];
                expected[s] = (w + hebb.eta * dt * ((xi - hebb.theta_pre) * (yj - hebb.theta_post) - yj * yj * w)).clamp(hebb.w_min, hebb.w_max);
            }
        }
    }
    assert!(pre_spikes > 20 && post_spikes > 20, "{pre_spikes} {post_spikes}");
    let weights = &net.projections[0].weights;
    for (s, (w, e)) in weights.iter().zip(&expected).enumerate() {
        assert!((w - e).abs() < 1e-9, "synapse {s}: {w} vs {e}");
    }
    assert!(weights.iter().any(|w| (w - 0.5).abs() > 1e-3), "{weights:?}");
}

#[test]
fn bad_populations_are_named() {
    use crate::neuron::hh::{Integrator, VoltageConvention};
    let err = |p: PopulationSpec| Network::build(&NetworkSpec { sources: vec![], populations: vec![p], projections: vec![] }, 0.1, 1).err().expect("must fail").to_string();
    let mut p = lif("a", 3, None);
    p.bias = Some(vec![1.0, 2.0]);
    assert!(err(p).contains("populations[0].bias"));
    let mut p = lif("a", 3, None);
    p.substeps = 4;
    assert!(err(p).contains("substeps"));
    let hh = NeuronSpec::Hh { convention: VoltageConvention::RestAtMinus65, integrator: Integrator::Rk4 };
    assert!(err(population("a", 3, hh, 0)).contains("substeps"));
    let tv =
        NeuronSpec::TvLif { tau_m: Stimulus::Sine { offset: 5.0, amplitude: 6.0, omega: 1.0 }, gain: Stimulus::Constant { value: 1.0 }, v_rest: 0.0, v_threshold: 1.0, v_reset: 0.0, refractory: 0.0 };
    assert!(err(population("a", 3, tv, 1)).contains("populations[0].neuron.tau_m"));
    let bad_adex = NeuronSpec::Adex { c: 281.0, g_l: 30.0, e_l: -70.6, v_t: -50.4, delta_t: 2.0, tau_w: -1.0, a: 4.0, b: 80.5, v_reset: -70.6, v_peak: -40.4, integrator: Integrator::Rk4 };
    assert!(err(population("a", 3, bad_adex, 1)).contains("populations[0].neuron.tau_w"));
}

/// The network's LIF population and the trainable `Lif` are one model in two units: with the
/// membrane measured from rest, θ and the reset shifted likewise, the exact discretisation at
/// rate dt/τ_m with the input decayed (`decay_input`) and a bias as the input, they spike at the
/// same steps (the simulator in f64 and ms, the training kernel in f32 and steps).
#[test]
fn the_network_lif_is_the_trainable_lif_in_milliseconds() {
    use crate::neuron::{Decay, Discretisation, FireMode, Lif, NeuronModel, Reset};
    use crate::tensor::Tensor;
    let (dt, steps) = (0.1, 2000);
    let bias = vec![5.0, 10.5, 12.0, 20.0, 35.0];
    let mut pop = lif("p", bias.len(), Some([-60.0, -60.0]));
    let NeuronSpec::Lif { refractory, v_reset, .. } = &mut pop.neuron else { unreachable!() };
    (*refractory, *v_reset) = (0.0, -58.0);
    pop.bias = Some(bias.clone());
    let mut net = Network::build(&NetworkSpec { sources: vec![], populations: vec![pop], projections: vec![] }, dt, 1).unwrap();
    let mut simulated = vec![0.0f32; steps * bias.len()];
    for t in 0..steps {
        net.advance();
        net.last_spikes()[0].iter().for_each(|&k| simulated[t * bias.len() + k as usize] = 1.0);
    }

    let trainable = Lif { decay: Decay { rate: (dt / 20.0) as f32, discretisation: Discretisation::Exact, decay_input: true }, threshold: 10.0, reset: Reset::To(2.0), ..Lif::new(2.0) };
    let input = Tensor::from_vec(&[steps, 1, bias.len()], (0..steps).flat_map(|_| bias.iter().map(|&b| b as f32)).collect()).unwrap();
    let (spikes, _) = trainable.forward(input, FireMode::Heaviside, false);
    let spikes = spikes.into_dense();
    assert_eq!(spikes.data(), &simulated[..]);
    let counts: Vec<f32> = (0..bias.len()).map(|i| (0..steps).map(|t| simulated[t * bias.len() + i]).sum()).collect();
    assert_eq!(counts[0], 0.0, "a 5 mV drive stays below a 10 mV threshold");
    assert!(counts[1] >= 1.0 && counts[4] > counts[3] && counts[3] > counts[2], "{counts:?}");
}

/// Weights drawn per synapse: each within [low, high], centred on the middle, the same for the
/// same seed, and each spike delivers its own synapse's weight (one spike from each of 200
/// sources, one to one, onto a silent population: its `ge` after the step is the weight).
#[test]
fn uniform_weights_are_drawn_per_synapse_and_delivered() {
    let mut target = lif("dst", 200, Some([-60.0, -60.0]));
    set_threshold(&mut target, 100.0);
    let spec = NetworkSpec {
        populations: vec![target],
        sources: vec![SourceSpec { name: "once".into(), size: 200, spikes: SourceSpikes::Times { times: vec![vec![0.0]; 200] } }],
        projections: vec![ProjectionSpec { weight: WeightInit::Uniform { low: 1.0, high: 3.0 }, ..projection("once", "dst", 0.0, 0.0, Connectivity::OneToOne) }],
    };
    let mut net = Network::build(&spec, 0.1, 7).unwrap();
    let drawn: Vec<f64> = net.projections[0].synapses().map(|(i, j, w)| if i == j { w } else { panic!("{i}→{j} is not one to one") }).collect();
    assert_eq!(drawn, Network::build(&spec, 0.1, 7).unwrap().projections[0].weights);
    assert_ne!(drawn, Network::build(&spec, 0.1, 8).unwrap().projections[0].weights);
    assert!(drawn.iter().all(|w| (1.0..=3.0).contains(w)), "{drawn:?}");
    // U(1, 3) has standard deviation 2/√12; the mean of 200 lies within 4 standard errors.
    let mean = drawn.iter().sum::<f64>() / 200.0;
    assert!((mean - 2.0).abs() < 4.0 * (2.0 / 12f64.sqrt()) / 200f64.sqrt(), "mean {mean}");
    net.advance();
    let ge = net.variable_names(0).iter().position(|&v| v == "ge").unwrap();
    (0..200).for_each(|j| assert_eq!(net.variable(0, ge, j), drawn[j], "neuron {j}"));

    let err = |weight: WeightInit, plastic: bool| {
        let mut bad = spec.clone();
        bad.projections[0].weight = weight;
        if plastic {
            use crate::plasticity::{PlasticitySpec, StdpParams};
            let stdp = StdpParams { tau_plus: 20.0, tau_minus: 20.0, a_plus: 0.01, a_minus: 0.01, w_min: 0.0, w_max: 2.0, dependence: Default::default(), triplet: None, pairing: Default::default() };
            bad.projections[0].plasticity = Some(PlasticitySpec::Stdp(stdp));
        }
        Network::build(&bad, 0.1, 7).err().expect("must fail").to_string()
    };
    assert!(err(WeightInit::Uniform { low: 3.0, high: 1.0 }, false).contains("projections[0].weight"));
    assert!(err(WeightInit::Uniform { low: 0.0, high: f64::INFINITY }, false).contains("projections[0].weight"));
    let e = err(WeightInit::Uniform { low: 1.0, high: 3.0 }, true);
    assert!(e.contains("projections[0].weight") && e.contains("[1, 3] is outside the rule's bounds [0, 2]"), "{e}");
}

/// `weight` in a config: a number, or `{ uniform = [low, high] }`; anything else is refused
/// with what it accepts.
#[test]
fn weights_parse_as_a_number_or_a_uniform_range() {
    #[derive(serde::Deserialize, serde::Serialize, Debug)]
    struct Holder {
        weight: WeightInit,
    }
    let parse = |text: &str| toml::from_str::<Holder>(text).map(|h| h.weight).map_err(|e| e.to_string());
    assert_eq!(parse("weight = 0.25"), Ok(WeightInit::Constant(0.25)));
    assert_eq!(parse("weight = -2"), Ok(WeightInit::Constant(-2.0)));
    assert_eq!(parse("weight = { uniform = [0.0, 0.01] }"), Ok(WeightInit::Uniform { low: 0.0, high: 0.01 }));
    for (bad, says) in
        [("weight = \"big\"", "a number or { uniform = [low, high] }"), ("weight = { normal = [0.0, 1.0] }", "uniform"), ("weight = { uniform = [1.0] }", "2"), ("weight = {}", "uniform")]
    {
        let e = parse(bad).expect_err(bad);
        assert!(e.contains(says), "{bad}: {e}");
    }
    // Written back the way it is read.
    for weight in [WeightInit::Constant(0.5), WeightInit::Uniform { low: 0.0, high: 0.01 }] {
        assert_eq!(parse(&toml::to_string(&Holder { weight }).unwrap()), Ok(weight));
    }
}

/// Weight traces: a monitor sampling every 0.5 ms (5 steps) holds, at each of its times, the
/// plastic weights the network had then; bad projections, synapses and intervals are named.
#[test]
fn monitors_sample_weights_every_interval() {
    use crate::plasticity::{PlasticitySpec, StdpParams};
    use crate::sim::{Monitor, RecordSpec, WeightRecord};
    let stdp = StdpParams { tau_plus: 15.0, tau_minus: 25.0, a_plus: 0.05, a_minus: 0.04, w_min: -100.0, w_max: 100.0, dependence: Default::default(), triplet: None, pairing: Default::default() };
    let spec = poisson_onto_driven(PlasticitySpec::Stdp(stdp));
    let mut net = Network::build(&spec, 0.1, 9).unwrap();
    let record = RecordSpec { weights: vec![WeightRecord { projection: 0, synapses: vec![0, 11] }], every: Some(0.5), ..Default::default() };
    let mut monitor = Monitor::new(&record, &net).unwrap();
    let mut seen = Vec::new();
    for step in 1..=3000 {
        net.advance();
        monitor.observe(&net, step as f64 * 0.1);
        if step % 5 == 0 {
            seen.push((net.projections[0].weights[0], net.projections[0].weights[11]));
        }
    }
    let rec = &monitor.recording;
    assert_eq!(rec.times.len(), 600);
    assert!((rec.times[0] - 0.5).abs() < 1e-12 && (rec.times[599] - 300.0).abs() < 1e-9, "{:?}", &rec.times[..3]);
    assert_eq!(rec.traces.iter().map(|t| (t.population.as_str(), t.neuron, t.of_synapse)).collect::<Vec<_>>(), [("projection0", 0, true), ("projection0", 11, true)]);
    assert_eq!(rec.traces[0].values, seen.iter().map(|s| s.0).collect::<Vec<_>>());
    assert_eq!(rec.traces[1].values, seen.iter().map(|s| s.1).collect::<Vec<_>>());
    assert!(seen.first() != seen.last(), "the weights moved");

    let err = |record: RecordSpec| Monitor::new(&record, &net).err().expect("must fail").to_string();
    let weights = |projection, synapses| vec![WeightRecord { projection, synapses }];
    assert!(err(RecordSpec { weights: weights(1, vec![0]), ..Default::default() }).contains("record.weights[0].projection"));
    assert!(err(RecordSpec { weights: weights(0, vec![12]), ..Default::default() }).contains("record.weights[0].synapses"));
    assert!(err(RecordSpec { weights: weights(0, vec![0]), every: Some(0.05), ..Default::default() }).contains("record.every"));
    let stp = vec![crate::sim::StpRecord { projection: 0, neurons: vec![0] }];
    assert!(err(RecordSpec { stp, ..Default::default() }).contains("projection 0 has no short-term plasticity"));
}

/// Short-term plasticity: every spike of a times source lands in the target's `ge` as its
/// weight times the Tsodyks–Markram efficacy of that spike, worked by an independent
/// `SynapseStp` over the same times; the shared-weight and the per-synapse-weight paths and a
/// delayed projection agree, and a long regular train settles at the closed-form efficacy. A
/// monitor samples u and x of the pre neurons as the independent state has them.
#[test]
fn short_term_plasticity_scales_each_spike() {
    use crate::plasticity::stp::{StpOrder, SynapseStp, TsodyksMarkram};
    use crate::sim::{Monitor, RecordSpec, StpRecord};
    let dt = 0.1;
    let params = TsodyksMarkram { u: 0.3, tau_f: 40.0, tau_d: 150.0, order: StpOrder::ReleaseFirst };
    let times: Vec<f64> = [5.0, 12.0, 20.0, 21.0, 60.0, 300.0].into_iter().chain((0..300).map(|n| 400.0 + 10.0 * n as f64)).collect();
    let mut target = lif("dst", 3, Some([-60.0, -60.0]));
    set_threshold(&mut target, 1e9);
    let stp = Some(params);
    let spec = NetworkSpec {
        sources: vec![SourceSpec { name: "train".into(), size: 2, spikes: SourceSpikes::Times { times: vec![vec![], times.clone()] } }],
        populations: vec![target],
        projections: vec![
            ProjectionSpec { post: Some([0, 1]), stp, ..projection("train", "dst", 2.0, 0.0, Connectivity::AllToAll) },
            ProjectionSpec { post: Some([1, 2]), stp, weight: WeightInit::Uniform { low: 2.0, high: 2.0 }, ..projection("train", "dst", 0.0, 0.0, Connectivity::AllToAll) },
            ProjectionSpec { post: Some([2, 3]), stp, ..projection("train", "dst", 2.0, 1.0, Connectivity::AllToAll) },
        ],
    };
    let mut net = Network::build(&spec, dt, 1).unwrap();
    let ge = net.variable_names(0).iter().position(|&n| n == "ge").unwrap();
    let decay = (-dt / 5.0).exp();
    let mut reference = SynapseStp::new(params, 1);
    let (mut jumps, mut expected) = (Vec::new(), Vec::new());
    let mut delayed_jumps = Vec::new();
    let record = RecordSpec { stp: vec![StpRecord { projection: 0, neurons: vec![0, 1] }], ..Default::default() };
    let mut monitor = Monitor::new(&record, &net).unwrap();
    let mut sampled_state = Vec::new();
    for step in 0..(times.last().unwrap() / dt) as usize + 20 {
        let before: Vec<f64> = (0..3).map(|j| net.variable(0, ge, j)).collect();
        net.advance();
        let jump = |j: usize| net.variable(0, ge, j) - before[j] * decay;
        if !net.source_fired[0].is_empty() {
            expected.push(2.0 * reference.spike(0, step as f64 * dt));
            jumps.push([jump(0), jump(1)]);
        }
        if jump(2).abs() > 1e-9 {
            delayed_jumps.push(jump(2));
        }
        let t = (step + 1) as f64 * dt;
        monitor.observe(&net, t);
        sampled_state.push(reference.state(0, t));
    }
    let traces = &monitor.recording.traces;
    assert_eq!(
        traces.iter().map(|t| (t.population.as_str(), t.variable.as_str(), t.neuron)).collect::<Vec<_>>(),
        [("projection0", "u", 0), ("projection0", "u", 1), ("projection0", "x", 0), ("projection0", "x", 1)]
    );
    assert!(traces[0].values.iter().all(|&u| u == 0.3) && traces[2].values.iter().all(|&x| x == 1.0), "a silent pre neuron rests at (U, 1)");
    assert_eq!(traces[1].values, sampled_state.iter().map(|s| s.0).collect::<Vec<_>>());
    assert_eq!(traces[3].values, sampled_state.iter().map(|s| s.1).collect::<Vec<_>>());
    let err = |record: RecordSpec| Monitor::new(&record, &net).err().expect("must fail").to_string();
    assert!(err(RecordSpec { stp: vec![StpRecord { projection: 0, neurons: vec![2] }], ..Default::default() }).contains("record.stp[0].neurons"));
    assert!(err(RecordSpec { stp: vec![StpRecord { projection: 3, neurons: vec![0] }], ..Default::default() }).contains("record.stp[0].projection"));
    assert_eq!(jumps.len(), times.len());
    for (n, ([shared, own], e)) in jumps.iter().zip(&expected).enumerate() {
        assert!((shared - e).abs() < 1e-12 && (own - e).abs() < 1e-12, "spike {n}: {shared}, {own} vs {e}");
    }
    assert!(expected[0] == 2.0 * 0.3 && expected[3] < 0.5 * expected[0], "the first spike gives U, a burst depresses: {expected:?}");
    assert_eq!(delayed_jumps.len(), times.len(), "the delayed projection delivers every spike once");
    for (d, e) in delayed_jumps.iter().zip(&expected) {
        assert!((d - e).abs() < 1e-12, "delayed: {d} vs {e}");
    }
    let settled = 2.0 * params.steady_efficacy(10.0);
    assert!((expected.last().unwrap() - settled).abs() < 1e-9, "{} vs {settled}", expected.last().unwrap());

    let mut bad = spec.clone();
    bad.projections[0].stp = Some(TsodyksMarkram { u: 1.2, ..params });
    assert!(Network::build(&bad, dt, 1).err().unwrap().to_string().contains("projections[0].stp.u"));
}
