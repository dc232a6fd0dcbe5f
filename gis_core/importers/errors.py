from gis_core.errors import DomainError


class ImportValidationError(DomainError, ValueError):
    """The source cannot be imported as it is; the message names the file, feature and problem."""

    code = "import_invalid"

    def __init__(self, message: str, *, problems: list[str] | None = None) -> None:
        self.problems = problems or []
        if self.problems:
            shown = "\n  - ".join(self.problems[:20])
            more = f"\n  ... and {len(self.problems) - 20} more" if len(self.problems) > 20 else ""
            message = f"{message}\n  - {shown}{more}"
        super().__init__(message)
