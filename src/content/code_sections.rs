//! The runnable part of a coding question: the optional sections Starter,
//! Tests and Reference solution, each one fenced code block, checked together.

use std::collections::HashSet;

use serde::Serialize;

use crate::domain::question::{CodeLanguage, Starter, TestCase, TestSuite};

/// The optional sections, in the order they must appear after the four required ones.
pub const CODE_SECTIONS: [&str; 3] = ["Starter", "Tests", "Reference solution"];

/// A Python starter needs at least this many test cases.
pub const MIN_PYTHON_TESTS: usize = 5;

/// The most bytes one code section may hold.
pub const MAX_CODE: usize = 100_000;

/// The checked contents of the optional sections.
#[derive(Debug, Default)]
pub struct CodeSections {
    pub starter: Option<Starter>,
    pub tests: Option<TestSuite>,
    pub reference_solution: Option<String>,
}

/// Section texts as found (trimmed), by heading.
#[derive(Debug, Default, Clone, Copy)]
pub struct RawCodeSections<'a> {
    pub starter: Option<&'a str>,
    pub tests: Option<&'a str>,
    pub reference_solution: Option<&'a str>,
}

/// Parses and checks the three optional sections; the error is worded for the author.
pub fn parse(raw: RawCodeSections<'_>) -> Result<CodeSections, String> {
    let Some(starter_text) = raw.starter else {
        return match (raw.tests, raw.reference_solution) {
            (None, None) => Ok(CodeSections::default()),
            _ => Err("`## Tests` and `## Reference solution` need a `## Starter` before them".into()),
        };
    };
    let (info, code) = only_fence("Starter", starter_text)?;
    let language = CodeLanguage::parse(info)
        .ok_or_else(|| format!("`## Starter` is a ```{info} block: the language must be `python` or `cpp`"))?;
    if code.trim().is_empty() {
        return Err("`## Starter` has no code".into());
    }
    let starter = Starter { language, code: code.to_owned() };

    let tests = raw.tests.map(parse_tests).transpose()?;
    let reference_solution = match raw.reference_solution {
        None => None,
        Some(text) => {
            let (info, code) = only_fence("Reference solution", text)?;
            if info != language.as_str() {
                return Err(format!(
                    "`## Reference solution` is a ```{info} block but the starter is {}: use ```{}",
                    language.as_str(),
                    language.as_str()
                ));
            }
            if code.trim().is_empty() {
                return Err("`## Reference solution` has no code".into());
            }
            Some(code.to_owned())
        }
    };

    match language {
        CodeLanguage::Python => {
            let count = tests.as_ref().map_or(0, |suite| suite.cases.len());
            if count < MIN_PYTHON_TESTS {
                return Err(format!(
                    "a Python starter needs `## Tests` with at least {MIN_PYTHON_TESTS} test cases, found {count}"
                ));
            }
            if reference_solution.is_none() {
                return Err("a Python starter needs a `## Reference solution`".into());
            }
        }
        CodeLanguage::Cpp => {
            if tests.is_some() {
                return Err("`## Tests` run only for a Python starter (C++ is edit-only): remove them".into());
            }
        }
    }
    Ok(CodeSections { starter: Some(starter), tests, reference_solution })
}

fn parse_tests(text: &str) -> Result<TestSuite, String> {
    let (info, body) = only_fence("Tests", text)?;
    if info != "toml" {
        return Err(format!("`## Tests` is a ```{info} block: it must be ```toml"));
    }
    let suite: TestSuite = toml::from_str(body).map_err(|e| format!("`## Tests`: {}", e.message()))?;
    let mut names = HashSet::new();
    for (index, case) in suite.cases.iter().enumerate() {
        let label =
            if case.name.trim().is_empty() { format!("test {}", index + 1) } else { format!("test `{}`", case.name) };
        if case.name.trim().is_empty() {
            return Err(format!("{label} has an empty name"));
        }
        if !names.insert(case.name.as_str()) {
            return Err(format!("duplicate test name `{}`: names must be unique", case.name));
        }
        if case.call.trim().is_empty() {
            return Err(format!("{label} has an empty `call`"));
        }
        if case.expected.trim().is_empty() {
            return Err(format!("{label} has an empty `expected`"));
        }
        if let Some(tolerance) = case.tolerance
            && !(tolerance.is_finite() && tolerance >= 0.0)
        {
            return Err(format!("{label}: tolerance must be a finite number >= 0, found {tolerance}"));
        }
    }
    Ok(suite)
}

