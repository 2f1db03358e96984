//! Plots of a run, each as PNG and SVG: training curves and a spike raster of one sample; a
//! network simulation's spike raster and state traces (one plot per population and variable);
//! local-learning runs' seed curves and `compare`'s cost bars. Each is drawn by one function,
//! generic over the plotters backend.

use plotters::chart::MeshStyle;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use spikelab::io::write_atomic;
use spikelab::sim::{Recording, StateTrace, WeightSummary};
use spikelab::{Error, Result};
use std::path::Path;
use std::sync::Once;

mod glyphs;
use glyphs::{GlyphBitmap, FONT};

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        plotters::style::register_font("sans-serif", FontStyle::Normal, FONT).map_err(|_| ()).expect("embedded font is valid");
    });
}

pub struct Curves {
    pub train_loss: Vec<f64>,
    pub test_loss: Vec<f64>,
    pub train_accuracy: Vec<f64>,
    pub test_accuracy: Vec<f64>,
}

type DrawResult = std::result::Result<(), String>;

/// The smallest and largest finite value, if any.
fn finite_extent(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    values.filter(|v| v.is_finite()).fold(None, |range, v| Some(range.map_or((v, v), |(lo, hi): (f64, f64)| (lo.min(v), hi.max(v)))))
}

/// An axis range over `values` with 5 % margins (at least `min_pad`); `empty` when none is finite.
fn padded_range(values: impl Iterator<Item = f64>, empty: (f64, f64), min_pad: f64) -> (f64, f64) {
    let (lo, hi) = finite_extent(values).unwrap_or(empty);
    let pad = ((hi - lo) * 0.05).max(min_pad);
    (lo - pad, hi + pad)
}

/// Draws with `$draw(area, args…)` on a bitmap and an SVG canvas, and writes `{base}.png` and
/// `{base}.svg` atomically. (A macro because the two backends are different types.)
macro_rules! render_both {
    ($base:expr, $size:expr, $draw:ident, $($arg:expr),*) => {{
        register_font();
        let (w, h) = $size;
        let mut pixels = vec![0u8; (w * h * 3) as usize];
        {
            let area = GlyphBitmap(BitMapBackend::with_buffer(&mut pixels, (w, h))).into_drawing_area();
            $draw(&area, $($arg),*).map_err(|e| Error::Other(format!("plot {}: {e}", $base.display())))?;
            area.present().map_err(|e| Error::Other(format!("plot: {e}")))?;
        }
        let image = image::RgbImage::from_raw(w, h, pixels).expect("buffer matches size");
        let mut png = std::io::Cursor::new(Vec::new());
        image.write_to(&mut png, image::ImageOutputFormat::Png).map_err(|e| Error::Other(format!("png: {e}")))?;
        write_atomic(&$base.with_extension("png"), png.get_ref())?;
        let mut svg = String::new();
        {
            let area = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
            $draw(&area, $($arg),*).map_err(|e| Error::Other(format!("plot {}: {e}", $base.display())))?;
            area.present().map_err(|e| Error::Other(format!("plot: {e}")))?;
        }
        write_atomic(&$base.with_extension("svg"), svg.as_bytes())
    }};
}

pub fn training_curves(curves: &Curves, base: &Path) -> Result<()> {
    render_both!(base, (900u32, 420u32), draw_curves, curves)
}

pub fn spike_raster(layers: &[(String, Vec<Vec<bool>>)], label: u8, base: &Path) -> Result<()> {
    let height = 160 + 200 * layers.len() as u32;
    render_both!(base, (900u32, height), draw_raster, layers, label)
}

