from apps.reports.services import report_save


def make_report(name: str = "Orders", parameters: list[dict] | None = None, **fields):
    return report_save(report=None, fields={"name": name, **fields}, parameters=parameters or [])
