"""PDF text extractors compared on French documents printed by Chromium (issue 18).

What it measures
  Three documents (3, 40 and 300 A4 pages of council minutes) are printed by Chromium
  (Playwright, /usr/bin/chromium) in DejaVu Serif with ligatures on (fi, ffi, fl, ffl, œ), a
  narrow column that breaks words at soft hyphens, and explicit end-of-line hyphens. Each
  extractor reads every page in a process of its own; printed: seconds, peak memory, and how
  many of the test words it gives whole (after the same NFKC normalisation and joining of
  "-\\n" for all), e.g. "efficacité" (ffi ligature), "surveillance" (hyphenated).

  python bench/pdf_extractors.py                       # pypdfium2, and pypdf / pdfminer.six
  pip install --target /tmp/cmp pypdf pdfminer.six     # if you want those two compared
  python bench/pdf_extractors.py --extra-path /tmp/cmp

Result on the 2-core machine (December 2026, load ~13 from other jobs), 4 / 42 / 311 pages:
  pypdfium2    0.04 / 1.07 /   6.8 s, 39 MB peak, 13/13 words whole
  pypdf        1.97 / 16.7 / 153.6 s, 61 MB peak, 12/13 (a soft hyphen left inside a word)
  pdfminer.six 3.03 / 34.7 / 190.7 s, 56 MB peak, 12/13 (the same)
Without NFKC, pypdf and pdfminer.six give ligatures as U+FB01… ("eﬀicacité": 2/13 words whole).
PDFium marks a line-end hyphen with U+0002, which forum/uploads/text.py uses to join the word.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
from pathlib import Path

PARAGRAPH = (
    "Le conseil municipal de Metz, réuni en séance publique, a examiné le marché de "
    "vidéo&shy;protection urbaine : l'efficacité des caméras, la confidentialité des images, "
    "les finances de la commune et le profil des officiers habilités. Le fichier des "
    "affluences, les flux financiers et la réflexion sur l'effectivité du dispositif ont été "
    "soumis à la Commission nationale de l'informatique et des libertés. Le prestataire "
    "Serpenoise s'engage à la surveil-<br>lance de quarante-huit équipements, à l'œuvre dès "
    "l'été, sans reconnaissance faciale ni analyse algorithmique des comportements. ")
WORDS = ["efficacité", "confidentialité", "finances", "officiers", "fichier", "affluences",
         "flux", "réflexion", "effectivité", "vidéoprotection", "surveillance", "œuvre",
         "Serpenoise"]
SIZES = {"short": 1, "medium": 12, "long": 90}  # articles of 5 paragraphs (~3 pages each)

READER = r"""
import json, re, resource, sys, time, unicodedata
sys.path.insert(0, sys.argv[3]) if sys.argv[3] else None
which, path = sys.argv[1], sys.argv[2]
began = time.perf_counter()
if which == "pypdfium2":
    import pypdfium2
    document = pypdfium2.PdfDocument(path)
    pages = []
    for index in range(len(document)):
        textpage = document[index].get_textpage()
        pages.append(textpage.get_text_bounded().replace("\x02", "-\n"))
elif which == "pypdf":
    import pypdf
    pages = [page.extract_text() for page in pypdf.PdfReader(path).pages]
else:
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LTTextContainer
    pages = ["".join(e.get_text() for e in layout if isinstance(e, LTTextContainer))
             for layout in extract_pages(path)]
seconds = time.perf_counter() - began
text = unicodedata.normalize("NFKC", "\n".join(pages)).replace("\xad", "")
text = re.sub(r"(\w)-\s*\n\s*(\w)", r"\1\2", text)
print(json.dumps({"pages": len(pages), "seconds": seconds,
                  "mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
                  "whole": [w for w in json.loads(sys.argv[4]) if w in text]}))
"""


def html(articles: int) -> str:
    body = "".join(f"<h2>Article {number}</h2>" + "".join(
        f"<p>{PARAGRAPH}</p><p style='width:4.1cm'>{PARAGRAPH}</p>" for _ in range(5))
        for number in range(articles))
    return ("<html lang=fr><meta charset=utf-8><style>body{font-family:'DejaVu Serif';"
            "font-size:11pt;width:13cm;text-align:justify;"
            f"font-variant-ligatures:common-ligatures}}</style><body>{body}</body></html>")


async def print_documents(folder: Path) -> dict[str, Path]:
    from playwright.async_api import async_playwright

    made = {}
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path="/usr/bin/chromium")
        page = await browser.new_page()
        for name, articles in SIZES.items():
            await page.set_content(html(articles))
            made[name] = folder / f"{name}.pdf"
            await page.pdf(path=str(made[name]), format="A4")
        await browser.close()
    return made


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--extra-path", default="", help="where pypdf/pdfminer.six are")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        documents = asyncio.run(print_documents(Path(folder)))
        for which in ("pypdfium2", "pypdf", "pdfminer"):
            for name, path in documents.items():
                done = subprocess.run([sys.executable, "-c", READER, which, str(path),
                                       args.extra_path, json.dumps(WORDS)],
                                      capture_output=True, text=True, check=False)
                if done.returncode:
                    error = (done.stderr.strip().splitlines() or ["failed"])[-1]
                    print(f"{which:<10} {name:<7} not available: {error}")
                    break
                result = json.loads(done.stdout)
                missing = sorted(set(WORDS) - set(result["whole"]))
                print(f"{which:<10} {name:<7} {result['pages']:>4} pages"
                      f" {result['seconds']:7.2f} s {result['mb']:>4} MB"
                      f"  {len(result['whole'])}/{len(WORDS)} words whole"
                      + (f" (missing: {', '.join(missing)})" if missing else ""), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
