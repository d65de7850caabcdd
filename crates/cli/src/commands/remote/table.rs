//! Tables for people: a header, then rows, in aligned columns two spaces apart; the
//! last column (a description, a note) is cut with `…` so that lines fit a width.
//!
//! Every cell is one line: runs of whitespace, newlines included, become one space.
//! Widths count characters, which is right for the ASCII that names, versions and tags
//! are made of.

/// The width lines are made to fit.
pub(crate) const WIDTH: usize = 100;

/// The last column keeps at least this many characters, however wide the others are.
const MIN_LAST: usize = 20;

/// The table's text, one line per row after the header, each ending with `\n`.
pub(crate) fn render(header: &[&str], rows: &[Vec<String>], width: usize) -> String {
    let cells: Vec<Vec<String>> = std::iter::once(header.iter().map(|h| h.to_string()).collect())
        .chain(
            rows.iter()
                .map(|r| r.iter().map(|c| one_line(c)).collect::<Vec<_>>()),
        )
        .collect();
    let columns = header.len();
    let mut widths = vec![0; columns];
    for row in &cells {
        for (i, cell) in row.iter().enumerate().take(columns) {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let before_last: usize = widths.iter().take(columns.saturating_sub(1)).sum::<usize>()
        + 2 * columns.saturating_sub(1);
    let last = width.saturating_sub(before_last).max(MIN_LAST);
    let mut out = String::new();
    for row in &cells {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate().take(columns) {
            if i + 1 == columns {
                line.push_str(&cut(cell, last));
            } else {
                line.push_str(cell);
                let pad = widths[i] - cell.chars().count() + 2;
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The text on one line, whitespace runs as one space.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The text cut to `max` characters, the last one `…` when it was cut.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut s: String = text.chars().take(max.saturating_sub(1)).collect();
    s.push('…');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cells: &[&str]) -> Vec<String> {
        cells.iter().map(|c| c.to_string()).collect()
    }

    #[test]
    fn columns_align_and_the_last_is_cut_to_the_width() {
        let long = "word ".repeat(30);
        let text = render(
            &["NAME", "VERSION", "DESCRIPTION"],
            &[
                row(&["etl", "12", "Extract,\n  transform, load"]),
                row(&["http-fan-out", "1", &long]),
                row(&["x", "3", ""]),
            ],
            60,
        );
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "NAME          VERSION  DESCRIPTION");
        assert_eq!(lines[1], "etl           12       Extract, transform, load");
        assert_eq!(lines[2].chars().count(), 60);
        assert!(lines[2].starts_with("http-fan-out  1        word word"));
        assert!(lines[2].ends_with('…'));
        assert_eq!(lines[3], "x             3");
    }

    #[test]
    fn the_last_column_keeps_a_minimum_when_the_others_are_wide() {
        let text = render(
            &["NAME", "DESCRIPTION"],
            &[row(&[&"n".repeat(95), &"d".repeat(50)])],
            100,
        );
        let line = text.lines().nth(1).expect("a row");
        assert_eq!(line.chars().count(), 95 + 2 + 20);
    }
}
