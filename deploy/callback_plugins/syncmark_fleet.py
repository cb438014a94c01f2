# syncmark_fleet.py: Ansible callback: each host's outcome for fleet.sh.
"""Enabled by deploy/ansible.cfg. When SYNCMARK_FLEET_STATUS names a file,
it is written at the end of the playbook, one line per host:
HOST<TAB>ok|failed|unreachable<TAB>TASK<TAB>MESSAGE, where TASK and MESSAGE
are those of the host's first failure (empty for ok), MESSAGE on one
line: the module's message and the first line of stderr, after "on the
controller: " when the failed step ran there for the host. Without the variable the callback does nothing."""
from __future__ import absolute_import, division, print_function

import os

from ansible.plugins.callback import CallbackBase

__metaclass__ = type

DOCUMENTATION = """
name: syncmark_fleet
type: notification
short_description: each host's outcome for scripts/fleet.sh
description:
  - Writes one line per host, its state and its first failure, to the file
    named by the environment variable SYNCMARK_FLEET_STATUS.
requirements:
  - enabled in callbacks_enabled (deploy/ansible.cfg)
"""


def one_line(text):
    """Returns text with every run of whitespace (newlines, tabs) as one
    space."""
    return " ".join(str(text).split())


class CallbackModule(CallbackBase):
    """Remembers each host's first failure; writes the outcomes at the
    end."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "syncmark_fleet"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super(CallbackModule, self).__init__()
        self._first = {}

    def _record(self, result, state):
        host = result._host.get_name()
        if host in self._first:
            return
        res = result._result
        msg = one_line(res.get("msg") or "")
        if "stderr" in res:
            # The first line says why (the playbook's own scripts put
            # their summary first).
            lines = [l for l in str(res["stderr"]).splitlines() if l.strip()]
            if lines:
                first = one_line(lines[0])
                msg = "%s: %s" % (msg, first) if msg else first
        delegated = res.get("_ansible_delegated_vars") or {}
        if delegated.get("ansible_delegated_host") == "localhost" and \
                host != "localhost":
            msg = "on the controller: " + msg
        self._first[host] = (state, one_line(result._task.get_name()),
                             msg or "no message")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        if not ignore_errors:
            self._record(result, "failed")

    def v2_runner_on_async_failed(self, result):
        self._record(result, "failed")

    def v2_runner_on_unreachable(self, result):
        self._record(result, "unreachable")

    def v2_playbook_on_stats(self, stats):
        path = os.environ.get("SYNCMARK_FLEET_STATUS")
        if not path:
            return
        rows = []
        for host in sorted(stats.processed):
            s = stats.summarize(host)
            if s["failures"] or s["unreachable"]:
                state, task, msg = self._first.get(
                    host, ("unreachable" if s["unreachable"] else "failed",
                           "", "no message"))
            else:
                state, task, msg = "ok", "", ""
            rows.append("\t".join((host, state, task, msg)))
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write("".join(r + "\n" for r in rows))
        os.replace(tmp, path)