fn draw_curves<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, c: &Curves) -> DrawResult {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    area.fill(&WHITE).map_err(err)?;
    let (left, right) = area.split_horizontally(450);
    let epochs = c.train_loss.len().max(1) as f64;
    let panels = [(&left, "loss", &c.train_loss, &c.test_loss), (&right, "accuracy", &c.train_accuracy, &c.test_accuracy)];
    for (panel, name, train, test) in panels {
        let (lo, hi) = padded_range(train.iter().chain(test.iter()).copied(), (0.0, 1.0), 1e-3);
        let mut chart =
            ChartBuilder::on(panel).caption(name, ("sans-serif", 20)).margin(12).x_label_area_size(35).y_label_area_size(55).build_cartesian_2d(0.5f64..epochs + 0.5, lo..hi).map_err(err)?;
        quiet_mesh(&mut chart).x_desc("epoch").x_label_formatter(&whole_epochs).draw().map_err(err)?;
        for (series, color, label) in [(train, BLUE, "train"), (test, RED, "test")] {
            let points: Vec<(f64, f64)> = series.iter().enumerate().map(|(i, &v)| (i as f64 + 1.0, v)).collect();
            chart
                .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
                .map_err(err)?
                .label(label)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2)));
            chart.draw_series(points.into_iter().map(|p| Circle::new(p, 3, color.filled()))).map_err(err)?;
        }
        chart.configure_series_labels().label_font(("sans-serif", 13)).background_style(WHITE.mix(0.8)).border_style(BLACK).draw().map_err(err)?;
    }
    Ok(())
}

fn draw_raster<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, layers: &[(String, Vec<Vec<bool>>)], label: u8) -> DrawResult {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    area.fill(&WHITE).map_err(err)?;
    let area = area.titled(&format!("spike raster of test sample 0 (label {label})"), ("sans-serif", 20)).map_err(err)?;
    let panels = area.split_evenly((layers.len().max(1), 1));
    for (panel, (name, steps)) in panels.iter().zip(layers) {
        let (t, n) = (steps.len(), steps.first().map_or(0, Vec::len));
        let mut chart = ChartBuilder::on(panel)
            .caption(format!("{name} ({n} neurons)"), ("sans-serif", 15))
            .margin(8)
            .x_label_area_size(30)
            .y_label_area_size(55)
            .build_cartesian_2d(-0.5f64..t as f64 - 0.5, -0.5f64..n.max(1) as f64 - 0.5)
            .map_err(err)?;
        chart.configure_mesh().disable_mesh().x_desc("time step").y_desc("neuron").label_style(("sans-serif", 11)).draw().map_err(err)?;
        let marks = steps.iter().enumerate().flat_map(|(ti, row)| {
            row.iter().enumerate().filter(|(_, &s)| s).map(move |(i, _)| Rectangle::new([(ti as f64 - 0.35, i as f64 - 0.5), (ti as f64 + 0.35, i as f64 + 0.5)], BLACK.filled()))
        });
        chart.draw_series(marks).map_err(err)?;
    }
    Ok(())
}

/// A network run's spike raster (time in ms against neuron) and, when recorded, the membrane
/// potential traces, as `{base}_raster` and `{base}_voltage` PNG + SVG.
pub fn simulation(rec: &Recording, duration_ms: f64, base: &Path) -> Result<()> {
    let stem = base.file_name().and_then(|s| s.to_str()).unwrap_or("sim");
    if rec.spike_neurons > 0 {
        render_both!(base.with_file_name(format!("{stem}_raster")), (900u32, 500u32), draw_sim_raster, rec, duration_ms)?;
    }
    // One plot per recorded quantity: `{stem}_{population}_{variable}`.
    let mut groups: Vec<(&str, &str, bool)> = rec.traces.iter().map(|t| (t.population.as_str(), t.variable.as_str(), t.of_synapse)).collect();
    groups.sort();
    groups.dedup();
    for (population, variable, of_synapse) in groups {
        let traces: Vec<&StateTrace> = rec.traces.iter().filter(|t| t.population == population && t.variable == variable && t.of_synapse == of_synapse).collect();
        render_both!(base.with_file_name(format!("{stem}_{population}_{variable}")), (900u32, 420u32), draw_traces, &rec.times, &traces)?;
    }
    Ok(())
}

