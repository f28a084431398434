#!/usr/bin/python3
"""Collects the (gold, prediction, expected verdict) cases of Math-Verify's public test
suite (huggingface/Math-Verify, tests/*.py) into r1's own table, cases.jsonl.

Reads the test files as Python syntax trees (nothing of Math-Verify is imported or run):
every @pytest.mark.parametrize list whose argument names include gold, pred and expected
(or result) and whose rows are plain literals. Rows with extra arguments keep them in
"mv_options" (precision, strict, allow_set_relation_comp). Each row gets a category
(the answer form it exercises, see CATEGORY_RULES) and, for the cases where r1 answers
differently on purpose, the reason (REASONS, keyed by source and row index; written by
hand after reading r1's verdicts). The r1 test (tests/test_math_verifier.cpp) fails on any
disagreement without a reason and on any reason without a disagreement.

Usage: /usr/bin/python3 collect_cases.py MATH_VERIFY_CHECKOUT > cases.jsonl
The committed table was made from commit 5d148cfaaf99214c2e4ffb4bc497ab042c592a7a.
"""
import ast
import json
import os
import re
import sys

FILES = ["test_all.py", "test_boxed.py", "test_numina_cases.py", "test_open_thoughts.py",
         "test_yujianll.py", "test_strict.py"]

# Category of a row: the first rule whose test name matches (None: any) and whose pattern
# is found in the gold answer, else (second pass) in the prediction.
CATEGORY_RULES = [
    ("test_number_extraction", None, "numbers"),
    ("test_percent_notation", None, "percent"),
    ("test_matrix_extraction", None, "matrices"),
    ("test_sets_handling", None, "sets_intervals"),
    ("test_set_rel_assymetry", None, "relations"),
    ("test_strict_variable_comparison", None, "strings_symbols"),
    ("test_symbols", None, "strings_symbols"),
    (None, r"\\begin\{[pb]?matrix\}|\\begin\{array\}", "matrices"),
    (None, r"\\%|%|percent", "percent"),
    (None, r"\\text\{\(?[A-E]\)?\}|^\$?[A-E]\$?$", "multiple_choice"),
    (None, r"\\leq?|\\geq?|\\neq|<|>|!=|\\approx|\\ge\b|\\le\b", "relations"),
    (None, r"\\cup|\\in\b|\\\{|\\emptyset|\\infty|^\$*\{|\[.*\)|\(.*\]", "sets_intervals"),
    (None, r"\\boxed\{[^}]*\}[^$]*\\boxed|\$[^$]*\$[^$]+\$[^$]*\$", "boxed_lists"),
    (None, r"^\$*\(?[a-zA-Z_{}0-9]*[,;]?[a-zA-Z_{} ]*\)? *=", "relations"),
    (None, r"\^\\circ|\\circ|\\text|\\mbox|\\textnormal|\\mathrm|miles|cm", "units_text"),
    (None, r"\(.*,.*\)", "tuples"),
    (None, r"\\sqrt|\\pi", "sqrt_pi"),
    (None, r"\\[dtc]?frac|/", "fractions"),
    (None, r"\{,\}|\\!|\d,\d\d\d|\d\.\d", "numbers"),
    (None, r"^\$*-?\d+\$*$", "integers_in_prose"),
]

# Rows the rules above file under a less telling category.
CATEGORY_OVERRIDES = {
    "tests/test_all.py::test_complex_math_expressions[3]": "functions",
    "tests/test_all.py::test_complex_math_expressions[6]": "relations",
    "tests/test_all.py::test_complex_math_expressions[9]": "expressions",
    "tests/test_all.py::test_complex_math_expressions[14]": "expressions",
    "tests/test_all.py::test_math_extraction_additional_cases[24]": "numbers",
    "tests/test_numina_cases.py::test_numina_cases[7]": "relations",
    "tests/test_numina_cases.py::test_numina_cases[11]": "relations",
    "tests/test_numina_cases.py::test_numina_cases[23]": "relations",
    "tests/test_yujianll.py::test_string_extraction[5]": "functions",
    "tests/test_yujianll.py::test_string_extraction[7]": "boxed_lists",
    "tests/test_yujianll.py::test_string_extraction[12]": "strings_symbols",
    "tests/test_yujianll.py::test_string_extraction[13]": "strings_symbols",
}

