//! Long results through a pager, when a person reads them on a terminal.
//!
//! Text longer than the screen goes to `$TRAILPQ_PAGER`, else `$PAGER`, else `less -S` (long
//! lines scroll sideways instead of wrapping); an empty setting turns paging off. Nothing is paged
//! when stdout is not a terminal, so pipes and files get the text as it is.

use std::io::{IsTerminal, Write};
use std::process::{Command, Stdio};

/// The terminal's width in columns (`COLUMNS` overrides it), or `None` when stdout is not a
/// terminal: pipes and files get text as it is.
pub fn terminal_width() -> Option<usize> {
    terminal_dimension("COLUMNS", |(w, _)| w.0)
}

/// The terminal's height in lines (`LINES` overrides it), or `None` when stdout is not a terminal.
pub fn terminal_height() -> Option<usize> {
    terminal_dimension("LINES", |(_, h)| h.0)
}

fn terminal_dimension(
    var: &str,
    pick: fn((terminal_size::Width, terminal_size::Height)) -> u16,
) -> Option<usize> {
    if !std::io::stdout().is_terminal() {
        return None;
    }
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .or_else(|| terminal_size::terminal_size().map(|size| pick(size) as usize))
}

/// The pager command, if paging is on.
fn command() -> Option<String> {
    let chosen = std::env::var("TRAILPQ_PAGER")
        .or_else(|_| std::env::var("PAGER"))
        .unwrap_or_else(|_| "less -S".into());
    Some(chosen).filter(|c| !c.trim().is_empty())
}

/// Shows `text` on stdout: through the pager when `enabled`, stdout is a terminal and the text
/// has more lines than fit on the screen.
pub fn show(text: &[u8], enabled: bool) -> std::io::Result<()> {
    let lines = text.iter().filter(|&&b| b == b'\n').count();
    let long = enabled && terminal_height().is_some_and(|height| lines + 1 >= height);
    if let Some(pager) = command().filter(|_| long) {
        match page(&pager, text) {
            Ok(()) => return Ok(()),
            Err(e) => {
                eprintln!("trailpq: cannot start the pager '{pager}' ({e}); printing instead")
            }
        }
    }
    let mut out = std::io::stdout().lock();
    out.write_all(text)?;
    out.flush()
}

fn page(pager: &str, text: &[u8]) -> std::io::Result<()> {
    let mut words = pager.split_whitespace();
    let program = words.next().unwrap_or("less");
    let mut child = Command::new(program)
        .args(words)
        .stdin(Stdio::piped())
        .spawn()?;
    let written = child.stdin.take().expect("stdin is piped").write_all(text);
    child.wait()?;
    match written {
        // The reader quit before the end: that is what pagers are for.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}
