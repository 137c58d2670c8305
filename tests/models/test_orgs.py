"""Union organisations: the registry the data file seeds, and what each level may see."""

from __future__ import annotations

import shutil

import pytest
from alembic import command
from sqlalchemy import select, text

from models import UnionOrg
from models.database import make_engine
from models.migrate import alembic_config
from models.orgs import COUNTY_CODE, load_unions, scope_of
from models.seed import DATA, report_lines, seed_catalogue


def orgs(db) -> dict[str, UnionOrg]:
    return {org.code: org for org in db.scalars(select(UnionOrg))}


class TestRegistry:
    def test_the_county_its_towns_and_parks_and_grassroots_unions_are_seeded(self, db):
        seeded = orgs(db)
        assert seeded[COUNTY_CODE].name == "射阳县总工会"
        assert seeded[COUNTY_CODE].parent_code is None
        towns = {o.name for o in seeded.values() if o.level == "town"}
        assert {"合德镇总工会", "临海镇总工会", "射阳经济开发区工会"} <= towns
        assert all(o.parent_code == COUNTY_CODE for o in seeded.values() if o.level == "town")
        riders = seeded["riders"]
        assert (riders.level, riders.parent_code) == ("grassroots", "hede")
        assert "骑手工会" in riders.matching["aliases"]

    def test_a_new_union_and_a_new_alias_in_the_file_reach_the_database(self, db, tmp_path):
        data = tmp_path / "data"
        shutil.copytree(DATA, data)
        path = data / "unions.toml"
        path.write_text(
            path.read_text(encoding="utf-8").replace('"骑手工会",', '"骑手工会", "小哥工会",')
            + '\n[[unions]]\ncode = "hede_hospital"\nname = "合德镇卫生院工会"\n'
            'level = "grassroots"\nparent = "hede"\n',
            encoding="utf-8",
        )
        lines = report_lines(seed_catalogue(db, data))
        db.commit()
        assert lines == ["union: added hede_hospital", "union riders: aliases updated"]
        assert orgs(db)["hede_hospital"].parent_code == "hede"
        assert "小哥工会" in orgs(db)["riders"].matching["aliases"]

    @pytest.mark.parametrize(
        ("entry", "problem"),
        [
            ('code = "x"\nname = "某工会"\nlevel = "town"\nparent = "nowhere"\n', "parent"),
            ('code = "x"\nname = "某工会"\nlevel = "town"\n', "parent"),
            ('code = "x"\nname = "某工会"\nlevel = "province"\nparent = "sheyang"\n', "level"),
        ],
    )
    def test_a_broken_file_stops_the_sync_naming_the_union(self, tmp_path, entry, problem):
        path = tmp_path / "unions.toml"
        path.write_text(
            (DATA / "unions.toml").read_text(encoding="utf-8") + "\n[[unions]]\n" + entry,
            encoding="utf-8",
        )
        with pytest.raises(ValueError, match=problem):
            load_unions(path)


class TestScope:
    def test_the_county_sees_everything(self, db):
        scope = scope_of(db, COUNTY_CODE)
        assert scope.county and scope.covers(None) and scope.covers("riders")

    def test_a_town_sees_itself_and_the_unions_below_it_never_beside_or_above(self, db):
        scope = scope_of(db, "hede")
        assert scope.codes == {"hede", "riders"}
        for outside in (COUNTY_CODE, "linhai", "jinhai_textile", None):
            assert not scope.covers(outside), outside

    def test_a_grassroots_union_sees_only_itself(self, db):
        assert scope_of(db, "riders").codes == {"riders"}

    def test_an_unknown_organisation_sees_nothing(self, db):
        scope = scope_of(db, "gone")
        assert not scope.county and not scope.codes and not scope.covers(None)


def test_accounts_from_before_organisations_belong_to_the_county(tmp_path):
    """Upgrading an install that has staff: they keep seeing everything, as before."""
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    config = alembic_config(engine)
    command.upgrade(config, "0008")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO staff_users (username, display_name, password_hash, role, active, "
                "created_at) VALUES ('zhao', '赵主席', 'x', 'admin', 1, '2026-01-01 00:00:00')"
            )
        )
    command.upgrade(config, "head")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT org_code FROM staff_users")).scalar() == COUNTY_CODE
        assert conn.execute(text("SELECT level FROM union_orgs")).scalars().all() == ["county"]
    command.downgrade(config, "0008")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT username FROM staff_users")).scalar() == "zhao"
    engine.dispose()
