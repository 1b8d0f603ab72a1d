"""Runs a coding question's test cases against a candidate's Python code.

The one harness for both places that run tests, so the comparison rules live
in one file:

* the round page's Web Worker loads this file into Pyodide and calls
  ``run_cases(code, setup, cases_json)``; the browser owns the time limit (it
  terminates the worker);
* CI runs ``python3 static/workspace/runner.py check content/questions/coding``,
  which checks every Python coding question: its reference solution passes
  every case and its starter fails at least one, each run under a time limit.

Standard library only (Pyodide ships no numpy here). The rules:

* the candidate's code runs in a fresh namespace, then the question's
  ``setup``, then each case's ``call`` expression; ``expected`` is evaluated
  in the same namespace;
* a case passes when the values are equal: ``==``, except that lists and
  tuples are equal sequences of equal items (``[1, 2] == (1, 2)``), dicts
  have equal keys and equal values, and with a ``tolerance`` floats compare
  with ``math.isclose(rel_tol=tol, abs_tol=tol)``, recursively; NaN equals
  nothing;
* stdout and stderr are captured per case and capped, as are the reprs;
* an exception while defining the code (or running the setup) fails every
  case with that traceback; tracebacks never show this harness's frames.
"""

import contextlib
import io
import json
import linecache
import math
import traceback

OUTPUT_CAP = 10_000
REPR_CAP = 10_000
TRUNCATED = "[output truncated]"

CODE_FILE = "<solution>"
SETUP_FILE = "<test setup>"


class _CappedText(io.TextIOBase):
    """A text sink that keeps the first OUTPUT_CAP characters written to it."""

    def __init__(self, cap=OUTPUT_CAP):
        self._parts = []
        self._size = 0
        self._cap = cap
        self.truncated = False

    def writable(self):
        return True

    def write(self, text):
        text = str(text)
        room = self._cap - self._size
        if len(text) > room:
            self.truncated = True
            text = text[: max(room, 0)]
        if text:
            self._parts.append(text)
            self._size += len(text)
        return len(text)

    def getvalue(self):
        value = "".join(self._parts)
        return value + TRUNCATED if self.truncated else value


def _cap(text, cap=REPR_CAP):
    return text if len(text) <= cap else text[:cap] + TRUNCATED


def _safe_repr(value):
    try:
        return _cap(repr(value))
    except Exception as error:  # a candidate's __repr__ may itself fail
        return "<repr failed: %s: %s>" % (type(error).__name__, error)


def _register_source(filename, source):
    """Lets tracebacks quote lines of code that was exec'd from a string."""
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)


def _harness_file():
    return _run_one.__code__.co_filename


def _format_exception(error):
    """The traceback of ``error`` without this harness's frames."""
    harness = _harness_file()
    frames = [frame for frame in traceback.extract_tb(error.__traceback__) if frame.filename != harness]
    lines = []
    if frames:
        lines.append("Traceback (most recent call last):\n")
        lines.extend(traceback.format_list(frames))
    lines.extend(traceback.format_exception_only(type(error), error))
    return _cap("".join(lines))


def values_equal(got, expected, tolerance=None):
    """The comparison rule for one case (see the module docstring)."""
    if isinstance(got, float) or isinstance(expected, float):
        if isinstance(got, (int, float)) and isinstance(expected, (int, float)):
            if math.isnan(got) or math.isnan(expected):
                return False
            if tolerance is not None:
                return math.isclose(got, expected, rel_tol=tolerance, abs_tol=tolerance)
            return got == expected
        return False
    if isinstance(got, (list, tuple)) and isinstance(expected, (list, tuple)):
        return len(got) == len(expected) and all(
            values_equal(g, e, tolerance) for g, e in zip(got, expected)
        )
    if isinstance(got, dict) and isinstance(expected, dict):
        return got.keys() == expected.keys() and all(
            values_equal(got[key], expected[key], tolerance) for key in expected
        )
    try:
        return bool(got == expected)
    except Exception:
        return False


def _run_one(namespace, case, index, preamble_output):
    name = str(case.get("name", "case %d" % (index + 1)))
    call = str(case.get("call", ""))
    tolerance = case.get("tolerance")
    result = {"name": name, "call": call, "passed": False, "expected": None, "got": None, "stdout": "", "error": None}
    try:
        expected = eval(compile(str(case.get("expected", "")), "<expected: %s>" % name, "eval"), namespace)
    except (Exception, SystemExit) as error:
        result["expected"] = "<expected value failed>"
        result["error"] = "the test's expected value could not be computed:\n" + _format_exception(error)
        return result
    result["expected"] = _safe_repr(expected)

    output = _CappedText()
    output.write(preamble_output)
    filename = "<test: %s>" % name
    _register_source(filename, call)
    try:
        with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
            got = eval(compile(call, filename, "eval"), namespace)
    except (Exception, SystemExit) as error:
        result["error"] = _format_exception(error)
    else:
        result["got"] = _safe_repr(got)
        try:
            result["passed"] = values_equal(got, expected, tolerance)
        except Exception as error:
            result["error"] = _format_exception(error)
    result["stdout"] = output.getvalue()
    return result


