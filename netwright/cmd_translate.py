"""`netwright translate FILE --run RUN "the cat is black"`: a trained translator at work.

Reads the run's weights and the vocabularies saved with it, decodes greedily (each predicted
word fed back in) and prints one translation per sentence. Exit codes: 0 translated, 1 the graph
is not a translator or the run lacks what it needs, 2 the file is unreadable.
"""

from __future__ import annotations

import argparse
import sys


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("translate", help="translate sentences with a trained seq2seq run",
                       description="Translate each SENTENCE with the network in FILE and the weights and "
                                   "vocabularies of RUN_DIR (from `netwright train`).")
    p.add_argument("file", help="the translator's .json graph file")
    p.add_argument("--run", required=True, metavar="RUN_DIR", help="the run directory of a training")
    p.add_argument("sentences", nargs="+", metavar="SENTENCE", help="a source sentence (quote it)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import graph_core as gc

    try:
        graph = gc.load_graph(args.file)
    except Exception as exc:  # unreadable or not a graph
        print(f"{args.file}: {exc}", file=sys.stderr)
        return 2
    from training.seq2seq import translate
    from training.task import BindingError

    try:
        for line in translate(graph, args.run, args.sentences):
            print(line)
    except (ValueError, BindingError) as exc:
        print(str(exc), file=sys.stderr)
        return 1
    return 0