fn draw_sim_raster<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, rec: &Recording, duration_ms: f64) -> DrawResult {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    area.fill(&WHITE).map_err(err)?;
    let mut chart = ChartBuilder::on(area)
        .caption(format!("spikes of {} neurons", rec.spike_neurons), ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(35)
        .y_label_area_size(55)
        .build_cartesian_2d(0f64..duration_ms, -0.5f64..rec.spike_neurons as f64 - 0.5)
        .map_err(err)?;
    chart.configure_mesh().disable_mesh().x_desc("time (ms)").y_desc("neuron").label_style(("sans-serif", 11)).draw().map_err(err)?;
    chart.draw_series(rec.spikes.iter().map(|&(t, i)| Circle::new((t, i as f64), 1, BLACK.filled()))).map_err(err)?;
    Ok(())
}

/// A network run's final weights of one projection, as a histogram over their range.
pub fn weight_histogram(summary: &WeightSummary, caption: &str, base: &Path) -> Result<()> {
    render_both!(base, (700u32, 420u32), draw_weight_histogram, summary, caption)
}

fn draw_weight_histogram<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, summary: &WeightSummary, caption: &str) -> DrawResult {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    area.fill(&WHITE).map_err(err)?;
    let [lo, hi] = summary.range;
    let total = summary.synapses.max(1) as f64;
    let top = summary.histogram.iter().map(|&n| n as f64 / total).fold(0.0f64, f64::max).max(0.01) * 1.1;
    let mut chart = ChartBuilder::on(area).caption(caption, ("sans-serif", 18)).margin(12).x_label_area_size(35).y_label_area_size(55).build_cartesian_2d(lo..hi, 0.0..top).map_err(err)?;
    quiet_mesh(&mut chart).x_desc("weight").y_desc("fraction of synapses").label_style(("sans-serif", 11)).draw().map_err(err)?;
    let width = (hi - lo) / summary.histogram.len() as f64;
    let bars = summary.histogram.iter().enumerate().map(|(k, &n)| {
        let x = lo + k as f64 * width;
        Rectangle::new([(x + 0.05 * width, 0.0), (x + 0.95 * width, n as f64 / total)], BLUE.mix(0.7).filled())
    });
    chart.draw_series(bars).map_err(err)?;
    Ok(())
}

fn draw_traces<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, times: &[f64], traces: &[&StateTrace]) -> DrawResult {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    area.fill(&WHITE).map_err(err)?;
    // 5 % margins; a flat trace gets a unit band.
    let (lo, hi) = match finite_extent(traces.iter().flat_map(|t| t.values.iter().copied())) {
        Some((lo, hi)) if hi > lo => (lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo)),
        Some((lo, hi)) => (lo - 1.0, hi + 1.0),
        None => (-1.0, 1.0),
    };
    let end = times.last().copied().unwrap_or(1.0);
    let (population, variable) = (&traces[0].population, &traces[0].variable);
    let caption = match (variable.as_str(), traces[0].of_synapse) {
        (_, true) => format!("{population}: weights"),
        ("v", _) => format!("{population}: membrane potential"),
        _ => format!("{population}: {variable}"),
    };
    let mut chart = ChartBuilder::on(area).caption(caption, ("sans-serif", 18)).margin(12).x_label_area_size(35).y_label_area_size(55).build_cartesian_2d(0f64..end, lo..hi).map_err(err)?;
    let unit = if variable == "v" { "mV" } else { variable.as_str() };
    quiet_mesh(&mut chart).x_desc("time (ms)").y_desc(unit).label_style(("sans-serif", 11)).draw().map_err(err)?;
    for (k, trace) in traces.iter().enumerate() {
        let color = Palette99::pick(k).to_rgba();
        chart
            .draw_series(LineSeries::new(times.iter().copied().zip(trace.values.iter().copied()), color.stroke_width(1)))
            .map_err(err)?
            .label(format!("{} {}", if trace.of_synapse { "synapse" } else { "neuron" }, trace.neuron))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2)));
    }
    chart.configure_series_labels().label_font(("sans-serif", 12)).background_style(WHITE.mix(0.8)).border_style(BLACK).draw().map_err(err)?;
    Ok(())
}

