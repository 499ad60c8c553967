"""The tree model and its filter, checked by Qt's own model tester and by what they show."""

import pytest
from PySide6.QtCore import QModelIndex, Qt

from qjgb_desktop.qtmodels.plan_filter import ROLE_COOPERATING, ROLE_LEAD, PlanFilterProxy
from qjgb_desktop.qtmodels.plan_tree import COL_LEAD, COL_NAME, COL_YEAR, KIND_TARGET, KindRole, PlanTreeModel

pytestmark = pytest.mark.gui


@pytest.fixture
def model(qapp, tree):
    return PlanTreeModel(tree)


def proxy_for(model, **criteria):
    proxy = PlanFilterProxy()
    proxy.setSourceModel(model)
    if "department" in criteria:
        proxy.set_department(*criteria["department"])
    if "year" in criteria:
        proxy.set_year(criteria["year"])
    if "keyword" in criteria:
        proxy.set_keyword(criteria["keyword"])
    return proxy


def shown_measures(proxy):
    out = []
    for ar in range(proxy.rowCount()):
        action = proxy.index(ar, 0)
        for mr in range(proxy.rowCount(action)):
            out.append(int(proxy.index(mr, 0, action).data().split(".")[0]))
    return out


def test_model_passes_the_qt_model_tester(qtmodeltester, model):
    qtmodeltester.check(model, force_py=True)


@pytest.mark.parametrize("criteria", [
    {"department": ("区体育局", "any")},
    {"year": 2026},
    {"keyword": "劳动教育"},
    {"department": ("区教委", ROLE_LEAD), "year": 2025, "keyword": "科学节"},
])
def test_filtered_model_passes_the_qt_model_tester(qtmodeltester, model, criteria):
    qtmodeltester.check(proxy_for(model, **criteria), force_py=True)


def test_tree_shape_and_columns(model):
    assert model.rowCount() == 5
    action = model.index(0, 0)
    assert action.data() == "（一）实施立德树人素养提升行动"
    assert model.rowCount(action) == 5
    measure = model.index(2, 0, action)
    assert measure.data() == "3. 提升学生身心健康水平"
    assert model.index(2, COL_LEAD, action).data() == "区教委"
    assert model.rowCount(measure) == 3
    target = model.index(1, 0, measure)
    assert target.data(KindRole) == KIND_TARGET
    assert target.data().startswith("2026年：实施中小学体质健康提升行动")
    assert model.index(1, COL_YEAR, measure).data() == "2026"
    assert "优秀率达到22%" in target.data(Qt.ItemDataRole.ToolTipRole)
    assert model.headerData(COL_NAME, Qt.Orientation.Horizontal) == "名称"
    assert model.headerData(COL_LEAD, Qt.Orientation.Horizontal) == "牵头部门"
    total_targets = sum(model.rowCount(model.index(m, 0, model.index(a, 0)))
                        for a in range(5) for m in range(model.rowCount(model.index(a, 0))))
    assert total_targets == 60
    assert model.parent(target) == measure
    assert model.parent(action) == QModelIndex()


def test_department_filter_any_role(model):
    assert shown_measures(proxy_for(model, department=("区体育局", "any"))) == [3]
    assert shown_measures(proxy_for(model, department=("区政府教育督导室", "any"))) == [20]
    assert shown_measures(proxy_for(model, department=("区科信局", "any"))) == [5, 10, 16]


def test_department_filter_by_role(model):
    assert shown_measures(proxy_for(model, department=("区科信局", ROLE_LEAD))) == [16]
    assert shown_measures(proxy_for(model, department=("区科信局", ROLE_COOPERATING))) == [5, 10]
    lead_edu = shown_measures(proxy_for(model, department=("区委教育工委", ROLE_LEAD)))
    assert lead_edu == [1, 2, 8, 11, 12, 14, 17, 18, 19]


def test_year_filter_keeps_only_that_years_targets(model):
    proxy = proxy_for(model, year=2027)
    assert len(shown_measures(proxy)) == 20
    measure = proxy.index(0, 0, proxy.index(0, 0))
    assert proxy.rowCount(measure) == 1
    assert proxy.index(0, COL_YEAR, measure).data() == "2027"


def test_keyword_in_a_target_keeps_that_target_and_its_ancestors(model):
    proxy = proxy_for(model, keyword="葫芦烫画")
    assert shown_measures(proxy) == [4]
    measure = proxy.index(0, 0, proxy.index(0, 0))
    assert proxy.rowCount(measure) == 1
    assert proxy.index(0, 0, measure).data().startswith("2025年")


def test_keyword_in_a_measure_title_keeps_its_targets(model):
    proxy = proxy_for(model, keyword="教联体")
    assert shown_measures(proxy) == [19]
    assert proxy.rowCount(proxy.index(0, 0, proxy.index(0, 0))) == 3


def test_keywords_combine_with_the_other_filters(model):
    assert shown_measures(proxy_for(model, keyword="科学节")) == [5]
    assert shown_measures(proxy_for(model, keyword="科学节", department=("区体育局", "any"))) == []
    assert shown_measures(proxy_for(model, keyword="心理剧", year=2025)) == []
    assert shown_measures(proxy_for(model, keyword="心理剧", year=2026)) == [3]
    assert shown_measures(proxy_for(model, keyword="智慧校园 90%")) == [16]


def test_while_searching_a_target_row_shows_the_matching_passage(model):
    proxy = proxy_for(model, keyword="劳动教育基地", year=2026)
    measure = proxy.index(0, 0, proxy.index(0, 0))
    shown = proxy.index(0, COL_NAME, measure).data()
    assert shown.startswith("2026年：…")
    assert "建立区级劳动教育基地17个" in shown
    proxy.set_keyword("")
    measure = proxy.mapFromSource(model.measure_index(4))
    assert proxy.index(0, COL_NAME, measure).data().startswith("2026年：持续开展")


def test_report_and_evidence_tables_pass_the_qt_model_tester(qtmodeltester, qapp, db, tmp_path):
    from datetime import date

    from qjgb_desktop.domain.validation import ReportInput
    from qjgb_desktop.qtmodels.evidence import EvidenceTableModel
    from qjgb_desktop.qtmodels.reports import ReportsTableModel
    from qjgb_desktop.services.evidence import records as ev
    from qjgb_desktop.services.progress import reports as svc

    f = tmp_path / "纪要.pdf"
    f.write_bytes(b"%PDF" * 100)
    with db.sessions.begin() as s:
        tid = svc.target_id_for(s, 3, 2025)
        for percent in (30, 60):
            svc.add_report(s, tid, ReportInput("2025Q2", date(2025, 6, 30), "区教委", "张三", "正常推进", percent,
                                               problems="慢", next_steps="快"), "clerk", date(2025, 7, 1))
        ev.attach(s, tid, [f], "clerk")
    with db.sessions() as s:
        reports = ReportsTableModel()
        reports.set_reports(svc.list_reports(s, measure_no=3))
        files = EvidenceTableModel()
        files.set_items(ev.list_evidence(s, target_id=tid))
    qtmodeltester.check(reports, force_py=True)
    qtmodeltester.check(files, force_py=True)
    assert reports.rowCount() == 2 and reports.index(0, 6).data() == "60%"
    assert files.index(0, 0).data() == "纪要.pdf"
