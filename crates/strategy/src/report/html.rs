//! The document as one self-contained HTML page with inline SVG charts: spend over time
//! stacked by provider, and a cost-versus-lock-in map of the workloads.

use super::{ReportData, usd};
use rust_decimal::prelude::ToPrimitive;
use std::fmt::Write;

const PALETTE: &[&str] = &[
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#9c755f",
];

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Markdown tables and lists are rendered by a tiny converter: the document only uses
/// headings, paragraphs, bullet lists, bold and pipe tables.
fn md_to_html(md: &str) -> String {
    let mut out = String::new();
    let mut in_table = false;
    let mut in_list = false;
    for line in md.lines() {
        let close = |out: &mut String, in_table: &mut bool, in_list: &mut bool| {
            if *in_table {
                out.push_str("</table>\n");
                *in_table = false;
            }
            if *in_list {
                out.push_str("</ul>\n");
                *in_list = false;
            }
        };
        if let Some(h) = line.strip_prefix("### ") {
            close(&mut out, &mut in_table, &mut in_list);
            let _ = writeln!(out, "<h3>{}</h3>", inline(h));
        } else if let Some(h) = line.strip_prefix("## ") {
            close(&mut out, &mut in_table, &mut in_list);
            let _ = writeln!(out, "<h2>{}</h2>", inline(h));
        } else if let Some(h) = line.strip_prefix("# ") {
            close(&mut out, &mut in_table, &mut in_list);
            let _ = writeln!(out, "<h1>{}</h1>", inline(h));
        } else if line.starts_with('|') {
            if line.contains("---") {
                continue;
            }
            let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
            let tag = if in_table { "td" } else { "th" };
            if !in_table {
                out.push_str("<table>\n");
                in_table = true;
            }
            out.push_str("<tr>");
            for c in cells {
                let _ = write!(out, "<{tag}>{}</{tag}>", inline(c));
            }
            out.push_str("</tr>\n");
        } else if let Some(item) = line.strip_prefix("- ") {
            if !in_list {
                out.push_str("<ul>\n");
                in_list = true;
            }
            let _ = writeln!(out, "<li>{}</li>", inline(item));
        } else if line.trim().is_empty() {
            close(&mut out, &mut in_table, &mut in_list);
        } else {
            close(&mut out, &mut in_table, &mut in_list);
            let _ = writeln!(out, "<p>{}</p>", inline(line));
        }
    }
    if in_table {
        out.push_str("</table>\n");
    }
    if in_list {
        out.push_str("</ul>\n");
    }
    out
}

/// `**bold**` and `` `code` `` after escaping.
fn inline(s: &str) -> String {
    let mut out = String::new();
    let e = esc(s);
    for (i, part) in e.split("**").enumerate() {
        if i % 2 == 1 {
            let _ = write!(out, "<strong>{part}</strong>");
        } else {
            out.push_str(part);
        }
    }
    let mut res = String::new();
    for (i, part) in out.split('`').enumerate() {
        if i % 2 == 1 {
            let _ = write!(res, "<code>{part}</code>");
        } else {
            res.push_str(part);
        }
    }
    res
}

pub fn render_html(d: &ReportData, markdown: &str) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Vendor strategy — {}</title>\n<style>body{{font-family:system-ui,sans-serif;max-width:1100px;margin:2rem auto;padding:0 1rem;color:#222}}table{{border-collapse:collapse;margin:1rem 0;font-size:.9rem}}td,th{{border:1px solid #ccc;padding:.3rem .5rem;text-align:left}}th{{background:#f3f3f3}}svg{{background:#fff;border:1px solid #eee;margin:1rem 0}}.legend span{{display:inline-block;margin-right:1rem}}.sw{{display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem;vertical-align:middle}}</style></head><body>\n",
        d.generated
    );
    let html = md_to_html(markdown);
    // Charts go right after the executive summary.
    let split = html
        .find("<h2>What changed")
        .or_else(|| html.find("<h2>Workloads"))
        .unwrap_or(html.len());
    s.push_str(&html[..split]);
    s.push_str("<h2>Spend over time, by provider (weekly)</h2>\n");
    s.push_str(&stacked_spend(d));
    if !d.weekly_left_out.is_empty() {
        let _ = writeln!(
            s,
            "<p>Complete ISO weeks (Monday to Sunday) only: the partial {} {} left out, so a week the ledger covers only in part does not look like a fall in spend.</p>",
            esc(&d.weekly_left_out.join(" and ")),
            if d.weekly_left_out.len() == 1 {
                "week is"
            } else {
                "weeks are"
            }
        );
    }
    s.push_str("<h2>Cost versus lock-in</h2>\n<p>Each workload: 30-day spend against its lock-in score. Top right — expensive and hard to move — is where to start.</p>\n");
    s.push_str(&cost_vs_lockin(d));
    s.push_str(&html[split..]);
    s.push_str("</body></html>\n");
    s
}

fn f(m: switchyard_primitives::Money) -> f64 {
    m.decimal().to_f64().unwrap_or(0.0)
}