/// One method's test-accuracy curves: one line per seed, their mean drawn bold.
pub struct SeedCurves {
    pub name: String,
    /// What the curves measure ("test accuracy", "mean cosine with the target").
    pub measure: &'static str,
    /// Per seed, per epoch, in %.
    pub accuracy: Vec<Vec<f64>>,
}

/// `spikelab run` of a local-learning task: test accuracy per epoch, per seed and mean.
pub fn seed_curves(curves: &SeedCurves, base: &Path) -> Result<()> {
    render_both!(base, (700u32, 450 + legend_height(1)), draw_seed_curves, curves)
}

/// `spikelab compare`: every method's seed curves and their mean, and the methods' training
/// costs over the shared error levels as bars with ± one standard deviation.
pub fn cost_comparison(curves: &[SeedCurves], costs: &[(f64, f64)], caption: &str, base: &Path) -> Result<()> {
    assert!(curves.len() == costs.len() && curves.len() <= METHOD_COLORS.len(), "one cost bar per method, one colour each");
    render_both!(base, (1100u32, 450 + legend_height(curves.len())), draw_comparison, curves, costs, caption)
}

/// One colour per compared method, so `spikelab compare` takes at most this many reports.
pub const METHOD_COLORS: [RGBColor; 6] = [RED, BLUE, RGBColor(0, 140, 60), RGBColor(230, 140, 0), RGBColor(130, 60, 170), RGBColor(90, 90, 90)];

/// The per-epoch mean over seeds' curves, as long as the shortest.
pub fn mean_curve(seeds: &[Vec<f64>]) -> Vec<f64> {
    let epochs = seeds.iter().map(Vec::len).min().unwrap_or(0);
    (0..epochs).map(|e| seeds.iter().map(|s| s[e]).sum::<f64>() / seeds.len() as f64).collect()
}

const LEGEND_ROW: u32 = 20;

/// Pixels below the charts for a legend of `entries` rows. The methods' names are sentences,
/// too long to sit inside a chart without covering its curves, so they go under it.
fn legend_height(entries: usize) -> u32 {
    12 + LEGEND_ROW * entries as u32
}

/// One row per method: a line in its colour and its name with the number of seeds.
fn draw_legend<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, methods: &[SeedCurves]) -> DrawResult {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    for (row, (method, color)) in methods.iter().zip(METHOD_COLORS).enumerate() {
        let y = 4 + (LEGEND_ROW as i32) * row as i32;
        let middle = y + LEGEND_ROW as i32 / 2;
        area.draw(&PathElement::new(vec![(20, middle), (48, middle)], color.stroke_width(3))).map_err(err)?;
        let style = ("sans-serif", 13).into_font().color(&BLACK).pos(Pos::new(HPos::Left, VPos::Center));
        area.draw(&Text::new(format!("{} ({} seeds)", method.name, method.accuracy.len()), (56, middle), style)).map_err(err)?;
    }
    Ok(())
}

/// Epoch-axis labels: whole epochs only (the axis runs from 0.5 past the last epoch).
fn whole_epochs(x: &f64) -> String {
    if (x - x.round()).abs() < 1e-9 {
        format!("{x:.0}")
    } else {
        String::new()
    }
}

/// The mesh every chart starts from: plotters' default fine grid crowds charts this small.
fn quiet_mesh<'a, 'b, DB: DrawingBackend>(chart: &'b mut ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>) -> MeshStyle<'a, 'b, RangedCoordf64, RangedCoordf64, DB> {
    let mut mesh = chart.configure_mesh();
    mesh.light_line_style(BLACK.mix(0.03)).bold_line_style(BLACK.mix(0.12)).label_style(("sans-serif", 12));
    mesh
}

