"""The DOCX stage: templates rendered with docxtpl and Jinja (render), a set joined (join)."""

__all__: list[str] = []
