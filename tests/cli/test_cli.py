"""The command line, in-process and as a user runs it."""

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, measures

from qjgb_desktop.cli.entry import main


def run(*args, env=None, check=False):
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, env=env,
                          check=check, timeout=120)


def test_init_creates_and_seeds_then_is_idempotent(data_dir, capsys):
    assert main(["init"]) == 0
    out = capsys.readouterr().out
    assert f"数据文件夹：{data_dir}" in out
    assert "已创建" in out and "已载入" in out and "20 项措施、60 个年度目标" in out
    assert main(["init"]) == 0
    out = capsys.readouterr().out
    assert "已是最新" in out and "已存在，未改动" in out


def test_plan_json_has_exactly_the_agreed_shape(data_dir, capsys, plan_record):
    assert main(["plan", "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert set(plan) == {"title", "status", "years", "actions"}
    assert plan["title"] == plan_record["title"]
    assert plan["years"] == [2025, 2026, 2027]
    assert len(plan["actions"]) == 5
    for action in plan["actions"]:
        assert set(action) == {"no", "title", "measures"}
        for m in action["measures"]:
            assert set(m) == {"no", "title", "body", "departments", "targets", "indicators"}
            assert set(m["targets"]) == {"2025", "2026", "2027"}
            for d in m["departments"]:
                assert set(d) == {"name", "role"} and d["role"] in ("lead", "cooperating")
            for ind in m["indicators"]:
                assert set(ind) == {"name", "unit", "comparator", "targets"}
                assert ind["comparator"] in (">=", "<=", "=")
                assert set(ind["targets"]) == {"2025", "2026", "2027"}
    flat = [m for a in plan["actions"] for m in a["measures"]]
    for got, want in zip(flat, measures(plan_record)):
        assert got["targets"] == want["targets"]
        assert got["body"] == want["body"]
    age = next(i for i in flat[11]["indicators"] if i["name"] == "校科级干部平均年龄")
    assert age == {"name": "校科级干部平均年龄", "unit": "岁", "comparator": "<=",
                   "targets": {"2025": 49.5, "2026": 49.2, "2027": 49}}


def test_plan_load_dry_run_then_for_real(data_dir, tmp_path, capsys, plan_record):
    revised = json.loads(json.dumps(plan_record))
    revised["status"] = "正式稿"
    measures(revised)[0]["targets"]["2027"] += "（修订）"
    path = tmp_path / "revised.json"
    path.write_text(json.dumps(revised, ensure_ascii=False), encoding="utf-8")
    main(["init"])
    capsys.readouterr()
    assert main(["plan", "load", str(path), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "将修改" in out and "措施1·2027年目标" in out and "试运行" in out
    main(["plan", "--json"])
    assert json.loads(capsys.readouterr().out)["status"] == "征求意见稿"
    assert main(["plan", "load", str(path)]) == 0
    assert "已修改" in capsys.readouterr().out
    main(["plan", "--json"])
    shown = json.loads(capsys.readouterr().out)
    assert shown["status"] == "正式稿"
    assert shown["actions"][0]["measures"][0]["targets"]["2027"].endswith("（修订）")


def test_plan_load_of_a_bad_file_names_it_and_changes_nothing(data_dir, tmp_path, capsys):
    bad = tmp_path / "坏文件.json"
    bad.write_text("{not json", encoding="utf-8")
    main(["init"])
    capsys.readouterr()
    main(["plan", "--json"])
    before = capsys.readouterr().out
    assert main(["plan", "load", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "坏文件.json" in err and "不是有效的 JSON" in err
    main(["plan", "--json"])
    assert capsys.readouterr().out == before


def test_bad_arguments_exit_2_with_a_message(data_dir, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["no-such-command"])
    assert exc.value.code == 2
    assert "参数错误" in capsys.readouterr().err
    assert main(["screenshot", "--out", "x.png", "--size", "big"]) == 2


def test_a_newer_database_is_refused_with_a_message(data_dir, capsys):
    from sqlalchemy import create_engine, text

    main(["init"])
    engine = create_engine(f"sqlite:///{data_dir / 'qjgb.sqlite3'}")
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num='9999'"))
    engine.dispose()
    capsys.readouterr()
    assert main(["plan", "--json"]) == 1
    assert "比本程序新" in capsys.readouterr().err


@pytest.mark.parametrize("entry", [["-m", "qjgb_desktop"], ["main.py"]])
def test_module_and_main_py_run_the_same_cli(tmp_path, entry):
    out = run(*entry, "--data-dir", str(tmp_path / "d"), "plan", "--json", check=True)
    assert len(json.loads(out.stdout)["actions"]) == 5
    assert (tmp_path / "d" / "qjgb.sqlite3").is_file()


def test_console_script_is_installed(tmp_path):
    script = Path(sys.executable).parent / ("qjgb.exe" if os.name == "nt" else "qjgb")
    assert script.exists(), "pip install -e . installs the qjgb command"
    out = subprocess.run([str(script), "init", "--data-dir", str(tmp_path / "d")], capture_output=True, text=True,
                         timeout=120, check=True)
    assert str(tmp_path / "d") in out.stdout


def test_data_dir_from_environment(tmp_path):
    env = {**os.environ, "QJGB_DATA_DIR": str(tmp_path / "env-dir")}
    out = run("main.py", "init", env=env, check=True)
    assert str(tmp_path / "env-dir") in out.stdout


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the display check is for X11/Wayland")
def test_no_display_gives_a_clear_message_not_an_abort(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    out = run("main.py", "--data-dir", str(tmp_path / "d"), env=env)
    assert out.returncode == 3
    assert "xvfb-run" in out.stderr and "QT_QPA_PLATFORM=offscreen" in out.stderr


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_screenshot_renders_the_window_to_png(tmp_path):
    target = tmp_path / "shots" / "main.png"
    out = run("main.py", "--data-dir", str(tmp_path / "d"), "screenshot", "--out", str(target), "--select", "3",
              check=True)
    assert str(target) in out.stdout
    assert png_size(target) == (1366, 768)


def test_screenshot_of_a_missing_measure_fails(tmp_path):
    out = run("main.py", "--data-dir", str(tmp_path / "d"), "screenshot", "--out", str(tmp_path / "x.png"),
              "--select", "99")
    assert out.returncode == 2
    assert "没有第 99 项改革措施" in out.stderr


def test_backup_and_restore(data_dir, tmp_path, capsys, plan_record):
    main(["init"])
    assert main(["backup"]) == 0
    out = capsys.readouterr().out
    backup = Path(out.split("已备份到：")[1].splitlines()[0].strip())
    assert "qjgb backup --full" in out  # the clerk is told the evidence is not in the file
    assert backup.parent == data_dir / "backups" and backup.is_file()
    assert not Path(str(backup) + "-wal").exists()

    revised = json.loads(json.dumps(plan_record))
    revised["status"] = "正式稿"
    (tmp_path / "r.json").write_text(json.dumps(revised, ensure_ascii=False), encoding="utf-8")
    main(["plan", "load", str(tmp_path / "r.json")])
    capsys.readouterr()

    assert main(["restore", str(backup)]) == 0
    out = capsys.readouterr().out
    assert "恢复前的数据已另存为" in out
    main(["plan", "--json"])
    assert json.loads(capsys.readouterr().out)["status"] == "征求意见稿"
    safety = Path(out.split("已另存为：")[1].strip())
    assert safety.is_file()
    assert main(["backup", "--out", str(safety)]) == 1
    assert "不会覆盖" in capsys.readouterr().err


def test_restore_refuses_a_file_that_is_not_a_backup(data_dir, tmp_path, capsys):
    main(["init"])
    fake = tmp_path / "照片.jpg"
    fake.write_bytes(b"\xff\xd8\xff not a database")
    capsys.readouterr()
    assert main(["restore", str(fake)]) == 1
    assert "不是本程序的备份文件" in capsys.readouterr().err
    main(["plan", "--json"])
    assert len(json.loads(capsys.readouterr().out)["actions"]) == 5


def test_full_backup_includes_evidence_and_is_incremental(data_dir, tmp_path, capsys):
    scan = tmp_path / "纪要.pdf"
    scan.write_bytes(b"%PDF minutes" * 100)
    main(["init"])
    main(["evidence", "add", "--measure", "3", "--year", "2025", str(scan)])
    target = tmp_path / "U盘" / "备份"
    capsys.readouterr()
    assert main(["backup", "--full", "--out", str(target)]) == 0
    assert "新复制佐证文件 1 个" in capsys.readouterr().out
    assert (target / "qjgb.sqlite3").is_file() and len(list((target / "evidence").rglob("*.*"))) == 0
    assert len([p for p in (target / "evidence").rglob("*") if p.is_file()]) == 1
    assert main(["backup", "--full", "--out", str(target)]) == 0
    assert "新复制佐证文件 0 个" in capsys.readouterr().out

    import shutil

    shutil.rmtree(data_dir / "evidence")  # the disk lost the evidence folder
    assert main(["restore", str(target)]) == 0
    assert "已恢复佐证文件 1 个" in capsys.readouterr().out
    assert main(["verify"]) == 0
