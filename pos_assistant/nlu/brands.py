"""The brand list (data/brands.yml) and the jieba dictionary generated from it.

Run `python -m pos_assistant.nlu.brands` after editing data/brands.yml to rewrite
data/dictionary/brands.txt; a unit test fails while the two disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from pos_assistant.nlu import project_files

BRANDS_PATH = "data/brands.yml"
DICTIONARY_PATH = "data/dictionary/brands.txt"
# High enough that jieba keeps a brand in one piece (拉卡拉, not 拉/卡拉).
DICTIONARY_FREQUENCY = 3000


@dataclass(frozen=True)
class Brand:
    name: str
    synonyms: tuple[str, ...]

    @property
    def spellings(self) -> tuple[str, ...]:
        return (self.name, *self.synonyms)


def parse_brands(content: dict) -> list[Brand]:
    brands: list[Brand] = []
    for entry in content.get("brands") or []:
        if not isinstance(entry, dict) or not entry.get("name"):
            raise ValueError(f"every brand needs a `name`: {entry!r}")
        synonyms = tuple(str(synonym) for synonym in entry.get("synonyms") or [])
        brands.append(Brand(str(entry["name"]), synonyms))
    return brands


def load_brands(path: str = BRANDS_PATH) -> list[Brand]:
    return parse_brands(project_files.read_yaml(path))


def dictionary_lines(brands: list[Brand]) -> list[str]:
    """jieba user-dictionary lines (`word freq tag`); English names are matched lower-cased."""
    words: dict[str, None] = {}
    for brand in brands:
        for spelling in brand.spellings:
            words[spelling] = None
            words[spelling.lower()] = None
    return [f"{word} {DICTIONARY_FREQUENCY} nz" for word in words if " " not in word]


def write_dictionary(brands_path: str = BRANDS_PATH, out: str = DICTIONARY_PATH) -> None:
    # No header comment: jieba would read it as a dictionary word.
    text = "\n".join(dictionary_lines(load_brands(brands_path))) + "\n"
    project_files.resolve(out).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    write_dictionary()
