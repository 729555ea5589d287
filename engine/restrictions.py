"""The rules diagram code compiles under: RestrictedPython's, with the operators and displays
that can make a huge result in one C call routed through the checks of `engine.limits` (as
`_arith_`, `_format_`, `_unpack_`, `_display_`, which `engine.sandbox` provides), and no `try`."""

import ast

from RestrictedPython.transformer import RestrictingNodeTransformer

_CHECKED_OPERATORS = {ast.Pow: "**", ast.LShift: "<<", ast.Mult: "*", ast.Add: "+", ast.Mod: "%"}


def _call(helper, args, at):
    """`helper(*args)` as an expression node placed at `at`."""
    name = ast.Name(helper, ast.Load())
    call = ast.Call(func=name, args=args, keywords=[])
    for made in (name, call, *args):
        ast.copy_location(made, at)
    return call


class Policy(RestrictingNodeTransformer):
    """RestrictedPython's rules, with `a ** b`, `a << b`, `a * b`, `a + b` and `a % b` run through
    `_arith_`, an f-string's `{x:spec}` through `_format_`, `*x` in a display or call through
    `_unpack_`, and no `try`: a script that caught the step budget's error would run on with no
    budget (CPython stops tracing a frame whose trace function raised). A failing step is an
    incident instead."""

    def visit_BinOp(self, node):
        node = self.node_contents_visit(node)
        op = _CHECKED_OPERATORS.get(type(node.op))
        if op is None:
            return node
        return _call("_arith_", [ast.Constant(op), node.left, node.right], node)

    def visit_FormattedValue(self, node):
        node = self.node_contents_visit(node)
        if node.format_spec is None:
            return node
        args = [node.value, ast.Constant(node.conversion), node.format_spec]
        return ast.copy_location(ast.FormattedValue(_call("_format_", args, node), -1, None), node)

    def visit_Starred(self, node):
        node = self.node_contents_visit(node)
        if isinstance(node.ctx, ast.Load):
            node.value = _call("_unpack_", [node.value], node)
        return node

    def _display(self, node, kind):
        # `[1, *a, *b]` as `_display_("list", (False, (1,)), (True, a), (True, b))`: counted in all.
        if not any(isinstance(e, ast.Starred) for e in node.elts):
            return self.node_contents_visit(node)
        pieces, plain = [], []
        for element in node.elts:
            if isinstance(element, ast.Starred):
                if plain:
                    pieces.append((False, ast.Tuple(plain, ast.Load())))
                    plain = []
                pieces.append((True, self.visit(element.value)))
            else:
                plain.append(self.visit(element))
        if plain:
            pieces.append((False, ast.Tuple(plain, ast.Load())))
        args = [ast.Constant(kind)]
        for starred, value in pieces:
            args.append(ast.Tuple([ast.Constant(starred), value], ast.Load()))
        for made in ast.walk(ast.Tuple(args, ast.Load())):
            if not hasattr(made, "lineno"):
                ast.copy_location(made, node)
        return _call("_display_", args, node)

    def visit_List(self, node):
        return (
            self._display(node, "list") if isinstance(node.ctx, ast.Load) else self.node_contents_visit(node)
        )

    def visit_Tuple(self, node):
        return (
            self._display(node, "tuple") if isinstance(node.ctx, ast.Load) else self.node_contents_visit(node)
        )

    def visit_Set(self, node):
        return self._display(node, "set")

    def visit_Try(self, node):
        self.error(node, "try statements are not allowed: a step that fails becomes an incident")

    visit_TryStar = visit_Try
