"""qjgb evidence / qjgb verify from the command line."""

import json

import pytest


@pytest.fixture
def scan(tmp_path):
    f = tmp_path / "会议纪要.pdf"
    f.write_bytes(b"%PDF-1.4 minutes" * 100)
    return f


def test_add_list_remove(cli, scan):
    code, out, _ = cli("evidence", "add", "--measure", "13", "--year", "2025", str(scan), "--note", "第一次会议")
    assert code == 0 and "已添加 #1：会议纪要.pdf" in out
    code, out, _ = cli("evidence", "list", "--json")
    items = json.loads(out)
    assert [(i["original_name"], i["measure_no"], i["year"], i["description"], i["created_by"]) for i in items] == [
        ("会议纪要.pdf", 13, 2025, "第一次会议", "王老师")]
    assert cli("evidence", "remove", "1", "--reason", "重复")[0] == 0
    code, out, _ = cli("evidence", "list", "--json")
    assert json.loads(out) == []


def test_bad_files_exit_2_and_add_nothing(cli, scan, tmp_path):
    empty = tmp_path / "空.jpg"
    empty.write_bytes(b"")
    code, _, err = cli("evidence", "add", "--measure", "13", "--year", "2025", str(scan), str(empty))
    assert code == 2 and "空.jpg" in err and "空文件" in err
    code, out, _ = cli("evidence", "list", "--json")
    assert json.loads(out) == []


@pytest.mark.sqlite_only  # damages files in the data folder; on a server: test_server_evidence.py
def test_verify_exit_codes(cli, scan, data_dir):
    cli("evidence", "add", "--measure", "13", "--year", "2025", str(scan))
    code, out, _ = cli("verify")
    assert code == 0 and "全部完好" in out
    stored = next(p for p in (data_dir / "evidence").rglob("*") if p.is_file())
    stored.write_bytes(b"tampered")
    code, out, _ = cli("verify")
    assert code == 1 and "损坏" in out and "会议纪要.pdf" in out
    stored.unlink()
    code, out, _ = cli("verify")
    assert code == 1 and "缺失" in out


def test_export_an_action_as_zip(cli, scan, tmp_path):
    cli("evidence", "add", "--measure", "13", "--year", "2025", str(scan))
    code, out, _ = cli("evidence", "export", "--action", "3", "--out", str(tmp_path / "任务三.zip"))
    assert code == 0 and "已导出 1 个文件" in out
    assert (tmp_path / "任务三.zip").is_file()
