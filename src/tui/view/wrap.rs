//! Word wrap with a hanging indent: a long value wraps under itself, not to column 0 under
//! its label ("why  Encrypted with the AWS-owned key: no" / "     customer managed KMS key").
//! ratatui's own `Wrap` starts every continuation at the left edge, which reads as a new
//! field in a pane of label/value lines.

use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthChar;

/// Where a line's continuations start: under the value of a `field` line (its label span
/// is the first), else under the text's first character, two further in.
fn hanging_indent(line: &Line) -> usize {
    let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
    let lead = text.chars().take_while(|c| *c == ' ').count();
    match line.spans.first() {
        // A label column: a first span of some width that ends in spaces (not a mark).
        Some(first)
            if line.spans.len() > 1
                && first.width() >= 4
                && first.content.ends_with(' ')
                && !first.content.trim().is_empty() =>
        {
            first.width()
        }
        _ => lead + 2,
    }
}

/// `line` broken at spaces into lines of at most `width` columns, continuations indented.
/// A word longer than the room left is cut where the room ends.
pub fn wrap_hanging<'a>(line: Line<'a>, width: usize) -> Vec<Line<'a>> {
    if width == 0 || line.width() <= width {
        return vec![line];
    }
    let indent = hanging_indent(&line).min(width / 2);
    let cells: Vec<(char, Style)> = line
        .spans
        .iter()
        .flat_map(|s| {
            let style = line.style.patch(s.style);
            s.content.chars().map(move |c| (c, style))
        })
        .collect();
    let mut out: Vec<Vec<(char, Style)>> = Vec::new();
    let mut start = 0;
    let mut first = true;
    while start < cells.len() {
        // A word (an ARN) too long to fit under the value starts near the left edge: whole
        // where it fits the pane, cut as late as it can be where it does not.
        let word: usize = cells[start..]
            .iter()
            .take_while(|(c, _)| *c != ' ')
            .map(|(c, _)| c.width().unwrap_or(0))
            .sum();
        let line_indent = if word > width - indent {
            width.saturating_sub(word).min(2).min(indent)
        } else {
            indent
        };
        let room = if first { width } else { width - line_indent };
        // How many cells fit in `room` columns.
        let (mut used, mut end) = (0, start);
        while end < cells.len() {
            let w = cells[end].0.width().unwrap_or(0);
            if used + w > room {
                break;
            }
            used += w;
            end += 1;
        }
        if end < cells.len() {
            // Break after the last space in the run, if there is one past the indent.
            if let Some(space) = (start + 1..end).rev().find(|&i| cells[i].0 == ' ') {
                end = space + 1;
            }
        }
        let mut piece: Vec<(char, Style)> = cells[start..end].to_vec();
        while piece.last().is_some_and(|(c, _)| *c == ' ') {
            piece.pop();
        }
        if !first {
            let pad = (' ', Style::default());
            piece.splice(0..0, std::iter::repeat_n(pad, line_indent));
        }
        out.push(piece);
        start = end;
        // A continuation does not start with the space it broke at.
        while start < cells.len() && cells[start].0 == ' ' {
            start += 1;
        }
        first = false;
    }
    out.into_iter()
        .map(|cells| {
            let mut spans: Vec<Span<'a>> = Vec::new();
            let mut run = String::new();
            let mut style = None;
            for (c, s) in cells {
                if style.is_some_and(|st| st != s) {
                    spans.push(Span::styled(std::mem::take(&mut run), style.unwrap_or_default()));
                }
                style = Some(s);
                run.push(c);
            }
            if !run.is_empty() {
                spans.push(Span::styled(run, style.unwrap_or_default()));
            }
            Line::from(spans)
        })
        .collect()
}

/// Every line wrapped to `width` with its hanging indent.
pub fn wrap_all<'a>(lines: Vec<Line<'a>>, width: usize) -> Vec<Line<'a>> {
    lines.into_iter().flat_map(|l| wrap_hanging(l, width)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(lines: &[Line]) -> Vec<String> {
        lines
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect()
    }

    #[test]
    fn a_field_wraps_under_its_value() {
        let line = Line::from(vec![
            Span::raw(format!("  {:<15} ", "why")),
            Span::raw("Encrypted with the AWS-owned key: no customer managed KMS key"),
        ]);
        let got = text(&wrap_hanging(line, 50));
        assert_eq!(
            got,
            [
                "  why             Encrypted with the AWS-owned",
                "                  key: no customer managed KMS key",
            ]
        );
        assert!(got.iter().all(|l| l.chars().count() <= 50));
    }

    #[test]
    fn a_plain_line_wraps_under_its_text_and_a_short_one_is_kept() {
        let line = Line::raw("      now: IAM's policy simulator allows it kms:Decrypt");
        assert_eq!(
            text(&wrap_hanging(line, 40)),
            [
                "      now: IAM's policy simulator",
                "        allows it kms:Decrypt"
            ]
        );
        let short = Line::raw("short");
        assert_eq!(text(&wrap_hanging(short, 40)), ["short"]);
    }

    #[test]
    fn a_word_longer_than_the_room_is_cut_and_styles_are_kept() {
        let red = Style::default().fg(ratatui::style::Color::Red);
        let line = Line::from(vec![
            Span::raw("  key "),
            Span::styled("arn:aws:kms:us-east-1:123456789012:key/abc", red),
        ]);
        let wrapped = wrap_hanging(line, 20);
        assert!(wrapped.iter().all(|l| l.width() <= 20), "{:?}", text(&wrapped));
        let all: String = text(&wrapped).concat().replace(' ', "");
        assert_eq!(all, "keyarn:aws:kms:us-east-1:123456789012:key/abc");
        assert!(wrapped[1].spans.iter().any(|s| s.style == red));
    }
}
