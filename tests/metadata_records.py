"""Filed records with descriptive metadata, made the way an archivist makes them: a fonds' custom field, a batch
with a manifest in Chinese headers, the scans ingested (null OCR engine), the batch sampled and filed."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from api.ingest.batches import BatchService
from api.preservation.maintenance import MaintenanceService
from api.records.series_fields import define_field
from api.wiring import Context, build_context
from archive.catalogue.metadata import FieldDefinition
from archive.models import Document
from storage_config.settings import Settings
from tests.actors import ARCHIVIST
from tests.intake import ingest_paths
from tests.pages import render
from tests.workflow_helpers import file_batch

FONDS = "M7"
SERIES = "WS"
HEADER = "件号,题名,责任者,文号,日期,页数,机构,保管期限,归档年度,密级,关键词,项目编号,文件\n"
ROWS = (
    "1,关于城市建设档案的通知,市档案局,档发〔2021〕7号,2021-03,1,办公室,Y10,2021,内部,城建；档案、通知,P-17,a.png\n"
    "2,预算执行情况报告,财政处,财发〔2021〕12号,2021,1,财务科,Y30,2022,秘密,预算;审计,P-18,b.png\n"
    "3,Annual harbour survey,Harbour Office,HB-2021-3,2021-06-01,1,港务科,YJ,2021,公开,harbour,,c.png\n"
)
TEXTS = {
    "a.png": "城市建设档案馆全年接收工程档案一千二百卷。",
    "b.png": "本年度预算执行情况良好，支出符合规定。",
    "c.png": "The harbour survey measured the depth of the eastern channel.",
}


def archive_context(home: Path, engine: str = "whoosh") -> Context:
    context = build_context(Settings(home=home, workers=2, ocr_engine="null", search_engine=engine))  # type: ignore[arg-type]
    MaintenanceService(context).initialise()
    return context


def define_project_code(context: Context) -> None:
    """The fonds exists once a batch names it; the series gets a custom field 项目编号 (project_code)."""
    BatchService(context).create(actor=ARCHIVIST, fonds=FONDS, series=SERIES, level="internal", year=2021)
    definition = FieldDefinition("project_code", "项目编号", "Project code", "text")
    define_field(context, ARCHIVIST, fonds=FONDS, series=SERIES, definition=definition)


def filed_records(
    context: Context, folder: Path, *, manifest: bytes | None = None, name: str = "目录.csv"
) -> dict[str, int]:
    """The three records of ROWS filed; their ids by 文号."""
    define_project_code(context)
    batch = BatchService(context).create(
        actor=ARCHIVIST,
        fonds=FONDS,
        series=SERIES,
        level="internal",
        year=2021,
        manifest_data=manifest if manifest is not None else (HEADER + ROWS).encode(),
        manifest_name=name,
    )
    paths = [render(folder, file, text, "chi_sim" if file != "c.png" else "eng") for file, text in TEXTS.items()]
    run = ingest_paths(context, paths, actor=ARCHIVIST, batch_id=batch.id)
    assert all(job.state == "done" for job in run.jobs), run
    file_batch(context, batch.id)
    with context.db.read() as session:
        rows = session.scalars(select(Document).where(Document.batch_id == batch.id))
        return {str(document.document_number): document.id for document in rows}
