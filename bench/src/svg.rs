//! A hand-written SVG line chart with a logarithmic y axis (no plotting dependency): used
//! for `bench/tiering.svg`.

use std::fmt::Write as _;

/// One line of the chart.
pub struct Series<'a> {
    /// Legend text.
    pub label: &'a str,
    /// Stroke colour (any SVG colour).
    pub color: &'a str,
    /// Points (x, y); y must be positive (log scale), others are skipped.
    pub points: Vec<(f64, f64)>,
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Renders a log-y line chart: `title`, axis labels, one polyline with markers per series,
/// a legend, decade grid lines on y and ticks at every distinct x.
pub fn log_line_chart(title: &str, x_label: &str, y_label: &str, series: &[Series<'_>]) -> String {
    let (w, h) = (720.0, 440.0);
    let (left, right, top, bottom) = (80.0, 170.0, 40.0, 60.0);
    let (pw, ph) = (w - left - right, h - top - bottom);
    let pts = || {
        series
            .iter()
            .flat_map(|s| s.points.iter().copied())
            .filter(|&(_, y)| y > 0.0 && y.is_finite())
    };
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="{w}" height="{h}" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="22" text-anchor="middle" font-size="15">{}</text>"#,
        left + pw / 2.0,
        esc(title)
    );
    if pts().next().is_none() {
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{}" text-anchor="middle">no data</text></svg>"#,
            w / 2.0,
            h / 2.0
        );
        return s;
    }
    let (xmin, xmax) = pts().fold((f64::MAX, f64::MIN), |(a, b), (x, _)| (a.min(x), b.max(x)));
    let (ymin, ymax) = pts().fold((f64::MAX, f64::MIN), |(a, b), (_, y)| (a.min(y), b.max(y)));
    let (d0, d1) = (
        ymin.log10().floor(),
        ymax.log10().ceil().max(ymin.log10().floor() + 1.0),
    );
    let xr = if xmax > xmin { xmax - xmin } else { 1.0 };
    let px = |x: f64| left + (x - xmin) / xr * pw;
    let py = |y: f64| top + ph - (y.log10() - d0) / (d1 - d0) * ph;
    // Axes and frame.
    let _ = writeln!(
        s,
        r##"<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#444"/>"##
    );
    // y decades.
    let mut d = d0;
    while d <= d1 + 1e-9 {
        let v = 10f64.powf(d);
        let y = py(v);
        let label = if v >= 1.0 {
            format!("{v:.0}")
        } else {
            format!("{v}")
        };
        let _ = writeln!(
            s,
            r##"<line x1="{left}" y1="{y:.1}" x2="{}" y2="{y:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">{label}</text>"##,
            left + pw,
            left - 6.0,
            y + 4.0
        );
        d += 1.0;
    }
    // x ticks at every distinct x.
    let mut xs: Vec<f64> = pts().map(|(x, _)| x).collect();
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    for x in &xs {
        let xp = px(*x);
        let _ = writeln!(
            s,
            r##"<line x1="{xp:.1}" y1="{}" x2="{xp:.1}" y2="{}" stroke="#444"/><text x="{xp:.1}" y="{}" text-anchor="middle">{x}</text>"##,
            top + ph,
            top + ph + 5.0,
            top + ph + 18.0
        );
    }
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
        left + pw / 2.0,
        h - 18.0,
        esc(x_label)
    );
    let _ = writeln!(
        s,
        r#"<text x="18" y="{}" text-anchor="middle" transform="rotate(-90 18 {})">{}</text>"#,
        top + ph / 2.0,
        top + ph / 2.0,
        esc(y_label)
    );
    // Series and legend.
    for (i, se) in series.iter().enumerate() {
        let p: Vec<String> = se
            .points
            .iter()
            .filter(|&&(_, y)| y > 0.0 && y.is_finite())
            .map(|&(x, y)| format!("{:.1},{:.1}", px(x), py(y)))
            .collect();
        let _ = writeln!(
            s,
            r#"<polyline fill="none" stroke="{}" stroke-width="2" points="{}"/>"#,
            se.color,
            p.join(" ")
        );
        for xy in &p {
            let (x, y) = xy.split_once(',').unwrap_or(("0", "0"));
            let _ = writeln!(
                s,
                r#"<circle cx="{x}" cy="{y}" r="3" fill="{}"/>"#,
                se.color
            );
        }
        let ly = top + 10.0 + 20.0 * i as f64;
        let _ = writeln!(
            s,
            r#"<line x1="{}" y1="{ly}" x2="{}" y2="{ly}" stroke="{}" stroke-width="2"/><text x="{}" y="{}">{}</text>"#,
            left + pw + 12.0,
            left + pw + 36.0,
            se.color,
            left + pw + 42.0,
            ly + 4.0,
            esc(se.label)
        );
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chart_has_series_and_log_axis() {
        let svg = log_line_chart(
            "t",
            "n",
            "ms",
            &[
                Series {
                    label: "a<b",
                    color: "red",
                    points: vec![(5.0, 0.01), (10.0, 1.0), (15.0, 100.0)],
                },
                Series {
                    label: "b",
                    color: "blue",
                    points: vec![(5.0, 0.0), (10.0, 2.0)],
                },
            ],
        );
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert_eq!(svg.matches("<circle").count(), 4); // y = 0 skipped
        assert!(svg.contains("a&lt;b"));
        assert!(svg.contains(">0.01</text>") && svg.contains(">100</text>"));
    }
}
