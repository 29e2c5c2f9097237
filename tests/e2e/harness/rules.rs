//! Assertions on rule errors: the rule, the attribute and the line of the
//! configuration a diagnostic points at.

use super::*;

/// The 1-based line of `text` holding `needle`; it must occur exactly once.
#[track_caller]
pub fn line_of(text: &str, needle: &str) -> usize {
    let hits: Vec<usize> = text.lines().enumerate().filter(|(_, l)| l.contains(needle)).map(|(i, _)| i + 1).collect();
    match hits.as_slice() {
        [one] => *one,
        _ => {
            panic!("{needle:?} should be on exactly one line of the configuration, found {hits:?}")
        }
    }
}

/// What a rule violation must look like.
#[derive(Debug)]
pub struct RuleError<'a> {
    /// `R1` … `R8`; the summary ends with it in parentheses.
    pub rule: &'a str,
    /// The attribute the diagnostic is about; it must be named in it.
    pub attribute: &'a str,
    /// Text unique to the configuration line the attribute is set on, when
    /// it is set: terraform must point at that very line, which it does only
    /// when the provider attached the diagnostic to the attribute's path.
    pub config_line: Option<&'a str>,
}

/// Writes `resources` into a fresh configuration, runs init and plan, and
/// checks that the plan fails with `expected`.
#[track_caller]
pub fn assert_plan_violates(resources: &str, expected: RuleError<'_>) -> Output {
    let wd = Workdir::new(&config(resources));
    wd.init();
    let out = wd.plan();
    assert_rule_error(&out, wd.main_tf(), &expected);
    out
}

#[track_caller]
pub fn assert_rule_error(out: &Output, main_tf: &str, expected: &RuleError<'_>) {
    out.assert_failure();
    let tag = format!("({})", expected.rule);
    let diagnostics = out.diagnostics();
    let Some(diag) = diagnostics.iter().find(|d| d.severity == Severity::Error && d.summary.trim_end().ends_with(&tag))
    else {
        out.fail(format_args!("no error whose summary ends with {tag}; parsed: {diagnostics:#?}"));
    };
    if !diag.text().contains(expected.attribute) {
        out.fail(format_args!("the {tag} error does not name `{}`: {diag:#?}", expected.attribute));
    }
    if let Some(needle) = expected.config_line {
        let want = line_of(main_tf, needle);
        if diag.line != Some(want) {
            out.fail(format_args!(
                "the {tag} error should point at main.tf line {want} ({needle:?}), \
                 it points at {:?}: {diag:#?}",
                diag.line
            ));
        }
    }
}
