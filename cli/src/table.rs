//! Plain-text tables for the terminal (`stats`, `log`): columns as wide as their widest cell,
//! two spaces apart, the first `left` columns aligned left and the others right.

/// The widths of `header` and `rows`' columns, in characters.
pub struct Columns {
    width: Vec<usize>,
    left: usize,
}

impl Columns {
    pub fn new<const N: usize>(header: &[&str; N], rows: &[[String; N]], left: usize) -> Columns {
        let mut width: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
        for r in rows {
            for (w, cell) in width.iter_mut().zip(r) {
                *w = (*w).max(cell.chars().count());
            }
        }
        Columns { width, left }
    }

    /// One line of the table, without trailing spaces.
    pub fn line<S: AsRef<str>>(&self, cells: &[S]) -> String {
        cells
            .iter()
            .zip(&self.width)
            .enumerate()
            .map(|(i, (c, w))| {
                let c = c.as_ref();
                if i < self.left {
                    format!("{c:<w$}")
                } else {
                    format!("{c:>w$}")
                }
            })
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
    }
}