fn draw_seed_curves<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, method: &SeedCurves) -> DrawResult {
    area.fill(&WHITE).map_err(|e| e.to_string())?;
    let methods = std::slice::from_ref(method);
    let (chart, legend) = area.split_vertically(area.dim_in_pixel().1 - legend_height(1));
    draw_seed_chart(&chart, methods)?;
    draw_legend(&legend, methods)
}

/// Every seed's curve thin and their mean bold, one colour per method.
fn draw_seed_chart<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, methods: &[SeedCurves]) -> DrawResult {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let (lo, hi) = padded_range(methods.iter().flat_map(|m| m.accuracy.iter().flatten()).copied(), (0.0, 100.0), 0.1);
    let epochs = methods.iter().flat_map(|m| m.accuracy.iter().map(Vec::len)).max().unwrap_or(1).max(1) as f64;
    let mut chart = ChartBuilder::on(area)
        .caption(format!("{} per epoch (thin: seeds, bold: their mean)", methods.first().map_or("test accuracy", |m| m.measure)), ("sans-serif", 16))
        .margin(12)
        .x_label_area_size(35)
        .y_label_area_size(55)
        .build_cartesian_2d(0.5f64..epochs + 0.5, lo..hi)
        .map_err(err)?;
    quiet_mesh(&mut chart).x_desc("epoch").y_desc("%").x_label_formatter(&whole_epochs).draw().map_err(err)?;
    let points = |curve: &[f64]| curve.iter().enumerate().map(|(i, &v)| (i as f64 + 1.0, v)).collect::<Vec<_>>();
    for (method, color) in methods.iter().zip(METHOD_COLORS) {
        for seed in &method.accuracy {
            chart.draw_series(LineSeries::new(points(seed), color.mix(0.35).stroke_width(1))).map_err(err)?;
        }
        chart.draw_series(LineSeries::new(points(&mean_curve(&method.accuracy)), color.stroke_width(3))).map_err(err)?;
    }
    Ok(())
}

fn draw_comparison<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, methods: &[SeedCurves], costs: &[(f64, f64)], caption: &str) -> DrawResult {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    area.fill(&WHITE).map_err(err)?;
    let (charts, legend) = area.split_vertically(area.dim_in_pixel().1 - legend_height(methods.len()));
    draw_legend(&legend, methods)?;
    let (left, right) = charts.split_horizontally(660);
    draw_seed_chart(&left, methods)?;
    let top = costs.iter().map(|(mean, std)| mean + std).fold(0.0f64, f64::max).max(f64::MIN_POSITIVE) * 1.15;
    let mut chart =
        ChartBuilder::on(&right).caption(caption, ("sans-serif", 16)).margin(12).x_label_area_size(35).y_label_area_size(70).build_cartesian_2d(0.0f64..costs.len() as f64, 0.0..top).map_err(err)?;
    // Bars in the curves' colours, each with its value above it (the names are in the legend).
    quiet_mesh(&mut chart).disable_x_mesh().x_labels(0).y_desc("training cost").y_label_formatter(&|y| format!("{y:.1e}")).draw().map_err(err)?;
    for (i, ((mean, std), color)) in costs.iter().zip(METHOD_COLORS).enumerate() {
        let x = i as f64;
        chart.draw_series(std::iter::once(Rectangle::new([(x + 0.2, 0.0), (x + 0.8, *mean)], color.mix(0.7).filled()))).map_err(err)?;
        let whisker = vec![(x + 0.5, (mean - std).max(0.0)), (x + 0.5, mean + std)];
        chart.draw_series(std::iter::once(PathElement::new(whisker, BLACK.stroke_width(2)))).map_err(err)?;
        let style = ("sans-serif", 13).into_font().color(&BLACK).pos(Pos::new(HPos::Center, VPos::Bottom));
        chart.draw_series(std::iter::once(Text::new(format!("{mean:.3e}"), (x + 0.5, mean + std + top * 0.01), style))).map_err(err)?;
    }
    Ok(())
}
