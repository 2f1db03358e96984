use super::*;

fn parse(text: &str) -> std::result::Result<ModelSpec, String> {
    toml::from_str(text).map_err(|e| e.to_string())
}

#[test]
fn unknown_keys_and_types_are_named() {
    let err = parse("input = [4]\nlayers = [{ type = \"linear\", out = 3, bais = false }]").unwrap_err();
    assert!(err.contains("bais"), "{err}");
    let err = parse("input = [4]\nlayers = [{ type = \"lif\", tua = 3.0 }]").unwrap_err();
    assert!(err.contains("tua"), "{err}");
    let err = parse("input = [4]\nlayers = [{ type = \"lstm\" }]").unwrap_err();
    assert!(err.contains("lstm"), "{err}");
    let err = parse("input = [4]\nlayers = [{ type = \"hh\", tau = 3.0 }]").unwrap_err();
    assert!(err.contains("tau"), "{err}");
    let err = parse("input = [4]\nlayrs = []").unwrap_err();
    assert!(err.contains("layrs"), "{err}");
}

#[test]
fn invalid_values_are_named() {
    let cases = [
        ("{ type = \"lif\", tau = -1.0 }", "model.layers[0].tau"),
        ("{ type = \"lif\", tau = 0.5 }", "model.layers[0].tau"),
        ("{ type = \"lif\", decay = 1.5 }", "model.layers[0].decay"),
        ("{ type = \"lif\", tau = 2.0, decay = 0.5 }", "model.layers[0].decay"),
        ("{ type = \"lif\", threshold = 0.0 }", "model.layers[0].threshold"),
        ("{ type = \"lif\", reset = \"subtract\", v_reset = 0.5 }", "model.layers[0].v_reset"),
        ("{ type = \"if\", tau = 2.0 }", "model.layers[0].tau"),
        ("{ type = \"li\", threshold = 1.0 }", "model.layers[0].threshold"),
        ("{ type = \"lif\", beta = 1.0 }", "model.layers[0].beta"),
        ("{ type = \"alif\", tau_adapt = 0.0 }", "model.layers[0].tau_adapt"),
        ("{ type = \"lif\", surrogate = { kind = \"sigmoid\", alpha = -1.0 } }", "model.layers[0].surrogate"),
        ("{ type = \"dropout\", p = 1.0 }", "model.layers[0].p"),
        ("{ type = \"linear\", out = 0 }", "model.layers[0].out"),
        ("{ type = \"lif\", winners = 0 }", "model.layers[0].winners"),
        ("{ type = \"linear\", out = 3, kept_weights = 1.5 }", "model.layers[0].kept_weights"),
        ("{ type = \"linear\", out = 3, mask = \"complementary\" }", "model.layers[0].mask"),
        ("{ type = \"k-winners\", k = 5 }", "model.layers[0].k"),
        ("{ type = \"k-winners\", k = 2, percent_on = 0.5 }", "model.layers[0].k"),
        ("{ type = \"k-winners\", percent_on = 1.5 }", "model.layers[0].percent_on"),
        ("{ type = \"normalize\", mean = 0.1, std = 0.0 }", "model.layers[0].std"),
        ("{ type = \"dendritic-linear\", out = 3, segments = 0, context = 4 }", "model.layers[0].segments"),
        ("{ type = \"hh\", dt = -0.01 }", "model.layers[0].dt"),
        ("{ type = \"hh\", substeps = 0 }", "model.layers[0].substeps"),
        ("{ type = \"hh\", current_scale = 0.0 }", "model.layers[0].current_scale"),
        ("{ type = \"tv-lif2hh\", integrator = \"exponential-euler\" }", "model.layers[0].integrator"),
        ("{ type = \"izhikevich\", convention = \"rest-at-zero\" }", "model.layers[0].convention"),
        ("{ type = \"adex\", integrator = \"exponential-euler\" }", "model.layers[0].integrator"),
    ];
    for (layer, key) in cases {
        let spec = parse(&format!("input = [4]\nlayers = [{layer}]")).unwrap();
        let err = crate::nn::Sequential::from_spec(&spec, 0).unwrap_err().to_string();
        assert!(err.contains(key), "{layer}: {err}");
    }
}

#[test]
fn neuron_defaults_follow_spikingjelly_and_decay_follows_snntorch() {
    let spec = NeuronSpec::default();
    let m = spec.lif("k", true).unwrap();
    assert_eq!((m.decay.leak(), m.decay.gain(), m.reset), (0.5, 0.5, Reset::To(0.0)));
    let spec = NeuronSpec { decay: Some(0.9), reset: Some(ResetSpec::Subtract), ..Default::default() };
    let m = spec.lif("k", true).unwrap();
    assert!((m.decay.leak() - 0.9).abs() < 1e-6 && m.decay.gain() == 1.0 && m.reset == Reset::Subtract);
}

#[test]
fn conductance_layers_build() {
    let layers = "{ type = \"hh\", dt = 0.02, substeps = 50, threshold = -30.0 }, { type = \"tv-lif2hh\", convention = \"rest-at-zero\" }, \
        { type = \"izhikevich\", parameters = { a = 0.1, b = 0.2, c = -65.0, d = 2.0 } }, { type = \"adex\", integrator = \"euler\" }";
    let spec = parse(&format!("input = [4]\nlayers = [{layers}]")).unwrap();
    let net = crate::nn::Sequential::from_spec(&spec, 0).unwrap();
    let kinds: Vec<&str> = net.layers.iter().map(|l| l.kind()).collect();
    assert_eq!(kinds, ["hh", "tv-lif2hh", "izhikevich", "adex"]);
    assert!(net.layers.iter().all(|l| l.emits_spikes()));
}