/// The info string and the code of a section that is exactly one fenced block
/// (three or more backticks; the closing fence at least as long as the opening).
fn only_fence<'a>(heading: &str, text: &'a str) -> Result<(&'a str, &'a str), String> {
    let refuse = || format!("`## {heading}` must be exactly one fenced code block (```language ... ```)");
    if text.len() > MAX_CODE {
        return Err(format!("`## {heading}` is longer than {MAX_CODE} bytes"));
    }
    let (first, rest) = text.split_once('\n').ok_or_else(refuse)?;
    let ticks = fence_ticks(first).ok_or_else(refuse)?;
    let info = first.trim_start()[ticks..].trim();
    let (body, last) = match rest.rsplit_once('\n') {
        Some((body, last)) => (body, last),
        None => ("", rest),
    };
    if !is_closing_fence(last, ticks) || body.lines().any(|line| is_closing_fence(line, ticks)) {
        return Err(refuse());
    }
    Ok((info, body))
}

/// The number of backticks when `line` opens a fence (CommonMark: indented by
/// at most three spaces, three or more backticks, no backtick in the info string).
pub(crate) fn fence_ticks(line: &str) -> Option<usize> {
    let line = without_indent(line)?;
    let ticks = line.len() - line.trim_start_matches('`').len();
    (ticks >= 3 && !line[ticks..].contains('`')).then_some(ticks)
}

/// True when `line` closes a fence opened with `opening` backticks.
pub(crate) fn is_closing_fence(line: &str, opening: usize) -> bool {
    let Some(line) = without_indent(line) else { return false };
    let line = line.trim_end();
    line.len() >= opening && line.chars().all(|c| c == '`')
}

fn without_indent(line: &str) -> Option<&str> {
    let rest = line.trim_start_matches(' ');
    (line.len() - rest.len() <= 3).then_some(rest)
}

/// The Markdown of the optional sections (empty when there are none), as `parse` reads it back.
pub fn to_markdown(starter: Option<&Starter>, tests: Option<&TestSuite>, reference: Option<&str>) -> String {
    let mut out = String::new();
    if let Some(starter) = starter {
        out.push_str(&section("Starter", starter.language.as_str(), &starter.code));
    }
    if let Some(tests) = tests {
        out.push_str(&section("Tests", "toml", &tests_toml(tests)));
    }
    if let (Some(reference), Some(starter)) = (reference, starter) {
        out.push_str(&section("Reference solution", starter.language.as_str(), reference));
    }
    out
}

fn section(heading: &str, info: &str, code: &str) -> String {
    // A fence longer than any run of backticks in the code, so the code cannot close it.
    let longest = code.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    format!("\n## {heading}\n\n{fence}{info}\n{}\n{fence}\n", code.trim_end_matches('\n'))
}

