"""The report on screen and in the PDF reads as the portal does: labels, not
stored names; sentences, not JSON; minutes, not microseconds. The JSON export
keeps the stored values."""

import io
import re

import pypdf
import pytest

from portal.reports import render
from portal.reports.lineage_report import build_lineage_report
from tests.models_registry import lineage_world

pytestmark = pytest.mark.django_db

MICROSECONDS = re.compile(r"\d\d:\d\d:\d\d\.\d{6}")


@pytest.fixture
def report(team, auditor):
    world = lineage_world.build(team)
    return build_lineage_report(actor=auditor, model=world.model)


def _shown(html: str) -> str:
    """What people read: the body, without the audit events' own payloads
    (the canonical JSON their hashes are computed over)."""
    body = html[html.index("<body") :]
    audit = body.index('id="r-audit"')
    return body[:audit] + body[body.index('id="r-chain"') :]


def _identity(html: str) -> str:
    return html[html.index('id="r-identity"') : html.index('id="r-versions"')]


def test_html_shows_labels_where_the_json_keeps_values(report):
    assert report["model"]["regulatory_tier"] == "minimal"
    assert report["model"]["serving_mode"] == "real_time"
    html = render.render_print_html(report)
    identity = _identity(html)
    assert "<dt>Regulatory tier</dt><dd>EU AI Act: minimal risk</dd>" in identity
    assert '<dt>Risk class</dt><dd class="risk">Low risk</dd>' in identity
    assert "<dt>Serving mode</dt><dd>Real-time</dd>" in identity
    assert "<dt>Decision domain</dt><dd>Credit</dd>" in identity
    assert (
        "<dt>Reproducibility</dt><dd>the re-run must give the same artifact hash</dd>"
        in identity
    )
    shown = _shown(html)
    assert "real_time" not in shown
    assert "exact_hash" not in shown
    assert "&quot;" not in shown  # no JSON
    assert "features: income (numeric), region (categorical)" in shown


def test_html_times_have_no_microseconds(report):
    html = render.render_print_html(report)
    assert MICROSECONDS.search(report["report"]["generated_at"])  # the JSON keeps them
    assert not MICROSECONDS.search(html[html.index("<body") :])
    assert re.search(r"<dt>Generated</dt><dd>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", html)


def test_policies_and_card_sections_read_as_sentences(report):
    html = render.render_print_html(report)
    requests = html[html.index('id="r-requests"') : html.index('id="r-deployments"')]
    assert "Policy at submission: 1 approval;" in requests
    assert "&quot;required_approvals&quot;" not in requests
    cards = html[html.index('id="r-cards"') : html.index('id="r-reproducibility"')]
    assert "Intended use:" in cards
    assert "intended_use" not in cards


def test_pdf_reads_the_same_labels(report):
    reader = pypdf.PdfReader(io.BytesIO(render.render_pdf(report)))
    text = " ".join(page.extract_text() for page in reader.pages)
    assert "EU AI Act: minimal risk" in text
    assert "Real-time" in text
    assert "real_time" not in text
    assert not MICROSECONDS.search(text)
