"""Bundles of diagrams, decisions and forms, and the process definitions parsed from them.

A `Bundle` is what a process owner deploys: `.bpmn`, `.dmn` and `.form` files. Loading parses
every XML file safely (no entities, no DTD, no network, a size limit), parses the processes with
`ModelParser` and runs the deploy checks in `engine.validation`; any problem refuses the whole
bundle. A `ProcessDefinition` is one executable process with the specs it calls and the forms
its tasks use: what an instance runs on. It serializes to a dict stored once per version.
"""

import re
from copy import deepcopy
from functools import cached_property
from pathlib import Path

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.bpmn.specs.mixins.manual_task import ManualTask
from SpiffWorkflow.bpmn.specs.mixins.none_task import NoneTask
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask

from .calls import check_calls
from .decisions import dmn_cells, translate_cell
from .errors import DeploymentError, Problem
from .expressions import UntranslatableExpression
from .forms import Form, plain_form
from .parser import ModelParser
from .serialization import dump_specs, load_specs
from .validation import (
    check_definitions,
    check_trees,
    schema_problems,
)

MAX_FILE_BYTES = 2 * 1024 * 1024
KINDS = {".bpmn": "bpmn", ".bpmn20.xml": "bpmn", ".dmn": "dmn", ".form": "form"}
FORM_KEY_PREFIXES = ("camunda-forms:app:", "camunda-forms:deployment:")


def safe_xml(content: bytes, filename: str):
    """Parse XML without entities, DTDs or network access. Raises DeploymentError."""
    if len(content) > MAX_FILE_BYTES:
        raise DeploymentError([Problem(filename, f"file is larger than {MAX_FILE_BYTES} bytes")])
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False
    )
    try:
        tree = etree.fromstring(content, parser)
    except etree.XMLSyntaxError as error:
        raise DeploymentError(
            [Problem(filename, f"not well-formed XML: {error.msg}", error.lineno)]
        ) from None
    docinfo = tree.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        line = content[: content.find(b"<!DOCTYPE")].count(b"\n") + 1 if b"<!DOCTYPE" in content else 1
        raise DeploymentError([Problem(filename, "a DOCTYPE is not allowed", line)])
    return tree


def kind_of(filename: str) -> str | None:
    """'bpmn', 'dmn', 'form' or None, from the file name."""
    for suffix, kind in KINDS.items():
        if filename.endswith(suffix):
            return kind
    return None


def bundle_files(*paths) -> dict[str, bytes]:
    """{file name: content} of the .bpmn/.dmn/.form files in the given files or folders.

    Raises DeploymentError when a path is missing or holds no such file.
    """
    files, found_at, problems = {}, {}, []
    for path in map(Path, paths):
        try:
            if not path.exists():
                raise DeploymentError([Problem(str(path), "no such file or folder")])
            candidates = sorted(path.iterdir()) if path.is_dir() else [path]
        except OSError as error:  # a folder that may not be read
            raise DeploymentError([Problem(str(path), f"cannot be read: {error.strerror}")]) from None
        for candidate in candidates:
            if not kind_of(candidate.name):
                continue
            if not candidate.is_file():  # skipped without a word, a diagram went undeployed
                problems.append(
                    Problem(str(candidate), "is no regular file (a broken link, a pipe, a folder)")
                )
                continue
            seen = found_at.setdefault(candidate.name, candidate)
            if seen.resolve() != candidate.resolve():
                # A bundle is known by file names: one would silently replace the other.
                problems.append(Problem(candidate.name, f"two files of that name: {seen} and {candidate}"))
            try:
                files[candidate.name] = candidate.read_bytes()
            except OSError as error:  # a file that may not be read (its mode, its owner)
                problems.append(Problem(str(candidate), f"cannot be read: {error.strerror}"))
    if problems:
        raise DeploymentError(problems)
    if not files:
        raise DeploymentError([Problem(", ".join(map(str, paths)), "no .bpmn, .dmn or .form files found")])
    return files


def form_reference(extensions: dict) -> str | None:
    """The form a task or start event names: a form id, or a `.form` file name for formKey."""
    if extensions.get("formRef"):
        return extensions["formRef"]
    key = extensions.get("formKey")
    if key:
        for prefix in FORM_KEY_PREFIXES:
            if key.startswith(prefix):
                return key[len(prefix) :]
        return key
    return None


PASSED_THROUGH = (ManualTask, NoneTask)  # `bpmn:manualTask`, `bpmn:task`: no one works them here


