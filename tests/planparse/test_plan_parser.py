"""The plan record against the document it was extracted from."""

import json
import re

import pytest
from conftest import ROOT, SOURCE, measures

from qjgb_desktop.planparse.build import ALIASES, build_from_text
from qjgb_desktop.planparse.document import PlanDocumentError, parse_document


def annex_cells(source_text):
    """The annex rows read the simple way: the line "\t<no>.<title>" then departments and three targets."""
    lines = source_text.splitlines()
    start = lines.index("\t2027年")
    rows = {}
    for i in range(start, len(lines)):
        m = re.match(r"^\t(\d+)\.(.+)$", lines[i])
        if m:
            rows[int(m.group(1))] = {
                "title": m.group(2),
                "departments": lines[i + 1].strip().split("、"),
                "targets": {str(2025 + k): lines[i + 2 + k].removeprefix("\t") for k in range(3)},
            }
    return rows


def body_departments(source_text):
    """Each measure's 责任部门 line in the body, in order."""
    return [line.removeprefix("责任部门：").split("、")
            for line in source_text.splitlines() if line.startswith("责任部门：")]


def test_counts_are_exact(plan_record):
    assert len(plan_record["actions"]) == 5
    assert [a["no"] for a in plan_record["actions"]] == [1, 2, 3, 4, 5]
    assert [a["numeral"] for a in plan_record["actions"]] == list("一二三四五")
    ms = measures(plan_record)
    assert [m["no"] for m in ms] == list(range(1, 21))
    assert sum(len(m["targets"]) for m in ms) == 60
    assert [len(a["measures"]) for a in plan_record["actions"]] == [5, 5, 4, 3, 3]


def test_plan_header(plan_record):
    assert plan_record["title"] == "延庆区“强基固本”教育改革与发展三年行动计划（2025-2027年）"
    assert plan_record["status"] == "征求意见稿"
    assert plan_record["years"] == [2025, 2026, 2027]
    assert plan_record["goals"].startswith("紧扣“一年建机制、强规范")
    assert [s["title"] for s in plan_record["safeguards"]] == ["加强组织推动", "强化部门联动", "完善督导驱动", "推进示范带动"]
    assert plan_record["actions"][2]["title"] == "实施队伍建设铸魂强师行动"


def test_every_target_equals_its_annex_cell(plan_record, source_text):
    cells = annex_cells(source_text)
    assert len(cells) == 20
    for m in measures(plan_record):
        assert m["title"] == cells[m["no"]]["title"]
        assert m["targets"] == cells[m["no"]]["targets"], f"措施{m['no']}"


def test_measure_body_is_the_paragraph_without_number_and_title(plan_record, source_text):
    for m in measures(plan_record):
        assert f"{m['no']}.{m['title']}。{m['body']}" in source_text
        assert "[bookmark" not in m["body"]
    assert measures(plan_record)[12]["body"].startswith("加大教师自主招聘力度")


def test_departments_follow_the_document_order_first_is_lead(plan_record, source_text):
    body = body_departments(source_text)
    annex = annex_cells(source_text)
    for m in measures(plan_record):
        listed = [d.get("listed_as", d["name"]) for d in m["departments"]]
        assert listed == annex[m["no"]]["departments"]
        assert [d["role"] for d in m["departments"]] == ["lead"] + ["cooperating"] * (len(listed) - 1)
        if m["no"] != 2:
            assert listed == body[m["no"] - 1]
    m16 = measures(plan_record)[15]
    assert [d["name"] for d in m16["departments"]][:3] == ["区科信局", "区政务和数据局", "区教委"]
    m20 = measures(plan_record)[19]
    assert m20["departments"] == [{"name": "区教委", "role": "lead"}, {"name": "区政府教育督导室", "role": "cooperating"}]


def test_the_body_and_annex_disagreement_is_found_and_both_facts_kept(source_text, plan_record):
    doc = parse_document(source_text)
    differing = [m.no for m, row in zip(doc.measures, doc.annex) if m.departments != row.departments]
    assert differing == [2]
    m2 = measures(plan_record)[1]
    assert "区文物局区长城管理处" in m2["department_sources"]["body"]
    assert "区文物局" in m2["department_sources"]["annex"]
    assert "区文物局" in [d["name"] for d in m2["departments"]]
    assert "正文" in m2["department_note"] and "附表" in m2["department_note"]
    assert ALIASES["区文物局区长城管理处"] == "区文物局"


