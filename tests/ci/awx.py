"""Reading awx/oui-platform.yml the way AWX does: natural keys, references, surveys, injectors,
and turning one job template into the ansible-runner call AWX would make."""
from __future__ import annotations

import hashlib
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import yaml

REPO = Path(__file__).resolve().parents[2]
ASSETS_FILE = REPO / "awx" / "oui-platform.yml"

# A syntactically valid digest for survey answers in tests; on the test cluster's simulated
# (kwok) nodes no image is pulled, so the value only has to pass validation.
TEST_DIGEST = "sha256:" + hashlib.sha256(b"oui-platform ci test image").hexdigest()
# awxkit 24.6.1 (awxkit/api/pages/*.py): the fields that make up each type's natural key;
# `awx import` finds existing objects and resolves references by these, so they must match.
NATURAL_KEY = {
    "organization": ("name",),
    "execution_environment": ("name",),
    "credential_type": ("name", "kind"),
    "project": ("organization", "name"),
    "inventory": ("organization", "name"),
    "inventory_source": ("organization", "name", "inventory"),
    "job_template": ("organization", "name"),
    "workflow_job_template": ("organization", "name"),
    "workflow_job_template_node": ("workflow_job_template", "identifier"),
    "schedule": ("unified_job_template", "name"),
}
# Top-level sections of an export (awxkit EXPORTABLE_RESOURCES) and the type of their objects.
SECTIONS = {
    "organizations": "organization",
    "execution_environments": "execution_environment",
    "credential_types": "credential_type",
    "projects": "project",
    "inventory": "inventory",
    "inventory_sources": "inventory_source",
    "job_templates": "job_template",
    "workflow_job_templates": "workflow_job_template",
}
# AWX 24.6.1 (SURVEY_TYPE_MAPPING of its module awx.main.models.jobs): question types and default types.
SURVEY_TYPES = {"text": str, "textarea": str, "password": str, "multiplechoice": str, "multiselect": str,
                "integer": int, "float": (float, int)}


def load_assets() -> dict:
    return yaml.safe_load(ASSETS_FILE.read_text())


def freeze(key) -> str:
    return json.dumps(key, sort_keys=True)


def all_objects(assets: dict):
    """(type, object) for every object, nested ones (schedules, workflow nodes) included."""
    for section, kind in SECTIONS.items():
        for obj in assets.get(section) or []:
            yield kind, obj
            related = obj.get("related") or {}
            for schedule in related.get("schedules") or []:
                yield "schedule", schedule
            for node in related.get("workflow_nodes") or []:
                yield "workflow_job_template_node", node


@dataclass
class Template:
    """One job template, resolved to what AWX hands ansible-runner."""

    name: str
    playbook: str
    inventory_name: str
    inventory_path: str
    extra_vars: dict
    survey: list = field(default_factory=list)

    @property
    def environment(self) -> str:
        return self.inventory_name.removeprefix("oui-")

    def required_answers(self) -> list[str]:
        return [q["variable"] for q in self.survey if q["required"] and q.get("default") in (None, "")]


def templates(assets: dict | None = None) -> list[Template]:
    assets = assets or load_assets()
    source_paths = {freeze(src["inventory"]): src["source_path"] for src in assets["inventory_sources"]}
    result = []
    for jt in assets["job_templates"]:
        survey = ((jt.get("related") or {}).get("survey_spec") or {}).get("spec", []) if jt.get("survey_enabled") else []
        result.append(Template(
            name=jt["name"], playbook=jt["playbook"], inventory_name=jt["inventory"]["name"],
            inventory_path=source_paths[freeze(jt["inventory"])],
            extra_vars=yaml.safe_load(jt.get("extra_vars") or "") or {}, survey=survey,
        ))
    return result


def credential_type(assets: dict, name: str) -> dict:
    """The credential type of that name in the export."""
    return next(ct for ct in assets["credential_types"] if ct["name"] == name)


def inject(credential_type: dict, inputs: dict, workdir: Path) -> dict[str, str]:
    """Render a credential type's injectors as AWX does (Jinja2 over the inputs, files written
    first and named by tower.filename), returning the environment the job gets."""
    env_tpl = jinja2.Environment(undefined=jinja2.StrictUndefined)
    injectors = credential_type["injectors"]
    fields = {f["id"]: f.get("default", "") for f in credential_type["inputs"]["fields"]}
    values = {**fields, **inputs}
    files = {}
    for key, template in (injectors.get("file") or {}).items():
        name = key.split(".", 1)[1] if "." in key else None
        path = workdir / f"{credential_type['name'].replace(' ', '_')}_{name or 'file'}"
        path.write_text(env_tpl.from_string(template).render(**values))
        path.chmod(0o600)
        files[name] = str(path)
    filename = files.get(None) or type("Files", (), {k: v for k, v in files.items() if k})()
    return {k: env_tpl.from_string(v).render(tower={"filename": filename}, **values)
            for k, v in (injectors.get("env") or {}).items()}


def runner_run(tmp_path: Path, template, env: dict, cmdline: str = "", isolate: dict | None = None):
    """ansible-runner with the template's playbook, inventory and extra vars (survey answers
    included), from the project directory, as an AWX job does. `isolate` adds only the variables
    that keep a run on the shared test cluster in its own namespace."""
    import ansible_runner

    extravars = dict(template.extra_vars)
    extravars.update({var: TEST_DIGEST for var in template.required_answers()})
    extravars.update(isolate or {})
    (tmp_path / "runner").mkdir()
    runner = ansible_runner.run(
        private_data_dir=str(tmp_path / "runner"), project_dir=str(REPO), playbook=template.playbook,
        inventory=str(REPO / template.inventory_path), extravars=extravars, envvars=env, cmdline=cmdline or None,
        quiet=True, timeout=1800,
    )
    output = runner.stdout.read()
    return runner, output


def venv_env() -> dict:
    return {"PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}", "ANSIBLE_NOCOLOR": "1"}