def run_cases(code, setup, cases_json):
    """Runs ``code``, then ``setup``, then every case; returns a JSON list of results.

    ``cases_json`` is a JSON list of ``{"name", "call", "expected", "tolerance"}``
    (``tolerance`` a number or null). Each result is ``{"name", "call", "passed",
    "expected", "got", "stdout", "error"}``: ``expected`` and ``got`` are reprs
    (``got`` null when the call raised), ``error`` a traceback or null.
    """
    cases = json.loads(cases_json)
    namespace = {"__name__": "solution", "__builtins__": __builtins__}
    preamble = _CappedText()
    failure = None
    for filename, source in ((CODE_FILE, code), (SETUP_FILE, setup or "")):
        if filename == SETUP_FILE:
            namespace["raises"] = raises
        _register_source(filename, source)
        try:
            with contextlib.redirect_stdout(preamble), contextlib.redirect_stderr(preamble):
                exec(compile(source, filename, "exec"), namespace)
        except (Exception, SystemExit) as error:
            failure = _format_exception(error)
            break
    preamble_output = preamble.getvalue()

    results = []
    for index, case in enumerate(cases):
        output = preamble_output if index == 0 else ""
        if failure is None:
            results.append(_run_one(namespace, case, index, output))
            continue
        source = str(case.get("expected", ""))
        try:
            expected = _safe_repr(eval(compile(source, "<expected>", "eval"), dict(namespace)))
        except (Exception, SystemExit):
            expected = _cap(source)
        results.append(
            {
                "name": str(case.get("name", "case %d" % (index + 1))),
                "call": str(case.get("call", "")),
                "passed": False,
                "expected": expected,
                "got": None,
                "stdout": output,
                "error": failure,
            }
        )
    return json.dumps(results)


def raises(exception_type, function, *args, **kwargs):
    """For tests that expect an exception: ``raises(ValueError, f, x)`` is the
    string ``"ValueError"`` when ``f(x)`` raises one, else says what happened."""
    try:
        value = function(*args, **kwargs)
    except exception_type:
        return exception_type.__name__
    except Exception as error:
        return "raised %s: %s" % (type(error).__name__, error)
    return "returned %s" % _safe_repr(value)


# ---------------------------------------------------------------------------
# CLI: `runner.py check <dir>` checks every Python question in a directory.
# Not used in the browser.

CHECK_TIMEOUT_SECONDS = 60


def _split_front_matter(text):
    if not text.startswith("+++\n"):
        raise ValueError("no front matter: the file must start with a `+++` line")
    end = text.find("\n+++\n", 4)
    if end < 0:
        raise ValueError("front matter is not closed by a `+++` line")
    return text[4 : end + 1], text[end + 5 :]


def _fence_opening(line):
    """The backtick count when ``line`` opens a fenced block (as CommonMark: at most
    three spaces of indent, three or more backticks, no backtick in the info string)."""
    stripped = line.lstrip(" ")
    if len(line) - len(stripped) > 3 or not stripped.startswith("```"):
        return None
    count = len(stripped) - len(stripped.lstrip("`"))
    return None if "`" in stripped[count:] else count


def _closes_fence(line, count):
    stripped = line.lstrip(" ")
    return len(line) - len(stripped) <= 3 and len(stripped.rstrip()) >= count and not stripped.strip().strip("`")


def _sections(body):
    """``{heading: text}`` for the ``## `` headings outside fenced code."""
    sections = {}
    current = None
    fence = 0
    for line in body.split("\n"):
        if fence:
            if _closes_fence(line, fence):
                fence = 0
        elif _fence_opening(line):
            fence = _fence_opening(line)
        elif line.startswith("## "):
            current = line[3:].strip()
            sections[current] = []
            continue
        if current is not None:
            sections[current].append(line)
    return {heading: "\n".join(lines).strip() for heading, lines in sections.items()}


def _only_fence(section, heading):
    """(language, code) of the single fenced block a section consists of."""
    lines = section.split("\n")
    count = _fence_opening(lines[0]) if len(lines) > 1 else None
    if not count or not _closes_fence(lines[-1], count) or any(_closes_fence(line, count) for line in lines[1:-1]):
        raise ValueError("`## %s` must be exactly one fenced code block" % heading)
    return lines[0].strip()[count:].strip(), "\n".join(lines[1:-1])