class ProcessDefinition:
    """One executable process, the specs it calls and the forms its steps use."""

    def __init__(self, process_id, spec, subprocess_specs, forms, form_files=None):
        self.process_id = process_id
        self.spec = spec
        self.subprocess_specs = subprocess_specs
        self.forms = dict(forms)  # form id -> Form
        self.form_files = dict(form_files or {})  # file name -> form id (for formKey)
        self.name = spec.description or process_id

    def all_specs(self):
        """(process id, spec) for the process and every spec it calls."""
        return [(self.process_id, self.spec), *self.subprocess_specs.items()]

    @cached_property
    def passes_through(self) -> bool:
        """Whether a step of it is a manual task or a task of no kind (`bpmn:task`), which the
        engine passes through as Camunda does (SpiffWorkflow would wait for someone to run it,
        and no one here could)."""
        return any(
            isinstance(task_spec, PASSED_THROUGH)
            for _, spec in self.all_specs()
            for task_spec in spec.task_specs.values()
        )

    def task_spec(self, element_id):
        """The spec of an element of this process or one it calls; None if there is none."""
        for _, spec in self.all_specs():
            if element_id in spec.task_specs:
                return spec.task_specs[element_id]
        return None

    def form_for(self, task_spec) -> Form | None:
        """The form linked from a user task or start event, or None."""
        ref = form_reference(getattr(task_spec, "extensions", None) or {})
        if ref is None:
            return None
        # `camunda-forms:app:forms/f.form` names a file by its path in the app; a bundle knows
        # its files by name.
        file = ref.rsplit("/", 1)[-1]
        return self.forms.get(ref) or self.forms.get(self.form_files.get(file, ""))

    def start_event(self):
        """The process's none start event (the one a person starts it with)."""
        for task_spec in self.spec.task_specs.values():
            if isinstance(task_spec, StartEvent) and task_spec.event_definition.__class__.__name__ == (
                "NoneEventDefinition"
            ):
                return task_spec
        return None

    def user_tasks(self):
        """Every user task spec of the process and the processes it calls."""
        return [
            t for _, spec in self.all_specs() for t in spec.task_specs.values() if isinstance(t, UserTask)
        ]

    def steps_with_forms(self):
        """Every user task and start event (the process's, and message starts of its event
        subprocesses) of the process and those it calls: the steps that may link a form."""
        return [
            t
            for _, spec in self.all_specs()
            for t in spec.task_specs.values()
            if isinstance(t, UserTask | StartEvent)
        ]

    def linked_forms(self) -> set[str]:
        """The ids of the forms its steps link (the bundle's other forms came along only)."""
        found = (self.form_for(step) for step in self.steps_with_forms())
        return {form.id for form in found if form is not None}

    def dump(self) -> dict:
        """A dict to store once per version; `ProcessDefinition.load` reads it back."""
        return {
            "process_id": self.process_id,
            "specs": dump_specs(self.spec, self.subprocess_specs),
            "forms": {form_id: form.schema for form_id, form in self.forms.items()},
            "form_files": self.form_files,
        }

    @classmethod
    def load(cls, dct: dict) -> "ProcessDefinition":
        """Rebuild a definition from `dump` output. Raises StateFormatError."""
        spec, subs = load_specs(dct["specs"])
        # A form without an id (Camunda's quickstart) is known by its file name: keep that id.
        forms = {form_id: Form(schema, f"{form_id}.form") for form_id, schema in dct["forms"].items()}
        return cls(dct["process_id"], spec, subs, forms, dct.get("form_files"))