/// The test suite as TOML (a case without a tolerance has no `tolerance` key).
fn tests_toml(tests: &TestSuite) -> String {
    #[derive(Serialize)]
    struct Case<'a> {
        name: &'a str,
        call: &'a str,
        expected: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        tolerance: Option<f64>,
    }
    #[derive(Serialize)]
    struct Suite<'a> {
        #[serde(skip_serializing_if = "str::is_empty")]
        setup: &'a str,
        tests: Vec<Case<'a>>,
    }
    let suite = Suite {
        setup: &tests.setup,
        tests: tests
            .cases
            .iter()
            .map(|case: &TestCase| Case {
                name: &case.name,
                call: &case.call,
                expected: &case.expected,
                tolerance: case.tolerance,
            })
            .collect(),
    };
    toml::to_string(&suite).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const STARTER: &str = "```python\ndef add(a, b):\n    raise NotImplementedError\n```";
    const REFERENCE: &str = "```python\ndef add(a, b):\n    return a + b\n```";

    fn tests_block(count: usize) -> String {
        let cases: String = (0..count)
            .map(|i| format!("[[tests]]\nname = \"case {i}\"\ncall = \"add({i}, 1)\"\nexpected = \"{}\"\n\n", i + 1))
            .collect();
        format!("```toml\nsetup = \"\"\"\nimport math\n\"\"\"\n\n{cases}```")
    }

    fn raw<'a>(starter: &'a str, tests: Option<&'a str>, reference: Option<&'a str>) -> RawCodeSections<'a> {
        RawCodeSections { starter: Some(starter), tests, reference_solution: reference }
    }

    #[test]
    fn a_python_question_parses_with_its_setup_and_cases() {
        let tests = tests_block(5).replace("expected = \"1\"", "expected = \"1\"\ntolerance = 1e-9");
        let parsed = parse(raw(STARTER, Some(&tests), Some(REFERENCE))).expect("valid");
        let starter = parsed.starter.expect("starter");
        assert_eq!(starter.language, CodeLanguage::Python);
        assert_eq!(starter.code, "def add(a, b):\n    raise NotImplementedError");
        let suite = parsed.tests.expect("tests");
        assert_eq!(suite.setup, "import math\n");
        assert_eq!(suite.cases.len(), 5);
        assert_eq!(suite.cases[0].tolerance, Some(1e-9));
        assert_eq!(suite.cases[1].tolerance, None);
        assert_eq!(parsed.reference_solution.as_deref(), Some("def add(a, b):\n    return a + b"));
    }

    #[test]
    fn no_sections_is_fine() {
        let parsed = parse(RawCodeSections::default()).expect("valid");
        assert!(parsed.starter.is_none() && parsed.tests.is_none() && parsed.reference_solution.is_none());
    }

    #[test]
    fn a_cpp_starter_may_stand_alone() {
        let parsed = parse(raw("```cpp\nint add(int a, int b);\n```", None, None)).expect("valid");
        assert_eq!(parsed.starter.map(|s| s.language), Some(CodeLanguage::Cpp));
    }

    #[test]
    fn a_longer_fence_may_hold_backticks() {
        let parsed = parse(raw("````cpp\n// ```\nint f();\n````", None, None)).expect("valid");
        assert_eq!(parsed.starter.map(|s| s.code).as_deref(), Some("// ```\nint f();"));
    }

    fn refusal(raw: RawCodeSections<'_>) -> String {
        parse(raw).expect_err("refused")
    }

    #[test]
    fn tests_without_a_starter_are_refused() {
        let tests = tests_block(5);
        let problem = refusal(RawCodeSections { tests: Some(&tests), ..RawCodeSections::default() });
        assert!(problem.contains("need a `## Starter`"), "{problem}");
    }

    #[test]
    fn an_unknown_starter_language_is_refused() {
        let problem = refusal(raw("```rust\nfn add() {}\n```", None, None));
        assert!(problem.contains("must be `python` or `cpp`"), "{problem}");
    }

    #[test]
    fn prose_around_the_fence_is_refused() {
        let problem = refusal(raw(&format!("Fill this in:\n\n{STARTER}"), None, None));
        assert!(problem.contains("exactly one fenced code block"), "{problem}");
        let problem = refusal(raw(&format!("{STARTER}\n\n{STARTER}"), None, None));
        assert!(problem.contains("exactly one fenced code block"), "{problem}");
    }

    #[test]
    fn an_empty_starter_is_refused() {
        let problem = refusal(raw("```python\n\n```", None, None));
        assert!(problem.contains("has no code"), "{problem}");
    }

    #[test]
    fn a_python_starter_needs_five_tests() {
        let tests = tests_block(4);
        let problem = refusal(raw(STARTER, Some(&tests), Some(REFERENCE)));
        assert!(problem.contains("at least 5 test cases, found 4"), "{problem}");
        let problem = refusal(raw(STARTER, None, Some(REFERENCE)));
        assert!(problem.contains("found 0"), "{problem}");
    }

    #[test]
    fn a_python_starter_needs_a_reference_solution() {
        let tests = tests_block(5);
        let problem = refusal(raw(STARTER, Some(&tests), None));
        assert!(problem.contains("needs a `## Reference solution`"), "{problem}");
    }

    #[test]
    fn a_reference_in_another_language_is_refused() {
        let tests = tests_block(5);
        let problem = refusal(raw(STARTER, Some(&tests), Some("```cpp\nint add();\n```")));
        assert!(problem.contains("the starter is python"), "{problem}");
    }

    #[test]
    fn tests_for_a_cpp_starter_are_refused() {
        let tests = tests_block(5);
        let problem = refusal(raw("```cpp\nint add(int a, int b);\n```", Some(&tests), None));
        assert!(problem.contains("only for a Python starter"), "{problem}");
    }

    #[test]
    fn duplicate_test_names_are_refused() {
        let tests = tests_block(5).replace("case 1", "case 0");
        let problem = refusal(raw(STARTER, Some(&tests), Some(REFERENCE)));
        assert!(problem.contains("duplicate test name `case 0`"), "{problem}");
    }

    #[test]
    fn tests_not_in_a_toml_block_are_refused() {
        let tests = tests_block(5).replacen("```toml", "```yaml", 1);
        let problem = refusal(raw(STARTER, Some(&tests), Some(REFERENCE)));
        assert!(problem.contains("it must be ```toml"), "{problem}");
    }

    #[test]
    fn malformed_or_unknown_test_fields_are_refused() {
        let tests = tests_block(5).replace("call = \"add(0, 1)\"", "cal = \"add(0, 1)\"");
        let problem = refusal(raw(STARTER, Some(&tests), Some(REFERENCE)));
        assert!(problem.starts_with("`## Tests`: unknown field `cal`"), "{problem}");
        let tests = tests_block(5).replace("expected = \"1\"", "expected = 1");
        let problem = refusal(raw(STARTER, Some(&tests), Some(REFERENCE)));
        assert!(problem.starts_with("`## Tests`:"), "{problem}");
    }

    #[test]
    fn an_empty_call_is_refused() {
        let tests = tests_block(5).replace("call = \"add(2, 1)\"", "call = \" \"");
        let problem = refusal(raw(STARTER, Some(&tests), Some(REFERENCE)));
        assert!(problem.contains("test `case 2` has an empty `call`"), "{problem}");
    }

    #[test]
    fn a_negative_tolerance_is_refused() {
        let tests = tests_block(5).replace("expected = \"1\"", "expected = \"1\"\ntolerance = -0.5");
        let problem = refusal(raw(STARTER, Some(&tests), Some(REFERENCE)));
        assert!(problem.contains("tolerance must be a finite number >= 0"), "{problem}");
    }

    #[test]
    fn markdown_reads_back_the_same() {
        let tests = tests_block(5).replace("expected = \"1\"", "expected = \"1\"\ntolerance = 0.001");
        let parsed = parse(raw(STARTER, Some(&tests), Some(REFERENCE))).expect("valid");
        let markdown =
            to_markdown(parsed.starter.as_ref(), parsed.tests.as_ref(), parsed.reference_solution.as_deref());
        let bodies: Vec<&str> =
            markdown.split("\n## ").skip(1).map(|s| s.split_once("\n\n").map_or("", |(_, b)| b.trim())).collect();
        let again = parse(raw(bodies[0], Some(bodies[1]), Some(bodies[2]))).expect("re-parse");
        assert_eq!(again.starter, parsed.starter);
        assert_eq!(again.tests, parsed.tests);
        assert_eq!(again.reference_solution, parsed.reference_solution);
    }
}