def parse_question(path):
    """The runnable parts of one question file, or None when it has no Python starter."""
    import tomllib

    with open(path, encoding="utf-8") as file:
        text = file.read().replace("\r\n", "\n").replace("\r", "\n")
    front, body = _split_front_matter(text)
    meta = tomllib.loads(front)
    sections = _sections(body)
    if "Starter" not in sections:
        return None
    language, starter = _only_fence(sections["Starter"], "Starter")
    if language != "python":
        return None
    if "Tests" not in sections or "Reference solution" not in sections:
        raise ValueError("a Python starter needs `## Tests` and `## Reference solution`")
    tests_language, tests_toml = _only_fence(sections["Tests"], "Tests")
    if tests_language != "toml":
        raise ValueError("`## Tests` must be a ```toml block")
    suite = tomllib.loads(tests_toml)
    _, reference = _only_fence(sections["Reference solution"], "Reference solution")
    cases = [
        {
            "name": case["name"],
            "call": case["call"],
            "expected": case["expected"],
            "tolerance": case.get("tolerance"),
        }
        for case in suite.get("tests", [])
    ]
    return {
        "slug": meta.get("slug", path),
        "starter": starter,
        "reference": reference,
        "setup": suite.get("setup", ""),
        "cases": cases,
    }


def _run_with_timeout(code, setup, cases, timeout):
    """Runs the cases in a child interpreter; a list of results, or a string on timeout or crash."""
    import os
    import subprocess
    import sys

    payload = json.dumps({"code": code, "setup": setup, "cases": json.dumps(cases)})
    try:
        child = subprocess.run(
            [sys.executable, os.path.abspath(__file__), "run-json"],
            input=payload,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return "timed out after %ss" % timeout
    if child.returncode != 0:
        return "the runner crashed (exit %s): %s" % (child.returncode, child.stderr.strip()[-2000:])
    return json.loads(child.stdout)


def _describe_failure(result):
    detail = result["error"].strip().splitlines()[-1] if result["error"] else "got %s" % result["got"]
    return "%s: %s (expected %s)" % (result["name"], _cap(detail, 300), _cap(result["expected"] or "", 200))


def check_dir(directory, timeout=CHECK_TIMEOUT_SECONDS):
    """Checks every question file in ``directory``; returns the process exit code."""
    import os
    import time

    files = sorted(name for name in os.listdir(directory) if name.endswith(".md") and name != "README.md")
    checked = passed = failed = skipped = 0
    for name in files:
        path = os.path.join(directory, name)
        try:
            question = parse_question(path)
        except Exception as error:
            checked += 1
            failed += 1
            print("FAIL %s: cannot parse: %s" % (name, error))
            continue
        if question is None:
            skipped += 1
            print("skip %s: no Python starter" % name)
            continue
        checked += 1
        problems = []
        names = [case["name"] for case in question["cases"]]
        if len(names) < 5:
            problems.append("only %d tests (at least 5)" % len(names))
        if len(set(names)) != len(names):
            problems.append("duplicate test names")
        started = time.monotonic()
        reference = _run_with_timeout(question["reference"], question["setup"], question["cases"], timeout)
        reference_seconds = time.monotonic() - started
        if isinstance(reference, str):
            problems.append("reference solution " + reference)
        else:
            for result in reference:
                if not result["passed"]:
                    problems.append("reference fails " + _describe_failure(result))
        starter = _run_with_timeout(question["starter"], question["setup"], question["cases"], timeout)
        if isinstance(starter, str):
            problems.append("starter " + starter)
        elif all(result["passed"] for result in starter):
            problems.append("the starter passes every case (it must fail at least one)")
        if problems:
            failed += 1
            print("FAIL %s" % question["slug"])
            for problem in problems:
                print("     " + problem)
        else:
            passed += 1
            print(
                "ok   %s: reference passes %d/%d in %.2fs, starter fails %d"
                % (
                    question["slug"],
                    len(reference),
                    len(reference),
                    reference_seconds,
                    sum(not result["passed"] for result in starter),
                )
            )
    print("checked %d Python questions: %d passed, %d failed (%d skipped)" % (checked, passed, failed, skipped))
    return 1 if failed else 0


def _main(argv):
    import sys

    if len(argv) >= 2 and argv[1] == "run-json":
        request = json.loads(sys.stdin.read())
        sys.stdout.write(run_cases(request["code"], request["setup"], request["cases"]))
        return 0
    if len(argv) in (3, 4) and argv[1] == "check":
        timeout = float(argv[3]) if len(argv) == 4 else CHECK_TIMEOUT_SECONDS
        return check_dir(argv[2], timeout)
    sys.stderr.write(
        "usage: runner.py check <dir-of-question-files> [timeout-seconds]\n"
        "Checks that every Python question's reference solution passes its tests and its starter fails one.\n"
    )
    return 2


if __name__ == "__main__":
    import sys

    sys.exit(_main(sys.argv))