class Bundle:
    """A set of `.bpmn`, `.dmn` and `.form` files, parsed and checked together."""

    def __init__(self, files: dict[str, bytes], deployed_forms: dict | None = None):
        self.files = dict(files)
        # Forms of processes already deployed ({form id: form-js schema}): a diagram may link a
        # form it does not bring along; the bundle's own forms win over them.
        self.deployed_forms = dict(deployed_forms or {})
        self.forms: dict[str, Form] = {}
        self.form_files: dict[str, str] = {}
        self.trees: dict[str, object] = {}
        self.parser = ModelParser()
        self.definitions: dict[str, ProcessDefinition] = {}
        problems = self._parse()
        if problems:
            # A file that does not parse: the others' own checks still run (their problems are
            # named too); what spans files (calls, forms linked) would only repeat the first.
            problems += check_trees(self.trees)
        else:
            # XML-level checks name lines, where SpiffWorkflow's parser does not. The processes
            # are still parsed and checked after they fail, so every problem is reported at once;
            # only a call to a missing process stops that (SpiffWorkflow cannot parse the caller).
            calls = check_calls(self.trees)
            problems = check_trees(self.trees) + calls
            if not calls:
                # SpiffWorkflow's own parse errors mostly repeat the XML checks' (without lines):
                # they count only when the XML checks found nothing.
                parse_problems = self._define()
                if not parse_problems:
                    problems += check_definitions(self)
                elif not problems:
                    problems = parse_problems
        if problems:
            raise DeploymentError(problems)

    @classmethod
    def from_paths(cls, *paths) -> "Bundle":
        """Load every bpmn/dmn/form file in the given files or directories. Raises DeploymentError."""
        files = {}
        for path in map(Path, paths):
            candidates = sorted(path.iterdir()) if path.is_dir() else [path]
            for candidate in candidates:
                if candidate.is_file() and kind_of(candidate.name):
                    files[candidate.name] = candidate.read_bytes()
        if not files:
            raise DeploymentError(
                [Problem(", ".join(map(str, paths)), "no .bpmn, .dmn or .form files found")]
            )
        return cls(files)

    def _parse(self):
        problems = []
        for name, content in sorted(self.files.items()):
            kind = kind_of(name)
            try:
                if len(content) > MAX_FILE_BYTES:  # each kind: every version keeps its sources
                    raise DeploymentError([Problem(name, f"file is larger than {MAX_FILE_BYTES} bytes")])
                if kind == "form":
                    form = Form.from_json(content, name)
                    # One deployed already, unchanged (a bundle sent again whole, a diagram edited
                    # beside it), is not refused for a rule made since: it could not be fixed
                    # one file at a time. A new or changed one is held to every rule.
                    form.check(new=plain_form(self.deployed_forms.get(form.id)) != plain_form(form.schema))
                    if form.id in self.forms:
                        problems.append(Problem(name, f"form id {form.id!r} is also used by another file"))
                    self.forms[form.id] = form
                    self.form_files[name] = form.id
                elif kind == "bpmn":
                    self.trees[name] = safe_xml(content, name)
                    problems.extend(schema_problems(name, self.trees[name]))
                    self.parser.add_bpmn_xml(self.trees[name], name)
                elif kind == "dmn":
                    self.trees[name] = safe_xml(content, name)
                    self.parser.add_dmn_xml(_runnable_dmn(self.trees[name]), name)
                else:
                    problems.append(Problem(name, "not a .bpmn, .dmn or .form file"))
            except DeploymentError as error:
                problems.extend(error.problems)
            except ValidationException as error:
                problems.append(self._located(_problem_from(error, name)))
            except ValueError as error:
                problems.append(Problem(name, str(error)))
            except Exception as error:  # SpiffWorkflow raises bare errors on some malformed input
                problems.append(Problem(name, f"cannot be parsed: {type(error).__name__}: {error}"))
        return problems

    def executable_process_ids(self):
        """Ids of processes marked executable that no other process of the bundle calls."""
        called = {
            el.get("calledElement")
            for tree in self.trees.values()
            for el in tree.iter("{http://www.omg.org/spec/BPMN/20100524/MODEL}callActivity")
        }
        ids = []
        for tree in self.trees.values():
            for process in tree.iter("{http://www.omg.org/spec/BPMN/20100524/MODEL}process"):
                if process.get("isExecutable") == "true" and process.get("id") not in called:
                    ids.append(process.get("id"))
        return ids

    def _define(self):
        problems = []
        for process_id in self.executable_process_ids():
            try:
                spec = self.parser.get_spec(process_id)
                subs = self.parser.get_subprocess_specs(process_id)
            except ValidationException as error:
                problems.append(self._located(_problem_from(error)))
                continue
            except Exception as error:  # SpiffWorkflow raises bare errors on some malformed input
                problem = Problem(process_id, f"cannot be parsed: {type(error).__name__}: {error}")
                problems.append(self._located(problem, process_id))
                continue
            definition = ProcessDefinition(process_id, spec, subs, self.forms, self.form_files)
            self._add_deployed_forms(definition)
            self.definitions[process_id] = definition
        return problems

    def _located(self, problem: Problem, element_id=None) -> Problem:
        """`problem` with the file and line of its element, where SpiffWorkflow left them out."""
        wanted = problem.element or element_id
        named = re.search(r"with name (.+?) has no", problem.message, re.S)  # SpiffWorkflow's data stores
        if problem.line is not None and problem.file not in ("?", element_id):
            return problem
        for name, tree in self.trees.items():
            found = tree.xpath("//*[@id=$id]", id=wanted) if wanted else []
            found = found or (tree.xpath("//*[@name=$name]", name=named.group(1)) if named else [])
            if found:
                return Problem(name, problem.message, found[0].sourceline, found[0].get("id"))
        return problem

    def _add_deployed_forms(self, definition):
        # Only the forms the process links and the bundle lacks are added, so a bundle that brings
        # all its forms hashes the same whatever else is deployed.
        for task_spec in definition.steps_with_forms():
            ref = form_reference(getattr(task_spec, "extensions", None) or {})
            if ref and definition.form_for(task_spec) is None and ref in self.deployed_forms:
                definition.forms[ref] = Form(self.deployed_forms[ref], f"{ref}.form")


def _runnable_dmn(tree):
    """A copy of a DMN tree whose FEEL cells are replaced by the Python the engine runs.

    Cells that cannot be translated are left as they are; the deploy checks name them.
    """
    copy = deepcopy(tree)
    for _, kind, text_node in dmn_cells(copy):
        try:
            python = translate_cell(kind, text_node.text)
        except UntranslatableExpression:
            continue
        text_node.text = "-" if python is None and kind == "test" else python
    return copy


def _problem_from(error: ValidationException, default_file="?") -> Problem:
    return Problem(
        getattr(error, "file_name", None) or default_file,
        str(error).split(". Source Details")[0].strip(),
        getattr(error, "line_number", None) or None,
        getattr(error, "id", None) or None,
    )


def load_bundle(*paths) -> Bundle:
    """Load and check a bundle from files or directories. Raises DeploymentError with every problem."""
    return Bundle.from_paths(*paths)