# Deliberate disagreements: source -> reason (written after reading r1's verdicts).
REASONS = {
    "tests/test_all.py::test_latex_notation[9]":
        "the extracted math is '\\frac{1}{2} \\$ = \\frac{10}{9}', an equation between two different "
        "numbers; r1 takes the last side of a chain only when all its number sides are equal "
        "(Math-Verify takes the last side of any chain)",
    "tests/test_all.py::test_number_extraction[5]":
        "the bare prediction '1000,99' is the list 1000, 99 for r1: a comma in an answer "
        "separates items: the decimal comma is read only in running text, so that a box or answer "
        "tag '1,12' stays the list 1, 12 in the training reward",
    "tests/test_all.py::test_number_extraction[6]":
        "the bare gold '1,22' is the list 1, 22 for r1: a comma in an answer separates items: the "
        "decimal comma is read only in running text, so that a box or answer tag '1,12' stays the "
        "list 1, 12 in the training reward",
    "tests/test_all.py::test_number_extraction[17]":
        "the bare gold '0,111' is the list 0, 111 for r1: a comma in an answer separates items: "
        "the decimal comma is read only in running text, so that a box or answer tag '1,12' stays "
        "the list 1, 12 in the training reward",
    "tests/test_all.py::test_relations_math[10]":
        "the chain x = 5+5+1 = 7 = 11 states 11 = 7: r1 takes the last side of a chain only when "
        "its number sides are equal, so a false step makes it a (false) relation; Math-Verify "
        "takes the last side of any chain",
    "tests/test_all.py::test_relations_math[12]":
        "the chain x = 5+5+1 = 7 = 11 states 11 = 7: r1 takes the last side of a chain only when "
        "its number sides are equal, so a false step makes it a (false) relation; Math-Verify "
        "takes the last side of any chain",
    "tests/test_all.py::test_relations_math[13]":
        "the chain x = 5+5+1 = 1/3 (\\approx 11 dropped) states 11 = 1/3: r1 takes the last side "
        "of a chain only when its number sides are equal, so a false step makes it a (false) "
        "relation; Math-Verify takes the last side",
    "tests/test_all.py::test_relations_math[26]":
        "the prediction z = 3+3 = 2 states 6 = 2: r1 takes the last side of a chain only when its "
        "number sides are equal, so a false step makes it a (false) relation; Math-Verify takes "
        "the last side of any chain",
    "tests/test_all.py::test_relations_math[27]":
        "the prediction z = 3+3 = 2 states 6 = 2: r1 takes the last side of a chain only when its "
        "number sides are equal, so a false step makes it a (false) relation; Math-Verify takes "
        "the last side of any chain",
    "tests/test_all.py::test_relations_math[21]":
        "the gold contains the unknown command \\zzz: r1 does not parse it and compares strings",
    "tests/test_all.py::test_complex_math_expressions[0]":
        "floats: Math-Verify rounds both sides to 6 decimals (float_rounding=6); r1 compares exactly, "
        "0.0833333333333333 is not 1/12",
    "tests/test_all.py::test_complex_math_expressions[3]":
        "trigonometric identity (tan^2+1 = sec^2): r1 does not simplify functions",
    "tests/test_all.py::test_complex_math_expressions[5]":
        "cube roots and \\sin in matrix cells: r1 has square roots only and no functions",
    "tests/test_all.py::test_complex_math_expressions[7]":
        "floats with Math-Verify's non-default precision=2 (0.33 for 1/3); r1 compares exactly",
    "tests/test_all.py::test_complex_math_expressions[13]":
        "floats with Math-Verify's non-default precision=2 (2.6667 for 8/3); r1 compares exactly",
    "tests/test_all.py::test_math_extraction_additional_cases[7]":
        "a set {1,3} against an ordered pair (1,3): Math-Verify matches them element by element in "
        "order; for r1 a set is not a tuple",
    "tests/test_all.py::test_math_extraction_additional_cases[17]":
        "the prediction boxes 200 and 255 before its final sentence: r1 reads two different boxes as "
        "a hedge (box spam); Math-Verify prefers the 'final answer is' sentence",
    "tests/test_all.py::test_set_rel_assymetry[3]":
        "r1 compares an inequality with an interval in both directions; Math-Verify only when "
        "allow_set_relation_comp=True or the prediction is the set",
    "tests/test_numina_cases.py::test_numina_cases[3]":
        "|z| between bounds against a union of intervals needs solving; r1 does not solve",
    "tests/test_numina_cases.py::test_numina_cases[24]":
        "the gold's box is unclosed and the prediction runs words into names ('1orW(x)'): r1 reads "
        "the prediction as prose and the names W(n), W(x) differ",
    "tests/test_yujianll.py::test_string_extraction[5]":
        "a \\sum with subscripted terms: r1 does not parse sums",
    "tests/test_yujianll.py::test_string_extraction[9]":
        "1 - 1/e against 1 + 1/e: these differ; Math-Verify's expected 1 is its own error",
    "tests/test_strict.py::test_strict_variable_comparison[1]":
        "f(x) against f(y) with Math-Verify's non-default strict=False; r1 always compares variable "
        "names (as Math-Verify does by default, row [0])",
}


def category(test, gold, pred):
    for text in (gold.strip(), pred.strip()):
        for name, pattern, cat in CATEGORY_RULES:
            if name is not None and name != test:
                continue
            if pattern is not None and not re.search(pattern, text):
                continue
            return cat
    return "other"


def cases_of(path):
    tree = ast.parse(open(path, encoding="utf-8").read())
    for fn in ast.walk(tree):
        if not isinstance(fn, ast.FunctionDef):
            continue
        for deco in fn.decorator_list:
            if not (isinstance(deco, ast.Call) and getattr(deco.func, "attr", "") == "parametrize"):
                continue
            names = [n.strip() for n in ast.literal_eval(deco.args[0]).split(",")]
            if "gold" not in names or "pred" not in names:
                continue
            verdict = "expected" if "expected" in names else "result"
            for index, row in enumerate(deco.args[1].elts):
                try:
                    values = ast.literal_eval(row)
                except ValueError:
                    continue  # a computed row (f-string, math.sqrt): not a literal case
                fields = dict(zip(names, values))
                options = {k: v for k, v in fields.items() if k not in ("gold", "pred", verdict)}
                yield fn.name, index, fields["gold"], fields["pred"], int(fields[verdict]), options


def main():
    root = sys.argv[1]
    for name in FILES:
        for test, index, gold, pred, expected, options in cases_of(os.path.join(root, "tests", name)):
            source = "tests/%s::%s[%d]" % (name, test, index)
            cat = CATEGORY_OVERRIDES.get(source) or category(test, gold, pred)
            row = {"source": source, "category": cat, "gold": gold,
                   "pred": pred, "mv": expected}
            if options:
                row["mv_options"] = options
            if source in REASONS:
                row["r1_differs"] = REASONS.pop(source)
            print(json.dumps(row, ensure_ascii=False))
    if REASONS:
        sys.exit("reasons for rows not found: %s" % sorted(REASONS))


if __name__ == "__main__":
    main()
