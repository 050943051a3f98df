"""Reading rendered pages in tests the way a person reads them: the text, without tags or extra spaces."""

import re


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def page_text(response) -> str:
    return text(response.content.decode())


def block(response, element_id: str) -> str:
    """The text of the element with this id (a table row, a section)."""
    html = response.content.decode()
    start = html.index(f'id="{element_id}"')
    tag = html.rfind("<", 0, start)
    name = re.match(r"<(\w+)", html[tag:]).group(1)
    return text(html[tag:html.index(f"</{name}>", start)])