fn stacked_spend(d: &ReportData) -> String {
    let (w, h, pad) = (900.0, 300.0, 50.0);
    let providers: Vec<String> = {
        let mut p: Vec<String> = d
            .weekly_by_provider
            .values()
            .flat_map(|m| m.keys().cloned())
            .collect();
        p.sort();
        p.dedup();
        p
    };
    let weeks: Vec<&String> = d.weekly_by_provider.keys().collect();
    let max = d
        .weekly_by_provider
        .values()
        .map(|m| m.values().map(|c| f(*c)).sum::<f64>())
        .fold(0.0, f64::max)
        .max(1e-9);
    let bw = (w - pad - 10.0) / weeks.len().max(1) as f64;
    let mut s = format!(
        "<svg viewBox=\"0 0 {w} {}\" width=\"{w}\" height=\"{}\" role=\"img\" aria-label=\"weekly spend by provider\">\n",
        h + 40.0,
        h + 40.0
    );
    let _ = writeln!(
        s,
        "<text x=\"4\" y=\"14\" font-size=\"11\">{}</text><line x1=\"{pad}\" y1=\"{h}\" x2=\"{w}\" y2=\"{h}\" stroke=\"#999\"/>",
        esc(&usd(switchyard_primitives::Money::new(
            rust_decimal::Decimal::from_f64_retain(max).unwrap_or_default()
        )))
    );
    for (i, week) in weeks.iter().enumerate() {
        let mut y = h;
        let x = pad + i as f64 * bw;
        for (pi, p) in providers.iter().enumerate() {
            let v = d
                .weekly_by_provider
                .get(*week)
                .and_then(|m| m.get(p))
                .map_or(0.0, |c| f(*c));
            let bh = v / max * (h - 20.0);
            y -= bh;
            let _ = writeln!(
                s,
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{bh:.1}\" fill=\"{}\"><title>{} {}: {}</title></rect>",
                (bw - 2.0).max(1.0),
                PALETTE[pi % PALETTE.len()],
                esc(week),
                esc(p),
                esc(&usd(switchyard_primitives::Money::new(
                    rust_decimal::Decimal::from_f64_retain(v).unwrap_or_default()
                )))
            );
        }
        if i % 2 == 0 {
            let _ = writeln!(
                s,
                "<text x=\"{x:.1}\" y=\"{}\" font-size=\"9\">{}</text>",
                h + 14.0,
                esc(week)
            );
        }
    }
    s.push_str("</svg>\n<div class=\"legend\">");
    for (pi, p) in providers.iter().enumerate() {
        let _ = write!(
            s,
            "<span><i class=\"sw\" style=\"background:{}\"></i>{}</span>",
            PALETTE[pi % PALETTE.len()],
            esc(p)
        );
    }
    s.push_str("</div>\n");
    s
}

fn cost_vs_lockin(d: &ReportData) -> String {
    let (w, h, pad) = (900.0, 360.0, 60.0);
    let max = d
        .workloads
        .iter()
        .map(|l| f(l.spend_30d))
        .fold(0.0, f64::max)
        .max(1e-9);
    let mut s = format!(
        "<svg viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\" aria-label=\"cost versus lock-in\">\n"
    );
    let _ = writeln!(
        s,
        "<line x1=\"{pad}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#999\"/><line x1=\"{pad}\" y1=\"10\" x2=\"{pad}\" y2=\"{}\" stroke=\"#999\"/>",
        h - pad,
        w - 10.0,
        h - pad,
        h - pad
    );
    let _ = writeln!(
        s,
        "<text x=\"{}\" y=\"{}\" font-size=\"12\">lock-in score →</text><text x=\"4\" y=\"20\" font-size=\"12\">30-day spend ↑ (√ scale)</text>",
        w / 2.0,
        h - 20.0
    );
    let _ = writeln!(
        s,
        "<line x1=\"{}\" y1=\"10\" x2=\"{}\" y2=\"{}\" stroke=\"#ddd\" stroke-dasharray=\"4\"/>",
        pad + (w - pad - 10.0) * 0.6,
        pad + (w - pad - 10.0) * 0.6,
        h - pad
    );
    // Square-root scale: small workloads stay readable next to the large ones.
    for (i, l) in d.workloads.iter().enumerate() {
        let x = pad + (w - pad - 10.0) * f64::from(l.lockin) / 100.0;
        let y = (h - pad) - (h - pad - 20.0) * (f(l.spend_30d) / max).sqrt();
        let dy = if i % 2 == 0 { -8.0 } else { 14.0 };
        let _ = writeln!(
            s,
            "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"7\" fill=\"{}\"><title>{}: {} · lock-in {}</title></circle><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\">{} ({})</text>",
            PALETTE[i % PALETTE.len()],
            esc(&l.workload),
            esc(&usd(l.spend_30d)),
            l.lockin,
            x + 9.0,
            y + dy,
            esc(&l.workload),
            esc(&usd(l.spend_30d))
        );
    }
    s.push_str("</svg>\n");
    s
}
