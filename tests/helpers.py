"""What several test modules share: a worker's phone, scripted answers, staff sign-in, the CLI.

Shared here rather than imported from one test module into another, so each test
module can move or change without breaking the others.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys

from sqlalchemy import update

from bot.simulator import Simulator
from models import AidProgramme

WANG = "320924198503120022"  # demo people from the domain brief, valid check digits
LI = "320924197811050041"
CHILD = "320924200709010021"
RIDER = "320924199202260050"
BAD_CHECK_DIGIT = "320924198503120023"
REFERENCE = re.compile(r"SY-\d{4}-\d{6}")


class Worker:
    """One worker's phone: sends a line, returns what WeChat would show."""

    def __init__(self, wechat: Simulator, openid: str = "o_wang"):
        self.wechat, self.openid = wechat, openid
        self.last = ""

    def say(self, line: str) -> str:
        answer = self.wechat.send_text(self.openid, line)
        assert answer.status == 200, answer
        self.last = answer.text
        return self.last

    def photo(self, media_id: str) -> str:
        self.last = self.wechat.send_image(self.openid, media_id).text
        return self.last

    def run(self, lines: list[str]) -> str:
        for line in lines:
            self.say(fill(line))
        return self.last


def common(id_number: str = WANG, name: str = "王秀梅") -> list[str]:
    return ["同意", name, id_number, "13812345678", "射阳港风电装备公司", "是", "开发区工会"]


# Every programme's answers after choosing it from the 帮扶 list, up to the proofs step.
SCRIPTS = {
    "hardship": [
        *common(),
        "3",
        "2000",
        "300",
        "1",
        "60000",
        "爱人患病，孩子上学",
        "6222021234567840123",
        "同意",
    ],
    "illness": [
        *common(LI, "李梅"),
        "2",
        "张强",
        "肺癌",
        "县人民医院",
        "TODAY",
        "80000",
        "30000",
        "3",
        "3000",
        "治疗费用高",
        "6222021234567840123",
        "同意",
    ],
    "jinqiu": [
        *common(),
        "是",
        "王小雨",
        CHILD,
        "盐城师范学院",
        "1",
        "THIS_YEAR",
        "3",
        "2500",
        "孩子考上大学，学费困难",
        "6222021234567830124",
        "同意",
    ],
    "winter": [
        "同意",
        "王秀梅",
        WANG,
        "13812345678",
        "射阳港风电装备公司",
        "3",
        "1500",
        "今年失业，家里老人卧床",
        "合德镇幸福村3组12号",
        "不同意",
    ],
    "summer": ["同意", "周平", RIDER, "13912345678", "美团配送站", "2", "2"],
    "spring_jobs": ["同意", "周平", RIDER, "13912345678", "焊工", "风电装备焊接", "射阳县海河镇"],
}
POSITIONS = {"hardship": 1, "illness": 2, "jinqiu": 3, "winter": 4, "summer": 5, "spring_jobs": 6}


def fill(line: str) -> str:
    today = dt.date.today()
    return {"TODAY": today.isoformat(), "THIS_YEAR": str(today.year)}.get(line, line)


def open_all_windows(db) -> None:
    """What staff do in season: here, every programme open today."""
    db.execute(update(AidProgramme).values(opens=None, closes=None))
    db.commit()


def apply(worker: Worker, code: str, photos: int = 1, answers: list[str] | None = None) -> str:
    """From 帮扶 to the confirmation, answering ``answers`` (``SCRIPTS[code]`` unless given)."""
    worker.say("帮扶")
    worker.say(str(POSITIONS[code]))
    worker.run(answers or SCRIPTS[code])
    if "请拍照发送" in worker.last:
        for n in range(photos):
            assert f"已收到第{n + 1}张" in worker.photo(f"{code}_{worker.openid}_{n}")
        worker.say("完成")
    assert worker.last.startswith("请核对您填写的信息"), worker.last
    return worker.say("确认")


def hardship_naming(union: str, n: int) -> list[str]:
    """困难职工帮扶 answered by worker ``n`` (``valid_id(n)``), naming ``union`` as 所在工会."""
    mine = common(valid_id(n))
    answers = [*mine, *SCRIPTS["hardship"][len(mine) :]]
    answers[answers.index("开发区工会")] = union
    return answers


def sign_up(worker: Worker, id_number: str, employer: str = "风电装备公司", name: str = "王秀梅"):
    """From 竞赛 to the confirmation, in the (single) open trade contest."""
    worker.say("竞赛")
    worker.say("1")
    worker.say("报名")
    worker.run(["同意", name, id_number, "13812345678", employer, "叉车司机", "5", "无"])
    worker.say("跳过")
    assert worker.last.startswith("请核对"), worker.last
    return worker.say("确认")


def valid_id(n: int) -> str:
    """A valid ID number born on day ``n + 1`` of January 1990."""
    body = f"320924199001{n + 1:02d}00{n % 10}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]


PASSWORD = "correct-horse-battery"


def csrf_token(client, path="/admin/login") -> str:
    page = client.get(path).get_data(as_text=True)
    tag = re.search(r'<input[^>]*name="csrf_token"[^>]*>', page).group(0)
    return re.search(r'value="([^"]+)"', tag).group(1)


def login(client, username="wang", password=PASSWORD, next_url=None):
    return client.post(
        "/admin/login" + (f"?next={next_url}" if next_url else ""),
        data={"username": username, "password": password, "csrf_token": csrf_token(client)},
    )


def unionbot(*args: str, cwd, env=None, stdin: str = "", timeout: float = 60):
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=timeout,
    )
