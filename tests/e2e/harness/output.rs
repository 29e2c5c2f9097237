//! What a terraform command printed: exit status, output without colour,
//! and its diagnostics parsed.

use std::fmt;
use std::path::PathBuf;
use std::process::ExitStatus;

use super::*;

/// Removes colour codes, which commands without `-no-color` (such as
/// `providers schema`) still put around their diagnostics.
pub(crate) fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ parameters… final byte in @..~
            if chars.next() == Some('[') {
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// What one terraform command did. Failed assertions print all of it.
#[derive(Debug)]
pub struct Output {
    pub command: String,
    pub dir: PathBuf,
    pub terraform_version: String,
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    pub timed_out: bool,
}

impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "command:   {}", self.command)?;
        writeln!(f, "terraform: {}", self.terraform_version)?;
        writeln!(f, "directory: {}", self.dir.display())?;
        if self.timed_out {
            writeln!(f, "status:    killed after {}s", timeout().as_secs())?;
        } else {
            writeln!(f, "status:    {}", self.status)?;
        }
        writeln!(f, "---- stdout ----\n{}", self.stdout)?;
        write!(f, "---- stderr ----\n{}\n---- end ----", self.stderr)
    }
}

impl Output {
    pub fn success(&self) -> bool {
        self.status.success() && !self.timed_out
    }

    /// Panics with `why` and everything terraform printed.
    #[track_caller]
    pub fn fail(&self, why: impl fmt::Display) -> ! {
        panic!("{why}\n{self}")
    }

    #[track_caller]
    pub fn assert_success(&self) -> &Output {
        if !self.success() {
            self.fail(format_args!("`{}` failed", self.command));
        }
        self
    }

    /// A failure that is terraform reporting an error, not a crash or a hang.
    #[track_caller]
    pub fn assert_failure(&self) -> &Output {
        if self.timed_out {
            self.fail(format_args!("`{}` hung", self.command));
        }
        if self.status.code() != Some(1) {
            self.fail(format_args!("`{}` should have failed with exit status 1", self.command));
        }
        self
    }

    #[track_caller]
    pub fn assert_stdout_contains(&self, needle: &str) -> &Output {
        if !self.stdout.contains(needle) {
            self.fail(format_args!("stdout lacks {needle:?}"));
        }
        self
    }

    #[track_caller]
    pub fn assert_no_errors(&self) -> &Output {
        let errors: Vec<_> = self.diagnostics().into_iter().filter(|d| d.severity == Severity::Error).collect();
        if !errors.is_empty() {
            self.fail(format_args!("unexpected errors: {errors:#?}"));
        }
        self
    }

    /// The diagnostics terraform printed on stderr, in order.
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        parse_diagnostics(&self.stderr)
    }

    /// Parses stdout as JSON (for `-json` commands).
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| self.fail(format_args!("stdout is not JSON: {e}")))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// One diagnostic as terraform prints it for humans.
#[derive(Clone, Debug)]
pub struct Diagnostic {
    pub severity: Severity,
    pub summary: String,
    /// Everything after the summary line: source location, the offending
    /// configuration line, and the detail text.
    pub body: String,
    /// The line of `main.tf` that terraform pointed at, if any.
    pub line: Option<usize>,
}

impl Diagnostic {
    /// Summary and body together, for "does it mention X" checks.
    pub fn text(&self) -> String {
        format!("{}\n{}", self.summary, self.body)
    }

    /// [`Diagnostic::text`] with terraform's line wrapping undone (every run
    /// of whitespace one space), for phrases a wrap may split.
    pub fn flat(&self) -> String {
        unwrapped(&self.text())
    }
}

/// `text` with every run of whitespace made one space: terraform wraps
/// diagnostics at 78 columns, wherever a phrase happens to fall.
pub fn unwrapped(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Splits terraform's human diagnostics. Handles both the plain layout
/// `-no-color` gives and the boxed one (`╷ │ ╵`) of coloured output.
pub fn parse_diagnostics(stderr: &str) -> Vec<Diagnostic> {
    let mut out: Vec<Diagnostic> = Vec::new();
    for raw in stderr.lines() {
        let line = raw
            .trim_start_matches(['╷', '╵'])
            .strip_prefix('│')
            .map(|rest| rest.strip_prefix(' ').unwrap_or(rest))
            .unwrap_or(raw);
        let start = [("Error: ", Severity::Error), ("Warning: ", Severity::Warning)]
            .into_iter()
            .find_map(|(p, s)| line.strip_prefix(p).map(|summary| (s, summary)));
        if let Some((severity, summary)) = start {
            out.push(Diagnostic { severity, summary: summary.trim().to_string(), body: String::new(), line: None });
        } else if let Some(current) = out.last_mut() {
            if current.line.is_none() {
                current.line = source_line(line);
            }
            current.body.push_str(line);
            current.body.push('\n');
        }
    }
    out
}

/// The N of `on main.tf line N, in resource ...`.
pub(crate) fn source_line(line: &str) -> Option<usize> {
    let rest = line.trim_start().strip_prefix("on main.tf line ")?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_and_boxed_diagnostics() {
        let plain = "\nError: Default route bypasses the firewall (R1)\n\n  with aksudr_route.r,\n  on main.tf line 14, in resource \"aksudr_route\" \"r\":\n  14:   next_hop_type = \"Internet\"\n\nSend 0.0.0.0/0 to the firewall.\n\nWarning: Something\n\nmore\n";
        let boxed = plain.lines().map(|l| format!("│ {l}")).collect::<Vec<_>>().join("\n");
        for text in [plain.to_string(), format!("╷\n{boxed}\n╵\n")] {
            let d = parse_diagnostics(&text);
            assert_eq!(d.len(), 2, "{d:#?}");
            assert_eq!(d[0].severity, Severity::Error);
            assert_eq!(d[0].summary, "Default route bypasses the firewall (R1)");
            assert_eq!(d[0].line, Some(14));
            assert!(d[0].body.contains("next_hop_type"));
            assert_eq!(d[1].severity, Severity::Warning);
            assert_eq!(d[1].line, None);
        }
    }

    #[test]
    fn strips_colour_codes() {
        let coloured = "\u{1b}[31m\u{1b}[31m╷\u{1b}[0m\u{1b}[0m\n\u{1b}[31m│\u{1b}[0m \u{1b}[0m\u{1b}[1m\u{1b}[31mError: \u{1b}[0m\u{1b}[0m\u{1b}[1mBad (R1)\u{1b}[0m";
        let plain = strip_ansi(coloured);
        assert_eq!(plain, "╷\n│ Error: Bad (R1)");
        assert_eq!(parse_diagnostics(&plain)[0].summary, "Bad (R1)");
    }
}
