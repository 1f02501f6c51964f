//! Long results through a pager, when a person reads them on a terminal.
//!
//! Text longer than the screen goes to `$TRAILPQ_PAGER`, else `$PAGER`, else `less -S` (long
//! lines scroll sideways instead of wrapping); an empty setting turns paging off. Nothing is paged
//! when stdout is not a terminal, so pipes and files get the text as it is.

use std::io::{IsTerminal, Write};
use std::process::{Child, Command, Stdio};

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
    let mut screen = Screen::new(enabled);
    match screen.write_all(text) {
        // The reader quit the pager before the end: that is what pagers are for.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe && screen.paging() => {}
        other => other?,
    }
    screen.finish()
}

/// Stdout for a person reading it: text is held until it outgrows the screen, and then goes
/// through the pager as it comes; text that fits goes straight out at the end. With paging off,
/// or stdout not a terminal, everything goes straight out. Holds at most a screenful.
pub struct Screen {
    /// Lines that fit on the screen, when paging.
    height: Option<usize>,
    held: Vec<u8>,
    lines: usize,
    pager: Option<Child>,
}

impl Screen {
    pub fn new(enabled: bool) -> Self {
        let height = match enabled && command().is_some() {
            true => terminal_height(),
            false => None,
        };
        Screen {
            height,
            held: Vec::new(),
            lines: 0,
            pager: None,
        }
    }

    /// Whether the text goes through a pager (whose reader may quit before the end).
    pub fn paging(&self) -> bool {
        self.pager.is_some()
    }

    /// Writes out what is held, or waits for the reader to quit the pager.
    pub fn finish(mut self) -> std::io::Result<()> {
        if let Some(mut child) = self.pager.take() {
            drop(child.stdin.take());
            child.wait()?;
            return Ok(());
        }
        let mut out = std::io::stdout().lock();
        out.write_all(&std::mem::take(&mut self.held))?;
        out.flush()
    }

    fn start_pager(&mut self) -> std::io::Result<()> {
        let pager = command().expect("paging has a pager");
        let held = std::mem::take(&mut self.held);
        self.height = None;
        match spawn(&pager) {
            Ok(mut child) => {
                let written = child
                    .stdin
                    .as_mut()
                    .expect("stdin is piped")
                    .write_all(&held);
                self.pager = Some(child);
                written
            }
            Err(e) => {
                eprintln!("trailpq: cannot start the pager '{pager}' ({e}); printing instead");
                std::io::stdout().lock().write_all(&held)
            }
        }
    }
}

impl Write for Screen {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Some(child) = &mut self.pager {
            return child.stdin.as_mut().expect("stdin is piped").write(buf);
        }
        let Some(height) = self.height else {
            return std::io::stdout().lock().write(buf);
        };
        self.held.extend_from_slice(buf);
        self.lines += buf.iter().filter(|&&b| b == b'\n').count();
        if self.lines + 1 >= height {
            self.start_pager()?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.pager {
            Some(child) => child.stdin.as_mut().expect("stdin is piped").flush(),
            None if self.height.is_none() => std::io::stdout().lock().flush(),
            None => Ok(()),
        }
    }
}

impl Drop for Screen {
    /// A result given up (Ctrl-C, an error) still leaves the pager to its reader.
    fn drop(&mut self) {
        if let Some(mut child) = self.pager.take() {
            drop(child.stdin.take());
            let _ = child.wait();
        }
    }
}

/// Starts the pager the way git and man do, through the shell, so that quoted arguments and
/// variables in `$PAGER` mean what they mean on the command line.
fn spawn(pager: &str) -> std::io::Result<Child> {
    Command::new("sh")
        .arg("-c")
        .arg(pager)
        .stdin(Stdio::piped())
        .spawn()
}
