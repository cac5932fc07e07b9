"""Starts moto's server with one defect of moto's CloudFormation fixed for eksync's tests.

moto (5.2.x) builds a stack's outputs only in CreateStack and UpdateStack: a stack created or
updated by executing a change set (as eksync does, so that a plan can show AWS's own preview)
keeps the outputs of its previous template, or none. Real CloudFormation evaluates the outputs of
the template it just applied, and eksync reads them (for example the IRSA role ARN that goes into
a ServiceAccount annotation). This wrapper re-evaluates the outputs after a change set is applied,
as moto itself does after UpdateStack, then runs moto's own server entry point unchanged.
"""

import sys

from moto.cloudformation import models
from moto.server import main

_apply = models.ChangeSet.apply


def _apply_and_evaluate_outputs(self):
    _apply(self)
    self.stack.template = self.template
    self.stack._parse_template()
    self.stack.output_map = self.stack._create_output_map()


models.ChangeSet.apply = _apply_and_evaluate_outputs

if __name__ == "__main__":
    sys.exit(main())
