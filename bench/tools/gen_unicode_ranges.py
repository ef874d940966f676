"""Regenerate src/doublet/_unicode_ranges.py from this Python's unicodedata (run after a Python upgrade)."""

import pathlib
import unicodedata

# Scripts written without spaces between words; doublet cuts them into characters.
SPACELESS = [(0x0E00, 0x0EFF), (0x1000, 0x109F), (0x1780, 0x17FF), (0x19E0, 0x19FF), (0x2E80, 0x2FDF),
             (0x3005, 0x3007), (0x3021, 0x3029), (0x3031, 0x3035), (0x3038, 0x303C), (0x3040, 0x30FF),
             (0x31F0, 0x31FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xA9E0, 0xA9FF), (0xAA60, 0xAA7F),
             (0xF900, 0xFAFF), (0xFF66, 0xFF9F), (0x1B000, 0x1B16F), (0x20000, 0x3FFFF)]


def main() -> None:
    flag = [unicodedata.category(chr(c)) in ("Mn", "Mc", "Me") for c in range(0x110000)]
    for a, b in SPACELESS:
        for c in range(a, b + 1):
            flag[c] = True
    ranges, c = [], 0
    while c < 0x110000:
        if flag[c]:
            s = c
            while c + 1 < 0x110000 and flag[c + 1]:
                c += 1
            ranges.append((s, c))
        c += 1

    def esc(c: int) -> str:
        return f"\\U{c:08x}" if c > 0xFFFF else f"\\u{c:04x}"

    # Only BMP ranges are listed: Python's `re` is slow on classes with many astral ranges, so any astral
    # character sends a text to the `regex` path (rare, and always correct).
    bmp = [(a, min(b, 0xFFFF)) for a, b in ranges if a <= 0xFFFF]
    parts = "".join(esc(a) if a == b else f"{esc(a)}-{esc(b)}" for a, b in bmp) + esc(0x10000) + "-" + esc(0x10FFFF)
    out = pathlib.Path(__file__).resolve().parents[2] / "src" / "doublet" / "_unicode_ranges.py"
    out.write_text(
        f'"""Generated: characters that need the `regex` tokenizer path (Unicode {unicodedata.unidata_version}).\n\n'
        "Combining marks (categories Mn, Mc, Me) and scripts written without spaces (Han, Kana, Thai, Lao, Khmer,\n"
        "Myanmar, ...), and any character outside the BMP. Python's `re` word class splits words at combining marks, so texts containing any of these\n"
        "characters are tokenized with the `regex` module instead. Regenerate with\n"
        "`python bench/tools/gen_unicode_ranges.py`.\n"
        '"""\n\n'
        f'NEEDS_REGEX_CLASS = "[{parts}]"\n'
    )


if __name__ == "__main__":
    main()
