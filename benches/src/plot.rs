//! The plot: throughput against concurrency for the unary and WebSocket
//! scenarios, and the unary gateway CPU time per request against
//! concurrency, one line per contender. (SSE is left out: every contender
//! delivers the offered N × M events/s, so its lines coincide.) Log-scaled
//! x axis: the connection counts span decades.

use std::path::Path;

use plotters::prelude::*;

use crate::contender::Contender;
use crate::report::{Report, Summary};

type Series = Vec<(Contender, Vec<(f64, f64)>)>;

fn color(c: Contender) -> RGBColor {
    match c {
        Contender::GenRemote => RGBColor(0x1f, 0x77, 0xb4),
        Contender::GenInProcess => RGBColor(0x2c, 0xa0, 0x2c),
        Contender::GenDirect => RGBColor(0x94, 0x67, 0xbd),
        Contender::Hand => RGBColor(0xd6, 0x27, 0x28),
        Contender::Tonic => RGBColor(0x7f, 0x7f, 0x7f),
        Contender::BoxedCall
        | Contender::HandSmallBuffer
        | Contender::GenRemoteMetrics
        | Contender::GenRemoteSmallReadBuf
        | Contender::IssueInProcess => RGBColor(0x94, 0x67, 0xbd),
    }
}

/// A median metric of each contender of `scenario`/`case`, by
/// concurrency.
fn series(
    report: &Report,
    scenario: &str,
    case: Option<&str>,
    contenders: &[Contender],
    metric: fn(&Summary) -> Option<f64>,
) -> Series {
    contenders
        .iter()
        .map(|&c| {
            let mut points: Vec<(f64, f64)> = report
                .summaries
                .iter()
                .filter(|s| {
                    s.scenario == scenario
                        && s.contender == c
                        && case.is_none_or(|case| s.case == case)
                })
                .filter_map(|s| Some((s.concurrency as f64, metric(s)?)))
                .collect();
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            (c, points)
        })
        .filter(|(_, points)| !points.is_empty())
        .collect()
}

/// Writes the SVG.
pub fn svg(report: &Report, path: &Path) -> Result<(), String> {
    let throughput = |s: &Summary| Some(s.throughput);
    let panels = [
        (
            "Unary POST /v1/echo, small body",
            "connections",
            "requests/s",
            series(
                report,
                "unary",
                Some("small"),
                crate::scenarios::unary::CONTENDERS,
                throughput,
            ),
        ),
        (
            "WebSocket bidi echo",
            "connections",
            "messages/s",
            series(
                report,
                "websocket",
                None,
                crate::scenarios::websocket::CONTENDERS,
                throughput,
            ),
        ),
        (
            "Unary, small body: gateway CPU per request",
            "connections",
            "µs of CPU per request",
            series(
                report,
                "unary",
                Some("small"),
                crate::scenarios::unary::CONTENDERS,
                |s| s.gateway_cpu_us,
            ),
        ),
    ];
    let root = SVGBackend::new(path, (1500, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let root = root
        .titled(
            &format!(
                "gateway-bench {}: throughput and gateway CPU against concurrency ({} cores, median of {} round(s); absolute numbers are machine-dependent)",
                report.date, report.cores, report.rounds
            ),
            ("sans-serif", 16),
        )
        .map_err(|e| e.to_string())?;
    let legends = [
        SeriesLabelPosition::UpperLeft,
        SeriesLabelPosition::UpperRight,
        SeriesLabelPosition::UpperRight,
    ];
    for ((area, (title, x_label, y_label, series)), legend) in
        root.split_evenly((1, 3)).iter().zip(panels).zip(legends)
    {
        panel(area, title, x_label, y_label, &series, legend)?;
    }
    root.present().map_err(|e| e.to_string())
}

fn panel(
    area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &Series,
    legend: SeriesLabelPosition,
) -> Result<(), String> {
    let points = series.iter().flat_map(|(_, p)| p.iter());
    let (mut x_min, mut x_max, mut y_max) = (f64::MAX, f64::MIN, 0f64);
    for &(x, y) in points {
        x_min = x_min.min(x);
        x_max = x_max.max(x);
        y_max = y_max.max(y);
    }
    if x_min > x_max {
        // Nothing measured for this panel.
        (x_min, x_max, y_max) = (1.0, 10.0, 1.0);
    }
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(
            (x_min * 0.8..x_max * 1.25).log_scale(),
            0f64..(y_max * 1.15).max(1.0),
        )
        .map_err(text)?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .light_line_style(WHITE)
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| {
            if *v >= 1000.0 {
                format!("{:.0}k", v / 1000.0)
            } else {
                format!("{v:.0}")
            }
        })
        .draw()
        .map_err(text)?;
    for (contender, points) in series {
        let c = color(*contender);
        chart
            .draw_series(LineSeries::new(points.iter().copied(), c.stroke_width(2)))
            .map_err(text)?
            .label(contender.name())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2)));
        chart
            .draw_series(points.iter().map(|&p| Circle::new(p, 3, c.filled())))
            .map_err(text)?;
    }
    chart
        .configure_series_labels()
        .position(legend)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(text)?;
    Ok(())
}

fn text(e: impl std::fmt::Display) -> String {
    e.to_string()
}