def test_an_unresolved_disagreement_is_an_error(source_text):
    changed = source_text.replace("责任部门：区教委、区政府教育督导室", "责任部门：区教委、区财政局", 1)
    with pytest.raises(PlanDocumentError, match="措施20责任部门"):
        build_from_text(changed, "x.txt")


def indicator(record, measure_no, name):
    m = measures(record)[measure_no - 1]
    return next(i for i in m["indicators"] if i["name"] == name)


@pytest.mark.parametrize("measure_no,name,unit,comparator,values", [
    (3, "国家学生体质健康监测优秀率", "%", ">=", [21, 22, 23]),
    (3, "中学专职心理教师配备比例", "%", ">=", [68.4, 82, 100]),
    (13, "专任教师本科及以上学历占比", "%", ">=", [96.5, 96.7, 97]),
    (13, "专任教师研究生学历占比", "%", ">=", [9.2, 9.6, 10]),
    (4, "区级劳动教育基地", "个", ">=", [14, 17, 20]),
    (4, "劳动教育基地校", "所", ">=", [6, 15, 20]),
    (12, "校科级干部平均年龄", "岁", "<=", [49.5, 49.2, 49]),
    (12, "校科级干部研究生以上学历（学位）占比", "%", ">=", [13.5, 17.3, 23]),
    (10, "中小学生劳动职业体验课程培训", "人次", ">=", [5000, 5500, 6000]),
    (19, "建立学校“教联体”的中小学占比", "%", ">=", [30, 65, 100]),
    (2, "推荐思政课例", "节", ">=", [10, 15, 20]),
    (16, "中小学智慧校园达标率", "%", ">=", [None, 85, 90]),
    (9, "义务教育阶段接受融合教育的残疾儿童占比", "%", ">=", [None, None, 60]),
])
def test_sample_indicators_with_their_three_yearly_values(plan_record, measure_no, name, unit, comparator, values):
    ind = indicator(plan_record, measure_no, name)
    assert ind["unit"] == unit
    assert ind["comparator"] == comparator
    assert ind["direction"] == {">=": "higher", "<=": "lower"}[comparator]
    assert [ind["targets"][str(y)] for y in (2025, 2026, 2027)] == values


def test_indicator_values_come_from_their_target_text(plan_record):
    total = 0
    for m in measures(plan_record):
        for ind in m["indicators"]:
            total += 1
            assert ind["sources"], ind["name"]
            for year, phrase in ind["sources"].items():
                assert phrase in m["targets"][year]
                if "新增" not in phrase:
                    assert re.search(r"\d", phrase)
    assert 40 <= total <= 80


def test_increment_is_turned_into_a_cumulative_target_with_a_note(plan_record):
    ind = indicator(plan_record, 2, "区级思政课实践教学基地（累计）")
    assert ind["targets"] == {"2025": 12, "2026": 16, "2027": 20}
    assert "新增4个" in ind["note"]


def test_committed_plan_file_is_the_parser_output(source_text):
    built = build_from_text(source_text, SOURCE.name)
    committed = json.loads((ROOT / "resources/plan/plan.json").read_text(encoding="utf-8"))
    assert committed == built


def test_a_text_without_the_annex_is_refused(source_text):
    with pytest.raises(PlanDocumentError, match="附件"):
        parse_document(source_text.split(" 附件")[0])


def test_a_broken_annex_row_names_its_line(source_text):
    lines = source_text.splitlines()
    row = next(i for i, line in enumerate(lines) if line.startswith("\t7.推进义务教育"))
    del lines[row + 3]
    with pytest.raises(PlanDocumentError, match=r"附件第\d+行起的表格行应有6个单元格"):
        parse_document("\n".join(lines))


def test_a_rule_that_no_longer_matches_is_an_error(source_text):
    changed = source_text.replace("优秀率达到21%", "优秀比例21%").replace("优秀率达到22%", "优秀比例22%") \
        .replace("优秀率达到23%", "优秀比例23%")
    with pytest.raises(PlanDocumentError, match="国家学生体质健康监测优秀率"):
        build_from_text(changed, "x.txt")
